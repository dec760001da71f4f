"""backend="cuda" gives the numba backend's results (numba-cuda simulator in CI, tiny sizes).

The simulator runs every CUDA thread as a Python thread, so runs here are a few
blocks of 64 or 128 threads over 3-4 months. Blocks are kept small and few so that
each run crosses several blocks and several tiles of the grid-stride loop, and the
merging of per-block reductions is what gets tested.

Under the simulator the CUDA twins evaluate the kernel's own polynomial exp and log
(kernels.elementary) in Python, as the numba kernel does compiled, so results are
bitwise equal (checked where ``EXACT``); on a GPU (``NUMBA_ENABLE_CUDASIM=0``) they use
CUDA's exp and log, and the checks against tolerances still apply.
"""

import importlib
import sys

import numpy as np
import pytest

pytest.importorskip("numba.cuda")

import kernels  # noqa: E402
from kernels import sketch  # noqa: E402
from kernels.layout import MONTHLY_NAMES, N_MONTHLY, PATH_NAMES  # noqa: E402
from montecarlo import distributions as md  # noqa: E402
from montecarlo import engine  # noqa: E402
from montecarlo.backends import cuda as gpu  # noqa: E402
from montecarlo.backends.numba import NumbaBackend  # noqa: E402
from montecarlo.backends.plan import Plan  # noqa: E402
from montecarlo.engine import SimulationError, simulate, simulate_paths  # noqa: E402
from montecarlo.scenario import Scenario  # noqa: E402

from .test_engine import (  # noqa: E402
    assert_close,
    assert_per_path_agree,
    flow_scale,
    monthly_tolerance,
    near_ties,
)

pytestmark = pytest.mark.usefixtures("frozen_heap")


#: The simulator's twins run the numba kernel's own arithmetic: equal values, bit for bit.
EXACT = gpu._simulating()
SEED = 2**63 + 29
#: Two full groups of 64 paths and a partial third: with 64 threads and two blocks,
#: block 0 also runs the third tile (grid-stride loop).
N = 130
SHOCKS = [
    [1.0, 0.5, 0.0, 0.2, 0.0],
    [0.5, 1.0, 0.1, 0.0, 0.3],
    [0.0, 0.1, 1.0, 0.0, 0.0],
    [0.2, 0.0, 0.0, 1.0, 0.1],
    [0.0, 0.3, 0.0, 0.1, 1.0],
]


def scenario(stressed: bool = False) -> Scenario:
    """Four months of a preset with uncertain initial cash (so paths are ruined in
    every month) and correlated shocks, part-rented with a commitment that is idle on
    some paths, a tranche and rounds (spec v2); two stresses on request."""
    s = Scenario.preset("self-hosted").replace(
        horizon_months=4,
        initial_cash=md.Uniform(-2e6, 3e7),
        generation_jump_rate=2.0,
        shock_correlation=SHOCKS,
        rent_share=md.Uniform(0.2, 0.8),
        commitment_share=md.Uniform(0.1, 1.0),
        commitment_months=3.0,
        commitment_discount=0.4,
        tranche_amount=5e6,
        tranche_month=2.0,
        tranche_probability=0.5,
        raise_trigger_months=24.0,
        raise_success_probability=0.5,
        raise_arr_multiple=2.0,
        raise_cooldown_months=1.0,
        valuation_arr_multiple=20.0,
    )
    if stressed:
        s = s.with_stress("gpu_rent_price_0", start_month=2, multiply=1.5)
        s = s.with_stress("users_0", start_month=3, multiply=0.8)
    return s


@pytest.fixture
def launch(monkeypatch):
    """Set the backend's launch shape (and optionally its per-launch buffer budget)."""

    def configure(threads: int = 64, blocks: int = 2, buffer_bytes: int | None = None):
        monkeypatch.setattr(gpu, "THREADS", threads)
        monkeypatch.setattr(gpu, "BLOCKS", blocks)
        if buffer_bytes is not None:
            monkeypatch.setattr(gpu, "LAUNCH_BUFFER_BYTES", buffer_bytes)

    return configure


def bits(values) -> np.ndarray:
    return np.ascontiguousarray(values, dtype=np.float64).view(np.int64)


def assert_paths_agree(got, want, label: str) -> None:
    """simulate_paths of the two backends: every tensor within the engine's tolerance."""
    scale = flow_scale(want)
    np.testing.assert_allclose(got["inputs"], want["inputs"], rtol=1e-12, atol=1e-300)
    for name in MONTHLY_NAMES:
        tol = monthly_tolerance(name, want, scale)
        assert_close(got[name].values, want[name].values, tol, f"{label} {name}")
    assert_per_path_agree(got, want, scale, near_ties(want, scale), label)
    if EXACT:
        for name in (*MONTHLY_NAMES, *PATH_NAMES, "inputs"):
            np.testing.assert_array_equal(bits(got[name]), bits(want[name]), err_msg=name)


