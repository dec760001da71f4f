"""montecarlo.plot: each chart draws the result's own numbers, labelled, on the Axes it is given."""

import subprocess
import sys

import matplotlib

matplotlib.use("Agg")  # before pyplot: no GUI in tests

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import LineCollection, PolyCollection  # noqa: E402
from matplotlib.container import BarContainer, ErrorbarContainer  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from numpy.testing import assert_allclose, assert_array_equal  # noqa: E402

import montecarlo as mc  # noqa: E402
from montecarlo import plot, risk  # noqa: E402
from montecarlo import sensitivity as sa  # noqa: E402

SCENARIO = mc.Scenario.preset("api-startup").replace(horizon_months=24)
T = 24
INPUTS = ["api_price_0", "gpu_rent_price_0", "utilization_mean"]


@pytest.fixture(scope="module")
def ds():
    return mc.simulate(SCENARIO, 2000, seed=1, progress=False)


@pytest.fixture(scope="module")
def tornado():
    return sa.tornado(SCENARIO, 300, seed=1, inputs=INPUTS)


@pytest.fixture(scope="module")
def indices():
    return sa.model_sobol(SCENARIO, 64, seed=2, inputs=INPUTS[:2], n_bootstrap=50)


@pytest.fixture(scope="module")
def swept():
    return mc.sweep(SCENARIO, "gpu_rent_price_0", [2.0, 2.3, 2.6], 1000, seed=3, progress=False)


#: Explicit v2 inputs (commitments, a tranche, rounds), independent of the presets' values.
FINANCED = SCENARIO.replace(
    commitment_share=1.5, commitment_months=18, tranche_amount=5e6, tranche_month=6,
    tranche_probability=0.5, raise_trigger_months=6, raise_success_probability=0.6,
    raise_arr_multiple=2.0, valuation_arr_multiple=10.0,
)  # fmt: skip


@pytest.fixture(scope="module")
def financed():
    return mc.simulate(FINANCED, 2000, seed=1, progress=False)


@pytest.fixture(scope="module")
def effect():
    from montecarlo.compare import financing_effect

    return financing_effect(FINANCED, 1000, seed=1, progress=False)


@pytest.fixture(autouse=True)
def no_figure_left_open():
    yield
    assert plt.get_fignums() == [], "a plot function left a pyplot figure open"


def new_axes():
    """An Axes on a bare Figure (no pyplot): nothing to close, as the report draws."""
    return Figure().subplots()


