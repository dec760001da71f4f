"""Charts of results for notebooks, in the style of ArviZ: one function, one chart, one Axes.

Each function takes a result (a :func:`montecarlo.simulate` Dataset, or a
tornado, Sobol or compare/sweep Dataset), draws one chart on ``ax`` and returns
that :class:`matplotlib.axes.Axes`. None calls ``plt.show()``. Without ``ax`` a
new figure is made through :mod:`matplotlib.pyplot`, so a notebook displays it;
pyplot is imported only then, which keeps ``import montecarlo`` free of it.
The HTML report (:mod:`montecarlo.report`) draws its charts with these same
functions on :class:`matplotlib.figure.Figure` objects. docs/plots.md shows
every chart.

A result of the wrong kind (``tornado`` given a simulate result, ``fan`` given
a variable without a ``quantile`` dim, a chart of per-path outcomes for a run
that did not keep them) raises :class:`ValueError` saying what is needed.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.colors import to_rgb
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from . import risk

__all__ = [
    "capital_required",
    "comparison",
    "event_months",
    "fan",
    "histogram",
    "npv",
    "optimization",
    "probabilities",
    "rank_correlation",
    "risk_over_time",
    "ruin_by_scenario",
    "sobol",
    "tornado",
]

#: Most inputs shown in a tornado, Sobol or rank-correlation chart (largest effects first).
MAX_INPUTS = 15
BLUE, RED, GREEN, ORANGE, GREY = "#1f5f9e", "#c0392b", "#1e8449", "#d35400", "#7f8c8d"
#: Fan bands run from this (outermost) to that (innermost).
BAND_LIGHT, BAND_DARK = "#dce8f4", "#7ba7d3"
#: The time-to-event outcomes ``event_months`` charts: (title, colour).
EVENTS = {
    "first_profit_month": ("First month with operating profit > 0", GREEN),
    "ruin_month": ("Runway: first month with cash below 0", RED),
}
#: Outcomes ``comparison`` charts: compare()'s paired differences.
COMPARED = (
    "npv", "cumulative_operating_profit", "terminal_cash", "min_cash", "terminal_arr", "p_ruined",
)  # fmt: skip


# --- formatting and checks ------------------------------------------------------------------


def si(x: float) -> str:
    """A number in 3 significant digits with k / m / bn / tn, e.g. ``-12.7 m``."""
    if x is None or not math.isfinite(x):
        return "n/a"
    for scale, suffix in ((1e12, " tn"), (1e9, " bn"), (1e6, " m"), (1e3, " k")):
        if abs(x) >= scale:
            return f"{x / scale:.3g}{suffix}"
    return f"{x:.3g}"


def _money_axis(ax: Axes, axis: str = "y") -> None:
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(FuncFormatter(lambda v, _: si(v)))


def _unit_axis(ax: Axes, axis: str, units: str) -> None:
    """Money in k / m / bn, shares in per cent, anything else as matplotlib writes it."""
    if units.startswith("USD"):
        _money_axis(ax, axis)
    elif units in ("1", "fraction"):
        (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(PercentFormatter(1.0))


def _whiskers(estimate, low, high) -> np.ndarray:
    """Error-bar lengths below and above, never negative: risk.wilson_interval's interval
    of p = 0 starts a rounding error above 0 (about 2e-19), just past its estimate."""
    below = np.nan_to_num(estimate - low, nan=0.0)
    above = np.nan_to_num(high - estimate, nan=0.0)
    return np.clip(np.stack([below, above]), 0.0, None)


def _axes(ax: Axes | None, size: tuple[float, float], where: str) -> Axes:
    """``ax`` itself, or a new Axes on a new pyplot figure (so a notebook shows it)."""
    if ax is None:
        import matplotlib.pyplot as plt  # here, not at import: pyplot picks a GUI backend

        _, ax = plt.subplots(figsize=size, layout="constrained")
        return ax
    if not isinstance(ax, Axes):
        raise TypeError(f"{where}: ax must be a matplotlib Axes or None, got {type(ax).__name__}")
    return ax


def _need(ds: Any, names: tuple[str, ...], what: str, where: str) -> xr.Dataset:
    """``ds`` if it is a Dataset holding ``names``; else an error saying what is needed."""
    if not isinstance(ds, xr.Dataset):
        raise TypeError(f"{where} needs {what} (an xarray.Dataset), got {type(ds).__name__}")
    missing = [n for n in names if n not in ds.variables]
    if missing:
        raise ValueError(
            f"{where} needs {what}; this Dataset lacks {', '.join(map(repr, missing))} "
            f"(it holds {sorted(map(str, ds.data_vars))[:12]})"
        )
    return ds


def _per_path(ds: Any, name: str, where: str) -> np.ndarray:
    _need(ds, (), "a montecarlo.simulate result", where)
    if name not in ds or ds[name].dims != ("path",):
        raise ValueError(
            f"{where} needs the per-path outcome {name!r}, which this result does not hold; "
            f"simulate with keep_paths=True (the default up to the memory budget)"
        )
    return ds[name].values


def band_pairs(levels) -> list[tuple[float, float]]:
    """The quantile levels (q, 1 - q), q < 0.5, that bound a fan's bands, outermost first."""
    levels = [float(q) for q in levels]
    return [
        (q, next(p for p in levels if math.isclose(p, 1 - q)))
        for q in sorted(levels)
        if q < 0.5 and any(math.isclose(p, 1 - q) for p in levels)
    ]


