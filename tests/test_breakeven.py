"""Break-even prices on common random numbers (montecarlo.compare.break_even_price)."""

import importlib

import numpy as np
import pytest

import montecarlo as mc
from montecarlo import risk
from montecarlo.engine import SimulationError

from .stats import Z_BOUND

N = 4096
FRONTIER = mc.Scenario().replace(horizon_months=24)
STARTUP = mc.Scenario.preset("api-startup").replace(horizon_months=24)
COP = "cumulative_operating_profit"
# The module, which montecarlo's own ``compare`` function hides.
compare = importlib.import_module("montecarlo.compare")


def _outcome(scenario, field, price, n=N, seed=0):
    ds = mc.simulate(scenario.replace(**{field: price}), n, seed=seed, progress=False)
    return ds[COP].values


def _lines(scenario, field, seed, n=N, p1=50.0):
    """Per-path intercept and slope of the outcome in the price, from runs at 0 and p1."""
    x0 = _outcome(scenario, field, 0.0, n, seed)
    x1 = _outcome(scenario, field, p1, n, seed)
    return x0, (x1 - x0) / p1


@pytest.fixture(scope="module")
def subscription_mean():
    ds = mc.break_even_price(FRONTIER, "subscription_price", N, seed=11, progress=False)
    return ds, _lines(FRONTIER, "subscription_price", seed=11)


@pytest.fixture(scope="module")
def api_median():
    ds = mc.break_even_price(
        FRONTIER, "api_price_0", N, seed=12, statistic="median", progress=False
    )
    return ds, _lines(FRONTIER, "api_price_0", seed=12)


def _tolerance(lines, price):
    # Rounding of sums of ~1e10 USD terms; the roots' own tolerance (1e-9 in price) moves
    # the statistic by about slope * 1e-9, far less.
    a, b = lines
    return 1e-9 * float(np.mean(np.abs(a) + b * price))


def test_result_layout(subscription_mean):
    ds, _ = subscription_mean
    for name in ("estimate", "se", "ci_low", "ci_high", "statistic_at_estimate"):
        assert ds[name].dims == () and np.isfinite(float(ds[name])), name
    assert str(ds.status.values) == "found" and int(ds.runs) == 3
    assert str(ds.units.values) == "USD/paid user/month" == ds.estimate.attrs["units"]
    assert ds.statistic_at_estimate.attrs["units"] == "USD"
    assert ds.attrs["field"] == "subscription_price" and ds.attrs["seed"] == "11"
    assert ds.attrs["n_paths"] == N and ds.attrs["horizon_months"] == 24
    assert ds.attrs["run_prices"][-1] == float(ds.estimate)
    assert float(ds.ci_low) < float(ds.estimate) < float(ds.ci_high)
    half = (float(ds.ci_high) - float(ds.ci_low)) / 2
    assert float(ds.se) == pytest.approx(half / risk.Z95, rel=1e-12)


@pytest.mark.parametrize("case", ["subscription_mean", "api_median"])
def test_statistic_is_zero_at_the_estimate_and_the_interval_ends(case, request):
    # Common random numbers make this exact: a fresh run at each price gives the same paths.
    ds, lines = request.getfixturevalue(case)
    field, statistic = ds.attrs["field"], ds.attrs["statistic"]

    def stat(price):
        x = _outcome(FRONTIER, field, price, seed=int(ds.attrs["seed"]))
        return risk.mean(x) if statistic == "mean" else risk.quantile(x, 0.5)

    p, lo, hi = float(ds.estimate), float(ds.ci_low), float(ds.ci_high)
    at_p = stat(p)
    assert abs(at_p[0]) <= _tolerance(lines, p), at_p
    assert float(ds.statistic_at_estimate) == at_p[0]
    # At the interval's low end the statistic's upper bound is zero, at its high end the lower.
    assert abs(stat(lo)[3]) <= _tolerance(lines, lo)
    assert abs(stat(hi)[2]) <= _tolerance(lines, hi)
    # Away from the ends, the statistic's interval excludes zero.
    assert stat(0.99 * lo)[3] < 0 < stat(1.01 * hi)[2]


def test_mean_matches_the_closed_form_from_two_runs(subscription_mean):
    ds, (a, b) = subscription_mean
    assert float(ds.estimate) == pytest.approx(-a.mean() / b.mean(), rel=1e-10)
    # The interval is Fieller's: the roots of (ma + p mb)^2 = Z^2 var(a + b p) / n.
    n, z2 = a.size, risk.Z95**2
    cov = np.cov(a, b, ddof=1)
    qa = b.mean() ** 2 - z2 * cov[1, 1] / n
    qb = 2 * (a.mean() * b.mean() - z2 * cov[0, 1] / n)
    qc = a.mean() ** 2 - z2 * cov[0, 0] / n
    roots = np.sort(np.roots([qa, qb, qc]).real)
    np.testing.assert_allclose([float(ds.ci_low), float(ds.ci_high)], roots, rtol=1e-9)


def test_any_bracket_gives_the_same_answer(subscription_mean):
    ds, _ = subscription_mean
    other = mc.break_even_price(
        FRONTIER, "subscription_price", N, seed=11, bracket=(5.0, 8.0), progress=False
    )
    for name in ("estimate", "ci_low", "ci_high"):
        assert float(other[name]) == pytest.approx(float(ds[name]), rel=1e-9), name