def segments_x(ax) -> np.ndarray:
    """The (low, high) x ends of the horizontal error bars drawn on ax, top to bottom."""
    (lines,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    return np.array([[seg[0][0], seg[-1][0]] for seg in lines.get_segments()])


def band_edges(band: PolyCollection, month: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The lower and upper y of a fill_between band at each month."""
    vertices = band.get_paths()[0].vertices
    low = np.array([vertices[vertices[:, 0] == m, 1].min() for m in month])
    high = np.array([vertices[vertices[:, 0] == m, 1].max() for m in month])
    return low, high


def bars(ax):
    """The bars of ax's bar charts and histograms, in drawing order (not the shaded spans)."""
    return [p for c in ax.containers if isinstance(c, BarContainer) for p in c]


# --- charts of one run ----------------------------------------------------------------------


def test_fan_draws_the_quantile_bands_median_and_mean(ds):
    ax = new_axes()
    assert plot.fan(ds, "cash", ax=ax) is ax
    month = ds.month.values
    pairs = plot.band_pairs(ds["quantile"].values)
    assert len(pairs) >= 2 and pairs[0][0] < pairs[-1][0]  # outermost band first
    assert len(ax.collections) == len(pairs)
    for band, (lo, hi) in zip(ax.collections, pairs, strict=True):
        low, high = band_edges(band, month)
        assert_allclose(low, ds.cash.sel(quantile=lo).values, rtol=1e-12)
        assert_allclose(high, ds.cash.sel(quantile=hi).values, rtol=1e-12)
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert_array_equal(lines["median"].get_xdata(), month)
    assert_allclose(lines["median"].get_ydata(), ds.cash.sel(quantile=0.5).values, rtol=1e-12)
    assert_allclose(lines["mean"].get_ydata(), ds.cash_mean.values, rtol=1e-12)
    assert ax.get_title() == f"{ds.cash.attrs['long_name']} (USD)"
    assert ax.get_xlabel() == "month" and ax.get_ylabel() == "USD"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0] == f"{100 * pairs[0][0]:g}-{100 * pairs[0][1]:g} % of paths"


def test_fan_takes_a_title_and_refuses_what_has_no_quantiles(ds):
    ax = plot.fan(ds, "revenue", ax=new_axes(), title="Revenue per month")
    assert ax.get_title() == "Revenue per month (USD/month)"
    assert ax.get_ylabel() == ds.revenue.attrs["units"] == "USD/month"
    with pytest.raises(ValueError, match=r"'npv' has dims \('path',\); a fan needs"):
        plot.fan(ds, "npv")
    with pytest.raises(ValueError, match="lacks 'cashflow'"):
        plot.fan(ds, "cashflow")
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes or None, got Figure"):
        plot.fan(ds, "cash", ax=Figure())


def test_risk_over_time_draws_the_probabilities_and_their_wilson_bands(ds):
    ax = plot.risk_over_time(ds, ax=new_axes())
    n = ds.attrs["n_paths"]
    ruin, profit = ax.get_lines()
    assert_array_equal(ruin.get_ydata(), ds.p_ruined.values)
    assert_array_equal(profit.get_ydata(), ds.p_profitable.values)
    for band, name in zip(ax.collections, ("p_ruined", "p_profitable"), strict=True):
        wilson = np.array([risk.wilson_interval(float(p), n) for p in ds[name].values])
        low, high = band_edges(band, ds.month.values)
        assert_allclose(low, wilson[:, 0], atol=1e-15)
        assert_allclose(high, wilson[:, 1], atol=1e-15)
    assert ax.get_ylim() == (0.0, 1.0)
    assert ax.get_title() == "Ruin and profitability over time"
    assert ax.get_xlabel() == "month" and ax.get_ylabel() == "share of paths"


@pytest.mark.parametrize("event", ["first_profit_month", "ruin_month"])
def test_event_months_draws_the_share_of_paths_per_month_and_never(ds, event):
    ax = plot.event_months(ds, event, ax=new_axes())
    months = ds[event].values
    heights = np.array([p.get_height() for p in bars(ax)])
    assert heights.size == T + 1  # months 1..T, then "never"
    expected = [np.mean(months == m) for m in range(1, T + 1)] + [np.mean(months > T)]
    assert_allclose(heights, expected, rtol=1e-12)
    assert [t.get_text() for t in ax.get_xticklabels()][-1] == "never"
    assert f"never within {T} months: {100 * np.mean(months > T):.1f} %" in ax.get_title()
    assert ax.get_xlabel() == "month" and ax.get_ylabel() == "share of paths"


def test_event_months_needs_a_known_event_and_the_per_path_outcomes(ds):
    with pytest.raises(ValueError, match="event must be one of .*got 'npv'"):
        plot.event_months(ds, "npv")
    with pytest.raises(ValueError, match="keep_paths=True"):
        plot.event_months(ds.drop_vars("ruin_month"), "ruin_month")


@pytest.mark.parametrize("level", [0.95, 0.9])
def test_npv_marks_var_cvar_and_median_over_the_histogram(ds, level):
    ax = plot.npv(ds, ax=new_axes(), level=level)
    values = ds.npv.values
    var = risk.value_at_risk(values, level)[0]
    cvar = risk.expected_shortfall(values, level)[0]
    lines = {line.get_label().split(":")[0]: line.get_xdata()[0] for line in ax.get_lines()}
    pct = f"{100 * level:g} %"
    assert lines[f"VaR {pct}"] == pytest.approx(-var, rel=1e-12)
    assert lines[f"CVaR {pct}"] == pytest.approx(-cvar, rel=1e-12)
    assert lines[next(k for k in lines if k.startswith("median"))] == np.median(values)
    lo, hi = ax.get_xlim()
    assert lo <= -cvar
    assert lo == pytest.approx(min(np.quantile(values, 0.005), -cvar))
    assert hi == pytest.approx(np.quantile(values, 0.995))
    # Every path inside the window is counted once in the histogram's bars.
    inside = np.sum((values >= lo) & (values <= hi))
    assert sum(p.get_height() for p in bars(ax)) == inside
    assert ax.get_xlabel() == "net present value (USD)" and ax.get_ylabel() == "paths"


def test_npv_refuses_a_bad_level_and_a_run_without_paths(ds):
    for level in (0, 1, 1.5, "0.95", True):
        with pytest.raises(ValueError, match="level must be a number in \\(0, 1\\)"):
            plot.npv(ds, level=level)
    summary_only = mc.simulate(SCENARIO, 256, seed=1, progress=False, keep_paths=False)
    with pytest.raises(ValueError, match="per-path outcome 'npv'.*keep_paths=True"):
        plot.npv(summary_only)


def test_probabilities_draws_each_probability_with_its_interval(ds):
    summary = ds.risk.summary()
    ax = plot.probabilities(ds, ax=new_axes())
    # Probabilities and shares, not the median of a fraction (ownership retained).
    rows = [
        i
        for i, (m, u) in enumerate(zip(summary.metric.values, summary.units.values, strict=True))
        if u == "1" and m != "median ownership_retained"
    ]
    assert "median ownership_retained" in summary.metric.values
    assert len(rows) < sum(u == "1" for u in summary.units.values)
    (container,) = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    points = container.lines[0]
    assert_allclose(points.get_xdata(), summary.estimate.values[rows], rtol=1e-12)
    ends = segments_x(ax)
    assert_allclose(ends[:, 0], summary.ci_low.values[rows], atol=1e-12)
    assert_allclose(ends[:, 1], summary.ci_high.values[rows], atol=1e-12)
    assert [t.get_text() for t in ax.get_yticklabels()] == list(summary.metric.values[rows])
    # The summary itself is accepted too, and charts the same.
    again = plot.probabilities(summary, ax=new_axes())
    assert_array_equal(again.containers[0].lines[0].get_xdata(), points.get_xdata())


def test_capital_required_draws_the_quantiles_of_the_funding_gap(financed):
    gap = financed.funding_gap.values
    assert 0.05 < np.mean(gap > 0) < 0.5
    ax = plot.capital_required(financed, ax=new_axes(), levels=(0.9, 0.99))
    curve, *dots = ax.lines
    grid = curve.get_xdata()
    assert grid[0] == 0.5 and grid[-1] == pytest.approx(0.995)
    want = np.array([risk.quantile(gap, a) for a in grid])
    assert_allclose(curve.get_ydata(), want[:, 0], rtol=1e-12)
    low, high = band_edges(ax.collections[0], grid)
    assert_allclose(low, want[:, 2], rtol=1e-12)
    assert_allclose(high, want[:, 3], rtol=1e-12)
    assert [float(d.get_xdata()[0]) for d in dots] == [0.9, 0.99]
    assert [float(d.get_ydata()[0]) for d in dots] == [np.quantile(gap, a) for a in (0.9, 0.99)]
    with pytest.raises(ValueError, match="levels must be numbers in"):
        plot.capital_required(financed, ax=new_axes(), levels=(1.0,))
    with pytest.raises(ValueError, match="per-path outcome 'funding_gap'"):
        plot.capital_required(financed.drop_dims("path"), ax=new_axes())


@pytest.mark.parametrize("name", ["capital_raised", "ownership_retained"])
def test_histogram_counts_every_path_and_marks_median_and_mean(financed, name):
    values = financed[name].values
    ax = plot.histogram(financed, name, ax=new_axes())
    hi = np.quantile(values, 0.995)
    hi = hi if hi > values.min() else values.max()
    beyond = int(np.sum(values > hi))
    assert sum(b.get_height() for b in bars(ax)) == values.size - beyond
    median, average = ax.lines
    assert median.get_xdata()[0] == np.median(values)
    assert average.get_xdata()[0] == pytest.approx(values.mean(), rel=1e-12)
    labels = ax.get_legend_handles_labels()[1]
    assert (f"{beyond} paths beyond the axis" in labels) == (beyond > 0)


def test_ruin_by_scenario_draws_each_scenarios_ruin_probability(effect):
    ax = plot.ruin_by_scenario(effect, ax=new_axes())
    assert len(ax.lines) == 2
    for line, name in zip(ax.lines, effect.scenario.values, strict=True):
        assert_array_equal(line.get_ydata(), effect.p_ruined.sel(scenario=name).values)
        assert line.get_label().startswith(f"{name}: ")
    assert effect.p_ruined.values[1, -1] < effect.p_ruined.values[0, -1]  # financing helps
    with pytest.raises(ValueError, match="needs a compare result"):
        plot.ruin_by_scenario(effect.isel(scenario=0, drop=True), ax=new_axes())


def test_rank_correlation_draws_the_spearman_estimates(ds):
    ax = plot.rank_correlation(ds, ax=new_axes())
    rc = sa.rank_correlation(ds, outcomes=["npv"]).sel(outcome="npv")
    order = np.argsort(-np.abs(rc.estimate.values), kind="stable")[: plot.MAX_INPUTS]
    names = [t.get_text() for t in ax.get_yticklabels()]
    assert names == [str(rc.input.values[i]) for i in order]  # strongest first, at the top
    assert ax.get_yticks()[0] == max(ax.get_yticks())
    widths = [p.get_width() for p in bars(ax)]
    assert_allclose(widths, rc.estimate.values[order], rtol=1e-12)
    ends = segments_x(ax)
    assert_allclose(ends[:, 0], rc.ci_low.values[order], rtol=1e-12)
    assert_allclose(ends[:, 1], rc.ci_high.values[order], rtol=1e-12)
    assert ax.get_xlabel() == "Spearman rank correlation with NPV (95 % interval)"


# --- sensitivity and comparison results -----------------------------------------------------


def test_tornado_draws_low_and_high_bars_from_the_baseline(tornado):
    ax = plot.tornado(tornado, ax=new_axes())
    baseline = tornado.attrs["baseline"]
    order = np.argsort(-np.abs(tornado.swing.values), kind="stable")
    k = len(INPUTS)
    red, green = bars(ax)[:k], bars(ax)[k:]
    assert all(p.get_x() == baseline for p in red + green)
    assert_allclose([p.get_width() for p in red], tornado.metric_low.values[order] - baseline)
    assert_allclose([p.get_width() for p in green], tornado.metric_high.values[order] - baseline)
    names = [t.get_text() for t in ax.get_yticklabels()]
    assert names == [str(tornado.input.values[i]) for i in order]  # largest swing at the top
    assert ax.get_yticks()[0] == max(ax.get_yticks())
    meaning = tornado.attrs["metric_meaning"]
    assert ax.get_title() == f"Tornado: swing of {meaning} by input"
    assert ax.get_xlabel().startswith(f"{meaning} (USD); vertical line: baseline")


def test_sobol_draws_s1_and_st_with_their_intervals(indices):
    ax = plot.sobol(indices, ax=new_axes())
    order = np.argsort(-np.abs(indices.ST.values), kind="stable")
    k = indices.sizes["input"]
    s1, st = bars(ax)[:k], bars(ax)[k:]
    assert_allclose([p.get_width() for p in s1], indices.S1.values[order], rtol=1e-12)
    assert_allclose([p.get_width() for p in st], indices.ST.values[order], rtol=1e-12)
    lines = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(lines) == 2
    for coll, key in zip(lines, ("S1", "ST"), strict=True):
        ends = np.array([[seg[0][0], seg[-1][0]] for seg in coll.get_segments()])
        assert_allclose(ends[:, 0], indices[f"{key}_ci_low"].values[order], atol=1e-12)
        assert_allclose(ends[:, 1], indices[f"{key}_ci_high"].values[order], atol=1e-12)
    assert ax.get_title() == "Sobol indices of npv"
    assert "95 % bootstrap interval" in ax.get_xlabel()


def test_comparison_draws_the_paired_differences_against_the_baseline(swept):
    ax = plot.comparison(swept, ax=new_axes())
    assert_allclose([p.get_width() for p in bars(ax)], swept.npv_diff_mean.values[1:])
    ends = segments_x(ax)
    assert_allclose(ends[:, 0], swept.npv_diff_ci_low.values[1:], rtol=1e-12)
    assert_allclose(ends[:, 1], swept.npv_diff_ci_high.values[1:], rtol=1e-12)
    names = [t.get_text() for t in ax.get_yticklabels()]
    assert names == [str(s) for s in swept.scenario.values[1:]]
    baseline = str(swept.scenario.values[0])
    assert ax.get_xlabel() == (f"difference in mean npv against {baseline!r} (USD), 95 % interval")
    ruin = plot.comparison(swept, ax=new_axes(), outcome="p_ruined")
    assert_allclose([p.get_width() for p in bars(ruin)], swept.p_ruined_diff_mean.values[1:])
    assert "P(ruined by the horizon)" in ruin.get_title()
    assert "(probability)" in ruin.get_xlabel()


@pytest.fixture(scope="module")
def searched():
    """A small two-decision search with some feasible and some infeasible evaluations."""
    return mc.optimize(
        SCENARIO, {"initial_cash": (1e6, 1e8), "subscription_price": (10, 60)}, "initial_cash",
        maximize=False, constraints={"p_ruined": ("<=", 0.5)}, n_paths=500, seed=4,
        max_evaluations=20,
    )  # fmt: skip


def offsets(collection) -> np.ndarray:
    return np.asarray(collection.get_offsets(), dtype=np.float64).reshape(-1, 2)


def test_optimization_draws_every_evaluation_by_feasibility_and_the_choice(searched):
    res = searched
    feasible = res.trace_feasible.values
    assert feasible.any() and not feasible.all(), "the fixture must hold both kinds"
    cash = res.trace_value.sel(decision="initial_cash").values
    price = res.trace_value.sel(decision="subscription_price").values
    ax = plot.optimization(res, ax=new_axes())
    good, bad, chosen = ax.collections
    assert_array_equal(offsets(good), np.c_[cash[feasible], price[feasible]])
    assert_array_equal(offsets(bad), np.c_[cash[~feasible], price[~feasible]])
    assert_array_equal(offsets(chosen), [[float(res.value.sel(decision="initial_cash")),
                                          float(res.value.sel(decision="subscription_price"))]])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "feasible", "infeasible", "chosen"]  # fmt: skip
    assert ax.get_xlabel() == "initial_cash (USD)"
    assert ax.get_ylabel() == "subscription_price (USD/paid user/month)"
    assert ax.get_title() == f"Search: minimize initial_cash, {res.sizes['evaluation']} evaluations"
    # Swapped axes, and one decision against the objective.
    ax = plot.optimization(res, ax=new_axes(), x="subscription_price")
    assert_array_equal(offsets(ax.collections[0]), np.c_[price[feasible], cash[feasible]])
    one = res.isel(decision=[0])
    ax = plot.optimization(one, ax=new_axes())
    good, bad, chosen = ax.collections
    assert_array_equal(offsets(good), np.c_[cash[feasible], res.trace_objective.values[feasible]])
    assert_array_equal(offsets(chosen)[0], [float(res.value[0]), float(res.in_sample[0])])
    assert ax.get_ylabel() == "initial_cash on the search's paths (USD)"
    with pytest.raises(ValueError, match="x must be one of the decisions"):
        plot.optimization(res, ax=new_axes(), x="rent_share")
    with pytest.raises(ValueError, match="two different decisions"):
        plot.optimization(res, ax=new_axes(), x="initial_cash", y="initial_cash")
    with pytest.raises(ValueError, match="montecarlo.optimize result"):
        plot.optimization(res.drop_vars("trace_feasible"), ax=new_axes())


