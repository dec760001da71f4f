"""Inverse CDFs of the static-input distributions, evaluated from a normal score.

Every static input is drawn as a standard normal z (Philox, step 0), possibly
correlated with others through the copula's Cholesky factor, then mapped to
its distribution by x = F^-1(Phi(z)). Working from z rather than u = Phi(z)
keeps full precision in both tails (Normal and LogNormal use z directly, the
quantile tables are laid out on a z grid, and upper tails use Phi(-z)).

A distribution reaches the kernels as an integer ``kind``, four float
parameters and, for the tabulated kinds, a slice of one flat ``data`` array
(offset and length held in parameters 2 and 3).
"""

import math

import numba
import numpy as np

from .elementary import exp
from .layout import (
    CONSTANT,
    DISCRETE,
    EMPIRICAL,
    LOGNORMAL,
    NORMAL,
    TABLE,
    TRIANGULAR,
    TRUNCATED_NORMAL,
    UNIFORM,
)
from .rng import draw_block, inverse_normal_cdf, normal, normal_cdf
from .target import FASTMATH, device

KIND_NAMES = {
    CONSTANT: "constant",
    UNIFORM: "uniform",
    NORMAL: "normal",
    LOGNORMAL: "lognormal",
    TRIANGULAR: "triangular",
    TRUNCATED_NORMAL: "truncated normal",
    TABLE: "quantile table",
    EMPIRICAL: "empirical",
    DISCRETE: "discrete",
}


@device(inline=True)
def table_point(z, z_min, dz, n):
    """Where ``z`` falls on a table of ``n`` points from ``z_min`` by ``dz``: the
    interval i and the fraction t in [0, 1] (clamped to the table's ends)."""
    s = min(max((z - z_min) / dz, 0.0), n - 1.0)
    i = min(np.int64(s), np.int64(n - 2))
    return i, s - np.float64(i)


@device(inline=True)
def hermite(t, x0, x1, d0, d1):
    """Cubic Hermite interpolation between (x0, slope d0) and (x1, slope d1), slopes per
    interval; t = 0 gives x0 and t = 1 gives x1 exactly."""
    t2 = t * t
    t3 = t2 * t
    x = (
        (2.0 * t3 - 3.0 * t2 + 1.0) * x0
        + (t3 - 2.0 * t2 + t) * d0
        + (-2.0 * t3 + 3.0 * t2) * x1
        + (t3 - t2) * d1
    )
    # Monotone slopes keep the piece inside [x0, x1]; clamping removes round-off wobble.
    return min(max(x, x0), x1)


@device(inline=True)
def _hermite_table(z, z_min, dz, data, offset, n):
    """Cubic Hermite interpolation of tabulated (x, dx/dz) on a uniform z grid."""
    i, t = table_point(z, z_min, dz, n)
    j = offset + i
    return hermite(t, data[j], data[j + 1], data[j + n] * dz, data[j + n + 1] * dz)


@device
def _truncated_normal(mean, sd, low, high, z):
    # x = Phi^-1(Phi(a) + u (Phi(b) - Phi(a))). To keep every probability small,
    # and so exact, a window in the upper tail (a > 0) is mirrored; for z > 0 the
    # step is taken from the window's upper end with Phi(-z) = 1 - u, and when that
    # end lies above the mean, from the upper tail probability Phi(-b) + ... .
    a = (low - mean) / sd
    b = (high - mean) / sd
    if a > 0.0:
        lo = normal_cdf(-b)
        hi = normal_cdf(-a)
        if z > 0.0:
            p = lo + normal_cdf(-z) * (hi - lo)
        else:
            p = hi - normal_cdf(z) * (hi - lo)
        x = -inverse_normal_cdf(min(max(p, 5e-324), 0.5))
    else:
        lo = normal_cdf(a)
        hi = normal_cdf(b)
        if z > 0.0 and b > 0.0:
            x = -inverse_normal_cdf(
                min(max(normal_cdf(-b) + normal_cdf(-z) * (hi - lo), 5e-324), 1.0 - 1e-16)
            )
        elif z > 0.0:
            x = inverse_normal_cdf(min(max(hi - normal_cdf(-z) * (hi - lo), 5e-324), 0.5))
        else:
            x = inverse_normal_cdf(min(max(lo + normal_cdf(z) * (hi - lo), 5e-324), 1.0 - 1e-16))
    return min(max(mean + sd * x, low), high)


@device
def _discrete(u, data, offset, n):
    # First index whose cumulative probability exceeds u (binary search).
    lo = 0
    hi = n - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if u < data[offset + mid]:
            hi = mid
        else:
            lo = mid + 1
    return data[offset + n + lo]