def probability_rows(summary: xr.Dataset) -> list[int]:
    """Rows of a risk summary that are probabilities or shares (units "1", not a median of
    a fraction such as ``median ownership_retained``)."""
    return [
        i
        for i, (metric, units) in enumerate(zip(summary["metric"].values, summary["units"].values,
                                                strict=True))
        if str(units) == "1" and str(metric).startswith(("P(", "share"))
    ]  # fmt: skip


def _order(values: np.ndarray, limit: int) -> np.ndarray:
    """Indices by decreasing |value| (NaN last), at most ``limit``, stable on ties."""
    return np.argsort(-np.abs(np.nan_to_num(values)), kind="stable")[:limit]


# --- charts of one run ----------------------------------------------------------------------


def fan(ds: xr.Dataset, name: str, *, ax: Axes | None = None, title: str | None = None) -> Axes:
    """Fan chart of a monthly variable: bands between its quantiles, median and mean.

    Parameters
    ----------
    ds : xarray.Dataset
        A :func:`montecarlo.simulate` result.
    name : str
        A variable on dims (``quantile``, ``month``): ``cash``, ``operating_profit``,
        ``revenue``, ``cost_per_mtok``, ...
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.
    title : str, optional
        Default the variable's ``long_name``; the units are appended in parentheses.

    Returns
    -------
    matplotlib.axes.Axes
        One band (a ``PolyCollection``, outermost first, each inner one darker) per
        pair of levels q and 1 - q of the ``quantile`` coordinate, the median line
        when 0.5 is a level, and the mean (dashed) when ``<name>_mean`` exists.
    """
    where = "plot.fan"
    _need(ds, (name,), f"a montecarlo.simulate result with the variable {name!r}", where)
    var = ds[name]
    if set(var.dims) != {"quantile", "month"}:
        fans = [str(v) for v in ds.data_vars if set(ds[v].dims) == {"quantile", "month"}]
        raise ValueError(
            f"{where}: {name!r} has dims {var.dims}; a fan needs ('quantile', 'month'), as "
            f"have {fans}"
        )
    ax = _axes(ax, (6.4, 3.5), where)
    units = str(var.attrs.get("units", ""))
    month = ds["month"].values
    pairs = band_pairs(ds["quantile"].values)
    light, dark = np.array(to_rgb(BAND_LIGHT)), np.array(to_rgb(BAND_DARK))
    for i, (lo, hi) in enumerate(pairs):  # outermost first, each inner band drawn darker on top
        shade = i / max(len(pairs) - 1, 1)
        ax.fill_between(
            month,
            var.sel(quantile=lo).values,
            var.sel(quantile=hi).values,
            color=tuple((1 - shade) * light + shade * dark),
            linewidth=0,
            label=f"{100 * lo:g}-{100 * hi:g} % of paths",
        )
    median = [q for q in ds["quantile"].values if math.isclose(q, 0.5)]
    if median:
        ax.plot(month, var.sel(quantile=median[0]).values, color="#123b66", lw=1.8, label="median")
    if f"{name}_mean" in ds:
        ax.plot(month, ds[f"{name}_mean"].values, color=ORANGE, lw=1.2, ls="--", label="mean")
    if float(var.min()) < 0 < float(var.max()):
        ax.axhline(0, color="0.2", lw=0.8)
    title = str(var.attrs.get("long_name", name)) if title is None else str(title)
    ax.set_title(f"{title} ({units})" if units else title, fontsize=10)
    ax.set_xlabel("month", fontsize=8)
    ax.set_ylabel(units, fontsize=8)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    _money_axis(ax)
    ax.legend(
        fontsize=7, loc="upper right" if name == "cost_per_mtok" else "upper left", frameon=False
    )
    return ax


