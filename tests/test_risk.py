"""Risk metrics: closed forms, honest error bars, and the ds.risk accessor."""

import numpy as np
import pytest
from scipy import special, stats

import montecarlo as mc
from kernels import rng
from montecarlo import risk

from .stats import Z_BOUND

A = 0.95


def _normals(n, seed, step=1):
    blocks = -(-n // 4)
    return rng.draw_standard_normals(seed, np.arange(blocks), step).ravel()[:n]


def _normal_closed_form(mu, sigma, a):
    q = special.ndtri(a)
    return -mu + sigma * q, -mu + sigma * stats.norm.pdf(q) / (1 - a)


def _lognormal_closed_form(mu, sigma, a):
    q = special.ndtri(1 - a)
    var = -np.exp(mu + sigma * q)
    cvar = -np.exp(mu + sigma**2 / 2) * special.ndtr(q - sigma) / (1 - a)
    return var, cvar


@pytest.mark.parametrize("a", [0.95, 0.99])
def test_var_and_cvar_of_a_normal_outcome(a):
    x = 3.0 + 2.0 * _normals(200_000, seed=1)
    var, cvar = _normal_closed_form(3.0, 2.0, a)
    est, se, lo, hi = risk.value_at_risk(x, a)
    assert abs(est - var) <= Z_BOUND * se and lo <= est <= hi
    est, se, lo, hi = risk.expected_shortfall(x, a)
    assert abs(est - cvar) <= Z_BOUND * se and lo <= est <= hi


@pytest.mark.parametrize("a", [0.95, 0.99])
def test_var_and_cvar_of_a_lognormal_outcome(a):
    x = np.exp(0.5 + 0.8 * _normals(200_000, seed=2))
    var, cvar = _lognormal_closed_form(0.5, 0.8, a)
    est, se, _, _ = risk.value_at_risk(x, a)
    assert abs(est - var) <= Z_BOUND * se
    est, se, _, _ = risk.expected_shortfall(x, a)
    assert abs(est - cvar) <= Z_BOUND * se


def test_binomial_standard_error_and_wilson_interval():
    est, se, lo, hi = risk.proportion(0.2, 400)
    assert se == pytest.approx(np.sqrt(0.2 * 0.8 / 400), rel=1e-15)
    # Wilson (1927): centre (p + z^2/2n) / (1 + z^2/n)
    z = risk.Z95
    centre = (0.2 + z * z / 800) / (1 + z * z / 400)
    assert (lo + hi) / 2 == pytest.approx(centre, rel=1e-12)
    assert risk.proportion(0.0, 50)[2] == pytest.approx(0.0, abs=1e-15)
    assert risk.proportion(1.0, 50)[3] == pytest.approx(1.0)


def test_intervals_cover_the_truth_about_95_percent_of_the_time():
    # 400 independent replications of n = 1000 draws; coverage is binomial(400, 0.95)
    # when the intervals are honest: its standard error is 0.011.
    reps, n = 400, 1000
    true_var, true_cvar = _normal_closed_form(0.0, 1.0, A)
    hits = {"mean": 0, "proportion": 0, "var": 0, "cvar": 0}
    for r in range(reps):
        x = _normals(n, seed=100 + r)
        checks = {
            "mean": (risk.mean(x), 0.0),
            "proportion": (risk.proportion(float(np.mean(x > 1.0)), n), special.ndtr(-1.0)),
            "var": (risk.value_at_risk(x, A), true_var),
            "cvar": (risk.expected_shortfall(x, A), true_cvar),
        }
        for name, ((_, _, lo, hi), truth) in checks.items():
            hits[name] += lo <= truth <= hi
    se = np.sqrt(0.95 * 0.05 / reps)
    for name, h in hits.items():
        assert abs(h / reps - 0.95) <= Z_BOUND * se, (name, h / reps)


def test_summary_accessor_on_a_run():
    ds = mc.simulate("api-startup", 4000, seed=3, progress=False)
    summary = ds.risk.summary(months=[12, 36])
    assert set(summary.data_vars) == {"estimate", "se", "ci_low", "ci_high", "units", "se_method"}
    est = summary.estimate
    assert float(est.sel(metric="P(ruined by) month 36")) == float(ds.p_ruined.sel(month=36))
    assert float(est.sel(metric="P(operating profit > 0) month 12")) == float(
        ds.p_profitable.sel(month=12)
    )
    var = float(est.sel(metric="VaR 0.95 npv (loss)"))
    assert var == pytest.approx(-np.quantile(ds.npv.values, 0.05))
    assert float(est.sel(metric="CVaR 0.95 npv (loss)")) >= var
    ok = summary.ci_low <= summary.estimate
    assert bool((ok & (summary.estimate <= summary.ci_high)).all())
    frame = summary.to_dataframe()
    assert list(frame.columns) == ["estimate", "se", "ci_low", "ci_high", "units", "se_method"]
    idle = "share of months with idle committed capacity"
    assert set(summary.se_method.drop_sel(metric=idle).values) == {"independent paths"}
    with pytest.raises(ValueError, match="months must lie in"):
        ds.risk.summary(months=[0])


def test_antithetic_pair_standard_errors_cover_and_independent_ones_do_not():
    # x = f(z) on path 2k and f(-z) on path 2k + 1 with f(z) = 3 z + z^2 / 2: the pairs
    # cancel the linear part, so treating the paths as independent overstates the error
    # (its standard error is sqrt(9.5 / 1) = 3.1 times too large).
    reps, n = 400, 1000
    hits = {"mean pairs": 0, "mean independent": 0, "share pairs": 0}
    root = np.sqrt(12.0)  # f(z) > 1.5 <=> z > -3 + sqrt(12) or z < -3 - sqrt(12)
    p_true = special.ndtr(3.0 - root) + special.ndtr(-3.0 - root)
    for r in range(reps):
        z = _normals(n // 2, seed=5000 + r)
        z = np.column_stack([z, -z]).ravel()
        x = 3 * z + z**2 / 2
        checks = {
            "mean pairs": (risk.mean(x, pairs=True), 0.5),
            "mean independent": (risk.mean(x), 0.5),
            "share pairs": (risk.share(x > 1.5, pairs=True), p_true),
        }
        for name, ((_, _, lo, hi), truth) in checks.items():
            hits[name] += lo <= truth <= hi
    se = np.sqrt(0.95 * 0.05 / reps)
    assert abs(hits["mean pairs"] / reps - 0.95) <= Z_BOUND * se, hits
    assert abs(hits["share pairs"] / reps - 0.95) <= Z_BOUND * se, hits
    assert hits["mean independent"] / reps > 0.95 + Z_BOUND * se, hits  # too wide


def test_summary_of_an_antithetic_run_uses_pair_averages():
    ds = mc.simulate("api-startup", 4000, seed=3, antithetic=True, progress=False)
    summary = ds.risk.summary(months=[12])
    row = summary.sel(metric="mean npv")
    pair_means = ds.npv.values.reshape(-1, 2).mean(axis=1)
    assert float(row.se) == pytest.approx(pair_means.std(ddof=1) / np.sqrt(2000), rel=1e-12)
    assert str(row.se_method.values) == "antithetic pair averages"
    assert "pairs are not" in str(summary.se_method.sel(metric="VaR 0.95 npv (loss)").values)


# --- financing and commitments (model v2) ----------------------------------------------------

#: Commitments above demand for 18 months, a tranche that may come, rounds that may fail:
#: explicit v2 inputs, so no figure below depends on the presets' values.
FINANCED = mc.Scenario.preset("api-startup").replace(
    horizon_months=24, commitment_share=1.5, commitment_months=18, commitment_discount=0.3,
    tranche_amount=5e6, tranche_month=6, tranche_probability=0.5, raise_trigger_months=6,
    raise_success_probability=0.6, raise_arr_multiple=2.0, valuation_arr_multiple=10.0,
)  # fmt: skip


@pytest.fixture(scope="module")
def financed():
    return mc.simulate(FINANCED, 4000, seed=3, progress=False)


def test_financing_rows_are_numpy_on_the_kept_paths(financed):
    ds, n = financed, 4000
    gap, rounds = ds.funding_gap.values, ds.rounds.values
    raised, kept = ds.capital_raised.values, ds.ownership_retained.values
    # Every row below is about something that happens on some paths and not on others.
    assert 0 < np.mean(gap > 0) < 0.5 and 0 < np.mean(rounds >= 1) < 1
    assert 0 < np.mean(raised > 0) < 1 and kept.min() < 1 == kept.max()
    summary = ds.risk.summary()
    row = summary.sel(metric="capital required 0.95")
    assert float(row.estimate) == np.quantile(gap, 0.95) > 0
    half = risk.Z95 * np.sqrt(n * 0.95 * 0.05)
    s = np.sort(gap)
    lo, hi = s[int(np.floor(n * 0.95 - half))], s[int(np.ceil(n * 0.95 + half))]
    assert (float(row.ci_low), float(row.ci_high)) == (lo, hi)
    assert float(row.se) == pytest.approx((hi - lo) / (2 * risk.Z95), rel=1e-12)
    assert str(row.units.values) == "USD"
    assert float(summary.estimate.sel(metric="capital required 0.99")) == np.quantile(gap, 0.99)
    row = summary.sel(metric="P(at least one round)")
    p = np.mean(rounds >= 1)
    assert float(row.estimate) == p
    assert float(row.se) == pytest.approx(np.sqrt(p * (1 - p) / n), rel=1e-12)
    row = summary.sel(metric="mean capital_raised")
    assert float(row.estimate) == pytest.approx(raised.mean(), rel=1e-12)
    assert float(row.se) == pytest.approx(raised.std(ddof=1) / np.sqrt(n), rel=1e-12)
    row = summary.sel(metric="median ownership_retained")
    assert float(row.estimate) == np.median(kept) and str(row.units.values) == "1"
    ok = (summary.ci_low <= summary.estimate) & (summary.estimate <= summary.ci_high)
    assert bool(ok.all())


def test_share_of_months_with_idle_capacity_is_exact_and_its_error_a_bound(financed):
    # The monthly tensors of the same paths: P(IC_t > 0) from the sketch counts is the
    # share of paths with idle committed hours in each month, exactly.
    paths = mc.simulate_paths(FINANCED, 4000, seed=3)
    idle = paths.idle_commitment_cost.values > 0
    assert 0 < idle.mean() < 1
    assert_equal = np.testing.assert_array_equal
    assert_equal(financed.p_idle_commitment.values, idle.mean(axis=0))
    row = financed.risk.summary().sel(metric="share of months with idle committed capacity")
    per_path = idle.mean(axis=1)  # each path's share of its months with idle capacity
    assert float(row.estimate) == pytest.approx(per_path.mean(), rel=1e-12)
    actual_se = per_path.std(ddof=1) / np.sqrt(4000)
    assert actual_se <= float(row.se) <= 3 * actual_se  # a bound, and not a vacuous one
    assert "upper bound" in str(row.se_method.values)


def test_share_of_months_bound_is_exact_when_the_months_move_together():
    # Every path idle in all months or in none: a path's share of months is 0 or 1, so the
    # bound is the binomial standard error itself, and the interval Wilson's.
    est, se, lo, hi = risk.share_of_months(np.full(12, 0.3), 1000)
    assert est == pytest.approx(0.3) and se == pytest.approx(np.sqrt(0.21 / 1000), rel=1e-12)
    assert (lo, hi) == pytest.approx(risk.wilson_interval(0.3, 1000), rel=1e-9)
    assert risk.share_of_months(np.zeros(24), 1000) == risk.proportion(0.0, 1000)


def test_financing_rows_need_the_kept_paths_and_pair_antithetic_runs(financed):
    summary = financed.drop_dims("path").risk.summary()
    metrics = set(summary.metric.values)
    for row in ("capital required 0.95", "P(at least one round)", "mean capital_raised",
                "median ownership_retained"):  # fmt: skip
        assert row in financed.risk.summary().metric.values and row not in metrics
    assert "share of months with idle committed capacity" in metrics
    ds = mc.simulate(FINANCED, 4000, seed=3, antithetic=True, progress=False)
    summary = ds.risk.summary(months=[12])
    row = summary.sel(metric="mean capital_raised")
    pair_means = ds.capital_raised.values.reshape(-1, 2).mean(axis=1)
    assert float(row.se) == pytest.approx(pair_means.std(ddof=1) / np.sqrt(2000), rel=1e-12)
    assert str(row.se_method.values) == "antithetic pair averages"
    row = summary.sel(metric="P(at least one round)")
    hits = (ds.rounds.values >= 1).astype(float).reshape(-1, 2).mean(axis=1)
    assert float(row.se) == pytest.approx(hits.std(ddof=1) / np.sqrt(2000), rel=1e-12)
    assert "pairs are not" in str(summary.se_method.sel(metric="capital required 0.95").values)
