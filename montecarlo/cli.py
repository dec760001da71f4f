"""The command line: ``montecarlo <command>`` (docs/cli.md).

Commands: ``run``, ``presets``, ``report``, ``compare``, ``sweep``,
``sensitivity``, ``optimize`` and ``bench``. A mistake a person can fix (a bad scenario
file, an unknown preset, an output that cannot be written, an invalid option
value the library refuses) prints one line ``montecarlo: error: ...`` to
standard error and exits with status 2, before any simulation starts where it
can be known then. Ctrl-C prints ``montecarlo: interrupted`` and exits with
130; files are only written after the computation, each through a temporary
file renamed into place, so an interrupted command leaves none behind.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import math
import os
import re
import subprocess
import sys
import tomllib
import warnings
from collections.abc import Iterator, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import click
import numpy as np
import pandas as pd
import xarray as xr

from . import __version__, budget, export, risk
from .compare import DIFFERENCED, compare, sweep
from .engine import BACKENDS, simulate
from .optimization import MAX_EVALUATIONS, METHODS, optimize
from .scenario import Scenario, ScenarioError, presets
from .sensitivity import METRICS, model_sobol, tornado

#: Largest number of paths an option accepts (simulate's own limit).
MAX_PATHS = 2**62
#: Largest seed (seeds are 64-bit).
MAX_SEED = 2**64 - 1
#: Formats of the tables that compare, sweep and sensitivity write.
TABLE_FORMATS = (".nc", ".csv", ".json", ".parquet")
#: The scripts ``montecarlo bench`` runs, by name, and their ``--quick`` arguments.
BENCHMARKS = {
    "rng": ("bench_rng.py", ["--normals", "2e6", "--repeats", "3", "--json",
                             "benchmarks/results/rng-quick.json"]),
    "model": ("bench_model.py", ["--quick"]),
    "variance": ("bench_variance.py", ["--quick"]),
}  # fmt: skip


# ------------------------------------------------------------------------------------------
# Errors for people
# ------------------------------------------------------------------------------------------


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


class Failure(click.ClickException):
    """A failure reported as one line ``montecarlo: error: ...``; status 2 unless told."""

    def __init__(self, message: str, exit_code: int = 2):
        super().__init__(_one_line(message))
        self.exit_code = exit_code

    def show(self, file=None) -> None:
        click.echo(f"montecarlo: error: {self.format_message()}", err=True)


class Interrupted(click.ClickException):
    """Ctrl-C: ``montecarlo: interrupted``, status 130 (128 + SIGINT)."""

    exit_code = 130

    def __init__(self):
        super().__init__("interrupted")

    def show(self, file=None) -> None:
        click.echo("montecarlo: interrupted", err=True)


class _Group(click.Group):
    """Turns the library's validation errors and Ctrl-C into :class:`Failure` and
    :class:`Interrupted`, for every command, in and out of standalone mode."""

    def invoke(self, ctx: click.Context):
        try:
            # Warnings anywhere in a command (reading a scenario whose correlation is
            # repaired, a qmc run off a power of two) are one line each, never Python's
            # "file:line: Category: message" with a source path.
            with _warnings_as_lines():
                return super().invoke(ctx)
        except KeyboardInterrupt:
            raise Interrupted() from None
        except (FloatingPointError, OverflowError) as err:
            raise Failure(
                f"the scenario drives the model outside double precision ({err}); look for "
                f"huge numbers in it"
            ) from None
        except ValueError as err:  # ScenarioError, SimulationError, ...: they name the value
            raise Failure(str(err)) from None
        except OSError as err:
            if isinstance(err, BrokenPipeError):  # `montecarlo presets | head -1`
                raise
            raise Failure(_os_message(err), exit_code=1) from None


def _os_message(err: OSError, path: object = None) -> str:
    where = path if path is not None else err.filename
    reason = err.strerror or str(err)
    return f"{where}: {reason}" if where is not None else reason


# ------------------------------------------------------------------------------------------
# Option types
# ------------------------------------------------------------------------------------------


class PathCount(click.ParamType):
    """A positive whole number written as ``1000000``, ``1_000_000``, ``1e6`` or ``2**20``."""

    name = "N"

    def convert(self, value, param, ctx):
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        else:
            text = str(value).strip().replace("_", "")
            power = re.fullmatch(r"(\d{1,3})\*\*(\d{1,3})", text)
            try:
                if power:
                    number = Decimal(int(power[1]) ** int(power[2]))
                else:
                    number = Decimal(text)
            except InvalidOperation:
                number = None
            if number is None or not number.is_finite() or number != number.to_integral_value():
                self.fail(f"expected a whole number such as 1e6 or 1_000_000, got {value!r}")
        if number < 1:
            self.fail(f"expected a positive number, got {value!r}")
        if number > MAX_PATHS:
            self.fail(f"at most 2**62, got {value!r}")
        return int(number)


class Seed(click.ParamType):
    """A 64-bit seed, 0 to 2**64 - 1."""

    name = "SEED"

    def convert(self, value, param, ctx):
        try:
            seed = int(str(value).strip(), 10)
        except ValueError:
            self.fail(f"expected an integer in [0, 2**64 - 1], got {value!r}")
        if not 0 <= seed <= MAX_SEED:
            self.fail(f"expected an integer in [0, 2**64 - 1], got {value!r}")
        return seed


class Precision(click.ParamType):
    """``METRIC=SE`` (an absolute standard error) or ``METRIC=R%`` (relative to the estimate)."""

    name = "METRIC=SE"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        metric, sep, target = str(value).partition("=")
        metric, target = metric.strip(), target.strip()
        if not sep or not metric or not target:
            self.fail(f"expected METRIC=SE such as npv_mean=1e8 or npv_mean=1%, got {value!r}")
        relative = target.endswith("%")
        try:
            number = float(target[:-1] if relative else target)
        except ValueError:
            self.fail(f"{metric}: expected a number or a percentage, got {target!r}")
        if not (math.isfinite(number) and number > 0):
            self.fail(f"{metric}: the target must be a finite number > 0, got {target!r}")
        return metric, ({"relative": number / 100} if relative else number)


PATHS = PathCount()
SEED = Seed()
PRECISION = Precision()


# ------------------------------------------------------------------------------------------
# Scenarios from the command line: a preset name or a TOML file
# ------------------------------------------------------------------------------------------


def _unknown_preset(name: str, what: str = "unknown preset") -> Failure:
    names = presets()
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return Failure(f"{what} {name!r}; presets: {', '.join(names)}{hint}")


def load_scenario(spec: str) -> Scenario:
    """The scenario a command-line argument names: a preset, or a TOML scenario file.

    Every problem becomes a one-line :class:`Failure` naming the file, the TOML
    line where it can be found, and the field.
    """
    if spec in presets():
        return Scenario.preset(spec)
    path = Path(spec)
    if path.suffix.lower() == ".toml" or path.exists() or os.sep in spec:
        return _scenario_file(spec)
    raise _unknown_preset(spec, "no preset or scenario file named")


def _scenario_file(spec: str) -> Scenario:
    path = Path(spec)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise Failure(f"scenario file {spec}: no such file") from None
    except IsADirectoryError:
        raise Failure(f"scenario file {spec}: is a directory") from None
    except OSError as err:
        raise Failure(f"scenario file {_os_message(err, spec)}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise Failure(f"{spec}:{line}: not UTF-8 text; a scenario file is TOML") from None
    if not text.strip():
        raise Failure(
            f"{spec}: the file is empty; a scenario file sets at least one field "
            f"(`montecarlo presets show frontier-lab` prints a complete one)"
        )
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        message = str(err)
        where = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
        if where:
            message = message[: where.start()]
            raise Failure(f"{spec}:{where[1]}:{where[2]}: not valid TOML: {message}") from None
        raise Failure(f"{spec}: not valid TOML: {message}") from None
    except ValueError as err:  # an integer literal beyond Python's digit limit
        raise Failure(f"{_where(spec, text, _long_number_line(text))}: {err}") from None
    if not data:
        raise Failure(f"{spec}: the file holds only comments; a scenario file sets a field")
    _check_huge_integers(spec, text, data)
    try:
        return Scenario.from_dict(data)
    except ScenarioError as err:
        message = str(err)
        raise Failure(
            f"{_where(spec, text, _field_line(text, data, message))}: {message}"
        ) from None


def _where(spec: str, text: str, line: int | None) -> str:
    return f"{spec}:{line}" if line else spec


def _long_number_line(text: str) -> int | None:
    for i, line in enumerate(text.splitlines(), 1):
        if re.search(r"\d{300}", line):
            return i
    return None


def _check_huge_integers(spec: str, text: str, data: Any, keys: tuple[str, ...] = ()) -> None:
    """An integer beyond the largest double (1.8e308) cannot become a number of the model."""
    if isinstance(data, dict):
        for k, v in data.items():
            _check_huge_integers(spec, text, v, (*keys, str(k)))
    elif isinstance(data, list):
        for v in data:
            _check_huge_integers(spec, text, v, keys)
    elif isinstance(data, int) and not isinstance(data, bool) and abs(data) > sys.float_info.max:
        digits = len(str(abs(data)))
        lines = [_key_line(text, k) for k in reversed(keys)]
        name = ".".join(keys[1:] if keys[:1] == ("inputs",) and len(keys) > 1 else keys)
        raise Failure(
            f"{_where(spec, text, next(filter(None, lines), None))}: {name} is an integer of "
            f"{digits} digits, beyond the largest number the model can hold (about 1.8e308)"
        )


def _all_keys(data: Any) -> Iterator[str]:
    if isinstance(data, dict):
        for k, v in data.items():
            yield str(k)
            yield from _all_keys(v)
    elif isinstance(data, list):
        for v in data:
            yield from _all_keys(v)


def _key_line(text: str, key: str) -> int | None:
    """The first line that sets ``key`` or opens a ``[key]`` table."""
    k = re.escape(key)
    pattern = re.compile(rf'^\s*(?:(?:"{k}"|\'{k}\'|{k})\s*=|\[\[?\s*{k}\s*\]\]?)')
    for i, line in enumerate(text.splitlines(), 1):
        if pattern.match(line):
            return i
    return None


def _stress_line(text: str, k: int, message: str) -> int | None:
    """The line of stress k (its ``[[stresses]]`` table, or the key the message names)."""
    lines = text.splitlines()
    headers = [i for i, line in enumerate(lines) if re.match(r"\s*\[\[\s*stresses\s*\]\]", line)]
    if k >= len(headers):
        return _key_line(text, "stresses")  # an inline array: its key's line
    start = headers[k]
    end = next(
        (i for i in range(start + 1, len(lines)) if re.match(r"\s*\[", lines[i])), len(lines)
    )
    named = re.match(r"stress (input|start_month|months|multiply|add)\b", message)
    if named:
        for i in range(start + 1, end):
            if re.match(rf"\s*{named[1]}\s*=", lines[i]):
                return i + 1
    return start + 1


def _field_line(text: str, data: dict, message: str) -> int | None:
    """The line of the field a ScenarioError names first (its messages start with it)."""
    stress = re.match(r"stresses\[(\d+)\]: ", message)
    if stress:
        return _stress_line(text, int(stress[1]), message[stress.end() :])
    found = []
    for key in set(_all_keys(data)):
        hit = re.search(rf"(?<![\w]){re.escape(key)}(?![\w])", message)
        if hit:
            found.append((hit.start(), -len(key), key))
    for _, _, key in sorted(found):
        line = _key_line(text, key)
        if line:
            return line
    return None


def _with_horizon(scenario: Scenario, horizon: int | None) -> Scenario:
    if horizon is None:
        return scenario
    try:
        return scenario.replace(horizon_months=horizon)
    except ScenarioError as err:
        raise Failure(f"--horizon {horizon}: {err}") from None


def _scenarios(specs: Sequence[str], horizon: int | None) -> dict[str, Scenario]:
    """Scenarios by a unique label: their name, else the argument, else a number."""
    out: dict[str, Scenario] = {}
    for spec in specs:
        scenario = _with_horizon(load_scenario(spec), horizon)
        label = scenario.name
        if label in out:
            label = spec
        k = 2
        while label in out:
            label, k = f"{scenario.name} ({k})", k + 1
        out[label] = scenario
    horizons = {s.horizon_months for s in out.values()}
    if len(horizons) > 1:
        raise Failure(
            f"the scenarios have different horizons ({', '.join(map(str, sorted(horizons)))} "
            f"months); set one with --horizon"
        )
    return out


# ------------------------------------------------------------------------------------------
# Output files
# ------------------------------------------------------------------------------------------


def _checked_outputs(
    outs: Sequence[str], allowed: Sequence[str] | None = None, *, siblings: bool = False
) -> list[Path]:
    """Each ``--out``, once, after export.check_writable: before any computation.

    Two outputs that would write the same file are refused: with ``siblings`` (``run``,
    whose .csv and .parquet outputs write sibling tables, export.output_paths) that
    includes ``--out r.csv --out r.months.csv``.
    """
    paths: list[Path] = []
    owners: dict[Path, str] = {}
    for out in outs:
        path = Path(out)
        if allowed is not None and path.suffix.lower() not in allowed:
            raise Failure(
                f"--out {out}: this command writes {', '.join(allowed)} files, not "
                f"{path.suffix or 'a file without an extension'}"
            )
        try:
            export.check_writable(path)
        except OSError as err:  # check_writable's own errors carry the whole message
            raise Failure(f"cannot write {out}: {err.strerror}" if err.strerror else err) from None
        except ValueError as err:
            raise Failure(str(err)) from None
        if path.resolve() in [p.resolve() for p in paths]:
            continue  # the same --out twice: written once
        files = export.output_paths(path, paths=True, tornado=True) if siblings else {"": path}
        for file in files.values():
            other = owners.get(file.resolve())
            if other is not None:
                raise Failure(
                    f"--out {out} and --out {other} would both write {file}; give outputs that "
                    f"do not overlap"
                )
        owners.update({file.resolve(): out for file in files.values()})
        paths.append(path)
    return paths


def _check_work(what: str, path_months: float, backend: str, yes: bool, quiet: bool) -> None:
    """Refuse, before it starts, a run estimated beyond budget.TIME_BOUND_SECONDS unless
    ``--yes``; note the estimate of any run over a minute (docs/cli.md, Budgets)."""
    import numba

    threads = numba.get_num_threads()
    name = backend if backend in budget.PATH_MONTHS_PER_SECOND else "numba"
    seconds = budget.estimate_seconds(path_months, name, threads)
    speed = budget.PATH_MONTHS_PER_SECOND[name] * (threads if name in ("numba", "dask") else 1)
    estimate = (
        f"{what}: {path_months:.3g} path-months, about {budget.format_seconds(seconds)} at the "
        f"assumed {speed:.3g} path-months/s of the {name} backend"
        + (f" on {threads} threads" if name in ("numba", "dask") else "")
    )
    if seconds > budget.TIME_BOUND_SECONDS and not yes:
        raise Failure(
            f"{estimate}, beyond the {budget.format_seconds(budget.TIME_BOUND_SECONDS)} bound; "
            f"pass --yes to run it anyway, or use fewer paths"
        )
    if seconds > 60 and not quiet:
        click.echo(f"montecarlo: note: {estimate}; Ctrl-C stops it", err=True)


_YES = click.option(
    "--yes", "-y", is_flag=True,
    help="Run even if the estimated time is beyond the 1 h bound (docs/cli.md, Budgets).",
)  # fmt: skip


def _default_output(scenario: Scenario) -> str:
    # A name may hold characters a file name should not (a slash would name a folder).
    safe = re.sub(r"[^\w.-]+", "-", scenario.name).strip("-.") or "scenario"
    return f"montecarlo-{safe}.nc"


def _plain(value: Any) -> Any:
    """A JSON-ready value: numpy scalars to Python, non-finite floats to None."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _write_table(ds: xr.Dataset, table: pd.DataFrame, path: Path, kind: str) -> list[Path]:
    """A Dataset as NetCDF (export.write_netcdf), or its tidy ``table`` as CSV, JSON or Parquet."""
    suffix = path.suffix.lower()
    if suffix == ".nc":  # the whole Dataset: export.open_netcdf reopens it
        return [export.write_netcdf(ds, path)]
    with export.atomic_path(path) as tmp:
        if suffix == ".csv":
            table.to_csv(tmp, index=False)
        elif suffix == ".parquet":
            table.to_parquet(tmp, index=False)
        else:
            attrs = {k: _plain(v) for k, v in ds.attrs.items() if k not in ("scenario",)}
            rows = [{k: _plain(v) for k, v in row.items()} for row in table.to_dict("records")]
            document = {"kind": kind, "attrs": attrs, "rows": rows}
            tmp.write_text(json.dumps(document, indent=1, allow_nan=False) + "\n")
    return [path]


