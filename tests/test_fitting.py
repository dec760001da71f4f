"""montecarlo.fit and montecarlo.fit_process: recovery within standard errors, honest
standard errors, the right family, supports, the scenario fields, bad input."""

import math

import numpy as np
import pandas as pd
import pytest

import montecarlo as mc
from montecarlo.fitting import (
    CANDIDATES,
    MIN_FIT_POINTS,
    MIN_PROCESS_POINTS,
    FitError,
    example_quotes,
)

SEEDS = range(5)
# 4 standard errors: a correct estimator misses by more once in about 16,000 fits.
Z_TOL = 4.0

# --------------------------------------------------------------------------------------
# fit
# --------------------------------------------------------------------------------------

# (candidate, true law, its estimated parameters): data drawn by the package's own streams.
RECOVERY = [
    ("lognormal", mc.LogNormal(0.5, 0.4), {"mu": 0.5, "sigma": 0.4}),
    ("gamma", mc.Gamma(3.0, 2.0), {"shape": 3.0, "scale": 2.0}),
    ("normal", mc.Normal(-1.0, 2.0), {"mean": -1.0, "sd": 2.0}),
    ("beta", mc.Beta(2.0, 5.0), {"a": 2.0, "b": 5.0}),
    (
        "truncated_normal",
        mc.TruncatedNormal(1.0, 2.0, 0.0),
        {"mean": 1.0, "sd": 2.0},
    ),
    ("triangular", mc.Triangular(1.0, 2.0, 5.0), {"low": 1.0, "mode": 2.0, "high": 5.0}),
    ("pert", mc.PERT(1.0, 2.0, 5.0), {"low": 1.0, "mode": 2.0, "high": 5.0}),
]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("name", "law", "truth"), RECOVERY, ids=[r[0] for r in RECOVERY])
def test_fit_recovers_parameters_within_standard_errors(name, law, truth, seed):
    x = law.sample(400, seed=seed)
    result = mc.fit(x, [name])
    row = result.table.sel(candidate=name)
    assert result.table.attrs["best"] == name and int(row["rank"]) == 1
    assert type(result.best) is type(law)
    for param, true in truth.items():
        est, se = float(row.estimate.sel(parameter=param)), float(row.se.sel(parameter=param))
        assert getattr(result.best, param) == est
        assert 0 < se < 0.5 * abs(true) + 0.5  # finite and informative
        assert abs(est - true) <= Z_TOL * se, (param, est, true, se)


@pytest.mark.parametrize(("name", "law"), [("gamma", mc.Gamma(3.0, 2.0)), ("beta", mc.Beta(2, 5))])
def test_fit_standard_errors_match_the_spread_across_samples(name, law):
    # 100 samples of 200: the estimates' standard deviation is known to ~7 % (1/sqrt(2 x 100)),
    # so a ratio outside [0.75, 1.3] means the reported SEs are off (sqrt 2 would fail).
    draws = law.sample(100 * 200, seed=11).reshape(100, 200)
    fits = [mc.fit(x, [name]).table.sel(candidate=name) for x in draws]
    est = np.array([f.estimate.values for f in fits])
    se = np.array([f.se.values for f in fits])
    ratio = est.std(axis=0, ddof=1) / np.sqrt(np.mean(se**2, axis=0))
    assert np.all((ratio > 0.75) & (ratio < 1.3)), ratio


def test_fit_normal_standard_errors_match_closed_form():
    x = mc.Normal(3.0, 0.5).sample(500, seed=3)
    row = mc.fit(x, ["normal"]).table.sel(candidate="normal")
    sd = x.std()  # the maximum likelihood sd
    expected = [sd / math.sqrt(x.size), sd / math.sqrt(2 * x.size)]
    np.testing.assert_allclose(row.se.sel(parameter=["mean", "sd"]), expected, rtol=1e-4)
    np.testing.assert_allclose(row.estimate.sel(parameter=["mean", "sd"]), [x.mean(), sd])


