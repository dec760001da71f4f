import statistics

import numba
import numpy as np
import pytest
import scipy.stats
from hypothesis import given
from hypothesis import strategies as st

from kernels import reference, rng

from .stats import assert_ks, assert_mean, assert_variance

# Random123's kat_vectors for philox4x32 10: counter (4 words), key (2 words), output.
KAT = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    (
        (0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344),
        (0xA4093822, 0x299F31D0),
        (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1),
    ),
]

ALL_WORDS_SAMPLE = np.concatenate(
    [
        np.array([0, 1, 2, 3, 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0x7FFFFFFF, 0x80000000]),
        # words whose uniforms sit at the region boundaries of AS 241 (q = +-0.425)
        np.floor(np.array([0.075, 0.925]) * 2**32)[:, None].astype(np.int64) + np.arange(-3, 4),
        np.random.default_rng(20261128).integers(0, 2**32, 200_000),
    ],
    axis=None,
).astype(np.uint32)


@pytest.mark.parametrize(("counter", "key", "expected"), KAT)
def test_philox_known_answers(counter, key, expected):
    assert tuple(int(w) for w in rng.philox4x32_10(*counter, *key)) == expected
    out = reference.philox4x32_10(np.array(counter), np.array(key))
    assert tuple(int(w) for w in out) == expected


def test_numba_philox_matches_numpy_reference():
    gen = np.random.default_rng(7)
    counters = gen.integers(0, 2**32, (2000, 4), dtype=np.uint64).astype(np.uint32)
    keys = gen.integers(0, 2**32, (2000, 2), dtype=np.uint64).astype(np.uint32)
    expected = reference.philox4x32_10(counters, keys)
    for i in range(0, 2000, 97):
        assert tuple(rng.philox4x32_10(*counters[i], *keys[i])) == tuple(expected[i])


def test_block_layout_matches_reference():
    seed = 0x1234_5678_9ABC_DEF0
    paths = np.array([0, 1, 2, 2**32 + 5, 2**40 + 1], dtype=np.uint64)
    words = rng.draw_words(seed, paths, step=7, block=2, n_blocks=3)
    for b in range(3):
        np.testing.assert_array_equal(
            words[:, 4 * b : 4 * b + 4], reference.block_words(seed, paths, 7, 2 + b)
        )
    # The counter really is (path low, path high, step, block) under key (seed low, seed high).
    direct = rng.philox4x32_10(5, 1, 7, 2, seed & 0xFFFFFFFF, seed >> 32)
    assert tuple(words[3, :4]) == tuple(direct)


def test_uniforms_strictly_inside_unit_interval():
    u0 = rng.uniform(np.uint32(0))
    u1 = rng.uniform(np.uint32(0xFFFFFFFF))
    assert u0 == 2.0**-33 and 0.0 < u0
    assert u1 == 1.0 - 2.0**-33 and u1 < 1.0
    u = reference.uniform(ALL_WORDS_SAMPLE)
    assert np.all((u > 0) & (u < 1))
    # 1 - u is exactly the uniform of the complementary word.
    np.testing.assert_array_equal(
        1.0 - u, reference.uniform(np.uint32(0xFFFFFFFF) - ALL_WORDS_SAMPLE)
    )


def test_normals_agree_with_python_inv_cdf():
    inv_cdf = statistics.NormalDist().inv_cdf
    u = reference.uniform(ALL_WORDS_SAMPLE)
    expected = np.array([inv_cdf(x) for x in u])
    kernel = np.array([rng.normal(w) for w in ALL_WORDS_SAMPLE[:3000]])
    vectorised = reference.inverse_normal_cdf(u)
    np.testing.assert_allclose(kernel, expected[:3000], rtol=1e-15, atol=0)
    np.testing.assert_allclose(vectorised, expected, rtol=1e-15, atol=0)
    # Tail resolution of one 32-bit draw: Phi^-1(2**-33) = -6.338 (the spec rounds it to 6.3).
    assert 6.33 < abs(rng.normal(np.uint32(0))) < 6.34
    assert rng.normal(np.uint32(0)) == -rng.normal(np.uint32(0xFFFFFFFF))


def test_kernel_normals_match_reference_for_many_paths():
    paths = np.arange(50_000, dtype=np.uint64)
    z = rng.draw_standard_normals(3, paths, step=12, block=1)
    np.testing.assert_allclose(z, reference.block_normals(3, paths, 12, 1), rtol=1e-15, atol=0)


def test_inverse_normal_cdf_far_tail_branch():
    # 32-bit uniforms never reach r > 5, but the function is general.
    p = np.array([1e-12, 1e-20, 1e-100, 1 - 1e-12])
    expected = scipy.stats.norm.ppf(p)
    got = np.array([rng.inverse_normal_cdf(x) for x in p])
    np.testing.assert_allclose(got, expected, rtol=1e-14)
    np.testing.assert_allclose(reference.inverse_normal_cdf(p), got, rtol=1e-15)


def test_antithetic_pairs_mirror_exactly():
    paths = np.arange(1000, dtype=np.uint64)
    words = rng.draw_words(11, paths, step=3, block=0, n_blocks=2, antithetic=True)
    plain = rng.draw_words(11, paths, step=3, block=0, n_blocks=2)
    np.testing.assert_array_equal(words[0::2], plain[0::2])
    np.testing.assert_array_equal(words[1::2], np.uint32(0xFFFFFFFF) - plain[0::2])
    z = rng.draw_standard_normals(11, paths, step=3, block=0, n_blocks=2, antithetic=True)
    np.testing.assert_array_equal(z[1::2], -z[0::2])
    u = reference.uniform(words)
    np.testing.assert_array_equal(u[1::2], 1.0 - u[0::2])