def _write_all(writes, *, quiet: bool = False) -> None:
    """Run each ``(path, write)`` and print ``wrote FILE`` for every file it wrote.

    An OSError (disk full, permissions changed since the check) is one line
    with status 1; anything else is a bug in an exporter and keeps its traceback.
    """
    for path, write in writes:
        try:
            files = write()
        except OSError as err:
            raise Failure(f"cannot write {path}: {err.strerror or err}", exit_code=1) from None
        except ValueError as err:
            raise RuntimeError(f"writing {path} failed: {err}") from err
        if not quiet:
            for file in files:
                click.echo(f"wrote {file}")


# ------------------------------------------------------------------------------------------
# Printing
# ------------------------------------------------------------------------------------------


def summary_lines(ds) -> list[str]:
    """A short risk summary of a simulate() Dataset, one fact per line."""
    T = int(ds.attrs["horizon_months"])
    n = int(ds.attrs["n_paths"])
    lines = [
        f"scenario {ds.attrs['scenario_name']!r}: {n:,} paths x {T} months, seed "
        f"{ds.attrs['seed']}, backend {ds.attrs['backend']} ({ds.attrs['elapsed_seconds']:.1f} s)",
        f"P(operating profit > 0 in month {T}):      {float(ds.p_profitable[-1]):7.2%}",
    ]
    if "first_profit_month" in ds:
        first = ds.first_profit_month.values
        lines.append(f"P(profitable in some month by month {T}): {np.mean(first <= T):7.2%}")
    lines.append(f"P(ruin: cash below 0 by month {T}):        {float(ds.p_ruined[-1]):7.2%}")
    if "npv" in ds:
        q = np.quantile(ds.npv.values, [0.05, 0.5, 0.95])
        lines.append(
            f"NPV (USD bn) 5% / median / 95%:           {q[0] / 1e9:9.2f} / {q[1] / 1e9:.2f} / "
            f"{q[2] / 1e9:.2f}"
        )
        ruin = ds.ruin_month.values
        ruined = ruin[ruin <= T]
        if ruined.size:
            r = np.quantile(ruined, [0.1, 0.5, 0.9])
            lines.append(
                f"runway of ruined paths (months) 10/50/90%: {r[0]:.0f} / {r[1]:.0f} / {r[2]:.0f}"
                f"; {np.mean(ruin > T):.1%} never run out within {T} months"
            )
        else:
            lines.append(f"runway: no path runs out of cash within {T} months")
    if "funding_gap" in ds:
        # The 95 % quantile of the funding gap: 95 % of paths needed at most this much more.
        gap, _, low, high = (x / 1e9 for x in risk.quantile(ds.funding_gap.values, 0.95))
        lines.append(
            f"capital required at 95% (USD bn):         {gap:9.2f} (95% interval {low:.2f} .. "
            f"{high:.2f})"
        )
    cash = ds.cash.sel(month=T)
    lines.append(
        f"cash at month {T} (USD bn) 5% / median / 95%: "
        f"{float(cash.sel(quantile=0.05)) / 1e9:.2f} / {float(cash.sel(quantile=0.5)) / 1e9:.2f}"
        f" / {float(cash.sel(quantile=0.95)) / 1e9:.2f}"
    )
    return lines