def risk_over_time(ds: xr.Dataset, *, ax: Axes | None = None) -> Axes:
    """P(ruined by month t) and P(operating profit > 0 in month t), with 95 % Wilson bands.

    Parameters
    ----------
    ds : xarray.Dataset
        A :func:`montecarlo.simulate` result (``p_ruined``, ``p_profitable`` and the
        ``n_paths`` attribute).
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        Two lines (ruin in red, profit in green), each over the band of its
        :func:`montecarlo.risk.wilson_interval` on the run's paths.
    """
    where = "plot.risk_over_time"
    _need(ds, ("p_ruined", "p_profitable"), "a montecarlo.simulate result", where)
    if "n_paths" not in ds.attrs:
        raise ValueError(f"{where} needs the run's n_paths attribute for the intervals")
    n = int(ds.attrs["n_paths"])
    ax = _axes(ax, (8.0, 3.4), where)
    month = ds["month"].values
    for name, color, label in (
        ("p_ruined", RED, "P(ruined: cash has gone below 0 by month t)"),
        ("p_profitable", GREEN, "P(operating profit > 0 in month t)"),
    ):
        _probability_line(ax, month, ds[name].values, n, color, label)
    _monthly_share_axes(ax, "share of paths", "Ruin and profitability over time", "best")
    return ax


def _probability_line(ax: Axes, month, p, n: int, color, label: str) -> None:
    """A monthly probability over the band of its Wilson interval on n paths."""
    band = np.array([risk.wilson_interval(float(v), n) for v in p])
    ax.fill_between(month, band[:, 0], band[:, 1], color=color, alpha=0.2, linewidth=0)
    ax.plot(month, p, color=color, lw=1.8, label=label)


def _monthly_share_axes(ax: Axes, ylabel: str, title: str, legend_loc: str) -> None:
    """Axes of probabilities by month: 0-100 %, whole months, a legend."""
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("month", fontsize=8)
    ax.set_ylabel(ylabel, fontsize=8)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc=legend_loc, frameon=False)


def event_months(
    ds: xr.Dataset, event: str = "first_profit_month", *, ax: Axes | None = None
) -> Axes:
    """When an event first happens: the share of paths by month, and a "never" bar.

    One Axes holds one event; the report draws both side by side, calling this
    once per event on two Axes of one figure.

    Parameters
    ----------
    ds : xarray.Dataset
        A :func:`montecarlo.simulate` result that kept its per-path outcomes.
    event : {"first_profit_month", "ruin_month"}
        The first month with an operating profit, or the runway (the first month
        with cash below 0).
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        A bar per month 1..T (share of paths whose event falls in it) and a grey
        bar, ticked "never", for the share in which it does not happen within T;
        the title gives that share.
    """
    where = "plot.event_months"
    if event not in EVENTS:
        raise ValueError(f"{where}: event must be one of {list(EVENTS)}, got {event!r}")
    values = _per_path(ds, event, where).astype(np.int64)
    if "horizon_months" not in ds.attrs:
        raise ValueError(f"{where} needs the run's horizon_months attribute")
    T = int(ds.attrs["horizon_months"])
    title, color = EVENTS[event]
    ax = _axes(ax, (4.8, 3.3), where)
    never = int(ds[event].attrs.get("never", T + 1))
    counts = np.bincount(np.clip(values, 0, never), minlength=never + 1) / values.size
    share_never = float(counts[never])
    ax.bar(np.arange(1, never), counts[1:never], color=color, width=0.85)
    ax.bar([never + 1], [share_never], color=GREY, width=0.85)
    ticks = [int(t) for t in MaxNLocator(integer=True, nbins=6).tick_values(1, T) if 1 <= t <= T]
    ax.set_xticks([*ticks, never + 1], [*map(str, ticks), "never"])
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("month", fontsize=8)
    ax.set_ylabel("share of paths", fontsize=8)
    ax.set_title(f"{title}\nnever within {T} months: {100 * share_never:.1f} %", fontsize=9)
    return ax


