"""Backends: run the kernels over chunks of paths and hand back mergeable reductions.

:mod:`.plan` holds what every backend is given (the :class:`~.plan.Plan` of a run) and
returns (:class:`~.plan.Reductions`), and the protocol they follow. The backends:

- ``numba`` (:mod:`.numba`): the compiled kernel on every numba thread;
- ``numpy`` (:mod:`.numpy`): the independent numpy reference, the tests' oracle;
- ``cuda`` (:mod:`.cuda`): the kernel's CUDA twin on an NVIDIA GPU;
- ``dask`` (:mod:`.dask`): chunks as tasks on a dask.distributed cluster;
- ``auto``: ``cuda`` where a usable GPU is present, else ``numba`` (:func:`resolve`).

The cuda and dask modules are imported only when asked for, so numba-cuda and
dask.distributed stay optional.
"""

from __future__ import annotations

from .numba import NumbaBackend
from .numpy import NumpyBackend
from .plan import SimulationError

#: ``auto``: ``cuda`` when a usable GPU and numba-cuda are present, else ``numba``.
BACKENDS = ("numba", "numpy", "cuda", "dask", "auto")


def backend_class(name: str) -> type:
    """The class of backend ``name`` (not ``auto``; see :func:`resolve`)."""
    if name == "numba":
        return NumbaBackend
    if name == "numpy":
        return NumpyBackend
    if name == "cuda":
        from .cuda import CudaBackend

        return CudaBackend
    if name == "dask":
        from .dask import DaskBackend

        return DaskBackend
    raise SimulationError(f"backend must be one of {list(BACKENDS)}, got {name!r}")


def resolve(name: str) -> str:
    """``auto`` becomes ``cuda`` where a GPU can run the model, else ``numba``."""
    if name not in BACKENDS:
        raise SimulationError(f"backend must be one of {list(BACKENDS)}, got {name!r}")
    if name != "auto":
        return name
    try:
        from .cuda import available
    except ImportError:
        return "numba"
    return "cuda" if available() else "numba"
