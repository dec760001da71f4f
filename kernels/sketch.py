"""Mergeable streaming reductions: a relative-accuracy quantile sketch and exact sums.

Quantile sketch
    A value x falls in a bucket fixed by the sign, the binary exponent and the
    top :data:`MANTISSA_BITS` mantissa bits of x. Buckets are ordered like the
    values they hold; within one, values differ by less than a factor
    1 + 2**-MANTISSA_BITS, so a bucket's midpoint is within
    :data:`RELATIVE_ACCURACY` (2**-(MANTISSA_BITS + 1), 0.39 %) of any value in
    it. |x| < 2**MIN_EXPONENT (about 1e-6) counts as zero; |x| >= 2**MAX_EXPONENT
    (about 1.1e15) lands in the outermost bucket; NaN and inf land in a last,
    separate bucket so the engine can refuse them. Counts are integers, so
    sketches merge by addition in any order with identical results.

Exact sums
    :func:`exact_add` adds a double into an integer superaccumulator: one
    int64 per 32-bit window of the double's full exponent range, so the sum of
    any doubles in any order is the same integers; the total is rounded once,
    at the end (``montecarlo`` does this with Python integers).
"""

import math

import numba
import numpy as np

from .elementary import float_bits
from .target import device

MANTISSA_BITS = 7
MIN_EXPONENT = -20
MAX_EXPONENT = 50
RELATIVE_ACCURACY = 2.0 ** -(MANTISSA_BITS + 1)
N_POSITIVE = (MAX_EXPONENT - MIN_EXPONENT) << MANTISSA_BITS
#: Bucket of zero; negative values below it, positive above.
ZERO_BUCKET = N_POSITIVE
#: Bucket of NaN and inf, after the ordered buckets.
INVALID_BUCKET = 2 * N_POSITIVE + 1
N_BUCKETS = 2 * N_POSITIVE + 2

_SHIFT = np.int64(52 - MANTISSA_BITS)
_OFFSET = np.int64((1023 + MIN_EXPONENT) << MANTISSA_BITS)
_EXPONENT_MASK = np.int64(0x7FF0000000000000)
_SIGN_CLEAR = np.int64(0x7FFFFFFFFFFFFFFF)

#: Windows of the exact accumulator: 32 bits each over the double's 2098-bit range.
ACCUMULATOR_WINDOWS = 68
_LOW32 = np.int64(0xFFFFFFFF)
_MANTISSA_MASK = np.int64((1 << 52) - 1)
_HIDDEN_BIT = np.int64(1 << 52)


@device(inline=True)
def bucket(x):
    """Sketch bucket of ``x`` (see the module docs); branch-free, so it vectorises."""
    bits = float_bits(x)
    magnitude = bits & _SIGN_CLEAR
    k = min((magnitude >> _SHIFT) - _OFFSET, np.int64(N_POSITIVE - 1))
    b = ZERO_BUCKET - 1 - k if bits < 0 else ZERO_BUCKET + 1 + k
    b = ZERO_BUCKET if k < 0 else b
    return INVALID_BUCKET if (magnitude & _EXPONENT_MASK) == _EXPONENT_MASK else b


@device(inline=True)
def exact_add(acc, x):
    """acc += x exactly, ``acc`` being an int64 array of ACCUMULATOR_WINDOWS windows."""
    bits = float_bits(x)
    magnitude = bits & _SIGN_CLEAR
    biased = magnitude >> np.int64(52)
    mantissa = magnitude & _MANTISSA_MASK
    if biased > 0:
        mantissa = mantissa | _HIDDEN_BIT
        position = biased - np.int64(1)
    else:
        position = np.int64(0)
    # x = mantissa * 2**(position - 1074); split the mantissa at its 32nd bit.
    window = position >> np.int64(5)
    shift = position & np.int64(31)
    low = (mantissa & _LOW32) << shift
    high = (mantissa >> np.int64(32)) << shift
    part0 = low & _LOW32
    part1 = (low >> np.int64(32)) + (high & _LOW32)
    part2 = high >> np.int64(32)
    # Negated for a negative x without a branch (the sign of a sum of deviations is a
    # coin flip, which a branch would mispredict half the time): (p ^ s) - s, s = 0 or -1.
    sign = bits >> np.int64(63)
    part0 = (part0 ^ sign) - sign
    part1 = (part1 ^ sign) - sign
    part2 = (part2 ^ sign) - sign
    acc[window] += part0
    acc[window + 1] += part1
    acc[window + 2] += part2


@numba.njit(nogil=True, cache=True)
def fold_counts(total, counts):
    """total += counts, then counts = 0: both flat, ``total`` int64 and ``counts`` the
    uint32 counts a worker keeps. A sketch is mostly empty cells (each month's values
    fill a few hundred of its 17922 buckets), so only cache lines of 16 cells holding a
    nonzero count are written: numpy's casting add wrote every cell of both (0.17 s of a
    1e6-path run on two threads), and a test per cell mispredicts."""
    n = counts.shape[0]
    for start in range(0, n, 16):
        stop = min(start + 16, n)
        nonzero = np.uint32(0)
        for i in range(start, stop):
            nonzero |= counts[i]
        if nonzero != 0:
            for i in range(start, stop):
                total[i] += np.int64(counts[i])
                counts[i] = 0


def bucket_bounds() -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper value of every ordered bucket (the invalid bucket excluded)."""
    k = np.arange(N_POSITIVE)
    exponent = MIN_EXPONENT + (k >> MANTISSA_BITS)
    fraction = (k & ((1 << MANTISSA_BITS) - 1)) / (1 << MANTISSA_BITS)
    low = np.ldexp(1.0 + fraction, exponent)
    high = np.ldexp(1.0 + fraction + 2.0**-MANTISSA_BITS, exponent)
    high[-1] = math.inf
    lower = np.concatenate([-high[::-1], [-(2.0**MIN_EXPONENT)], low])
    upper = np.concatenate([-low[::-1], [2.0**MIN_EXPONENT], high])
    return lower, upper


def bucket_values() -> np.ndarray:
    """The value a quantile reports for each ordered bucket: its midpoint (0 for zero)."""
    lower, upper = bucket_bounds()
    mid = 0.5 * (lower + upper)
    mid[ZERO_BUCKET] = 0.0
    mid[0] = lower[1] * (1 + RELATIVE_ACCURACY)  # the open-ended outermost buckets
    mid[-1] = upper[-2] * (1 + RELATIVE_ACCURACY)
    return mid


def accumulator_total(acc) -> float:
    """The exact sum held by an accumulator, rounded once to the nearest double."""
    from fractions import Fraction

    total = 0
    for i, limb in enumerate(np.asarray(acc, dtype=np.int64).tolist()):
        total += int(limb) << (32 * i)
    try:
        return float(Fraction(total, 1 << 1074))
    except OverflowError:  # beyond the largest double: the caller sees +-inf and reports it
        return math.inf if total > 0 else -math.inf


def accumulator_totals(sums):
    """:func:`accumulator_total` of every accumulator of a ``(2, ..., WINDOWS)`` array:
    the totals of d and of d**2, each shaped like ``sums.shape[1:-1]``."""
    sums = np.asarray(sums)
    totals = np.empty(sums.shape[:-1])
    for index in np.ndindex(totals.shape):
        totals[index] = accumulator_total(sums[index])
    return totals[0], totals[1]
