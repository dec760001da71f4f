"""``backend="cuda"``: the model on an NVIDIA GPU, one thread per path (docs/gpu.md).

The kernel (:mod:`kernels.cuda_model`) runs the CUDA twins of the CPU kernel's
building blocks, so both backends compute the same equations from the same random
streams; its reductions are the CPU kernel's (integer sketch counts, exact integer
sums of each 64-path group's partial sums, event counts), kept on the device for the
whole run and copied back once.

numba-cuda is optional (the ``gpu`` extra). This module imports it only when a
backend is made or :func:`available` is asked, so it imports where numba-cuda is missing.
Under numba-cuda's simulator (``NUMBA_ENABLE_CUDASIM=1``) the backend runs, as
plain Python, which is how CI tests it without a GPU; :func:`available` then says
False, so ``backend="auto"`` never picks a simulation.
"""

from __future__ import annotations

import importlib
import math

import numpy as np

from kernels import sketch
from kernels.layout import N_INPUTS, N_MONTHLY, N_PATH
from kernels.model import LANES

from .plan import Reductions, SimulationError

#: Threads per block: 64 or 128 (shared memory); see :data:`kernels.cuda_model.THREADS`.
THREADS = 64
#: Most blocks in one launch; None fills the device (every multiprocessor's worth of
#: resident threads) or, under the simulator, :data:`SIMULATOR_BLOCKS`. Paths beyond
#: the grid loop round it, so this changes speed, never results.
BLOCKS: int | None = None
SIMULATOR_BLOCKS = 2
#: Register cap per thread (None: the compiler's choice); see kernels.cuda_model.
MAX_REGISTERS: int | None = None
#: Device memory one launch may hold for what a chunk keeps per path (outcomes, inputs,
#: monthly tensors) and for given inputs; a chunk needing more runs in several launches.
LAUNCH_BUFFER_BYTES = 1 << 30
#: Most paths in one launch. The device's exact accumulators take one integer below
#: 2**33 per group of 64 paths, so 2**26 groups keep every int64 window far from
#: overflow; after each launch they are folded into carry-normalised totals on the host.
MAX_LAUNCH_PATHS = 1 << 32
INSTALL_HINT = "pip install 'montecarlo[gpu]'"


def _simulating() -> bool:
    from numba.core import config

    return bool(config.ENABLE_CUDASIM)


def _kernels():
    """:mod:`kernels.cuda_model`, or a SimulationError saying how to install numba-cuda."""
    try:
        return importlib.import_module("kernels.cuda_model")
    except ImportError as err:
        raise SimulationError(f"backend='cuda' needs numba-cuda ({INSTALL_HINT}); {err}") from err


def _gpu_problem() -> str | None:
    """Why numba-cuda cannot run kernels here, or None when it can."""
    if _simulating():
        return None
    from numba import cuda

    try:
        if not cuda.is_available():
            reason = " ".join(str(cuda.cuda_error() or "no CUDA driver or NVVM").split())
            return f"numba-cuda finds no usable GPU ({reason})"
        if len(cuda.gpus) == 0:
            return "numba-cuda finds no GPU"
    except Exception as err:  # a broken driver raises many kinds of errors
        return f"the CUDA driver failed: {err}"
    return None


def available(*, simulator: bool = False) -> bool:
    """Whether ``backend="cuda"`` can run here: numba-cuda is installed and sees a GPU.

    Parameters
    ----------
    simulator : bool
        Count numba-cuda's simulator (``NUMBA_ENABLE_CUDASIM=1``) as available. It is
        not by default: it runs the kernel as Python, thousands of times slower than
        the CPU backend, so ``backend="auto"`` must not pick it.
    """
    try:
        if _simulating() and not simulator:
            return False
        _kernels()
        return _gpu_problem() is None
    except Exception:  # whatever stops numba-cuda loading means "no"
        return False


def normalise(acc: np.ndarray) -> np.ndarray:
    """Carry exact accumulators (int64, windows last) in place: the same totals, with
    every window but the last in [0, 2**32), so more can be added without overflow."""
    for i in range(acc.shape[-1] - 1):
        carry = acc[..., i] >> 32  # arithmetic shift: the floor, negative totals included
        acc[..., i] -= carry << 32
        acc[..., i + 1] += carry
    return acc


