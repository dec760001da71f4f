"""Vectorised numpy twins of the random streams, written independently of the kernels.

The tests check the numba kernels against these, and the numpy reference
backend draws its random numbers through them. Only numpy is used here.
"""

import math

import numpy as np

_M0 = np.uint64(0xD2511F53)
_M1 = np.uint64(0xCD9E8D57)
_W0 = np.uint32(0x9E3779B9)
_W1 = np.uint32(0xBB67AE85)


def philox4x32_10(counter: np.ndarray, key: np.ndarray) -> np.ndarray:
    """Philox4x32-10 of counters ``(..., 4)`` under keys ``(..., 2)`` (uint32, broadcast)."""
    counter = np.asarray(counter, dtype=np.uint32)
    key = np.asarray(key, dtype=np.uint32)
    shape = np.broadcast_shapes(counter.shape[:-1], key.shape[:-1])
    c = [np.broadcast_to(counter[..., i], shape).astype(np.uint32) for i in range(4)]
    k0 = np.broadcast_to(key[..., 0], shape).astype(np.uint32)
    k1 = np.broadcast_to(key[..., 1], shape).astype(np.uint32)
    with np.errstate(over="ignore"):  # the key schedule wraps modulo 2**32 by design
        for r in range(10):
            if r:
                k0 = k0 + _W0
                k1 = k1 + _W1
            p0 = c[0].astype(np.uint64) * _M0
            p1 = c[2].astype(np.uint64) * _M1
            hi0, lo0 = (p0 >> np.uint64(32)).astype(np.uint32), p0.astype(np.uint32)
            hi1, lo1 = (p1 >> np.uint64(32)).astype(np.uint32), p1.astype(np.uint32)
            c = [hi1 ^ c[1] ^ k0, lo1, hi0 ^ c[3] ^ k1, lo0]
    return np.stack(c, axis=-1)


def block_words(seed: int, paths, step: int, block: int, antithetic: bool = False) -> np.ndarray:
    """The 4 words of (step, block) on each path: ``(len(paths), 4)`` uint32."""
    paths = np.asarray(paths, dtype=np.uint64)
    flip = (paths & np.uint64(1)).astype(bool) if antithetic else np.zeros(paths.shape, bool)
    base = np.where(flip, paths - np.uint64(1), paths)
    counter = np.stack(
        [
            (base & np.uint64(0xFFFFFFFF)).astype(np.uint32),
            (base >> np.uint64(32)).astype(np.uint32),
            np.full(paths.shape, step, dtype=np.uint32),
            np.full(paths.shape, block, dtype=np.uint32),
        ],
        axis=-1,
    )
    key = np.array([seed & 0xFFFFFFFF, seed >> 32], dtype=np.uint32)
    words = philox4x32_10(counter, key)
    return np.where(flip[:, None], np.uint32(0xFFFFFFFF) - words, words)


def uniform(words: np.ndarray) -> np.ndarray:
    """(w + 0.5) * 2**-32."""
    return (words.astype(np.float64) + 0.5) * 2.0**-32


_A = [
    3.3871328727963666080e0,
    1.3314166789178437745e2,
    1.9715909503065514427e3,
    1.3731693765509461125e4,
    4.5921953931549871457e4,
    6.7265770927008700853e4,
    3.3430575583588128105e4,
    2.5090809287301226727e3,
]
_B = [
    1.0,
    4.2313330701600911252e1,
    6.8718700749205790830e2,
    5.3941960214247511077e3,
    2.1213794301586595867e4,
    3.9307895800092710610e4,
    2.8729085735721942674e4,
    5.2264952788528545610e3,
]
_C = [
    1.42343711074968357734e0,
    4.63033784615654529590e0,
    5.76949722146069140550e0,
    3.64784832476320460504e0,
    1.27045825245236838258e0,
    2.41780725177450611770e-1,
    2.27238449892691845833e-2,
    7.74545014278341407640e-4,
]
_D = [
    1.0,
    2.05319162663775882187e0,
    1.67638483018380384940e0,
    6.89767334985100004550e-1,
    1.48103976427480074590e-1,
    1.51986665636164571966e-2,
    5.47593808499534494600e-4,
    1.05075007164441684324e-9,
]
_E = [
    6.65790464350110377720e0,
    5.46378491116411436990e0,
    1.78482653991729133580e0,
    2.96560571828504891230e-1,
    2.65321895265761230930e-2,
    1.24266094738807843860e-3,
    2.71155556874348757815e-5,
    2.01033439929228813265e-7,
]
_F = [
    1.0,
    5.99832206555887937690e-1,
    1.36929880922735805310e-1,
    1.48753612908506148525e-2,
    7.86869131145613259100e-4,
    1.84631831751005468180e-5,
    1.42151175831644588870e-7,
    2.04426310338993978564e-15,
]


