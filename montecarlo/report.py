"""The HTML report: one self-contained page of charts and tables for a simulate() result.

Charts are drawn by :mod:`montecarlo.plot`'s functions (no second copy of
any chart here) on :class:`matplotlib.figure.Figure` objects (no pyplot, no
GUI backend) and embedded as base64 PNG ``data:`` URIs; styles are inline
and fonts are the reader's own, so the page loads nothing and views offline.
Its Content-Security-Policy forbids loading anything but those embedded
images. Every piece of text from the Dataset is escaped.
What each chart shows and how to read it: docs/exports.md.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import math
import os
from pathlib import Path

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from kernels.layout import FINANCING_INPUTS, INPUT_INDEX

from . import plot, risk
from .budget import BudgetError
from .compare import financing_effect
from .engine import SimulationError
from .export import atomic_path

#: Fan charts: (variable, title).
FANS = (
    ("cash", "Cash balance"),
    ("operating_profit", "Operating profit per month"),
    ("revenue", "Revenue per month"),
    ("cost_per_mtok", "Inference cost per 1e6 tokens served"),
)
DPI = 100
#: Most paths of each of the two runs behind "P(ruin) with and without financing": the
#: report's own run may be far larger, and common random numbers make the paired
#: difference precise with fewer.
FINANCING_PATHS = 100_000
_NO_PATHS = (
    "This result holds no per-path outcomes (it was simulated with keep_paths=False, or "
    "had too many paths to keep them), so this chart is left out. Rerun with "
    "keep_paths=True to see it."
)


# --- formatting ----------------------------------------------------------------------------


def _e(text) -> str:
    return html.escape(str(text), quote=True)


_si = plot.si


def _value(x: float, units: str) -> str:
    """A value for a reader: probabilities in per cent, months as is, money with k/m/bn."""
    if x is None or not math.isfinite(x):
        return "n/a"
    if units == "1":
        digits = 2 if 0 < abs(x) < 0.01 else 1
        return f"{100 * x:.{digits}f} %"
    if units == "month":
        return f"{x:.3g}"
    return _si(x)


# --- figures -------------------------------------------------------------------------------


def _figure(width: float, height: float, ncols: int = 1) -> tuple[Figure, list]:
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    axes = fig.subplots(1, ncols, squeeze=False)[0]
    for ax in axes:
        ax.grid(True, color="0.9", linewidth=0.6)
        ax.set_axisbelow(True)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        ax.tick_params(labelsize=8)
    return fig, list(axes)


def _img(fig: Figure, alt: str, caption: str = "") -> str:
    """The figure as an <img> with a base64 PNG data URI, inside a <figure>."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    width, height = (round(v * DPI) for v in fig.get_size_inches())
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    cap = f"<figcaption>{caption}</figcaption>" if caption else ""
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{_e(alt)}" '
        f'width="{width}" height="{height}">{cap}</figure>'
    )


def _fan(ds: xr.Dataset, name: str, title: str) -> str:
    fig, (ax,) = _figure(6.4, 3.5)
    plot.fan(ds, name, ax=ax, title=title)
    pairs = plot.band_pairs(ds["quantile"].values)
    widths = ", ".join(f"{100 * (hi - lo):g}" for lo, hi in pairs)
    bands = (
        f"the bands hold the central {widths} % of paths each month (darker: nearer the middle)"
        if pairs
        else "no bands (the run's quantile levels hold no pairs q, 1 - q)"
    )
    return _img(
        fig,
        f"fan chart of {name}",
        f"{_e(title)}: {bands}; the solid line is the median, the dashes the mean.",
    )


def _risk_over_time(ds: xr.Dataset) -> str:
    fig, (ax,) = _figure(8.0, 3.4)
    plot.risk_over_time(ds, ax=ax)
    return _img(
        fig,
        "ruin probability and probability of an operating profit by month",
        "Red: the share of paths that have run out of cash by each month (it only rises). "
        "Green: the share of paths with an operating profit in that month. Shaded: 95 % "
        "intervals (Wilson) for the Monte Carlo error.",
    )


