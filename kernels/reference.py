"""Vectorised numpy twins of the random streams, written independently of the kernels.

The tests check the numba kernels against these, and the numpy reference
backend draws its random numbers through them. Only numpy is used here.
"""

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
