"""Tests for montecarlo.distributions (and the inverse CDFs in kernels.distributions).

Reference values come from scipy (``to_scipy().ppf``) or from exact formulas; every
statistical check uses a fixed seed and standard-error tolerances from ``tests/stats.py``.

Tolerances (measured, scipy 1.17):

* closed-form inverse CDFs: |ppf - scipy| <= CLOSED_FORM_RTOL * (|x| + IQR), i.e. relative
  error with the interquartile range as a floor so that quantiles near zero are not judged
  by a meaningless relative error. Worst measured on U_GRID: 2.6e-14 (truncated normal
  window [10, 11] sd); 1e-12 leaves a 40x margin. Exception: the truncated normal's upper
  tail (xfail tests below, ~1e-11 at u = 1 - 1e-6).
* tabulated inverse CDFs: the documented statement, TABLE_ACCURACY * (|x| + IQR). Worst
  measured over TABULATED: 0.058 * TABLE_ACCURACY (Beta(0.2, 0.3)).
"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
import scipy.special
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

from montecarlo.distributions import (
    PERT,
    SMALL_SHAPE_TABLE_ACCURACY,
    TABLE_ACCURACY,
    Beta,
    Constant,
    Discrete,
    Distribution,
    DistributionError,
    Empirical,
    Gamma,
    LogNormal,
    Normal,
    ScipyDistribution,
    Triangular,
    TruncatedNormal,
    Uniform,
    as_distribution,
    from_dict,
)

from .stats import P_MIN, assert_ks, assert_mean, assert_proportion

INF = math.inf
NAN = math.nan

#: u from 1e-6 to 0.5 on a log scale and the mirrored upper half, sorted, 0.5 once.
LOWER_U = np.geomspace(1e-6, 0.5, 300)
U_GRID = np.unique(np.concatenate([LOWER_U, 1.0 - LOWER_U]))
#: Grid for the monotonicity / support properties: U_GRID plus far-tail probabilities.
U_PROPERTY = np.unique(np.concatenate([[1e-300, 1e-100, 1e-12], U_GRID, [1 - 1e-12]]))

CLOSED_FORM_RTOL = 1e-12
N_SAMPLES = 40_000


def iqr(frozen) -> float:
    return float(frozen.ppf(0.75) - frozen.ppf(0.25))


def scaled_error(dist: Distribution, u=U_GRID) -> np.ndarray:
    """|kernel ppf - scipy ppf| / (|x| + IQR) on the grid ``u``."""
    frozen = dist.to_scipy()
    want = frozen.ppf(u)
    got = dist.ppf(u)
    assert got.shape == want.shape and np.all(np.isfinite(got))
    return np.abs(got - want) / (np.abs(want) + iqr(frozen))


def assert_scaled_error(dist: Distribution, tol: float, u=U_GRID) -> None:
    err = scaled_error(dist, u)
    worst = int(np.argmax(err))
    assert err[worst] <= tol, (
        f"{dist}: error {err[worst]:.3g} * (|x| + IQR) at u = {u[worst]:.6g} "
        f"(ppf {dist.ppf(u[worst])!r}, scipy {dist.to_scipy().ppf(u[worst])!r}); allowed {tol:.3g}"
    )


# --- 1. closed-form inverse CDFs ------------------------------------------------------

CLOSED_FORM = [
    Uniform(-1.0, 3.0),
    Uniform(2.0, 5.0),
    Uniform(-1e6, -1e6 + 1e-3),
    Normal(0.0, 1.0),
    Normal(5.0, 2.0),
    Normal(-1e3, 1e-3),
    LogNormal(0.0, 1.0),
    LogNormal(3.0, 0.5),
    LogNormal(-2.0, 2.0),
    Triangular(0.0, 1.0, 3.0),
    Triangular(-2.0, 1.0, 5.0),
    Triangular(0.0, 0.0, 1.0),  # mode at low
    Triangular(0.0, 1.0, 1.0),  # mode at high
    Triangular(10.0, 10.0, 10.5),
    TruncatedNormal(0.0, 1.0, -1.0, 2.0),
    TruncatedNormal(0.0, 1.0),  # no truncation
    TruncatedNormal(3.0, 2.0, -INF, 3.0),  # one-sided, upper bound at the mean
    TruncatedNormal(0.0, 1.0, -INF, 1.0),  # one-sided
    TruncatedNormal(0.0, 1.0, 3.0, 4.0),  # far upper tail
    TruncatedNormal(0.0, 1.0, -4.0, -3.0),  # far lower tail
    TruncatedNormal(0.0, 1.0, -INF, -4.0),  # one-sided, far lower tail
    TruncatedNormal(10.0, 3.0, 40.0, 43.0),  # [10, 11] sd
    TruncatedNormal(0.0, 1.0, -11.0, -10.0),
    pytest.param(
        TruncatedNormal(0.0, 1.0, 4.0, INF),  # scipy is exact here (checked to 40 digits)
    ),
]


@pytest.mark.parametrize("dist", CLOSED_FORM, ids=repr)
def test_closed_form_inverse_cdf_matches_scipy(dist):
    assert_scaled_error(dist, CLOSED_FORM_RTOL)


def _one_sided_upper_reference(mean, sd, low, z):
    """Exact F^-1(Phi(z)) of Normal(mean, sd) on [low, inf): P(X > x) = Phi(-z)."""
    a = (low - mean) / sd
    return mean + sd * -scipy.special.ndtri(scipy.special.ndtr(-z) * scipy.special.ndtr(-a))


def _one_sided_lower_reference(mean, sd, high, z):
    """Exact F^-1(Phi(z)) of Normal(mean, sd) on (-inf, high]: P(X < x) = Phi(z)."""
    b = (high - mean) / sd
    return mean + sd * scipy.special.ndtri(scipy.special.ndtr(z) * scipy.special.ndtr(b))


TAIL_Z = np.linspace(3.0, 6.338, 40)  # up to the largest normal a 32-bit draw reaches


@pytest.mark.parametrize("high", [INF, 1.0, -0.5, -4.0])
def test_truncated_normal_lower_tail_keeps_precision(high):
    dist = TruncatedNormal(0.0, 1.0, -INF, high)
    got = dist.ppf_from_normal(-TAIL_Z)
    want = _one_sided_lower_reference(0.0, 1.0, high, -TAIL_Z)
    np.testing.assert_allclose(got, want, rtol=CLOSED_FORM_RTOL, atol=0)


@pytest.mark.parametrize("low", [-INF, -1.0, 0.5, 4.0])
def test_truncated_normal_upper_tail_keeps_precision(low):
    dist = TruncatedNormal(0.0, 1.0, low, INF)
    got = dist.ppf_from_normal(TAIL_Z)
    want = _one_sided_upper_reference(0.0, 1.0, low, TAIL_Z)
    np.testing.assert_allclose(got, want, rtol=CLOSED_FORM_RTOL, atol=0)


def test_normal_and_lognormal_use_the_normal_score_exactly():
    z = np.linspace(-8.0, 8.0, 161)
    np.testing.assert_array_equal(Normal(0.0, 1.0).ppf_from_normal(z), z)
    np.testing.assert_allclose(
        LogNormal(0.5, 2.0).ppf_from_normal(z), np.exp(0.5 + 2.0 * z), rtol=4e-16, atol=0
    )


def test_ppf_keeps_the_shape_of_its_argument():
    u = U_GRID[:12].reshape(3, 4)
    out = Normal(1.0, 2.0).ppf(u)
    assert out.shape == (3, 4)
    np.testing.assert_array_equal(out, scipy.stats.norm(1.0, 2.0).ppf(u))


# --- 2. tabulated inverse CDFs ---------------------------------------------------------

TABULATED = [
    Beta(0.2, 0.3),
    Beta(0.5, 0.5),
    Beta(0.3, 0.8),
    Beta(2.0, 5.0),
    Beta(1.0, 1.0),
    Beta(5.0, 1.0),
    Beta(0.7, 50.0),
    Beta(200.0, 150.0),
    Beta(1000.0, 2000.0),
    Beta(2.0, 3.0, -3.0, 7.0),
    Beta(0.6, 2.0, 100.0, 101.0),
    PERT(0.0, 1.0, 3.0),
    PERT(0.0, 0.0, 1.0),  # mode at low
    PERT(0.0, 1.0, 1.0),  # mode at high
    PERT(-5.0, 2.0, 10.0, shape=8.0),
    PERT(10.0, 10.5, 20.0, shape=1.0),
    Gamma(0.2, 1.0),
    Gamma(0.5, 1.0),
    Gamma(1.0, 1.0),
    Gamma(3.0, 2.0),
    Gamma(10.0, 1e6),
    Gamma(100.0, 1e-6),
    Gamma(0.3, 1e-8),
    ScipyDistribution(scipy.stats.t(3)),
    ScipyDistribution(scipy.stats.t(3, loc=5.0, scale=2.0)),
    ScipyDistribution(scipy.stats.weibull_min(0.7)),
    ScipyDistribution(scipy.stats.lognorm(1.5)),
]


def _id(dist):
    if isinstance(dist, ScipyDistribution):
        spec = dist.to_dict()
        return f"scipy.{spec['name']}{tuple(spec['args'])}{spec['kwds'] or ''}"
    return repr(dist)


@pytest.mark.parametrize("dist", TABULATED, ids=_id)
def test_tabulated_inverse_cdf_meets_documented_accuracy(dist):
    assert_scaled_error(dist, TABLE_ACCURACY)


@settings(max_examples=25)
@given(
    shape=st.floats(0.2, 200.0),
    log10_scale=st.floats(-6.0, 6.0),
)
def test_gamma_table_accuracy_over_shapes(shape, log10_scale):
    assert_scaled_error(Gamma(shape, 10.0**log10_scale), TABLE_ACCURACY)


@settings(max_examples=25)
@given(a=st.floats(0.2, 200.0), b=st.floats(0.2, 200.0), low=st.floats(-10.0, 10.0))
def test_beta_table_accuracy_over_shapes(a, b, low):
    assert_scaled_error(Beta(a, b, low, low + 3.0), TABLE_ACCURACY)


@pytest.mark.parametrize("b", [2.0, 3.0])
def test_beta_half_shape_table_is_correct(b):
    dist = Beta(0.5, b)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # judge the values, not the warning
        dist.kernel_spec()
    assert_scaled_error(dist, TABLE_ACCURACY)


def test_beta_tabulation_emits_no_scipy_warnings():
    dist = Beta(1.02, 0.3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dist.kernel_spec()


@pytest.mark.parametrize("dist", [Gamma(0.05, 1.0), Beta(0.05, 0.05)], ids=repr)
def test_table_accuracy_for_very_small_shapes(dist):
    # Documented: below shape 0.1 the quantiles span hundreds of decades and the
    # table's error can reach several times TABLE_ACCURACY (measured up to 4.5x).
    assert_scaled_error(dist, SMALL_SHAPE_TABLE_ACCURACY)


def test_table_clamps_to_its_end_values_beyond_the_grid():
    dist = Gamma(2.0, 3.0)
    z = np.array([-40.0, -8.5, 8.5, 40.0])
    x = dist.ppf_from_normal(z)
    assert x[0] == x[1] and x[2] == x[3]
    frozen = dist.to_scipy()
    np.testing.assert_allclose(x[1], frozen.ppf(scipy.special.ndtr(-8.5)), rtol=1e-12)
    np.testing.assert_allclose(x[2], frozen.isf(scipy.special.ndtr(-8.5)), rtol=1e-12)


def _truncated_normal_moments(mean, sd, low, high):
    a, b = (low - mean) / sd, (high - mean) / sd
    pdf, mass = scipy.stats.norm.pdf, scipy.stats.norm.cdf(b) - scipy.stats.norm.cdf(a)
    tail_a = a * pdf(a) if np.isfinite(a) else 0.0
    tail_b = b * pdf(b) if np.isfinite(b) else 0.0
    shift = (pdf(a) - pdf(b)) / mass
    return mean + sd * shift, sd**2 * (1 + (tail_a - tail_b) / mass - shift**2)


# The references above all go through to_scipy(); these pin to_scipy() itself to the
# documented parameterisations (mean and variance from textbook formulas).
DOCUMENTED_MOMENTS = [
    (Uniform(-1.0, 3.0), 1.0, 16 / 12),
    (Normal(5.0, 2.0), 5.0, 4.0),
    (LogNormal(0.5, 0.8), math.exp(0.5 + 0.32), (math.exp(0.64) - 1) * math.exp(1.0 + 0.64)),
    (Triangular(0.0, 1.0, 3.0), 4 / 3, (0 + 1 + 9 - 0 - 0 - 3) / 18),
    (Triangular(2.0, 2.0, 5.0), 3.0, (4 + 4 + 25 - 4 - 10 - 10) / 18),
    (TruncatedNormal(1.0, 2.0, 0.0, INF), *_truncated_normal_moments(1.0, 2.0, 0.0, INF)),
    (TruncatedNormal(1.0, 2.0, -2.0, 3.0), *_truncated_normal_moments(1.0, 2.0, -2.0, 3.0)),
    (Beta(2.0, 5.0, -3.0, 7.0), -3.0 + 10 * 2 / 7, 100 * 10 / (49 * 8)),
    # PERT: a = 1 + 4 (1 - 0) / 3, b = 1 + 4 (3 - 1) / 3; mean (low + 4 mode + high) / 6.
    (PERT(0.0, 1.0, 3.0), (0 + 4 + 3) / 6, 9 * (7 / 3) * (11 / 3) / ((6**2) * 7)),
    (PERT(0.0, 1.0, 3.0, shape=6.0), (0 + 6 + 3) / 8, 9 * 3 * 5 / (64 * 9)),
    (Gamma(0.5, 3.0), 1.5, 4.5),
    (Empirical([1.0, 2.0, 2.0, 7.0]), 3.0, (4 + 1 + 1 + 16) / 4),
    (Discrete([0.0, 1.0, 5.0], [0.25, 0.5, 0.25]), 1.75, 0.25 * 1.75**2 + 0.5 * 0.75**2
     + 0.25 * 3.25**2),
]


@pytest.mark.parametrize(("dist", "mean", "variance"), DOCUMENTED_MOMENTS, ids=repr)
def test_scipy_equivalent_has_the_documented_parameterisation(dist, mean, variance):
    frozen = dist.to_scipy()
    assert frozen.mean() == pytest.approx(mean, rel=1e-12, abs=1e-12)
    assert frozen.std() == pytest.approx(math.sqrt(variance), rel=1e-12)
    low, high = dist.support
    assert (low, high) == tuple(float(v) for v in frozen.support())


def test_constant_scipy_equivalent_is_a_point_mass():
    frozen = Constant(2.5).to_scipy()
    assert frozen.mean() == 2.5 and frozen.std() == 0.0
    np.testing.assert_array_equal(frozen.cdf([2.0, 2.5, 3.0]), [0.0, 1.0, 1.0])


# --- 3. samples against scipy ------------------------------------------------------------

CONTINUOUS_SAMPLED = [
    Uniform(-1.0, 3.0),
    Normal(5.0, 2.0),
    LogNormal(0.5, 0.8),
    Triangular(0.0, 1.0, 3.0),
    Triangular(0.0, 0.0, 1.0),
    Triangular(0.0, 1.0, 1.0),
    TruncatedNormal(0.0, 1.0, -1.0, 2.0),
    TruncatedNormal(2.0, 1.5, 0.0, INF),
    TruncatedNormal(0.0, 1.0, -INF, -4.0),
    TruncatedNormal(0.0, 1.0, 3.0, 4.0),
    Beta(0.5, 0.5),
    Beta(2.0, 5.0, -3.0, 7.0),
    PERT(0.0, 1.0, 3.0),
    PERT(0.0, 0.0, 1.0),
    Gamma(0.3, 2.0),
    Gamma(50.0, 0.1),
    ScipyDistribution(scipy.stats.t(3)),
    ScipyDistribution(scipy.stats.weibull_min(0.7)),
    ScipyDistribution(scipy.stats.lognorm(1.5)),
]


@pytest.mark.parametrize(
    ("seed", "dist"),
    list(enumerate(CONTINUOUS_SAMPLED, start=101)),
    ids=[_id(d) for d in CONTINUOUS_SAMPLED],
)
def test_samples_follow_the_distribution(seed, dist):
    x = dist.sample(N_SAMPLES, seed=seed)
    frozen = dist.to_scipy()
    assert x.shape == (N_SAMPLES,) and np.all(np.isfinite(x))
    low, high = dist.support
    assert np.all((x >= low) & (x <= high))
    assert_mean(x, frozen.mean(), frozen.std(), label=_id(dist))
    assert_ks(x, frozen.cdf, label=_id(dist))


def test_sampling_is_deterministic_per_seed():
    dist = Gamma(2.0, 1.0)
    a = dist.sample(1000, seed=7)
    np.testing.assert_array_equal(a, dist.sample(1000, seed=7))
    assert not np.array_equal(a, dist.sample(1000, seed=8))


def test_discrete_frequencies_match_probs():
    # Given unsorted, with a zero-probability value in the middle.
    values = [10.0, -1.0, 2.5, 4.0, 0.0]
    probs = [0.4, 0.1, 0.3, 0.0, 0.2]
    dist = Discrete(values, probs)
    x = dist.sample(N_SAMPLES, seed=11)
    assert set(np.unique(x)) <= set(values)
    observed = np.array([np.count_nonzero(x == v) for v in values])
    assert observed[3] == 0  # probability zero: never drawn
    for v, p, hits in zip(values, probs, observed, strict=True):
        if p > 0:
            assert_proportion(hits, N_SAMPLES, p, label=f"value {v}")
    positive = np.array(probs) > 0
    chi2 = scipy.stats.chisquare(observed[positive], N_SAMPLES * np.array(probs)[positive])
    assert chi2.pvalue > P_MIN, f"chi-square p = {chi2.pvalue:.3g}"
    assert_mean(x, dist.to_scipy().mean(), dist.to_scipy().std())


def test_discrete_single_value_is_constant():
    x = Discrete([3.5], [1.0]).sample(500, seed=3)
    assert np.all(x == 3.5)


@pytest.mark.parametrize(
    "samples", [[3.5, -1.0, 2.0, 7.0, 0.25], [1.0, 1.0, 2.0], list(np.linspace(0.0, 1.0, 23))]
)
def test_empirical_resamples_each_observation_with_probability_one_over_n(samples):
    dist = Empirical(samples)
    x = dist.sample(N_SAMPLES, seed=5)
    assert set(np.unique(x)) <= set(samples)
    values, counts = np.unique(samples, return_counts=True)
    for v, c in zip(values, counts, strict=True):
        assert_proportion(np.count_nonzero(x == v), N_SAMPLES, c / len(samples), label=f"{v}")


def test_empirical_ppf_is_the_step_function_of_sorted_samples():
    dist = Empirical([4.0, 1.0, 3.0, 2.0])
    u = np.array([1e-9, 0.2, 0.26, 0.49, 0.51, 0.74, 0.76, 1 - 1e-9])
    np.testing.assert_array_equal(dist.ppf(u), [1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 4.0, 4.0])


def test_discrete_ppf_is_the_step_function_of_cumulative_probs():
    dist = Discrete([0.0, 1.0, 5.0], [0.25, 0.5, 0.25])
    u = np.array([1e-9, 0.24, 0.26, 0.74, 0.76, 1 - 1e-9])
    np.testing.assert_array_equal(dist.ppf(u), [0.0, 0.0, 1.0, 1.0, 5.0, 5.0])


@pytest.mark.parametrize("value", [0.0, -2.5, 1e300, np.float32(1.25), 7])
def test_constant_draws_are_all_the_value(value):
    dist = Constant(value)
    assert dist.is_constant and dist.support == (float(value), float(value))
    x = dist.sample(1000, seed=1)
    assert np.all(x == float(value))
    assert np.all(dist.ppf(U_GRID) == float(value))


# --- 4. LogNormal.from_interval ----------------------------------------------------------


@settings(max_examples=60)
@given(
    log_low=st.floats(-15.0, 15.0),
    log_ratio=st.floats(1e-4, 20.0),
    level=st.floats(0.05, 0.999),
)
def test_lognormal_from_interval_puts_the_interval_ends_at_low_and_high(
    log_low, log_ratio, level
):
    # (level > 0.999 loses digits in (1 + level) / 2 itself, whatever the implementation.)
    low, high = math.exp(log_low), math.exp(log_low + log_ratio)
    dist = LogNormal.from_interval(low, high, level)
    at_low, at_high = dist.ppf([(1 - level) / 2, (1 + level) / 2])
    assert at_low == pytest.approx(low, rel=CLOSED_FORM_RTOL)
    assert at_high == pytest.approx(high, rel=CLOSED_FORM_RTOL)


def test_lognormal_from_interval_default_is_the_90_percent_interval():
    dist = LogNormal.from_interval(2.0, 50.0)
    frozen = dist.to_scipy()
    assert frozen.ppf(0.05) == pytest.approx(2.0, rel=1e-12)
    assert frozen.ppf(0.95) == pytest.approx(50.0, rel=1e-12)
    assert dist.mu == pytest.approx(math.log(10.0), rel=1e-14)


# --- 5. monotone and inside the support, for random valid parameters -------------------


def _log_uniform(lo: float, hi: float):
    return st.floats(math.log(lo), math.log(hi)).map(math.exp)


_location = st.floats(-1e4, 1e4)
_width = _log_uniform(1e-4, 1e4)
_mode_fraction = st.one_of(st.just(0.0), st.just(1.0), st.floats(0.0, 1.0))


@st.composite
def valid_distributions(draw):
    family = draw(
        st.sampled_from(
            ["uniform", "normal", "lognormal", "triangular", "truncated_normal", "beta", "pert",
             "gamma", "empirical", "discrete", "scipy"]
        )
    )
    if family == "uniform":
        low = draw(_location)
        return Uniform(low, low + draw(_width))
    if family == "normal":
        return Normal(draw(_location), draw(_width))
    if family == "lognormal":
        return LogNormal(draw(st.floats(-20.0, 20.0)), draw(_log_uniform(1e-3, 5.0)))
    if family in ("triangular", "pert"):
        low = draw(_location)
        high = low + draw(_width)
        mode = min(low + draw(_mode_fraction) * (high - low), high)
        if family == "triangular":
            return Triangular(low, mode, high)
        return PERT(low, mode, high, shape=draw(st.floats(0.5, 20.0)))
    if family == "truncated_normal":
        mean, sd = draw(st.floats(-100.0, 100.0)), draw(_log_uniform(1e-3, 1e3))
        a = draw(st.one_of(st.just(-INF), st.floats(-30.0, 30.0)))
        b = draw(st.one_of(st.just(INF), st.floats(1e-3, 20.0).map(lambda w: max(a, -30.0) + w)))
        return TruncatedNormal(mean, sd, mean + sd * a, mean + sd * b)
    if family == "beta":
        low = draw(_location)
        return Beta(draw(st.floats(0.2, 50.0)), draw(st.floats(0.2, 50.0)), low,
                    low + draw(_width))
    if family == "gamma":
        return Gamma(draw(st.floats(0.2, 200.0)), draw(_log_uniform(1e-3, 1e3)))
    if family == "empirical":
        return Empirical(draw(st.lists(_location, min_size=1, max_size=30)))
    if family == "discrete":
        values = draw(st.lists(_location, min_size=1, max_size=12))
        weights = draw(st.lists(st.floats(0.0, 10.0), min_size=len(values),
                                max_size=len(values)).filter(lambda w: sum(w) > 1e-3))
        probs = np.array(weights) / np.sum(weights)
        return Discrete(values, probs)
    law = draw(st.sampled_from(["t", "weibull_min", "lognorm"]))
    shape = draw({"t": st.floats(1.0, 30.0), "weibull_min": st.floats(0.3, 5.0),
                  "lognorm": st.floats(0.1, 3.0)}[law])
    loc, scale = draw(_location), draw(_width)
    return ScipyDistribution(getattr(scipy.stats, law)(shape, loc=loc, scale=scale))


@settings(max_examples=200)
@given(dist=valid_distributions())
def test_inverse_cdf_is_monotone_and_inside_the_support(dist):
    x = dist.ppf(U_PROPERTY)
    assert not np.any(np.isnan(x)), dist
    steps = np.diff(x)
    assert np.all(steps >= 0), (dist, U_PROPERTY[np.argmin(steps)], steps.min())
    low, high = dist.support
    assert low <= high
    assert np.all((x >= low) & (x <= high)), (dist, x.min(), x.max(), (low, high))


@pytest.mark.parametrize(("low", "mode", "high"), [(0.0, 0.2, 1.0), (-5.0, -3.1, 5.0)])
def test_triangular_is_monotone_across_the_mode(low, mode, high):
    z0 = float(scipy.special.ndtri((mode - low) / (high - low)))
    z = z0 + np.arange(-50, 51) * np.spacing(abs(z0))
    x = Triangular(low, mode, high).ppf_from_normal(z)
    assert np.all(np.diff(x) >= 0), np.diff(x).min()


def test_discrete_never_returns_zero_probability_values():
    dist = Discrete([0.0, 1.0, 2.0], [0.5, 0.5, 0.0])
    assert dist.support == (0.0, 1.0)
    x = dist.ppf_from_normal(np.array([6.0, 8.0, 8.3, 9.0, 40.0]))
    assert np.all(x == 1.0), x
    dist = Discrete(np.arange(11.0), [0.1] * 10 + [0.0])
    assert dist.support == (0.0, 9.0)
    assert dist.ppf(np.nextafter(1.0, 0.0)) == 9.0


@pytest.mark.parametrize(
    ("cls", "args", "u", "want"),
    [(Uniform, (-1e308, 1e308), 0.25, -5e307), (Triangular, (-1e308, 0.0, 1e308), 0.5, 0.0)],
)
def test_huge_but_finite_bounds_are_rejected_or_handled(cls, args, u, want):
    try:
        dist = cls(*args)
    except DistributionError:
        return
    assert dist.ppf(u) == pytest.approx(want, rel=1e-12, abs=1e-12)


# --- 6. invalid parameters ------------------------------------------------------------

#: class -> (valid keyword arguments, parameters that must be > 0, parameters that may be inf)
SCALAR_PARAMS = {
    Constant: (dict(value=1.0), (), ("value",)),
    Uniform: (dict(low=0.0, high=1.0), (), ()),
    Normal: (dict(mean=0.0, sd=1.0), ("sd",), ()),
    LogNormal: (dict(mu=0.0, sigma=1.0), ("sigma",), ()),
    Triangular: (dict(low=0.0, mode=0.5, high=1.0), (), ()),
    PERT: (dict(low=0.0, mode=0.5, high=1.0, shape=4.0), ("shape",), ()),
    Beta: (dict(a=2.0, b=3.0, low=0.0, high=1.0), ("a", "b"), ()),
    Gamma: (dict(shape=2.0, scale=1.0), ("shape", "scale"), ()),
    TruncatedNormal: (dict(mean=0.0, sd=1.0, low=-1.0, high=1.0), ("sd",), ("low", "high")),
}
_CLASS_PARAM = [(cls, name) for cls, (kw, _, _) in SCALAR_PARAMS.items() for name in kw]

_wrong_type = st.one_of(
    st.none(),
    st.text(max_size=4),
    st.sampled_from(["1.0", "nan", "inf"]),
    st.booleans(),
    st.just(np.True_),
    st.lists(st.floats(-10, 10), max_size=2),
    st.tuples(st.floats(-10, 10)),
    st.just(np.array([1.0])),
    st.complex_numbers(max_magnitude=10),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
)


@st.composite
def invalid_scalar_parameter(draw):
    cls, name = draw(st.sampled_from(_CLASS_PARAM))
    kwargs, positive, may_be_infinite = SCALAR_PARAMS[cls]
    choices = [_wrong_type, st.just(NAN)]
    if name not in may_be_infinite:
        choices.append(st.sampled_from([INF, -INF]))
    if name in positive:
        choices.append(st.floats(max_value=0.0, allow_nan=False))
    bad = draw(st.one_of(*choices))
    return cls, name, {**kwargs, name: bad}


@settings(max_examples=300)
@given(case=invalid_scalar_parameter())
def test_invalid_scalar_parameters_raise_distribution_error_naming_them(case):
    cls, name, kwargs = case
    with pytest.raises(DistributionError) as info:
        cls(**kwargs)
    message = str(info.value)
    assert cls.__name__ in message and name in message, message


def test_distribution_error_is_a_value_error():
    assert issubclass(DistributionError, ValueError)


@settings(max_examples=100)
@given(
    family=st.sampled_from(["uniform", "beta", "truncated_normal", "triangular", "pert"]),
    low=st.floats(-1e6, 1e6),
    gap=st.floats(0.0, 1e3),
)
def test_bounds_out_of_order_raise(family, low, gap):
    high = low - gap  # high <= low
    make = {
        "uniform": lambda: Uniform(low, high),
        "beta": lambda: Beta(2.0, 2.0, low, high),
        "truncated_normal": lambda: TruncatedNormal(0.0, 1.0, low, high),
        "triangular": lambda: Triangular(low, low, high),
        "pert": lambda: PERT(low, high, high),
    }[family]
    with pytest.raises(DistributionError, match="low") as info:
        make()
    assert "high" in str(info.value)


@settings(max_examples=100)
@given(
    family=st.sampled_from([Triangular, PERT]),
    low=st.floats(-1e3, 1e3),
    width=st.floats(1e-3, 1e3),
    outside=st.floats(1e-3, 1e3),
    above=st.booleans(),
)
def test_mode_outside_the_bounds_raises(family, low, width, outside, above):
    high = low + width
    mode = high + outside if above else low - outside
    with pytest.raises(DistributionError, match="mode"):
        family(low, mode, high)


def test_truncated_normal_window_beyond_37_sd_raises():
    with pytest.raises(DistributionError, match="37 sd"):
        TruncatedNormal(0.0, 1.0, 38.0, INF)
    with pytest.raises(DistributionError, match="37 sd"):
        TruncatedNormal(5.0, 0.1, -INF, 1.0)
    with pytest.raises(DistributionError, match="low"):
        TruncatedNormal(0.0, 1.0, INF, INF)
    TruncatedNormal(0.0, 1.0, 36.0, INF).ppf(U_GRID)  # just inside: fine


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda: Empirical([]), ["Empirical", "samples"]),
        (lambda: Empirical(None), ["samples"]),
        (lambda: Empirical("abc"), ["samples"]),
        (lambda: Empirical([[1.0, 2.0]]), ["samples"]),
        (lambda: Empirical({1.0, 2.0}), ["samples"]),
        (lambda: Empirical([1.0, NAN]), ["samples[1]", "finite"]),
        (lambda: Empirical([INF, 1.0]), ["samples[0]", "finite"]),
        (lambda: Empirical([1.0, None]), ["samples[1]"]),
        (lambda: Discrete([1.0, 2.0], [0.5]), ["values", "probs", "length"]),
        (lambda: Discrete([1.0, 2.0], [0.5, 0.6]), ["probs", "sum"]),
        (lambda: Discrete([1.0, 2.0], [0.2, 0.7]), ["probs", "sum"]),
        (lambda: Discrete([1.0, 2.0], [-0.5, 1.5]), ["probs[0]", ">= 0"]),
        (lambda: Discrete([1.0, 2.0], [0.0, 0.0]), ["probs", "sum"]),
        (lambda: Discrete([], []), ["values"]),
        (lambda: Discrete([1.0, INF], [0.5, 0.5]), ["values[1]", "finite"]),
        (lambda: Discrete([1.0, 2.0], [NAN, 1.0]), ["probs[0]"]),
        (lambda: Discrete([1.0, 2.0], None), ["probs"]),
        (lambda: Discrete([1.0, 2.0], ["a", "b"]), ["probs"]),
        (lambda: Discrete([[1.0, 2.0]], [[0.5, 0.5]]), ["values"]),
        (lambda: LogNormal.from_interval(0.0, 1.0), ["low"]),
        (lambda: LogNormal.from_interval(2.0, 1.0), ["low", "high"]),
        (lambda: LogNormal.from_interval(1.0, 2.0, 1.0), ["level"]),
        (lambda: LogNormal.from_interval(1.0, 2.0, 0.0), ["level"]),
        (lambda: LogNormal.from_interval(1.0, 2.0, NAN), ["level"]),
        (lambda: LogNormal.from_interval(1.0, "2"), ["high"]),
    ],
)
def test_invalid_arrays_and_intervals_raise_distribution_error(make, words):
    with pytest.raises(DistributionError) as info:
        make()
    for word in words:
        assert word in str(info.value), str(info.value)


@settings(max_examples=60)
@given(
    samples=st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=10),
    bad=st.sampled_from([NAN, INF, -INF]),
    where=st.integers(0, 10),
)
def test_non_finite_samples_raise(samples, bad, where):
    where = min(where, len(samples))
    samples = [*samples[:where], bad, *samples[where:]]
    with pytest.raises(DistributionError, match=rf"samples\[{where}\] must be finite"):
        Empirical(samples)
    with pytest.raises(DistributionError, match=rf"values\[{where}\] must be finite"):
        Discrete(samples, np.full(len(samples), 1 / len(samples)))


@settings(max_examples=60)
@given(
    probs=st.lists(st.floats(-1.0, 2.0), min_size=1, max_size=8).filter(
        lambda p: min(p) < 0 or abs(sum(p) - 1.0) > 1e-6
    )
)
def test_bad_probabilities_raise(probs):
    with pytest.raises(DistributionError, match="probs"):
        Discrete(list(range(len(probs))), probs)


def test_probs_must_sum_to_one_up_to_round_off():
    with pytest.raises(DistributionError, match="sum"):
        Discrete([1.0, 2.0], [0.5, 0.5 + 1e-6])
    dist = Discrete([1.0, 2.0, 3.0], [0.1, 0.2, 0.7 + 1e-12])  # round-off: accepted
    # Kept as given (so scenario files round-trip exactly); the kernel's cumulative
    # probabilities end at exactly 1, the last value taking up the round-off.
    np.testing.assert_array_equal(dist.probs, [0.1, 0.2, 0.7 + 1e-12])
    _, _, data = dist.kernel_spec()
    assert data[2] == 1.0
    np.testing.assert_allclose(dist.probs, [0.1, 0.2, 0.7], rtol=1e-11)


@pytest.mark.parametrize(
    "make",
    [
        lambda: Empirical(["1", "2"]),
        lambda: Empirical([True, False]),
        lambda: Discrete(["1", "2"], [0.5, 0.5]),
    ],
)
def test_arrays_reject_strings_and_booleans(make):
    with pytest.raises(DistributionError):
        make()


@pytest.mark.parametrize(
    "frozen",
    [
        scipy.stats.poisson(3),
        scipy.stats.binom(5, 0.3),
        scipy.stats.norm,  # not frozen
        scipy.stats.multivariate_normal([0.0, 0.0]),
        None,
        3.0,
        "norm",
    ],
    ids=["poisson", "binom", "unfrozen", "multivariate", "None", "float", "str"],
)
def test_scipy_distribution_rejects_non_continuous_frozen_laws(frozen):
    with pytest.raises(DistributionError, match="frozen continuous"):
        ScipyDistribution(frozen)


@pytest.mark.parametrize(
    "frozen",
    [scipy.stats.gamma(-1.0), scipy.stats.norm(scale=-1.0), scipy.stats.norm(loc=NAN)],
    ids=["gamma(-1)", "norm(scale=-1)", "norm(loc=nan)"],
)
def test_scipy_distribution_with_invalid_parameters_cannot_be_tabulated(frozen):
    with pytest.raises(DistributionError, match="cannot tabulate"):
        ScipyDistribution(frozen)


@settings(max_examples=40)
@given(name=st.text(max_size=12))
def test_from_dict_rejects_unknown_names(name):
    allowed = {"constant", "uniform", "normal", "lognormal", "triangular", "pert", "beta",
               "gamma", "truncated_normal", "empirical", "discrete", "scipy"}
    if name in allowed:
        return
    with pytest.raises(DistributionError, match="unknown distribution") as info:
        from_dict({"dist": name, "value": 1.0})
    assert "normal" in str(info.value)  # lists what is allowed


@pytest.mark.parametrize(
    "spec",
    [
        {"dist": "normal", "mean": 0.0},
        {"dist": "normal", "mean": 0.0, "sd": 1.0, "extra": 2.0},
        {"dist": "normal", "mean": 0.0, "sd": -1.0},
        {"dist": "beta", "a": "x", "b": 1.0},
        {"dist": "scipy", "name": "no_such_law"},
        {"dist": "scipy", "name": "poisson", "args": [3]},
        {},
    ],
)
def test_from_dict_rejects_bad_specs(spec):
    with pytest.raises(DistributionError):
        from_dict(spec)


@pytest.mark.parametrize(
    "make",
    [
        lambda: from_dict({"dist": "scipy", "name": "gamma"}),
        lambda: from_dict({"dist": "scipy", "name": "gamma", "args": [2], "kwds": {"shape": 3}}),
        lambda: from_dict({"dist": "scipy", "name": "kstest"}),
        lambda: from_dict({"dist": "scipy", "name": "norm", "args": 3}),
        lambda: ScipyDistribution(scipy.stats.gamma(2.0, scale="x")),
        lambda: from_dict({"dist": ["normal"]}),
    ],
    ids=["missing-shape", "bad-kwd", "not-a-law", "args-not-list", "string-scale", "list-name"],
)
def test_from_dict_wraps_scipy_errors(make):
    with pytest.raises(DistributionError):
        make()


@pytest.mark.parametrize("u", [0.0, 1.0, -0.1, 1.1, NAN, INF, -INF, [0.5, 1.0], [[0.2], [0.0]]])
def test_ppf_outside_the_open_unit_interval_raises(u):
    with pytest.raises(DistributionError, match=r"\(0, 1\)"):
        Normal(0.0, 1.0).ppf(u)
    with pytest.raises(DistributionError, match=r"\(0, 1\)"):
        Gamma(2.0, 1.0).ppf(u)


# --- 7. to_dict / from_dict and as_distribution ------------------------------------------

ROUND_TRIP = [
    Constant(2.5),
    Constant(-INF),
    Uniform(-1.0, 3.0),
    Normal(5.0, 2.0),
    LogNormal(0.5, 0.8),
    LogNormal.from_interval(1.0, 10.0, 0.8),
    Triangular(0.0, 0.0, 1.0),
    TruncatedNormal(0.0, 1.0),
    TruncatedNormal(1.0, 2.0, 0.0, INF),
    TruncatedNormal(1.0, 2.0, -3.0, 4.0),
    Beta(2.0, 5.0),
    Beta(0.3, 0.4, -1.0, 2.0),
    PERT(0.0, 1.0, 3.0),
    PERT(0.0, 1.0, 3.0, shape=6.5),
    Gamma(0.5, 3.0),
    Empirical([3.0, 1.0, 2.0, 2.0]),
    Discrete([3.0, 1.0, 2.0], [0.2, 0.5, 0.3]),
    ScipyDistribution(scipy.stats.t(3)),
    ScipyDistribution(scipy.stats.weibull_min(0.7, loc=1.0, scale=2.0)),
    ScipyDistribution(scipy.stats.lognorm(1.5, scale=3.0)),
]


@pytest.mark.parametrize("dist", ROUND_TRIP, ids=_id)
def test_to_dict_from_dict_round_trip(dist):
    spec = dist.to_dict()
    assert spec["dist"] == dist.name
    again = from_dict(spec)
    assert type(again) is type(dist) and again == dist
    # The mapping is plain data: it survives JSON (scenario files) unchanged.
    via_json = from_dict(json.loads(json.dumps(spec)))
    assert via_json == dist
    if not dist.is_constant:
        np.testing.assert_array_equal(via_json.ppf(U_GRID), dist.ppf(U_GRID))
    # from_dict must not consume the caller's mapping.
    assert spec == dist.to_dict()


def test_round_trip_keeps_differences():
    assert from_dict(Normal(0.0, 1.0).to_dict()) != Normal(0.0, 2.0)
    assert from_dict(Empirical([1.0, 2.0]).to_dict()) != Empirical([1.0, 3.0])
    assert Discrete([1.0, 2.0], [0.5, 0.5]) != Discrete([1.0, 2.0], [0.4, 0.6])
    assert ScipyDistribution(scipy.stats.t(3)) != ScipyDistribution(scipy.stats.t(4))


@pytest.mark.parametrize(
    ("value", "expected"),
    [(3, 3.0), (2.5, 2.5), (np.float32(1.5), 1.5), (np.int64(-4), -4.0), (-0.0, 0.0)],
)
def test_as_distribution_turns_numbers_into_constants(value, expected):
    dist = as_distribution(value)
    assert isinstance(dist, Constant) and dist.value == expected


def test_as_distribution_wraps_frozen_scipy_and_passes_others_through():
    frozen = scipy.stats.gamma(2.0, scale=3.0)
    dist = as_distribution(frozen)
    assert isinstance(dist, ScipyDistribution) and dist.to_scipy() is frozen
    assert_scaled_error(dist, TABLE_ACCURACY)
    normal = Normal(1.0, 2.0)
    assert as_distribution(normal) is normal
    assert as_distribution({"dist": "normal", "mean": 1.0, "sd": 2.0}) == normal


@pytest.mark.parametrize(
    "value",
    ["abc", "1.5", None, True, [1.0, 2.0], (1.0,), 1j, object()],
    ids=["str", "numeric-str", "None", "True", "list", "tuple", "complex", "object"],
)
def test_as_distribution_rejects_other_values_naming_the_input(value):
    with pytest.raises(DistributionError, match="price must be a number"):
        as_distribution(value, name="price")


def test_as_distribution_rejects_discrete_scipy_laws():
    with pytest.raises(DistributionError, match="Discrete"):
        as_distribution(scipy.stats.poisson(3.0))