def precision_lines(ds: xr.Dataset) -> list[str]:
    """Whether each ``--precision`` target was met, from simulate()'s convergence trace."""
    if "convergence_se" not in ds:
        return []
    n = int(ds.attrs["n_paths"])
    lines = []
    for metric in ds.metric.values:
        est = float(ds.convergence_estimate.sel(metric=metric)[-1])
        se = float(ds.convergence_se.sel(metric=metric)[-1])
        goal = float(ds.convergence_target.sel(metric=metric))
        verdict = "met" if se <= goal else "NOT met"
        lines.append(
            f"precision {metric}: {est:.4g}, standard error {se:.3g} (target {goal:.3g}) "
            f"{verdict} with {n:,} paths"
        )
    return lines


def _money_scale(values) -> tuple[float, str]:
    finite = [abs(float(v)) for v in values if math.isfinite(float(v))]
    top = max(finite, default=0.0)
    for scale, unit in ((1e9, "USD bn"), (1e6, "USD M"), (1e3, "USD k")):
        if top >= scale:
            return scale, unit
    return 1.0, "USD"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Plain columns: the first left-aligned, the rest right-aligned."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(cells):
        first = f"{cells[0]:<{widths[0]}}"
        rest = [f"{c:>{w}}" for c, w in zip(cells[1:], widths[1:], strict=True)]
        return "  ".join([first, *rest]).rstrip()

    return [line(header), *(line(r) for r in rows)]


