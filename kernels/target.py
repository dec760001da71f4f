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


def device(fn=None, *, inline=False, cuda_source=None, simulator_source=None):
    """Compile ``fn`` for the CPU as a building block shared with the CUDA target.

    Scalar building blocks are left to LLVM, which inlines them where it pays.
    Blocks that take arrays ask for ``inline=True``: numba then splices them
    into the caller's IR, which removes the reference counting a call with
    array arguments costs; it is reserved for them because it multiplies
    compile time. ``error_model="numpy"`` keeps division free of exception
    checks; ``cache=True`` keeps warm starts at about a second.
    """

    def decorate(fn):
        dispatcher = numba.njit(
            inline="always" if inline else "never", error_model="numpy", cache=True
        )(fn)
        dispatcher.cuda_source = cuda_source
        dispatcher.simulator_source = simulator_source
        DEVICE_FUNCTIONS.append(dispatcher)
        return dispatcher

    return decorate if fn is None else decorate(fn)
