"""exp and log as polynomials, so loops that call them vectorise.

The llvmlite on PyPI has no vector math library (``llvmlite.binding.targets.has_svml()``
is False), so ``math.exp`` and ``math.log`` stay scalar calls into libm and keep LLVM
from vectorising any loop that calls them. These two are written in plain arithmetic
instead: range reduction by a power of two (built from its bits with an LLVM bitcast),
then a polynomial. Both are within about one unit in the last place of the correctly
rounded result over the whole double range, follow IEEE at the edges (exp: 0 below
-745.2, inf above 709.8; log: -inf at 0, NaN below 0, inf at inf; NaN in, NaN out),
and contain no branches, so LLVM turns them into selects and vector instructions.

On a GPU the building blocks call CUDA's own ``exp`` and ``log`` (libdevice) instead;
under numba-cuda's simulator they run this very code, with the bit casts done by
``struct``.
"""

import math
import struct

import numpy as np
from llvmlite import ir
from numba import types
from numba.core.extending import intrinsic

from .target import device

_LOG2E = 1.4426950408889634
# ln 2 split so that k * _LN2_HI is exact for |k| < 2**11.
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_EXP_HIGH = 709.782712893384  # log(largest double)
_EXP_LOW = -745.1332191019412  # log(smallest subnormal / 2)
_SQRT2 = 1.4142135623730951
_MANTISSA = np.int64((1 << 52) - 1)
_ONE_BITS = np.int64(1023 << 52)
_TWO54 = 18014398509481984.0  # 2**54: lifts a subnormal into the normal range


@intrinsic
def _bitcast_float64_int64(typingctx, x):
    if x != types.float64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(types.float64), codegen


@intrinsic
def _bitcast_int64_float64(typingctx, x):
    if x != types.int64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


@intrinsic
def _fused_multiply_add(typingctx, a, b, c):
    if not (a == b == c == types.float64):
        return None

    def codegen(context, builder, signature, args):
        return builder.fma(*args)

    return types.float64(types.float64, types.float64, types.float64), codegen