def difference_lines(ds: xr.Dataset) -> list[str]:
    """The table ``compare`` and ``sweep`` print: NPV and P(ruin) against the baseline."""
    names = [str(s) for s in ds.scenario.values]
    T = int(ds.attrs["horizon_months"])
    npv = ds.npv.mean("path").values
    ruin = ds.p_ruined.sel(month=T).values
    scale, unit = _money_scale([*npv, *ds.npv_diff_ci_low.values, *ds.npv_diff_ci_high.values])
    rows = []
    for i, name in enumerate(names):
        if i == 0:
            npv_diff = ruin_diff = "baseline"
        else:
            mean, low, high = (
                ds[f"npv_diff_{k}"].values[i] / scale for k in ("mean", "ci_low", "ci_high")
            )
            npv_diff = f"{mean:+.3f} [{low:+.3f}, {high:+.3f}]"
            ruin_diff = (
                f"{ds.p_ruined_diff_mean.values[i] * 100:+.2f} "
                f"[{ds.p_ruined_diff_ci_low.values[i] * 100:+.2f}, "
                f"{ds.p_ruined_diff_ci_high.values[i] * 100:+.2f}]"
            )
        rows.append([name, f"{npv[i] / scale:.3f}", npv_diff, f"{ruin[i]:.2%}", ruin_diff])
    n = int(ds.attrs["n_paths"])
    return [
        f"paired differences against {names[0]!r}: {n:,} paths per scenario, seed "
        f"{ds.attrs['seed']}, common random numbers, 95% intervals",
        *_table(
            ["scenario", f"NPV mean ({unit})", f"NPV difference ({unit})", f"P(ruin) month {T}",
             "P(ruin) difference (points)"],
            rows,
        ),
    ]  # fmt: skip


def difference_table(ds: xr.Dataset) -> pd.DataFrame:
    """Tidy rows (scenario, outcome) of compare()'s paired differences, for files."""
    T = int(ds.attrs["horizon_months"])
    baseline = str(ds.scenario.values[0])
    rows = []
    for i, name in enumerate(ds.scenario.values):
        for outcome in (*DIFFERENCED, "p_ruined"):
            if outcome == "p_ruined":
                mean = float(np.mean(ds.ruin_month.values[i] <= T))
                units = "1"
            else:
                mean = float(ds[outcome].values[i].mean())
                units = ds[outcome].attrs.get("units", "")
            row = {"scenario": str(name)}
            if "value" in ds.coords:
                row["value"] = _plain(ds.value.values[i])
            row |= {"outcome": outcome, "units": units, "mean": mean}
            for stat in ("mean", "se", "ci_low", "ci_high", "se_independent"):
                row[f"diff_{stat}"] = float(ds[f"{outcome}_diff_{stat}"].values[i])
            row["baseline"] = baseline
            rows.append(row)
    return pd.DataFrame(rows)


def tornado_lines(ds: xr.Dataset) -> list[str]:
    """The tornado table: each input's percentiles, the metric at them, the swing and its SE."""
    share = ds.attrs["metric_units"] == "1"
    if share:  # probabilities in per cent, their swings in percentage points
        scale, unit, swing_unit, fmt = 0.01, "%", "points", "{:.2f}"
    else:
        scale, unit = _money_scale([*ds.metric_low.values, *ds.metric_high.values])
        swing_unit, fmt = unit, "{:.3f}"
    low, high = ds.attrs["low"], ds.attrs["high"]

    def value(x: float, signed: bool = False) -> str:
        if not math.isfinite(x):
            return "n/a"
        text = fmt.format(x / scale)
        return text if not signed or text.startswith("-") else "+" + text

    rows = [
        [str(name), f"{ds.low_value.values[i]:.4g}", f"{ds.high_value.values[i]:.4g}",
         value(ds.metric_low.values[i]), value(ds.metric_high.values[i]),
         value(ds.swing.values[i], signed=True), value(ds.swing_se.values[i])]
        for i, name in enumerate(ds.input.values)
    ]  # fmt: skip
    base = float(ds.attrs["baseline"])
    return [
        f"tornado of {ds.attrs['metric']} for {ds.attrs['scenario_name']!r}: baseline "
        f"{value(base)}{'%' if share else ' ' + unit}; {int(ds.attrs['n_paths']):,} paths per run, "
        f"{ds.attrs['runs']} runs, seed {ds.attrs['seed']}, largest swing first",
        *_table(
            ["input", f"P{low * 100:g} value", f"P{high * 100:g} value", f"low ({unit})",
             f"high ({unit})", f"swing ({swing_unit})", "swing se"],
            rows,
        ),
    ]  # fmt: skip


def sobol_lines(ds: xr.Dataset) -> list[str]:
    """The Sobol table: S1 and ST with the half-widths of their intervals, largest ST first."""
    order = np.argsort(-ds.ST.values, kind="stable")
    rows = [
        [str(ds.input.values[i]), f"{ds.S1.values[i]:.3f}", f"{ds.S1_conf.values[i]:.3f}",
         f"{ds.ST.values[i]:.3f}", f"{ds.ST_conf.values[i]:.3f}"]
        for i in order
    ]  # fmt: skip
    level = f"{float(ds.attrs['confidence']):.0%}"
    return [
        f"Sobol indices of {ds.attrs['outcome']} for {ds.attrs['scenario_name']!r}: "
        f"{int(ds.attrs['n']):,} base points, {int(ds.attrs['evaluations']):,} model paths, "
        f"seed {ds.attrs['seed']}; conf = half-width of the {level} bootstrap interval",
        *_table(["input", "S1", "S1 conf", "ST", "ST conf"], rows),
    ]


@contextlib.contextmanager
def _warnings_as_lines() -> Iterator[None]:
    """The library's warnings (e.g. qmc without a power of two) as one line each, at once."""

    def show(message, category, filename, lineno, file=None, line=None):
        click.echo(f"montecarlo: warning: {_one_line(message)}", err=True)

    with warnings.catch_warnings():
        warnings.simplefilter("default", UserWarning)
        warnings.simplefilter("default", RuntimeWarning)
        warnings.showwarning = show
        yield


# ------------------------------------------------------------------------------------------
# Commands
# ------------------------------------------------------------------------------------------

_DEFAULT_PRESET = "frontier-lab"


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="montecarlo",
                      message="%(prog)s %(version)s")  # fmt: skip
