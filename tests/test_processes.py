"""Process steps against their closed forms, driven by the engine's own random streams."""

import math

import numba
import numpy as np
import pytest

from kernels import processes as kp
from kernels import reference, rng

from .stats import assert_ks, assert_mean, assert_proportion, assert_variance

N_PATHS = 100_000
DT = 1.0 / 12.0


def _normals(seed, months):
    """(N_PATHS, months) standard normals, month t from step t, word 0 of block 0."""
    paths = np.arange(N_PATHS, dtype=np.uint64)
    return np.stack(
        [rng.draw_standard_normals(seed, paths, t)[:, 0] for t in range(1, months + 1)], 1
    )


@numba.njit(cache=True)
def _run_gbm(x0, drift, vol, dt, z):
    out = np.empty(z.shape[0])
    for p in range(z.shape[0]):
        x = x0
        for t in range(z.shape[1]):
            x = kp.gbm_step(x, drift, vol, dt, z[p, t])
        out[p] = x
    return out


@numba.njit(cache=True)
def _run_logistic(x0, rate, ceiling, vol, dt, z):
    out = np.empty((z.shape[0], z.shape[1]))
    for p in range(z.shape[0]):
        x = x0
        for t in range(z.shape[1]):
            x = kp.logistic_step(x, rate, ceiling, vol, dt, z[p, t])
            out[p, t] = x
    return out


@numba.njit(cache=True)
def _run_log_ou(y0, reversion, log_mean, vol, dt, z):
    out = np.empty(z.shape[0])
    for p in range(z.shape[0]):
        y = y0
        for t in range(z.shape[1]):
            y = kp.log_ou_step(y, reversion, log_mean, vol, dt, z[p, t])
        out[p] = y
    return out


@numba.njit(cache=True)
def _run_logit_ar1(mean, phi, vol, z):
    m = kp.logit(mean)
    state = np.empty(z.shape[0])
    level = np.empty(z.shape[0])
    for p in range(z.shape[0]):
        x = m
        for t in range(z.shape[1]):
            x = kp.logit_ar1_step(x, m, phi, vol, z[p, t])
        state[p] = x
        level[p] = kp.logistic(x)
    return state, level


def test_gbm_matches_lognormal_closed_form():
    months, drift, vol = 24, 0.15, 0.4
    z = _normals(1, months)
    x = _run_gbm(2.0, drift, vol, DT, z)
    horizon = months * DT
    mean = 2.0 * math.exp(drift * horizon)
    variance = mean**2 * (math.exp(vol**2 * horizon) - 1.0)
    assert_mean(x, mean, sd=math.sqrt(variance), label="GBM")
    log_mean = math.log(2.0) + (drift - vol**2 / 2) * horizon
    assert_mean(np.log(x), log_mean, sd=vol * math.sqrt(horizon), label="log GBM")
    assert_variance(np.log(x), vol**2 * horizon, label="log GBM")
    assert_ks((np.log(x) - log_mean) / (vol * math.sqrt(horizon)), "norm", label="log GBM")


def test_logistic_with_infinite_ceiling_is_gbm_with_mean_users_0_exp_rt():
    months, rate, vol = 36, 0.5, 0.3
    z = _normals(2, months)
    users = _run_logistic(1e6, rate, math.inf, vol, DT, z)
    np.testing.assert_array_equal(users[:, -1], _run_gbm(1e6, rate, vol, DT, z))
    for t in (12, 36):
        mean = 1e6 * math.exp(rate * t * DT)
        sd = mean * math.sqrt(math.exp(vol**2 * t * DT) - 1)
        assert_mean(users[:, t - 1], mean, sd=sd, label=f"users month {t}")


def test_deterministic_logistic_rises_to_its_ceiling_and_stays():
    z = np.zeros((1, 600))
    path = _run_logistic(1e5, 1.2, 1e8, 0.0, DT, z)[0]
    assert np.all(np.diff(path) >= 0) and np.all(path <= 1e8)
    assert path[-1] == pytest.approx(1e8, rel=1e-12)
    # Closed form of the logistic ODE is matched to first order in dt at early times.
    t = 12
    ode = 1e8 / (1 + (1e8 / 1e5 - 1) * math.exp(-1.2 * t * DT))
    assert path[t - 1] == pytest.approx(ode, rel=0.05)


@pytest.mark.parametrize(("start", "months"), [(math.log(0.08), 240), (math.log(0.20), 18)])
def test_log_ou_matches_ar1_mean_and_variance(start, months):
    reversion, log_mean, vol = 1.5, math.log(0.08), 0.35
    y = _run_log_ou(start, reversion, log_mean, vol, DT, _normals(3, months))
    c = 1 - reversion * DT
    mean = log_mean + c**months * (start - log_mean)
    variance = vol**2 * DT * (1 - c ** (2 * months)) / (1 - c**2)
    assert_mean(y, mean, sd=math.sqrt(variance), label="log OU")
    assert_variance(y, variance, label="log OU")
    if months == 240:  # effectively stationary: N(log_mean, vol^2 dt / (1 - c^2))
        stationary = vol**2 * DT / (1 - c**2)
        assert variance == pytest.approx(stationary, rel=1e-12)
        assert_ks((y - log_mean) / math.sqrt(stationary), "norm", label="log OU")


def test_logit_ar1_stationary_law_and_bounds():
    mean, phi, vol, months = 0.55, 0.8, 0.25, 120
    state, level = _run_logit_ar1(mean, phi, vol, _normals(4, months))
    m = math.log(mean / (1 - mean))
    variance = vol**2 * (1 - phi ** (2 * months)) / (1 - phi**2)
    assert_mean(state, m, sd=math.sqrt(variance), label="logit AR(1)")
    assert_variance(state, variance, label="logit AR(1)")
    assert np.all((level > 0) & (level < 1))
    np.testing.assert_allclose(level, 1 / (1 + np.exp(-state)), rtol=1e-15)


def test_logit_and_logistic_are_inverse():
    for p in (1e-6, 0.1, 0.55, 0.999999):
        assert kp.logistic(kp.logit(p)) == pytest.approx(p, rel=1e-12)


def test_bernoulli_jump_frequency():
    # The spec's jump uniform: word 1 of block 1 of each monthly step.
    paths = np.arange(N_PATHS, dtype=np.uint64)
    v = np.concatenate([reference.uniform(rng.draw_words(5, paths, t, 1)[:, 1]) for t in (1, 2, 3)])
    rate, size = 0.6, 0.3
    hits = sum(kp.jump_occurs(x, rate, DT) for x in v[:60_000])
    assert_proportion(hits, 60_000, rate * DT, label="jumps")
    factors = np.array([kp.jump_factor(x, rate, DT, size) for x in v[:2000]])
    np.testing.assert_array_equal(factors, np.where(v[:2000] < rate * DT, 1 - size, 1.0))
    # Antithetic jump uniforms are exactly 1 - v, so a pair never both jump when rate dt < 1/2.
    anti = reference.uniform(rng.draw_words(5, paths[:2000], 1, 1, antithetic=True)[:, 1])
    np.testing.assert_array_equal(anti[1::2], 1.0 - anti[0::2])
