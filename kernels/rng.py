"""Counter-based random numbers: Philox4x32-10 and the spec's variate mappings.

Randomness is a pure function of (seed, path, step, block): the key is the
64-bit seed split into (low, high) 32-bit words, the counter is
(path low, path high, step, block). Nothing here holds state, so any order of
evaluation, any thread count and any chunking give the same numbers.

Integer arithmetic is written in explicit ``uint64`` and masked back to
``uint32``: numba would otherwise mix signed and unsigned types into float64,
and numpy scalars (numba-cuda's simulator runs this source as Python) would
warn on wrap-around.
"""

import math

import numba
import numpy as np

from .elementary import fma, log
from .target import FASTMATH, device

_MASK32 = np.uint64(0xFFFFFFFF)
_SHIFT32 = np.uint64(32)
_PHILOX_M0 = np.uint64(0xD2511F53)
_PHILOX_M1 = np.uint64(0xCD9E8D57)
_PHILOX_W0 = np.uint64(0x9E3779B9)
_PHILOX_W1 = np.uint64(0xBB67AE85)
_ALL_ONES32 = np.uint32(0xFFFFFFFF)

#: 2**-32: a 32-bit word w maps to the uniform (w + 0.5) * 2**-32.
UNIFORM_SCALE = 2.0**-32


@device(inline=True)
def _philox_round(c0, c1, c2, c3, k0, k1):
    p0 = _PHILOX_M0 * np.uint64(c0)
    p1 = _PHILOX_M1 * np.uint64(c2)
    hi0 = np.uint32(p0 >> _SHIFT32)
    lo0 = np.uint32(p0 & _MASK32)
    hi1 = np.uint32(p1 >> _SHIFT32)
    lo1 = np.uint32(p1 & _MASK32)
    return hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0


@device(inline=True)
def _bump_key(k0, k1):
    return (
        np.uint32((np.uint64(k0) + _PHILOX_W0) & _MASK32),
        np.uint32((np.uint64(k1) + _PHILOX_W1) & _MASK32),
    )


@device(inline=True)
def philox4x32_10(c0, c1, c2, c3, k0, k1):
    """Philox4x32 with 10 rounds (Salmon et al. 2011, Random123).

    Parameters
    ----------
    c0, c1, c2, c3 : uint32
        The counter words.
    k0, k1 : uint32
        The key words.

    Returns
    -------
    tuple of four uint32
        The output words, equal to Random123's ``philox4x32_R(10, ctr, key)``.
    """
    x0 = np.uint32(c0)
    x1 = np.uint32(c1)
    x2 = np.uint32(c2)
    x3 = np.uint32(c3)
    y0 = np.uint32(k0)
    y1 = np.uint32(k1)
    x0, x1, x2, x3 = _philox_round(x0, x1, x2, x3, y0, y1)
    for _ in range(9):
        y0, y1 = _bump_key(y0, y1)
        x0, x1, x2, x3 = _philox_round(x0, x1, x2, x3, y0, y1)
    return x0, x1, x2, x3


@device(inline=True)
def draw_block(k0, k1, path, step, block, antithetic):
    """The four words of block ``block`` of ``step`` on ``path``.

    With ``antithetic`` true, an odd path 2k+1 reuses path 2k's counter and
    returns every word complemented (0xFFFFFFFF - w), which negates each
    normal and maps each uniform v to 1 - v exactly.
    """
    p = np.uint64(path)
    flip = antithetic and (p & np.uint64(1)) == np.uint64(1)
    if flip:
        p = p - np.uint64(1)
    w0, w1, w2, w3 = philox4x32_10(
        np.uint32(p & _MASK32), np.uint32(p >> _SHIFT32), np.uint32(step), np.uint32(block), k0, k1
    )
    if flip:
        return _ALL_ONES32 - w0, _ALL_ONES32 - w1, _ALL_ONES32 - w2, _ALL_ONES32 - w3
    return w0, w1, w2, w3


@device(inline=True)
def uniform(w):
    """Map a 32-bit word to (w + 0.5) * 2**-32, strictly inside (0, 1)."""
    return (np.float64(w) + 0.5) * UNIFORM_SCALE


@device(inline=True)
def _horner7(x, c7, c6, c5, c4, c3, c2, c1, c0):
    """c7 x**7 + ... + c1 x + c0 by Horner's rule with fused multiply-adds: AS 241's
    polynomials are all of degree 7."""
    p = fma(c7, x, c6)
    p = fma(p, x, c5)
    p = fma(p, x, c4)
    p = fma(p, x, c3)
    p = fma(p, x, c2)
    p = fma(p, x, c1)
    return fma(p, x, c0)


