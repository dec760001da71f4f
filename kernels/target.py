"""How the shared building blocks are compiled.

Every function decorated with :func:`device` is compiled for the CPU by numba
and recorded, so :mod:`kernels.cuda` can compile the same Python source as a
CUDA device function. The bodies therefore keep to what both targets (and
numba-cuda's Python simulator) share: scalar arithmetic in explicit numpy
types, ``math`` functions, tuples, small arrays, and no Python objects.

A building block whose CPU body needs a CPU-only primitive (an LLVM bitcast
intrinsic, say) names CUDA replacements with ``cuda_source`` and
``simulator_source``: plain Python functions of the same signature.
"""

import numba

#: CPU dispatchers of every shared building block, in definition order.
DEVICE_FUNCTIONS: list = []

#: Floating-point freedoms of every CPU kernel: none. The fused multiply-adds the kernels
#: use are explicit (kernels.elementary.fma, rounded once by definition), so a result is
#: the same bits on any CPU numba compiles for; {"contract"} would let LLVM fuse some
#: products and not others depending on the CPU, so the workers of a mixed cluster
#: could differ (docs/engine.md, "Floating point").
FASTMATH = False


def device(fn=None, *, inline=False, cache=True, cuda_source=None, simulator_source=None):
    """Compile ``fn`` for the CPU as a building block shared with the CUDA target.

    ``inline=True`` makes numba splice the block into its caller's IR. The lane
    loops of :mod:`kernels.model` vectorise only when everything they call is
    spliced in (a call left in a loop stops LLVM's vectoriser), so every block
    they use asks for it; it costs compile time. ``error_model="numpy"`` keeps
    division free of exception checks; ``cache=True`` keeps warm starts at about a
    second (blocks made at import time, which have no source file, pass False:
    they are only ever spliced into cached kernels).
    """

    def decorate(fn):
        dispatcher = numba.njit(
            forceinline=inline,
            error_model="numpy",
            cache=cache,
            fastmath=FASTMATH,
        )(fn)
        dispatcher.cuda_source = cuda_source
        dispatcher.simulator_source = simulator_source
        DEVICE_FUNCTIONS.append(dispatcher)
        return dispatcher

    return decorate if fn is None else decorate(fn)
