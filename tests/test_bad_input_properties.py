"""Property-based tests of the promise to a user who gets things wrong (issue 13).

Every input, however malformed, ends in one of two ways:

- one error line ``montecarlo: error: ...`` naming the file or the field, exit status 2
  and no output file (or, in the library, a ScenarioError, ValueError or TypeError
  naming the argument, or the documented FloatingPointError naming the outcome); or
- a result in which every number is finite.

The scenario files are mutations of the presets' TOML: wrong types, non-finite,
out-of-range and extreme values, unknown and duplicated keys, broken syntax,
truncation. The CLI runs in process (click's CliRunner) on 64 paths.

Size: each property states its ``max_examples`` below (20 to 40 examples, 180 in all; the
file runs in about 20 s on the shared 2-core development machine, kernels cached).
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import tempfile
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner
from hypothesis import event, given, settings
from hypothesis import strategies as st

import montecarlo as mc
from montecarlo import cli, export
from montecarlo.budget import BudgetError
from montecarlo.scenario import FIELDS, Scenario, ScenarioError

PRESETS = tuple(mc.presets())
INPUTS = tuple(FIELDS)
PATHS = "64"

#: TOML literals a user might write for a number, from harmless to hostile.
BAD_LITERALS = [
    '"high"', "true", "[1, 2]", "{ x = 1 }", "nan", "inf", "-inf", "-1", "0", "1e308",
    "-1e308", "1e-320", "1e300", "1" + "0" * 400, "-1" + "0" * 400, "1" + "0" * 5000,
    '{ dist = "gamma", shape = 1e300, scale = 1.0 }',
    '{ dist = "lognormal", mu = 1000.0, sigma = 1.0 }',
    '{ dist = "pert", low = 0.0, mode = 0.5, high = 1.0, shape = 1e300 }',
    '{ dist = "normal", mean = 0.0 }', '{ dist = "uniform", low = 1.0, high = 0.0 }',
    '{ dist = "empirical", samples = [] }', '{ dist = "beta", a = 1e7, b = 2.0 }',
    '{ dist = "nope" }', "[[1, 2], [3]]", "1979-05-27", "0x10", '"1e5"',
]  # fmt: skip


def toml_float(x: float) -> str:
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return repr(float(x))


literals = st.one_of(
    st.sampled_from(BAD_LITERALS),
    st.floats(allow_nan=True, allow_infinity=True).map(toml_float),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
)


def _set_key(text: str, key: str, literal: str) -> str:
    """The preset's TOML with ``key = literal`` (replacing its line)."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if re.match(rf"{re.escape(key)}\s*=", line):
            if line.rstrip().endswith("["):  # a multi-line matrix: drop its rows too
                j = i + 1
                while not lines[j].startswith("]"):
                    j += 1
                del lines[i + 1 : j + 1]
            lines[i] = f"{key} = {literal}"
            return "\n".join(lines) + "\n"
    return text.replace("[inputs]\n", f"[inputs]\n{key} = {literal}\n")


@st.composite
def mutated_scenario_files(draw) -> str:
    """A preset's TOML, mutated once or twice."""
    text = Scenario.preset(draw(st.sampled_from(PRESETS))).to_toml()
    for _ in range(draw(st.integers(1, 2))):
        kind = draw(st.sampled_from(
            ["input", "input", "option", "unknown", "duplicate", "syntax", "truncate", "stress"]
        ))  # fmt: skip
        if kind == "input":
            text = _set_key(text, draw(st.sampled_from(INPUTS)), draw(literals))
        elif kind == "option":
            key = draw(st.sampled_from(["horizon_months", "name", "shock_correlation"]))
            text = _set_key(text, key, draw(literals))
        elif kind == "unknown":
            key = draw(st.from_regex(r"[a-z_]{1,12}", fullmatch=True))
            text = text.replace("[inputs]\n", f"[inputs]\n{key}_x = 1.0\n")
        elif kind == "duplicate":
            text = text + "\n" + f"[inputs]\n{draw(st.sampled_from(INPUTS))} = 1.0\n"
        elif kind == "syntax":
            at = draw(st.integers(0, len(text)))
            junk = draw(st.sampled_from(['"', "[", "=", "}", "\x00", "é", "\n="]))
            text = text[:at] + junk + text[at:]
        elif kind == "truncate":
            text = text[: draw(st.integers(0, len(text)))]
        else:
            field = draw(st.sampled_from(["input", "start_month", "months", "multiply", "add"]))
            stress = {"input": '"pue"', "start_month": "1", "multiply": "1.1"}
            stress[field] = draw(literals)
            body = "\n".join(f"{k} = {v}" for k, v in stress.items())
            text = text + f"\n[[stresses]]\n{body}\n"
    return text