def _timing(ds: xr.Dataset) -> str:
    T = int(ds.attrs["horizon_months"])
    fig, axes = _figure(9.6, 3.3, ncols=2)
    shares = []
    for ax, event in zip(axes, ("first_profit_month", "ruin_month"), strict=True):
        plot.event_months(ds, event, ax=ax)
        shares.append(float(np.mean(ds[event].values > T)))
    return _img(
        fig,
        "distribution of the first profitable month and of the runway",
        f"Left: in which month paths first make an operating profit "
        f"({100 * shares[0]:.1f} % never do within {T} months, grey bar). Right: in which month "
        f"paths run out of cash ({100 * shares[1]:.1f} % never do, grey bar).",
    )


def _npv(ds: xr.Dataset) -> str:
    npv = ds["npv"].values
    units = str(ds["npv"].attrs.get("units", "USD"))
    var95 = risk.value_at_risk(npv, 0.95)[0]
    fig, (ax,) = _figure(8.0, 3.6)
    plot.npv(ds, ax=ax, level=0.95)
    lo, hi = ax.get_xlim()  # the chart's window: the central 99 % of paths and the CVaR line
    outside = int(np.sum((npv < lo) | (npv > hi)))
    return _img(
        fig,
        "histogram of net present value with VaR and CVaR at 95 %",
        f"How many paths end with each NPV. The dashed line (VaR 95 %) cuts off the worst 5 % "
        f"of paths (shaded): 95 % of paths lose less than {_e(_si(var95))} {_e(units)}. The solid "
        f"line (CVaR 95 %) is the average of those worst 5 %. The axis shows the central 99 % of "
        f"paths; {outside} paths lie beyond it.",
    )


def _tornado(tornado: xr.Dataset) -> str:
    attrs = tornado.attrs
    low, high = float(attrs.get("low", 0.1)), float(attrs.get("high", 0.9))
    meaning = str(attrs.get("metric_meaning", attrs.get("metric", "metric")))
    shown = min(tornado.sizes["input"], plot.MAX_INPUTS)
    fig, (ax,) = _figure(8.0, 1.2 + 0.32 * shown)
    plot.tornado(tornado, ax=ax)
    return _img(
        fig,
        f"tornado chart of {meaning}",
        f"Tornado ({_e(attrs.get('n_paths', '?'))} paths per run, common random numbers): each "
        f"bar shows how far {_e(meaning)} moves when one input is fixed at its "
        f"{100 * low:g}th (red) or {100 * high:g}th (green) percentile, all other inputs keeping "
        f"their distributions. Longest bars: the inputs that matter most.",
    )


def _tornado_table(tornado: xr.Dataset) -> str:
    units = str(tornado.attrs.get("metric_units", ""))
    unit_of = (
        tornado["input_unit"].values
        if "input_unit" in tornado.coords
        else [""] * tornado.sizes["input"]
    )
    rows = []
    for i, name in enumerate(tornado["input"].values):
        se = float(tornado["swing_se"].values[i])
        swing = _si(float(tornado["swing"].values[i]))
        if math.isfinite(se):
            swing += f" ± {_si(1.96 * se)}"
        rows.append(
            f"<tr><td><code>{_e(name)}</code></td>"
            f"<td>{_e(_si(float(tornado['low_value'].values[i])))} .. "
            f"{_e(_si(float(tornado['high_value'].values[i])))} {_e(unit_of[i])}</td>"
            f"<td class=num>{_e(_si(float(tornado['metric_low'].values[i])))}</td>"
            f"<td class=num>{_e(_si(float(tornado['metric_high'].values[i])))}</td>"
            f"<td class=num>{_e(swing)}</td></tr>"
        )
    return (
        "<details><summary>Tornado table</summary><table><thead><tr><th>input</th>"
        "<th>input range (low .. high percentile)</th>"
        f"<th>metric, input low ({_e(units)})</th><th>metric, input high</th>"
        "<th>swing ± 95 % interval</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></details>"
    )


