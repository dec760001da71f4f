"""Scenario analysis with common random numbers: ``compare`` and ``sweep``.

Every scenario is simulated with the same seed, so path p of each sees the same
random numbers (the streams depend on the seed, the path and the input's
position only). A paired difference, path by path, then cancels the noise the
scenarios share: its standard error is the spread of the per-path differences,
usually far smaller than that of two independent runs, which is reported beside
it (``*_se_independent``) so the gain is visible.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from kernels.layout import N_INPUTS, N_PATH

from .engine import PATH_MEMORY_BUDGET, SimulationError, _as_scenario, simulate
from .risk import Z95

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
    if isinstance(n_paths, (int, np.integer)) and not isinstance(n_paths, bool):
        # Each run keeps its per-path outcomes, and its sampled inputs until they are dropped.
        size = int(n_paths) * len(resolved) * (N_PATH + N_INPUTS) * 8
        if size > PATH_MEMORY_BUDGET:
            raise SimulationError(
                f"compare keeps every path of every scenario: n_paths={n_paths} x "
                f"{len(resolved)} scenarios needs about {size / 2**20:.0f} MiB; use fewer paths"
            )
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
    n = int(runs[0].attrs["n_paths"])
    base = runs[0]
    for name in DIFFERENCED:
        unit = base[name].attrs.get("units", "")
        _paired(combined, name, [ds[name].values for ds in runs], base[name].values, n, unit)
    ruined = [(ds.ruin_month.values <= T).astype(np.float64) for ds in runs]
    _paired(combined, "p_ruined", ruined, ruined[0], n, "1")
    combined.attrs.update(
        common_random_numbers="yes: every scenario simulated with the same seed and paths",
        baseline=names[0],
    )
    return combined


def _paired(ds: xr.Dataset, name: str, values, baseline, n: int, unit: str) -> None:
    mean, se, se_indep = [], [], []
    for x in values:
        d = x - baseline
        mean.append(float(np.mean(d)))
        se.append(float(np.std(d, ddof=1) / np.sqrt(n)) if n > 1 else 0.0)
        var = (np.var(x, ddof=1) + np.var(baseline, ddof=1)) if n > 1 else 0.0
        se_indep.append(float(np.sqrt(var / n)))
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
    if len(values) < 1:
        raise SimulationError(f"sweep needs at least one value for {field!r}")
    variants = {f"{field}={v!r}": base.replace(**{field: v}) for v in values}
    ds = compare(variants, n_paths, seed=seed, **simulate_kwargs)
    numeric = all(isinstance(v, (int, float, np.integer, np.floating)) for v in values)
    labels = np.asarray(values, dtype=np.float64) if numeric else [repr(v) for v in values]
    return ds.assign_coords(value=("scenario", labels)).assign_attrs(swept_field=field)