@pytest.mark.parametrize(
    ("law", "best"),
    [
        (mc.LogNormal(0.0, 0.8), "lognormal"),
        (mc.Beta(2.0, 5.0), "beta"),
        (mc.Normal(-1.0, 1.0), "normal"),
    ],
    ids=["lognormal", "beta", "normal"],
)
@pytest.mark.parametrize("criterion", ["aic", "bic"])
def test_fit_chooses_the_family_on_clear_cases(law, best, criterion):
    result = mc.fit(law.sample(2000, seed=5), criterion=criterion)
    assert result.table.attrs["best"] == best
    assert result.best.name == best and result.criterion == criterion
    table = result.table
    assert float(table.delta.sel(candidate=best)) == 0
    ranked = table.where(table["rank"] > 0, drop=True)
    assert float(ranked[criterion].min()) == float(table[criterion].sel(candidate=best))
    # the table holds every candidate, in order, and the empirical law is listed unranked
    assert list(table.candidate.values) == list(CANDIDATES)
    assert int(table["rank"].sel(candidate="empirical")) == 0
    assert np.isclose(
        float(table.aic.sel(candidate=best)),
        2 * int(table.n_params.sel(candidate=best)) - 2 * float(table.loglik.sel(candidate=best)),
    )


def test_fit_skips_candidates_whose_support_excludes_the_data():
    x = mc.Normal(0.0, 1.0).sample(200, seed=1)  # negative and positive values
    table = mc.fit(x).table
    for name in ("lognormal", "gamma", "beta", "truncated_normal"):
        assert str(table.status.sel(candidate=name).values).startswith("skipped")
        assert int(table["rank"].sel(candidate=name)) == 0
        assert np.isnan(float(table.aic.sel(candidate=name)))
    positive = mc.fit(mc.Gamma(2.0, 1.0).sample(200, seed=1) + 1.0).table
    assert str(positive.status.sel(candidate="beta").values).startswith("skipped")
    assert int(positive["rank"].sel(candidate="gamma")) > 0


def test_fit_quantile_matched_support_covers_the_data():
    x = mc.LogNormal(0.0, 1.0).sample(300, seed=2)
    result = mc.fit(x, ["triangular", "pert"])
    for name in ("triangular", "pert"):
        low, high = result.table.estimate.sel(candidate=name, parameter=["low", "high"]).values
        assert low < x.min() and high > x.max()
        assert np.isfinite(float(result.table.loglik.sel(candidate=name)))


def test_fit_empirical_only_when_asked_or_nothing_else_fits():
    x = np.array([0.5, 1.0, 1.5, 2.0, 4.0, 8.0])
    only = mc.fit(x, ["empirical"])
    assert isinstance(only.best, mc.Empirical)
    np.testing.assert_array_equal(only.best.samples, np.sort(x))
    fallback = mc.fit(-x, ["lognormal", "empirical"])  # lognormal skipped: negative data
    assert isinstance(fallback.best, mc.Empirical)
    with pytest.raises(FitError, match="no candidate could be fitted.*lognormal: skipped"):
        mc.fit(-x, ["lognormal", "gamma"])


def test_fit_best_goes_into_a_scenario():
    x = mc.Beta(3.0, 4.0).sample(300, seed=4)
    scenario = mc.Scenario.preset("api-startup").replace(paid_share=mc.fit(x).best)
    assert scenario.inputs["paid_share"].name == "beta"


@pytest.mark.parametrize(
    ("data", "kwargs", "message"),
    [
        ([], {}, "at least"),
        ([1.0, 2.0, 3.0], {}, f"at least {MIN_FIT_POINTS} values, got 3"),
        ([1.0, np.nan, 2.0, 3.0, 4.0, 5.0], {}, "NaN or inf at position"),
        ([1.0, 2.0, np.inf, 3.0, 4.0, 5.0], {}, r"position\(s\) 2"),
        ([2.0] * 10, {}, "constant"),
        ("abcdef", {}, "1-D sequence of numbers"),
        (np.ones((3, 4)), {}, "1-D, got shape"),
        (["a", "b", "c", "d", "e"], {}, "real numbers"),
        ([1.0, 2, 3, 4, 5], {"candidates": ["weibull"]}, "candidates must be one of"),
        ([1.0, 2, 3, 4, 5], {"candidates": []}, "non-empty"),
        ([1.0, 2, 3, 4, 5], {"candidates": ["normal", "normal"]}, "distinct"),
        ([1.0, 2, 3, 4, 5], {"candidates": "normal"}, "list of names"),
        ([1.0, 2, 3, 4, 5], {"criterion": "hqic"}, r"criterion must be one of \['aic', 'bic'\]"),
    ],
)
def test_fit_bad_input(data, kwargs, message):
    with pytest.raises(FitError, match=message):
        mc.fit(data, **kwargs)
    assert issubclass(FitError, ValueError)


# --------------------------------------------------------------------------------------
# fit_process: series simulated by the model itself (simulate_paths, numpy reference)
# --------------------------------------------------------------------------------------

