"""One regression test for each instance named in issue 13 (bad input gets one clear error).

The classes, in the issue's order: tracebacks from the CLI, raw Python errors from the
library, distribution parameters that break tabulation, NaN and inf in valid runs, no
bound on work or memory, small inaccuracies. The property suite
(test_bad_input_properties.py) checks the same promises in general.
"""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner

import montecarlo as mc
from montecarlo import _interrupt, budget, cli, export
from montecarlo.budget import BudgetError
from montecarlo.engine import SimulationError
from montecarlo.results import per_path_vars
from montecarlo.scenario import Scenario, ScenarioError

ROOT = Path(__file__).resolve().parent.parent
SMALL = ["-n", "64", "--horizon", "12", "--no-progress"]


def run_cli(*args: str):
    return CliRunner().invoke(cli.cli, list(args), prog_name="montecarlo")


def error_line(result) -> str:
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("montecarlo: error: "), lines
    return lines[0]


def small() -> Scenario:
    return Scenario.preset("frontier-lab").replace(horizon_months=12)


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(scope="module")
def result_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("r") / "r.nc"
    export.write(mc.simulate(small(), 64), path)
    return path


# --- 1. tracebacks from the CLI -----------------------------------------------------------


@pytest.mark.parametrize("value", ['["pue"]', '{ x = 1 }'])
def test_a_stress_whose_input_is_a_list_or_table_is_one_line_at_its_line(in_tmp, value):
    text = small().to_toml() + f"\n[[stresses]]\ninput = {value}\nstart_month = 1\n"
    Path("s.toml").write_text(text)
    line = text.splitlines().index(f"input = {value}") + 1
    message = error_line(run_cli("run", "s.toml", *SMALL))
    assert message.startswith(f"montecarlo: error: s.toml:{line}: stresses[0]: stress input must")


def test_report_refuses_compare_sensitivity_plain_and_truncated_files(in_tmp, result_file):
    s = small()
    compared = mc.compare({"a": s, "b": s.replace(paid_share=0.06)}, 64)
    export.write_netcdf(compared, "compare.nc")
    swing = mc.sensitivity.tornado(s, 64, inputs=["paid_share"])
    export.write_netcdf(swing, "tornado.nc")
    xr.Dataset({"a": ("x", [1.0])}).to_netcdf("plain.nc", engine="scipy")
    Path("cut.nc").write_bytes(result_file.read_bytes()[:1000])
    expected = {
        "compare.nc": "compare.nc is a compare or sweep result",
        "tornado.nc": "tornado.nc is a tornado",
        "plain.nc": "plain.nc: a NetCDF file that montecarlo did not write",
        "cut.nc": "cut.nc: not a NetCDF file montecarlo can read",
    }
    for name, message in expected.items():
        assert message in error_line(run_cli("report", name)), name
    assert not list(in_tmp.glob("*.html"))