def npv(ds: xr.Dataset, *, ax: Axes | None = None, level: float = 0.95) -> Axes:
    """Histogram of the paths' NPV with VaR and CVaR (losses) at ``level`` and the median.

    Parameters
    ----------
    ds : xarray.Dataset
        A :func:`montecarlo.simulate` result that kept its per-path outcomes.
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.
    level : float
        The VaR/CVaR level, in (0, 1).

    Returns
    -------
    matplotlib.axes.Axes
        The histogram over the central 99 % of paths (widened to show the CVaR line;
        the x limits are that window, so ``ax.get_xlim()`` says which paths lie
        outside), vertical lines at -VaR (dashed), -CVaR (solid) and the median
        (dotted), the VaR tail shaded.
    """
    where = "plot.npv"
    if (
        isinstance(level, bool)
        or not isinstance(level, (int, float, np.floating))
        or not (0 < level < 1)
    ):
        raise ValueError(f"{where}: level must be a number in (0, 1), got {level!r}")
    level = float(level)
    values = _per_path(ds, "npv", where)
    units = str(ds["npv"].attrs.get("units", "USD"))
    var = risk.value_at_risk(values, level)[0]
    cvar = risk.expected_shortfall(values, level)[0]
    median = float(np.median(values))
    lo, hi = (float(v) for v in np.quantile(values, [0.005, 0.995]))
    lo = min(lo, -cvar)
    if not hi > lo:
        lo, hi = lo - 1, hi + 1
    ax = _axes(ax, (8.0, 3.6), where)
    pct = f"{100 * level:g} %"
    inside = values[(values >= lo) & (values <= hi)]
    ax.hist(inside, bins=60, range=(lo, hi), color=BLUE, alpha=0.85)
    ax.axvspan(lo, -var, color=RED, alpha=0.08, linewidth=0)
    ax.axvline(-var, color=ORANGE, lw=1.6, ls="--", label=f"VaR {pct}: loss {si(var)}")
    ax.axvline(-cvar, color=RED, lw=1.6, label=f"CVaR {pct}: mean loss {si(cvar)}")
    ax.axvline(median, color="0.15", lw=1.0, ls=":", label=f"median NPV {si(median)}")
    if lo < 0 < hi:
        ax.axvline(0, color="0.2", lw=0.8)
    ax.set_xlim(lo, hi)
    _money_axis(ax, "x")
    ax.set_xlabel(f"net present value ({units})", fontsize=8)
    ax.set_ylabel("paths", fontsize=8)
    ax.set_title("Net present value of the cash flows", fontsize=10)
    ax.legend(fontsize=8, loc="upper right", frameon=False)
    return ax


def capital_required(
    ds: xr.Dataset, *, ax: Axes | None = None, levels: tuple[float, ...] = (0.95, 0.99)
) -> Axes:
    """Capital required by confidence level: the quantiles of the paths' funding gap.

    The funding gap of a path is the extra cash at t = 0 that would have kept its
    cash at or above zero (financing as it happened); its a-quantile is the capital
    that, with confidence a, would have avoided ruin (docs/risk.md).

    Parameters
    ----------
    ds : xarray.Dataset
        A :func:`montecarlo.simulate` result that kept its per-path outcomes.
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.
    levels : tuple of float
        Confidence levels in (0, 1) marked with a dot and their value.

    Returns
    -------
    matplotlib.axes.Axes
        The a-quantile of ``funding_gap`` for a from 0.5 to 0.995 (line) over the band
        of its distribution-free 95 % interval (:func:`montecarlo.risk.quantile`), and
        one dot per level.
    """
    where = "plot.capital_required"
    levels = tuple(levels)
    for a in levels:
        if isinstance(a, bool) or not isinstance(a, (int, float, np.floating)) or not 0 < a < 1:
            raise ValueError(f"{where}: levels must be numbers in (0, 1), got {a!r}")
    gap = _per_path(ds, "funding_gap", where)
    units = str(ds["funding_gap"].attrs.get("units", "USD"))
    grid = np.linspace(0.5, 0.995, 100)
    rows = np.array([risk.quantile(gap, float(a)) for a in grid])
    ax = _axes(ax, (6.4, 3.5), where)
    ax.fill_between(grid, rows[:, 2], rows[:, 3], color=BAND_LIGHT, linewidth=0,
                    label="95 % interval")  # fmt: skip
    ax.plot(grid, rows[:, 0], color=BLUE, lw=1.8, label="quantile of the funding gap")
    for a in levels:
        value = risk.quantile(gap, float(a))[0]
        ax.plot([a], [value], "o", color=RED, ms=5)
        ax.annotate(f"{100 * a:g} %: {si(value)}", (a, value), textcoords="offset points",
                    xytext=(-6, 6), ha="right", fontsize=8)  # fmt: skip
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    _money_axis(ax)
    ax.set_xlabel("confidence level a", fontsize=8)
    ax.set_ylabel(units, fontsize=8)
    ax.set_title(f"Capital required at t = 0 to avoid ruin ({units})", fontsize=10)
    ax.legend(fontsize=7, loc="upper left", frameon=False)
    return ax


