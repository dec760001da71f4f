"""``backend="dask"``: chunks of paths as tasks on a dask.distributed cluster.

Each chunk the caller asks for is split into tasks of consecutive paths (the
first path of each a multiple of :data:`kernels.model.LANES`). A task is
:func:`run_task`: from plain data (the scenario as TOML text, the seed, the
antithetic and qmc flags, the shift, and the caller-given input rows if any) it
rebuilds the run's plan, calls :func:`kernels.model.run_paths` on its paths and
returns a :class:`Partial` of mergeable reductions: sketch counts, exact int64
accumulators, profitable and ruin counts, all integers, the sketch and the
accumulators stored sparsely (a task fills a few percent of their cells).
Partials merge pairwise in a tree by task index (:func:`merge_partials`) on the
cluster, so the client receives one partial per chunk plus the per-path rows
it keeps. Integer sums do not depend on the order of addition, so the totals
are bitwise those of ``backend="numba"`` whichever worker ran what, however a
run is split into chunks and tasks.

Tasks are submitted with ``retries``: a task that fails, or whose worker dies,
is run again (dask recomputes lost intermediate partials from their inputs).
On an error or ``KeyboardInterrupt`` the outstanding tasks of the chunk are
cancelled; a cluster the backend started is closed with it, which also stops
the tasks already running.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import uuid
from collections.abc import Callable
from operator import getitem

import numpy as np

from kernels import model, sketch
from kernels.layout import N_INPUTS, N_MONTHLY, N_PATH

from .numba import TASK_PATHS as _NUMBA_TASK_PATHS
from .plan import NO_MASK, NO_VALUES, Plan, Reductions, SimulationError, zeroed

#: Most paths in one task. Besides its paths, a task costs ~0.12-0.15 s of CPU time at a
#: 60-month horizon (a fresh 39 MB sketch, finding its nonzero cells, one merge, moving
#: ~5 MB, scheduling), mostly proportional to the horizon as the paths' own cost is
#: (~24 us per path-60-months); at 2**17 paths, ~3 s, that is ~5 %
#: (benchmarks/bench_dask.py measures it by task size; docs/dask.md).
TASK_PATHS = 1 << 17
#: Fewest paths in a task, unless the chunk is smaller (a multiple of LANES): a chunk
#: smaller than one TASK_PATHS task per worker thread is shared among the threads, but
#: not in tasks so small that their fixed cost dominates.
MIN_TASK_PATHS = _NUMBA_TASK_PATHS
#: Times dask runs a task again after it failed or its worker died.
RETRIES = 3
#: Seconds to wait for a scheduler given by address.
CONNECT_TIMEOUT = 10


@dataclasses.dataclass
class Partial:
    """Reductions over ``n_paths`` paths, as a task returns them.

    ``counts`` and ``sums`` hold the nonzero cells of the sketch counts
    ``(N_MONTHLY, T, N_BUCKETS)`` and of the exact accumulators
    ``(2, N_MONTHLY, T, ACCUMULATOR_WINDOWS)``: (flat indices, ascending;
    values: uint32 counts as a task returns them, int64 once merged).
    """

    n_paths: int
    counts: tuple[np.ndarray, np.ndarray]
    sums: tuple[np.ndarray, np.ndarray]
    profitable: np.ndarray  # int64 (T,)
    ruin: np.ndarray  # int64 (T + 2,)


def _sparse(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(flat indices, values) of the nonzero cells of ``a``, values in a's dtype."""
    flat = a.reshape(-1)
    index = np.flatnonzero(flat)
    dtype = np.uint32 if flat.size <= 2**32 else np.int64
    return index.astype(dtype), flat[index]