@pytest.mark.parametrize(
    "case",
    [
        dict(threads=64, blocks=2, antithetic=False, stressed=False),
        # two groups per block, one block looping over three tiles, and a launch
        # budget so small that the chunk runs as three launches of 64 paths
        dict(threads=128, blocks=1, antithetic=True, stressed=True, buffer_bytes=1),
    ],
    ids=["plain", "stressed-antithetic"],
)
def test_paths_match_numba(launch, case):
    case = dict(case)
    launch(case.pop("threads"), case.pop("blocks"), case.pop("buffer_bytes", None))
    s = scenario(case.pop("stressed"))
    got = simulate_paths(s, N, seed=SEED, backend="cuda", **case)
    want = simulate_paths(s, N, seed=SEED, backend="numba", **case)
    assert got.attrs["backend"] == "cuda"
    # Not vacuous: commitments sit idle, tranches arrive and rounds succeed on some paths.
    assert (want.idle_commitment_cost > 0).any() and (want.rounds > 0).any()
    assert (want.financing == 5e6).any()
    assert_paths_agree(got, want, "simulate_paths")


def given_inputs(n: int) -> dict:
    rng = np.random.default_rng(7)
    return {
        "initial_cash": rng.uniform(-1e6, 3e7, n),
        "gpu_rent_price_0": rng.uniform(1.0, 4.0, n),
        "utilization_mean": rng.uniform(0.3, 0.9, n),
    }


@pytest.mark.parametrize(
    "case",
    [
        # three chunks (three run() calls), two blocks each
        dict(n=N, threads=64, blocks=2, run=dict(antithetic=True, chunk_paths=64), stressed=True),
        # inputs given by the caller, two groups per block
        dict(n=N, threads=128, blocks=1, run=dict(inputs=given_inputs(N)), stressed=False),
        # quasi-Monte Carlo static inputs (a power of two paths)
        dict(n=128, threads=64, blocks=2, run=dict(qmc=True), stressed=True),
    ],
    ids=["chunks-antithetic-stressed", "given-inputs", "qmc"],
)
def test_streaming_reductions_match_numba(launch, case):
    launch(case["threads"], case["blocks"])
    s = scenario(case["stressed"])
    n = case["n"]
    kw = dict(seed=SEED, keep_paths=True, progress=False, **case["run"])
    got = simulate(s, n, backend="cuda", **kw)
    want = simulate(s, n, backend="numba", **kw)
    assert got.attrs["backend"] == "cuda"
    assert got.attrs["mean_std_summation"] == gpu.CudaBackend.summation

    # Per path: within the tolerance of the path's money scale.
    paths_kw = {k: v for k, v in case["run"].items() if k != "chunk_paths"}
    paths = simulate_paths(s, n, seed=SEED, backend="numba", **paths_kw)
    scale = flow_scale(paths)
    assert_per_path_agree(got, want, scale, near_ties(paths, scale), "simulate")
    np.testing.assert_allclose(got["inputs"], want["inputs"], rtol=1e-12, atol=1e-300)
    for name, column in case["run"].get("inputs", {}).items():  # given rows reach the kernel
        np.testing.assert_array_equal(got["inputs"].sel(input=name).values, column)
    # Sketch counts and event counts: integers, equal.
    for name in MONTHLY_NAMES:
        np.testing.assert_array_equal(got[name].values, want[name].values, err_msg=name)
    np.testing.assert_array_equal(got.p_ruined.values, want.p_ruined.values)
    np.testing.assert_array_equal(got.p_profitable.values, want.p_profitable.values)
    assert 0 < want.p_ruined.values[-1] < 1 and 0 < want.p_profitable.values[-1] < 1
    # Means and standard deviations: exact sums of the same partial sums.
    for name in MONTHLY_NAMES:
        for stat in ("mean", "std"):
            g, w = got[f"{name}_{stat}"].values, want[f"{name}_{stat}"].values
            np.testing.assert_allclose(g, w, rtol=1e-12, atol=0, err_msg=f"{name}_{stat}")
            if EXACT:
                np.testing.assert_array_equal(bits(g), bits(w), err_msg=f"{name}_{stat}")


