"""Every phase of the CPU kernel compiles to vector arithmetic (kernels.vectorisation).

The phase kernels run the very lane-loop helpers of kernels.model.run_paths, so their
machine code is the kernel's hot loops. A change that de-vectorises one (a libm call,
a branch LLVM cannot if-convert, an array view with run-time strides) leaves only
scalar ``sd`` instructions and fails here, naming the phase.
"""

import llvmlite.binding as llvm
import pytest

from kernels import vectorisation as kv
from montecarlo.backends.plan import Plan
from montecarlo.scenario import Scenario

pytestmark = pytest.mark.skipif(
    "+avx2" not in llvm.get_host_cpu_features().flatten(),
    reason="the counts are of 256- and 512-bit registers, which need AVX2 or AVX-512",
)

# Packed float64 instructions on 256/512-bit registers in each phase kernel. Measured on
# the development machine (AVX-512): 513, 419, 577, 323 and 24; with LLVM's vectorisers
# turned off (NUMBA_LOOP_VECTORIZE=0 NUMBA_SLP_VECTORIZE=0) every one is 0. The floors
# leave room for another LLVM or a 256-bit machine, none for a scalar loop.
FLOORS = {"sampling": 100, "set-up": 100, "shocks": 100, "month step": 100, "reductions": 8}


@pytest.fixture(scope="module")
def phases():
    return kv.Phases(Plan(Scenario.preset("frontier-lab"), 1, False))


@pytest.mark.parametrize("phase", kv.PHASES)
def test_every_phase_keeps_its_vector_arithmetic(phases, phase):
    counts = kv.packed_instructions(phases.assembly(phase))
    wide = counts["ymm"] + counts["zmm"]
    assert wide >= FLOORS[phase], f"{phase}: {counts} packed float64 instructions"


def test_packed_instructions_count_only_packed_float64():
    asm = """
        vaddpd  %zmm1, %zmm2, %zmm3
        vfmadd231pd  (%rax), %ymm4, %ymm5
        vaddsd  %xmm1, %xmm2, %xmm3
        vmovupd %zmm0, (%rdi)
        vmulpd  %xmm1, %xmm2, %xmm3
    """
    assert kv.packed_instructions(asm) == {"xmm": 1, "ymm": 1, "zmm": 1}


def test_the_phase_kernels_compute_what_run_paths_computes(phases):
    # After sampling, set-up, shocks and one step, block 0 holds month 1 of paths
    # 0..BLOCK-1: bit for bit what simulate_paths gives (the same helpers, inlined).
    import numpy as np

    from kernels import model
    from kernels.layout import MONTHLY_NAMES
    from montecarlo.engine import simulate_paths

    paths = simulate_paths(Scenario.preset("frontier-lab"), model.BLOCK, seed=1)
    for v, name in enumerate(MONTHLY_NAMES):
        got = phases.stepped[:, model.OUT + v, : model.LANES].reshape(-1)
        np.testing.assert_array_equal(got, paths[name].sel(month=1).values, err_msg=name)


def test_lane_sum_adds_in_group_sums_order():
    # The CPU kernel's vector sum of a group's deviations must be group_sum's tree, bit for
    # bit (the CUDA kernel uses group_sum): any other order changes the last bits of sums.
    import numba
    import numpy as np

    from kernels import model

    @numba.njit
    def both(buf):
        part = np.zeros(8)
        out = np.empty((buf.shape[0], 2))
        for row in range(buf.shape[0]):
            out[row, 0] = model.lane_sum(buf, row)
            out[row, 1] = model.group_sum(buf, row, part)
        return out

    rng = np.random.default_rng(11)
    # Magnitudes over 40 decades and mixed signs, where a different order rounds differently.
    buf = rng.normal(size=(400, model.LANES)) * 10.0 ** rng.integers(-20, 20, (400, model.LANES))
    buf[0] = 0.0
    buf[1, 5] = np.inf
    buf[2, 7] = np.nan
    out = both(buf)
    np.testing.assert_array_equal(out[:, 0], out[:, 1])
    # The check can fail: plain left-to-right sums differ from the tree on most rows.
    assert np.mean([sum(buf[r].tolist()) != out[r, 1] for r in range(3, 400)]) > 0.5