def cli() -> None:
    """Monte Carlo risk engine for the economics of AI inference.

    A scenario is a preset name (`montecarlo presets` lists them) or a TOML
    scenario file (`montecarlo presets show frontier-lab > my.toml` gives one
    to edit).

    \b
    Examples:
      montecarlo run                # 1e6 paths of frontier-lab -> montecarlo-frontier-lab.nc
      montecarlo run api-startup --paths 1e5 --out api.parquet --out api.html
      montecarlo compare frontier-lab my.toml --paths 1e5
      montecarlo sensitivity frontier-lab --method sobol

    Exit status: 0 on success, 2 for a mistake in the command or its files,
    1 when writing a result fails, 130 when interrupted (Ctrl-C).
    """


@cli.command("run", short_help="Simulate a scenario, print a risk summary, write the result.")
@click.argument("scenario", default=_DEFAULT_PRESET, metavar="[SCENARIO]")
@click.option(
    "--paths",
    "-n",
    type=PATHS,
    default=1_000_000,
    help="Number of paths: 1e6, 1_000_000, 2**20.  [default: 1e6]",
)
@click.option("--seed", type=SEED, default=0, show_default=True, help="64-bit random seed.")
@click.option(
    "--backend",
    type=click.Choice(BACKENDS),
    default="numba",
    show_default=True,
    help="numba: the compiled kernel; numpy: the slow reference.",
)
@click.option("--horizon", type=int, metavar="MONTHS", help="Override horizon_months (1-600).")
@click.option(
    "--precision",
    "precision",
    type=PRECISION,
    multiple=True,
    help="Standard error to reach at the horizon: npv_mean=1e8, p_ruined=0.001, "
    "npv_mean=1% (relative). Repeatable. Paths are added up to --max-paths.",
)
@click.option(
    "--max-paths",
    type=PATHS,
    help="Most paths a --precision run may use "
    "(default: --paths, so give one to let it add paths).",
)
@click.option("--antithetic", is_flag=True, help="Antithetic pairs of paths.")
@click.option(
    "--qmc", is_flag=True, help="Randomised quasi-Monte Carlo static inputs (best with 2**k paths)."
)
@click.option(
    "--keep-paths/--no-keep-paths",
    default=None,
    help="Keep per-path outcomes and inputs [default: while they fit in 512 MiB].",
)
@click.option(
    "--out",
    "-o",
    "outs",
    multiple=True,
    metavar="FILE",
    help="Output file, repeatable; the extension picks the format: "
    ".nc .parquet .csv .json .html [default: montecarlo-<scenario>.nc].",
)
@click.option("--quiet", "-q", is_flag=True, help="Print nothing (no summary, no progress).")
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bar on standard error [default: when it is a terminal].",
)
@_YES
def run_cmd(scenario, paths, seed, backend, horizon, precision, max_paths, antithetic, qmc,
            keep_paths, outs, quiet, progress, yes) -> None:  # fmt: skip
    """Simulate a scenario, print a risk summary and write the result.

    SCENARIO is a preset name or a TOML scenario file (default: frontier-lab).
    Every --out is checked before the simulation starts, and written whole
    (through a temporary file) after it ends.

    \b
    Examples:
      montecarlo run
      montecarlo run api-startup --paths 1e5 --seed 7 --out api.nc --out api.csv
      montecarlo run my-plan.toml --horizon 36 --out plan.html
      montecarlo run --paths 2**16 --max-paths 2**22 --precision npv_mean=1% --qmc
      montecarlo run --quiet --out result.parquet
    """
    spec = _with_horizon(load_scenario(scenario), horizon)
    outputs = _checked_outputs(outs or [_default_output(spec)], siblings=True)
    most = max(paths, max_paths or paths)
    _check_work("this run", most * spec.horizon_months, backend, yes, quiet)
    targets = dict(precision) or None
    show = False if quiet else progress
    with _warnings_as_lines():
        ds = simulate(
            spec, paths, seed=seed, backend=backend, progress=show, precision=targets,
            max_paths=max_paths, keep_paths=keep_paths, antithetic=antithetic, qmc=qmc,
        )  # fmt: skip
    if not quiet:
        click.echo("\n".join(summary_lines(ds) + precision_lines(ds)))
    _write_all([(p, lambda p=p: export.write(ds, p)) for p in outputs], quiet=quiet)


def _preset_line(scenario: Scenario) -> str:
    """One line of facts about a preset, from its values."""

    def typical(name: str) -> float:
        dist = scenario.inputs[name]
        return dist.value if dist.is_constant else float(dist.ppf([0.5])[0])

    def short(x: float) -> str:
        for scale, suffix in ((1e9, "bn"), (1e6, "M"), (1e3, "k")):
            if abs(x) >= scale:
                return f"{x / scale:.3g}{suffix}"
        return f"{x:.3g}"

    rent = typical("rent_share")
    fleet = "rented GPUs" if rent == 1 else "owned GPUs" if rent == 0 else f"{rent:.0%} rented"
    return (
        f"{scenario.horizon_months} months, {short(typical('users_0'))} users at the start, "
        f"USD {short(typical('initial_cash'))} cash, {fleet}, "
        f"{len(scenario.uncertain_inputs)} of {len(scenario.inputs)} inputs uncertain"
    )


@cli.group(
    "presets", invoke_without_command=True, short_help="List the presets, or print one as TOML."
)
@click.pass_context
def presets_cmd(ctx: click.Context) -> None:
    """List the calibrated presets; `presets show NAME` prints one as TOML.

    \b
    Examples:
      montecarlo presets
      montecarlo presets show api-startup > my-plan.toml
    """
    if ctx.invoked_subcommand is not None:
        return
    labels = {n: f"{n} (default)" if n == _DEFAULT_PRESET else n for n in presets()}
    width = max(len(label) for label in labels.values())
    for name, label in labels.items():
        click.echo(f"{label:<{width}}  {_preset_line(Scenario.preset(name))}")


@presets_cmd.command("show")
@click.argument("name")
def presets_show_cmd(name: str) -> None:
    """Print preset NAME as a TOML scenario file (edit it, then `montecarlo run FILE`).

    \b
    Example:
      montecarlo presets show self-hosted > mine.toml
    """
    if name not in presets():
        raise _unknown_preset(name)
    click.echo(Scenario.preset(name).to_toml(), nl=False)


