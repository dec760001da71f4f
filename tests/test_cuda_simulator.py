"""The CUDA twins give the CPU kernels' numbers (numba-cuda simulator in CI, tiny sizes)."""

import math

import numpy as np
import pytest

from kernels import distributions as kd
from kernels import processes as kp
from kernels import rng
from montecarlo import distributions as md
from montecarlo.correlation import Correlation
from montecarlo.inputs import pack_inputs, sample_inputs

cuda = pytest.importorskip("numba.cuda")
from kernels.cuda import twins  # noqa: E402

pytestmark = pytest.mark.usefixtures("frozen_heap")

T = twins()
SEED = 0xDEADBEEF_00000007
K0, K1 = np.uint32(SEED & 0xFFFFFFFF), np.uint32(SEED >> 32)


@cuda.jit
def _normals_kernel(k0, k1, paths, step, antithetic, words, normals):
    i = cuda.grid(1)
    if i < paths.size:
        for b in range(2):
            w0, w1, w2, w3 = T.draw_block(k0, k1, paths[i], step, b, antithetic)
            words[i, 4 * b] = w0
            words[i, 4 * b + 1] = w1
            words[i, 4 * b + 2] = w2
            words[i, 4 * b + 3] = w3
            z0, z1, z2, z3 = T.draw_normals(k0, k1, paths[i], step, b, antithetic)
            normals[i, 4 * b] = z0
            normals[i, 4 * b + 1] = z1
            normals[i, 4 * b + 2] = z2
            normals[i, 4 * b + 3] = z3


@pytest.mark.parametrize("antithetic", [False, True])
def test_rng_twin_matches_cpu(antithetic):
    paths = np.array([0, 1, 2, 3, 2**33 + 1, 12345], dtype=np.uint64)
    words = np.zeros((paths.size, 8), dtype=np.uint32)
    normals = np.zeros((paths.size, 8))
    _normals_kernel[2, 4](K0, K1, paths, np.uint32(17), antithetic, words, normals)
    np.testing.assert_array_equal(words, rng.draw_words(SEED, paths, 17, 0, 2, antithetic))
    np.testing.assert_array_equal(
        normals, rng.draw_standard_normals(SEED, paths, 17, 0, 2, antithetic)
    )


@cuda.jit
def _philox_kernel(counters, keys, out):
    i = cuda.grid(1)
    if i < counters.shape[0]:
        c = counters[i]
        r0, r1, r2, r3 = T.philox4x32_10(c[0], c[1], c[2], c[3], keys[i, 0], keys[i, 1])
        out[i, 0] = r0
        out[i, 1] = r1
        out[i, 2] = r2
        out[i, 3] = r3


def test_philox_twin_passes_known_answers():
    from .test_rng import KAT

    counters = np.array([k[0] for k in KAT], dtype=np.uint32)
    keys = np.array([k[1] for k in KAT], dtype=np.uint32)
    out = np.zeros((3, 4), dtype=np.uint32)
    _philox_kernel[1, 4](counters, keys, out)
    np.testing.assert_array_equal(out, np.array([k[2] for k in KAT], dtype=np.uint32))


@cuda.jit
def _inputs_kernel(k0, k1, paths, antithetic, kinds, params, data, corr_index, chol, out):
    i = cuda.grid(1)
    if i < paths.size:
        T.sample_static_inputs_into(
            k0, k1, paths[i], antithetic, kinds, params, data, corr_index, chol, out[i]
        )


def test_static_inputs_twin_matches_cpu_for_every_kind():
    inputs = {
        "constant": 3.0,
        "uniform": md.Uniform(1, 2),
        "normal": md.Normal(0, 2),
        "lognormal": md.LogNormal(0, 0.5),
        "triangular": md.Triangular(0, 1, 3),
        "truncated": md.TruncatedNormal(0, 1, 0.5, 2),
        "table": md.Gamma(2, 3),
        "empirical": md.Empirical([1.0, 5.0, 2.0, 9.0]),
        "discrete": md.Discrete([1, 2, 3], [0.2, 0.5, 0.3]),
    }
    corr = Correlation(
        ["table", "normal", "uniform"], [[1, 0.5, 0.2], [0.5, 1, -0.3], [0.2, -0.3, 1]]
    )
    packed = pack_inputs(inputs, corr)
    assert set(kd.KIND_NAMES) == set(packed.kinds.tolist())
    paths = np.arange(6, dtype=np.uint64)
    for antithetic in (False, True):
        out = np.zeros((paths.size, len(inputs)))
        _inputs_kernel[2, 4](
            K0,
            K1,
            paths,
            antithetic,
            packed.kinds,
            packed.params,
            packed.data,
            packed.corr_index,
            packed.chol,
            out,
        )
        cpu = sample_inputs(packed, paths.size, seed=SEED, antithetic=antithetic).values
        np.testing.assert_allclose(out, cpu, rtol=1e-15, atol=0)


@cuda.jit
def _process_kernel(z, v, out):
    i = cuda.grid(1)
    if i < z.shape[0]:
        dt = 1.0 / 12.0
        out[i, 0] = T.gbm_step(2.0, 0.1, 0.3, dt, z[i])
        out[i, 1] = T.logistic_step(1e6, 0.8, 5e6, 0.2, dt, z[i])
        out[i, 2] = T.log_ou_step(math.log(0.1), 1.5, math.log(0.08), 0.3, dt, z[i])
        out[i, 3] = T.logistic(T.logit_ar1_step(T.logit(0.6), T.logit(0.55), 0.8, 0.25, z[i]))
        out[i, 4] = T.jump_factor(v[i], 0.5, dt, 0.3)
        out[i, 5] = T.jump_occurs(v[i], 0.5, dt)


def test_process_twins_match_cpu():
    z = rng.draw_standard_normals(3, np.arange(8, dtype=np.uint64), 1)[:, 0].copy()
    v = np.array([0.01, 0.03, 0.05, 0.2, 0.5, 0.7, 0.9, 0.99])
    out = np.zeros((8, 6))
    _process_kernel[2, 4](z, v, out)
    dt = 1.0 / 12.0
    for i in range(8):
        expected = [
            kp.gbm_step(2.0, 0.1, 0.3, dt, z[i]),
            kp.logistic_step(1e6, 0.8, 5e6, 0.2, dt, z[i]),
            kp.log_ou_step(math.log(0.1), 1.5, math.log(0.08), 0.3, dt, z[i]),
            kp.logistic(kp.logit_ar1_step(kp.logit(0.6), kp.logit(0.55), 0.8, 0.25, z[i])),
            kp.jump_factor(v[i], 0.5, dt, 0.3),
            kp.jump_occurs(v[i], 0.5, dt),
        ]
        np.testing.assert_allclose(out[i], expected, rtol=1e-15, atol=0)