def test_ctrl_c_during_start_up_is_one_line_and_status_130(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "montecarlo", "run", "-n", "64", "--horizon", "12"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    time.sleep(0.3)  # importing numba and xarray takes longer: still starting up
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and err == b"montecarlo: interrupted\n"
    assert os.listdir(tmp_path) == []


def test_the_start_up_hook_is_for_the_command_only():
    assert _interrupt.is_command(["python", "-m", "montecarlo", "run"], "-m")
    assert _interrupt.is_command(["python", "-X", "dev", "-m", "montecarlo"], "-m")
    assert _interrupt.is_command(["python", "/venv/bin/montecarlo"], "/venv/bin/montecarlo")
    assert not _interrupt.is_command(["python", "-m", "pytest"], "-m")
    assert not _interrupt.is_command(["python", "script.py", "-m", "montecarlo"], "script.py")
    exits = []
    _interrupt.report_interrupt(KeyboardInterrupt, KeyboardInterrupt(), None, _exit=exits.append)
    assert exits == [130]


# --- 2. raw Python errors from the library ------------------------------------------------


def test_open_result_names_an_empty_truncated_or_foreign_file(in_tmp, result_file):
    Path("empty.nc").write_bytes(b"")
    Path("cut.nc").write_bytes(result_file.read_bytes()[:500])
    xr.Dataset({"a": ("x", [1.0])}).to_netcdf("plain.nc", engine="scipy")
    for name in ("empty.nc", "cut.nc", "plain.nc"):
        with pytest.raises(ValueError, match=rf"^{name}: "):
            export.open_result(name)


def test_export_write_names_a_non_dataset_or_an_empty_one(in_tmp, result_file):
    with pytest.raises(TypeError, match="ds must be an xarray.Dataset .* got dict"):
        export.write({"a": 1}, "x.json")
    with pytest.raises(ValueError, match="ds is an empty Dataset"):
        export.write(xr.Dataset(), "x.csv")
    with pytest.raises(ValueError, match="ds is not a montecarlo simulate result: it lacks"):
        export.write(xr.Dataset({"a": ("x", [1.0])}), "x.json")
    assert os.listdir() == []


def test_integers_beyond_a_double_name_their_field():
    huge = 10**400
    with pytest.raises(ScenarioError, match="^users_0 must be a finite number, got an integer of"):
        Scenario(users_0=huge)
    with pytest.raises(ScenarioError, match="^users_0 must be a finite number"):
        Scenario.from_toml("[inputs]\nusers_0 = 1" + "0" * 400)
    with pytest.raises(ScenarioError, match="too long to read"):
        Scenario.from_toml("[inputs]\nusers_0 = 1" + "0" * 5000)
    with pytest.raises(ScenarioError, match="users_0: invalid distribution .* mean must be"):
        Scenario(users_0={"dist": "normal", "mean": huge, "sd": 1.0})
    with pytest.raises(ScenarioError, match="stress multiply must be a finite number"):
        small().with_stress("pue", 1, multiply=huge)


def test_from_toml_of_empty_text_is_a_scenario_error():
    for text in ("", "   ", "\n"):
        with pytest.raises(ScenarioError, match="from_toml got empty text"):
            Scenario.from_toml(text)


def test_sweep_refuses_a_scalar_a_generator_or_a_repeat_before_simulating(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("simulated")

    monkeypatch.setattr(sys.modules["montecarlo.compare"], "simulate", fail)
    for values, match in [
        (0.05, "values must be a list .* got 0.05 \\(float\\)"),
        ((x for x in [0.05, 0.06]), "got <generator"),
        ([0.05, 0.06, 0.05], "must be distinct, but 0.05 appears twice"),
    ]:
        with pytest.raises(SimulationError, match=match):
            mc.sweep(small(), "paid_share", values, 64)


# --- 3. distribution parameters that break tabulation -------------------------------------


@pytest.mark.parametrize(
    ("law", "match"),
    [
        ({"dist": "gamma", "shape": 1e300, "scale": 1.0}, "Gamma: shape must be at most 1e\\+06"),
        ({"dist": "lognormal", "mu": 1000.0, "sigma": 1.0}, "LogNormal: mu \\+ 4 sigma"),
        ({"dist": "pert", "low": 0.01, "mode": 0.05, "high": 0.1, "shape": 1e300},
         "PERT: shape must be at most"),
    ],
)  # fmt: skip
def test_untabulable_laws_are_refused_up_front_naming_the_input(law, match):
    start = time.perf_counter()
    with pytest.raises(ScenarioError, match=f"^paid_share: invalid distribution .*{match}"):
        Scenario(paid_share=law)
    assert time.perf_counter() - start < 5  # PERT shape 1e300 took a minute in scipy


# --- 4. NaN and inf in valid runs ---------------------------------------------------------


def test_a_discount_rate_near_minus_one_over_a_long_horizon_is_refused():
    with pytest.raises(ScenarioError, match=r"^discount_rate = -0.9999999999 discounts month 600"):
        Scenario(discount_rate=-0.9999999999, horizon_months=600)
    with pytest.raises(ScenarioError, match=r"^discount_rate = Uniform"):
        Scenario(discount_rate=mc.Uniform(-1.0, 0.0), horizon_months=600)
    Scenario(discount_rate=-0.99, horizon_months=600)  # a factor of 1e-100: allowed


def test_non_finite_per_path_outcomes_are_an_error_not_a_result():
    per_path = np.ones((4, 8))
    per_path[2, 4] = math.inf  # terminal_arr of a huge but finite price
    with pytest.raises(FloatingPointError, match="terminal_arr is not finite on 1 of 4 paths"):
        per_path_vars(per_path, 12)


def test_the_cli_prints_no_nan(in_tmp):
    Path("d.toml").write_text("horizon_months = 600\n[inputs]\ndiscount_rate = -0.9999999999\n")
    assert "d.toml:3: discount_rate = " in error_line(run_cli("run", "d.toml", "-n", "64"))
    assert os.listdir() == ["d.toml"]


# --- 5. no bound on work or memory --------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda s: mc.simulate(s, 10**15, keep_paths=True),
        lambda s: mc.sensitivity.tornado(s, 10**15),
        lambda s: mc.compare({"a": s, "b": s.replace(paid_share=0.06)}, 1e15),
        lambda s: mc.sensitivity.model_sobol(s, 2**30),
        lambda s: mc.simulate_paths(s, 10**7),
    ],
    ids=["simulate", "tornado", "compare-float", "model_sobol", "simulate_paths"],
)
def test_memory_beyond_the_budget_is_refused_at_once(call):
    start = time.perf_counter()
    with pytest.raises((BudgetError, SimulationError), match=r"needs about|would hold") as err:
        call(small())
    assert time.perf_counter() - start < 5
    if isinstance(err.value, BudgetError):
        assert f"memory budget of {budget.format_bytes(budget.memory_budget())}" in str(err.value)