def _rank_correlation(ds: xr.Dataset) -> str:
    fig, (ax,) = _figure(8.0, 3.0)
    try:
        plot.rank_correlation(ds, ax=ax, outcome="npv")
    except ValueError as err:  # no uncertain input, too few paths
        return f'<p class="note">No sensitivity chart: {_e(err)}</p>'
    fig.set_size_inches(8.0, 1.2 + 0.32 * len(ax.get_yticks()))  # one row per input drawn
    return _img(
        fig,
        "rank correlations of the inputs with NPV",
        "Rank correlation (Spearman) of each uncertain input with NPV over this run's paths, "
        "not a tornado (no input was swung; pass a sensitivity.tornado result for one): "
        "green, paths with a higher value of the input tend to have a higher NPV; red, a "
        "lower one. Near 0: no steady relation. Whiskers: 95 % intervals.",
    )


def _summary_chart(summary: xr.Dataset) -> str:
    rows = len(plot.probability_rows(summary))
    if not rows:
        return ""
    fig, (ax,) = _figure(8.0, 0.9 + 0.3 * rows)
    plot.probabilities(summary, ax=ax)
    return _img(
        fig,
        "probabilities of the risk summary with 95 % intervals",
        "Each dot is a probability from the table below; the whiskers are its 95 % interval "
        "(the range an infinitely long run would fall in, 19 times out of 20).",
    )


# --- tables and text -----------------------------------------------------------------------


def _summary_table(summary: xr.Dataset) -> str:
    rows = []
    for i, metric in enumerate(summary["metric"].values):
        units = str(summary["units"].values[i])
        est, se = float(summary["estimate"].values[i]), float(summary["se"].values[i])
        lo, hi = float(summary["ci_low"].values[i]), float(summary["ci_high"].values[i])
        shown = "" if units in ("1", "month") else units
        rows.append(
            f"<tr><td>{_e(metric)}</td><td class=num>{_e(_value(est, units))}</td>"
            f"<td class=num>{_e(_value(lo, units))} .. {_e(_value(hi, units))}</td>"
            f"<td class=num>{_e(_value(se, units))}</td><td>{_e(shown)}</td>"
            f"<td class=small>{_e(summary['se_method'].values[i])}</td></tr>"
        )
    return (
        "<table><thead><tr><th>metric</th><th>estimate</th><th>95 % interval</th>"
        "<th>standard error</th><th>units</th><th>the standard error assumes</th></tr></thead>"
        "<tbody>" + "".join(rows) + "</tbody></table>"
    )


def _key_figures(ds: xr.Dataset, summary: xr.Dataset) -> str:
    T = int(ds.attrs["horizon_months"])
    return _cards(
        summary,
        [
            (f"P(operating profit > 0) month {T}", f"operating profit in month {T}"),
            (f"P(ruined by) month {T}", f"out of cash by month {T}"),
            ("share never: first_profit_month", f"never profitable within {T} months"),
            ("quantile 0.5 npv", "median NPV"),
            ("VaR 0.95 npv (loss)", "VaR 95 % of NPV (loss)"),
            ("CVaR 0.95 npv (loss)", "CVaR 95 % of NPV (loss)"),
        ],
    )


def _cards(summary: xr.Dataset, wanted: list[tuple[str, str]]) -> str:
    """A card (estimate, label, 95 % interval) for each (metric, label) the summary holds."""
    metrics = [str(m) for m in summary["metric"].values]
    cards = []
    for metric, label in wanted:
        if metric not in metrics:
            continue
        i = metrics.index(metric)
        units = str(summary["units"].values[i])
        shown = "" if units in ("1", "month") else f" {units}"
        lo, hi = float(summary["ci_low"].values[i]), float(summary["ci_high"].values[i])
        cards.append(
            f'<div class="card"><div class="big">'
            f"{_e(_value(float(summary['estimate'].values[i]), units))}{_e(shown)}</div>"
            f"<div>{_e(label)}</div><div class=small>95 % interval "
            f"{_e(_value(lo, units))} .. {_e(_value(hi, units))}</div></div>"
        )
    return '<div class="cards">' + "".join(cards) + "</div>"