class CudaBackend:
    """Runs :func:`kernels.cuda_model.path_kernel` on the current CUDA device.

    Parameters
    ----------
    plan : montecarlo.backends.plan.Plan
        The run.
    shift : numpy.ndarray
        (11, T) shift of the variance sums (path 0's monthly outcomes).
    threads, blocks, max_registers : int, optional
        Launch shape and register cap (defaults: the module's THREADS, BLOCKS and
        MAX_REGISTERS). None of them changes results.
    """

    name = "cuda"
    summation = (
        "exact, order-independent (bitwise reproducible): as the numba backend, "
        "integer sums of each 64-path group's partial sums"
    )

    def __init__(
        self,
        plan,
        shift: np.ndarray,
        *,
        threads: int | None = None,
        blocks: int | None = None,
        max_registers: int | None = None,
    ):
        kernels = _kernels()
        problem = _gpu_problem()
        if problem is not None:
            raise SimulationError(
                f"backend='cuda' needs an NVIDIA GPU: {problem}; use backend='numba', or "
                f"backend='auto', which picks the GPU only where there is one"
            )
        from numba import cuda

        self._cuda = cuda
        self.plan = plan
        self.shift = np.ascontiguousarray(shift, dtype=np.float64)
        self.threads = int(THREADS if threads is None else threads)
        registers = MAX_REGISTERS if max_registers is None else max_registers
        self.kernel = kernels.path_kernel(self.threads, registers)
        self.max_blocks = int(blocks or BLOCKS or self._device_blocks())
        self.workers = self.max_blocks * self.threads
        T = plan.horizon
        p = plan.packed
        to = self._to_device
        self._inputs = (to(p.kinds), to(p.params), to(p.data), to(p.corr_index), to(p.chol))
        self._shocks = (to(plan.shock_chol), to(self.shift))
        self._stress = (to(plan.stress_mul), to(plan.stress_add), to(plan.stress_change))
        self._stressed = bool(plan.stress_change[1 : T + 1].any())
        self.sketch = to(np.zeros((N_MONTHLY, T, sketch.N_BUCKETS), dtype=np.int64))
        self._sums = np.zeros((2, N_MONTHLY, T, sketch.ACCUMULATOR_WINDOWS), dtype=np.int64)
        self.sums = to(self._sums)  # one launch's sums; the run's are self._sums
        self.profitable = to(np.zeros(T, dtype=np.int64))
        self.ruin = to(np.zeros(T + 2, dtype=np.int64))
        # What a launch passes for an output it does not keep, or for no given inputs.
        self._unused = {
            "given": to(np.zeros((1, N_INPUTS))),
            "per_path": to(np.zeros((1, N_PATH))),
            "inputs": to(np.zeros((1, N_INPUTS))),
            "monthly": to(np.zeros((1, N_MONTHLY, T))),
        }

    def _to_device(self, array: np.ndarray):
        return self._cuda.to_device(np.ascontiguousarray(array))

    def _device_blocks(self) -> int:
        if _simulating():
            return SIMULATOR_BLOCKS
        device = self._cuda.get_current_device()
        per_sm = max(1, device.MAX_THREADS_PER_MULTIPROCESSOR // self.threads)
        return device.MULTIPROCESSOR_COUNT * per_sm

    def run(
        self, first: int, n: int, *, keep_per_path: bool, keep_inputs: bool, keep_monthly: bool
    ):
        if first % LANES:
            raise ValueError(f"chunks must start on a multiple of {LANES} paths, got {first}")
        p = self.plan
        T = p.horizon
        keep_per_path, keep_inputs, keep_monthly = (
            bool(keep_per_path),
            bool(keep_inputs),
            bool(keep_monthly),
        )
        per_path = np.empty((n if keep_per_path else 1, N_PATH))
        inputs = np.empty((n if keep_inputs else 1, N_INPUTS))
        monthly = np.empty((n if keep_monthly else 1, N_MONTHLY, T))
        given, mask = p.chunk_inputs(first, n)
        any_given = bool(mask.any())
        d_mask = self._to_device(mask)
        row_bytes = 8 * (
            N_PATH * keep_per_path
            + N_INPUTS * (keep_inputs + any_given)
            + N_MONTHLY * T * keep_monthly
        )
        step = min(n, MAX_LAUNCH_PATHS)
        if row_bytes:
            step = min(step, max(LANES, LAUNCH_BUFFER_BYTES // row_bytes // LANES * LANES))
        for lo in range(0, n, step):
            hi = min(n, lo + step)
            m = hi - lo
            d_given = self._to_device(given[lo:hi]) if any_given else self._unused["given"]
            d_per_path = self._buffer(keep_per_path, (m, N_PATH), "per_path")
            d_inputs = self._buffer(keep_inputs, (m, N_INPUTS), "inputs")
            d_monthly = self._buffer(keep_monthly, (m, N_MONTHLY, T), "monthly")
            blocks = min(self.max_blocks, math.ceil(m / self.threads))
            self.kernel[blocks, self.threads](
                p.k0, p.k1, np.int64(first + lo), np.int64(m), p.antithetic, np.int64(T),
                *self._inputs, *self._shocks,
                d_given, d_mask, any_given, *self._stress, self._stressed,
                self.sketch, self.sums, self.profitable, self.ruin,
                keep_per_path, d_per_path, keep_inputs, d_inputs, keep_monthly, d_monthly,
            )  # fmt: skip
            if keep_per_path:
                d_per_path.copy_to_host(per_path[lo:hi])
            if keep_inputs:
                d_inputs.copy_to_host(inputs[lo:hi])
            if keep_monthly:
                d_monthly.copy_to_host(monthly[lo:hi])
            self._fold_sums()
        return per_path, inputs, monthly

    def _fold_sums(self):
        """Move the launch's exact sums into the run's (self._sums), carried."""
        launch = self.sums.copy_to_host()
        self._sums += launch
        normalise(self._sums)
        launch[...] = 0
        self.sums.copy_to_device(launch)

    def _buffer(self, keep: bool, shape: tuple, name: str):
        return self._cuda.device_array(shape) if keep else self._unused[name]

    def ruined_by(self, t: int) -> int:
        return int(self.ruin.copy_to_host()[1 : t + 1].sum())

    def profitable_in(self, t: int) -> int:
        return int(self.profitable.copy_to_host()[t - 1])

    def running_sums(self, v: int, t: int) -> tuple[float, float]:
        sums = self._sums[:, v, t]
        return sketch.accumulator_total(sums[0]), sketch.accumulator_total(sums[1])

    def reductions(self, n_paths: int) -> Reductions:
        sums = self._sums
        sum_d, sum_d2 = sketch.accumulator_totals(sums)
        return Reductions(
            n_paths=n_paths, horizon=self.plan.horizon, counts=self.sketch.copy_to_host(),
            sum_d=sum_d, sum_d2=sum_d2, shift=self.shift,
            profitable=self.profitable.copy_to_host(), ruin_counts=self.ruin.copy_to_host(),
        )  # fmt: skip

    def close(self):
        # The reductions stay on the device: the caller asks for them after closing.
        self._cuda.synchronize()