def _horner(coefficients, x):
    acc = np.full_like(x, coefficients[-1])
    for c in coefficients[-2::-1]:
        acc = acc * x + c
    return acc


def inverse_normal_cdf(p: np.ndarray) -> np.ndarray:
    """Wichura's AS 241 (PPND16), vectorised."""
    p = np.asarray(p, dtype=np.float64)
    q = p - 0.5
    r = 0.180625 - q * q
    central = q * _horner(_A, r) / _horner(_B, r)
    t = np.sqrt(-np.log(np.minimum(p, 1.0 - p)))
    near = _horner(_C, t - 1.6) / _horner(_D, t - 1.6)
    far = _horner(_E, t - 5.0) / _horner(_F, t - 5.0)
    tail = np.where(t <= 5.0, near, far)
    tail = np.where(q < 0.0, -tail, tail)
    return np.where(np.abs(q) <= 0.425, central, tail)


def block_normals(seed: int, paths, step: int, block: int, antithetic: bool = False) -> np.ndarray:
    """The spec's four normals of (step, block) on each path: ``(len(paths), 4)``."""
    return inverse_normal_cdf(uniform(block_words(seed, paths, step, block, antithetic)))


# --- Static inputs -------------------------------------------------------------------------
#
# Vectorised twins of ``kernels.distributions``, written from its documented contract: a
# distribution is ``(kind, params[4], data)`` and an input is x = F^-1(Phi(z)) of its normal
# score z. The kind codes come from kernels.layout, which holds constants only.

