"""backend="dask": a real LocalCluster (worker processes on loopback) reproduces the numba
backend bit for bit, survives a killed worker, cancels on interrupt, and says clearly when
it cannot reach a scheduler.

Two clusters are started once for the module (two workers, one worker); the tests shrink
the task size so small runs still spread over many tasks and odd merge trees.
"""

import os
import signal
import socket
import threading
import time

import distributed
import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from kernels import model
from kernels.layout import N_MONTHLY
from montecarlo.backends import dask as mdd
from montecarlo.backends.numba import NumbaBackend
from montecarlo.backends.plan import Plan
from montecarlo.engine import SimulationError, _shift, simulate
from montecarlo.scenario import Scenario, ScenarioError

SCENARIO = Scenario.preset("self-hosted").replace(horizon_months=24, generation_jump_rate=2.0)
SEED = 2**63 + 12345
N = 3000
#: Attributes that say how a run was executed, not what it computed.
EXECUTION_ATTRS = (
    "elapsed_seconds", "threads", "chunk_paths", "backend", "backend_requested",
    "mean_std_summation",
)  # fmt: skip


def _cluster(n_workers: int):
    return distributed.LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},  # not 8787: two clusters
    )


@pytest.fixture(scope="module")
def two():
    with _cluster(2) as cluster, distributed.Client(cluster, set_as_default=False) as client:
        yield client


@pytest.fixture(scope="module")
def one():
    with _cluster(1) as cluster, distributed.Client(cluster, set_as_default=False) as client:
        yield client


@pytest.fixture
def small_tasks(monkeypatch):
    """Tasks of 64 .. 512 paths, so N paths make a handful of tasks and uneven merge trees."""
    monkeypatch.setattr(mdd, "MIN_TASK_PATHS", model.LANES)
    monkeypatch.setattr(mdd, "TASK_PATHS", 512)


def execution_free(ds: xr.Dataset) -> xr.Dataset:
    out = ds.copy()
    for key in EXECUTION_ATTRS:
        out.attrs.pop(key, None)
    return out


def assert_bitwise(got: xr.Dataset, want: xr.Dataset):
    """Identical data, coordinates and provenance; floats compared by their bits."""
    got, want = execution_free(got), execution_free(want)
    xr.testing.assert_identical(got, want)
    for name in want.data_vars:
        if want[name].dtype.kind == "f":
            np.testing.assert_array_equal(
                np.ascontiguousarray(got[name].values).view(np.int64),
                np.ascontiguousarray(want[name].values).view(np.int64),
                err_msg=name,
            )


def pair(client, scenario=SCENARIO, n=N, **kwargs):
    """The same run on the dask cluster and in this process (numba)."""
    kwargs = {"seed": SEED, "progress": False, **kwargs}
    got = simulate(scenario, n, backend="dask", client=client, **kwargs)
    return got, simulate(scenario, n, **kwargs)


def scheduler_and_worker_tasks(client) -> list[str]:
    """Keys of this package's tasks the scheduler or any worker still holds."""
    on_scheduler = client.run_on_scheduler(
        lambda dask_scheduler: [str(k) for k in dask_scheduler.tasks]
    )
    on_workers = client.run(lambda dask_worker: [str(k) for k in dask_worker.state.tasks])
    keys = on_scheduler + [k for keys in on_workers.values() for k in keys]
    return [k for k in keys if k.startswith("montecarlo-")]