@device(inline=True)
def _as241_central(q):
    """AS 241's rational function for |q| <= 0.425 (q = p - 0.5): (numerator, denominator)."""
    r = 0.180625 - q * q
    num = _horner7(
        r, 2.5090809287301226727e3, 3.3430575583588128105e4, 6.7265770927008700853e4,
        4.5921953931549871457e4, 1.3731693765509461125e4, 1.9715909503065514427e3,
        1.3314166789178437745e2, 3.3871328727963666080e0,
    )
    den = _horner7(
        r, 5.2264952788528545610e3, 2.8729085735721942674e4, 3.9307895800092710610e4,
        2.1213794301586595867e4, 5.3941960214247511077e3, 6.8718700749205790830e2,
        4.2313330701600911252e1, 1.0,
    )
    return num * q, den


@device(inline=True)
def _as241_near(t):
    """AS 241's rational function for 1.6 <= t = sqrt(-log(min(p, 1 - p))) <= 5: the only
    tail a 32-bit uniform reaches (t <= 4.79). Unsigned (numerator, denominator)."""
    s = t - 1.6
    num = _horner7(
        s, 7.74545014278341407640e-4, 2.27238449892691845833e-2, 2.41780725177450611770e-1,
        1.27045825245236838258e0, 3.64784832476320460504e0, 5.76949722146069140550e0,
        4.63033784615654529590e0, 1.42343711074968357734e0,
    )
    den = _horner7(
        s, 1.05075007164441684324e-9, 5.47593808499534494600e-4, 1.51986665636164571966e-2,
        1.48103976427480074590e-1, 6.89767334985100004550e-1, 1.67638483018380384940e0,
        2.05319162663775882187e0, 1.0,
    )
    return num, den


@device(inline=True)
def _as241_tail(p, q):
    """AS 241's tail rational functions, r = sqrt(-log(min(p, 1 - p))): signed (num, den)."""
    t = math.sqrt(-math.log(min(p, 1.0 - p)))
    num_a, den_a = _as241_near(t)
    s = t - 5.0
    num_b = (((((((2.01033439929228813265e-7 * s
                   + 2.71155556874348757815e-5) * s
                  + 1.24266094738807843860e-3) * s
                 + 2.65321895265761230930e-2) * s
                + 2.96560571828504891230e-1) * s
               + 1.78482653991729133580e0) * s
              + 5.46378491116411436990e0) * s
             + 6.65790464350110377720e0)
    den_b = (((((((2.04426310338993978564e-15 * s
                   + 1.42151175831644588870e-7) * s
                  + 1.84631831751005468180e-5) * s
                 + 7.86869131145613259100e-4) * s
                + 1.48753612908506148525e-2) * s
               + 1.36929880922735805310e-1) * s
              + 5.99832206555887937690e-1) * s
             + 1.0)
    num = num_a if t <= 5.0 else num_b
    den = den_a if t <= 5.0 else den_b
    return (-num if q < 0.0 else num), den


@device(inline=True)
def inverse_normal_cdf(p):
    """Standard normal quantile by Wichura's AS 241 (PPND16), for 0 < p < 1.

    Same coefficients as Python's ``statistics.NormalDist().inv_cdf``, by
    Horner's rule with fused multiply-adds (so within a few ulps of it).
    Branch-light: both rational approximations are evaluated and numerator
    and denominator selected before one division, so a loop over many ``p``
    carries no data-dependent branch; the logarithm's argument min(p, 1 - p) is always valid, so
    computing the tail for central points is harmless.
    """
    q = p - 0.5
    num_c, den_c = _as241_central(q)
    num_t, den_t = _as241_tail(p, q)
    central = abs(q) <= 0.425
    return (num_c if central else num_t) / (den_c if central else den_t)


#: The central region of AS 241: a uniform p takes the central rational function when
#: |p - 0.5| <= CENTRAL (85 % of draws), the near tail otherwise.
CENTRAL = 0.425


@device(inline=True)
def normal_central(p):
    """AS 241's central (numerator, denominator) at a uniform p with |p - 0.5| <= CENTRAL."""
    return _as241_central(p - 0.5)


@device(inline=True)
def normal_tail(p):
    """AS 241's near-tail (numerator, denominator) at a uniform p with |p - 0.5| > CENTRAL,
    signed; the logarithm is :func:`kernels.elementary.log`."""
    num, den = _as241_near(math.sqrt(-log(min(p, 1.0 - p))))
    return (-num if p < 0.5 else num), den