def test_running_reductions_match_numba(launch):
    # What precision targets read after each chunk: event counts and exact running sums.
    launch(64, 1)
    s = scenario(stressed=True)
    plan = Plan(s, SEED, False)
    shift = engine._shift("cuda", plan)
    cuda_backend = gpu.CudaBackend(plan, shift)
    numba_backend = NumbaBackend(plan, shift)
    try:
        for backend in (cuda_backend, numba_backend):
            for first, n in ((0, 64), (64, 6)):
                backend.run(first, n, keep_per_path=False, keep_inputs=False, keep_monthly=False)
        T = plan.horizon
        for t in range(1, T + 1):
            assert cuda_backend.ruined_by(t) == numba_backend.ruined_by(t)
            assert cuda_backend.profitable_in(t) == numba_backend.profitable_in(t)
        for v in range(N_MONTHLY):
            for t in range(T):
                got = cuda_backend.running_sums(v, t)
                want = numba_backend.running_sums(v, t)
                np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)
        red = cuda_backend.reductions(70)
        assert red.counts.dtype == np.int64 and red.counts.sum() == 70 * N_MONTHLY * T
        assert red.ruin_counts.sum() == 70
    finally:
        cuda_backend.close()
        numba_backend.close()


def test_chunks_must_start_on_a_lane_group():
    plan = Plan(scenario(), SEED, False)
    backend = gpu.CudaBackend(plan, np.zeros((N_MONTHLY, plan.horizon)))
    with pytest.raises(ValueError, match="multiple of 64"):
        backend.run(3, 5, keep_per_path=True, keep_inputs=False, keep_monthly=False)


def test_block_size_must_be_whole_lane_groups():
    from kernels.cuda_model import path_kernel

    with pytest.raises(ValueError, match="multiple of 64"):
        path_kernel(96)
    with pytest.raises(ValueError, match="at most 128"):  # shared memory
        path_kernel(192)


def test_the_simulator_is_not_available_for_auto():
    assert EXACT, "these tests run under numba-cuda's simulator (tests/conftest.py)"
    assert gpu.available() is False
    assert gpu.available(simulator=True) is True
    ds = simulate(scenario(), 8, backend="auto", progress=False)
    assert ds.attrs["backend"] == "numba"
    assert ds.attrs["backend_requested"] == "auto"


@pytest.fixture
def without_numba_cuda(monkeypatch):
    """Make ``import numba.cuda`` fail, as it does where numba-cuda is not installed."""
    import numba

    monkeypatch.delattr(numba, "cuda", raising=False)
    monkeypatch.setitem(sys.modules, "numba.cuda", None)
    for name in ("kernels.cuda", "kernels.cuda_model"):
        if name in sys.modules:
            monkeypatch.delitem(sys.modules, name)
        monkeypatch.delattr(kernels, name.split(".")[1], raising=False)


def test_a_missing_numba_cuda_says_how_to_install_it(without_numba_cuda):
    with pytest.raises(ImportError):
        importlib.import_module("kernels.cuda_model")
    assert gpu.available(simulator=True) is False
    with pytest.raises(SimulationError, match=r"pip install 'montecarlo\[gpu\]'"):
        simulate(scenario(), 8, backend="cuda", progress=False)
    ds = simulate(scenario(), 8, backend="auto", progress=False)
    assert ds.attrs["backend"] == "numba"


def test_no_gpu_is_a_clear_error(monkeypatch):
    from numba import cuda

    monkeypatch.setattr(gpu, "_simulating", lambda: False)
    monkeypatch.setattr(cuda, "is_available", lambda: False)
    monkeypatch.setattr(cuda, "cuda_error", lambda: "CUDA driver library cannot be found")
    assert gpu.available() is False
    with pytest.raises(SimulationError, match="needs an NVIDIA GPU.*driver library"):
        simulate(scenario(), 8, backend="cuda", progress=False)


def test_carrying_the_exact_accumulators_keeps_their_totals():
    rng = np.random.default_rng(3)
    acc = rng.integers(-(2**62), 2**62, size=(5, 68), dtype=np.int64)
    acc[:, -8:] = 0  # totals inside the accumulator's range
    acc[1] = -acc[1]
    totals = [sum(int(x) << (32 * i) for i, x in enumerate(row)) for row in acc]
    carried = gpu.normalise(acc.copy())
    assert np.all((carried[:, :-1] >= 0) & (carried[:, :-1] < 2**32))
    assert [sum(int(x) << (32 * i) for i, x in enumerate(row)) for row in carried] == totals
    for row, want in zip(carried, acc, strict=True):
        assert sketch.accumulator_total(row) == sketch.accumulator_total(want)
