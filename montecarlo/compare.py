"""Scenario analysis with common random numbers: ``compare``, ``sweep``, ``break_even_price``,
``financing_effect``.

Every scenario is simulated with the same seed, so path p of each sees the same
random numbers (the streams depend on the seed, the path and the input's
position only). A paired difference, path by path, then cancels the noise the
scenarios share: its standard error is the spread of the per-path differences,
usually far smaller than that of two independent runs, which is reported beside
it (``*_se_independent``) so the gain is visible. ``break_even_price`` solves,
on such common paths, for the price at which mean or median profit is zero.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr
from scipy import optimize

from kernels.layout import FINANCING_INPUTS, N_INPUTS, N_PATH, NEUTRAL_V2
from kernels.rng import check_seed

from . import budget
from .engine import PATH_MEMORY_BUDGET, SimulationError, _as_scenario, _positive_int, simulate
from .risk import Z95
from .risk import mean as risk_mean
from .scenario import FIELDS
from .values import short_repr

#: Per-path outcomes whose paired differences are reported (money-valued).
DIFFERENCED = ("npv", "cumulative_operating_profit", "terminal_cash", "min_cash", "terminal_arr")


def compare(
    scenarios: Mapping[str, Any], n_paths: int, *, seed: int = 0, **simulate_kwargs
) -> xr.Dataset:
    """Simulate several scenarios on common random numbers and difference them.

    Parameters
    ----------
    scenarios : mapping of name to Scenario or preset name
        The first one is the baseline of the differences.
    n_paths, seed, **simulate_kwargs
        As for :func:`montecarlo.simulate` (per-path outcomes are always kept).

    Returns
    -------
    xarray.Dataset
        simulate()'s variables with a leading ``scenario`` dim (the sampled
        ``inputs`` are left out, since scenarios make different inputs
        uncertain), each scenario's TOML in ``scenario_toml``, and for each
        money outcome X in DIFFERENCED: ``X_diff_mean``, ``X_diff_se``,
        ``X_diff_ci_low``, ``X_diff_ci_high`` (paired, against the baseline)
        and ``X_diff_se_independent`` (what two independent runs would give);
        likewise ``p_ruined_diff_*`` for P(ruined by the horizon).
    """
    if not isinstance(scenarios, Mapping) or len(scenarios) < 1:
        raise SimulationError(f"scenarios must be a non-empty mapping of names, got {scenarios!r}")
    resolved = {str(name): _as_scenario(s) for name, s in scenarios.items()}
    horizons = {s.horizon_months for s in resolved.values()}
    if len(horizons) > 1:
        raise SimulationError(
            f"compared scenarios must share horizon_months, got {sorted(horizons)}"
        )
    if "keep_paths" in simulate_kwargs:
        raise SimulationError("compare keeps per-path outcomes itself; do not pass keep_paths")
    # Every run keeps its per-path outcomes (and its inputs until they are dropped): the
    # memory is checked for all of them before the first one starts.
    n_paths = _positive_int("n_paths", n_paths)
    budget.check_compare(n_paths, len(resolved), horizons.pop())
    runs = []
    for s in resolved.values():
        ds = simulate(s, n_paths, seed=seed, keep_paths=True, **simulate_kwargs)
        runs.append(ds.drop_vars(["inputs", "input", "input_unit"], errors="ignore"))
    names = list(resolved)
    tomls = [ds.attrs["scenario"] for ds in runs]
    combined = xr.concat(runs, dim="scenario", combine_attrs="drop_conflicts")
    combined = combined.assign_coords(scenario=names)
    combined["scenario_toml"] = ("scenario", tomls)
    T = int(runs[0].attrs["horizon_months"])
    pairs = bool(simulate_kwargs.get("antithetic", False))
    base = runs[0]
    for name in DIFFERENCED:
        unit = base[name].attrs.get("units", "")
        _paired(combined, name, [ds[name].values for ds in runs], base[name].values, pairs, unit)
    ruined = [(ds.ruin_month.values <= T).astype(np.float64) for ds in runs]
    _paired(combined, "p_ruined", ruined, ruined[0], pairs, "1")
    combined.attrs.update(
        common_random_numbers="yes: every scenario simulated with the same seed and paths",
        baseline=names[0],
    )
    return combined


def without_financing(scenario) -> Any:
    """The scenario with its financing inputs (:data:`FINANCING_INPUTS`) at their neutral
    values and its stresses on them dropped: no tranche and no round, commitments kept."""
    base = _as_scenario(scenario)
    kept = tuple(st for st in base.stresses if st.input not in FINANCING_INPUTS)
    return base.replace(**{k: NEUTRAL_V2[k] for k in FINANCING_INPUTS}, stresses=kept)


def financing_effect(scenario, n_paths: int, *, seed: int = 0, **simulate_kwargs) -> xr.Dataset:
    """:func:`compare` of the scenario without its financing (the baseline) and with it.

    Scenarios ``"without financing"`` (:func:`without_financing`) and ``"with
    financing"``, on common random numbers: ``p_ruined_diff_mean`` of the second is
    how much the tranche and the rounds change P(ruined by the horizon), with its
    paired interval. Arguments as for :func:`compare`.
    """
    base = _as_scenario(scenario)
    runs = {"without financing": without_financing(base), "with financing": base}
    return compare(runs, n_paths, seed=seed, **simulate_kwargs)


def _paired(ds: xr.Dataset, name: str, values, baseline, pairs: bool, unit: str) -> None:
    """Paired differences against the baseline (``pairs``: antithetic runs, whose
    standard errors come from the pair averages)."""
    mean, se, se_indep = [], [], []
    _, se_base, _, _ = risk_mean(baseline, pairs)
    for x in values:
        m, s, _, _ = risk_mean(x - baseline, pairs)
        mean.append(m)
        se.append(s)
        se_indep.append(float(np.hypot(risk_mean(x, pairs)[1], se_base)))
    mean, se = np.array(mean), np.array(se)
    attrs = {"units": unit, "baseline": str(ds.scenario.values[0])}
    ds[f"{name}_diff_mean"] = (
        "scenario",
        mean,
        {**attrs, "long_name": f"mean paired difference of {name}"},
    )
    ds[f"{name}_diff_se"] = ("scenario", se, {**attrs, "long_name": "its standard error"})
    ds[f"{name}_diff_ci_low"] = ("scenario", mean - Z95 * se, {**attrs, "long_name": "95% CI, low"})
    ds[f"{name}_diff_ci_high"] = (
        "scenario",
        mean + Z95 * se,
        {**attrs, "long_name": "95% CI, high"},
    )
    ds[f"{name}_diff_se_independent"] = (
        "scenario",
        np.array(se_indep),
        {**attrs, "long_name": "standard error two independent runs would have"},
    )


def sweep(
    scenario, field: str, values: Sequence[Any], n_paths: int, *, seed: int = 0, **simulate_kwargs
) -> xr.Dataset:
    """``compare`` over ``scenario.replace(field=v)`` for each v; the first value is the baseline.

    The ``scenario`` dim is labelled ``field=value`` and carries the values in a
    ``value`` coordinate (numbers, or the distributions' text).
    """
    base = _as_scenario(scenario)
    values = _sweep_values(field, values)
    variants = {f"{field}={v!r}": base.replace(**{field: v}) for v in values}
    ds = compare(variants, n_paths, seed=seed, **simulate_kwargs)
    numeric = all(isinstance(v, (int, float, np.integer, np.floating)) for v in values)
    labels = np.asarray(values, dtype=np.float64) if numeric else [repr(v) for v in values]
    return ds.assign_coords(value=("scenario", labels)).assign_attrs(swept_field=field)


def _sweep_values(field: str, values: Any) -> list[Any]:
    """``values`` as a list: a list, tuple or 1-D array of distinct values, at least one."""
    if isinstance(values, np.ndarray) and values.ndim == 1:
        values = values.tolist()
    if not isinstance(values, list | tuple):
        raise SimulationError(
            f"sweep: values must be a list of values for {field!r} (a list, tuple or 1-D "
            f"array), got {short_repr(values)} ({type(values).__name__})"
        )
    if len(values) < 1:
        raise SimulationError(f"sweep needs at least one value for {field!r}")
    for i, v in enumerate(values):
        for w in values[:i]:
            same = repr(v) == repr(w)
            try:
                same = same or bool(v == w)
            except (TypeError, ValueError):  # arrays inside distributions compare elementwise
                pass
            if same:
                raise SimulationError(
                    f"sweep: values for {field!r} must be distinct, but {short_repr(v)} appears "
                    f"twice (each value is one scenario of the comparison)"
                )
    return list(values)


# ------------------------------------------------------------------------------------------
# Break-even prices
# ------------------------------------------------------------------------------------------

#: Prices break_even_price solves for. Revenue is R_t = S_t subscription_price +
#: A_t api_price_0 exp(-api_price_decline t dt) / 1e6 and nothing else in the model
#: depends on either price, so every path's money outcomes are affine in each.
BREAK_EVEN_FIELDS = ("subscription_price", "api_price_0")
#: Per-path outcomes that are sums of monthly operating profit or cash flow, hence affine
#: and non-decreasing in those prices (min_cash is not affine: its worst month moves).
BREAK_EVEN_OUTCOMES = ("cumulative_operating_profit", "npv", "terminal_cash")
BREAK_EVEN_STATISTICS = ("mean", "median")
#: Largest departure of a path's outcome at the found price from the straight line through
#: the two runs, relative to the size of its terms (|intercept| + |slope| price). Rounding
#: leaves ~1e-14; a model in which the price moved anything but revenue would fail it.
AFFINE_RTOL = 1e-9
#: Decades above the bracket's upper price that the search widens through before it
#: reports "not reached" (the prices' allowed ranges have no finite maximum).
SEARCH_DECADES = 12


def break_even_price(
    scenario,
    field: str,
    n_paths: int,
    *,
    seed: int = 0,
    statistic: str = "mean",
    outcome: str = "cumulative_operating_profit",
    bracket: tuple[float, float] | None = None,
    xtol: float = 1e-9,
    **simulate_kwargs,
) -> xr.Dataset:
    """The constant price at which the mean (or median) outcome over paths is zero.

    The price ``field`` is set to the same constant p on every path
    (``scenario.replace(field=p)``) and the scenario simulated with the same
    seed for every p, so path p always sees the same random numbers (common
    random numbers). The break-even price is the p at which ``statistic`` over
    paths of ``outcome`` (by default the operating profit summed over the
    horizon) is zero.

    How it is found. Price enters the model only through revenue, so each
    path's outcome is an exactly affine, non-decreasing function of p,
    ``x_i(p) = a_i + b_i p`` (b_i is (1 - revenue_share) times the paid
    user-months, or the API tokens times the price path per unit of
    ``api_price_0`` / 1e6; discounted for ``npv``). Two runs, at the bracket's
    two prices, give every path's intercept a_i and slope b_i. The statistic
    at any price then needs no further model run: ``scipy.optimize.brentq``
    finds its root on these lines (for the mean, this is -mean(a) / mean(b)
    to within ``xtol``; the median is piecewise linear). A third run at the
    root checks the straight lines path by path (relative error
    :data:`AFFINE_RTOL`) and raises ``RuntimeError`` if the model is not
    affine in the price; its statistic is reported as ``statistic_at_estimate``.
    So a call costs three model runs (two when the answer is a run's price,
    e.g. zero), whatever the statistic.

    The search starts at the bracket: if the statistic is already >= 0 at
    price 0, the answer is 0 (status "profitable at zero price"); otherwise
    the upper end is widened tenfold at a time until the statistic is >= 0,
    for at most :data:`SEARCH_DECADES` decades above the bracket's upper
    price; if it never gets there, the estimate is ``inf`` (status "not
    reached": the price has too little purchase on the outcome, e.g. no
    paying users, or revenue_share = 1).

    Error bar by test inversion: the 95 % interval holds the prices p whose
    95 % interval of the statistic at p (:func:`montecarlo.risk.mean`'s
    normal interval, or :func:`montecarlo.risk.quantile`'s order-statistic
    one) contains zero. The statistic's interval bounds rise with p, so the
    interval's low end is the root of the statistic's upper bound and its high
    end the root of its lower bound (found like the estimate, with the same
    lines; ``inf`` when not reached). For the mean this is Fieller's interval
    for the ratio -mean(a) / mean(b).

    Parameters
    ----------
    scenario : Scenario or str
        The scenario, or a preset name. Its own value of ``field`` (a constant
        or a distribution) is replaced by each trial price.
    field : {"subscription_price", "api_price_0"}
        The price to solve for.
    n_paths, seed
        As for :func:`montecarlo.simulate`.
    statistic : {"mean", "median"}
        The statistic over paths that is set to zero.
    outcome : {"cumulative_operating_profit", "npv", "terminal_cash"}
        The per-path outcome.
    bracket : (low, high), optional
        The two prices at which the model is run, 0 <= low < high (default: 0
        and the scenario's own price, its median if it is uncertain, or 1 if
        that is 0). The search starts between them; any bracket gives the same
        answer up to rounding.
    xtol : float
        Absolute tolerance of the roots, in the price's units (brentq adds a
        relative 4 machine epsilons).
    **simulate_kwargs
        Passed to :func:`montecarlo.simulate` (``backend``, ``antithetic``,
        ``chunk_paths``, ``progress``...); not ``keep_paths``, ``precision``
        or ``max_paths``, which would break the pairing of paths.

    Returns
    -------
    xarray.Dataset
        Scalar variables ``estimate``, ``se`` (half the width of the 95 %
        interval / 1.96; the interval need not be symmetric), ``ci_low``,
        ``ci_high`` (in the price's units), ``statistic_at_estimate`` (the
        statistic of the check run, USD; NaN when not reached), ``status`` ("found", "profitable at
        zero price" or "not reached"), ``runs`` (model runs used) and
        ``units``; the settings and the runs' provenance in attrs.
    """
    base = _as_scenario(scenario)
    if field not in BREAK_EVEN_FIELDS:
        raise SimulationError(f"field must be one of {list(BREAK_EVEN_FIELDS)}, got {field!r}")
    if statistic not in BREAK_EVEN_STATISTICS:
        raise SimulationError(
            f"statistic must be one of {list(BREAK_EVEN_STATISTICS)}, got {statistic!r}"
        )
    if outcome not in BREAK_EVEN_OUTCOMES:
        raise SimulationError(
            f"outcome must be one of {list(BREAK_EVEN_OUTCOMES)} (per-path outcomes affine in "
            f"the price), got {outcome!r}"
        )
    n_paths = _positive_int("n_paths", n_paths)
    seed = check_seed(seed)
    if isinstance(xtol, bool) or not isinstance(xtol, (int, float)) or not 0 < xtol < np.inf:
        raise SimulationError(f"xtol must be a finite number > 0, got {xtol!r}")
    for key in ("keep_paths", "precision", "max_paths"):
        if key in simulate_kwargs:
            raise SimulationError(
                f"break_even_price runs every price on the same {n_paths} paths and keeps them "
                f"itself; do not pass {key}"
            )
    size = n_paths * (N_PATH + N_INPUTS) * 8
    if size > PATH_MEMORY_BUDGET:
        raise SimulationError(
            f"break_even_price keeps every path: n_paths={n_paths} needs about "
            f"{size / 2**20:.0f} MiB; use fewer paths"
        )
    low, high = _check_bracket(base, field, bracket)
    start = time.perf_counter()
    cap = min(FIELDS[field].range.high, high * 10.0**SEARCH_DECADES)

    runs: list[xr.Dataset] = []
    prices: list[float] = []

    def run(price: float) -> np.ndarray:
        prices.append(float(price))
        ds = simulate(
            base.replace(**{field: price}), n_paths, seed=seed, keep_paths=True,
            **simulate_kwargs,
        )  # fmt: skip
        runs.append(ds)
        return ds[outcome].values.astype(np.float64)

    x_low, x_high = run(low), run(high)
    slope = (x_high - x_low) / (high - low)
    intercept = x_low - slope * low
    pairs = bool(simulate_kwargs.get("antithetic", False))
    estimate, ci_low, ci_high, status = _break_even_from_lines(
        intercept, slope, statistic, low, high, cap, xtol, pairs
    )

    # Check the straight lines with a run at the answer (unless a run already had it).
    check = {low: x_low, high: x_high}.get(estimate)
    if check is None and np.isfinite(estimate):
        check = run(estimate)
        predicted = intercept + slope * estimate
        scale = np.abs(intercept) + np.abs(slope) * estimate
        excess = np.abs(check - predicted) - AFFINE_RTOL * scale
        if np.any(excess > 0):
            i = int(np.argmax(excess))
            raise RuntimeError(
                f"break_even_price: {outcome} is not affine in {field}: path {i} gives "
                f"{check[i]!r} at {field}={estimate!r}, the straight line through the runs at "
                f"{low!r} and {high!r} {predicted[i]!r}; the model no longer matches the "
                f"assumption that the price moves nothing but revenue"
            )
    at_estimate = np.nan if check is None else _statistic(check, statistic)[0]

    unit = FIELDS[field].unit
    money = runs[0][outcome].attrs.get("units", "USD")
    se = (ci_high - ci_low) / (2 * Z95) if np.isfinite(ci_high - ci_low) else math.inf
    what = {
        "estimate": f"break-even {field}",
        "se": "half-width of the 95% interval / 1.96 (the interval need not be symmetric)",
        "ci_low": "95% interval, low",
        "ci_high": "95% interval, high",
    }
    values = {"estimate": estimate, "se": se, "ci_low": ci_low, "ci_high": ci_high}
    data = {k: ((), v, {"units": unit, "long_name": what[k]}) for k, v in values.items()}
    data["statistic_at_estimate"] = (
        (),
        at_estimate,
        {"units": money, "long_name": f"{statistic} {outcome} of the run at the estimate"},
    )
    data["status"] = ((), status)
    data["runs"] = ((), len(runs), {"long_name": "model runs used"})
    data["units"] = ((), unit)
    provenance = ("montecarlo_version", "backend", "seed", "n_paths", "antithetic",
                  "horizon_months", "model_spec", "rng")  # fmt: skip
    attrs = {
        "title": f"break-even {field} of scenario '{base.name}'",
        "field": field,
        "statistic": statistic,
        "outcome": outcome,
        "confidence": 0.95,
        "run_prices": prices,
        "method": (
            "per-path outcomes affine in the price: intercept and slope from the first two runs, "
            "brentq on the statistic of these lines, checked by a run at the estimate; "
            "interval by inverting the statistic's 95% interval"
        ),
        "common_random_numbers": "yes: every price simulated with the same seed and paths",
        "elapsed_seconds": round(time.perf_counter() - start, 3),
        **{k: runs[0].attrs[k] for k in provenance},
        "scenario_name": base.name,
        "scenario": base.to_toml(),
    }
    return xr.Dataset(data, attrs=attrs)


def _check_bracket(scenario, field: str, bracket) -> tuple[float, float]:
    """The two prices of the model runs: validated ``bracket``, or (0, the scenario's price)."""
    allowed = FIELDS[field].range
    if bracket is None:
        dist = scenario.inputs[field]
        own = float(dist.value if dist.is_constant else dist.ppf(0.5))
        low, high = allowed.low, own if 0 < own < np.inf else 1.0
        return float(max(low, 0.0)), float(high)
    try:
        low, high = (float(v) for v in bracket)
    except (TypeError, ValueError):
        raise SimulationError(f"bracket must be two prices (low, high), got {bracket!r}") from None
    for v in (low, high):
        if not (allowed.contains(v) and np.isfinite(v)):
            raise SimulationError(f"bracket: {field} must be {allowed.describe()}, got {v!r}")
    if not low < high:
        raise SimulationError(f"bracket must have low < high, got {bracket!r}")
    return low, high


def _quantile_ci(x: np.ndarray, q: float) -> tuple[float, float, float]:
    """:func:`risk.quantile`'s estimate and interval bounds, by selection instead of a sort."""
    n = x.size
    half = Z95 * np.sqrt(n * q * (1 - q))
    lo = int(np.clip(np.floor(n * q - half), 0, n - 1))
    hi = int(np.clip(np.ceil(n * q + half), 0, n - 1))
    part = np.partition(x, [lo, hi])
    return float(np.quantile(x, q)), float(part[lo]), float(part[hi])


def _statistic(x: np.ndarray, statistic: str, pairs: bool = False) -> tuple[float, float, float]:
    """(estimate, CI low, CI high) of the statistic of per-path outcomes x (``pairs``:
    antithetic pairs, for the mean's standard error)."""
    if statistic == "mean":
        m, _, lo, hi = risk_mean(x, pairs)
        return m, lo, hi
    return _quantile_ci(x, 0.5)


def _first_root(f, low: float, high: float, cap: float, xtol: float) -> float:
    """Root of a non-decreasing f on [0, cap]: 0 if f(0) >= 0, inf if f(cap) < 0."""
    if f(0.0) >= 0:
        return 0.0
    if f(low) >= 0:
        a, b = 0.0, low
    else:
        a, b = low, high
        while f(b) < 0:
            if b >= cap:
                return math.inf
            a, b = b, min(10.0 * b, cap)
    return float(optimize.brentq(f, a, b, xtol=xtol))


def _break_even_from_lines(
    intercept: np.ndarray,
    slope: np.ndarray,
    statistic: str,
    low: float,
    high: float,
    cap: float,
    xtol: float,
    pairs: bool = False,
) -> tuple[float, float, float, str]:
    """(estimate, CI low, CI high, status) of the break-even price of outcomes a + b p.

    The statistic of ``intercept + slope * p`` over paths, and the bounds of its 95 %
    interval, are non-decreasing in p when every slope is >= 0 (the mean's bounds as long
    as mean(b) > 1.96 se(b)); each is solved for zero on [0, cap].
    """

    def part(k: int):
        return lambda p: _statistic(intercept + slope * p, statistic, pairs)[k]

    estimate = _first_root(part(0), low, high, cap, xtol)
    ci_low = _first_root(part(2), low, high, cap, xtol)
    ci_high = _first_root(part(1), low, high, cap, xtol)
    if estimate == 0.0:
        status = "profitable at zero price"
    elif math.isinf(estimate):
        status = "not reached"
    else:
        status = "found"
    return estimate, ci_low, ci_high, status