@device(inline=True)
def normal(w):
    """The spec's standard normal of a 32-bit word: AS 241 of its uniform.

    With 32-bit words |z| <= 6.338 (Phi^-1(2**-33)): the tail resolution of one
    draw. Branch-free, so a loop over many words vectorises: the central and the
    near-tail rational functions are both evaluated, numerator and denominator
    selected, then divided once; the far tail (r > 5) cannot be reached from a
    32-bit word. The logarithm is :func:`kernels.elementary.log`, so the tails
    may differ from :func:`inverse_normal_cdf` (libm's log) in the last bit. A
    loop that computes the tails only for the draws that need them (the CPU lane
    kernel's shocks) divides the same numerator by the same denominator: the same
    bits.
    """
    return normal_of_uniform(uniform(w))


@device(inline=True)
def normal_of_uniform(p):
    """:func:`normal` of the uniform ``p`` of a word."""
    num_c, den_c = normal_central(p)
    num_t, den_t = normal_tail(p)
    central = abs(p - 0.5) <= CENTRAL
    return (num_c if central else num_t) / (den_c if central else den_t)


@device(inline=True)
def normal_cdf(z):
    """Standard normal CDF, accurate in both tails."""
    return 0.5 * math.erfc(-z * 0.7071067811865476)


@device(inline=True)
def draw_normals(k0, k1, path, step, block, antithetic):
    """Four standard normals from one block (z0, z1, z2, z3)."""
    w0, w1, w2, w3 = draw_block(k0, k1, path, step, block, antithetic)
    return normal(w0), normal(w1), normal(w2), normal(w3)


# --- Python-callable, vectorised over many counters --------------------------


def check_seed(seed) -> int:
    """Validate a seed: an integer in [0, 2**64 - 1]; 0 is a valid seed."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an integer in [0, 2**64 - 1], got {seed!r}")
    if not 0 <= int(seed) <= 2**64 - 1:
        raise ValueError(f"seed must be an integer in [0, 2**64 - 1], got {seed}")
    return int(seed)


@numba.njit(parallel=True, cache=True, fastmath=FASTMATH)
def _fill_words(k0, k1, paths, step, first_block, n_blocks, antithetic, out):
    for i in numba.prange(paths.shape[0]):
        for b in range(n_blocks):
            w0, w1, w2, w3 = draw_block(k0, k1, paths[i], step, first_block + b, antithetic)
            out[i, 4 * b] = w0
            out[i, 4 * b + 1] = w1
            out[i, 4 * b + 2] = w2
            out[i, 4 * b + 3] = w3


@numba.njit(parallel=True, cache=True, fastmath=FASTMATH)
def _fill_normals(k0, k1, paths, step, first_block, n_blocks, antithetic, out):
    for i in numba.prange(paths.shape[0]):
        for b in range(n_blocks):
            z0, z1, z2, z3 = draw_normals(k0, k1, paths[i], step, first_block + b, antithetic)
            out[i, 4 * b] = z0
            out[i, 4 * b + 1] = z1
            out[i, 4 * b + 2] = z2
            out[i, 4 * b + 3] = z3


def _counter_args(seed, paths, step, block, n_blocks):
    seed = check_seed(seed)
    paths = np.ascontiguousarray(np.atleast_1d(paths), dtype=np.uint64)
    for name, value, high in (("step", step, 2**32 - 1), ("block", block, 2**32 - n_blocks)):
        if not 0 <= int(value) <= high:
            raise ValueError(f"{name} must be an integer in [0, {high}], got {value}")
    if int(n_blocks) < 1:
        raise ValueError(f"n_blocks must be a positive integer, got {n_blocks}")
    k0, k1 = np.uint32(seed & 0xFFFFFFFF), np.uint32(seed >> 32)
    return k0, k1, paths, np.uint32(step), np.uint32(block), int(n_blocks)


def draw_words(seed, paths, step, block=0, n_blocks=1, antithetic=False) -> np.ndarray:
    """Raw Philox words for many paths at once.

    Returns a ``(len(paths), 4 * n_blocks)`` uint32 array: row i holds blocks
    ``block .. block + n_blocks - 1`` of ``step`` on path ``paths[i]``.
    """
    k0, k1, paths, step, block, n_blocks = _counter_args(seed, paths, step, block, n_blocks)
    out = np.empty((paths.shape[0], 4 * n_blocks), dtype=np.uint32)
    _fill_words(k0, k1, paths, step, block, n_blocks, bool(antithetic), out)
    return out


def draw_standard_normals(seed, paths, step, block=0, n_blocks=1, antithetic=False) -> np.ndarray:
    """The spec's standard normals for many paths at once, laid out as :func:`draw_words`."""
    k0, k1, paths, step, block, n_blocks = _counter_args(seed, paths, step, block, n_blocks)
    out = np.empty((paths.shape[0], 4 * n_blocks), dtype=np.float64)
    _fill_normals(k0, k1, paths, step, block, n_blocks, bool(antithetic), out)
    return out
