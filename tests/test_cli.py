"""The command line (``montecarlo ...``): end to end as a user runs it, and in process.

The end-to-end tests start ``python -m montecarlo`` in a fresh directory, at
small sizes (2000 paths over 24 months), and compare what it prints and
writes with the library called with the same arguments. Each subprocess costs
a few seconds (imports and loading the cached kernels), so one run writes
every format and several tests read it. The rest drive the click commands in
process (click.testing.CliRunner), which is faster.
"""

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from click.testing import CliRunner

import montecarlo as mc
from montecarlo import cli, export
from montecarlo.scenario import Scenario
from montecarlo.sensitivity import tornado

#: The repository root, so a subprocess imports this checkout whatever the working directory.
ROOT = Path(__file__).resolve().parent.parent
PATHS = 2000
HORIZON = 24
SMALL = ["--paths", str(PATHS), "--horizon", str(HORIZON)]
FORMATS = (".nc", ".parquet", ".csv", ".json", ".html")


def montecarlo(*args: str, cwd, timeout: float = 240) -> subprocess.CompletedProcess:
    """``python -m montecarlo ARGS`` as a user would run it, in ``cwd``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "montecarlo", *args], cwd=cwd, env=env, capture_output=True,
        text=True, timeout=timeout,
    )  # fmt: skip


def invoke(*args: str):
    """The click command in process; exceptions other than exits propagate."""
    return CliRunner().invoke(cli.cli, list(args), prog_name="montecarlo", catch_exceptions=False)


def small(scenario="frontier-lab") -> Scenario:
    if isinstance(scenario, str):
        scenario = Scenario.preset(scenario)
    return scenario.replace(horizon_months=HORIZON)


def assert_same_results(got: xr.Dataset, want: xr.Dataset):
    """Every variable, coordinate and attribute, except the run time, as simulate() made it."""
    xr.testing.assert_equal(got, want)
    for name in want.variables:
        assert got[name].attrs == want[name].attrs, name
    for key, value in want.attrs.items():
        if key != "elapsed_seconds":
            assert got.attrs[key] == value, key


def assert_summary_printed(printed: list[str], want: xr.Dataset) -> int:
    """The summary lines of ``want`` open ``printed``; returns how many there are."""
    lines = cli.summary_lines(want)
    # The first line ends with the run time, which differs between runs; the rest are facts.
    assert printed[0].rsplit(" (", 1)[0] == lines[0].rsplit(" (", 1)[0]
    assert printed[1 : len(lines)] == lines[1:]
    return len(lines)


def one_error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("montecarlo: error: "), stderr
    assert "Traceback" not in stderr
    return lines[0][len("montecarlo: error: ") :]


# --- run, end to end: one run of the default preset writes every format -----------------------


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    """``montecarlo run`` of the default preset (no SCENARIO) writing all five formats."""
    where = tmp_path_factory.mktemp("run")
    outs = [arg for ext in FORMATS for arg in ("--out", f"result{ext}")]
    done = montecarlo("run", *SMALL, "--seed", "5", *outs, cwd=where)
    assert done.returncode == 0, done.stderr
    return done, where


@pytest.fixture(scope="module")
def want():
    """What the library gives for the same run."""
    return mc.simulate(small(), PATHS, seed=5, progress=False)


def test_run_prints_the_summary_and_every_file_it_wrote(default_run, want):
    done, where = default_run
    printed = done.stdout.splitlines()
    n = assert_summary_printed(printed, want)
    assert any("P(ruin" in line for line in printed)
    wrote = [line.removeprefix("wrote ") for line in printed[n:]]
    assert all(line.startswith("wrote ") for line in printed[n:])
    # .csv and .parquet are a summary table with .months and .paths siblings.
    tables = [f"result{t}{ext}" for ext in (".parquet", ".csv") for t in ("", ".months", ".paths")]
    assert sorted(wrote) == sorted(["result.nc", "result.json", "result.html", *tables])
    # Nothing else in the directory: no temporary file left behind.
    assert sorted(os.listdir(where)) == sorted(wrote)
    # Standard error is not a terminal here, so no progress bar; and no warnings.
    assert done.stderr == ""


def test_run_prints_capital_required_at_95_percent(want):
    lines = [line for line in cli.summary_lines(want) if line.startswith("capital required")]
    est, _, lo, hi = mc.risk.quantile(want.funding_gap.values, 0.95)
    assert lines == [
        f"capital required at 95% (USD bn):         {est / 1e9:9.2f} (95% interval "
        f"{lo / 1e9:.2f} .. {hi / 1e9:.2f})"
    ]
    assert not any("capital required" in x for x in cli.summary_lines(want.drop_dims("path")))


def test_run_writes_a_netcdf_file_identical_to_the_library_result(default_run, want):
    _, where = default_run
    got = export.open_result(where / "result.nc")
    assert got.attrs["scenario_name"] == "frontier-lab" and got.attrs["seed"] == "5"
    assert_same_results(got, want)


@pytest.mark.parametrize("ext", [".parquet", ".csv"])
def test_run_writes_tables_that_agree_with_the_library(default_run, want, ext):
    _, where = default_run
    read = pd.read_parquet if ext == ".parquet" else pd.read_csv
    summary = read(where / f"result{ext}").set_index("metric")
    expected = want.risk.summary()
    for metric in ("mean npv", f"P(ruined by) month {HORIZON}", "quantile 0.05 npv"):
        np.testing.assert_allclose(
            summary.loc[metric, "estimate"], float(expected.estimate.sel(metric=metric)),
            rtol=1e-12,
        )  # fmt: skip
    np.testing.assert_allclose(
        summary["estimate"].to_numpy(), expected.estimate.values, rtol=1e-12, equal_nan=True
    )
    paths = read(where / f"result.paths{ext}")
    np.testing.assert_allclose(paths["npv"].to_numpy(), want.npv.values, rtol=1e-12)
    assert paths["npv"].mean() == pytest.approx(float(want.npv.mean()), rel=1e-12)
    months = read(where / f"result.months{ext}")
    ruined = months[(months.outcome == "p_ruined") & (months.month == HORIZON)]
    assert ruined["value"].item() == pytest.approx(float(want.p_ruined.sel(month=HORIZON)))


def test_run_writes_json_that_agrees_with_the_library(default_run, want):
    _, where = default_run
    doc = json.loads((where / "result.json").read_text())
    assert doc["provenance"]["seed"] == "5" and doc["provenance"]["n_paths"] == PATHS
    metrics = {m["metric"]: m for m in doc["metrics"]}
    expected = want.risk.summary()
    for metric in expected.metric.values:
        estimate = float(expected.estimate.sel(metric=metric))
        got = metrics[str(metric)]["estimate"]
        if np.isfinite(estimate):
            assert got == pytest.approx(estimate, rel=1e-12), metric
        else:
            assert got is None
    assert metrics["mean npv"]["estimate"] == pytest.approx(float(want.npv.mean()), rel=1e-12)


def test_run_writes_an_html_report(default_run):
    _, where = default_run
    text = (where / "result.html").read_text(encoding="utf-8")
    assert text.lstrip().lower().startswith("<!doctype html")
    assert "frontier-lab" in text and text.rstrip().endswith("</html>")


# --- run, end to end: a scenario file ---------------------------------------------------------


def test_run_takes_a_toml_file_a_seed_and_a_backend_and_names_the_output_after_it(tmp_path):
    scenario = Scenario.preset("self-hosted").replace(
        name="my-plan", horizon_months=18, initial_cash=5e7
    )
    (tmp_path / "plan.toml").write_text(scenario.to_toml(), encoding="utf-8")
    seed = str(2**64 - 1)
    done = montecarlo("run", "plan.toml", "--paths", "1_000", "--seed", seed, "--backend", "numpy",
                      cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    want = mc.simulate(scenario, 1000, seed=2**64 - 1, backend="numpy", progress=False)
    printed = done.stdout.splitlines()
    n = assert_summary_printed(printed, want)
    assert printed[n:] == ["wrote montecarlo-my-plan.nc"]
    got = export.open_result(tmp_path / "montecarlo-my-plan.nc")
    assert Scenario.from_toml(got.attrs["scenario"]) == scenario
    assert got.attrs["backend"] == "numpy"
    assert_same_results(got, want)
    assert sorted(os.listdir(tmp_path)) == ["montecarlo-my-plan.nc", "plan.toml"]


# --- errors, end to end -----------------------------------------------------------------------


def test_a_broken_scenario_file_is_one_line_and_status_2(tmp_path):
    (tmp_path / "bad.toml").write_text('name = "x"\n[inputs]\npaid_share = = 0.1\n')
    done = montecarlo("run", "bad.toml", "--out", "never.nc", cwd=tmp_path)
    assert done.returncode == 2
    message = one_error_line(done.stderr)
    assert message.startswith("bad.toml:3:") and "not valid TOML" in message
    assert done.stdout == ""
    assert os.listdir(tmp_path) == ["bad.toml"]


def test_an_unknown_preset_lists_the_presets(tmp_path):
    done = montecarlo("run", "frontier_lab", cwd=tmp_path)
    assert done.returncode == 2
    message = one_error_line(done.stderr)
    assert "'frontier_lab'" in message and "did you mean 'frontier-lab'?" in message
    for name in mc.presets():
        assert name in message
    assert os.listdir(tmp_path) == []


def test_an_unwritable_output_fails_before_the_simulation(tmp_path):
    # A path under a regular file cannot be created, even by root (CI runs as root).
    (tmp_path / "file").write_text("not a directory")
    start = time.monotonic()
    # 1e12 paths would run for days: only a check before simulating returns at once.
    done = montecarlo("run", "--paths", "1e12", "--out", "file/result.nc", cwd=tmp_path,
                      timeout=120)  # fmt: skip
    assert done.returncode == 2
    message = one_error_line(done.stderr)
    assert "file/result.nc" in message and "not a directory" in message
    assert done.stdout == ""
    assert time.monotonic() - start < 60
    assert os.listdir(tmp_path) == ["file"]


def test_an_interrupted_run_exits_130_and_leaves_no_file(tmp_path):
    """Ctrl-C in a terminal: the progress bar shows (stderr is a tty), then SIGINT stops it."""
    import fcntl
    import pty
    import struct
    import termios

    master, slave = pty.openpty()
    # A pty starts 0 columns wide, and tqdm draws nothing in 0 columns.
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "montecarlo", "run", "--paths", "1e10", "--yes", "--out",
         "big.nc"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=slave,
    )  # fmt: skip
    os.close(slave)
    seen = b""
    try:
        deadline = time.monotonic() + 180
        while b"path/s" not in seen and b"paths/s" not in seen:  # tqdm's rate: the run is on
            assert proc.poll() is None, seen
            assert time.monotonic() < deadline, seen
            if select.select([master], [], [], 1)[0]:
                seen += os.read(master, 4096)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
        rest = b""
        while select.select([master], [], [], 0.5)[0]:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the child closed its side
                break
            if not chunk:
                break
            rest += chunk
        stdout = proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        os.close(master)
    assert b"frontier-lab (numba)" in seen  # the bar names the run
    assert proc.returncode == 130
    assert b"montecarlo: interrupted" in rest and b"Traceback" not in rest
    assert stdout == b""
    assert os.listdir(tmp_path) == []  # no output, no temporary file


def test_python_dash_m_montecarlo_help_lists_the_commands(tmp_path):
    done = montecarlo("--help", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Usage: montecarlo")
    for command in ("run", "presets", "report", "compare", "sweep", "sensitivity", "bench"):
        assert f"\n  {command} " in done.stdout
    assert "bench-rng" not in done.stdout  # kept for benchmarks/bench_rng.py, hidden


# --- scenario files: every mistake is one line naming the file, line and field ----------------

MALFORMED = {
    "wrong type": ('[inputs]\npaid_share = "high"\n', "bad.toml:2: paid_share must be a number"),
    "unknown input": (
        'name = "x"\n[inputs]\npaid_shar = 0.1\n',
        "bad.toml:3: unknown input 'paid_shar'; did you mean 'paid_share'",
    ),
    "unknown key": ('name = "x"\nbogus = 3\n', "bad.toml:2: unknown scenario key 'bogus'"),
    "out of range": ("[inputs]\n\npaid_share = 1.5\n", "bad.toml:3: paid_share must be in [0, 1]"),
    "bad law": (
        '[inputs]\npaid_share = { dist = "pert", low = 0.5, mode = 0.2, high = 0.1 }\n',
        "bad.toml:2: paid_share: invalid distribution",
    ),
    "horizon": ("horizon_months = 0\n", "bad.toml:1: horizon_months must be an integer from 1"),
    "broken TOML": ("[inputs\npaid_share = 0.1\n", "bad.toml:1:8: not valid TOML"),
    "empty file": ("", "bad.toml: the file is empty"),
    "only comments": ("# nothing here\n\n", "bad.toml: the file holds only comments"),
    "huge float": ("[inputs]\nusers_0 = 1e400\n", "bad.toml:2: users_0 must be a finite number"),
    "huge integer": (
        "[inputs]\nfixed_opex_0 = 1" + "0" * 400 + "\n",
        "bad.toml:2: fixed_opex_0 is an integer of 401 digits",
    ),
    "huge integer in a law": (
        '[inputs]\npaid_share = { dist = "uniform", low = 0, high = 1' + "0" * 400 + " }\n",
        "bad.toml:2: paid_share.high is an integer of 401 digits",
    ),
    "not UTF-8": (b'name = "\xff"\n', "bad.toml:1: not UTF-8 text"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_scenario_file_is_one_error_line_and_status_2(case, tmp_path, monkeypatch):
    content, expected = MALFORMED[case]
    monkeypatch.chdir(tmp_path)
    if isinstance(content, bytes):
        Path("bad.toml").write_bytes(content)
    else:
        Path("bad.toml").write_text(content, encoding="utf-8")
    result = invoke("run", "bad.toml", *SMALL, "--out", "never.nc")
    assert result.exit_code == 2
    assert one_error_line(result.stderr).startswith(expected)
    assert result.stdout == ""
    assert os.listdir(tmp_path) == ["bad.toml"]


@pytest.mark.parametrize(
    ("argument", "expected"),
    [("missing.toml", "scenario file missing.toml: no such file"),
     ("folder.toml", "scenario file folder.toml: is a directory"),
     ("nowhere", "no preset or scenario file named 'nowhere'; presets: frontier-lab, ")],
)  # fmt: skip
def test_a_scenario_that_cannot_be_read_is_one_error_line(argument, expected, tmp_path,
                                                          monkeypatch):  # fmt: skip
    monkeypatch.chdir(tmp_path)
    Path("folder.toml").mkdir()
    result = invoke("run", argument, "--out", "never.nc")
    assert result.exit_code == 2
    assert one_error_line(result.stderr).startswith(expected)
    assert os.listdir(tmp_path) == ["folder.toml"]


def test_a_model_that_overflows_is_one_error_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("big.toml").write_text("[inputs]\nusers_0 = 1e300\nuser_ceiling = 1e301\n")
    result = invoke("run", "big.toml", *SMALL, "--out", "never.nc")
    assert result.exit_code == 2
    assert "outside double precision" in one_error_line(result.stderr)
    assert os.listdir(tmp_path) == ["big.toml"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [(["--horizon", "0"], "--horizon 0: horizon_months must be an integer from 1 to 600"),
     (["--precision", "npv_median=1e8"], "precision: unknown metric 'npv_median'"),
     (["--paths", "100", "--max-paths", "10"], "max_paths must be at least n_paths (100)")],
)  # fmt: skip
def test_values_the_library_refuses_are_one_error_line(args, expected, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("run", *args, "--out", "never.nc")
    assert result.exit_code == 2
    assert one_error_line(result.stderr).startswith(expected)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    ("out", "expected"),
    [("result.pdf", "cannot tell the output format of 'result.pdf'"),
     ("missing/result.nc", "cannot write 'missing/result.nc': its directory 'missing' does not")],
)  # fmt: skip
def test_an_output_that_cannot_be_written_is_refused_before_simulating(out, expected, tmp_path,
                                                                       monkeypatch):  # fmt: skip
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "simulate", lambda *a, **k: pytest.fail("simulated"))
    result = invoke("run", "--out", "ok.nc", "--out", out)
    assert result.exit_code == 2
    assert one_error_line(result.stderr).startswith(expected)
    assert os.listdir(tmp_path) == []


# --- run, in process --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [("1000", 1000), ("1e6", 10**6), ("1_000_000", 10**6), ("2**20", 2**20), ("2.5e3", 2500),
     (" 42 ", 42)],
)  # fmt: skip
def test_path_counts_are_written_as_people_write_them(text, value):
    assert cli.PATHS.convert(text, None, None) == value


@pytest.mark.parametrize("text", ["0", "-3", "many", "1.5", "1e400", "inf", "nan", "2**99", ""])
def test_an_invalid_path_count_is_a_usage_error(text):
    result = invoke("run", "--paths", text, "--out", "never.nc")
    assert result.exit_code == 2
    assert "Invalid value for '--paths'" in result.stderr


@pytest.mark.parametrize("seed", ["-1", str(2**64), "x"])
def test_an_invalid_seed_is_a_usage_error(seed):
    result = invoke("run", "--seed", seed)
    assert result.exit_code == 2
    assert "expected an integer in [0, 2**64 - 1]" in result.stderr


@pytest.mark.parametrize(
    ("text", "value"),
    [("npv_mean=1e8", ("npv_mean", 1e8)), ("p_ruined=0.001", ("p_ruined", 0.001)),
     ("npv_mean=1%", ("npv_mean", {"relative": 0.01})), (" npv_mean = 2.5% ",
                                                          ("npv_mean", {"relative": 0.025}))],
)  # fmt: skip
def test_precision_targets(text, value):
    assert cli.PRECISION.convert(text, None, None) == value


@pytest.mark.parametrize("text", ["npv_mean", "npv_mean=", "=1", "npv_mean=x", "npv_mean=-1",
                                  "npv_mean=0%", "npv_mean=inf"])  # fmt: skip
def test_an_invalid_precision_target_is_a_usage_error(text):
    result = invoke("run", "--precision", text)
    assert result.exit_code == 2
    assert "Invalid value for '--precision'" in result.stderr


def test_run_with_precision_targets_adds_paths_and_says_whether_they_are_met(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("run", "api-startup", "--horizon", "12", "--paths", "2**10",
                    "--max-paths", "2**14", "--precision", "p_ruined=0.01",
                    "--precision", "npv_mean=5%", "--antithetic", "--out", "p.nc")  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    want = mc.simulate(
        small("api-startup").replace(horizon_months=12), 2**10, seed=0, progress=False,
        precision={"p_ruined": 0.01, "npv_mean": {"relative": 0.05}}, max_paths=2**14,
        antithetic=True,
    )  # fmt: skip
    n = assert_summary_printed(lines, want)
    assert [line.split(":")[0] for line in lines[n : n + 2]] == [
        "precision p_ruined", "precision npv_mean"
    ]  # fmt: skip
    assert lines[n:] == [*cli.precision_lines(want), "wrote p.nc"]
    assert_same_results(export.open_result("p.nc"), want)


def test_qmc_warnings_are_one_line_and_quiet_prints_nothing_else(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("run", *SMALL, "--qmc", "--quiet", "--out", "q.nc")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr.startswith("montecarlo: warning: qmc: n_paths=2000")
    assert len(result.stderr.splitlines()) == 1
    assert os.listdir(tmp_path) == ["q.nc"]
    with pytest.warns(UserWarning, match="not a power of two"):
        want = mc.simulate(small(), PATHS, qmc=True, progress=False)
    assert_same_results(export.open_result("q.nc"), want)


def test_the_default_output_is_named_after_the_scenario_safely(tmp_path, monkeypatch):
    assert cli._default_output(Scenario(name="a/b c")) == "montecarlo-a-b-c.nc"
    assert cli._default_output(Scenario(name="...")) == "montecarlo-scenario.nc"
    monkeypatch.chdir(tmp_path)
    Path("p.toml").write_text('name = "my plan/v2"\nhorizon_months = 6\n')
    result = invoke("run", "p.toml", "--paths", "200", "--keep-paths")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "wrote montecarlo-my-plan-v2.nc"
    assert sorted(os.listdir(tmp_path)) == ["montecarlo-my-plan-v2.nc", "p.toml"]


def test_an_interrupted_simulation_writes_nothing(tmp_path, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "simulate", interrupted)
    result = invoke("run", "--out", "x.nc", "--out", "x.csv")
    assert result.exit_code == 130
    assert result.stderr == "montecarlo: interrupted\n"
    assert os.listdir(tmp_path) == []


def test_an_interrupted_export_leaves_no_partial_file(tmp_path, monkeypatch):
    def interrupted(self, path, *args, **kwargs):
        Path(path).write_bytes(b"half a file")
        raise KeyboardInterrupt

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(xr.Dataset, "to_netcdf", interrupted)
    result = invoke("run", *SMALL, "--out", "x.nc")
    assert result.exit_code == 130
    assert result.stderr.endswith("montecarlo: interrupted\n")
    assert os.listdir(tmp_path) == []


def test_a_failed_write_is_one_line_and_status_1(tmp_path, monkeypatch):
    def full(ds, path, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(export, "write", full)
    result = invoke("run", *SMALL, "--out", "x.nc")
    assert result.exit_code == 1
    assert one_error_line(result.stderr) == "cannot write x.nc: No space left on device"


def test_main_returns_the_exit_status(capsys):
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"montecarlo {mc.__version__}"
    assert cli.main(["run", "--paths", "0"]) == 2
    assert "Invalid value for '--paths'" in capsys.readouterr().err
    assert cli.main(["presets", "show", "nope"]) == 2
    assert capsys.readouterr().err.startswith("montecarlo: error: unknown preset 'nope'")


# --- presets ----------------------------------------------------------------------------------


def test_presets_lists_every_preset_with_one_line():
    result = invoke("presets")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == mc.presets()
    assert lines[0].startswith("frontier-lab (default)")
    assert "400M users" in lines[0] and "60 months" in lines[0]


@pytest.mark.parametrize("name", mc.presets())
def test_presets_show_prints_toml_that_reads_back(name):
    result = invoke("presets", "show", name)
    assert result.exit_code == 0
    assert Scenario.from_toml(result.stdout) == Scenario.preset(name)


def test_presets_show_an_unknown_name_lists_the_presets():
    result = invoke("presets", "show", "self_hosted")
    assert result.exit_code == 2
    message = one_error_line(result.stderr)
    assert message == (
        "unknown preset 'self_hosted'; presets: " + ", ".join(mc.presets())
        + "; did you mean 'self-hosted'?"
    )  # fmt: skip


# --- report -----------------------------------------------------------------------------------


def test_report_turns_a_saved_result_into_html(default_run, tmp_path, monkeypatch):
    _, where = default_run
    monkeypatch.chdir(tmp_path)
    result = invoke("report", str(where / "result.nc"), "--out", "report.html")
    assert result.exit_code == 0, result.output
    assert result.stdout == "wrote report.html\n"
    text = Path("report.html").read_text(encoding="utf-8")
    assert "frontier-lab" in text and text.rstrip().endswith("</html>")


def test_report_with_a_tornado_from_the_stored_scenario(default_run, tmp_path, monkeypatch):
    _, where = default_run
    monkeypatch.chdir(tmp_path)
    calls = []

    def recording(*args, **kwargs):
        calls.append((args, kwargs))
        return tornado(*args, **kwargs)

    monkeypatch.setattr(cli, "tornado", recording)
    result = invoke("report", str(where / "result.nc"), "-o", "t.html", "--tornado-paths", "300")
    assert result.exit_code == 0, result.output
    (scenario, n), kwargs = calls[0]
    assert scenario == small() and n == 300 and kwargs["seed"] == 5
    assert "tokens_per_query_0" in Path("t.html").read_text(encoding="utf-8")
    assert sorted(os.listdir(tmp_path)) == ["t.html"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [(["missing.nc"], "missing.nc: no such file"),
     (["bad.nc", "--out", "r.pdf"], "--out r.pdf: the report is an HTML file"),
     (["bad.nc"], "bad.nc: not a NetCDF file montecarlo can read")],
)  # fmt: skip
def test_report_errors_are_one_line(args, expected, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("bad.nc").write_text("not NetCDF")
    result = invoke("report", *args)
    assert result.exit_code == 2
    assert one_error_line(result.stderr).startswith(expected)
    assert os.listdir(tmp_path) == ["bad.nc"]


# --- compare and sweep ------------------------------------------------------------------------


def test_compare_prints_and_writes_the_paired_differences(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cheap = Scenario(name="cheap-gpus", gpu_rent_price_0=1.5)
    Path("cheap.toml").write_text(cheap.to_toml())
    outs = ["--out", "d.csv", "--out", "d.json", "--out", "d.nc", "--out", "d.parquet"]
    result = invoke("compare", "frontier-lab", "cheap.toml", *SMALL, "--seed", "3", *outs)
    assert result.exit_code == 0, result.output
    want = mc.compare({"frontier-lab": small(), "cheap-gpus": small(cheap)}, PATHS, seed=3,
                      progress=False)  # fmt: skip
    lines = result.stdout.splitlines()
    assert lines[: len(cli.difference_lines(want))] == cli.difference_lines(want)
    assert lines[0].startswith("paired differences against 'frontier-lab': 2,000 paths")
    assert lines[2].split()[:2] == ["frontier-lab", f"{float(want.npv.mean('path')[0]) / 1e9:.3f}"]
    assert "baseline" in lines[2] and lines[3].startswith("cheap-gpus")
    assert lines[-4:] == ["wrote d.csv", "wrote d.json", "wrote d.nc", "wrote d.parquet"]

    for table in (pd.read_csv("d.csv"), pd.read_parquet("d.parquet")):
        row = table[(table.scenario == "cheap-gpus") & (table.outcome == "npv")].iloc[0]
        assert row["diff_mean"] == pytest.approx(float(want.npv_diff_mean[1]), rel=1e-12)
        assert row["diff_ci_low"] == pytest.approx(float(want.npv_diff_ci_low[1]), rel=1e-12)
        ruin = table[(table.scenario == "cheap-gpus") & (table.outcome == "p_ruined")].iloc[0]
        assert ruin["diff_mean"] == pytest.approx(float(want.p_ruined_diff_mean[1]))
        assert ruin["mean"] == pytest.approx(float(want.p_ruined.sel(month=HORIZON)[1]))
    doc = json.loads(Path("d.json").read_text())
    assert doc["kind"] == "differences" and doc["attrs"]["baseline"] == "frontier-lab"
    rows = {(r["scenario"], r["outcome"]): r for r in doc["rows"]}
    assert rows["cheap-gpus", "npv"]["diff_se"] == pytest.approx(float(want.npv_diff_se[1]))
    got = export.open_netcdf("d.nc")
    np.testing.assert_array_equal(got.npv_diff_mean.values, want.npv_diff_mean.values)
    assert sorted(os.listdir(tmp_path)) == ["cheap.toml", "d.csv", "d.json", "d.nc", "d.parquet"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [(["frontier-lab", "a.toml"], "the scenarios have different horizons (12, 60 months)"),
     (["frontier-lab", "nope", "--horizon", "12"], "no preset or scenario file named 'nope'"),
     (["frontier-lab", "api-startup", "--horizon", "12", "--out", "d.html"],
      "--out d.html: this command writes .nc, .csv, .json, .parquet files")],
)  # fmt: skip
def test_compare_errors_are_one_line(args, expected, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("a.toml").write_text("horizon_months = 12\n")
    result = invoke("compare", *args)
    assert result.exit_code == 2
    assert one_error_line(result.stderr).startswith(expected)
    assert os.listdir(tmp_path) == ["a.toml"]


def test_compare_needs_two_scenarios():
    result = invoke("compare", "frontier-lab")
    assert result.exit_code == 2
    assert "compare needs at least two scenarios" in result.stderr


def test_sweep_prints_the_differences_of_each_value(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("sweep", "frontier-lab", "opex_growth", "-0.1", "0", "0.2", *SMALL,
                    "--out", "s.csv")  # fmt: skip
    assert result.exit_code == 0, result.output
    want = mc.sweep(small(), "opex_growth", [-0.1, 0, 0.2], PATHS, progress=False)
    lines = result.stdout.splitlines()
    assert lines[:-1] == cli.difference_lines(want)
    assert [line.split()[0] for line in lines[2:5]] == [
        "opex_growth=-0.1", "opex_growth=0", "opex_growth=0.2"
    ]  # fmt: skip
    table = pd.read_csv("s.csv")
    npv = table[table.outcome == "npv"]
    np.testing.assert_allclose(npv["value"], [-0.1, 0, 0.2])
    np.testing.assert_allclose(npv["diff_mean"], want.npv_diff_mean.values, rtol=1e-12)


@pytest.mark.parametrize(
    ("args", "expected"),
    [(["paid_shar", "0.1"], "unknown scenario field 'paid_shar'; did you mean 'paid_share'"),
     (["paid_share", "0.1", "1.5"], "paid_share must be in [0, 1], got 1.5")],
)  # fmt: skip
def test_sweep_errors_are_one_line(args, expected):
    result = invoke("sweep", "frontier-lab", *args, *SMALL)
    assert result.exit_code == 2
    assert one_error_line(result.stderr).startswith(expected)


def test_sweep_values_must_be_numbers():
    result = invoke("sweep", "frontier-lab", "paid_share", "0.1", "lots")
    assert result.exit_code == 2
    assert "expected numbers, got 'lots'" in result.stderr


# --- sensitivity ------------------------------------------------------------------------------


def test_sensitivity_prints_the_tornado_of_the_library(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("sensitivity", "api-startup", "--metric", "p_ruined", *SMALL, "--seed", "2",
                    "--out", "t.csv", "--out", "t.json")  # fmt: skip
    assert result.exit_code == 0, result.output
    want = tornado(small("api-startup"), PATHS, metric="p_ruined", seed=2)
    lines = result.stdout.splitlines()
    assert lines[:-2] == cli.tornado_lines(want)
    assert lines[-2:] == ["wrote t.csv", "wrote t.json"]
    rows = lines[2:-2]
    assert len(rows) == len(small("api-startup").uncertain_inputs)
    assert [r.split()[0] for r in rows] == list(want.input.values)
    first = rows[0].split()
    assert first[-2] == f"{float(want.swing[0]) * 100:+.2f}"
    assert first[-1] == f"{float(want.swing_se[0]) * 100:.2f}"
    table = pd.read_csv("t.csv")
    np.testing.assert_allclose(table["swing"], want.swing.values, rtol=1e-12)
    doc = json.loads(Path("t.json").read_text())
    assert doc["kind"] == "tornado" and doc["attrs"]["metric"] == "p_ruined"
    assert [r["input"] for r in doc["rows"]] == list(want.input.values)


def test_sensitivity_prints_sobol_indices(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("sensitivity", "--method", "sobol", "--paths", "64", "--horizon", "12",
                    "--out", "s.nc")  # fmt: skip
    assert result.exit_code == 0, result.output
    want = mc.sensitivity.model_sobol(small().replace(horizon_months=12), 64, outcome="npv")
    lines = result.stdout.splitlines()
    assert lines[:-1] == cli.sobol_lines(want)
    assert lines[1].split() == ["input", "S1", "S1", "conf", "ST", "ST", "conf"]
    top = int(np.argmax(want.ST.values))
    assert lines[2].split() == [
        str(want.input.values[top]), f"{want.S1.values[top]:.3f}",
        f"{want.S1_conf.values[top]:.3f}", f"{want.ST.values[top]:.3f}",
        f"{want.ST_conf.values[top]:.3f}",
    ]  # fmt: skip
    xr.testing.assert_allclose(export.open_netcdf("s.nc"), want)


@pytest.mark.parametrize(
    ("args", "expected"),
    [(["--metric", "npv_mode"], "--metric npv_mode: tornado takes one of"),
     (["--method", "sobol", "--metric", "npv_median"], "--metric npv_median: sobol decomposes"),
     (["--method", "sobol", "--paths", "100"], "--paths 100: Sobol base points must be a power")],
)  # fmt: skip
def test_sensitivity_errors_are_one_line(args, expected, monkeypatch):
    monkeypatch.setattr(cli, "tornado", lambda *a, **k: pytest.fail("ran"))
    monkeypatch.setattr(cli, "model_sobol", lambda *a, **k: pytest.fail("ran"))
    result = invoke("sensitivity", *args)
    assert result.exit_code == 2
    assert one_error_line(result.stderr).startswith(expected)


# --- bench ------------------------------------------------------------------------------------


@pytest.fixture
def fake_benchmarks(tmp_path, monkeypatch):
    """benchmarks/ with scripts that print their arguments (the real ones take minutes)."""
    folder = tmp_path / "repo" / "benchmarks"
    folder.mkdir(parents=True)
    for script in ("bench_rng.py", "bench_model.py", "bench_variance.py"):
        (folder / script).write_text(
            "import os, sys\n"
            f"print('{script}', sys.argv[1:], os.getcwd() == {str(folder.parent)!r})\n"
        )
    monkeypatch.setattr(cli, "benchmarks_dir", lambda: folder)
    return folder


def test_bench_runs_the_benchmark_scripts(fake_benchmarks, capfd):
    assert cli.main(["bench", "--quick"]) == 0
    out = capfd.readouterr().out.splitlines()
    assert out == [
        "bench_rng.py ['--normals', '2e6', '--repeats', '3', '--json', "
        "'benchmarks/results/rng-quick.json'] True",
        "bench_model.py ['--quick'] True",
        "bench_variance.py ['--quick'] True",
    ]
    assert cli.main(["bench", "model"]) == 0
    assert capfd.readouterr().out == "bench_model.py [] True\n"


def test_bench_reports_a_failing_script(fake_benchmarks, capfd):
    (fake_benchmarks / "bench_rng.py").write_text("import sys\nsys.exit(3)\n")
    assert cli.main(["bench", "rng"]) == 3
    err = capfd.readouterr().err
    assert "montecarlo: error: benchmarks/bench_rng.py failed with status 3" in err


def test_bench_without_the_source_tree_says_where_to_run_it(tmp_path, monkeypatch):
    monkeypatch.setattr(cli, "benchmarks_dir", lambda: tmp_path / "site-packages" / "benchmarks")
    result = invoke("bench")
    assert result.exit_code == 2
    message = one_error_line(result.stderr)
    assert "no benchmark scripts at" in message and "pip install -e ." in message


def test_the_benchmarks_folder_is_found_in_this_checkout():
    assert cli.benchmarks_dir() == ROOT / "benchmarks"
    for script, _ in cli.BENCHMARKS.values():
        assert (ROOT / "benchmarks" / script).is_file()


def test_bench_rng_which_benchmarks_bench_rng_runs(tmp_path):
    out = tmp_path / "rng.json"
    result = invoke("bench-rng", "--normals", "4096", "--repeats", "1", "--json", str(out))
    assert result.exit_code == 0, result.output
    assert "normals/s" in result.stdout and result.stdout.endswith(f"wrote {out}\n")
    assert json.loads(out.read_text())["benchmark"] == "rng"


def test_progress_forced_on_writes_a_bar_to_standard_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("run", *SMALL, "--progress", "--out", "x.nc")
    assert result.exit_code == 0, result.output
    assert "frontier-lab (numba)" in result.stderr and "path" in result.stderr
    result = invoke("run", *SMALL, "--out", "x.nc")  # not a terminal: no bar
    assert result.stderr == ""