def _can_be_positive(scenario, name: str) -> bool:
    """Whether input ``name`` can exceed 0 on some path in some month, stresses included."""
    low, high = (float(v) for v in scenario.inputs[name].support)
    mul, add, _ = scenario.stress_tables()
    i = INPUT_INDEX[name]
    with np.errstate(invalid="ignore"):  # an infinite bound times a zero multiplier
        most = np.fmax(low * mul[1:, i], high * mul[1:, i]) + add[1:, i]
    return bool(np.any(most > 0))


def _v2_parts(scenario) -> tuple[bool, bool, bool]:
    """(commitments, a tranche, rounds): what of spec v2 can happen in the scenario."""

    def can(*names: str) -> bool:
        return all(_can_be_positive(scenario, n) for n in names)

    return (
        can("commitment_share", "commitment_months"),
        can("tranche_amount", "tranche_month", "tranche_probability"),
        can("raise_trigger_months", "raise_success_probability"),
    )


def _ruin_with_and_without(ds: xr.Dataset, scenario) -> str:
    """P(ruin) without and with the financing inputs, on common random numbers."""
    try:
        seed = int(str(ds.attrs.get("seed")))
    except ValueError:
        return (
            '<p class="note">No comparison of P(ruin) with and without financing: the result '
            "does not record an integer seed to run it on.</p>"
        )
    n = min(int(ds.attrs["n_paths"]), FINANCING_PATHS)
    backend = str(ds.attrs.get("backend"))
    backend = backend if backend in ("numba", "numpy") else "numba"
    antithetic = bool(int(ds.attrs.get("antithetic", 0)))
    try:
        result = financing_effect(scenario, n, seed=seed, backend=backend, antithetic=antithetic,
                                  progress=False)  # fmt: skip
    except (SimulationError, BudgetError, FloatingPointError) as err:
        return f'<p class="note">No comparison of P(ruin) with and without financing: {_e(err)}</p>'
    T = int(result.attrs["horizon_months"])
    without, with_ = (float(v) for v in result["p_ruined"].sel(month=T).values)
    diff = float(result["p_ruined_diff_mean"].values[1])
    lo, hi = (float(result[f"p_ruined_diff_ci_{k}"].values[1]) for k in ("low", "high"))
    indep = float(result["p_ruined_diff_se_independent"].values[1])
    fig, (ax,) = _figure(6.4, 3.5)
    plot.ruin_by_scenario(result, ax=ax)
    inputs = ", ".join(FINANCING_INPUTS)
    return _img(
        fig,
        "P(ruined by month t) with and without financing",
        f"Two runs of {n:,} paths, seed {seed}, on common random numbers (path p sees the same "
        f"random numbers in both): the scenario as it is, and without financing ({_e(inputs)} "
        f"at their neutral values, stresses on them dropped; commitments kept). P(ruined by "
        f"month {T}): {_e(_value(without, '1'))} without, {_e(_value(with_, '1'))} with; "
        f"paired difference {_e(_value(diff, '1'))} (95 % interval {_e(_value(lo, '1'))} .. "
        f"{_e(_value(hi, '1'))}; two independent runs would give ± "
        f"{_e(_value(risk.Z95 * indep, '1'))}). Bands: each run's own 95 % interval.",
    )


