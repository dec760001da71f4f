"""The kernels' polynomial exp and log (kernels.elementary) against numpy's libm."""

import math

import numba
import numpy as np
import pytest

from kernels import elementary


@numba.njit
def _both(x):
    out = np.empty((x.size, 2))
    for i in range(x.size):
        out[i, 0] = elementary.exp(x[i])
        out[i, 1] = elementary.log(x[i])
    return out


def _ulps(got, want):
    """|got - want| in units of the last place of ``want`` (finite values)."""
    return np.abs(got - want) / np.spacing(np.abs(want))


def test_exp_is_within_an_ulp_or_two_over_the_double_range():
    rng = np.random.default_rng(0)
    x = np.concatenate([
        rng.uniform(-745.0, 709.7, 200_000),
        rng.uniform(-1.0, 1.0, 100_000),
        rng.normal(0.0, 1e-8, 10_000),
        [0.0, -0.0, 1.0, -1.0, 709.78, -708.39, -744.0],
    ])  # fmt: skip
    got = _both(x)[:, 0]
    want = np.exp(x)
    normal = want >= np.finfo(np.float64).tiny
    assert _ulps(got[normal], want[normal]).max() <= 2.0
    # Subnormal results: within a unit of the smallest subnormal.
    assert np.all(np.abs(got[~normal] - want[~normal]) <= 5e-324 * 2)


def test_log_is_within_an_ulp_or_two_over_the_double_range():
    rng = np.random.default_rng(1)
    x = np.concatenate([
        np.exp(rng.uniform(-744.0, 709.0, 200_000)),
        rng.uniform(0.5, 2.0, 100_000),
        1.0 + rng.normal(0.0, 1e-6, 10_000),
        [5e-324, 1e-310, 2.2250738585072014e-308, 1.7976931348623157e308, 1.0, 2.0, 0.5],
    ])  # fmt: skip
    got = _both(x)[:, 1]
    want = np.log(x)
    nonzero = want != 0.0
    assert _ulps(got[nonzero], want[nonzero]).max() <= 2.0
    assert np.all(got[~nonzero] == 0.0)


@pytest.mark.parametrize(
    ("x", "exp", "log"),
    [
        (0.0, 1.0, -math.inf),
        (math.inf, math.inf, math.inf),
        (-math.inf, 0.0, math.nan),
        (math.nan, math.nan, math.nan),
        (-1.0, math.exp(-1.0), math.nan),
        (710.0, math.inf, math.log(710.0)),
        (-746.0, 0.0, math.nan),
    ],
)
def test_edges_follow_ieee(x, exp, log):
    got_exp, got_log = _both(np.array([x]))[0]
    np.testing.assert_equal(got_exp, exp)
    np.testing.assert_allclose(got_log, log, rtol=2.5e-16)


@numba.njit
def _fma_many(a, b, c):
    out = np.empty(a.size)
    for i in range(a.size):
        out[i] = elementary.fma(a[i], b[i], c[i])
    return out


def test_fma_rounds_once_and_the_simulator_body_gives_the_same_bits():
    from fractions import Fraction

    from kernels.elementary import _fma_simulator

    rng = np.random.default_rng(3)
    n = 4000
    scale = 10.0 ** rng.integers(-150, 150, n)
    a, b = rng.normal(size=n) * scale, rng.normal(size=n)
    c = -a * b * (1.0 + rng.normal(size=n) * 1e-9)  # a * b + c cancels: rounding shows
    got = _fma_many(a, b, c)
    triples = zip(a, b, c, strict=True)
    exact = [float(Fraction(x) * Fraction(y) + Fraction(z)) for x, y, z in triples]
    np.testing.assert_array_equal(got, exact)
    assert not np.array_equal(got, a * b + c)  # two roundings differ from one
    simulated = [_fma_simulator(x, y, z) for x, y, z in zip(a, b, c, strict=True)]
    np.testing.assert_array_equal(simulated, got)
    edges = np.array([[1e308, 10.0, -1e308], [np.inf, 0.0, 1.0], [np.nan, 1.0, 1.0],
                      [-0.0, 1.0, 0.0], [1.0, 1.0, -1.0]])  # fmt: skip
    cpu = _fma_many(edges[:, 0], edges[:, 1], edges[:, 2])
    sim = np.array([_fma_simulator(*row) for row in edges])
    np.testing.assert_array_equal(np.signbit(cpu), np.signbit(sim))
    np.testing.assert_array_equal(cpu, sim)
    assert cpu[0] == np.inf and np.isnan(cpu[1]) and np.isnan(cpu[2])