def histogram(ds: xr.Dataset, name: str, *, ax: Axes | None = None) -> Axes:
    """Histogram of a per-path outcome (``capital_raised``, ``ownership_retained``, ...).

    Parameters
    ----------
    ds : xarray.Dataset
        A :func:`montecarlo.simulate` result that kept its per-path outcomes.
    name : str
        A per-path outcome on dim ``path``.
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        The histogram (40 bins from the smallest value to the 99.5 % quantile, or to
        the largest when they are equal; the legend counts the paths beyond), a dotted
        line at the median and a dashed one at the mean; the title is the outcome's
        ``long_name``.
    """
    where = "plot.histogram"
    values = _per_path(ds, name, where).astype(np.float64)
    units = str(ds[name].attrs.get("units", ""))
    lo, hi = float(values.min()), float(np.quantile(values, 0.995))
    if not hi > lo:
        hi = float(values.max())
    if not hi > lo:
        lo, hi = lo - 0.5, hi + 0.5
    ax = _axes(ax, (6.4, 3.5), where)
    beyond = int(np.sum(values > hi))
    label = f"{beyond} paths beyond the axis" if beyond else None
    ax.hist(values[values <= hi], bins=40, range=(lo, hi), color=BLUE, alpha=0.85, label=label)
    median, average = float(np.median(values)), float(np.mean(values))
    share = units in ("1", "fraction")
    shown = (lambda v: f"{100 * v:.1f} %") if share else si
    ax.axvline(median, color="0.15", lw=1.0, ls=":", label=f"median {shown(median)}")
    ax.axvline(average, color=ORANGE, lw=1.2, ls="--", label=f"mean {shown(average)}")
    _unit_axis(ax, "x", units)
    meaning = str(ds[name].attrs.get("long_name", name))
    ax.set_xlabel(f"{name} ({units})" if units else name, fontsize=8)
    ax.set_ylabel("paths", fontsize=8)
    ax.set_title(meaning[:1].upper() + meaning[1:], fontsize=9)
    ax.legend(fontsize=8, loc="best", frameon=False)
    return ax


def probabilities(ds: xr.Dataset, *, ax: Axes | None = None) -> Axes:
    """Every probability of the risk summary as a dot with its 95 % interval.

    Parameters
    ----------
    ds : xarray.Dataset
        A :func:`montecarlo.simulate` result (its ``ds.risk.summary()`` is taken),
        or such a summary itself (dim ``metric``).
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        One error bar per probability or share (:func:`probability_rows`), first at the
        top, the metric names as y tick labels.
    """
    where = "plot.probabilities"
    _need(ds, (), "a montecarlo.simulate result or its risk summary", where)
    summary = ds if "metric" in ds.dims else _need(
        ds, ("p_ruined", "p_profitable"), "a montecarlo.simulate result or its risk summary",
        where,
    ).risk.summary()  # fmt: skip
    _need(summary, ("estimate", "ci_low", "ci_high", "units"), "a risk summary", where)
    rows = probability_rows(summary)
    if not rows:
        raise ValueError(f"{where}: the summary holds no probability (no metric in units '1')")
    names = [str(summary["metric"].values[i]) for i in rows]
    est = summary["estimate"].values[rows]
    lo, hi = summary["ci_low"].values[rows], summary["ci_high"].values[rows]
    y = np.arange(len(rows))[::-1]
    ax = _axes(ax, (8.0, 0.9 + 0.3 * len(rows)), where)
    ax.errorbar(est, y, xerr=_whiskers(est, lo, hi), fmt="o", color=BLUE, ms=4, capsize=3)
    ax.set_yticks(y, names, fontsize=8)
    ax.set_xlim(-0.02, 1.02)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("probability (95 % interval)", fontsize=8)
    ax.set_title("Probabilities with their 95 % intervals", fontsize=10)
    return ax