def _add_sparse(a, b) -> tuple[np.ndarray, np.ndarray]:
    index = np.concatenate([a[0], b[0]])
    # A task's uint32 counts become int64 once merged: a chunk may pass 2**32 paths.
    values = np.concatenate([a[1], b[1]]).astype(np.int64, copy=False)
    if not index.size:
        return index, values
    # Two ascending runs: the stable sort (timsort) merges them in linear time.
    order = np.argsort(index, kind="stable")
    index, values = index[order], values[order]
    starts = np.flatnonzero(np.concatenate([[True], index[1:] != index[:-1]]))
    # int64 additions wrap exactly as the kernel's and the numba backend's do.
    return index[starts], np.add.reduceat(values, starts)


def merge_partials(a: Partial, b: Partial) -> Partial:
    """The reductions of the paths of ``a`` and ``b`` together."""
    return Partial(
        n_paths=a.n_paths + b.n_paths,
        counts=_add_sparse(a.counts, b.counts),
        sums=_add_sparse(a.sums, b.sums),
        profitable=a.profitable + b.profitable,
        ruin=a.ruin + b.ruin,
    )


@functools.lru_cache(maxsize=4)
def _worker_plan(scenario_toml: str, seed: int, antithetic: bool, qmc: bool) -> Plan:
    # Rebuilding a scenario (validation, packing, Cholesky factors) costs about a
    # second, so each worker process does it once per run, not once per task.
    from ..scenario import Scenario

    return Plan(Scenario.from_toml(scenario_toml), seed, antithetic, qmc=qmc)


def run_task(
    spec: dict,
    first: int,
    n: int,
    keep: tuple[bool, bool, bool],
    given: np.ndarray | None = None,
):
    """Simulate paths ``first .. first + n - 1`` on a worker and reduce them.

    Parameters
    ----------
    spec : dict
        Plain data of the run: ``scenario`` (TOML text), ``seed``, ``antithetic``,
        ``qmc``, ``shift`` ((N_MONTHLY, T) float64) and ``given_mask`` ((N_INPUTS,)
        bool, or None without caller-given inputs).
    first, n : int
        The paths; ``first`` is a multiple of LANES.
    keep : (bool, bool, bool)
        Whether to return the per-path outcomes, the inputs and the monthly tensor.
    given : numpy.ndarray, optional
        ``(n, given_mask.sum())``: the caller-given inputs of these paths (only the
        columns given travel).

    Returns
    -------
    Partial, or (Partial, (per_path, inputs, monthly)) when any of ``keep`` is set
    (the arrays not kept are None).
    """
    plan = _worker_plan(spec["scenario"], spec["seed"], spec["antithetic"], spec["qmc"])
    keep_per_path, keep_inputs, keep_monthly = keep
    T = plan.horizon
    if given is not None:
        mask = spec["given_mask"]
        values = np.zeros((n, N_INPUTS))
        values[:, mask] = given
    else:
        values, mask = plan.chunk_inputs(first, n)
    has_given = bool(mask.any())
    counts = zeroed((N_MONTHLY, T, sketch.N_BUCKETS), np.uint32)
    sums = np.zeros((2, N_MONTHLY, T, sketch.ACCUMULATOR_WINDOWS), dtype=np.int64)
    profitable = np.zeros(T, dtype=np.int64)
    ruin = np.zeros(T + 2, dtype=np.int64)
    per_path = np.empty((n if keep_per_path else 1, N_PATH))
    inputs = np.empty((n if keep_inputs else 1, N_INPUTS))
    monthly = np.empty((n if keep_monthly else 1, N_MONTHLY, T))
    p = plan.packed
    model.run_paths(
        plan.k0, plan.k1, first, n, plan.antithetic, T,
        p.kinds, p.params, p.data, p.corr_index, p.chol, plan.shock_chol, spec["shift"],
        values if has_given else NO_VALUES, mask if has_given else NO_MASK,
        plan.stress_mul, plan.stress_add, plan.stress_change,
        counts, sums, profitable, ruin,
        keep_per_path, per_path, keep_inputs, inputs, keep_monthly, monthly,
    )  # fmt: skip
    partial = Partial(n, _sparse(counts), _sparse(sums), profitable, ruin)
    if not any(keep):
        return partial
    rows = (
        per_path if keep_per_path else None,
        inputs if keep_inputs else None,
        monthly if keep_monthly else None,
    )
    return partial, rows