from .layout import (  # noqa: E402 - the kind codes of the kernels' contract
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

#: 1/sqrt(2) as the kernels spell it, so Phi's argument rounds identically.
_SQRT_HALF = 0.7071067811865476

# math.erfc element by element: numpy has no erfc, and the kernels call math.erfc, so this
# reproduces their Phi to the last bit (a polynomial approximation would not).
_erfc_object = np.frompyfunc(math.erfc, 1, 1)


def erfc(x: np.ndarray) -> np.ndarray:
    """Complementary error function of every element, exactly as ``math.erfc`` rounds it.

    Parameters
    ----------
    x : array_like
        Real arguments.

    Returns
    -------
    numpy.ndarray
        float64 array of ``math.erfc(x)`` with the shape of `x`.
    """
    x = np.asarray(x, dtype=np.float64)
    return np.asarray(_erfc_object(x), dtype=np.float64).reshape(x.shape)


def normal_cdf(z: np.ndarray) -> np.ndarray:
    """Standard normal CDF, Phi(z) = erfc(-z / sqrt(2)) / 2, accurate in both tails.

    Parameters
    ----------
    z : array_like
        Normal scores.

    Returns
    -------
    numpy.ndarray
        Phi(z), float64, same shape as `z`.
    """
    z = np.asarray(z, dtype=np.float64)
    return 0.5 * erfc(-z * _SQRT_HALF)


def _hermite_table(z, z_min, dz, data, offset, n):
    """Monotone cubic Hermite interpolation of x(z) tabulated on a uniform z grid.

    ``data[offset : offset + n]`` holds x at z_min + i dz and the next n entries hold
    dx/dz there. Outside the grid the end values are returned.
    """
    x_tab = data[offset : offset + n]
    slope = data[offset + n : offset + 2 * n]
    s = (z - z_min) / dz
    # Interval index i = floor(s), kept to a valid interval for every z (the ends are
    # overwritten below), so the gathers never go out of range.
    i = np.clip(np.floor(np.clip(s, 0.0, n - 1)), 0, n - 2).astype(np.int64)
    t = s - i
    x0, x1 = x_tab[i], x_tab[i + 1]
    d0, d1 = slope[i] * dz, slope[i + 1] * dz
    t2 = t * t
    t3 = t2 * t
    x = (
        (2.0 * t3 - 3.0 * t2 + 1.0) * x0
        + (t3 - 2.0 * t2 + t) * d0
        + (-2.0 * t3 + 3.0 * t2) * x1
        + (t3 - t2) * d1
    )
    # A monotone piece stays within [x0, x1]; the clamp only removes round-off overshoot.
    x = np.minimum(np.maximum(x, x0), x1)
    x = np.where(s <= 0.0, x_tab[0], x)
    return np.where(s >= n - 1, x_tab[n - 1], x)


def _truncated_normal(mean, sd, low, high, z):
    """Normal(mean, sd) conditioned on [low, high], from the normal score z."""
    a = (low - mean) / sd
    b = (high - mean) / sd
    u = normal_cdf(z)
    u_bar = normal_cdf(-z)
    # p = Phi(a) + u (Phi(b) - Phi(a)) loses digits wherever it is close to 1, so a
    # window in the upper tail (a > 0) is mirrored into the lower tail, and for z > 0
    # the quantile is taken from the upper tail probability Phi(-b) + (1 - u) (...),
    # with 1 - u = Phi(-z) exactly.
    if a > 0.0:
        lo, hi = normal_cdf(np.float64(-b)), normal_cdf(np.float64(-a))
        p = np.where(z > 0.0, lo + u_bar * (hi - lo), hi - u * (hi - lo))
        x = -inverse_normal_cdf(np.minimum(np.maximum(p, 5e-324), 0.5))
    else:
        lo, hi = normal_cdf(np.float64(a)), normal_cdf(np.float64(b))
        upper_tail = normal_cdf(np.float64(-b)) + u_bar * (hi - lo)
        from_top = hi - u_bar * (hi - lo)
        lower = lo + u * (hi - lo)
        if b > 0.0:
            high_side = -inverse_normal_cdf(np.minimum(np.maximum(upper_tail, 5e-324), 1.0 - 1e-16))
        else:
            high_side = inverse_normal_cdf(np.minimum(np.maximum(from_top, 5e-324), 0.5))
        x = np.where(
            z > 0.0,
            high_side,
            inverse_normal_cdf(np.minimum(np.maximum(lower, 5e-324), 1.0 - 1e-16)),
        )
    return np.minimum(np.maximum(mean + sd * x, low), high)


def inverse_cdf_from_normal(kind: int, params, data, z) -> np.ndarray:
    """x = F^-1(Phi(z)) of one static-input distribution over an array of normal scores.

    Parameters
    ----------
    kind : int
        Distribution code, CONSTANT .. DISCRETE.
    params : array_like, shape (4,)
        The distribution's four parameters (see the kind codes above); for TABLE,
        EMPIRICAL and DISCRETE, params[2] is the offset of its slice of `data` and
        params[3] the number n of table points, samples or values.
    data : numpy.ndarray
        Flat float64 array shared by the tabulated kinds.
    z : array_like
        Normal scores.

    Returns
    -------
    numpy.ndarray
        float64 draws, same shape as `z`.
    """
    z = np.asarray(z, dtype=np.float64)
    p0, p1, p2, p3 = (float(v) for v in params)
    kind = int(kind)
    if kind == CONSTANT:
        return np.full(z.shape, p0)
    if kind == NORMAL:
        return p0 + p1 * z
    if kind == LOGNORMAL:
        return np.exp(p0 + p1 * z)
    if kind == TABLE:
        return _hermite_table(z, p0, p1, np.asarray(data, np.float64), int(p2), int(p3))
    if kind == TRUNCATED_NORMAL:
        return _truncated_normal(p0, p1, p2, p3, z)
    u = normal_cdf(z)
    if kind == UNIFORM:
        # u < 1 in exact arithmetic; the min stops rounding from stepping past high.
        return np.minimum(p0 + (p1 - p0) * u, p1)
    if kind == TRIANGULAR:
        low, mode, high = p0, p1, p2
        width = high - low
        lower = u * width < mode - low
        # Both branches are evaluated on every element (their square roots are of
        # non-negative numbers), then the right one is kept. The upper branch uses
        # Phi(-z) = 1 - u, computed without cancellation.
        x_lower = low + np.sqrt(np.where(lower, u * width * (mode - low), 0.0))
        x_upper = high - np.sqrt(np.where(lower, 0.0, normal_cdf(-z) * width * (high - mode)))
        # Each branch is clamped at the mode, where they meet with different round-off.
        return np.where(lower, np.minimum(x_lower, mode), np.maximum(x_upper, mode))
    if kind == EMPIRICAL:
        n, offset = int(p3), int(p2)
        # u > 0, so the truncation to an integer is a floor.
        index = np.minimum(np.floor(u * n).astype(np.int64), n - 1)
        return np.asarray(data, np.float64)[offset + index]
    if kind == DISCRETE:
        n, offset = int(p3), int(p2)
        data = np.asarray(data, np.float64)
        cum, values = data[offset : offset + n], data[offset + n : offset + 2 * n]
        # The first i with u < cum[i]; the last value if rounding left cum[-1] <= u.
        index = np.minimum(np.searchsorted(cum, u, side="right"), n - 1)
        return values[index]
    raise ValueError(f"unknown distribution kind {kind}")


def static_normals(seed: int, paths, n_inputs: int, antithetic: bool = False) -> np.ndarray:
    """Normal number i of step 0 (block i // 4, word i % 4) for inputs i < n_inputs.

    Returns
    -------
    numpy.ndarray
        ``(len(paths), n_inputs)`` float64.
    """
    paths = np.atleast_1d(np.asarray(paths, dtype=np.uint64))
    blocks = [block_normals(seed, paths, 0, b, antithetic) for b in range((n_inputs + 3) // 4)]
    return np.concatenate(blocks, axis=1)[:, :n_inputs]


def static_inputs(seed: int, paths, packed, antithetic: bool = False) -> np.ndarray:
    """The static inputs of the given paths, as the model specification draws them.

    Parameters
    ----------
    seed : int
        64-bit seed (the Philox key).
    paths : int or array_like of int
        Either the number of paths (paths 0 .. paths - 1) or the path indices.
    packed : montecarlo.inputs.PackedInputs
        Anything with ``kinds``, ``params``, ``data``, ``corr_index`` and ``chol``.
    antithetic : bool, optional
        Path 2k+1 uses path 2k's words complemented.

    Returns
    -------
    numpy.ndarray
        ``(n_paths, n_inputs)`` float64; column i is input i.
    """
    if np.ndim(paths) == 0:
        paths = np.arange(int(paths), dtype=np.uint64)
    kinds = np.asarray(packed.kinds)
    params = np.asarray(packed.params, dtype=np.float64)
    n_inputs = kinds.shape[0]
    z = static_normals(seed, paths, n_inputs, antithetic)
    corr_index = np.asarray(packed.corr_index, dtype=np.int64)
    chol = np.asarray(packed.chol, dtype=np.float64)
    if corr_index.size:
        raw = z[:, corr_index].copy()
        for j in range(corr_index.size):
            # z_j = sum_k L[j, k] raw_k, summed in the order k = 0 .. j (a sequential
            # accumulation, whose rounding a matrix product need not reproduce).
            acc = np.zeros(z.shape[0])
            for k in range(j + 1):
                acc = acc + chol[j, k] * raw[:, k]
            z[:, corr_index[j]] = acc
    out = np.empty_like(z)
    for i in range(n_inputs):
        out[:, i] = inverse_cdf_from_normal(kinds[i], params[i], packed.data, z[:, i])
    return out


def sketch_bucket(
    x: np.ndarray, mantissa_bits: int, min_exponent: int, n_positive: int
) -> np.ndarray:
    """Quantile-sketch buckets of ``x``, as :func:`kernels.sketch.bucket` assigns them.

    Written from the bucket definition (sign, binary exponent and leading
    mantissa bits; zero, overflow and NaN/inf buckets), on the bit patterns.
    """
    x = np.asarray(x, dtype=np.float64)
    bits = x.view(np.int64)
    magnitude = bits & np.int64(0x7FFFFFFFFFFFFFFF)
    invalid = ~np.isfinite(x)
    k = (magnitude >> np.int64(52 - mantissa_bits)) - np.int64(
        (1023 + min_exponent) << mantissa_bits
    )
    k = np.minimum(k, n_positive - 1)
    zero = n_positive
    out = np.where(bits < 0, zero - 1 - k, zero + 1 + k)
    out = np.where(k < 0, zero, out)
    return np.where(invalid, 2 * n_positive + 1, out)