def test_the_budget_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv(budget.MEMORY_BUDGET_ENV, "1MiB")
    assert budget.memory_budget() == 2**20
    with pytest.raises(BudgetError, match="above the memory budget of 1 MiB"):
        mc.simulate(small(), 64, keep_paths=True)
    monkeypatch.setenv(budget.MEMORY_BUDGET_ENV, "lots")
    with pytest.raises(BudgetError, match="MONTECARLO_MEMORY_BUDGET='lots'"):
        budget.memory_budget()


def test_a_run_beyond_the_time_bound_asks_for_yes(in_tmp):
    message = error_line(run_cli("run", "-n", "1e12", "--no-progress"))
    assert "path-months, about" in message and "beyond the 1 h bound; pass --yes" in message
    message = error_line(run_cli("sensitivity", "--paths", "1e11"))
    assert "pass --yes" in message
    assert os.listdir() == []


# --- 6. small inaccuracies ----------------------------------------------------------------


def test_a_stress_error_points_at_the_stress_not_the_input(in_tmp):
    text = small().to_toml() + "\n[[stresses]]\ninput = \"gpu_rent_price_0\"\nstart_month = 1\n"
    text += "multiply = -2.0\n"
    Path("s.toml").write_text(text)
    header = len(text.splitlines()) - 3
    message = error_line(run_cli("run", "s.toml", *SMALL))
    assert message.startswith(f"montecarlo: error: s.toml:{header}: stresses[0]: a stress makes")


def test_a_repaired_correlation_is_one_warning_line(in_tmp):
    text = small().to_toml().split("[correlation]")[0] + (
        "[correlation]\nnames = [\"adoption_rate\", \"user_ceiling\", \"paid_share\"]\n"
        "matrix = [[1.0, 0.9, -0.9], [0.9, 1.0, 0.9], [-0.9, 0.9, 1.0]]\nrepair = true\n"
    )
    Path("c.toml").write_text(text)
    result = run_cli("run", "c.toml", *SMALL, "-o", "c.nc")
    assert result.exit_code == 0, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("montecarlo: warning: Correlation of"), lines


def test_clashing_outputs_are_refused_before_the_run(in_tmp, monkeypatch):
    monkeypatch.setattr(cli, "simulate", lambda *a, **k: pytest.fail("simulated"))
    message = error_line(run_cli("run", *SMALL, "--out", "r.csv", "--out", "r.months.csv"))
    assert message == (
        "montecarlo: error: --out r.months.csv and --out r.csv would both write r.months.csv; "
        "give outputs that do not overlap"
    )
    assert os.listdir() == []
