"""The CPU kernel's phases one at a time: their speed, and their machine code.

Each phase kernel here runs one of the lane-loop helpers that
:func:`kernels.model.run_paths` is made of, over a block of groups, ``reps`` times:

- ``sampling``: the static inputs (:func:`kernels.model._sample_group`);
- ``set-up``: the per-path constants and month 0 (``_setup_group``, ``_start_group``);
- ``shocks``: a month's Philox blocks, normals and correlation (``_shock_group``);
- ``month step``: the equations of a month and the trackers (``_step_group``);
- ``reductions``: sketch counts, exact sums, profitable count (``_reduce_group``).

The helpers are the kernel's own (forced inline into it and into these), so a phase
kernel's machine code is that phase's hot loop. :func:`packed_instructions` counts
the vector instructions in it: ``tests/test_vectorisation.py`` asserts that every phase
keeps its vector arithmetic (a change that de-vectorises a loop fails the tests), and
``benchmarks/bench_model.py`` prints the counts and times each phase.
"""

from __future__ import annotations

import re

import numba
import numpy as np

from . import model
from .layout import N_MONTHLY
from .model import BLOCK, GROUPS, LANES, N_ROWS, ROW, X
from .sketch import ACCUMULATOR_WINDOWS, N_BUCKETS
from .target import FASTMATH

PHASES = ("sampling", "set-up", "shocks", "month step", "reductions")
_jit = numba.njit(nogil=True, error_model="numpy", fastmath=FASTMATH)


@_jit
def _sampling(k0, k1, kinds, params, data, corr_index, chol, drawn, init, reps):
    work = np.empty((GROUPS, N_ROWS, ROW))
    work[:] = init
    for r in range(reps):
        for g in range(GROUPS):
            model._sample_group(k0, k1, r * BLOCK + g * LANES, LANES, False, kinds, params,
                                data, corr_index, chol, drawn, work, g)  # fmt: skip
    return work


@_jit
def _setup(init, reps):
    work = np.empty((GROUPS, N_ROWS, ROW))
    work[:] = init
    for _ in range(reps):
        for g in range(GROUPS):
            model._setup_group(LANES, model.UNSTRESSED, X, work, g)
            model._start_group(LANES, work, g)
    return work


@_jit
def _shocks(k0, k1, chol_rows, init, reps):
    work = np.empty((GROUPS, N_ROWS, ROW))
    work[:] = init
    tails = np.zeros(model.N_NORMALS * LANES)
    tail_at = np.zeros(model.N_NORMALS * LANES, dtype=np.int64)
    for t in range(1, reps + 1):
        for g in range(GROUPS):
            model._shock_group(k0, k1, g * LANES, t, LANES, False, chol_rows, work, g, tails,
                               tail_at)  # fmt: skip
    return work


@_jit
def _step(init, reps):
    work = np.empty((GROUPS, N_ROWS, ROW))
    work[:] = init
    for t in range(1, reps + 1):
        for g in range(GROUPS):
            model._step_group(t, LANES, work, g)
    return work


@_jit
def _reductions(shift, init, reps, horizon, sketch, sums):
    # The sketch and the sums come from outside: zeroing the 39 MB sketch would cost the
    # phase more than its work does.
    work = np.empty((GROUPS, N_ROWS, ROW))
    work[:] = init
    dev = np.zeros((2 * N_MONTHLY, LANES))
    slots = np.zeros((N_MONTHLY, LANES), dtype=np.uint64)
    flat = sketch.reshape(-1)
    profitable = 0
    for r in range(reps):
        t = r % horizon + 1
        for g in range(GROUPS):
            profitable += model._reduce_group(t, horizon, LANES, shift, work, g, flat, dev,
                                              slots, sums)  # fmt: skip
    return profitable


class Phases:
    """The phase kernels on one scenario's block of paths, each started from the state
    the phase before it leaves (``plan`` is a :class:`montecarlo.backends.plan.Plan`)."""

    def __init__(self, plan):
        p = plan.packed
        self.horizon = plan.horizon
        self.k0, self.k1 = plan.k0, plan.k1
        drawn = model.drawn_blocks(p.kinds, p.corr_index)
        self.sample_args = (self.k0, self.k1, p.kinds, p.params, p.data, p.corr_index, p.chol,
                            drawn)  # fmt: skip
        self.chol_rows = model.cholesky_rows(plan.shock_chol)
        work = np.zeros((GROUPS, N_ROWS, ROW))
        self.sampled = _sampling(*self.sample_args, work, 1)
        self.started = _setup(self.sampled, 1)
        self.shocked = _shocks(self.k0, self.k1, self.chol_rows, self.started, 1)
        self.stepped = _step(self.shocked, 1)
        self.sketch = np.zeros((N_MONTHLY, self.horizon, N_BUCKETS), dtype=np.uint32)
        self.sums = np.zeros((2, N_MONTHLY, self.horizon, ACCUMULATOR_WINDOWS), dtype=np.int64)
        # The path-0 monthly outcomes, as the engine's shift.
        self.shift = np.repeat(self.stepped[0, model.OUT : model.OUT + N_MONTHLY, :1],
                               self.horizon, axis=1)  # fmt: skip

    def run(self, phase: str, reps: int):
        """Run ``phase`` ``reps`` times over a block of BLOCK paths (months for the monthly
        phases, fresh blocks of paths for sampling and set-up)."""
        if phase == "sampling":
            return _sampling(*self.sample_args, self.sampled, reps)
        if phase == "set-up":
            return _setup(self.sampled, reps)
        if phase == "shocks":
            return _shocks(self.k0, self.k1, self.chol_rows, self.started, reps)
        if phase == "month step":
            return _step(self.shocked, reps)
        if phase == "reductions":
            return _reductions(self.shift, self.stepped, reps, self.horizon, self.sketch,
                               self.sums)  # fmt: skip
        raise ValueError(f"phase must be one of {PHASES}, got {phase!r}")

    def assembly(self, phase: str) -> str:
        """The machine code of ``phase``'s kernel (compiled afresh: the cache keeps none)."""
        kernel = {"sampling": _sampling, "set-up": _setup, "shocks": _shocks,
                  "month step": _step, "reductions": _reductions}[phase]  # fmt: skip
        self.run(phase, 1)
        return kernel.inspect_asm(kernel.signatures[0])


_PACKED = re.compile(
    r"^\s*v?(?:add|sub|mul|div|sqrt|min|max|fn?m(?:add|sub)\d*|and|or|xor|blendm|cmp)[a-z]*pd\s"
    r"[^\n]*%([xyz])mm",
    re.MULTILINE,
)


def packed_instructions(asm: str) -> dict[str, int]:
    """Packed float64 instructions (arithmetic, logic, compares, blends) in ``asm``, by
    register width: ``{"xmm": n, "ymm": n, "zmm": n}`` (128, 256, 512 bits). Scalar
    float64 code uses the ``sd`` forms and counts nothing."""
    counts = {"xmm": 0, "ymm": 0, "zmm": 0}
    for match in _PACKED.finditer(asm):
        counts[match.group(1) + "mm"] += 1
    return counts