def rank_correlation(ds: xr.Dataset, *, ax: Axes | None = None, outcome: str = "npv") -> Axes:
    """Spearman rank correlation of each uncertain input with a per-path outcome.

    Parameters
    ----------
    ds : xarray.Dataset
        A :func:`montecarlo.simulate` result that kept its per-path outcomes and inputs.
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.
    outcome : str
        The per-path outcome (default ``npv``).

    Returns
    -------
    matplotlib.axes.Axes
        One bar per input (at most :data:`MAX_INPUTS`, strongest first, from the
        top): green positive, red negative, whiskers the 95 % intervals of
        :func:`montecarlo.sensitivity.rank_correlation`.

    Raises
    ------
    ValueError
        Where :func:`montecarlo.sensitivity.rank_correlation` does (no per-path
        inputs, no uncertain input, too few paths).
    """
    from .sensitivity import rank_correlation as correlations

    where = "plot.rank_correlation"
    _per_path(ds, outcome, where)
    rc = correlations(ds, outcomes=[outcome]).sel(outcome=outcome)
    est = rc["estimate"].values
    order = _order(est, MAX_INPUTS)
    names = [str(rc["input"].values[i]) for i in order]
    e = est[order]
    lo, hi = rc["ci_low"].values[order], rc["ci_high"].values[order]
    y = np.arange(len(order))[::-1]
    ax = _axes(ax, (8.0, 1.2 + 0.32 * len(order)), where)
    ax.barh(y, e, color=[GREEN if v > 0 else RED for v in e], height=0.7)
    ax.errorbar(e, y, xerr=_whiskers(e, lo, hi), fmt="none", ecolor="0.2", elinewidth=0.9,
                capsize=2)  # fmt: skip
    ax.axvline(0, color="0.2", lw=0.8)
    reach = float(np.nanmax(np.abs(np.concatenate([lo, hi, [0.1]]))))
    ax.set_xlim(-min(1.0, 1.1 * reach), min(1.0, 1.1 * reach))
    ax.set_yticks(y, names, fontsize=8)
    label = "NPV" if outcome == "npv" else outcome
    ax.set_xlabel(f"Spearman rank correlation with {label} (95 % interval)", fontsize=8)
    ax.set_title(f"Which inputs go with a higher or lower {label}", fontsize=10)
    return ax


# --- charts of sensitivity and comparison results -------------------------------------------


def tornado(result: xr.Dataset, *, ax: Axes | None = None) -> Axes:
    """A tornado: the metric with each input at its low and its high percentile.

    Parameters
    ----------
    result : xarray.Dataset
        A :func:`montecarlo.sensitivity.tornado` result.
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        Per input (at most :data:`MAX_INPUTS`, largest swing at the top) a red bar
        from the baseline to ``metric_low`` and a green one to ``metric_high``; a
        vertical line at the baseline.
    """
    where = "plot.tornado"
    _need(result, ("metric_low", "metric_high", "swing"),
          "a montecarlo.sensitivity.tornado result", where)  # fmt: skip
    attrs = result.attrs
    if "baseline" not in attrs:
        raise ValueError(f"{where} needs the tornado's baseline attribute")
    baseline = float(attrs["baseline"])
    low, high = float(attrs.get("low", 0.1)), float(attrs.get("high", 0.9))
    units = str(attrs.get("metric_units", ""))
    meaning = str(attrs.get("metric_meaning", attrs.get("metric", "metric")))
    order = _order(result["swing"].values, MAX_INPUTS)
    names = [str(result["input"].values[i]) for i in order]
    m_low = result["metric_low"].values[order]
    m_high = result["metric_high"].values[order]
    y = np.arange(len(order))[::-1]
    ax = _axes(ax, (8.0, 1.2 + 0.32 * len(order)), where)
    ax.barh(y, m_low - baseline, left=baseline, color=RED, height=0.7,
            label=f"input at its {100 * low:g}th percentile")  # fmt: skip
    ax.barh(y, m_high - baseline, left=baseline, color=GREEN, height=0.7,
            label=f"input at its {100 * high:g}th percentile")  # fmt: skip
    ax.axvline(baseline, color="0.2", lw=1.0)
    ax.set_yticks(y, names, fontsize=8)
    _unit_axis(ax, "x", units)
    ax.set_xlabel(f"{meaning} ({units}); vertical line: baseline {si(baseline)}", fontsize=8)
    ax.set_title(f"Tornado: swing of {meaning} by input", fontsize=10)
    ax.legend(fontsize=7, loc="lower right", frameon=False)
    return ax