MONTHS = 240
N_PATHS = 200
TRUTH = {
    "gbm": {"hardware_drift": -0.2, "hardware_volatility": 0.3},
    "log_ou": {
        "electricity_mean": 0.08,
        "electricity_reversion": 2.0,
        "electricity_volatility": 0.3,
    },
    "logit_ar1": {
        "utilization_mean": 0.6,
        "utilization_persistence": 0.7,
        "utilization_volatility": 0.3,
    },
}


def _scenario(kind: str) -> mc.Scenario:
    """api-startup with one process left random and visible in the cost per 1e6 tokens."""
    quiet = {
        "horizon_months": MONTHS,
        "throughput_gain": 0.0,
        "compute_discount": 0.0,
        "utilization_volatility": 0.0,
        "hardware_volatility": 0.0,
        "hardware_drift": 0.0,
        "generation_jump_rate": 0.0,
        "electricity_volatility": 0.0,
    }
    if kind == "log_ou":
        # Owned fleet of constant size (constant tokens, no capex): cost per token ~ e_t.
        return mc.Scenario.preset("api-startup").replace(
            **quiet | TRUTH[kind],
            electricity_price_0=TRUTH[kind]["electricity_mean"],
            rent_share=0.0,
            gpu_capex_0=0.0,
            other_cost_per_gpu_hour=0.0,
            user_volatility=0.0,
            adoption_rate=0.0,
            api_volatility=0.0,
            api_growth=0.0,
            tokens_per_query_growth=0.0,
        )
    # Rented compute: cost per token = rent_0 h_t / (3600 theta_0 u_t).
    return mc.Scenario.preset("api-startup").replace(**quiet | TRUTH[kind], rent_share=1.0)


@pytest.fixture(scope="module")
def series():
    """(N_PATHS, MONTHS) series of each process, recovered exactly from the model's output."""
    out = {}
    for kind in TRUTH:
        ds = mc.simulate_paths(_scenario(kind), N_PATHS, seed=7, backend="numpy")
        cpm = ds.cost_per_mtok.values

        def col(name, ds=ds):
            return ds.inputs.sel(input=name).values[:, None]

        theta_u = 3600 * col("throughput_0") / 1e6
        if kind == "gbm":
            out[kind] = cpm * theta_u * col("utilization_mean") / col("gpu_rent_price_0")
        elif kind == "log_ou":
            out[kind] = cpm * theta_u * col("utilization_mean") / (col("gpu_power_kw") * col("pue"))
        else:
            out[kind] = col("gpu_rent_price_0") / (theta_u * cpm)
    return out


def test_simulated_series_are_the_processes(series):
    # the hardware index starts at h_0 = 1 and utilisation around its mean: the
    # reconstructions above are the processes themselves, not rescaled copies
    first = series["gbm"][:, 0]
    assert np.all(np.abs(np.log(first)) < 0.3)
    assert np.all((series["logit_ar1"] > 0) & (series["logit_ar1"] < 1))
    assert abs(np.median(series["log_ou"]) - 0.08) < 0.01


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("kind", list(TRUTH))
def test_fit_process_recovers_fields_within_standard_errors(series, kind, seed):
    # paths are independent random streams: path `seed` plays the role of a seed
    result = mc.fit_process(series[kind][seed], kind, dt=1)
    assert result.n_obs == MONTHS and result.kind == kind
    for name, true in TRUTH[kind].items():
        se = float(result.table.se.sel(field=name))
        assert 0 < se < abs(true)
        assert abs(result.fields[name] - true) <= Z_TOL * se, (name, result.fields[name], se)


@pytest.mark.parametrize("kind", list(TRUTH))
def test_fit_process_standard_errors_match_the_spread_across_paths(series, kind):
    # 200 paths: the spread of the estimates is known to ~5 %; [0.8, 1.25] fails a SE off
    # by sqrt(12) (annualisation) or sqrt(2), and passes honest ones.
    fits = [mc.fit_process(s, kind, dt=1) for s in series[kind]]
    names = list(TRUTH[kind])
    est = np.array([[f.fields[n] for n in names] for f in fits])
    se = np.array([f.table.se.sel(field=names).values for f in fits])
    ratio = est.std(axis=0, ddof=1) / np.sqrt(np.mean(se**2, axis=0))
    assert np.all((ratio > 0.8) & (ratio < 1.25)), dict(zip(names, ratio, strict=True))


@pytest.mark.parametrize("kind", list(TRUTH))
def test_fit_process_on_quarterly_observations(series, kind):
    # every third month with dt=3 estimates the same monthly fields (exact for integer dt)
    for seed in SEEDS:
        result = mc.fit_process(series[kind][seed, 2::3], kind, dt=3)
        assert result.n_obs == MONTHS // 3
        for name, true in TRUTH[kind].items():
            se = float(result.table.se.sel(field=name))
            assert abs(result.fields[name] - true) <= Z_TOL * se, (name, result.fields[name])