@device
def inverse_cdf_from_normal(kind, p0, p1, p2, p3, data, z):
    """x = F^-1(Phi(z)) for the distribution ``(kind, p0..p3, data)``."""
    if kind == CONSTANT:
        return p0
    if kind == NORMAL:
        return p0 + p1 * z
    if kind == LOGNORMAL:
        return exp(p0 + p1 * z)
    if kind == TABLE:
        return _hermite_table(z, p0, p1, data, int(p2), int(p3))
    if kind == TRUNCATED_NORMAL:
        return _truncated_normal(p0, p1, p2, p3, z)
    u = normal_cdf(z)
    if kind == UNIFORM:
        return min(p0 + (p1 - p0) * u, p1)
    if kind == TRIANGULAR:
        width = p2 - p0
        # Each branch is clamped at the mode, where the two meet with different round-off.
        if u * width < p1 - p0:
            return min(p0 + math.sqrt(u * width * (p1 - p0)), p1)
        return max(p2 - math.sqrt(normal_cdf(-z) * width * (p2 - p1)), p1)
    if kind == EMPIRICAL:
        n = int(p3)
        return data[int(p2) + min(int(u * n), n - 1)]
    if kind == DISCRETE:
        return _discrete(u, data, int(p2), int(p3))
    return math.nan


@device
def correlate_in_place(z, corr_index, chol):
    """Apply the lower Cholesky factor to the normals of the correlated inputs.

    ``corr_index`` lists the correlated inputs in input order; ``chol`` is the
    factor of their copula correlation in that order. Rows are updated from the
    last to the first, so each reads only normals not yet overwritten.
    """
    m = corr_index.shape[0]
    for j in range(m - 1, -1, -1):
        acc = 0.0
        for k in range(j + 1):
            acc += chol[j, k] * z[corr_index[k]]
        z[corr_index[j]] = acc


@device
def static_normals_into(k0, k1, path, antithetic, z):
    """Normal number i of step 0 (block i // 4, word i % 4) for every input i."""
    n = z.shape[0]
    for block in range((n + 3) // 4):
        w0, w1, w2, w3 = draw_block(k0, k1, path, 0, block, antithetic)
        i = 4 * block
        z[i] = normal(w0)
        if i + 1 < n:
            z[i + 1] = normal(w1)
        if i + 2 < n:
            z[i + 2] = normal(w2)
        if i + 3 < n:
            z[i + 3] = normal(w3)


@device
def sample_static_inputs_into(k0, k1, path, antithetic, kinds, params, data, corr_index, chol, x):
    """The static inputs of one path, written into ``x`` (one entry per input)."""
    static_normals_into(k0, k1, path, antithetic, x)
    correlate_in_place(x, corr_index, chol)
    for i in range(x.shape[0]):
        x[i] = inverse_cdf_from_normal(
            kinds[i], params[i, 0], params[i, 1], params[i, 2], params[i, 3], data, x[i]
        )


# --- Python-callable, vectorised ----------------------------------------------


@numba.njit(parallel=True, cache=True, fastmath=FASTMATH)
def transform_normals(kind, params, data, z, out):
    """``out[i] = F^-1(Phi(z[i]))`` for one distribution, over a 1-D array."""
    for i in numba.prange(z.shape[0]):
        out[i] = inverse_cdf_from_normal(
            kind, params[0], params[1], params[2], params[3], data, z[i]
        )


@numba.njit(parallel=True, cache=True, fastmath=FASTMATH)
def sample_static_inputs(k0, k1, paths, antithetic, kinds, params, data, corr_index, chol, out):
    """Static inputs of many paths: ``out[i, j]`` is input j on path ``paths[i]``."""
    for i in numba.prange(paths.shape[0]):
        sample_static_inputs_into(
            k0, k1, paths[i], antithetic, kinds, params, data, corr_index, chol, out[i]
        )


def empty_data() -> np.ndarray:
    """A data array for distributions that need none (numba needs a typed array)."""
    return np.zeros(1, dtype=np.float64)


@numba.njit(parallel=True, cache=True, fastmath=FASTMATH)
def inputs_from_words(words, columns, kinds, params, data, corr_index, chol, out):
    """Static inputs from given 32-bit words instead of Philox's (quasi-Monte Carlo).

    Input ``columns[j]`` of row p takes the normal of ``words[p, j]`` (the
    specification's uniform and AS 241, as for a drawn word); inputs not in
    ``columns`` get z = 0, which only constants may have. Then, as for drawn
    normals, the copula's factor and every inverse CDF.
    """
    n_inputs = out.shape[1]
    for p in numba.prange(words.shape[0]):
        z = np.zeros(n_inputs)
        for j in range(columns.shape[0]):
            z[columns[j]] = normal(words[p, j])
        correlate_in_place(z, corr_index, chol)
        for i in range(n_inputs):
            out[p, i] = inverse_cdf_from_normal(
                kinds[i], params[i, 0], params[i, 1], params[i, 2], params[i, 3], data, z[i]
            )
