"""Decisions optimised under risk limits: ``optimize``.

A decision is a set of scenario inputs the analyst controls (a price, the rented
share of capacity...), each searched within bounds. The objective and the
constraints are risk metrics of a run: any row of ``ds.risk.summary()``, a
short alias, or a statistic of a per-path outcome (see :data:`ALIASES` and
:func:`optimize`).

Sample-average approximation (SAA). Every candidate decision is simulated with
the same seed and number of paths, so path p sees the same random numbers
whatever the decision (common random numbers). Each metric is then a
deterministic function of the decision, which a derivative-free optimiser can
search. The figures at the chosen decision are flattering, though: of all
candidates, the search keeps the one whose paths happened to look best. So the
chosen decision is simulated again on fresh paths (another seed), and the
reported estimates and intervals come from that run only (docs/optimize.md).
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr
from scipy import optimize as sp_optimize

from kernels.layout import PATH_NAMES
from kernels.rng import check_seed

from . import __version__
from . import risk as mc_risk
from .engine import SimulationError, _as_scenario, _positive_int, simulate
from .scenario import FIELDS, ScenarioError
from .sensitivity import _sobol_points
from .values import real, short_repr

#: Short names of common metrics and the summary() row each stands for; ``{T}`` is the
#: horizon. ``<outcome>_mean`` and ``<outcome>_median`` also work for every per-path
#: outcome (``terminal_cash_mean``, ``min_cash_median``...), as in the tornado's metrics.
ALIASES: Mapping[str, str] = {
    "npv_mean": "mean npv",
    "npv_median": "quantile 0.5 npv",
    "npv_q05": "quantile 0.05 npv",
    "npv_var95": "VaR 0.95 npv (loss)",
    "npv_var99": "VaR 0.99 npv (loss)",
    "npv_cvar95": "CVaR 0.95 npv (loss)",
    "npv_cvar99": "CVaR 0.99 npv (loss)",
    "cumulative_operating_profit_mean": "mean cumulative_operating_profit",
    "cumulative_operating_profit_cvar95": "CVaR 0.95 cumulative_operating_profit (loss)",
    "p_ruined": "P(ruined by) month {T}",
    "p_profitable": "P(operating profit > 0) month {T}",
    "p_payback": "P(cash back to its start by) month {T}",
}
#: Statistics of a per-path outcome, written ``outcome:statistic[:parameter]`` or as a
#: tuple ``(outcome, statistic[, parameter])``: the parameter is the level q of a
#: quantile, the level a of a VaR or CVaR (losses: minus the outcome), or the threshold
#: t of a share of paths below or above it.
PATH_STATISTICS = {
    "mean": "mean over paths",
    "median": "median over paths",
    "quantile": "q-quantile over paths, q in (0, 1)",
    "var": "value-at-risk of the loss -outcome at level a in (0, 1)",
    "cvar": "expected shortfall of the loss -outcome at level a in (0, 1)",
    "below": "share of paths with outcome < t",
    "above": "share of paths with outcome > t",
}
_NEEDS_PARAMETER = ("quantile", "var", "cvar", "below", "above")
OPERATORS = ("<=", ">=")
METHODS = ("cobyqa", "cobyla")
#: Default number of evaluations (distinct decisions simulated) in all.
MAX_EVALUATIONS = 60
#: Smallest step of the local search, as a share of each decision's range.
XTOL = 1e-3


class _Budget(Exception):
    """The evaluation budget is spent: ends the local search."""


@dataclass(frozen=True)
class _Metric:
    """A resolved objective or constraint: a summary() row or a per-path statistic."""

    label: str
    row: str | None = None
    outcome: str | None = None
    statistic: str | None = None
    parameter: float | None = None
    #: The objective is this decision's own value (the least cash to raise...): exact.
    decision: str | None = None

    def month(self) -> int | None:
        found = re.search(r" month (\d+)$", self.row or "")
        return int(found[1]) if found else None


def _parameter(stat: str, value: Any, where: str) -> float:
    if isinstance(value, str):  # from the "outcome:statistic:parameter" spelling
        try:
            value = float(value)
        except ValueError:
            pass
    level = stat in ("quantile", "var", "cvar")
    value = real(f"{where}: the {'level' if level else 'threshold'} of {stat}", value)
    if level and not 0 < value < 1:
        raise ValueError(f"{where}: the level of {stat} must lie in (0, 1), got {value}")
    return value


def _path_metric(parts: Sequence[Any], where: str) -> _Metric:
    outcome, stat, *rest = [*parts, None][: max(len(parts), 2)]
    if outcome not in PATH_NAMES:
        raise ValueError(
            f"{where}: unknown per-path outcome {outcome!r}; one of {list(PATH_NAMES)}"
        )
    if stat not in PATH_STATISTICS:
        raise ValueError(
            f"{where}: unknown statistic {stat!r} of {outcome}; one of {list(PATH_STATISTICS)}"
        )
    if stat in _NEEDS_PARAMETER:
        if len(rest) != 1:
            raise ValueError(
                f"{where}: {stat} takes one parameter ({PATH_STATISTICS[stat]}), e.g. "
                f"{outcome}:{stat}:0.05; got {list(parts)!r}"
            )
        value = _parameter(stat, rest[0], where)
        return _Metric(f"{outcome}:{stat}:{value:g}", None, outcome, stat, value)
    if rest:
        raise ValueError(f"{where}: {stat} takes no parameter, got {list(parts)!r}")
    return _Metric(f"{outcome}:{stat}", None, outcome, stat)


def _resolve_metric(spec: Any, rows: Sequence[str], T: int, where: str) -> _Metric:
    """The metric named by ``spec`` (``rows``: the summary rows a run of this scenario has)."""
    if isinstance(spec, (tuple, list)):
        if not 2 <= len(spec) <= 3:
            raise ValueError(
                f"{where}: a per-path statistic is (outcome, statistic[, parameter]), got {spec!r}"
            )
        return _path_metric(list(spec), where)
    if not isinstance(spec, str):
        raise ValueError(
            f"{where} must be a metric name (str) or (outcome, statistic[, parameter]), got "
            f"{spec!r} ({type(spec).__name__})"
        )
    if spec in ALIASES:
        return _Metric(ALIASES[spec].format(T=T), ALIASES[spec].format(T=T))
    for suffix in ("_mean", "_median"):
        if spec.endswith(suffix) and spec[: -len(suffix)] in PATH_NAMES:
            return _path_metric([spec[: -len(suffix)], suffix[1:]], where)
    if ":" in spec:
        return _path_metric(spec.split(":"), where)
    if spec in rows:
        if "(paths reaching it)" in spec:
            # The row exists only where two paths reach the event: a decision could lose it.
            raise ValueError(
                f"{where}: {spec!r} is conditional on paths reaching the event and is missing "
                f"where fewer than two do; use a per-path statistic such as "
                f"payback_month:median"
            )
        return _Metric(spec, spec)
    raise ValueError(
        f"{where}: unknown metric {spec!r}; use an alias ({', '.join(ALIASES)}), "
        f"'<outcome>:<statistic>[:<parameter>]' with an outcome in {list(PATH_NAMES)} and a "
        f"statistic in {list(PATH_STATISTICS)}, or a row of ds.risk.summary() such as "
        f"'P(ruined by) month {T}'"
    )


def _check_decisions(base, decisions) -> tuple[list[str], np.ndarray, np.ndarray]:
    if not isinstance(decisions, Mapping) or not decisions:
        raise ValueError(
            f"decisions must be a non-empty mapping of scenario inputs to (low, high) bounds, "
            f"got {decisions!r}"
        )
    names, lows, highs = [], [], []
    for name, bounds in decisions.items():
        if name not in FIELDS:
            raise ValueError(
                f"decisions: unknown scenario input {name!r}; a decision is one of the inputs "
                f"{sorted(FIELDS)}"
            )
        if not (isinstance(bounds, (tuple, list)) and len(bounds) == 2):
            raise ValueError(
                f"decisions[{name!r}] must be (low, high), two numbers, got {short_repr(bounds)}"
            )
        low, high = (real(f"decisions[{name!r}] {end}", b)
                     for end, b in zip(("low", "high"), bounds, strict=True))  # fmt: skip
        if not low < high:
            raise ValueError(
                f"decisions[{name!r}] must be finite bounds with low < high, got ({low}, {high})"
            )
        allowed = FIELDS[name].range
        for b in (low, high):
            if not allowed.contains(b):
                raise ValueError(
                    f"decisions[{name!r}] = ({low:g}, {high:g}): {name} must be "
                    f"{allowed.describe()}, so {b:g} is not allowed"
                )
        # The field's range is an interval, so the ends and the middle stand for every value;
        # the scenario as a whole (its correlation, stresses) may still refuse a constant.
        for b in (low, 0.5 * (low + high), high):
            try:
                base.replace(**{name: b})
            except ScenarioError as err:
                raise ValueError(
                    f"decisions[{name!r}]: the scenario refuses {name} = {b:g}: {err}"
                ) from None
        names.append(name)
        lows.append(low)
        highs.append(high)
    return names, np.array(lows), np.array(highs)


def _check_constraints(constraints, rows, T) -> list[tuple[_Metric, str, float]]:
    if constraints is None:
        return []
    if not isinstance(constraints, Mapping):
        raise ValueError(
            f"constraints must be a mapping of metric to (operator, bound), e.g. "
            f"{{'p_ruined': ('<=', 0.05)}}, got {constraints!r}"
        )
    out = []
    for spec, rule in constraints.items():
        where = f"constraints[{spec!r}]"
        metric = _resolve_metric(spec, rows, T, where)
        if not (isinstance(rule, (tuple, list)) and len(rule) == 2):
            raise ValueError(f"{where} must be (operator, bound), e.g. ('<=', 0.05), got {rule!r}")
        op, bound = rule
        if op not in OPERATORS:
            raise ValueError(f"{where}: operator must be one of {OPERATORS}, got {op!r}")
        bound = real(f"{where}: the bound", bound)
        if any(metric.label == m.label for m, _, _ in out):
            raise ValueError(f"{where}: {metric.label!r} is constrained twice")
        out.append((metric, op, bound))
    return out


def _derived_seed(seed: int) -> int:
    """A seed for the fresh paths, a fixed function of ``seed`` and different from it."""
    fresh = int(np.random.SeedSequence([seed, 0x0E7A1]).generate_state(1, np.uint64)[0])
    return fresh if fresh != seed else fresh ^ 1


def _values(ds: xr.Dataset, metrics: Sequence[_Metric], months: list[int]) -> np.ndarray:
    """(metric, [estimate, se, ci_low, ci_high]) of one run."""
    out = np.empty((len(metrics), 4))
    summary = None
    pairs = bool(int(ds.attrs.get("antithetic", 0)))
    for i, m in enumerate(metrics):
        if m.row is not None:
            if summary is None:
                summary = ds.risk.summary(months=months)
            row = summary.sel(metric=m.row)
            out[i] = [float(row[k]) for k in ("estimate", "se", "ci_low", "ci_high")]
            continue
        x = np.asarray(ds[m.outcome].values, dtype=np.float64)
        stat, a = m.statistic, m.parameter
        if stat == "mean":
            out[i] = mc_risk.mean(x, pairs)
        elif stat == "median":
            out[i] = mc_risk.quantile(x, 0.5)
        elif stat == "quantile":
            out[i] = mc_risk.quantile(x, a)
        elif stat == "var":
            out[i] = mc_risk.value_at_risk(x, a)
        elif stat == "cvar":
            out[i] = mc_risk.expected_shortfall(x, a)
        else:
            out[i] = mc_risk.share(x < a if stat == "below" else x > a, pairs)
    return out


def _units(ds: xr.Dataset, m: _Metric, summary_units: Mapping[str, str]) -> str:
    if m.row is not None:
        return summary_units[m.row]
    if m.statistic in ("below", "above"):
        return "1"
    return str(ds[m.outcome].attrs.get("units", ""))


def optimize(
    scenario,
    decisions: Mapping[str, tuple[float, float]],
    objective: str | tuple = "npv_mean",
    *,
    maximize: bool = True,
    constraints: Mapping[Any, tuple[str, float]] | None = None,
    n_paths: int = 4096,
    seed: int = 0,
    eval_paths: int | None = None,
    eval_seed: int | None = None,
    method: str = "cobyqa",
    design_points: int | None = None,
    max_evaluations: int = MAX_EVALUATIONS,
    xtol: float = XTOL,
    progress: bool = False,
    **simulate_kwargs,
) -> xr.Dataset:
    """The decision that maximises (or minimises) a risk metric subject to risk limits.

    Parameters
    ----------
    scenario : Scenario or str
        The scenario, or a preset name. Each decision replaces its input by a constant.
    decisions : mapping of str to (low, high)
        The scenario inputs to choose (any of the 56 inputs, e.g.
        ``{"subscription_price": (10, 60), "rent_share": (0, 1)}``), each within
        finite bounds low < high that its allowed range holds.
    objective : str or tuple
        The metric to optimise, or the name of one of the ``decisions``: then the
        decision's own value is the objective (e.g. ``objective="initial_cash"``,
        ``maximize=False``: the least starting cash that meets the constraints), known
        exactly (standard error 0). A metric is an alias of :data:`ALIASES` (``"npv_mean"``,
        ``"p_ruined"`` = P(ruined by the horizon), ``"npv_cvar95"``...); a row of
        ``ds.risk.summary()`` by name (``"P(ruined by) month 24"``,
        ``"CVaR 0.95 npv (loss)"``); or a per-path statistic,
        ``"outcome:statistic[:parameter]"`` or ``(outcome, statistic[, parameter])``
        with a statistic of :data:`PATH_STATISTICS` (``"npv:quantile:0.05"``,
        ``"terminal_cash:below:0"``, ``"min_cash_mean"``).
    maximize : bool
        Maximise the objective (default) or minimise it.
    constraints : mapping of metric to (operator, bound), optional
        Risk limits, e.g. ``{"p_ruined": ("<=", 0.05)}``; metrics as for
        ``objective``, operators ``"<="`` and ``">="``.
    n_paths, seed
        Paths and seed of every run of the search (common random numbers).
    eval_paths, eval_seed
        Paths and seed of the fresh run at the chosen decision (default: ``n_paths``,
        and a seed derived from ``seed``; it must differ from ``seed``).
    method : {"cobyqa", "cobyla"}
        The local derivative-free optimiser of ``scipy.optimize.minimize``.
    design_points : int, optional
        Points of the scrambled Sobol design that starts the search (default: the
        power of two at or above 4 (d + 1), d the number of decisions).
    max_evaluations : int
        Most distinct decisions simulated in the search, the design included.
    xtol : float
        The local search's final step, as a share of each decision's range.
    progress : bool
        Print a line per evaluation to standard error.
    **simulate_kwargs
        Passed to :func:`montecarlo.simulate` (``backend``, ``antithetic``, ``qmc``,
        ``chunk_paths``); not ``keep_paths`` (always kept), ``precision``,
        ``max_paths`` (a run must keep its paths for every decision) or ``inputs``
        (the fresh run must draw fresh inputs).

    Returns
    -------
    xarray.Dataset
        ``decision`` dim (the inputs, with ``low``, ``high`` and ``units`` coordinates):
        ``value``, the chosen decision. ``metric`` dim (the objective first, then the
        constraints, with ``role`` and ``units`` coordinates): ``estimate``, ``se``,
        ``ci_low``, ``ci_high``, from the fresh run (95 % intervals as in
        ``ds.risk.summary()``), and ``in_sample`` and ``in_sample_se``, the search's
        figures at the chosen decision. ``constraint`` dim: ``operator``, ``bound``,
        ``met_in_sample``, ``met_at_estimate`` (the fresh estimate is on the right side
        of the bound) and ``met_with_confidence`` (its whole 95 % interval is).
        ``evaluation`` dim, the trace of the search in order: ``trace_value``
        (evaluation, decision), ``trace_objective``, ``trace_constraint``
        (evaluation, constraint), ``trace_feasible``, ``trace_violation`` (the sum of
        the constraints' violations, each divided by its scale) and ``trace_stage``
        ("design" or "local"). Scalars: ``feasible`` (some evaluated decision meets
        every constraint in sample) and ``constraints_met_with_confidence``. Attrs:
        ``status`` (in words), objective, sense, seeds, paths, method, evaluations,
        wall times and the chosen scenario's TOML (``scenario``).

    Raises
    ------
    ValueError
        (ScenarioError, SimulationError) for bad decisions, metrics, operators,
        bounds, seeds or path counts, before any search.

    Notes
    -----
    The search has two stages. A scrambled Sobol design over the decision box
    (``scipy.stats.qmc``) looks everywhere once: on common random numbers the
    probabilities are step functions of the decision (a path is ruined or not),
    flat almost everywhere, where a local method alone could stall. From the best
    design point (the best feasible one, else the least violating) the local
    optimiser (COBYQA or COBYLA, bounds and constraints, derivative-free) refines.
    Every evaluation is cached and recorded; the chosen decision is the best
    feasible evaluation of either stage. No feasible evaluation: ``feasible`` is
    False, the least violating decision is reported (re-evaluated like any
    other) and ``status`` says so; nothing is raised, so the trace can be read.
    """
    base = _as_scenario(scenario)
    for key in ("keep_paths", "precision", "max_paths", "inputs", "seed"):
        if key in simulate_kwargs:
            raise SimulationError(
                f"optimize runs simulate itself and sets {key}; do not pass {key}="
                f"{simulate_kwargs[key]!r}"
            )
    if not isinstance(maximize, (bool, np.bool_)):
        raise ValueError(f"maximize must be True or False, got {maximize!r}")
    names, low, high = _check_decisions(base, decisions)
    d = len(names)
    n_paths = _positive_int("n_paths", n_paths)
    seed = check_seed(seed)
    eval_paths = n_paths if eval_paths is None else _positive_int("eval_paths", eval_paths)
    eval_seed = _derived_seed(seed) if eval_seed is None else check_seed(eval_seed)
    if eval_seed == seed:
        raise ValueError(
            f"eval_seed must differ from seed ({seed}): the chosen decision is re-evaluated "
            f"on fresh paths"
        )
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if design_points is None:
        design_points = 1 << (4 * (d + 1) - 1).bit_length()
    design_points = _positive_int("design_points", design_points, high=2**16)
    if design_points & (design_points - 1):
        raise ValueError(
            f"design_points must be a power of two (the balance of Sobol points needs one), "
            f"got {design_points}"
        )
    max_evaluations = _positive_int("max_evaluations", max_evaluations, high=10**6)
    if max_evaluations < design_points:
        raise ValueError(
            f"max_evaluations ({max_evaluations}) must be at least design_points "
            f"({design_points})"
        )
    xtol = real("xtol", xtol)
    if not 0 < xtol < 0.5:
        raise ValueError(f"xtol must be a share of each range in (0, 0.5), got {xtol!r}")

    # A small run of the base scenario checks the simulate options and lists the summary
    # rows, so an unknown metric is refused before the search.
    T = base.horizon_months
    probe = simulate(base, 64, seed=seed, keep_paths=True, progress=False, **simulate_kwargs)
    summary = probe.risk.summary(months=range(1, T + 1))
    rows = [str(r) for r in summary.metric.values]
    summary_units = dict(zip(rows, (str(u) for u in summary.units.values), strict=True))
    if isinstance(objective, str) and objective in names:
        goal = _Metric(objective, decision=objective)
    else:
        goal = _resolve_metric(objective, rows, T, "objective")
    limits = _check_constraints(constraints, rows, T)
    metrics = [goal, *(m for m, _, _ in limits)]
    if any(m.label == goal.label for m, _, _ in limits):
        raise ValueError(f"constraints: {goal.label!r} is the objective; constrain other metrics")
    months = sorted({T, *(m.month() for m in metrics if m.month() is not None)})
    units = [
        FIELDS[m.decision].unit if m.decision else _units(probe, m, summary_units)
        for m in metrics
    ]
    sign = -1.0 if maximize else 1.0

    trace: list[dict[str, Any]] = []
    cache: dict[tuple[float, ...], dict[str, Any]] = {}
    scales = np.ones(len(limits))

    simulated = [m for m in metrics if m.decision is None]

    def run(values: np.ndarray, n: int, s: int) -> np.ndarray:
        decision = dict(zip(names, (float(v) for v in values), strict=True))
        chosen = base.replace(**decision)
        ds = simulate(chosen, n, seed=s, keep_paths=True, progress=False, **simulate_kwargs)
        figures = np.empty((len(metrics), 4))
        figures[[i for i, m in enumerate(metrics) if m.decision is None]] = _values(
            ds, simulated, months
        )
        for i, m in enumerate(metrics):
            if m.decision is not None:  # known exactly: no Monte Carlo error
                figures[i] = [decision[m.decision], 0.0, decision[m.decision],
                              decision[m.decision]]  # fmt: skip
        return figures

    def violation(figures: np.ndarray) -> float:
        total = 0.0
        for j, (_, op, bound) in enumerate(limits):
            x = figures[1 + j, 0]
            excess = x - bound if op == "<=" else bound - x
            total += max(excess, 0.0) / scales[j]
        return total

    def evaluate(u: np.ndarray, stage: str) -> dict[str, Any]:
        u = np.clip(np.asarray(u, dtype=np.float64), 0.0, 1.0)
        key = tuple(u.tolist())
        if key in cache:
            return cache[key]
        if len(trace) >= max_evaluations:
            raise _Budget
        values = low + u * (high - low)
        figures = run(values, n_paths, seed)
        record = {"u": u, "value": values, "figures": figures, "stage": stage}
        cache[key] = record
        trace.append(record)
        if progress:
            shown = ", ".join(f"{k}={v:.6g}" for k, v in zip(names, values, strict=True))
            print(
                f"optimize: evaluation {len(trace)}: {shown}: {goal.label} = "
                f"{figures[0, 0]:.6g}",
                file=sys.stderr,
            )
        return record

    started = time.perf_counter()
    for u in _sobol_points(design_points, d, np.random.default_rng(seed)):
        evaluate(u, "design")
    if limits:
        # Scale of each constraint: its bound, or its spread over the design when larger, so
        # violations of metrics in dollars and in probabilities weigh alike.
        spread = np.array([
            np.ptp([r["figures"][1 + j, 0] for r in trace]) for j in range(len(limits))
        ])  # fmt: skip
        bounds_abs = np.array([abs(b) for _, _, b in limits])
        scales = np.maximum(np.maximum(bounds_abs, spread), 1e-12)
    objective_scale = max(
        float(np.ptp([r["figures"][0, 0] for r in trace])),
        1e-9 * max(abs(float(r["figures"][0, 0])) for r in trace),
        1e-300,
    )

    def best() -> dict[str, Any]:
        feasible = [r for r in trace if violation(r["figures"]) == 0.0]
        if feasible:
            return min(feasible, key=lambda r: sign * r["figures"][0, 0])
        return min(trace, key=lambda r: violation(r["figures"]))

    def fun(u):
        return sign * evaluate(u, "local")["figures"][0, 0] / objective_scale

    def slack(u, j: int, op: str, bound: float):
        x = evaluate(u, "local")["figures"][1 + j, 0]
        return ((bound - x) if op == "<=" else (x - bound)) / scales[j]

    cons = [
        sp_optimize.NonlinearConstraint(lambda u, j=j, op=op, b=b: slack(u, j, op, b), 0, np.inf)
        for j, (_, op, b) in enumerate(limits)
    ]
    start = best()["u"]
    radius = 0.5 / design_points ** (1 / d)
    left = max_evaluations - len(trace)
    if left > 0:
        if method == "cobyqa":
            options = {"initial_tr_radius": radius, "final_tr_radius": xtol, "maxfev": left}
        else:
            options = {"rhobeg": radius, "tol": xtol, "maxiter": left}
        try:
            sp_optimize.minimize(
                fun, start, method=method.upper(), bounds=sp_optimize.Bounds(0.0, 1.0),
                constraints=cons, options=options,
            )  # fmt: skip
        except _Budget:
            pass
    search_seconds = time.perf_counter() - started

    chosen = best()
    feasible = violation(chosen["figures"]) == 0.0
    started = time.perf_counter()
    fresh = run(chosen["value"], eval_paths, eval_seed)
    eval_seconds = time.perf_counter() - started
    return _result(
        base, names, low, high, metrics, units, limits, trace, chosen, fresh, feasible,
        violation, goal=goal, maximize=bool(maximize), seed=seed, eval_seed=eval_seed,
        n_paths=n_paths, eval_paths=eval_paths, method=method, design_points=design_points,
        max_evaluations=max_evaluations, search_seconds=search_seconds,
        eval_seconds=eval_seconds, simulate_kwargs=simulate_kwargs,
    )  # fmt: skip


def _result(base, names, low, high, metrics, units, limits, trace, chosen, fresh, feasible,
            violation, *, goal, maximize, seed, eval_seed, n_paths, eval_paths, method,
            design_points, max_evaluations, search_seconds, eval_seconds,
            simulate_kwargs) -> xr.Dataset:  # fmt: skip
    labels = [m.label for m in metrics]
    constraint_labels = labels[1:]
    ops = [op for _, op, _ in limits]
    bounds = np.array([b for _, _, b in limits], dtype=np.float64)
    est, lo, hi = fresh[1:, 0], fresh[1:, 2], fresh[1:, 3]
    in_sample = chosen["figures"][1:, 0]
    below = np.array([op == "<=" for op in ops], dtype=bool)
    met_in_sample = np.where(below, in_sample <= bounds, in_sample >= bounds)
    met_at_estimate = np.where(below, est <= bounds, est >= bounds)
    met_with_confidence = np.where(below, hi <= bounds, lo >= bounds)
    field_units = [FIELDS[k].unit for k in names]
    decision = dict(zip(names, chosen["value"].tolist(), strict=True))
    scenario = base.replace(**decision)
    sense = "maximize" if maximize else "minimize"
    if feasible:
        confident = bool(met_with_confidence.all())
        status = (
            f"feasible: the best of {len(trace)} evaluated decisions meets every constraint "
            f"in sample; on fresh paths "
            + ("every constraint is met with 95% confidence" if confident or not limits
               else "not every constraint is met with 95% confidence (see met_with_confidence)")
        )  # fmt: skip
    else:
        status = (
            f"infeasible: none of the {len(trace)} evaluated decisions meets every constraint "
            f"in sample; the least violating one is reported"
        )
    trace_figures = np.array([r["figures"][:, 0] for r in trace])
    ds = xr.Dataset(
        {
            "value": ("decision", chosen["value"], {"long_name": "the chosen decision"}),
            "estimate": ("metric", fresh[:, 0], {"long_name": "estimate on fresh paths"}),
            "se": ("metric", fresh[:, 1], {"long_name": "its standard error"}),
            "ci_low": ("metric", fresh[:, 2], {"long_name": "95% CI on fresh paths, low"}),
            "ci_high": ("metric", fresh[:, 3], {"long_name": "95% CI on fresh paths, high"}),
            "in_sample": (
                "metric", chosen["figures"][:, 0],
                {"long_name": "estimate on the search's paths (optimistic: it was selected)"},
            ),
            "in_sample_se": (
                "metric", chosen["figures"][:, 1], {"long_name": "its standard error"},
            ),
            "operator": ("constraint", np.array(ops, dtype=str)),
            "bound": ("constraint", bounds),
            "met_in_sample": ("constraint", met_in_sample.astype(bool)),
            "met_at_estimate": ("constraint", met_at_estimate.astype(bool)),
            "met_with_confidence": (
                "constraint", met_with_confidence.astype(bool),
                {"long_name": "the whole 95% interval on fresh paths meets the bound"},
            ),
            "trace_value": (("evaluation", "decision"), np.array([r["value"] for r in trace])),
            "trace_objective": ("evaluation", trace_figures[:, 0], {"long_name": goal.label}),
            "trace_constraint": (("evaluation", "constraint"), trace_figures[:, 1:]),
            "trace_feasible": (
                "evaluation", np.array([violation(r["figures"]) == 0.0 for r in trace]),
            ),
            "trace_violation": (
                "evaluation", np.array([violation(r["figures"]) for r in trace]),
                {"long_name": "sum of the constraints' violations, each over its scale"},
            ),
            "trace_stage": ("evaluation", np.array([r["stage"] for r in trace], dtype=str)),
            "feasible": ((), bool(feasible)),
            "constraints_met_with_confidence": ((), bool(met_with_confidence.all())),
        },
        coords={
            "decision": names,
            "low": ("decision", low),
            "high": ("decision", high),
            "decision_units": ("decision", field_units),
            "metric": labels,
            "role": ("metric", ["objective", *(["constraint"] * len(limits))]),
            "units": ("metric", units),
            "constraint": constraint_labels,
            "evaluation": np.arange(len(trace)),
        },  # fmt: skip
        attrs={
            "title": f"decision optimised for scenario {base.name!r}",
            "montecarlo_version": __version__,
            "status": status,
            "objective": goal.label,
            "sense": sense,
            "seed": str(seed),
            "eval_seed": str(eval_seed),
            "n_paths": n_paths,
            "eval_paths": eval_paths,
            "method": f"scrambled Sobol design of {design_points} points, then scipy "
                      f"{method.upper()} from the best; best feasible evaluation chosen",
            "design_points": design_points,
            "max_evaluations": max_evaluations,
            "n_evaluations": len(trace),
            "wall_time_s": round(search_seconds, 3),
            "eval_wall_time_s": round(eval_seconds, 3),
            "horizon_months": base.horizon_months,
            "scenario_name": base.name,
            "scenario": scenario.to_toml(),
            "common_random_numbers": "yes: every evaluation of the search uses seed and n_paths",
            "simulate_options": ", ".join(f"{k}={v!r}" for k, v in simulate_kwargs.items())
            or "none",
        },
    )
    return ds