def _financing(ds: xr.Dataset, summary: xr.Dataset, per_path: bool) -> str:
    from .scenario import Scenario, ScenarioError

    try:
        scenario = Scenario.from_toml(str(ds.attrs.get("scenario", "")))
    except ScenarioError:
        return (
            '<p class="note">The Dataset does not record a readable scenario, so this section '
            "cannot tell what financing and commitments it has.</p>"
        )
    commitments, tranche, rounds = _v2_parts(scenario)
    if not (commitments or tranche or rounds):
        return (
            "<p>This scenario raises no money (no tranche, no round) and commits to no compute "
            "(their inputs are at their neutral values; docs/model.md), so there is nothing to "
            "chart here. Capital required, the cash that would have avoided ruin, is in the risk "
            "summary.</p>"
        )
    wanted = [
        ("capital required 0.95", "capital required, 95 % confidence"),
        ("capital required 0.99", "capital required, 99 % confidence"),
    ]
    if tranche or rounds:
        wanted.append(("mean capital_raised", "mean capital raised"))
    if rounds:
        wanted.append(("P(at least one round)", "raise at least one round"))
        wanted.append(("median ownership_retained", "median ownership retained"))
    if commitments:
        idle = "share of months with idle committed capacity"
        wanted.append((idle, "months with idle committed compute"))
    cards = _cards(summary, wanted)
    has = []
    if tranche:
        has.append("a financing tranche")
    if rounds:
        has.append("rounds raised when the runway gets short")
    if commitments:
        has.append("take-or-pay compute commitments")
    lead = (
        f"<p>This scenario has {_e('; '.join(has))}. Capital required at a confidence a is the "
        "a-quantile of the funding gap: with confidence a, that much more cash at t = 0 would "
        "have kept cash above zero (financing as it happened; docs/risk.md).</p>"
    )
    charts = []
    if per_path:
        fig, (ax,) = _figure(6.4, 3.5)
        plot.capital_required(ds, ax=ax)
        charts.append(
            _img(
                fig,
                "capital required by confidence level",
                "The extra cash at t = 0 that would have avoided ruin, by confidence level "
                "(the quantiles of the paths' funding gap); band: its 95 % interval.",
            )
        )
        if tranche or rounds:
            fig, (ax,) = _figure(6.4, 3.5)
            plot.histogram(ds, "capital_raised", ax=ax)
            none = float(np.mean(ds["capital_raised"].values == 0))
            charts.append(
                _img(
                    fig,
                    "distribution of capital raised",
                    f"Capital raised over the horizon (the tranche and every round) across "
                    f"paths; {100 * none:.1f} % of paths raise nothing.",
                )
            )
        if rounds:
            fig, (ax,) = _figure(6.4, 3.5)
            plot.histogram(ds, "ownership_retained", ax=ax)
            charts.append(
                _img(
                    fig,
                    "distribution of ownership retained",
                    "The stake the holders at t = 0 keep after every round's dilution (100 %: "
                    "no round).",
                )
            )
    if commitments:
        charts.append(_fan(ds, "idle_commitment_cost", "Idle commitment cost per month"))
    if tranche or rounds:
        charts.append(_ruin_with_and_without(ds, scenario))
    missing = "" if per_path else f'<p class="note">{_e(_NO_PATHS)}</p>'
    return cards + lead + missing + '<div class="grid">' + "".join(charts) + "</div>"