def sobol(result: xr.Dataset, *, ax: Axes | None = None) -> Axes:
    """First-order (S1) and total (ST) Sobol indices per input with their intervals.

    Parameters
    ----------
    result : xarray.Dataset
        A :func:`montecarlo.sensitivity.sobol` or
        :func:`~montecarlo.sensitivity.model_sobol` result.
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        Per input (at most :data:`MAX_INPUTS`, largest ST at the top) two bars,
        S1 above ST, with whiskers from the bootstrap percentile intervals
        (``S1_ci_low`` .. ``S1_ci_high``, ``ST_ci_low`` .. ``ST_ci_high``).
    """
    where = "plot.sobol"
    keys = ("S1", "ST", "S1_ci_low", "S1_ci_high", "ST_ci_low", "ST_ci_high")
    _need(result, keys, "a montecarlo.sensitivity.sobol or model_sobol result", where)
    order = _order(result["ST"].values, MAX_INPUTS)
    names = [str(result["input"].values[i]) for i in order]
    y = np.arange(len(order))[::-1].astype(np.float64)
    ax = _axes(ax, (8.0, 1.2 + 0.45 * len(order)), where)
    height = 0.38
    for key, offset, color, label in (
        ("S1", height / 2, BLUE, "S1, first order"),
        ("ST", -height / 2, ORANGE, "ST, total (interactions included)"),
    ):
        est = result[key].values[order]
        lo, hi = result[f"{key}_ci_low"].values[order], result[f"{key}_ci_high"].values[order]
        ax.barh(y + offset, est, height=height, color=color, label=label)
        ax.errorbar(est, y + offset, xerr=_whiskers(est, lo, hi), fmt="none", ecolor="0.2",
                    elinewidth=0.9, capsize=2)  # fmt: skip
    ax.axvline(0, color="0.2", lw=0.8)
    ax.set_yticks(y, names, fontsize=8)
    confidence = float(result.attrs.get("confidence", 0.95))
    ax.set_xlabel(
        f"Sobol index: share of the output's variance (1), {100 * confidence:g} % bootstrap "
        "interval",
        fontsize=8,
    )
    outcome = result.attrs.get("outcome")
    ax.set_title(f"Sobol indices of {outcome}" if outcome else "Sobol indices", fontsize=10)
    ax.legend(fontsize=8, loc="lower right", frameon=False)
    return ax


def comparison(result: xr.Dataset, *, ax: Axes | None = None, outcome: str = "npv") -> Axes:
    """Paired differences of an outcome against the baseline scenario, with 95 % intervals.

    Parameters
    ----------
    result : xarray.Dataset
        A :func:`montecarlo.compare` or :func:`montecarlo.sweep` result with at
        least two scenarios (the first is the baseline).
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.
    outcome : str
        One of ``npv``, ``cumulative_operating_profit``, ``terminal_cash``,
        ``min_cash``, ``terminal_arr`` (mean differences) or ``p_ruined`` (the
        difference in P(ruined by the horizon)).

    Returns
    -------
    matplotlib.axes.Axes
        One bar per scenario other than the baseline (first at the top) of
        ``<outcome>_diff_mean``, whiskers from ``<outcome>_diff_ci_low`` to
        ``<outcome>_diff_ci_high``; a vertical line at 0 (the baseline).
    """
    where = "plot.comparison"
    if outcome not in COMPARED:
        raise ValueError(f"{where}: outcome must be one of {list(COMPARED)}, got {outcome!r}")
    keys = tuple(f"{outcome}_diff_{k}" for k in ("mean", "ci_low", "ci_high"))
    _need(result, keys, "a montecarlo.compare or sweep result", where)
    if result.sizes.get("scenario", 0) < 2:
        raise ValueError(
            f"{where} needs at least two scenarios (a baseline and one to compare with it), "
            f"got {result.sizes.get('scenario', 0)}"
        )
    names = [str(s) for s in result["scenario"].values[1:]]
    est, lo, hi = (result[k].values[1:] for k in keys)
    baseline = str(result.attrs.get("baseline", result["scenario"].values[0]))
    units = str(result[keys[0]].attrs.get("units", ""))
    y = np.arange(len(names))[::-1]
    ax = _axes(ax, (8.0, 1.3 + 0.35 * len(names)), where)
    ax.barh(y, est, color=[GREEN if v > 0 else RED for v in est], height=0.6)
    ax.errorbar(est, y, xerr=_whiskers(est, lo, hi), fmt="none", ecolor="0.2", elinewidth=0.9,
                capsize=3)  # fmt: skip
    ax.axvline(0, color="0.2", lw=1.0)
    ax.set_yticks(y, names, fontsize=8)
    _unit_axis(ax, "x", units)
    what = "P(ruined by the horizon)" if units == "1" else f"mean {outcome}"
    shown = "probability" if units == "1" else units
    ax.set_xlabel(f"difference in {what} against {baseline!r} ({shown}), 95 % interval",
                  fontsize=8)  # fmt: skip
    ax.set_title(f"Paired differences of {what} (common random numbers)", fontsize=10)
    return ax