@pytest.mark.parametrize("kind", list(TRUTH))
def test_fit_process_fields_go_into_a_scenario(series, kind):
    result = mc.fit_process(series[kind][0], kind, dt=1)
    base = mc.Scenario.preset("api-startup")
    scenario = base.replace(**result.fields)
    for name, value in result.fields.items():
        assert scenario.inputs[name] == mc.Constant(value)
    assert set(result.table.field.values) == set(result.fields)
    if kind == "gbm":
        # jumps are inside the fitted drift and volatility: not counted twice
        assert result.fields["generation_jump_rate"] == 0.0


def test_example_quotes_load_labelled_synthetic_and_fit():
    quotes = example_quotes()
    assert isinstance(quotes.index, pd.DatetimeIndex) and 36 <= quotes.size <= 60
    assert quotes.attrs["synthetic"] is True and "SYNTHETIC" in quotes.name
    assert "SYNTHETIC" in quotes.attrs["description"]
    assert (quotes > 0).all()
    result = mc.fit_process(quotes, "gbm", dt=1)
    # the generator's GBM: drift -0.25 /yr, volatility 0.25 /sqrt(yr)
    for name, true in (("hardware_drift", -0.25), ("hardware_volatility", 0.25)):
        se = float(result.table.se.sel(field=name))
        assert abs(result.fields[name] - true) <= Z_TOL * se
    assert result.last == quotes.iloc[-1]


def _monthly(values, start="2022-01-01"):
    return pd.Series(values, index=pd.date_range(start, periods=len(values), freq="MS"))


def test_fit_process_accepts_regular_dates():
    rng = np.random.default_rng(0)
    prices = 2.0 * np.exp(np.cumsum(0.05 * rng.standard_normal(24)))
    monthly = mc.fit_process(_monthly(prices), "gbm", dt=1)
    plain = mc.fit_process(prices, "gbm", dt=1)
    assert dict(monthly.fields) == dict(plain.fields)
    weekly = pd.Series(prices, index=pd.date_range("2022-01-03", periods=24, freq="W-MON"))
    assert mc.fit_process(weekly, "gbm", dt=12 / 52).dt == 12 / 52


@pytest.mark.parametrize(
    ("series", "kind", "dt", "message"),
    [
        (np.arange(1.0, 21.0), "arima", 1, "kind must be one of"),
        (np.arange(1.0, 21.0), "gbm", 0, "dt must be a finite number of months > 0, got 0"),
        (np.arange(1.0, 21.0), "gbm", -1.0, "dt must be"),
        (np.arange(1.0, 21.0), "gbm", math.nan, "dt"),
        (np.arange(1.0, 21.0), "gbm", "1", "dt must be a number"),
        (np.arange(1.0, 21.0), "gbm", True, "dt must be a number"),
        (np.arange(1.0, 6.0), "gbm", 1, f"at least {MIN_PROCESS_POINTS} values, got 5"),
        (np.r_[np.arange(1.0, 11.0), np.nan, 3.0], "gbm", 1, r"NaN or inf at position\(s\) 10"),
        (np.r_[np.arange(1.0, 11.0), -1.0], "log_ou", 1, "must be > 0"),
        (np.linspace(0.1, 1.0, 12), "logit_ar1", 1, r"outside at position\(s\) 11"),
        # a trending series has no level to revert to
        (np.exp(np.linspace(0, 3, 30)), "log_ou", 1, "outside \\(0, 1\\).*kind='gbm'"),
    ],
)
def test_fit_process_bad_input(series, kind, dt, message):
    with pytest.raises(FitError, match=message):
        mc.fit_process(series, kind, dt=dt)


def test_fit_process_irregular_or_unsorted_dates():
    prices = np.linspace(2.0, 3.0, 12) * (1 + 0.01 * np.sin(np.arange(12)))
    dates = pd.date_range("2022-01-01", periods=13, freq="MS").delete(5)  # June missing
    with pytest.raises(FitError, match="irregular dates.*2022-05-01 to 2022-07-01.*resample"):
        mc.fit_process(pd.Series(prices, index=dates), "gbm", dt=1)
    with pytest.raises(FitError, match="irregular dates"):
        mc.fit_process(_monthly(prices), "gbm", dt=3)  # monthly data said to be quarterly
    with pytest.raises(FitError, match="strictly increasing"):
        mc.fit_process(_monthly(prices)[::-1], "gbm", dt=1)


