"""The command line (``montecarlo run``) and the atomic NetCDF export."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import xarray as xr

import montecarlo
from montecarlo import cli, export
from montecarlo.engine import simulate
from montecarlo.scenario import Scenario

#: The repository root, so a subprocess imports this checkout whatever the working directory.
ROOT = Path(__file__).resolve().parent.parent
PATHS = 3000


def run(*args: str) -> int:
    return cli.main(["run", "--paths", str(PATHS), "--no-progress", *args])


def read(path) -> xr.Dataset:
    with xr.open_dataset(path, engine="scipy") as ds:
        return ds.load()


def assert_same_results(got: xr.Dataset, want: xr.Dataset):
    """Every variable, coordinate and attribute, except the run time, as simulate() made it."""
    xr.testing.assert_equal(got, want)
    for name in want.variables:
        assert got[name].attrs == want[name].attrs, name
    for key, value in want.attrs.items():
        if key != "elapsed_seconds":
            assert got.attrs[key] == value, key


def test_run_prints_the_summary_and_writes_what_simulate_returns(tmp_path, capsys):
    out = tmp_path / "x.nc"
    assert run("--out", str(out)) == 0
    printed = capsys.readouterr().out.splitlines()

    want = simulate("frontier-lab", PATHS, seed=0, progress=False)
    lines = cli.summary_lines(want)
    # The first line ends with the run time, which differs between runs; the rest are facts.
    assert printed[0].rsplit(" (", 1)[0] == lines[0].rsplit(" (", 1)[0]
    assert printed[1 : len(lines)] == lines[1:]
    assert printed[len(lines) :] == [f"wrote {out}"]
    assert any("P(ruin" in line for line in printed)
    assert sorted(os.listdir(tmp_path)) == ["x.nc"]  # no temporary file left behind
    assert_same_results(read(out), want)


def test_run_takes_a_preset_name_a_seed_and_a_backend(tmp_path):
    out = tmp_path / "api.nc"
    assert run("--scenario", "api-startup", "--seed", "7", "--backend", "numpy", "--out",
               str(out)) == 0  # fmt: skip
    got = read(out)
    assert got.attrs["scenario_name"] == "api-startup" and got.attrs["backend"] == "numpy"
    assert_same_results(got, simulate("api-startup", PATHS, seed=7, backend="numpy",
                                      progress=False))  # fmt: skip


def test_run_takes_a_toml_file_and_names_the_output_after_the_scenario(
    tmp_path, monkeypatch, capsys
):
    scenario = Scenario.preset("self-hosted").replace(
        name="my-plan", horizon_months=18, initial_cash=5e7
    )
    toml = tmp_path / "plan.toml"
    toml.write_text(scenario.to_toml(), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert run("--scenario", str(toml), "--seed", str(2**64 - 1)) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "wrote montecarlo-my-plan.nc"
    got = read(tmp_path / "montecarlo-my-plan.nc")
    assert Scenario.from_toml(got.attrs["scenario"]) == scenario
    assert_same_results(got, simulate(scenario, PATHS, seed=2**64 - 1, progress=False))


def test_an_unknown_scenario_name_exits_with_a_clear_message(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as excinfo:
        run("--scenario", "frontier_lab")
    message = str(excinfo.value.code)
    assert "--scenario must be a preset" in message and "'frontier_lab'" in message
    assert "frontier-lab" in message  # the valid names are listed
    assert os.listdir(tmp_path) == []


def test_a_missing_scenario_file_exits_with_a_clear_message(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as excinfo:
        run("--scenario", "nowhere.toml")
    assert "scenario file 'nowhere.toml' not found" in str(excinfo.value.code)
    assert os.listdir(tmp_path) == []


def test_an_invalid_scenario_file_is_one_error_line_and_exit_status_2(tmp_path, capsys):
    toml = tmp_path / "bad.toml"
    toml.write_text("[inputs]\npaid_share = 1.5\n", encoding="utf-8")
    out = tmp_path / "never.nc"
    assert run("--scenario", str(toml), "--out", str(out)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("montecarlo: error: paid_share must be in [0, 1]")
    assert sorted(os.listdir(tmp_path)) == ["bad.toml"]


def test_an_invalid_seed_is_one_error_line_and_exit_status_2(tmp_path, capsys):
    assert run("--seed", "-1", "--out", str(tmp_path / "x.nc")) == 2
    err = capsys.readouterr().err
    assert err.startswith("montecarlo: error: seed must be an integer in [0, 2**64 - 1]")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("paths", ["0", "-3", "many"])
def test_an_invalid_path_count_is_a_usage_error(paths, capsys):
    with pytest.raises(SystemExit) as excinfo:
        cli.main(["run", "--paths", paths, "--no-progress"])
    assert excinfo.value.code == 2
    assert f"expected a positive integer, got '{paths}'" in capsys.readouterr().err


def test_version(capsys):
    with pytest.raises(SystemExit) as excinfo:
        cli.main(["--version"])
    assert excinfo.value.code == 0
    assert capsys.readouterr().out.strip() == f"montecarlo {montecarlo.__version__}"


@pytest.mark.parametrize("args", [["--help"], ["run", "--help"]])
def test_python_dash_m_montecarlo_help(args, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "montecarlo", *args], cwd=tmp_path, env=env,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: montecarlo")
    words = ("run", "bench-rng") if args == ["--help"] else ("--scenario", "--paths", "--out")
    for word in words:
        assert word in done.stdout


def test_an_interrupted_run_writes_nothing(tmp_path, monkeypatch, capsys):
    def interrupted(self, path, *args, **kwargs):
        Path(path).write_bytes(b"half a file")
        raise KeyboardInterrupt

    monkeypatch.setattr(xr.Dataset, "to_netcdf", interrupted)
    assert run("--out", str(tmp_path / "x.nc")) == 130
    assert "nothing was written" in capsys.readouterr().err
    assert os.listdir(tmp_path) == []


# --- export ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small():
    return simulate(Scenario(horizon_months=12), 200, seed=3, progress=False)


def test_write_netcdf_round_trips_and_creates_the_directory(tmp_path, small):
    path = tmp_path / "deep" / "er" / "run.nc"
    assert export.write_netcdf(small, path) == path
    assert_same_results(read(path), small)
    assert os.listdir(path.parent) == ["run.nc"]


def test_write_netcdf_gives_the_file_the_usual_permissions(tmp_path, small):
    # mkstemp creates 0600 files; the renamed result must follow the umask like any file.
    umask = os.umask(0o022)
    try:
        path = export.write_netcdf(small, tmp_path / "run.nc")
    finally:
        os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_a_failed_write_keeps_the_previous_file_and_leaves_no_temporary(
    tmp_path, small, monkeypatch
):
    path = tmp_path / "run.nc"
    export.write_netcdf(small, path)
    before = path.read_bytes()

    def failing(self, target, *args, **kwargs):
        Path(target).write_bytes(b"half a file")  # a partial write, then the failure
        raise OSError("disk full")

    monkeypatch.setattr(xr.Dataset, "to_netcdf", failing)
    with pytest.raises(OSError, match="disk full"):
        export.write_netcdf(small.assign_attrs(seed="999"), path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["run.nc"]
    monkeypatch.undo()
    assert_same_results(read(path), small)