def ruin_by_scenario(result: xr.Dataset, *, ax: Axes | None = None) -> Axes:
    """P(ruined by month t) of each scenario of a compare result, with 95 % Wilson bands.

    Parameters
    ----------
    result : xarray.Dataset
        A :func:`montecarlo.compare` result (or ``financing_effect``'s): every
        scenario on the same paths (common random numbers).
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        One line per scenario, labelled with its name, over the band of its
        :func:`montecarlo.risk.wilson_interval` on the run's paths. The bands are
        for each scenario alone; the paired difference (``p_ruined_diff_*``) is
        far more precise.
    """
    where = "plot.ruin_by_scenario"
    _need(result, ("p_ruined",), "a montecarlo.compare result", where)
    if "scenario" not in result["p_ruined"].dims:
        raise ValueError(f"{where} needs a compare result (p_ruined on a scenario dim)")
    if "n_paths" not in result.attrs:
        raise ValueError(f"{where} needs the runs' n_paths attribute for the intervals")
    n = int(result.attrs["n_paths"])
    month = result["month"].values
    ax = _axes(ax, (6.4, 3.5), where)
    colors = (GREY, RED, BLUE, GREEN, ORANGE)
    for i, name in enumerate(result["scenario"].values):
        p = result["p_ruined"].sel(scenario=name).values
        label = f"{name}: {100 * p[-1]:.1f} % by month {month[-1]}"
        _probability_line(ax, month, p, n, colors[i % len(colors)], label)
    _monthly_share_axes(ax, "share of paths ruined by month t",
                        "P(ruined by month t), common random numbers", "upper left")  # fmt: skip
    return ax


def optimization(
    result: xr.Dataset, *, ax: Axes | None = None, x: str | None = None, y: str | None = None
) -> Axes:
    """The search of :func:`montecarlo.optimize`: every evaluated decision and the choice.

    Parameters
    ----------
    result : xarray.Dataset
        A :func:`montecarlo.optimize` result (its trace is on dim ``evaluation``).
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.
    x, y : str, optional
        The decisions on the axes. With one decision (or ``y`` not given and one
        decision), x is that decision and y the objective on the search's paths;
        with two or more, default the first two decisions, and the objective is
        left to the trace.

    Returns
    -------
    matplotlib.axes.Axes
        Two scatters, the evaluations that met every constraint on the search's
        paths (green, label "feasible") and the others (grey crosses,
        "infeasible"), then the chosen decision as an orange star ("chosen").
    """
    where = "plot.optimization"
    keys = ("trace_value", "trace_objective", "trace_feasible", "value", "in_sample")
    _need(result, keys, "a montecarlo.optimize result", where)
    names = [str(n) for n in result["decision"].values]
    units = dict(zip(names, (str(u) for u in result["decision_units"].values), strict=True))
    for label, name in (("x", x), ("y", y)):
        if name is not None and name not in names:
            raise ValueError(f"{where}: {label} must be one of the decisions {names}, got {name!r}")
    if x is None:
        x = next((n for n in names if n != y), names[0])
    if y is None and len(names) > 1:
        y = next(n for n in names if n != x)
    if x == y:
        raise ValueError(f"{where}: x and y must be two different decisions, got {x!r} twice")
    objective = str(result.attrs.get("objective", "objective"))
    feasible = result["trace_feasible"].values.astype(bool)
    xs = result["trace_value"].sel(decision=x).values
    chosen_x = float(result["value"].sel(decision=x))
    if y is None:
        ys = result["trace_objective"].values
        chosen_y = float(result["in_sample"].isel(metric=0))
        y_units = str(result["units"].values[0])
        y_label = f"{objective} on the search's paths ({y_units})"
    else:
        ys = result["trace_value"].sel(decision=y).values
        chosen_y = float(result["value"].sel(decision=y))
        y_units = units[y]
        y_label = f"{y} ({y_units})"
    ax = _axes(ax, (6.4, 4.0), where)
    ax.scatter(xs[feasible], ys[feasible], s=22, color=GREEN, label="feasible", zorder=2)
    ax.scatter(xs[~feasible], ys[~feasible], s=22, color=GREY, marker="x", label="infeasible",
               zorder=2)  # fmt: skip
    ax.scatter([chosen_x], [chosen_y], s=160, color=ORANGE, marker="*", edgecolors="0.2",
               linewidths=0.6, label="chosen", zorder=3)  # fmt: skip
    ax.set_xlabel(f"{x} ({units[x]})", fontsize=8)
    ax.set_ylabel(y_label, fontsize=8)
    _unit_axis(ax, "x", units[x])
    _unit_axis(ax, "y", y_units)
    sense = str(result.attrs.get("sense", ""))
    ax.set_title(f"Search: {sense} {objective}, {len(xs)} evaluations", fontsize=10)
    ax.legend(fontsize=7, frameon=False, loc="best")
    return ax