@given(
    seed=st.integers(0, 2**64 - 1),
    paths=st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=20),
    step=st.integers(0, 600),
    block=st.integers(0, 3),
)
def test_same_counter_same_numbers_in_any_order(seed, paths, step, block):
    paths = np.array(paths, dtype=np.uint64)
    together = rng.draw_words(seed, paths, step, block)
    backwards = rng.draw_words(seed, paths[::-1], step, block)[::-1]
    alone = np.concatenate(
        [rng.draw_words(seed, paths[i : i + 1], step, block) for i in range(paths.size)]
    )
    np.testing.assert_array_equal(together, backwards)
    np.testing.assert_array_equal(together, alone)


def test_thread_count_and_chunking_change_nothing():
    paths = np.arange(20_011, dtype=np.uint64)
    previous = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = rng.draw_standard_normals(5, paths, 9, 0, 2)
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        many = rng.draw_standard_normals(5, paths, 9, 0, 2)
    finally:
        numba.set_num_threads(previous)
    chunked = np.concatenate(
        [
            rng.draw_standard_normals(5, paths[i : i + 997], 9, 0, 2)
            for i in range(0, paths.size, 997)
        ]
    )
    np.testing.assert_array_equal(one, many)
    np.testing.assert_array_equal(one, chunked)


def test_seed_zero_is_a_valid_seed():
    paths = np.arange(8, dtype=np.uint64)
    zero = rng.draw_words(0, paths, 1)
    one = rng.draw_words(1, paths, 1)
    assert not np.array_equal(zero, one)
    np.testing.assert_array_equal(zero, reference.block_words(0, paths, 1, 0))


@pytest.mark.parametrize("seed", [-1, 2**64, 1.5, "3", None, True])
def test_bad_seeds_are_rejected_clearly(seed):
    with pytest.raises((TypeError, ValueError), match="seed must be an integer in"):
        rng.draw_words(seed, [0], 1)


def test_bad_counters_are_rejected_clearly():
    with pytest.raises(ValueError, match="step must be an integer"):
        rng.draw_words(0, [0], 2**32)
    with pytest.raises(ValueError, match="n_blocks must be a positive integer"):
        rng.draw_words(0, [0], 1, n_blocks=0)


N_STAT = 400_000


def _uniform_sample(seed=2026):
    paths = np.arange(N_STAT // 4, dtype=np.uint64)
    return reference.uniform(rng.draw_words(seed, paths, 1)).ravel()


def test_uniform_moments_and_ks():
    u = _uniform_sample()
    assert_mean(u, 0.5, sd=np.sqrt(1 / 12), label="uniform")
    assert_variance(u, 1 / 12, label="uniform")
    assert_ks(u, "uniform", label="uniform")


def test_normal_moments_and_ks():
    paths = np.arange(N_STAT // 4, dtype=np.uint64)
    z = rng.draw_standard_normals(99, paths, 4).ravel()
    assert_mean(z, 0.0, sd=1.0, label="normal")
    assert_variance(z, 1.0, label="normal")
    # Skewness and excess kurtosis: SEs sqrt(6/n) and sqrt(24/n).
    assert abs(scipy.stats.skew(z)) <= 4 * np.sqrt(6 / z.size)
    assert abs(scipy.stats.kurtosis(z)) <= 4 * np.sqrt(24 / z.size)
    assert_ks(z, "norm", label="normal")


def test_streams_are_uncorrelated_across_words_steps_and_paths():
    paths = np.arange(100_000, dtype=np.uint64)
    z = rng.draw_standard_normals(1, paths, 1, 0, 2)
    next_step = rng.draw_standard_normals(1, paths, 2, 0, 1)
    pairs = [
        (z[:, 0], z[:, 1]),
        (z[:, 3], z[:, 4]),
        (z[:, 0], next_step[:, 0]),
        (z[:-1, 0], z[1:, 0]),
    ]
    for a, b in pairs:
        assert abs(np.corrcoef(a, b)[0, 1]) <= 4 / np.sqrt(a.size)


def test_vectorisable_normal_equals_inverse_cdf_centrally_and_to_ulps_in_the_tails():
    # normal() is AS 241 without the far tail and with kernels.elementary.log; the
    # general inverse_normal_cdf() uses libm's log. Same central arithmetic, bit for bit.
    @numba.njit
    def both(words):
        out = np.empty((words.size, 2))
        for i in range(words.size):
            out[i, 0] = rng.normal(words[i])
            out[i, 1] = rng.inverse_normal_cdf(rng.uniform(words[i]))
        return out

    out = both(ALL_WORDS_SAMPLE)
    central = np.abs(reference.uniform(ALL_WORDS_SAMPLE) - 0.5) <= 0.425
    assert 0.8 < central.mean() < 0.9 and (~central).sum() > 1000
    np.testing.assert_array_equal(out[central, 0], out[central, 1])
    np.testing.assert_allclose(out[~central, 0], out[~central, 1], rtol=1e-15, atol=0)