def test_each_chart_refuses_a_result_of_the_wrong_kind(ds, tornado, indices, swept):
    with pytest.raises(ValueError, match="tornado needs a montecarlo.sensitivity.tornado"):
        plot.tornado(ds)
    with pytest.raises(ValueError, match="sobol needs a montecarlo.sensitivity.sobol"):
        plot.sobol(tornado)
    with pytest.raises(ValueError, match="comparison needs a montecarlo.compare or sweep"):
        plot.comparison(indices)
    with pytest.raises(ValueError, match="at least two scenarios.*got 1"):
        plot.comparison(swept.isel(scenario=[0]))
    with pytest.raises(ValueError, match="outcome must be one of .*got 'revenue'"):
        plot.comparison(swept, outcome="revenue")
    with pytest.raises(ValueError, match="risk_over_time needs a montecarlo.simulate result"):
        plot.risk_over_time(tornado)
    with pytest.raises(TypeError, match="needs a montecarlo.simulate result .*got ndarray"):
        plot.fan(ds.cash.values, "cash")


# --- figures and imports --------------------------------------------------------------------


def test_every_chart_draws_on_the_axes_it_is_given(
    ds, tornado, indices, swept, searched, financed, effect
):
    charts = [
        lambda ax: plot.fan(ds, "cash", ax=ax),
        lambda ax: plot.risk_over_time(ds, ax=ax),
        lambda ax: plot.event_months(ds, "ruin_month", ax=ax),
        lambda ax: plot.npv(ds, ax=ax),
        lambda ax: plot.probabilities(ds, ax=ax),
        lambda ax: plot.rank_correlation(ds, ax=ax),
        lambda ax: plot.tornado(tornado, ax=ax),
        lambda ax: plot.sobol(indices, ax=ax),
        lambda ax: plot.comparison(swept, ax=ax),
        lambda ax: plot.optimization(searched, ax=ax),
        lambda ax: plot.capital_required(financed, ax=ax),
        lambda ax: plot.histogram(financed, "capital_raised", ax=ax),
        lambda ax: plot.ruin_by_scenario(effect, ax=ax),
    ]
    for draw in charts:
        fig = Figure()
        left, right = fig.subplots(1, 2)
        assert draw(right) is right
        assert not left.has_data() and right.has_data()


def test_without_ax_each_chart_makes_a_pyplot_figure(ds):
    ax = plot.npv(ds)
    try:
        assert ax.figure.number in plt.get_fignums()
    finally:
        plt.close(ax.figure)


def test_importing_montecarlo_leaves_matplotlib_out_until_plot_is_used():
    code = (
        "import sys, montecarlo as mc\n"
        "assert 'matplotlib' not in sys.modules\n"
        "assert mc.plot.fan is not None and 'matplotlib.pyplot' not in sys.modules\n"
        "from montecarlo import plot\n"
        "assert plot is mc.plot\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
