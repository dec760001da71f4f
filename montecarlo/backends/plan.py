"""The plan of a run, and what every backend is given and returns.

A backend is made from the validated run and the shift of its variance sums::

    backend = Backend(plan, shift, **options)

``plan`` is a :class:`Plan` (packed scenario, seed, antithetic and qmc flags, stress
tables, caller-given inputs); ``shift`` is ``(N_MONTHLY, T)`` float64, path 0's monthly
outcomes, which keeps the variance sums well conditioned; ``options`` are the
backend's own keywords (the dask backend's ``client``, the cuda backend's launch
shape). A backend then has

- ``run(first, n, *, keep_per_path, keep_inputs, keep_monthly) -> (per_path, inputs,
  monthly)``: simulate paths ``first .. first + n - 1`` (``first`` a multiple of
  :data:`kernels.model.LANES` where the backend requires it), add them to its
  reductions and return the rows asked for: ``(n, N_PATH)``, ``(n, N_INPUTS)``,
  ``(n, N_MONTHLY, T)`` float64, or a one-row placeholder for each not kept;
- ``ruined_by(t)`` and ``profitable_in(t)``: paths so far ruined by month ``t``, and
  with operating profit > 0 in month ``t`` (1-based);
- ``running_sums(v, t)``: ``(sum of x - shift, sum of (x - shift)**2)`` of monthly
  outcome ``v`` in month index ``t`` (0-based) over the paths so far;
- ``reductions(n_paths) -> Reductions``: everything reduced so far;
- ``close()``: release threads, devices or clusters (reductions stay readable);
- attributes ``name``, ``workers`` (threads, GPU threads or worker processes),
  ``summation`` (how means and standard deviations are summed, for provenance) and
  ``shift`` (as given);
- optionally ``on_paths_done``, which the caller may set to a callable taking a number
  of paths: a backend that runs a chunk as several tasks calls it as each finishes
  (progress within a chunk).

Backends raise :class:`SimulationError` for invalid arguments. They know nothing of
Datasets, precision targets or progress bars; turning :class:`Reductions` into a
Dataset is :mod:`montecarlo.results`'s job.
"""

from __future__ import annotations

import dataclasses
import mmap
from typing import Protocol

import numpy as np

from kernels import distributions as kd
from kernels.layout import INPUT_NAMES, N_INPUTS

from ..correlation import psd_cholesky
from ..inputs import sobol_words


class SimulationError(ValueError):
    """An argument of a simulation is invalid; the message names it."""


@dataclasses.dataclass
class Reductions:
    """What a backend hands back: mergeable reductions over n_paths paths."""

    n_paths: int
    horizon: int
    counts: np.ndarray  # int64 (11, T, N_BUCKETS): sketch counts
    sum_d: np.ndarray  # float64 (11, T): sum of x - shift
    sum_d2: np.ndarray  # float64 (11, T): sum of (x - shift)**2
    shift: np.ndarray  # float64 (11, T)
    profitable: np.ndarray  # int64 (T,)
    ruin_counts: np.ndarray  # int64 (T + 2,): paths by ruin month, T + 1 = never
    per_path: np.ndarray | None = None  # float64 (n, 12)
    inputs: np.ndarray | None = None  # float64 (n, n_kept_inputs)
    input_names: tuple[str, ...] = ()