@cli.command("report", short_help="Write an HTML report of a saved .nc result.")
@click.argument("result", metavar="RESULT.nc")
@click.option(
    "--out", "-o", metavar="FILE.html", help="The HTML report [default: RESULT with .html for .nc]."
)
@click.option(
    "--tornado-paths",
    type=PATHS,
    default=None,
    help="Also compute a tornado with N paths per run, from the scenario stored in "
    "the result [default: none].",
)
@click.option(
    "--seed", type=SEED, default=None, help="Seed of the tornado [default: the result's]."
)
def report_cmd(result, out, tornado_paths, seed) -> None:
    """Write an HTML report of a saved result (a .nc file from `montecarlo run`).

    \b
    Examples:
      montecarlo report montecarlo-frontier-lab.nc --out report.html
      montecarlo report run.nc --out run.html --tornado-paths 2e4
    """
    source = Path(result)
    if not source.is_file():
        raise Failure(f"{result}: no such file" if not source.exists() else f"{result}: not a file")
    target = Path(out) if out else source.with_suffix(".html")
    if target.suffix.lower() != ".html":
        raise Failure(f"--out {out}: the report is an HTML file; name it *.html")
    if target.resolve() == source.resolve():
        raise Failure(f"--out {out}: would overwrite the result it reports on")
    _checked_outputs([str(target)])
    try:
        ds = export.open_result(source)  # refuses anything but a simulate result, by name
    except ValueError as err:
        raise Failure(str(err)) from None
    except OSError as err:
        raise Failure(f"{result}: {err.strerror or err}") from None
    tornado_ds = None
    if tornado_paths is not None:
        text = ds.attrs.get("scenario")
        if not text:
            raise Failure(f"{result}: holds no scenario, so no tornado can be computed")
        try:
            scenario = Scenario.from_toml(str(text))
        except ScenarioError as err:
            raise Failure(f"{result}: its stored scenario is invalid: {err}") from None
        tornado_seed = int(ds.attrs.get("seed", 0)) if seed is None else seed
        backend = str(ds.attrs.get("backend", "numba"))
        tornado_ds = tornado(scenario, tornado_paths, seed=tornado_seed, backend=backend)
    from . import report

    _write_all([(target, lambda: [report.write_html(ds, target, tornado=tornado_ds)])])


def _run_comparison(ds_maker, outs: Sequence[str]) -> None:
    outputs = _checked_outputs(outs, TABLE_FORMATS)
    with _warnings_as_lines():
        ds = ds_maker()
    click.echo("\n".join(difference_lines(ds)))
    table = difference_table(ds)
    _write_all([(p, lambda p=p: _write_table(ds, table, p, "differences")) for p in outputs])


def _shared_options(default_paths: str):
    """--paths, --seed, --backend, --horizon, --out and --progress of the analysis commands."""

    def decorate(f):
        for option in reversed([
            click.option("--paths", "-n", type=PATHS, default=None,
                         help=f"Paths per scenario [default: {default_paths}]."),
            click.option("--seed", type=SEED, default=0, show_default=True,
                         help="Seed of every run (common random numbers)."),
            click.option("--backend", type=click.Choice(BACKENDS), default="numba",
                         show_default=True),
            click.option("--horizon", type=int, metavar="MONTHS",
                         help="Override horizon_months of every scenario."),
            click.option("--out", "-o", "outs", multiple=True, metavar="FILE",
                         help="Table of the results, repeatable: .nc, .csv, .json or .parquet."),
            _YES,
        ]):  # fmt: skip
            f = option(f)
        return f

    return decorate


@cli.command("compare", short_help="Paired differences of scenarios against the first.")
@click.argument("scenarios", nargs=-1, required=True, metavar="SCENARIO SCENARIO...")
@_shared_options("1e5")
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bars [default: when standard error is a terminal].",
)
def compare_cmd(scenarios, paths, seed, backend, horizon, outs, yes, progress) -> None:
    """Simulate scenarios on common random numbers and difference them against the first.

    Prints each scenario's mean NPV and P(ruin) at the horizon, and their
    paired differences from the first scenario with 95% intervals.

    \b
    Examples:
      montecarlo compare frontier-lab my-plan.toml
      montecarlo compare a.toml b.toml c.toml --paths 2e5 --out diff.csv
    """
    if len(scenarios) < 2:
        raise click.UsageError("compare needs at least two scenarios")
    resolved = _scenarios(scenarios, horizon)
    n = paths or 100_000
    T = next(iter(resolved.values())).horizon_months
    _check_work(f"{len(resolved)} runs of {n:,} paths", len(resolved) * n * T, backend, yes, False)
    _run_comparison(
        lambda: compare(resolved, n, seed=seed, backend=backend, progress=progress), outs
    )


@cli.command(
    "sweep",
    context_settings={"ignore_unknown_options": True},
    short_help="Compare the values of one input of a scenario.",
)
@click.argument("scenario")
@click.argument("field")
@click.argument("values", nargs=-1, required=True)
@_shared_options("1e5")
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bars [default: when standard error is a terminal].",
)
def sweep_cmd(scenario, field, values, paths, seed, backend, horizon, outs, yes, progress) -> None:
    """Set one input of a scenario to each of VALUES and compare the runs.

    The first value is the baseline of the differences; all runs share their
    random numbers.

    \b
    Examples:
      montecarlo sweep frontier-lab paid_share 0.04 0.05 0.06
      montecarlo sweep my-plan.toml initial_cash 1e7 2e7 5e7 --out cash.csv
    """
    numbers = []
    for text in values:
        try:
            x = float(text.replace("_", ""))
        except ValueError:
            raise click.BadParameter(
                f"expected numbers, got {text!r}", param_hint="VALUES"
            ) from None
        # 1e7 is labelled initial_cash=10000000, not initial_cash=10000000.0
        numbers.append(int(x) if x.is_integer() and abs(x) < 2**53 else x)
    base = _with_horizon(load_scenario(scenario), horizon)
    n = paths or 100_000
    runs = len(numbers)
    _check_work(f"{runs} runs of {n:,} paths", runs * n * base.horizon_months, backend, yes, False)
    _run_comparison(
        lambda: sweep(base, field, numbers, n, seed=seed, backend=backend, progress=progress),
        outs,
    )


def _sobol_outcome(metric: str) -> str:
    """model_sobol's per-path outcome for a --metric: npv_mean -> npv, p_ruined -> ruined."""
    from kernels.layout import PATH_NAMES

    if metric == "p_ruined":
        return "ruined"
    if metric.endswith("_mean") and metric[: -len("_mean")] in PATH_NAMES:
        return metric[: -len("_mean")]
    if metric in (*PATH_NAMES, "ruined"):
        return metric
    raise Failure(
        f"--metric {metric}: sobol decomposes the variance of a per-path outcome: "
        f"{', '.join([*PATH_NAMES, 'ruined'])} (or npv_mean, p_ruined)"
    )