def _fma_simulator(a, b, c):
    a, b, c = float(a), float(b), float(c)
    if not (math.isfinite(a) and math.isfinite(b) and math.isfinite(c)):
        return np.float64(a * b + c)
    # Exactly, as integers over powers of two (faster than Fraction, which reduces by
    # gcd at every step), then one correctly rounded int / int division.
    na, da = a.as_integer_ratio()
    nb, db = b.as_integer_ratio()
    nc, dc = c.as_integer_ratio()
    dp = da * db
    if dp >= dc:
        n, d = na * nb + nc * (dp // dc), dp
    else:
        n, d = na * nb * (dc // dp) + nc, dc
    if n == 0:
        return np.float64(a * b + c)  # IEEE's sign of an exact zero
    try:
        return np.float64(n / d)
    except OverflowError:
        return np.float64(math.inf if n > 0 else -math.inf)


def _float_bits_simulator(x):
    return np.int64(struct.unpack("<q", struct.pack("<d", float(x)))[0])


def _bits_float_simulator(b):
    return np.float64(struct.unpack("<d", struct.pack("<q", int(b)))[0])


# The GPU bodies (libdevice's fma, double_as_longlong and longlong_as_double) live in
# kernels/cuda.py: a device function cannot import numba.cuda itself.
@device(inline=True, simulator_source=_float_bits_simulator)
def float_bits(x):
    """The IEEE-754 bits of a float64 as an int64."""
    return _bitcast_float64_int64(np.float64(x))


@device(inline=True, simulator_source=_bits_float_simulator)
def bits_float(b):
    """The float64 whose IEEE-754 bits are the int64 ``b``."""
    return _bitcast_int64_float64(np.int64(b))


@device(inline=True, simulator_source=_fma_simulator)
def fma(a, b, c):
    """a * b + c rounded once (IEEE 754 fusedMultiplyAdd): one instruction on every CPU
    with FMA units (x86-64 since 2013, every 64-bit ARM) and on GPUs, and the same
    correctly rounded bits on all of them. Written out, not left to the compiler's
    contraction, which would fuse some products and not others depending on the target."""
    return _fused_multiply_add(np.float64(a), np.float64(b), np.float64(c))


def _exp_gpu(x):
    return math.exp(x)


def _log_gpu(x):
    return math.log(x)


@device(inline=True, cuda_source=_exp_gpu)
def exp(x):
    """e**x to about one ulp, branch-free (see the module docs)."""
    # x = k ln2 + r with |r| <= ln2 / 2; e**r by its Taylor series to degree 13
    # (truncation below 4e-18 relative), then times 2**k in two exact steps, so that
    # k down to -1075 (subnormal results) needs no special case.
    xc = min(max(x, -746.0), 710.0)
    kf = math.floor(xc * _LOG2E + 0.5)
    r = (xc - kf * _LN2_HI) - kf * _LN2_LO
    # Estrin's scheme: four levels of independent fused multiply-adds instead of a
    # 13-long chain, so the loops that call exp wait a third as long for each result.
    r2 = r * r
    r4 = r2 * r2
    r8 = r4 * r4
    q0 = fma(r, 1.0, 1.0)
    q1 = fma(r, 1.0 / 6.0, 0.5)
    q2 = fma(r, 1.0 / 120.0, 1.0 / 24.0)
    q3 = fma(r, 1.0 / 5040.0, 1.0 / 720.0)
    q4 = fma(r, 1.0 / 362880.0, 1.0 / 40320.0)
    q5 = fma(r, 1.0 / 39916800.0, 1.0 / 3628800.0)
    q6 = fma(r, 1.0 / 6227020800.0, 1.0 / 479001600.0)
    s0 = fma(q1, r2, q0)
    s1 = fma(q3, r2, q2)
    s2 = fma(q5, r2, q4)
    p = fma(fma(q6, r4, s2), r8, fma(s1, r4, s0))
    k = np.int64(kf)
    half = k >> np.int64(1)
    y = p * bits_float((half + np.int64(1023)) << np.int64(52))
    y = y * bits_float((k - half + np.int64(1023)) << np.int64(52))
    y = 0.0 if x < _EXP_LOW else y
    y = math.inf if x > _EXP_HIGH else y
    return x if x != x else y


@device(inline=True, cuda_source=_log_gpu)
def log(x):
    """Natural logarithm to about one ulp, branch-free (see the module docs)."""
    # x = m 2**e with m in [sqrt(2)/2, sqrt(2)); log m = 2 atanh(f), f = (m - 1)/(m + 1),
    # |f| <= 0.1716, by its series to f**21 (truncation below 4e-18 relative).
    tiny = x < 2.2250738585072014e-308
    xs = x * _TWO54 if tiny else x
    bits = float_bits(xs)
    e = (bits >> np.int64(52)) - np.int64(1023)
    m = bits_float((bits & _MANTISSA) | _ONE_BITS)
    big = m > _SQRT2
    m = m * 0.5 if big else m
    ef = np.float64(e) + (1.0 if big else 0.0) - (54.0 if tiny else 0.0)
    f = (m - 1.0) / (m + 1.0)
    f2 = f * f
    s = 2.0 / 21.0
    s = fma(s, f2, 2.0 / 19.0)
    s = fma(s, f2, 2.0 / 17.0)
    s = fma(s, f2, 2.0 / 15.0)
    s = fma(s, f2, 2.0 / 13.0)
    s = fma(s, f2, 2.0 / 11.0)
    s = fma(s, f2, 2.0 / 9.0)
    s = fma(s, f2, 2.0 / 7.0)
    s = fma(s, f2, 2.0 / 5.0)
    s = fma(s, f2, 2.0 / 3.0)
    y = ef * _LN2_HI + (2.0 * f + (f * f2 * s + ef * _LN2_LO))
    y = math.inf if x == math.inf else y
    y = -math.inf if x == 0.0 else y
    return math.nan if (x < 0.0 or x != x) else y