def _scenario(ds: xr.Dataset) -> str:
    from .scenario import Scenario, ScenarioError

    text = ds.attrs.get("scenario")
    if not text:
        return '<p class="note">The Dataset does not record its scenario.</p>'
    try:
        scenario = Scenario.from_toml(str(text))
    except ScenarioError as err:
        return f'<p class="note">The recorded scenario could not be read: {_e(err)}</p>'
    uncertain = set(scenario.uncertain_inputs)
    rows = []
    for name, row in scenario.describe().iterrows():
        cls = ' class="uncertain"' if name in uncertain else ""
        rows.append(
            f"<tr{cls}><td><code>{_e(name)}</code></td><td>{_e(row['value'])}</td>"
            f"<td>{_e(row['unit'])}</td><td>{_e(row['meaning'])}</td></tr>"
        )
    extra = []
    if scenario.stresses:
        items = "".join(f"<li>{_e(st.describe())}</li>" for st in scenario.stresses)
        extra.append(f"<p>Stress tests applied:</p><ul>{items}</ul>")
    if scenario.correlation is not None:
        extra.append(
            "<p>Correlated inputs (Gaussian copula): "
            + ", ".join(f"<code>{_e(n)}</code>" for n in scenario.correlation.names)
            + " (matrix in the scenario file below).</p>"
        )
    return (
        f"<p>Scenario <b>{_e(scenario.name)}</b> over {scenario.horizon_months} months: "
        f"{len(uncertain)} of {len(scenario.inputs)} inputs are uncertain (shaded rows, drawn "
        f"afresh on each path); the others are constants. The model's equations and the "
        f"sources of each preset's values are in docs/model.md of the montecarlo "
        f"repository.</p>" + "".join(extra) + "<table><thead><tr><th>input</th><th>value or "
        "law</th><th>unit</th><th>meaning</th></tr></thead><tbody>" + "".join(rows) + "</tbody>"
        "</table><details><summary>Scenario file (TOML; Scenario.from_toml reads it back)"
        f"</summary><pre>{_e(text)}</pre></details>"
    )