@cli.command("sensitivity", short_help="Which inputs drive an outcome: tornado or Sobol.")
@click.argument("scenario", default=_DEFAULT_PRESET, metavar="[SCENARIO]")
@click.option(
    "--method",
    type=click.Choice(["tornado", "sobol"]),
    default="tornado",
    show_default=True,
    help="tornado: one-at-a-time P10/P90 swings; sobol: variance-based S1 and ST.",
)
@click.option(
    "--metric",
    default="npv_mean",
    show_default=True,
    help=f"tornado: one of {', '.join(sorted(METRICS))}; sobol: a per-path outcome "
    f"(npv, terminal_cash, ..., ruined; npv_mean means npv).",
)
@_shared_options("2e4 per tornado run; 1024 Sobol base points, a power of two")
def sensitivity_cmd(scenario, method, metric, paths, seed, backend, horizon, outs, yes) -> None:
    """Which uncertain inputs drive an outcome: a tornado or Sobol indices.

    The tornado fixes each uncertain input at its 10th and 90th percentiles in
    turn (2 d + 1 runs of --paths paths, common random numbers) and prints the
    swing of the metric with its paired standard error, largest first. Sobol
    runs the model on a Saltelli design of --paths base points (n (d + 2)
    paths) and prints first-order (S1) and total (ST) indices with bootstrap
    intervals.

    \b
    Examples:
      montecarlo sensitivity
      montecarlo sensitivity api-startup --metric p_ruined --paths 5e4
      montecarlo sensitivity frontier-lab --method sobol --paths 2048 --out sobol.csv
    """
    spec = _with_horizon(load_scenario(scenario), horizon)
    outputs = _checked_outputs(outs, TABLE_FORMATS)
    with _warnings_as_lines():
        if method == "tornado":
            if metric not in METRICS:
                raise Failure(
                    f"--metric {metric}: tornado takes one of {', '.join(sorted(METRICS))}"
                )
            n = paths or 20_000
            runs = 2 * len(spec.uncertain_inputs) + 1
            _check_work(
                f"{runs} runs of {n:,} paths", runs * n * spec.horizon_months, backend, yes, False
            )
            ds = tornado(spec, n, metric=metric, seed=seed, backend=backend)
            lines = tornado_lines(ds)
        else:
            outcome = _sobol_outcome(metric)
            if paths is not None and paths & (paths - 1):
                raise Failure(f"--paths {paths}: Sobol base points must be a power of two")
            n = paths or 1024
            points = n * (len(spec.uncertain_inputs) + 2)
            _check_work(
                f"{points:,} model paths", points * spec.horizon_months, backend, yes, False
            )
            ds = model_sobol(spec, n, outcome=outcome, seed=seed, backend=backend)
            lines = sobol_lines(ds)
    click.echo("\n".join(lines))
    table = ds.to_dataframe().reset_index()
    _write_all([(p, lambda p=p: _write_table(ds, table, p, method)) for p in outputs])


#: Exit status of ``optimize`` when no evaluated decision meets the constraints.
INFEASIBLE_EXIT = 3


def _decision(text: str) -> tuple[str, tuple[float, float]]:
    """``--decision FIELD=LOW:HIGH`` as (field, (low, high))."""
    field, sep, bounds = text.partition("=")
    low, colon, high = bounds.partition(":")
    try:
        if not (sep and colon and field.strip()):
            raise ValueError
        return field.strip(), (float(low.replace("_", "")), float(high.replace("_", "")))
    except ValueError:
        raise click.BadParameter(
            f"expected FIELD=LOW:HIGH, e.g. subscription_price=10:60, got {text!r}",
            param_hint="--decision",
        ) from None


def _constraint(text: str) -> tuple[str, tuple[str, float]]:
    """``--constraint "METRIC<=BOUND"`` (or ``>=``) as (metric, (operator, bound))."""
    found = re.fullmatch(r"(.+?)\s*(<=|>=)\s*(\S+)", text.strip())
    try:
        if not found:
            raise ValueError
        return found[1].strip(), (found[2], float(found[3].replace("_", "")))
    except ValueError:
        raise click.BadParameter(
            f"expected METRIC<=BOUND or METRIC>=BOUND, e.g. \"p_ruined<=0.05\", got {text!r}",
            param_hint="--constraint",
        ) from None


def _once(pairs: Sequence[tuple[str, Any]], option: str) -> dict[str, Any]:
    """``pairs`` as a dict; a name given twice is an error, not a silent override."""
    out: dict[str, Any] = {}
    for name, value in pairs:
        if name in out:
            raise click.BadParameter(f"{name!r} is given twice", param_hint=option)
        out[name] = value
    return out


def optimization_lines(ds: xr.Dataset) -> list[str]:
    """The decision, and the objective and constraints in and out of sample."""

    def number(x: float, unit: str) -> str:
        return f"{x:.2%}" if unit == "1" else f"{x:.6g}"

    lines = [
        f"{ds.attrs['sense']} {ds.attrs['objective']} for {ds.attrs['scenario_name']!r}: "
        f"{ds.attrs['n_evaluations']} evaluations of {int(ds.attrs['n_paths']):,} paths "
        f"(seed {ds.attrs['seed']}) in {ds.attrs['wall_time_s']:.1f} s; chosen decision "
        f"re-evaluated on {int(ds.attrs['eval_paths']):,} fresh paths (seed "
        f"{ds.attrs['eval_seed']})",
        *_table(
            ["decision", "value", "low", "high", "units"],
            [[str(k), f"{ds.value.values[i]:.6g}", f"{ds.low.values[i]:g}",
              f"{ds.high.values[i]:g}", str(ds.decision_units.values[i])]
             for i, k in enumerate(ds.decision.values)],
        ),
        "",
    ]  # fmt: skip
    rows = []
    for i, metric in enumerate(ds.metric.values):
        unit = str(ds.units.values[i])
        if ds.role.values[i] == "objective":
            rule, met = ds.attrs["sense"], ""
        else:
            c = ds.sel(constraint=metric)
            rule = f"{c.operator.item()} {number(float(c.bound), unit)}"
            met = (
                "yes, with confidence" if bool(c.met_with_confidence)
                else "at the estimate only" if bool(c.met_at_estimate)
                else "no"
            )  # fmt: skip
        rows.append([
            str(metric), rule, number(float(ds.in_sample.values[i]), unit),
            number(float(ds.estimate.values[i]), unit),
            f"[{number(float(ds.ci_low.values[i]), unit)}, "
            f"{number(float(ds.ci_high.values[i]), unit)}]",
            unit, met,
        ])  # fmt: skip
    lines += _table(
        ["metric", "goal", "in sample", "fresh estimate", "fresh 95% CI", "units", "met"], rows
    )
    return [*lines, "", ds.attrs["status"]]


def optimization_table(ds: xr.Dataset) -> pd.DataFrame:
    """Tidy rows of optimize()'s result for files: the decisions, then the metrics."""
    rows: list[dict[str, Any]] = []
    for i, name in enumerate(ds.decision.values):
        rows.append({"item": "decision", "name": str(name),
                     "units": str(ds.decision_units.values[i]), "value": float(ds.value.values[i]),
                     "low": float(ds.low.values[i]), "high": float(ds.high.values[i])})  # fmt: skip
    for i, metric in enumerate(ds.metric.values):
        row: dict[str, Any] = {
            "item": str(ds.role.values[i]), "name": str(metric), "units": str(ds.units.values[i]),
            "value": float(ds.estimate.values[i]), "se": float(ds.se.values[i]),
            "ci_low": float(ds.ci_low.values[i]), "ci_high": float(ds.ci_high.values[i]),
            "in_sample": float(ds.in_sample.values[i]),
        }  # fmt: skip
        if row["item"] == "constraint":
            c = ds.sel(constraint=metric)
            row |= {"operator": c.operator.item(), "bound": float(c.bound),
                    "met_at_estimate": bool(c.met_at_estimate),
                    "met_with_confidence": bool(c.met_with_confidence)}  # fmt: skip
        rows.append(row)
    return pd.DataFrame(rows)