@pytest.mark.parametrize("statistic", ["mean", "median"])
def test_interval_brackets_a_run_with_16_times_the_paths(statistic):
    # An independent seed and 16 x the paths: its estimate sits within the small run's
    # interval, widened from 1.96 to Z_BOUND standard errors on each side (the big run's
    # own noise is a quarter of the small run's), and its interval is ~4 x narrower.
    small = mc.break_even_price(
        STARTUP, "api_price_0", N, seed=21, statistic=statistic, progress=False
    )
    big = mc.break_even_price(
        STARTUP, "api_price_0", 16 * N, seed=22, statistic=statistic, progress=False
    )
    est, lo, hi = float(small.estimate), float(small.ci_low), float(small.ci_high)
    assert lo < est < hi
    widen = Z_BOUND / risk.Z95
    assert est - widen * (est - lo) <= float(big.estimate) <= est + widen * (hi - est)
    ratio = float(big.se) / float(small.se)
    assert 0.2 < ratio < 0.3, ratio


@pytest.mark.parametrize("statistic", ["mean", "median"])
def test_intervals_cover_the_truth_about_95_percent_of_the_time(statistic):
    # Synthetic lines with a known break-even price: outcome b (p - r), r ~ N(mu, s)
    # independent of b > 0, so mean and median both break even at p = mu. 400 replications
    # of n = 1000; honest intervals cover mu binomial(400, 0.95) times (SE 0.011).
    mu, reps, n = 30.0, 400, 1000
    hits = 0
    for rep in range(reps):
        rng = np.random.default_rng(1000 + rep)
        b = rng.lognormal(0.0, 1.0, n)
        a = -b * rng.normal(mu, 10.0, n)
        _, lo, hi, status = compare._break_even_from_lines(a, b, statistic, 0.0, 20.0, 1e12, 1e-9)
        assert status == "found"
        hits += lo <= mu <= hi
    se = np.sqrt(0.95 * 0.05 / reps)
    assert abs(hits / reps - 0.95) <= Z_BOUND * se, hits / reps


def test_quantile_selection_matches_risk_quantile():
    x = np.random.default_rng(3).standard_t(3, size=1001)
    for q in (0.5, 0.1):
        est, _, lo, hi = risk.quantile(x, q)
        assert compare._quantile_ci(x, q) == (est, lo, hi)


def test_profitable_at_zero_price():
    # On average the API business alone pays for api-startup over two years.
    ds = mc.break_even_price(STARTUP, "subscription_price", N, seed=3, progress=False)
    assert str(ds.status.values) == "profitable at zero price"
    assert float(ds.estimate) == 0.0 == float(ds.ci_low) and int(ds.runs) == 2
    x0 = _outcome(STARTUP, "subscription_price", 0.0, seed=3)
    assert float(ds.statistic_at_estimate) == risk.mean(x0)[0] > 0
    # The high end: where the mean's lower bound reaches zero (0 if it already has at 0).
    assert float(ds.ci_high) >= 0.0


def test_not_reached_without_paying_users():
    ds = mc.break_even_price(
        FRONTIER.replace(paid_share=0.0), "subscription_price", 256, seed=1, progress=False
    )
    assert str(ds.status.values) == "not reached"
    assert float(ds.estimate) == np.inf == float(ds.ci_high) == float(ds.se)
    assert np.isnan(float(ds.statistic_at_estimate)) and int(ds.runs) == 2


def test_a_model_not_affine_in_the_price_is_caught(monkeypatch):
    real = compare.simulate

    def curved(scenario, *args, **kwargs):
        ds = real(scenario, *args, **kwargs)
        price = scenario.inputs["subscription_price"].value
        return ds.assign({COP: ds[COP] + 1e3 * price**2})

    monkeypatch.setattr(compare, "simulate", curved)
    with pytest.raises(RuntimeError, match="not affine in subscription_price"):
        mc.break_even_price(FRONTIER, "subscription_price", 256, seed=1, progress=False)


def test_bad_arguments():
    with pytest.raises(SimulationError, match="field must be one of"):
        mc.break_even_price(FRONTIER, "gpu_rent_price_0", 64)
    with pytest.raises(SimulationError, match="statistic must be one of"):
        mc.break_even_price(FRONTIER, "api_price_0", 64, statistic="p90")
    with pytest.raises(SimulationError, match="outcome must be one of"):
        mc.break_even_price(FRONTIER, "api_price_0", 64, outcome="min_cash")
    with pytest.raises(SimulationError, match="n_paths"):
        mc.break_even_price(FRONTIER, "api_price_0", 0)
    with pytest.raises(SimulationError, match="n_paths=100000000 needs about"):
        mc.break_even_price(FRONTIER, "api_price_0", 10**8)
    with pytest.raises(SimulationError, match="bracket must have low < high"):
        mc.break_even_price(FRONTIER, "api_price_0", 64, bracket=(5.0, 5.0))
    with pytest.raises(SimulationError, match="api_price_0 must be a finite number >= 0"):
        mc.break_even_price(FRONTIER, "api_price_0", 64, bracket=(-1.0, 5.0))
    with pytest.raises(SimulationError, match="two prices"):
        mc.break_even_price(FRONTIER, "api_price_0", 64, bracket=5.0)
    with pytest.raises(SimulationError, match="xtol"):
        mc.break_even_price(FRONTIER, "api_price_0", 64, xtol=0.0)
    with pytest.raises(SimulationError, match="do not pass keep_paths"):
        mc.break_even_price(FRONTIER, "api_price_0", 64, keep_paths=False)
    with pytest.raises(SimulationError, match="do not pass precision"):
        mc.break_even_price(FRONTIER, "api_price_0", 64, precision={"p_ruined": 0.01})
    with pytest.raises(TypeError, match="seed"):
        mc.break_even_price(FRONTIER, "api_price_0", 64, seed=1.5)
