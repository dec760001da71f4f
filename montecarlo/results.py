"""From the engine's streaming reductions to an ``xarray.Dataset``.

Every backend reduces its paths into a :class:`Reductions`; :func:`build_dataset`
turns one into the result the user sees, so the layout, units and provenance
of results never depend on the backend.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from kernels import sketch
from kernels.layout import MONTH_OUTCOMES, MONTHLY_NAMES, PATH_NAMES

from .backends.plan import Reductions
from .scenario import FIELDS

#: Quantile levels reported by default.
DEFAULT_QUANTILES = (0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99)

MONTHLY_META = {
    "users": ("users", "active users U_t"),
    "revenue": ("USD/month", "revenue R_t (subscriptions + API)"),
    "inference_cost": (
        "USD/month",
        "inference compute cost CC_t (rent + depreciation + energy + other)",
    ),
    "gross_margin": ("1", "gross margin GP_t / R_t (floored at -1e6; see docs/model.md)"),
    "operating_profit": ("USD/month", "operating profit OP_t"),
    "cash_flow": ("USD/month", "cash flow CF_t (capex counted, depreciation not)"),
    "cash": ("USD", "cash balance Cash_t"),
    "gpus": ("GPUs", "GPUs provisioned G_t"),
    "cost_per_mtok": ("USD per 1e6 tokens", "inference cost per 1e6 tokens served"),
    "idle_commitment_cost": (
        "USD/month",
        "idle commitment cost IC_t: committed GPU-hours not needed, at the committed price "
        "(part of inference_cost)",
    ),
    "financing": ("USD/month", "financing F_t: the tranche and rounds raised in month t"),
}
PATH_META = {
    "npv": ("USD", "net present value of cash flows, month t discounted by (1 + r)^(t/12)"),
    "cumulative_operating_profit": ("USD", "sum of operating profit over the horizon"),
    "terminal_cash": ("USD", "cash at the horizon"),
    "min_cash": ("USD", "lowest cash balance over months 1..T"),
    "terminal_arr": ("USD/year", "annualised revenue at the horizon, 12 R_T"),
    "first_profit_month": ("month", "first month with operating profit > 0"),
    "payback_month": (
        "month",
        "first month from which initial cash + cumulative cash flow (financing excluded) stays "
        ">= initial cash to the horizon",
    ),
    "ruin_month": ("month", "first month with cash < 0 after financing (the runway)"),
    "capital_raised": ("USD", "financing over the horizon: the tranche and every round"),
    "rounds": ("1", "successful rounds (the tranche not counted)"),
    "ownership_retained": ("1", "stake the holders at t = 0 keep after every round's dilution"),
    "funding_gap": (
        "USD",
        "max(0, -min cash): extra cash at t = 0 that would have kept cash >= 0, financing as "
        "it happened",
    ),
}


#: Attributes of the sampled inputs: each column has its own unit.
INPUTS_ATTRS = {
    "units": "per input: see the input_unit coordinate",
    "long_name": "sampled static inputs (simulate keeps the uncertain ones)",
}


def sketch_quantiles(counts: np.ndarray, quantiles: np.ndarray) -> np.ndarray:
    """Quantiles from sketch counts over the last axis: shape counts.shape[:-1] + (nq,).

    For level q the exact quantile interpolates linearly between order
    statistics k = floor(q (n - 1)) and k + 1 (numpy's default); here each of
    the two is replaced by the midpoint of its bucket, so the result is within
    RELATIVE_ACCURACY of a value between those order statistics (values below
    2**MIN_EXPONENT in magnitude count as 0).
    """
    values = sketch.bucket_values()
    ordered = counts[..., : sketch.INVALID_BUCKET]
    rows = ordered.reshape(-1, ordered.shape[-1])
    out = np.empty((rows.shape[0], quantiles.size))
    for row, counts_row in enumerate(rows):
        # Row by row: one cache-resident cumulative sum at a time, not a whole array of
        # them (which cost 0.16 s of page faults and memory traffic at 60 months).
        c = np.cumsum(counts_row, dtype=np.int64)
        rank = quantiles * (c[-1] - 1)
        lower = np.floor(rank)
        upper = np.minimum(lower + 1, c[-1] - 1)
        # Order statistic k (from 0) lies in the first bucket whose cumulative count exceeds k.
        lo = values[np.searchsorted(c, lower, side="right")]
        hi = values[np.searchsorted(c, upper, side="right")]
        out[row] = lo + (rank - lower) * (hi - lo)
    return out.reshape(ordered.shape[:-1] + (quantiles.size,))


def build_dataset(red: Reductions, *, quantiles, attrs: dict, keep_per_path: bool) -> xr.Dataset:
    """The user-facing Dataset of a run (see :func:`montecarlo.simulate`)."""
    T = red.horizon
    n = red.n_paths
    months = np.arange(1, T + 1)
    q = np.asarray(quantiles, dtype=np.float64)
    invalid = red.counts[..., sketch.INVALID_BUCKET]
    if invalid.any():
        v, t = np.argwhere(invalid)[0]
        raise FloatingPointError(
            f"{int(invalid.sum())} non-finite values of {MONTHLY_NAMES[v]} (first in month "
            f"{t + 1}); the scenario drives the model outside double precision"
        )
    quant = sketch_quantiles(red.counts, q)  # (11, T, nq)
    # Sums beyond double precision come back as inf: report them, do not warn on them.
    with np.errstate(invalid="ignore", over="ignore"):
        mean = red.shift + red.sum_d / n
        if n > 1:
            var = (red.sum_d2 - red.sum_d**2 / n) / (n - 1)
            std = np.sqrt(np.maximum(var, 0.0))
        else:
            std = np.zeros_like(mean)
        bad = ~(np.isfinite(mean) & np.isfinite(std))
    if bad.any():
        v, t = np.argwhere(bad)[0]
        raise FloatingPointError(
            f"the mean or standard deviation of {MONTHLY_NAMES[v]} in month {t + 1} is beyond "
            f"double precision; the scenario drives the model outside its range"
        )
    data_vars = {}
    for i, name in enumerate(MONTHLY_NAMES):
        unit, meaning = MONTHLY_META[name]
        meta = {"units": unit, "long_name": meaning}
        data_vars[name] = (
            ("quantile", "month"),
            quant[i].T,
            {
                **meta,
                "quantile_method": "streaming sketch",
                "relative_accuracy": sketch.RELATIVE_ACCURACY,
            },
        )
        data_vars[f"{name}_mean"] = ("month", mean[i], {**meta, "statistic": "mean"})
        data_vars[f"{name}_std"] = ("month", std[i], {**meta, "statistic": "standard deviation"})
    data_vars["p_profitable"] = (
        "month",
        red.profitable / n,
        {"units": "1", "long_name": "P(operating profit > 0 in month t)"},
    )
    ruined = np.cumsum(red.ruin_counts[1 : T + 1]) / n
    data_vars["p_ruined"] = (
        "month",
        ruined,
        {"units": "1", "long_name": "P(cash has gone below 0 by month t)"},
    )
    # P(IC_t > 0) from the sketch counts (exact: every positive value has its own buckets,
    # above the zero bucket), so the risk summary can tell how often commitments sit idle
    # without per-month paths (docs/risk.md).
    idle = MONTHLY_NAMES.index("idle_commitment_cost")
    positive = red.counts[idle, :, sketch.ZERO_BUCKET + 1 : sketch.INVALID_BUCKET].sum(axis=1)
    data_vars["p_idle_commitment"] = (
        "month",
        positive / n,
        {
            "units": "1",
            "long_name": "P(idle committed GPU-hours in month t): idle_commitment_cost > 0 "
            f"(above 2**{sketch.MIN_EXPONENT} USD)",
        },
    )
    coords = {"month": months, "quantile": q}
    if keep_per_path and red.per_path is not None:
        coords["path"] = np.arange(n)
        data_vars.update(per_path_vars(red.per_path, T))
        if red.inputs is not None:
            coords["input"] = list(red.input_names)
            coords["input_unit"] = ("input", [FIELDS[name].unit for name in red.input_names])
            data_vars["inputs"] = (("path", "input"), red.inputs, INPUTS_ATTRS)
    ds = xr.Dataset(data_vars, coords=coords, attrs=attrs)
    ds["month"].attrs.update(units="month", long_name="month t = 1..T after the start")
    ds["quantile"].attrs.update(long_name="quantile level")
    return ds


def per_path_vars(per_path: np.ndarray, horizon: int) -> dict:
    """The per-path outcomes as Dataset variables on ``path``.

    Raises
    ------
    FloatingPointError
        If any outcome is not finite on some path (the check the monthly sums have in
        :func:`build_dataset`): a result never holds NaN or inf.
    """
    bad = ~np.isfinite(per_path)
    if bad.any():
        path, j = (int(k) for k in np.argwhere(bad)[0])
        count = int(bad[:, j].sum())
        raise FloatingPointError(
            f"{PATH_NAMES[j]} is not finite on {count} of {per_path.shape[0]} paths (the "
            f"first, path {path}: {per_path[path, j]!r}); the scenario drives the model "
            f"outside double precision"
        )
    out = {}
    for j, name in enumerate(PATH_NAMES):
        unit, meaning = PATH_META[name]
        attrs = {"units": unit, "long_name": meaning}
        values = per_path[:, j]
        if name == "rounds":
            values = values.astype(np.int32)
        if name in MONTH_OUTCOMES:
            values = values.astype(np.int32)
            attrs["never"] = horizon + 1
            attrs["never_meaning"] = "the event does not happen within the horizon"
        out[name] = ("path", values, attrs)
    return out