@cli.command("optimize", short_help="Choose decisions that optimise a metric under risk limits.")
@click.argument("scenario", default=_DEFAULT_PRESET, metavar="[SCENARIO]")
@click.option("--decision", "-d", "decisions", multiple=True, required=True,
              metavar="FIELD=LOW:HIGH", help="An input to choose and its bounds; repeatable.")
@click.option("--objective", default="npv_mean", show_default=True,
              help="Metric to optimise: an alias (npv_mean, p_ruined, npv_cvar95, ...), "
              "OUTCOME:STATISTIC[:PARAMETER] (npv:quantile:0.05) or a summary row.")
@click.option("--maximize/--minimize", default=True, show_default=True)
@click.option("--constraint", "-c", "constraints", multiple=True, metavar="METRIC<=BOUND",
              help='A risk limit, "METRIC<=BOUND" or "METRIC>=BOUND"; repeatable.')
@_shared_options("4096 per evaluation")
@click.option("--eval-paths", type=PATHS, default=None,
              help="Fresh paths of the re-evaluation [default: --paths].")
@click.option("--eval-seed", type=SEED, default=None,
              help="Seed of the re-evaluation [default: derived from --seed].")
@click.option("--method", type=click.Choice(METHODS), default="cobyqa", show_default=True,
              help="The local derivative-free optimiser (scipy).")
@click.option("--max-evaluations", type=PATHS, default=MAX_EVALUATIONS, show_default=True,
              help="Most decisions simulated in the search.")
@click.option("--progress/--no-progress", default=False, show_default=True,
              help="A line per evaluation on standard error.")
def optimize_cmd(scenario, decisions, objective, maximize, constraints, paths, seed, backend,
                 horizon, outs, yes, eval_paths, eval_seed, method, max_evaluations,
                 progress) -> None:  # fmt: skip
    """Choose decisions that maximise (or minimise) a metric subject to risk limits.

    Every decision is simulated on the same paths (common random numbers); the
    search is a Sobol design then a local derivative-free optimiser; the chosen
    decision is re-evaluated on fresh paths, whose estimates and 95% intervals
    are printed beside the search's (optimistic) in-sample figures. Exit status
    3 when no evaluated decision meets the constraints (the least violating one
    is printed and written).

    \b
    Examples:
      montecarlo optimize api-startup -d subscription_price=10:60 -d rent_share=0:1 \\
          -c "p_ruined<=0.05" --paths 2e4
      montecarlo optimize my.toml -d subscription_price=5:40 --minimize \\
          --objective npv_mean -c "p_ruined<=0.03" --out choice.json
    """
    spec = _with_horizon(load_scenario(scenario), horizon)
    parsed = _once([_decision(text) for text in decisions], "--decision")
    limits = _once([_constraint(text) for text in constraints], "--constraint")
    outputs = _checked_outputs(outs, TABLE_FORMATS)
    n = paths or 4096
    fresh = eval_paths or n
    _check_work(
        f"up to {max_evaluations} runs of {n:,} paths and one of {fresh:,}",
        (max_evaluations * n + fresh) * spec.horizon_months, backend, yes, False,
    )  # fmt: skip
    with _warnings_as_lines():
        ds = optimize(
            spec, parsed, objective, maximize=maximize, constraints=limits or None, n_paths=n,
            seed=seed, eval_paths=fresh, eval_seed=eval_seed, method=method,
            max_evaluations=max_evaluations, progress=progress, backend=backend,
        )  # fmt: skip
    click.echo("\n".join(optimization_lines(ds)))
    table = optimization_table(ds)
    _write_all([(p, lambda p=p: _write_table(ds, table, p, "optimization")) for p in outputs])
    if not bool(ds.feasible):
        raise Failure(
            f"no evaluated decision meets every constraint ({', '.join(constraints)}); the "
            f"least violating one is shown",
            exit_code=INFEASIBLE_EXIT,
        )


def benchmarks_dir() -> Path:
    """The benchmarks/ folder of the source tree this package runs from."""
    return Path(__file__).resolve().parent.parent / "benchmarks"


@cli.command("bench", short_help="Run the speed benchmarks of benchmarks/.")
@click.argument("which", type=click.Choice([*BENCHMARKS, "all"]), default="all")
@click.option("--quick", is_flag=True, help="Smoke runs: small sizes, *-quick.json results.")
def bench_cmd(which: str, quick: bool) -> None:
    """Run the speed benchmarks of benchmarks/ (each prints a table and writes JSON).

    The scripts live in the source tree, not in the installed package: run
    this from a checkout installed with `pip install -e .`.

    \b
    Examples:
      montecarlo bench rng
      montecarlo bench all --quick
    """
    folder = benchmarks_dir()
    names = list(BENCHMARKS) if which == "all" else [which]
    scripts = [(name, folder / BENCHMARKS[name][0]) for name in names]
    missing = [str(script) for _, script in scripts if not script.is_file()]
    if missing:
        raise Failure(
            f"no benchmark scripts at {folder} (missing {', '.join(Path(m).name for m in missing)})"
            f": they ship with the source tree, not the installed package; run `montecarlo "
            f"bench` from a checkout installed with `pip install -e .`"
        )
    root = folder.parent
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    for name, script in scripts:
        args = BENCHMARKS[name][1] if quick else []
        click.echo(f"$ python {script.relative_to(root)} {' '.join(args)}".rstrip(), err=True)
        # A fresh process per script: bench_model sets OpenBLAS's threads before numpy loads.
        status = subprocess.call([sys.executable, str(script), *args], cwd=root, env=env)
        if status != 0:
            raise Failure(f"{script.relative_to(root)} failed with status {status}", status)


@cli.command("bench-rng", hidden=True)
@click.option("--normals", type=PATHS, default=16_000_000, help="Normals per timing.")
@click.option("--repeats", type=PATHS, default=5, help="Timings per variant (median).")
@click.option("--json", "json_path", metavar="PATH", help="Also write the results as JSON.")
def bench_rng_cmd(normals: int, repeats: int, json_path: str | None) -> None:
    """Normals per second of the Philox kernels beside numpy's generator
    (what benchmarks/bench_rng.py runs)."""
    from .bench import format_table, rng_benchmark, write_json

    result = rng_benchmark(n_normals=normals, repeats=repeats)
    click.echo(format_table(result))
    if json_path:
        write_json(result, json_path)
        click.echo(f"wrote {json_path}")


def main(argv: list[str] | None = None) -> int:
    """Run the command line on ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    try:
        rv = cli.main(args=argv, prog_name="montecarlo", standalone_mode=False)
    except click.ClickException as err:
        err.show()
        return err.exit_code
    except click.exceptions.Abort:  # Ctrl-C while click itself was busy
        click.echo("montecarlo: interrupted", err=True)
        return 130
    return rv if isinstance(rv, int) else 0


if __name__ == "__main__":
    sys.exit(main())
