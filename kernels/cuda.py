"""CUDA twins of the shared building blocks, compiled from the same Python source.

``twins()`` compiles every function registered by :func:`kernels.target.device`
as a numba-cuda device function. Each twin runs the original function's code
object with a copy of its module's globals in which every other building
block is replaced by its own twin, so a CUDA kernel calling
``twins().draw_normals`` never reaches back into a CPU-compiled function: the
equations exist once, and each target compiles them whole. Under numba-cuda's
simulator (``NUMBA_ENABLE_CUDASIM=1``) the twins are those clones as plain Python
functions on numpy scalars, called from the simulated kernels, which is how CI checks
them without a GPU.

numba-cuda is optional (the ``gpu`` extra); importing this module without it
raises an ImportError that says how to install it.
"""

import sys
import types
from functools import cache

import numpy as np
from numba.core import config as numba_config

try:
    if not hasattr(np, "row_stack"):  # numba-cuda 0.30 still calls it; numpy 2.5 removed it
        np.row_stack = np.vstack  # noqa: NPY201 - restores the name numba-cuda uses
    from numba import cuda
    from numba.cuda import libdevice
except ImportError as err:  # pragma: no cover - exercised only without the extra
    raise ImportError("the CUDA backend needs numba-cuda: pip install 'montecarlo[gpu]'") from err

from . import distributions as _distributions  # noqa: F401 - registers its building blocks
from . import elementary as _elementary  # noqa: F401
from . import model as _model  # noqa: F401
from . import processes as _processes  # noqa: F401
from . import rng as _rng  # noqa: F401
from . import sketch as _sketch  # noqa: F401
from .target import DEVICE_FUNCTIONS

_SIMULATOR = bool(numba_config.ENABLE_CUDASIM)


def _with_module(fn, module):
    """``fn`` as if defined in ``module`` (a replacement body joins its block's namespace)."""
    fn.__module__ = module
    return fn


def _float_bits(x):
    """The IEEE-754 bits of a float64 as an int64 (``kernels.elementary.float_bits`` on a GPU)."""
    return libdevice.double_as_longlong(x)


def _bits_float(b):
    """The float64 of IEEE-754 bits (``kernels.elementary.bits_float`` on a GPU)."""
    return libdevice.longlong_as_double(b)


def _fma(a, b, c):
    """a * b + c rounded once (``kernels.elementary.fma`` on a GPU)."""
    return libdevice.fma(a, b, c)


#: GPU bodies of CPU-only primitives, by building block, kept here rather than in the
#: block's ``cuda_source``: a device function cannot import (numba-cuda rejects the
#: IMPORT_NAME opcode), and only this module may import numba.cuda at its top. Each
#: keeps this module's namespace, which holds ``libdevice``.
_GPU_BODIES = {"float_bits": _float_bits, "bits_float": _bits_float, "fma": _fma}


@cache
def twins() -> types.SimpleNamespace:
    """Namespace of CUDA device functions, one per shared building block, by name."""
    namespaces: dict[str, dict] = {}
    by_cpu: dict[int, object] = {}
    out = {}
    for dispatcher in DEVICE_FUNCTIONS:
        fn = dispatcher.py_func
        name = fn.__name__
        replacement = dispatcher.simulator_source if _SIMULATOR else dispatcher.cuda_source
        if not _SIMULATOR and name in _GPU_BODIES:
            fn = _GPU_BODIES[name]
        elif replacement is not None:
            fn = _with_module(replacement, fn.__module__)
        module_globals = namespaces.setdefault(
            fn.__module__, dict(vars(sys.modules[fn.__module__]))
        )
        clone = types.FunctionType(
            fn.__code__, module_globals, fn.__name__, fn.__defaults__, fn.__closure__
        )
        clone.__doc__ = fn.__doc__
        # Under the simulator a device function is the Python function wrapped in a
        # context switch per call; the building blocks use no CUDA API, so their clones
        # are called as they are (a simulated kernel spends its time in those calls).
        twin = clone if _SIMULATOR else cuda.jit(device=True)(clone)
        by_cpu[id(dispatcher)] = twin
        out[name] = twin
    # Rebind every reference to a CPU building block (whatever name it was
    # imported under) to its twin, in every cloned module namespace.
    for module_globals in namespaces.values():
        for name, value in module_globals.items():
            if id(value) in by_cpu:
                module_globals[name] = by_cpu[id(value)]
    return types.SimpleNamespace(**out)