@contextlib.contextmanager
def fresh_folder():
    """A new empty working directory for one example (restored afterwards)."""
    here = os.getcwd()
    with tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)
        try:
            yield Path(folder)
        finally:
            os.chdir(here)


def run_cli(*args: str):
    return CliRunner().invoke(cli.cli, list(args), prog_name="montecarlo")


def assert_one_error_line(result, *names: str) -> str:
    """Exit 2 with exactly one ``montecarlo: error:`` line (warnings and notes aside)."""
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 2, (result.exit_code, result.output, result.stderr)
    lines = result.stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("montecarlo: error: ")]
    assert len(errors) == 1, result.stderr
    others = [line for line in lines if line not in errors]
    assert all(re.match(r"montecarlo: (warning|note): ", line) for line in others), lines
    if names:
        assert any(name in errors[0] for name in names), (names, errors[0])
    return errors[0]


def assert_all_finite(ds: xr.Dataset) -> None:
    for name, var in ds.variables.items():
        if var.dtype.kind == "f":
            assert np.all(np.isfinite(var.values)), name
    for key, value in ds.attrs.items():
        if isinstance(value, float):
            assert math.isfinite(value), key


# ------------------------------------------------------------------------------------------
# Scenario files


@settings(max_examples=40)
@given(text=mutated_scenario_files())
def test_a_mutated_scenario_file_fails_in_one_line_or_gives_finite_numbers(text):
    with fresh_folder():
        Path("plan.toml").write_text(text, encoding="utf-8")
        result = run_cli("run", "plan.toml", "-n", PATHS, "--no-progress", "-o", "out.nc")
        event(f"exit status {result.exit_code}")
        if result.exit_code == 0:
            assert_all_finite(export.open_result("out.nc"))
        else:
            # The file and its line for what is wrong in it; the outcome when the model
            # leaves double precision (the scenario is valid but extreme).
            assert_one_error_line(result, "plan.toml", "double precision")
            assert not Path("out.nc").exists()
        assert sorted(os.listdir()) in (["plan.toml"], ["out.nc", "plan.toml"])


# ------------------------------------------------------------------------------------------
# Extreme values of every input, through the library


def extreme_values(name: str) -> list[float]:
    allowed = FIELDS[name].range
    candidates = [
        allowed.low, allowed.high, 0.0, 1e-300, 1e-12, 0.5, 1.0, 12.0, 1e6, 1e15, 1e150, 1e300,
        sys_max(), -1e300, -1e15, -1.0, -0.999999, math.inf,
        math.nextafter(allowed.low, math.inf), math.nextafter(allowed.high, -math.inf),
    ]  # fmt: skip
    return [x for x in candidates if allowed.contains(x)]


def sys_max() -> float:
    return float(np.finfo(np.float64).max)


@st.composite
def extreme_scenarios(draw):
    changes = {}
    for name in draw(st.lists(st.sampled_from(INPUTS), min_size=1, max_size=3, unique=True)):
        changes[name] = draw(st.sampled_from(extreme_values(name)))
    horizon = draw(st.sampled_from([1, 12, 12, 120, 600]))
    return changes, horizon


@settings(max_examples=25)
@given(case=extreme_scenarios())
def test_extreme_valid_inputs_give_finite_results_or_a_named_refusal(case):
    changes, horizon = case
    try:
        scenario = Scenario.preset("api-startup").replace(horizon_months=horizon, **changes)
    except ScenarioError as err:  # e.g. users_0 above user_ceiling: it names them
        assert any(name in str(err) for name in changes), err
        return
    try:
        ds = mc.simulate(scenario, 64, keep_paths=True, seed=1)
        event("finite result")
    except ScenarioError as err:
        assert any(name in str(err) for name in changes), err
        return
    except FloatingPointError as err:  # the documented overflow check, naming the outcome
        event("outside double precision")
        assert "double precision" in str(err), err
        return
    assert_all_finite(ds)


# ------------------------------------------------------------------------------------------
# Arguments of the library and the command line

bad_counts = st.sampled_from(
    [1e15, 10**15, 2**62, 10**400, -1, 0, 0.5, math.nan, math.inf, "1e6", True, None, [64]]
)


