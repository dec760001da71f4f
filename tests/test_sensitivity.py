"""Sensitivity measures: closed forms, honest error bars, and the model's dominant input.

Every statistical check allows Z_BOUND standard errors of the measure's own
error bar (tests/stats.py), with fixed seeds; coverage checks replicate a
measure on independent synthetic samples and compare how often its 95 %
interval holds the truth with 95 %, within Z_BOUND binomial standard errors.
"""

import math

import numpy as np
import pytest
import scipy.stats
import xarray as xr
from scipy import special

import montecarlo as mc
from kernels.layout import NEUTRAL_V2
from montecarlo import distributions as md
from montecarlo import sensitivity as sa
from montecarlo.engine import SimulationError

from .stats import Z_BOUND

# --------------------------------------------------------------------------------------------
# Sobol indices

ISHIGAMI_A, ISHIGAMI_B = 7.0, 0.1


def ishigami(x):
    return (
        np.sin(x[:, 0])
        + ISHIGAMI_A * np.sin(x[:, 1]) ** 2
        + ISHIGAMI_B * x[:, 2] ** 4 * np.sin(x[:, 0])
    )


def ishigami_indices(a, b):
    """Closed-form (S1, ST) for inputs Uniform(-pi, pi) (Ishigami and Homma 1990)."""
    v1 = 0.5 * (1 + b * np.pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * np.pi**8 * (1 / 18 - 1 / 50)
    v = v1 + v2 + v13
    return np.array([v1, v2, 0.0]) / v, np.array([v1 + v13, v2, v13]) / v


def bootstrap_se(ds, key):
    """The bootstrap standard deviation behind ``{key}_conf`` (a normal half-width)."""
    return ds[f"{key}_conf"].values / special.ndtri(0.5 + ds.attrs["confidence"] / 2)


def assert_near(ds, key, truth):
    # The bootstrap sd is the estimate's standard error (conservative for Sobol points),
    # so the estimate must lie within Z_BOUND of them of the truth, like every
    # statistical test here; the 95 % interval alone would fail 1 in 20 fixed seeds.
    est, se = ds[key].values, bootstrap_se(ds, key)
    assert np.all(np.abs(est - truth) <= Z_BOUND * se), (key, est, truth, se)


@pytest.fixture(scope="module")
def ishigami_run():
    problem = {name: mc.Uniform(-np.pi, np.pi) for name in ("x1", "x2", "x3")}
    return sa.sobol(ishigami, problem, 2**12, seed=0)


def test_ishigami_indices_match_the_closed_forms(ishigami_run):
    ds = ishigami_run
    s1, st = ishigami_indices(ISHIGAMI_A, ISHIGAMI_B)
    assert_near(ds, "S1", s1)
    assert_near(ds, "ST", st)
    # The bounds have teeth: they tell x1's first-order index from its total one, and
    # x3's total index (its interaction with x1) from 0.
    assert Z_BOUND * bootstrap_se(ds, "S1")[0] < st[0] - s1[0]
    assert Z_BOUND * bootstrap_se(ds, "ST")[2] < st[2]
    for key in ("S1", "ST"):
        assert np.all(ds[f"{key}_ci_low"] <= ds[key]) and np.all(ds[key] <= ds[f"{key}_ci_high"])


def test_sobol_dataset_layout(ishigami_run):
    ds = ishigami_run
    assert list(ds.input.values) == ["x1", "x2", "x3"] and ds.S1.dims == ("input",)
    for key in ("S1", "ST"):
        for suffix in ("", "_conf", "_ci_low", "_ci_high"):
            assert f"{key}{suffix}" in ds
    assert ds.attrs["n"] == 4096 and ds.attrs["evaluations"] == 4096 * 5
    assert ds.attrs["seed"] == "0" and ds.attrs["confidence"] == 0.95
    assert "Jansen" in ds.attrs["estimators"] and "Sobol" in ds.attrs["design"]
    assert ds.distribution.values[0].startswith("Uniform(")


def test_linear_additive_model():
    # y = sum c_i x_i with independent x_i: S1_i = ST_i = c_i^2 var_i / sum_j c_j^2 var_j.
    c = np.array([1.0, -2.0, 0.5, 3.0])
    problem = {
        "normal": mc.Normal(1.0, 2.0),
        "scipy": scipy.stats.norm(loc=-1.0, scale=0.5),  # any as_distribution input
        "mapping": {"dist": "normal", "mean": 0.0, "sd": 3.0},
        "uniform": mc.Uniform(0.0, 1.0),
    }
    variances = np.array([4.0, 0.25, 9.0, 1.0 / 12.0])
    truth = c**2 * variances / np.sum(c**2 * variances)
    ds = sa.sobol(lambda x: x @ c, problem, 2**11, seed=3, n_bootstrap=300)
    assert_near(ds, "S1", truth)
    assert_near(ds, "ST", truth)
    assert list(ds.input.values) == list(problem)


def test_bootstrap_errors_are_not_too_small():
    # Over independent scramblings the estimates spread no more than the bootstrap says
    # (rows of Sobol points are better spread than independent ones, which it assumes).
    problem = {name: mc.Uniform(-np.pi, np.pi) for name in ("x1", "x2", "x3")}
    runs = [sa.sobol(ishigami, problem, 2**10, seed=s, n_bootstrap=200) for s in range(20)]
    for key in ("S1", "ST"):
        est = np.array([ds[key].values for ds in runs])
        se = np.mean([bootstrap_se(ds, key) for ds in runs], axis=0)
        spread = est.std(axis=0, ddof=1)
        # A standard deviation from 20 runs has relative standard error 1/sqrt(38).
        assert np.all(spread <= se * (1 + Z_BOUND / math.sqrt(2 * 19))), (key, spread, se)


def test_seed_zero_is_a_seed_and_runs_repeat():
    problem = {"a": mc.Normal(0.0, 1.0), "b": mc.Uniform(0.0, 2.0)}

    def f(x):
        return x[:, 0] + x[:, 0] * x[:, 1]

    first = sa.sobol(f, problem, 64, seed=0, n_bootstrap=50)
    again = sa.sobol(f, problem, 64, seed=0, n_bootstrap=50)
    other = sa.sobol(f, problem, 64, seed=1, n_bootstrap=50)
    xr.testing.assert_identical(first, again)
    assert not np.array_equal(first.S1.values, other.S1.values)


def test_sobol_calls_func_once_with_the_saltelli_design():
    calls = []
    problem = {"a": mc.Uniform(0.0, 1.0), "b": mc.Uniform(10.0, 20.0), "c": mc.Normal(0, 1)}

    def f(x):
        calls.append(x.copy())
        return x.sum(axis=1)

    sa.sobol(f, problem, 16, seed=2, n_bootstrap=10)
    (x,) = calls
    n, d = 16, 3
    assert x.shape == (n * (d + 2), d) and x.dtype == np.float64
    a, b, ab = x[:n], x[n : 2 * n], x[2 * n :].reshape(d, n, d)
    for i in range(d):
        expected = a.copy()
        expected[:, i] = b[:, i]
        np.testing.assert_array_equal(ab[i], expected)
    # Balanced Sobol points: each uniform column has exactly n / 2 points in each half.
    assert np.sum(a[:, 0] < 0.5) == n // 2 and np.sum(b[:, 1] < 15.0) == n // 2
    assert np.all((a[:, 0] > 0) & (a[:, 0] < 1))


def test_sobol_rejects_bad_input():
    problem = {"a": mc.Uniform(0.0, 1.0), "b": mc.Uniform(0.0, 1.0)}

    def good(x):
        return x[:, 0] + x[:, 1]

    with pytest.raises(ValueError, match=r"power of two .*got 1000; use 512 or 1024"):
        sa.sobol(good, problem, 1000)
    for bad in (0, 1, True, 64.0, -8, 2**31):
        with pytest.raises(ValueError, match="n must be a power of two"):
            sa.sobol(good, problem, bad)
    with pytest.raises(ValueError, match=r"shape \(32,\); got shape \(32, 2\)"):
        sa.sobol(lambda x: x, problem, 8)
    with pytest.raises(ValueError, match="real numbers"):
        sa.sobol(lambda x: x[:, 0] + 1j, problem, 8)

    def some_nan(x):
        return np.where(np.arange(x.shape[0]) % 7 == 0, np.nan, x[:, 0])

    with pytest.raises(ValueError, match=r"returned 5 non-finite values .* out of 32, the first"):
        sa.sobol(some_nan, problem, 8)
    with pytest.raises(ValueError, match="variance is 0"):
        sa.sobol(lambda x: np.ones(x.shape[0]), problem, 8)
    with pytest.raises(ValueError, match=r"problem\['b'\] is a constant"):
        sa.sobol(good, {"a": mc.Uniform(0.0, 1.0), "b": 2.0}, 8)
    with pytest.raises(ValueError, match="non-empty mapping"):
        sa.sobol(good, {}, 8)
    with pytest.raises(md.DistributionError, match=r"problem\['b'\] must be a number"):
        sa.sobol(good, {"a": mc.Uniform(0.0, 1.0), "b": "wide"}, 8)
    with pytest.raises(ValueError, match=r"confidence must lie strictly between 0 and 1, got 1"):
        sa.sobol(good, problem, 8, confidence=1.0)
    with pytest.raises(ValueError, match=r"n_bootstrap must be an integer in \[2,"):
        sa.sobol(good, problem, 8, n_bootstrap=1)
    with pytest.raises(ValueError, match="func must be callable"):
        sa.sobol(None, problem, 8)
    with pytest.raises(TypeError, match="seed"):
        sa.sobol(good, problem, 8, seed=None)


# --------------------------------------------------------------------------------------------
# Measures from one run, on synthetic runs with closed forms


def run_like(inputs, outcomes):
    """A Dataset laid out as simulate(..., keep_paths=True)'s per-path part."""
    names = list(inputs)
    x = np.column_stack([np.asarray(inputs[k], dtype=np.float64) for k in names])
    data = {"inputs": (("path", "input"), x)}
    data.update({k: ("path", np.asarray(v)) for k, v in outcomes.items()})
    coords = {
        "path": np.arange(x.shape[0]),
        "input": names,
        "input_unit": ("input", ["u"] * len(names)),
    }
    return xr.Dataset(data, coords=coords, attrs={"seed": "7"})


def spearman_of_normals(rho):
    """Spearman correlation of a bivariate normal with correlation rho (Pearson 1907)."""
    return 6 / np.pi * np.arcsin(rho / 2)


def test_rank_correlation_matches_the_bivariate_normal_closed_form():
    rng = np.random.default_rng(11)
    n = 20_000
    x = rng.standard_normal((n, 3))
    ds = run_like(
        {"a": x[:, 0], "b": 5 + 2 * x[:, 1], "constant": np.full(n, 3.0), "c": np.exp(x[:, 2])},
        {
            "npv": np.exp(x[:, 0] + 0.5 * x[:, 1]),  # monotone in a normal: ranks unchanged
            "flat": np.zeros(n),
            "ruin_month": np.where(x[:, 0] < 1, 25, 12).astype(np.int32),  # heavy ties
        },
    )
    rc = sa.rank_correlation(ds)
    assert rc.estimate.dims == ("input", "outcome")
    assert list(rc.input.values) == ["a", "b", "c"]  # the constant is left out
    assert rc.attrs["constant_inputs_left_out"] == "constant"
    assert list(rc.outcome.values) == ["npv", "ruin_month"]  # the known outcomes, in order
    rho = np.array([1, 0.5, 0]) / np.sqrt(1.25)
    npv = rc.sel(outcome="npv")
    assert np.all(np.abs(npv.estimate - spearman_of_normals(rho)) <= Z_BOUND * npv.se)
    assert np.all((npv.ci_low < npv.estimate) & (npv.estimate < npv.ci_high))
    # With ties: ruin_month is 12 on the share p of paths with a >= 1, else 25, so its
    # ranks are affine in that indicator and the correlation is -sqrt(3 p (1 - p)).
    p = special.ndtr(-1.0)
    ruin = rc.sel(input="a", outcome="ruin_month")
    assert abs(ruin.estimate + math.sqrt(3 * p * (1 - p))) <= Z_BOUND * ruin.se
    flat = sa.rank_correlation(ds, ["flat"])
    assert np.all(np.isnan(flat.estimate.values))


def test_rank_correlation_interval_covers_95_percent():
    rng = np.random.default_rng(12)
    reps, n, rho = 300, 200, 0.6
    truth = spearman_of_normals(rho)
    covered = 0
    for _ in range(reps):
        x = rng.standard_normal((n, 2))
        y = rho * x[:, 0] + math.sqrt(1 - rho**2) * x[:, 1]
        ds = run_like({"a": x[:, 0], "b": rng.standard_normal(n)}, {"npv": y})
        rc = sa.rank_correlation(ds).sel(input="a", outcome="npv")
        covered += bool(rc.ci_low <= truth <= rc.ci_high)
    assert abs(covered / reps - 0.95) <= Z_BOUND * math.sqrt(0.95 * 0.05 / reps), covered


def test_variance_contribution_of_one_input_among_noise():
    # y = a + e with e not an input (like the monthly shocks): a explains the share
    # rho_s^2 of y's rank variance, b and c nothing.
    rng = np.random.default_rng(13)
    n = 20_000
    x = rng.standard_normal((n, 4))
    ds = run_like({"b": x[:, 1], "a": x[:, 0], "c": x[:, 2]}, {"npv": x[:, 0] + x[:, 3]})
    vc = sa.variance_contribution(ds)
    truth = spearman_of_normals(1 / math.sqrt(2)) ** 2
    assert list(vc.input.values)[0] == "a"  # largest first
    a = vc.sel(input="a")
    assert abs(a.estimate - truth) <= Z_BOUND * a.se
    assert abs(vc.explained - truth) <= Z_BOUND * vc.explained_se
    rest = vc.sel(input=["b", "c"])
    assert np.all(rest.estimate <= Z_BOUND * rest.se)
    assert float(vc.estimate.sum()) == pytest.approx(float(vc.explained), rel=1e-12)
    assert float(vc.share_of_explained.sum()) == pytest.approx(1.0, rel=1e-12)
    assert np.all((vc.ci_low <= vc.estimate) & (vc.estimate <= vc.ci_high))
    assert a.rank_correlation > 0


def test_variance_contribution_standard_error_matches_the_spread_of_replications():
    rng = np.random.default_rng(14)
    estimates, errors = [], []
    for _ in range(100):
        x = rng.standard_normal((2000, 4))
        y = x[:, 0] + 0.5 * x[:, 1] + x[:, 3]
        vc = sa.variance_contribution(
            run_like({"a": x[:, 0], "b": x[:, 1], "c": x[:, 2]}, {"npv": y})
        )
        vc = vc.sel(input=["a", "b"])
        estimates.append(vc.estimate.values)
        errors.append(vc.se.values)
    spread = np.std(estimates, axis=0, ddof=1)
    # The spread of 100 replications has relative standard error 1/sqrt(198).
    ratio = np.mean(errors, axis=0) / spread
    assert np.all(np.abs(ratio - 1) <= Z_BOUND / math.sqrt(2 * 99)), ratio


def tail_truth(a, noise_sd):
    """E[x | y in its lowest share a] in sd units, for y = x + noise, both normal."""
    return -scipy.stats.norm.pdf(special.ndtri(a)) / (a * math.sqrt(1 + noise_sd**2))


def test_tail_attribution_matches_the_normal_closed_form():
    rng = np.random.default_rng(15)
    n, noise = 40_000, 0.5
    z = rng.standard_normal((n, 3))
    ds = run_like(
        {"other": 1 + z[:, 1], "driver": 10 + 2 * z[:, 0]}, {"npv": z[:, 0] + noise * z[:, 2]}
    )
    ta = sa.tail_attribution(ds, tail=0.05)
    assert list(ta.input.values) == ["driver", "other"]  # largest standardised shift first
    assert ta.attrs["tail_paths"] == 2000 and ta.attrs["worst"] == "low"
    truth = tail_truth(0.05, noise)
    d = ta.sel(input="driver")
    assert abs(d.shift_in_sd - truth) <= Z_BOUND * d.shift_in_sd_se
    assert abs(d.mean_shift - 2 * truth) <= Z_BOUND * d.mean_shift_se
    assert d.tail_mean == pytest.approx(float(d.overall_mean + d.mean_shift), rel=1e-12)
    assert d.tail_median < d.overall_median
    other = ta.sel(input="other")
    assert abs(other.mean_shift) <= Z_BOUND * other.mean_shift_se
    # The high tail mirrors the low one.
    high = sa.tail_attribution(ds, tail=0.05, worst="high").sel(input="driver")
    assert abs(high.shift_in_sd + truth) <= Z_BOUND * high.shift_in_sd_se


def test_tail_attribution_interval_covers_95_percent():
    # The standard error counts the noise of the tail's edge (as the CVaR's does); without
    # it the intervals of the driver would cover far less than 95 %.
    rng = np.random.default_rng(16)
    reps, n, noise = 400, 2000, 0.5
    truth = tail_truth(0.05, noise)
    driver = other = 0
    for _ in range(reps):
        z = rng.standard_normal((n, 3))
        ds = run_like(
            {"driver": 10 + 2 * z[:, 0], "other": z[:, 1]}, {"npv": z[:, 0] + noise * z[:, 2]}
        )
        ta = sa.tail_attribution(ds)
        d, o = ta.sel(input="driver"), ta.sel(input="other")
        driver += bool(abs(d.shift_in_sd - truth) <= 1.959964 * d.shift_in_sd_se)
        other += bool(o.mean_shift_ci_low <= 0 <= o.mean_shift_ci_high)
    bound = Z_BOUND * math.sqrt(0.95 * 0.05 / reps)
    assert abs(driver / reps - 0.95) <= bound and abs(other / reps - 0.95) <= bound, (driver, other)


def test_tail_direction_of_month_outcomes():
    rng = np.random.default_rng(17)
    x = rng.standard_normal(1000)
    month = np.clip(np.round(12 + 4 * x), 1, 25)
    ds = run_like({"a": x}, {"first_profit_month": month, "ruin_month": month})
    assert sa.tail_attribution(ds, "first_profit_month").attrs["worst"] == "high"
    assert sa.tail_attribution(ds, "first_profit_month").shift_in_sd > 0
    assert sa.tail_attribution(ds, "ruin_month").attrs["worst"] == "low"
    assert sa.tail_attribution(ds, "ruin_month").shift_in_sd < 0


def test_single_run_measures_reject_bad_input():
    n = 3000
    x = np.linspace(0, 1, n)
    ds = run_like({"a": x, "b": x[::-1]}, {"npv": x})
    for measure in (sa.rank_correlation, sa.variance_contribution, sa.tail_attribution):
        with pytest.raises(ValueError, match=r"keep_paths=True"):
            measure(ds.drop_vars("inputs"))
        with pytest.raises(ValueError, match="no input is uncertain"):
            measure(run_like({"a": np.ones(n)}, {"npv": x}))
        with pytest.raises(ValueError, match=r"one of \['npv'\]; got 'nvp'"):
            measure(ds, "nvp" if measure is not sa.rank_correlation else ["nvp"])
    with pytest.raises(ValueError, match="tail must lie strictly between 0 and 1, got 0.0"):
        sa.tail_attribution(ds, tail=0.0)
    with pytest.raises(ValueError, match="selects 1 of 3000 paths"):
        sa.tail_attribution(ds, tail=1e-4)
    with pytest.raises(ValueError, match="worst must be 'low' or 'high', got 'bad'"):
        sa.tail_attribution(ds, worst="bad")
    with pytest.raises(ValueError, match="needs at least 600 paths .* ds has 500"):
        sa.variance_contribution(ds.isel(path=slice(0, 500)))
    with pytest.raises(ValueError, match="no variance to attribute"):
        sa.variance_contribution(ds.assign(npv=("path", np.zeros(n))))


# --------------------------------------------------------------------------------------------
# The model: one dominant input, tornado mechanics

N = 2048
DOMINANT = "gpu_rent_price_0"


@pytest.fixture(scope="module")
def dominant():
    """24 months of the default scenario with GPU rent wide, two inputs narrow, the rest fixed.

    Without financing (spec v2's inputs neutral): with its rounds the default is almost
    never ruined within 24 months, so P(ruin) would not move with anything."""
    base = mc.Scenario(horizon_months=24, correlation=None, **NEUTRAL_V2)
    fixed = {name: float(base.inputs[name].ppf(0.5)) for name in base.uncertain_inputs}
    narrow = {
        "paid_share": mc.PERT(0.045, 0.05, 0.055),
        "throughput_0": mc.PERT(650.0, 700.0, 750.0),
    }
    scenario = base.replace(**{**fixed, **narrow, DOMINANT: mc.PERT(1.0, 2.1, 6.0)})
    ds = mc.simulate(scenario, N, seed=4, keep_paths=True, progress=False)
    return scenario, ds, sa.tornado(scenario, N, seed=4)


def test_tornado_and_rank_measures_rank_the_dominant_input_first(dominant):
    scenario, ds, tor = dominant
    assert scenario.uncertain_inputs == ("paid_share", "throughput_0", DOMINANT)
    first, second = tor.isel(input=0), tor.isel(input=1)
    assert first.input == DOMINANT
    assert abs(first.swing) - abs(second.swing) > Z_BOUND * math.hypot(
        first.swing_se, second.swing_se
    )
    npv = sa.rank_correlation(ds).sel(outcome="npv")
    top = int(np.argmax(np.abs(npv.estimate.values)))
    assert npv.input.values[top] == DOMINANT
    others = npv.drop_sel(input=DOMINANT)
    gap = abs(npv.estimate.sel(input=DOMINANT)) - np.abs(others.estimate).max()
    assert gap > Z_BOUND * math.hypot(float(npv.se.sel(input=DOMINANT)), float(others.se.max()))
    assert npv.estimate.sel(input=DOMINANT) < 0  # dearer GPUs, lower NPV
    assert sa.variance_contribution(ds).input.values[0] == DOMINANT
    assert sa.tail_attribution(ds).input.values[0] == DOMINANT


def test_tornado_runs_are_the_simulations_they_claim(dominant):
    scenario, _, tor = dominant
    assert tor.attrs["runs"] == 7 and tor.attrs["seed"] == "4" and tor.attrs["n_paths"] == N
    np.testing.assert_array_equal(np.abs(tor.swing.values), np.sort(np.abs(tor.swing.values))[::-1])
    np.testing.assert_array_equal(tor.swing, tor.metric_high - tor.metric_low)
    dist = scenario.inputs[DOMINANT]
    row = tor.sel(input=DOMINANT)
    for level, value in ((0.1, row.low_value), (0.9, row.high_value)):
        frozen = dist.to_scipy()
        iqr = frozen.ppf(0.75) - frozen.ppf(0.25)
        assert abs(value - frozen.ppf(level)) <= md.TABLE_ACCURACY * (abs(value) + iqr)
    # Same seed, same paths: each metric is the mean of the run it names.
    runs = {}
    for key, value in (("low", row.low_value), ("high", row.high_value)):
        variant = scenario.replace(**{DOMINANT: float(value)})
        runs[key] = mc.simulate(variant, N, seed=4, keep_paths=True, progress=False).npv.values
    assert row.metric_low == runs["low"].mean() and row.metric_high == runs["high"].mean()
    d = runs["high"] - runs["low"]
    assert row.swing_se == pytest.approx(d.std(ddof=1) / math.sqrt(N), rel=1e-12)
    base = mc.simulate(scenario, N, seed=4, progress=False).npv.values
    assert tor.attrs["baseline"] == base.mean()
    assert tor.input_unit.sel(input=DOMINANT) == "USD/GPU-hour"


def test_tornado_metrics(dominant):
    scenario, _, _ = dominant
    kw = dict(inputs=[DOMINANT], seed=4)
    ruined = sa.tornado(scenario, N, metric="p_ruined", **kw)
    base = mc.simulate(scenario, N, seed=4, progress=False)
    assert ruined.attrs["baseline"] == pytest.approx(float(base.p_ruined[-1]), abs=1e-15)
    assert ruined.swing > Z_BOUND * ruined.swing_se  # dearer GPUs, more ruin
    for name in ("npv_median", "npv_cvar95"):
        tor = sa.tornado(scenario, N, metric=name, **kw)
        assert np.isnan(tor.swing_se).all() and "not computed" in tor.attrs["swing_se_method"]
    cvar = sa.tornado(scenario, N, metric="npv_cvar95", **kw)
    # Dearer GPUs lower every path's NPV on the same random numbers, so the shortfall grows.
    assert cvar.swing > 0
    by_name = sa.tornado(scenario, N, metric="terminal_cash_mean", **kw)

    def mean_terminal_cash(ds):
        return float(ds.terminal_cash.mean())

    by_callable = sa.tornado(scenario, N, metric=mean_terminal_cash, **kw)
    assert by_callable.attrs["metric"] == "mean_terminal_cash"
    np.testing.assert_allclose(by_callable.swing, by_name.swing, rtol=1e-12)


def test_tornado_rejects_bad_input(dominant):
    scenario, _, _ = dominant
    with pytest.raises(ValueError, match="metric must be one of .* got 'npv_mena'"):
        sa.tornado(scenario, 64, metric="npv_mena")
    with pytest.raises(ValueError, match="'users_0' is the constant"):
        sa.tornado(scenario, 64, inputs=["users_0"])
    with pytest.raises(ValueError, match="unknown input 'gpu_rent'"):
        sa.tornado(scenario, 64, inputs=["gpu_rent"])
    with pytest.raises(ValueError, match="low must be below high, got low=0.9, high=0.1"):
        sa.tornado(scenario, 64, low=0.9, high=0.1)
    with pytest.raises(ValueError, match="high must lie strictly between 0 and 1, got 1.0"):
        sa.tornado(scenario, 64, high=1.0)
    for key in ("keep_paths", "precision", "max_paths"):
        with pytest.raises(SimulationError, match=f"do not pass {key}"):
            sa.tornado(scenario, 64, **{key: None})
    fixed = scenario.replace(
        **{n: float(scenario.inputs[n].ppf(0.5)) for n in scenario.uncertain_inputs}
    )
    with pytest.raises(ValueError, match="no uncertain input to swing"):
        sa.tornado(fixed, 64)
    with pytest.raises(ValueError, match="must return a real number"):
        sa.tornado(scenario, 64, inputs=DOMINANT, metric=lambda ds: "high")
    # A percentile can make the scenario invalid: users above a constant ceiling.
    crowded = scenario.replace(users_0=mc.PERT(1e8, 2e8, 5e8), user_ceiling=3e8)
    with pytest.raises(mc.ScenarioError, match="tornado: setting users_0 at its 0.9 quantile"):
        sa.tornado(crowded, 64, inputs=["users_0"])


def test_single_run_measures_need_kept_paths(dominant):
    scenario, _, _ = dominant
    summary = mc.simulate(scenario, 256, seed=4, keep_paths=False, progress=False)
    with pytest.raises(ValueError, match=r"run simulate\(\.\.\., keep_paths=True\)"):
        sa.rank_correlation(summary)


def test_tornado_rank_correlation_and_sobol_agree_on_the_dominant_input(dominant):
    scenario, ds, tor = dominant
    indices = sa.model_sobol(scenario, 1024, seed=4, n_bootstrap=200)
    assert indices.attrs["evaluations"] == 1024 * 5 and indices.attrs["outcome"] == "npv"
    z = float(special.ndtri(0.5 + indices.attrs["confidence"] / 2))
    for key in ("S1", "ST"):
        est = indices[key]
        se = indices[f"{key}_conf"] / z
        top = est.sel(input=DOMINANT)
        others = est.drop_sel(input=DOMINANT)
        gap = float(top - others.max())
        se_others = float(se.drop_sel(input=DOMINANT).max())
        assert gap > Z_BOUND * math.hypot(float(se.sel(input=DOMINANT)), se_others), key
    rank = sa.rank_correlation(ds).sel(outcome="npv")
    by_rank = list(rank.input.values[np.argsort(-np.abs(rank.estimate.values))])
    by_sobol = list(indices.input.values[np.argsort(-indices.ST.values)])
    assert tor.input.values[0] == by_rank[0] == by_sobol[0] == DOMINANT


def test_model_sobol_rejects_bad_input(dominant):
    scenario, _, _ = dominant
    with pytest.raises(SimulationError, match="not an uncertain input"):
        sa.model_sobol(scenario, 64, inputs=["pue"])
    with pytest.raises(SimulationError, match="outcome must be one of"):
        sa.model_sobol(scenario, 64, outcome="revenue")
    with pytest.raises(SimulationError, match="sets keep_paths itself"):
        sa.model_sobol(scenario, 64, keep_paths=True)