# --------------------------------------------------------------------------------------
# fit_process(kind="gbm", jumps=True): the hardware index with its generation jumps
# --------------------------------------------------------------------------------------

JUMP_TRUTH = {
    "hardware_drift": -0.2,
    "hardware_volatility": 0.3,
    "generation_jump_rate": 1.2,  # 24 jumps in 240 months: the rate to about 20 %
    "generation_jump_size": 0.3,
}
JUMP_PATHS = 40


def _hardware_index(ds) -> np.ndarray:
    """The hardware index h_t of each path, read exactly off the model's cost per token."""

    def col(name):
        return ds.inputs.sel(input=name).values[:, None]

    theta_u = 3600 * col("throughput_0") / 1e6
    return ds.cost_per_mtok.values * theta_u * col("utilization_mean") / col("gpu_rent_price_0")


@pytest.fixture(scope="module")
def jump_series():
    scenario = _scenario("gbm").replace(**JUMP_TRUTH)
    return _hardware_index(mc.simulate_paths(scenario, JUMP_PATHS, seed=11, backend="numpy"))


@pytest.mark.parametrize("seed", SEEDS)
def test_fit_process_with_jumps_recovers_the_jumps_within_standard_errors(jump_series, seed):
    result = mc.fit_process(jump_series[seed], "gbm", dt=1, jumps=True)
    assert set(result.fields) == set(JUMP_TRUTH)
    for name, true in JUMP_TRUTH.items():
        se = float(result.table.se.sel(field=name))
        assert 0 < se < abs(true)
        assert abs(result.fields[name] - true) <= Z_TOL * se, (name, result.fields[name], se)
    assert result.table.attrs["jump_test_p_value"] < 1e-6  # 30 % drops are unmistakable
    scenario = mc.Scenario.preset("api-startup").replace(**result.fields)
    assert scenario.inputs["generation_jump_size"] == mc.Constant(result.fields[
        "generation_jump_size"])  # fmt: skip


def test_fit_process_with_jumps_standard_errors_match_the_spread_across_paths(jump_series):
    # 40 paths know the spread to about 11 %: [0.6, 1.45] fails a SE off by sqrt(12) or
    # by a factor of 2, and passes honest ones (observed on 200 paths: 1.00-1.10).
    fits = [mc.fit_process(s, "gbm", dt=1, jumps=True) for s in jump_series]
    names = list(JUMP_TRUTH)
    est = np.array([[f.fields[n] for n in names] for f in fits])
    se = np.array([f.table.se.sel(field=names).values for f in fits])
    ratio = est.std(axis=0, ddof=1) / np.sqrt(np.mean(se**2, axis=0))
    assert np.all((ratio > 0.6) & (ratio < 1.45)), dict(zip(names, ratio, strict=True))


def test_fit_process_with_jumps_on_quarterly_observations(jump_series):
    # every third month: up to three jumps between observations, a binomial mixture
    for seed in SEEDS[:2]:
        result = mc.fit_process(jump_series[seed, 2::3], "gbm", dt=3, jumps=True)
        for name, true in JUMP_TRUTH.items():
            se = float(result.table.se.sel(field=name))
            assert abs(result.fields[name] - true) <= Z_TOL * se, (name, result.fields[name])


def test_fit_process_with_jumps_refuses_series_without_them(series):
    # Jump-free paths: the mixture could read the diffusion's tails as small jumps; the
    # likelihood-ratio test refuses most of them (about 7 % pass at the 5 % level).
    accepted = 0
    for path in series["gbm"][:12]:
        try:
            mc.fit_process(path, "gbm", dt=1, jumps=True)
            accepted += 1
        except FitError as err:
            assert "jumps=False" in str(err)
    assert accepted <= 3
    with pytest.raises(FitError, match="no generation jumps|no evidence of jumps"):
        mc.fit_process(example_quotes(), "gbm", dt=1, jumps=True)


@pytest.mark.parametrize(
    ("kind", "dt", "jumps", "message"),
    [
        ("log_ou", 1, True, "jumps=True is for kind='gbm'"),
        ("gbm", 12 / 52, True, "whole number of months"),
        ("gbm", 1.5, True, "whole number of months"),
        ("gbm", 1, "yes", "jumps must be True or False"),
    ],
)
def test_fit_process_jumps_bad_input(jump_series, kind, dt, jumps, message):
    with pytest.raises(FitError, match=message):
        mc.fit_process(jump_series[0], kind, dt=dt, jumps=jumps)