def _provenance(ds: xr.Dataset) -> str:
    rows = [
        f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in ds.attrs.items() if k != "scenario"
    ]
    written = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    rows.append(f"<tr><th>report written</th><td>{_e(written)}</td></tr>")
    return "<table class=prov><tbody>" + "".join(rows) + "</tbody></table>"


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
margin:0;color:#1c2833;background:#fff;line-height:1.45}
main{max-width:1320px;margin:0 auto;padding:1.2rem 1.6rem 3rem}
h1{font-size:1.6rem;margin:.2rem 0}h2{font-size:1.2rem;margin-top:2.2rem;
border-bottom:1px solid #d5d8dc;padding-bottom:.2rem}
.lead{color:#566573;margin:.2rem 0 1rem}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(190px,1fr));gap:.8rem}
.card{border:1px solid #d5d8dc;border-radius:6px;padding:.7rem .9rem;background:#f8f9f9}
.big{font-size:1.35rem;font-weight:600}.small{font-size:.8rem;color:#566573}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(560px,1fr));gap:1rem}
figure{margin:.6rem 0}img{max-width:100%;height:auto;display:block}
figcaption{font-size:.85rem;color:#566573;max-width:60rem}
table{border-collapse:collapse;font-size:.85rem;margin:.6rem 0}
th,td{border-bottom:1px solid #e5e7e9;padding:.25rem .6rem;text-align:left;vertical-align:top}
thead th{background:#f2f3f4}td.num{text-align:right;white-space:nowrap}
tr.uncertain td{background:#eaf2f8}.note{background:#fef5e7;border-left:4px solid #f0b27a;
padding:.5rem .8rem}pre{background:#f8f9f9;padding:.8rem;overflow-x:auto;font-size:.8rem}
table.prov th{font-weight:500;color:#566573;white-space:nowrap}
nav a{margin-right:.9rem;color:#1f5f9e;text-decoration:none;font-size:.9rem}
"""

# Nothing may load from anywhere: images only from the embedded data URIs.
_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

SECTIONS = (
    ("overview", "At a glance"),
    ("fans", "How the business evolves"),
    ("risk", "Ruin and profitability over time"),
    ("timing", "When profit comes, when cash runs out"),
    ("npv", "Value and tail risk"),
    ("financing", "Financing and commitments"),
    ("sensitivity", "What drives the result"),
    ("summary", "Risk summary with error bars"),
    ("scenario", "The scenario"),
    ("provenance", "Provenance"),
)


def render_html(
    ds: xr.Dataset, *, tornado: xr.Dataset | None = None, title: str | None = None
) -> str:
    """One self-contained HTML page reporting a :func:`montecarlo.simulate` result.

    Parameters
    ----------
    ds : xarray.Dataset
        One run's result. Without per-path outcomes (``keep_paths=False``) the
        charts that need them are replaced by a note.
    tornado : xarray.Dataset, optional
        A :func:`montecarlo.sensitivity.tornado` result to chart; without it the
        sensitivity chart shows rank correlations of the inputs with NPV (when
        the run kept per-path outcomes and inputs).
    title : str, optional
        The page title; default ``montecarlo report: <scenario name>``.

    Returns
    -------
    str
        The HTML document: charts as embedded PNG images, no external resources.
    """
    for name in ("p_ruined", "p_profitable"):
        if name not in ds:
            raise ValueError(
                f"render_html needs a montecarlo.simulate result; this Dataset has no {name!r}"
            )
    for key in ("n_paths", "horizon_months"):
        if key not in ds.attrs:
            raise ValueError(f"render_html needs the run's provenance; attrs lack {key!r}")
    name = str(ds.attrs.get("scenario_name", "scenario"))
    title = f"montecarlo report: {name}" if title is None else str(title)
    n, T = int(ds.attrs["n_paths"]), int(ds.attrs["horizon_months"])
    summary = ds.risk.summary()
    per_path = "npv" in ds and "path" in ds.dims
    note = f'<p class="note">{_e(_NO_PATHS)}</p>'

    body = {}
    body["overview"] = (
        _key_figures(ds, summary)
        + "<p>Every figure on this page is estimated from a finite number of simulated "
        "paths; the 95 % intervals say how far each could move in a longer run. Two figures "
        "whose intervals overlap widely are not shown to differ.</p>"
    )
    fans = [_fan(ds, v, t) for v, t in FANS if v in ds and ds[v].dims == ("quantile", "month")]
    body["fans"] = (
        "<p>Each chart is a fan: for every month, the spread of outcomes over all paths. "
        "Half the paths lie above the median line and half below; the shaded bands widen as "
        "the future gets less certain.</p>" + '<div class="grid">' + "".join(fans) + "</div>"
    )
    body["risk"] = _risk_over_time(ds)
    body["timing"] = _timing(ds) if per_path else note
    body["npv"] = _npv(ds) if per_path else note
    body["financing"] = _financing(ds, summary, per_path)
    if tornado is not None:
        body["sensitivity"] = _tornado(tornado) + _tornado_table(tornado)
    elif per_path and "inputs" in ds:
        body["sensitivity"] = _rank_correlation(ds)
    else:
        body["sensitivity"] = (
            '<p class="note">No sensitivity chart: this result holds no per-path inputs and '
            "no tornado was given (montecarlo.sensitivity.tornado computes one).</p>"
        )
    body["summary"] = _summary_chart(summary) + _summary_table(summary)
    body["scenario"] = _scenario(ds)
    body["provenance"] = _provenance(ds)

    nav = "".join(f'<a href="#{k}">{_e(t)}</a>' for k, t in SECTIONS)
    sections = "".join(
        f'<section id="{k}"><h2>{_e(t)}</h2>{body[k]}</section>' for k, t in SECTIONS
    )
    lead = (
        f"{n:,} simulated paths over {T} months, seed {ds.attrs.get('seed', '?')}, backend "
        f"{ds.attrs.get('backend', '?')}, montecarlo {ds.attrs.get('montecarlo_version', '?')}"
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head>"
        f'<body><main><h1>{_e(title)}</h1><p class="lead">{_e(lead)}</p>'
        f"<nav>{nav}</nav>{sections}</main></body></html>\n"
    )


def write_html(
    ds: xr.Dataset, path: str | os.PathLike, *, tornado: xr.Dataset | None = None
) -> Path:
    """Write :func:`render_html`'s report to ``path`` atomically (temporary file, then rename)."""
    text = render_html(ds, tornado=tornado)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)
