"""``backend="numba"``: :func:`kernels.model.run_paths` on every numba thread.

A chunk is cut into work items of :data:`TASK_PATHS` paths that go to whichever
thread is free; each thread reduces into its own set of arrays (uint32 sketch counts,
exact int64 accumulators, event counts), all integers, so the totals do not depend on
which thread ran what, nor on the thread count or the chunk size.
"""

from __future__ import annotations

import queue
from concurrent.futures import ThreadPoolExecutor

# Imports are absolute (Python 3): `import numba` is the library, not this module.
import numba
import numpy as np

from kernels import model, sketch
from kernels.layout import N_INPUTS, N_MONTHLY, N_PATH

from .plan import Plan, Reductions, zeroed

#: Paths in one work item (a multiple of the kernel's LANES).
TASK_PATHS = 4 * model.BLOCK


class NumbaBackend:
    """Runs :func:`kernels.model.run_paths` on as many threads as numba has."""

    name = "numba"
    summation = "exact, order-independent (bitwise reproducible)"

    def __init__(self, plan: Plan, shift: np.ndarray):
        self.plan = plan
        self.shift = np.ascontiguousarray(shift)
        self.workers = max(1, numba.get_num_threads())
        T = plan.horizon
        w = self.workers
        self.sketch = zeroed((w, N_MONTHLY, T, sketch.N_BUCKETS), np.uint32)
        self.sums = np.zeros((w, 2, N_MONTHLY, T, sketch.ACCUMULATOR_WINDOWS), dtype=np.int64)
        self.profitable = np.zeros((w, T), dtype=np.int64)
        self.ruin = np.zeros((w, T + 2), dtype=np.int64)
        self.counts = np.zeros((N_MONTHLY, T, sketch.N_BUCKETS), dtype=np.int64)
        self.unfolded = 0
        self.pool = ThreadPoolExecutor(self.workers, thread_name_prefix="montecarlo")

    def run(
        self, first: int, n: int, *, keep_per_path: bool, keep_inputs: bool, keep_monthly: bool
    ):
        p = self.plan
        per_path = np.empty((n if keep_per_path else 1, N_PATH))
        inputs = np.empty((n if keep_inputs else 1, N_INPUTS))
        monthly = np.empty((n if keep_monthly else 1, N_MONTHLY, p.horizon))
        # Work items of TASK_PATHS paths go to whichever thread is free, each taking a
        # free set of reduction arrays: on a shared machine a slowed thread then delays
        # the run by one item, not by half of it. Which set reduces which item changes
        # nothing, since every reduction is a sum of integers.
        slots: queue.SimpleQueue[int] = queue.SimpleQueue()
        for w in range(self.workers):
            slots.put(w)
        given, mask = p.chunk_inputs(first, n)
        has_given = bool(mask.any())

        def rows(array, keep, lo, hi):
            return array[lo:hi] if keep else array

        def work(lo: int, hi: int):
            w = slots.get()
            try:
                model.run_paths(
                    p.k0, p.k1, first + lo, hi - lo, p.antithetic, p.horizon,
                    p.packed.kinds, p.packed.params, p.packed.data, p.packed.corr_index,
                    p.packed.chol, p.shock_chol, self.shift,
                    rows(given, has_given, lo, hi), mask,
                    p.stress_mul, p.stress_add, p.stress_change,
                    self.sketch[w], self.sums[w], self.profitable[w], self.ruin[w],
                    keep_per_path, rows(per_path, keep_per_path, lo, hi),
                    keep_inputs, rows(inputs, keep_inputs, lo, hi),
                    keep_monthly, rows(monthly, keep_monthly, lo, hi),
                )  # fmt: skip
            finally:
                slots.put(w)

        tasks = [
            self.pool.submit(work, lo, min(lo + TASK_PATHS, n)) for lo in range(0, n, TASK_PATHS)
        ]
        for task in tasks:
            task.result()
        self.unfolded += n
        if self.unfolded > 2**31:  # uint32 counts: fold long before they could wrap
            self._fold()
        return per_path, inputs, monthly

    def ruined_by(self, t: int) -> int:
        return int(self.ruin[:, 1 : t + 1].sum())

    def profitable_in(self, t: int) -> int:
        return int(self.profitable[:, t - 1].sum())

    def running_sums(self, v: int, t: int) -> tuple[float, float]:
        sums = self.sums[:, :, v, t].sum(axis=0)
        return sketch.accumulator_total(sums[0]), sketch.accumulator_total(sums[1])

    def _fold(self):
        """Add the per-worker uint32 sketch counts into the int64 totals, in place."""
        # Each thread folds every worker's counts of its own slice of the cells.
        total = self.counts.reshape(-1)
        counts = self.sketch.reshape(self.workers, -1)
        edges = np.linspace(0, total.size, self.workers + 1).astype(np.int64)

        def fold(lo: int, hi: int):
            for w in range(self.workers):
                sketch.fold_counts(total[lo:hi], counts[w, lo:hi])

        # A pool of its own: the engine may have closed the run's pool before it asks for
        # the reductions.
        with ThreadPoolExecutor(self.workers) as pool:
            tasks = [pool.submit(fold, edges[k], edges[k + 1]) for k in range(self.workers)]
            for task in tasks:
                task.result()
        self.unfolded = 0

    def reductions(self, n_paths: int) -> Reductions:
        self._fold()
        sums = self.sums.sum(axis=0)
        sum_d, sum_d2 = sketch.accumulator_totals(sums)
        return Reductions(
            n_paths=n_paths, horizon=self.plan.horizon, counts=self.counts, sum_d=sum_d,
            sum_d2=sum_d2, shift=self.shift, profitable=self.profitable.sum(axis=0),
            ruin_counts=self.ruin.sum(axis=0),
        )  # fmt: skip

    def close(self):
        self.pool.shutdown(wait=True, cancel_futures=True)