def wait_until_no_tasks(client, timeout: float = 30.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while (left := scheduler_and_worker_tasks(client)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


# ------------------------------------------------------------------------------------------
# Bitwise agreement with the in-process numba backend
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("keep_paths", [True, False])
@pytest.mark.parametrize("chunk_paths", [64, 997, 100_000])
@pytest.mark.parametrize("workers", ["one", "two"])
def test_results_are_bitwise_those_of_numba(request, small_tasks, workers, chunk_paths, keep_paths):
    client = request.getfixturevalue(workers)
    got, want = pair(client, chunk_paths=chunk_paths, keep_paths=keep_paths)
    assert got.attrs["backend"] == "dask"
    assert got.attrs["threads"] == len(client.nthreads())
    assert got.attrs["chunk_paths"] == -(-chunk_paths // model.LANES) * model.LANES
    assert ("path" in got.dims) == keep_paths
    assert_bitwise(got, want)
    assert client.status == "running"  # a client passed in is left open


def test_default_task_sizes_agree_too(two):
    got, want = pair(two, n=20_000, chunk_paths=10_000)
    assert_bitwise(got, want)


def test_stresses_antithetic_and_qmc_agree(two, small_tasks):
    stressed = SCENARIO.with_stress("gpu_rent_price_0", 6, multiply=1.5).with_stress(
        "users_0", 3, months=4, multiply=0.5
    )
    got, want = pair(two, stressed, n=2048, chunk_paths=1000, antithetic=True)
    assert got.attrs["stresses"] != "none"
    assert_bitwise(got, want)
    got, want = pair(two, stressed, n=2048, chunk_paths=1000, qmc=True)
    assert "Sobol" in got.attrs["static_inputs"]
    assert_bitwise(got, want)


def test_given_inputs_agree(two, small_tasks):
    base = simulate(SCENARIO, N, seed=1, keep_paths=True, progress=False)
    got, want = pair(two, inputs=base["inputs"] * 1.01, chunk_paths=1000, keep_paths=True)
    assert "given by the caller" in got.attrs["static_inputs"]
    assert_bitwise(got, want)


def test_precision_targets_run_the_same_steps(two, small_tasks):
    targets = {"p_ruined": 0.004, "cash_mean": {"relative": 0.02}}
    got, want = pair(
        two, n=1000, precision=targets, max_paths=40_000, chunk_paths=4096, keep_paths=False
    )
    assert got.sizes["step"] > 1
    assert_bitwise(got, want)


def test_backend_level_rows_and_reductions_agree(two, small_tasks):
    """run() with every kept array, as simulate_paths would ask (it refuses dask)."""
    plan = Plan(SCENARIO, SEED, False)
    shift = _shift("numba", plan)
    keep = {"keep_per_path": True, "keep_inputs": True, "keep_monthly": True}
    dask = mdd.DaskBackend(plan, shift, client=two)
    numba = NumbaBackend(plan, shift)
    # What travels with each task is plain data: no pickled scenario or plan.
    assert Scenario.from_toml(dask.spec["scenario"]) == SCENARIO
    assert {type(v) for v in dask.spec.values()} <= {str, int, bool, np.ndarray, type(None)}
    try:
        for first, n in ((0, 1000), (1024, 64), (1088, 777)):
            got, want = dask.run(first, n, **keep), numba.run(first, n, **keep)
            for a, b in zip(got, want, strict=True):
                np.testing.assert_array_equal(a, b)
    finally:
        dask.close()
        numba.close()
    assert dask.ruined_by(plan.horizon) == numba.ruined_by(plan.horizon)
    assert dask.running_sums(6, 23) == numba.running_sums(6, 23)
    got, want = dask.reductions(1865), numba.reductions(1865)
    for field in ("counts", "sum_d", "sum_d2", "shift", "profitable", "ruin_counts"):
        np.testing.assert_array_equal(getattr(got, field), getattr(want, field), err_msg=field)


def test_a_scheduler_address_is_joined_and_left_running(two, small_tasks):
    address = two.scheduler.address
    got, want = pair(address, chunk_paths=1000, keep_paths=False)
    assert_bitwise(got, want)
    assert two.status == "running" and len(two.nthreads()) == 2


def test_without_a_client_a_local_cluster_is_started_and_closed(monkeypatch):
    started = []
    close = mdd.DaskBackend.close

    def spy(self):
        started.append(self)
        close(self)

    monkeypatch.setattr(mdd.DaskBackend, "close", spy)
    got, want = pair(None, keep_paths=False)
    assert_bitwise(got, want)
    (backend,) = started
    assert got.attrs["threads"] == os.cpu_count()
    assert backend.cluster.status.name == "closed"
    assert backend.client.status == "closed"


# ------------------------------------------------------------------------------------------
# Faults, interrupts, progress
# ------------------------------------------------------------------------------------------
def test_a_worker_killed_mid_run_changes_nothing(two, monkeypatch):
    monkeypatch.setattr(mdd, "TASK_PATHS", 4096)
    pids = two.run(os.getpid)
    killed = {}

    def kill_a_busy_worker():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            busy = [
                worker
                for worker, keys in two.processing().items()
                if any(str(k).startswith("montecarlo-paths") for k in keys)
            ]
            if busy:
                time.sleep(0.2)  # into the task
                os.kill(pids[busy[0]], signal.SIGKILL)
                killed.update(pid=pids[busy[0]], at=time.monotonic())
                return
            time.sleep(0.005)

    killer = threading.Thread(target=kill_a_busy_worker)
    killer.start()
    try:
        got, want = pair(two, n=200_000, chunk_paths=200_000, keep_paths=False)
        finished = time.monotonic()
    finally:
        killer.join()
    assert killed and killed["at"] < finished, "the worker was not killed during the run"
    assert_bitwise(got, want)
    two.wait_for_workers(2, timeout=120)  # the nanny restarts the worker for later tests
    assert killed["pid"] not in two.run(os.getpid).values()


def test_an_interrupt_cancels_the_outstanding_tasks(two, small_tasks):
    plan = Plan(SCENARIO, SEED, False)
    backend = mdd.DaskBackend(plan, _shift("numba", plan), client=two)

    def interrupt(paths: int):
        raise KeyboardInterrupt

    backend.on_paths_done = interrupt
    try:
        with pytest.raises(KeyboardInterrupt):
            backend.run(0, 50_000, keep_per_path=True, keep_inputs=True, keep_monthly=False)
    finally:
        backend.close()
    assert wait_until_no_tasks(two) == []
    assert two.status == "running"


def test_a_failing_task_raises_its_error_after_retries_and_cancels_the_rest(
    two, small_tasks, monkeypatch
):
    monkeypatch.setattr(mdd, "RETRIES", 1)
    plan = Plan(SCENARIO, SEED, False)
    backend = mdd.DaskBackend(plan, _shift("numba", plan), client=two)
    backend.spec = {**backend.spec, "scenario": 'name = "broken"\nhorizon_months = 0\n'}
    try:
        with pytest.raises(ScenarioError, match="horizon_months"):
            backend.run(0, 5000, keep_per_path=False, keep_inputs=False, keep_monthly=False)
    finally:
        backend.close()
    assert wait_until_no_tasks(two) == []


def test_progress_reports_every_task(two, small_tasks):
    plan = Plan(SCENARIO, SEED, False)
    backend = mdd.DaskBackend(plan, _shift("numba", plan), client=two)
    done = []
    backend.on_paths_done = done.append
    try:
        backend.run(0, 3000, keep_per_path=False, keep_inputs=False, keep_monthly=False)
    finally:
        backend.close()
    assert sum(done) == 3000 and len(done) == len(range(0, 3000, backend.task_paths(3000)))


# ------------------------------------------------------------------------------------------
# Connecting
# ------------------------------------------------------------------------------------------
def test_an_unreachable_scheduler_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(mdd, "CONNECT_TIMEOUT", 1)
    with socket.socket() as s:  # a loopback port nobody listens on once closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    start = time.monotonic()
    with pytest.raises(SimulationError, match=f"cannot reach the dask scheduler at {address}: "):
        simulate(SCENARIO, 100, backend="dask", client=address, progress=False)
    assert time.monotonic() - start < 30


def test_a_client_of_another_type_is_refused():
    with pytest.raises(SimulationError, match="client must be a dask.distributed.Client"):
        simulate(SCENARIO, 100, backend="dask", client=42, progress=False)


# ------------------------------------------------------------------------------------------
# Pieces
# ------------------------------------------------------------------------------------------
def test_tasks_share_a_chunk_among_the_threads_without_splitting_it_finer(two):
    plan = Plan(SCENARIO, SEED, False)
    backend = mdd.DaskBackend(plan, np.zeros((N_MONTHLY, plan.horizon)), client=two)
    threads = sum(two.nthreads().values())
    try:
        for n in (1, 63, 64, 4096, 5000, 10_000, 300_000, 1 << 20, 10**8):
            size = backend.task_paths(n)
            tasks = -(-n // size)
            assert size % model.LANES == 0
            assert size <= max(mdd.TASK_PATHS, model.LANES)
            # Every thread gets a task when tasks can stay at least MIN_TASK_PATHS ...
            assert tasks >= min(threads, n // mdd.MIN_TASK_PATHS)
            # ... and no thread gets two while they would fit in one TASK_PATHS task each.
            if n <= threads * mdd.TASK_PATHS:
                assert tasks <= threads
    finally:
        backend.close()


@settings(max_examples=30)
@given(st.integers(1, 6), st.integers(0, 2**32), st.integers(1, 40), st.sampled_from([0.05, 0.5]))
def test_merging_partials_adds_their_cells(parts, seed, size, density):
    rng = np.random.default_rng(seed)
    dense = []
    for _ in range(parts):
        a = rng.integers(-(2**40), 2**40, size=(3, size))
        a[rng.random(a.shape) > density] = 0
        dense.append(a)
    partials = [
        mdd.Partial(
            1, mdd._sparse(a), mdd._sparse(a[:1]), np.ones(2, np.int64), np.zeros(3, np.int64)
        )
        for a in dense
    ]
    merged = partials[0]
    for p in partials[1:]:
        merged = mdd.merge_partials(merged, p)
    total = sum(dense)
    want_index = np.flatnonzero(total)
    index, values = merged.counts
    assert np.all(np.diff(index.astype(np.int64)) > 0)
    rebuilt = np.zeros(total.size, dtype=np.int64)
    rebuilt[index] = values
    np.testing.assert_array_equal(rebuilt, total.ravel())
    assert set(want_index) <= set(index.tolist())
    assert merged.n_paths == parts
    np.testing.assert_array_equal(merged.profitable, np.full(2, parts))