@settings(max_examples=30)
@given(n=bad_counts, call=st.sampled_from(["simulate", "tornado", "compare", "sweep", "sobol"]))
def test_bad_or_huge_path_counts_fail_at_once_naming_the_argument(n, call):
    s = Scenario.preset("frontier-lab").replace(horizon_months=12)
    calls = {
        "simulate": lambda: mc.simulate(s, n, keep_paths=True),
        "tornado": lambda: mc.sensitivity.tornado(s, n),
        "compare": lambda: mc.compare({"a": s, "b": s.replace(paid_share=0.06)}, n),
        "sweep": lambda: mc.sweep(s, "paid_share", [0.05, 0.06], n),
        "sobol": lambda: mc.sensitivity.model_sobol(s, n),
    }
    with pytest.raises((ValueError, TypeError)) as err:
        calls[call]()
    message = str(err.value)
    assert re.search(r"\bn(_paths)?\b|memory budget", message), message
    if isinstance(err.value, BudgetError):
        assert "GiB" in message or "TiB" in message or "PiB" in message or "EiB" in message


bad_sweep_values = st.one_of(
    st.floats(0.01, 0.9),
    st.sampled_from(["0.05", None, {"a": 1}, iter([0.05, 0.06]), (x for x in [0.05])]),
    st.lists(st.sampled_from([0.05, 0.06]), min_size=2, max_size=4).filter(
        lambda v: len(set(v)) < len(v)
    ),
    st.just([]),
)


@settings(max_examples=20)
@given(values=bad_sweep_values)
def test_bad_sweep_values_fail_before_simulating(values):
    with pytest.raises((ValueError, TypeError), match="paid_share|sweep"):
        mc.sweep("frontier-lab", "paid_share", values, 64)


cli_arguments = st.lists(
    st.sampled_from([
        "--paths", "-n", "1e400", "0", "-5", "2**99", "abc", "--seed", "-1", "2**64",
        "--horizon", "0", "601", "--out", "r.csv", "r.months.csv", "r.txt", "missing/r.nc",
        "--backend", "gpu", "--precision", "npv_mean=0", "npv_mean=-1%", "x=1", "--max-paths",
        "--qmc", "--antithetic", "--keep-paths", "nope.toml", "frontier-lab", "--bogus",
    ]),
    min_size=1, max_size=6,
)  # fmt: skip


@settings(max_examples=40)
@given(args=cli_arguments)
def test_bad_command_lines_fail_in_one_line_and_write_nothing(args):
    with fresh_folder():
        result = run_cli("run", *args, "--paths", PATHS, "--horizon", "12", "--no-progress")
        if result.exit_code == 0:
            for name in os.listdir():
                if name.endswith(".nc"):
                    assert_all_finite(export.open_result(name))
            return
        assert result.exit_code == 2, (args, result.output, result.exception)
        lines = result.stderr.strip().splitlines()
        # click's usage errors print a usage line and a hint; ours print one line
        assert lines and (lines[-1].startswith("Error: ") or len(
            [x for x in lines if x.startswith("montecarlo: error: ")]) == 1), lines
        assert "Traceback" not in result.output
        assert os.listdir() == []


# ------------------------------------------------------------------------------------------
# Foreign result files


@pytest.fixture(scope="module")
def result_bytes(tmp_path_factory) -> bytes:
    folder = tmp_path_factory.mktemp("result")
    ds = mc.simulate(Scenario.preset("frontier-lab").replace(horizon_months=12), 64)
    export.write(ds, folder / "r.nc")
    return (folder / "r.nc").read_bytes()


def _plain_netcdf() -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "plain.nc"
        xr.Dataset({"a": ("x", np.arange(3.0))}, attrs={"title": "x"}).to_netcdf(
            path, engine="scipy"
        )
        return path.read_bytes()


@settings(max_examples=25)
@given(
    kind=st.sampled_from(["truncated", "garbage", "empty", "plain", "prefix-garbage"]),
    cut=st.floats(0.0, 0.999),
    junk=st.binary(max_size=64),
)
def test_foreign_result_files_are_refused_by_name(result_bytes, kind, cut, junk):
    data = {
        "truncated": result_bytes[: int(cut * len(result_bytes))],
        "garbage": junk,
        "empty": b"",
        "plain": _plain_netcdf(),
        "prefix-garbage": b"CDF\x02" + junk,
    }[kind]
    with fresh_folder():
        Path("odd.nc").write_bytes(data)
        with pytest.raises(ValueError, match="odd.nc"):
            export.open_result("odd.nc")
        result = run_cli("report", "odd.nc")
        assert_one_error_line(result, "odd.nc")
        assert os.listdir() == ["odd.nc"]