class Plan:
    """Everything a backend needs about a run, validated once.

    ``given`` is None or ``(values, mask)``: float64 ``(rows, N_INPUTS)`` and bool
    ``(N_INPUTS,)``, the validated static inputs of paths 0 .. rows - 1 in the masked
    columns.
    """

    def __init__(self, scenario, seed: int, antithetic: bool, *, qmc: bool = False, given=None):
        self.scenario = scenario
        self.packed = scenario.packed()
        self.shock_chol = np.ascontiguousarray(psd_cholesky(np.asarray(scenario.shock_correlation)))
        self.horizon = int(scenario.horizon_months)
        self.seed = seed
        self.k0 = np.uint32(seed & 0xFFFFFFFF)
        self.k1 = np.uint32(seed >> 32)
        self.antithetic = bool(antithetic)
        self.stress_mul, self.stress_add, self.stress_change = scenario.stress_tables()
        self.qmc = bool(qmc)
        self.given = given
        given_names = () if given is None else [INPUT_NAMES[i] for i in np.flatnonzero(given[1])]
        uncertain = set(scenario.uncertain_inputs) | set(given_names)
        self.kept_inputs = tuple(n for n in INPUT_NAMES if n in uncertain)
        self.kept_columns = np.array(
            [INPUT_NAMES.index(n) for n in self.kept_inputs], dtype=np.int64
        )
        # Quasi-Monte Carlo gives a Sobol dimension to every input whose normal matters:
        # the uncertain ones and any constant the copula mixes into them.
        qmc_inputs = set(scenario.uncertain_inputs) | {
            INPUT_NAMES[i] for i in self.packed.corr_index
        }
        self.qmc_columns = np.array(
            [i for i, n in enumerate(INPUT_NAMES) if n in qmc_inputs], dtype=np.int64
        )

    @property
    def static_inputs(self) -> str:
        if self.given is not None:
            return "given by the caller where set, else drawn (philox)"
        if self.qmc:
            return "randomised quasi-Monte Carlo: scrambled Sobol (scipy.stats.qmc), point = path"
        return "philox (spec v2)"

    def chunk_inputs(self, first: int, n: int):
        """``(values, mask)`` of paths first .. first + n - 1: inputs that are not drawn."""
        if self.given is not None:
            values, mask = self.given
            return values[first : first + n], mask
        if self.qmc and self.qmc_columns.size:
            words = sobol_words(self.qmc_columns.size, first, n, self.seed, self.antithetic)
            p = self.packed
            values = np.empty((n, N_INPUTS))
            kd.inputs_from_words(
                words, self.qmc_columns, p.kinds, p.params, p.data, p.corr_index, p.chol, values
            )
            return values, np.ones(N_INPUTS, dtype=np.bool_)
        return NO_VALUES, NO_MASK


# What a run without given inputs passes the kernels: the mask selects nothing.
NO_VALUES = np.zeros((1, N_INPUTS))
NO_MASK = np.zeros(N_INPUTS, dtype=np.bool_)


def zeroed(shape, dtype) -> np.ndarray:
    """``np.zeros(shape, dtype)`` in memory the kernel asks Linux to back with 2 MiB pages.

    For the sketch counts a kernel writes: 39 MB that a run touches a cache line here
    and there. In 4 KiB pages every first touch is a page fault (about 9,500 per
    sketch), taken inside the kernel on every thread; 2 MiB pages cost about 20. (Not
    for arrays read whole but written sparsely, such as the int64 totals: reading an
    untouched 4 KiB page maps the shared zero page, while a 2 MiB page is zeroed.)
    Where ``madvise`` is not offered this is ``np.zeros``."""
    size = int(np.prod(shape)) * np.dtype(dtype).itemsize
    if size < 1 << 22 or not hasattr(mmap, "MADV_HUGEPAGE"):
        return np.zeros(shape, dtype)
    memory = mmap.mmap(-1, size)  # anonymous: zero-filled, freed with the array
    try:
        memory.madvise(mmap.MADV_HUGEPAGE)
    except OSError:  # transparent huge pages disabled: the 4 KiB pages are still zeros
        pass
    return np.frombuffer(memory, dtype=dtype).reshape(shape)


class Backend(Protocol):
    """What a caller may rely on in a backend (see the module's docstring)."""

    name: str
    workers: int
    summation: str
    shift: np.ndarray

    def run(
        self, first: int, n: int, *, keep_per_path: bool, keep_inputs: bool, keep_monthly: bool
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]: ...

    def ruined_by(self, t: int) -> int: ...

    def profitable_in(self, t: int) -> int: ...

    def running_sums(self, v: int, t: int) -> tuple[float, float]: ...

    def reductions(self, n_paths: int) -> Reductions: ...

    def close(self) -> None: ...