def _connect(client):
    """``(client, cluster)``: the Client to use, and what this backend started (else None)."""
    try:
        import distributed
    except ImportError:
        raise SimulationError(
            "backend='dask' needs dask.distributed: pip install 'montecarlo[distributed]'"
        ) from None
    if client is None:
        cluster = distributed.LocalCluster(
            n_workers=os.cpu_count() or 1,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            # The scheduler's HTTP routes (health, metrics) listen even without a
            # dashboard; on a free port, so a second cluster does not find 8787 taken.
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
        )
        try:
            return distributed.Client(cluster, set_as_default=False), cluster
        except BaseException:
            cluster.close()
            raise
    if isinstance(client, str):
        try:
            joined = distributed.Client(client, timeout=CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise SimulationError(f"cannot reach the dask scheduler at {client}: {exc}") from None
        return joined, None
    if isinstance(client, distributed.Client):
        return client, None
    raise SimulationError(
        f"client must be a dask.distributed.Client, a scheduler address or None, "
        f"got {type(client).__name__}"
    )


class DaskBackend:
    """Runs the chunks of a simulation as tasks on a dask.distributed cluster.

    Parameters
    ----------
    plan : montecarlo.backends.plan.Plan
        The validated run.
    shift : numpy.ndarray
        ``(N_MONTHLY, T)``: the shift of the exact sums (path 0's monthly outcomes).
    client : distributed.Client or str, optional
        A client to use (left open), a scheduler address to join, or None to start
        a ``LocalCluster`` of one single-threaded worker process per core on
        loopback; what the backend starts, :meth:`close` closes.

    Attributes
    ----------
    on_paths_done : callable, optional
        Called with the number of paths of each task as it completes (progress).
    """

    name = "dask"
    summation = "exact, order-independent (bitwise reproducible)"

    def __init__(self, plan: Plan, shift: np.ndarray, *, client=None):
        self.plan = plan
        self.shift = np.ascontiguousarray(shift, dtype=np.float64)
        self.on_paths_done: Callable[[int], None] | None = None
        self.client, self.cluster = _connect(client)
        self._owns_client = self.client is not client
        self.spec = {
            "scenario": plan.scenario.to_toml(),
            "seed": plan.seed,
            "antithetic": plan.antithetic,
            "qmc": plan.qmc,
            "shift": self.shift,
            "given_mask": None if plan.given is None else plan.given[1],
        }
        self.workers = len(self.client.nthreads())
        T = plan.horizon
        self.counts = np.zeros((N_MONTHLY, T, sketch.N_BUCKETS), dtype=np.int64)
        self.sums = np.zeros((2, N_MONTHLY, T, sketch.ACCUMULATOR_WINDOWS), dtype=np.int64)
        self.profitable = np.zeros(T, dtype=np.int64)
        self.ruin = np.zeros(T + 2, dtype=np.int64)
        self._pending: list = []

    def task_paths(self, n: int) -> int:
        """Paths per task for a chunk of ``n`` paths (a multiple of LANES).

        One task per worker thread while that keeps tasks within
        [MIN_TASK_PATHS, TASK_PATHS]; more, of TASK_PATHS paths, for larger chunks.
        Splitting further would only add each task's fixed cost.
        """
        threads = max(1, sum(self.client.nthreads().values()))
        size = max(min(-(-n // threads), TASK_PATHS), min(MIN_TASK_PATHS, n))
        return -(-size // model.LANES) * model.LANES

    def run(
        self, first: int, n: int, *, keep_per_path: bool, keep_inputs: bool, keep_monthly: bool
    ):
        if first % model.LANES:
            raise ValueError(f"first path {first} is not a multiple of {model.LANES}")
        from distributed import as_completed

        keep = (bool(keep_per_path), bool(keep_inputs), bool(keep_monthly))
        size = self.task_paths(n)
        bounds = [(lo, min(lo + size, n)) for lo in range(0, n, size)]
        try:
            leaves, root, rows = self._submit(first, bounds, keep)
            sizes = {leaf.key: hi - lo for leaf, (lo, hi) in zip(leaves, bounds, strict=True)}
            for done in as_completed(leaves, loop=self.client.loop):
                if self.on_paths_done is not None and done.status == "finished":
                    self.on_paths_done(sizes[done.key])
            partial = root.result()
            kept = self.client.gather(rows)
        except BaseException:
            self.cancel()
            raise
        self._pending = []
        self.workers = max(self.workers, len(self.client.nthreads()))
        self._add(partial)
        return self._rows(kept, keep)

    def _submit(self, first: int, bounds, keep):
        """Submit a chunk's tasks: (leaf futures, the root of the merge tree, row futures)."""
        tag = uuid.uuid4().hex

        def submit(key: str, fn, *args):
            future = self.client.submit(fn, *args, key=f"montecarlo-{key}-{tag}", retries=RETRIES)
            self._pending.append(future)
            return future

        given_mask = None if self.plan.given is None else self.plan.given[1]
        leaves = []
        for i, (lo, hi) in enumerate(bounds):
            # Only the given columns of the task's rows travel with it.
            given = None
            if given_mask is not None:
                given = self.plan.given[0][first + lo : first + hi][:, given_mask]
            leaves.append(
                submit(f"paths-{i}", run_task, self.spec, first + lo, hi - lo, keep, given)
            )
        rows = []
        level = leaves
        if any(keep):
            level = [submit(f"partial-{i}", getitem, leaf, 0) for i, leaf in enumerate(leaves)]
            rows = [submit(f"rows-{i}", getitem, leaf, 1) for i, leaf in enumerate(leaves)]
        # Whichever task finishes first, partials merge pairwise by task index.
        depth = 0
        while len(level) > 1:
            merged = [
                submit(f"merge-{depth}-{i // 2}", merge_partials, level[i], level[i + 1])
                for i in range(0, len(level) - 1, 2)
            ]
            level = merged + level[len(level) - len(level) % 2 :]
            depth += 1
        return leaves, level[0], rows

    def _rows(self, kept, keep):
        T = self.plan.horizon
        empty = (np.empty((1, N_PATH)), np.empty((1, N_INPUTS)), np.empty((1, N_MONTHLY, T)))
        out = []
        for j in range(3):
            if keep[j]:
                out.append(np.concatenate([r[j] for r in kept]))
            else:
                out.append(empty[j])
        return tuple(out)

    def _add(self, partial: Partial):
        # Indices of a partial are distinct, so fancy-index addition adds each once.
        self.counts.reshape(-1)[partial.counts[0]] += partial.counts[1]
        self.sums.reshape(-1)[partial.sums[0]] += partial.sums[1]
        self.profitable += partial.profitable
        self.ruin += partial.ruin

    def cancel(self):
        """Cancel the tasks of the chunk in progress (a task already running finishes)."""
        pending, self._pending = self._pending, []
        if pending:
            self.client.cancel(pending)

    def ruined_by(self, t: int) -> int:
        return int(self.ruin[1 : t + 1].sum())

    def profitable_in(self, t: int) -> int:
        return int(self.profitable[t - 1])

    def running_sums(self, v: int, t: int) -> tuple[float, float]:
        sums = self.sums[:, v, t]
        return sketch.accumulator_total(sums[0]), sketch.accumulator_total(sums[1])

    def reductions(self, n_paths: int) -> Reductions:
        T = self.plan.horizon
        sum_d, sum_d2 = sketch.accumulator_totals(self.sums)
        return Reductions(
            n_paths=n_paths, horizon=T, counts=self.counts, sum_d=sum_d, sum_d2=sum_d2,
            shift=self.shift, profitable=self.profitable, ruin_counts=self.ruin,
        )  # fmt: skip

    def close(self):
        """Cancel what is outstanding; close the client and cluster this backend started."""
        try:
            self.cancel()
        finally:
            if self._owns_client:
                self.client.close()
            if self.cluster is not None:
                self.cluster.close()
