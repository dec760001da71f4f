"""How the shared building blocks are compiled.

Every function decorated with :func:`device` is compiled for the CPU by numba
and recorded, so :mod:`kernels.cuda` can compile the same Python source as a
CUDA device function. The bodies therefore keep to what both targets (and
numba-cuda's Python simulator) share: scalar arithmetic in explicit numpy
types, ``math`` functions, tuples, and no Python objects.
"""

import numba

#: CPU dispatchers of every shared building block, in definition order.
DEVICE_FUNCTIONS: list = []


def device(fn):
    """Compile ``fn`` for the CPU as an always-inlined building block.

    ``inline="always"`` and ``error_model="numpy"`` let LLVM see whole month
    steps at once and vectorise across paths (helpers that may raise are never
    inlined); ``cache=True`` keeps warm starts at about a second.
    """
    dispatcher = numba.njit(inline="always", error_model="numpy", cache=True)(fn)
    DEVICE_FUNCTIONS.append(dispatcher)
    return dispatcher
