"""Tests for montecarlo.correlation."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import stats

from montecarlo.correlation import (
    Correlation,
    CorrelationError,
    CorrelationRepairWarning,
    check_correlation_matrix,
    gaussian_to_spearman,
    nearest_correlation,
    psd_cholesky,
    spearman_to_gaussian,
)

# Pairwise plausible (|rho| <= 0.9) but jointly impossible: x ~ y, y ~ z, yet x ~ -z.
INVALID = np.array([[1.0, 0.9, -0.9], [0.9, 1.0, 0.9], [-0.9, 0.9, 1.0]])
# Higham (2002), section 4: a unit-diagonal tridiagonal matrix of ones, which is indefinite.
HIGHAM_4X4 = np.array(
    [[1.0, 1.0, 0.0, 0.0], [1.0, 1.0, 1.0, 0.0], [0.0, 1.0, 1.0, 1.0], [0.0, 0.0, 1.0, 1.0]]
)
VALID = np.array([[1.0, 0.3, -0.2], [0.3, 1.0, 0.4], [-0.2, 0.4, 1.0]])


def clip_and_rescale(matrix: np.ndarray) -> np.ndarray:
    """The naive repair that nearest_correlation should beat."""
    w, v = np.linalg.eigh(matrix)
    x = (v * np.maximum(w, 0.0)) @ v.T
    d = np.sqrt(np.diagonal(x))
    return x / np.outer(d, d)


def assert_correlation_matrix(x: np.ndarray) -> None:
    np.testing.assert_array_equal(x, x.T)
    np.testing.assert_array_equal(np.diagonal(x), 1.0)
    assert np.linalg.eigvalsh(x)[0] >= -1e-12
    assert np.all(np.abs(x) <= 1.0)


# ------------------------------------------------------------------------------------------
# Spearman <-> Gaussian conversions
# ------------------------------------------------------------------------------------------


def test_conversions_fix_zero_and_plus_minus_one_exactly():
    values = np.array([0.0, 1.0, -1.0])
    np.testing.assert_array_equal(spearman_to_gaussian(values), values)
    np.testing.assert_array_equal(gaussian_to_spearman(values), values)


def test_conversion_keeps_unit_diagonal_and_symmetry():
    g = spearman_to_gaussian(VALID)
    np.testing.assert_array_equal(np.diagonal(g), 1.0)
    np.testing.assert_array_equal(g, g.T)


def test_conversion_known_value_and_direction():
    # The copula parameter is slightly larger in magnitude than the rank correlation.
    assert spearman_to_gaussian(0.5) == pytest.approx(2 * np.sin(np.pi / 12))
    assert abs(spearman_to_gaussian(0.5)) > 0.5
    assert abs(gaussian_to_spearman(-0.5)) < 0.5
    assert isinstance(spearman_to_gaussian(0.5), np.ndarray)


@given(st.floats(-1.0, 1.0))
def test_conversions_are_inverses(rho):
    assert gaussian_to_spearman(spearman_to_gaussian(rho)) == pytest.approx(rho, abs=1e-14)
    assert spearman_to_gaussian(gaussian_to_spearman(rho)) == pytest.approx(rho, abs=1e-14)
    assert -1.0 <= spearman_to_gaussian(rho) <= 1.0


@pytest.mark.parametrize("func", [spearman_to_gaussian, gaussian_to_spearman])
@pytest.mark.parametrize("bad", [1.5, -1.0000001, np.nan, np.inf])
def test_conversions_reject_values_outside_unit_interval(func, bad):
    with pytest.raises(CorrelationError, match=r"finite values in \[-1, 1\]"):
        func([0.2, bad])


def test_conversions_reject_non_numeric():
    with pytest.raises(CorrelationError, match="real numbers"):
        spearman_to_gaussian(["a"])


def test_copula_sampling_reproduces_target_spearman():
    target = np.array([[1.0, 0.7, -0.4], [0.7, 1.0, -0.1], [-0.4, -0.1, 1.0]])
    corr = Correlation(["a", "b", "c"], target)
    z = np.random.default_rng(12345).standard_normal((100_000, 3)) @ corr.cholesky.T
    # Monotone marginals do not change ranks, so the normals' rank correlation is the target.
    realised = stats.spearmanr(z).statistic
    np.testing.assert_allclose(realised, target, atol=0.01)


# ------------------------------------------------------------------------------------------
# check_correlation_matrix
# ------------------------------------------------------------------------------------------


def test_check_returns_clean_float64_copy():
    given_matrix = [[1, 0], [0, 1]]
    out = check_correlation_matrix(given_matrix)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, np.eye(2))
    src = VALID.copy()
    out = check_correlation_matrix(src)
    out[0, 1] = 0.99
    assert src[0, 1] == 0.3


def test_check_removes_round_off():
    m = VALID.copy()
    m[0, 1] += 5e-13
    m[1, 1] = 1.0 - 5e-13
    out = check_correlation_matrix(m)
    np.testing.assert_array_equal(out, out.T)
    assert out[1, 1] == 1.0


@pytest.mark.parametrize(
    ("matrix", "pattern"),
    [
        (np.eye(3)[:2], r"square.*shape \(2, 3\)"),
        (np.ones(3), r"square.*shape \(3,\)"),
        (np.ones((0, 0)), r"non-empty.*shape \(0, 0\)"),
        ([[1.0, np.nan], [np.nan, 1.0]], r"finite, got nan at position \(0, 1\)"),
        ([[1.0, 0.5], [0.4, 1.0]], r"symmetric.*\(0, 1\) is 0\.5.*\(1, 0\) is 0\.4"),
        ([[1.0, 0.5], [0.5, 0.9]], r"diagonal must be 1.*\(1, 1\) is 0\.9"),
        ([[1.0, 1.5], [1.5, 1.0]], r"\[-1, 1\].*\(0, 1\) is 1\.5"),
        ([["1", "0"], ["0", "1"]], r"real numbers"),
    ],
)
def test_check_rejects(matrix, pattern):
    with pytest.raises(CorrelationError, match=pattern):
        check_correlation_matrix(matrix)


def test_check_names_the_matrix_and_reports_worst_asymmetry():
    m = np.eye(3)
    m[0, 1], m[1, 2] = 0.1, 0.3
    m[1, 0], m[2, 1] = 0.1 + 1e-6, 0.2
    with pytest.raises(CorrelationError, match=r"^rank matrix must be symmetric.*\(1, 2\)"):
        check_correlation_matrix(m, name="rank")


def test_check_does_not_test_positive_semidefiniteness():
    check_correlation_matrix(INVALID)


def test_check_rejects_bad_tol():
    with pytest.raises(CorrelationError, match="tol must be"):
        check_correlation_matrix(np.eye(2), tol=-1.0)


# ------------------------------------------------------------------------------------------
# nearest_correlation
# ------------------------------------------------------------------------------------------


def test_nearest_repairs_invalid_matrix_and_beats_naive_repair():
    assert np.linalg.eigvalsh(INVALID)[0] < -0.5
    x = nearest_correlation(INVALID)
    assert_correlation_matrix(x)
    naive = clip_and_rescale(INVALID)
    # INVALID's only negative eigenvector is (1, -1, 1) / sqrt(3), so clipping shrinks the
    # diagonal uniformly and the naive repair happens to be optimal: a tie, not a loss.
    assert np.linalg.norm(x - INVALID) <= np.linalg.norm(naive - INVALID) + 1e-12


@pytest.mark.parametrize(
    "matrix",
    [np.array([[1.0, 0.95, 0.0], [0.95, 1.0, 0.8], [0.0, 0.8, 1.0]]), HIGHAM_4X4],
)
def test_nearest_strictly_beats_naive_repair(matrix):
    x = nearest_correlation(matrix)
    assert_correlation_matrix(x)
    naive = clip_and_rescale(matrix)
    assert np.linalg.norm(x - matrix) < np.linalg.norm(naive - matrix) - 1e-3


def test_nearest_higham_example_is_optimal():
    x = nearest_correlation(HIGHAM_4X4)
    assert_correlation_matrix(x)
    # Optimality certificate (KKT): with theta_i = ((X - A) X)_ii, the multiplier
    # Lambda = X - A - diag(theta) must be PSD and complementary to X (Lambda X = 0).
    residual = x - HIGHAM_4X4
    multiplier = residual - np.diag(np.diagonal(residual @ x))
    assert np.linalg.eigvalsh(multiplier)[0] >= -1e-9
    np.testing.assert_allclose(multiplier @ x, 0.0, atol=1e-9)
    # Distance of that optimum; the brief's "1.1174" does not match this A in the unweighted
    # Frobenius norm (an independent unconstrained optimisation also gives 0.74351).
    assert np.linalg.norm(residual) == pytest.approx(0.743505, abs=1e-3)
    # The solution keeps the matrix's persymmetry.
    np.testing.assert_allclose(x, x[::-1, ::-1], atol=1e-10)


def test_nearest_handles_matrices_without_unit_diagonal():
    a = np.array([[2.0, -1, 0, 0], [-1, 2, -1, 0], [0, -1, 2, -1], [0, 0, -1, 2]])
    assert_correlation_matrix(nearest_correlation(a))
    assert_correlation_matrix(nearest_correlation(-np.eye(3)))


def test_nearest_returns_valid_matrix_unchanged():
    np.testing.assert_allclose(nearest_correlation(VALID), VALID, rtol=0, atol=1e-12)
    singular = np.array([[1.0, 1.0, 0.5], [1.0, 1.0, 0.5], [0.5, 0.5, 1.0]])
    np.testing.assert_allclose(nearest_correlation(singular), singular, rtol=0, atol=1e-12)


def test_nearest_is_idempotent():
    x = nearest_correlation(INVALID)
    np.testing.assert_allclose(nearest_correlation(x), x, rtol=0, atol=1e-12)


def test_nearest_raises_when_not_converged():
    with pytest.raises(CorrelationError, match=r"did not converge.*max_iterations=1"):
        nearest_correlation(HIGHAM_4X4, max_iterations=1)


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"tol": 0.0}, r"tol must be a finite number > 0, got 0\.0"),
        ({"max_iterations": 0}, r"max_iterations must be an integer >= 1, got 0"),
        ({"max_iterations": 2.5}, r"max_iterations must be an integer >= 1, got 2\.5"),
    ],
)
def test_nearest_rejects_bad_parameters(kwargs, pattern):
    with pytest.raises(CorrelationError, match=pattern):
        nearest_correlation(INVALID, **kwargs)


def test_nearest_rejects_asymmetric_input():
    with pytest.raises(CorrelationError, match="symmetric"):
        nearest_correlation([[1.0, 0.5], [0.2, 1.0]])


# ------------------------------------------------------------------------------------------
# psd_cholesky
# ------------------------------------------------------------------------------------------


@st.composite
def factor_correlations(draw):
    """Correlation matrices F F^T / norms, of any rank from 1 to n."""
    n = draw(st.integers(2, 6))
    rank = draw(st.integers(1, n))
    factors = draw(
        hnp.arrays(np.float64, (n, rank), elements=st.floats(-1.0, 1.0, allow_subnormal=False))
    )
    norms = np.linalg.norm(factors, axis=1, keepdims=True)
    assume(np.all(norms > 1e-3))
    factors = factors / norms
    c = factors @ factors.T
    c = 0.5 * (c + c.T)
    np.fill_diagonal(c, 1.0)
    return np.clip(c, -1.0, 1.0)


@settings(max_examples=150, deadline=None)
@given(factor_correlations())
def test_psd_cholesky_reproduces_psd_matrices(c):
    factor = psd_cholesky(c)
    np.testing.assert_array_equal(factor, np.tril(factor))
    assert np.all(np.diagonal(factor) >= 0.0)
    np.testing.assert_allclose(factor @ factor.T, c, rtol=0, atol=1e-10)


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_psd_cholesky_perfect_correlation(sign):
    c = np.array([[1.0, sign, 0.3], [sign, 1.0, 0.3 * sign], [0.3, 0.3 * sign, 1.0]])
    with pytest.raises(np.linalg.LinAlgError):
        np.linalg.cholesky(c)
    factor = psd_cholesky(c)
    np.testing.assert_allclose(factor @ factor.T, c, rtol=0, atol=1e-15)
    assert factor[1, 1] == 0.0
    np.testing.assert_array_equal(factor[:, 1], 0.0)


def test_psd_cholesky_matches_numpy_on_definite_matrices():
    np.testing.assert_allclose(psd_cholesky(VALID), np.linalg.cholesky(VALID), atol=1e-15)


def test_psd_cholesky_scales_threshold_with_matrix():
    c = 1e6 * np.array([[1.0, 1.0], [1.0, 1.0]])
    factor = psd_cholesky(c)
    np.testing.assert_allclose(factor @ factor.T, c, rtol=1e-15)


def test_psd_cholesky_nearly_singular_leading_block():
    # Rank 2 (rows 0 and 1 nearly parallel): the 8.9e-11 second pivot passes the 1e-12
    # threshold and turns round-off into a third pivot of -8e-7, which must not be taken as
    # indefiniteness.  Found by hypothesis.
    c = np.array(
        [
            [1.0, 0.9999999999555557, 0.816496580927726],
            [0.9999999999555557, 1.0, 0.8165020242019766],
            [0.816496580927726, 0.8165020242019766, 1.0],
        ]
    )
    factor = psd_cholesky(c)
    np.testing.assert_array_equal(factor, np.tril(factor))
    np.testing.assert_allclose(factor @ factor.T, c, rtol=0, atol=1e-12)


def test_psd_cholesky_zero_tol_survives_tiny_pivots():
    c = np.array([[1.0, 1.0, 0.5], [1.0, 1.0, 0.5], [0.5, 0.5, 1.0]])
    c[0, 1] = c[1, 0] = 1.0 - 1e-16
    factor = psd_cholesky(c, tol=0.0)
    assert np.all(np.isfinite(factor))
    np.testing.assert_allclose(factor @ factor.T, c, rtol=0, atol=1e-12)


def test_psd_cholesky_zero_matrix():
    np.testing.assert_array_equal(psd_cholesky(np.zeros((2, 2))), np.zeros((2, 2)))


@pytest.mark.parametrize(
    ("matrix", "pattern"),
    [
        (INVALID, r"positive semi-definite, but its smallest eigenvalue is -0\.8.*pivot 2 is -"),
        ([[1.0, 2.0], [2.0, 1.0]], r"smallest eigenvalue is -1,.*pivot 1 is -3"),
        ([[-1.0, 0.0], [0.0, 1.0]], r"smallest eigenvalue is -1,.*pivot 0 is -1"),
        ([[1.0, 0, 0], [0, 0, 0.01], [0, 0.01, 1]], r"smallest eigenvalue is -0\.0001"),
        ([[0.0, 1.0], [1.0, 0.0]], r"smallest eigenvalue is -1"),
        ([[1.0, 0.5], [0.2, 1.0]], r"symmetric"),
    ],
)
def test_psd_cholesky_rejects_non_psd(matrix, pattern):
    with pytest.raises(CorrelationError, match=pattern):
        psd_cholesky(matrix)


def test_psd_cholesky_rejects_bad_tol():
    with pytest.raises(CorrelationError, match=r"tol must be a finite number >= 0, got -1"):
        psd_cholesky(np.eye(2), tol=-1.0)


# ------------------------------------------------------------------------------------------
# Correlation
# ------------------------------------------------------------------------------------------


def test_correlation_spearman_default():
    corr = Correlation(["a", "b", "c"], VALID)
    assert corr.names == ("a", "b", "c")
    assert corr.kind == "spearman"
    np.testing.assert_array_equal(corr.matrix, VALID)
    np.testing.assert_array_equal(corr.gaussian, spearman_to_gaussian(VALID))
    np.testing.assert_allclose(corr.cholesky @ corr.cholesky.T, corr.gaussian, atol=1e-15)
    assert not corr.repaired
    assert corr.repair_change == {"max_abs": 0.0, "frobenius": 0.0}


def test_correlation_gaussian_kind_uses_matrix_directly():
    corr = Correlation(("a", "b", "c"), VALID, kind="gaussian")
    np.testing.assert_array_equal(corr.gaussian, VALID)


def test_correlation_without_repair_names_eigenvalue_and_remedy():
    with pytest.raises(CorrelationError, match=r"smallest eigenvalue -0\.8.*repair=True"):
        Correlation(["x", "y", "z"], INVALID)


def test_correlation_repair_warns_and_reports():
    with pytest.warns(CorrelationRepairWarning, match=r"max absolute element change 0\.\d+"):
        corr = Correlation(["x", "y", "z"], INVALID, repair=True)
    assert corr.repaired
    np.testing.assert_array_equal(corr.matrix, INVALID)
    assert_correlation_matrix(corr.gaussian)
    delta = corr.gaussian - spearman_to_gaussian(INVALID)
    assert corr.repair_change["max_abs"] == pytest.approx(np.max(np.abs(delta)))
    assert corr.repair_change["frobenius"] == pytest.approx(np.linalg.norm(delta))
    assert corr.repair_change["frobenius"] > 0.5
    np.testing.assert_allclose(corr.cholesky @ corr.cholesky.T, corr.gaussian, atol=1e-12)


def test_correlation_repair_is_silent_for_valid_matrix():
    corr = Correlation(["a", "b", "c"], VALID, repair=True)
    assert not corr.repaired


def test_psd_spearman_can_need_repair_on_gaussian_scale():
    # Nearly singular in rank-correlation terms; the entrywise map pushes it past singular.
    s = np.array([[1.0, 0.5, 0.5], [0.5, 1.0, -0.5], [0.5, -0.5, 1.0]])
    assert np.linalg.eigvalsh(s)[0] > -1e-12
    assert np.linalg.eigvalsh(spearman_to_gaussian(s))[0] < -1e-3
    with pytest.raises(CorrelationError, match="Gaussian copula"):
        Correlation(["a", "b", "c"], s)
    Correlation(["a", "b", "c"], s, kind="gaussian")


@pytest.mark.parametrize(
    ("names", "matrix", "kwargs", "pattern"),
    [
        (["a", "b"], np.eye(2), {"kind": "pearson"}, r"kind must be one of .*'pearson'"),
        (["a", "b"], np.eye(2), {"repair": "yes"}, r"repair must be a bool"),
        (["a", "a"], np.eye(2), {}, r"unique, but 'a' appears"),
        (["a", ""], np.eye(2), {}, r"non-empty strings, got ''"),
        (["a", 3], np.eye(2), {}, r"non-empty strings, got 3"),
        ("ab", np.eye(2), {}, r"sequence of strings, got 'ab'"),
        (["a"], np.eye(1), {}, r"at least 2 names"),
        (["a", "b"], np.eye(3), {}, r"names has 2 entries but .* is 3x3"),
        (["a", "b"], [[1.0, 0.5], [0.4, 1.0]], {}, r"spearman correlation matrix .*symmetric"),
        (["a", "b"], [[1.0, 2.0], [2.0, 1.0]], {"kind": "gaussian"}, r"gaussian .*\[-1, 1\]"),
    ],
)
def test_correlation_rejects(names, matrix, kwargs, pattern):
    with pytest.raises(CorrelationError, match=pattern):
        Correlation(names, matrix, **kwargs)


def test_correlation_is_frozen_and_read_only():
    corr = Correlation(["a", "b", "c"], VALID)
    with pytest.raises(AttributeError, match="immutable"):
        corr.kind = "gaussian"
    with pytest.raises(AttributeError, match="immutable"):
        del corr.names
    for arr in (corr.matrix, corr.gaussian, corr.cholesky):
        with pytest.raises(ValueError, match="read-only"):
            arr[0, 0] = 0.0
        with pytest.raises(ValueError, match="WRITEABLE"):
            arr.flags.writeable = True
    corr.repair_change["max_abs"] = 1.0
    assert corr.repair_change["max_abs"] == 0.0


def test_correlation_does_not_alias_input():
    m = VALID.copy()
    corr = Correlation(["a", "b", "c"], m)
    m[0, 1] = m[1, 0] = 0.0
    assert corr.matrix[0, 1] == 0.3


def test_from_pairs_builds_matrix():
    corr = Correlation.from_pairs({("a", "b"): 0.3, ("c", "a"): -0.2, ("b", "c"): 0.4})
    assert corr.names == ("a", "b", "c")
    np.testing.assert_array_equal(corr.matrix, VALID)
    assert corr == Correlation(["a", "b", "c"], VALID)


def test_from_pairs_names_fix_order_and_add_uncorrelated():
    corr = Correlation.from_pairs({("a", "b"): 0.5}, names=["d", "b", "a"], kind="gaussian")
    assert corr.names == ("d", "b", "a")
    np.testing.assert_array_equal(corr.matrix, [[1, 0, 0], [0, 1, 0.5], [0, 0.5, 1]])


def test_from_pairs_accepts_consistent_repeat():
    corr = Correlation.from_pairs({("a", "b"): 0.5, ("b", "a"): 0.5})
    assert corr.matrix[0, 1] == 0.5


def test_from_pairs_perfect_correlation_factorises():
    corr = Correlation.from_pairs({("a", "b"): -1.0, ("a", "c"): 0.5, ("b", "c"): -0.5})
    assert corr.gaussian[0, 1] == -1.0
    np.testing.assert_allclose(corr.cholesky @ corr.cholesky.T, corr.gaussian, atol=1e-15)


@pytest.mark.parametrize(
    ("pairs", "kwargs", "pattern"),
    [
        ({("a", "b"): 0.5, ("b", "a"): 0.4}, {}, r"\('a', 'b'\) twice.*0\.5 and 0\.4"),
        ({("a", "a"): 1.0, ("a", "b"): 0.5}, {}, r"name with itself, got \('a', 'a'\)"),
        ({("a", "b"): 1.5}, {}, r"value for \('a', 'b'\) .*\[-1, 1\], got 1\.5"),
        ({("a", "b"): "0.5"}, {}, r"value for \('a', 'b'\) must be a real number"),
        ({("a", "b", "c"): 0.5}, {}, r"keys must be \(name, name\) tuples"),
        ({("a", "b"): 0.5}, {"names": ["a", "c"]}, r"mentions 'b', which is not in names"),
        ({}, {}, r"at least 2 names"),
        ([(("a", "b"), 0.5)], {}, r"pairs must be a mapping"),
    ],
)
def test_from_pairs_rejects(pairs, kwargs, pattern):
    with pytest.raises(CorrelationError, match=pattern):
        Correlation.from_pairs(pairs, **kwargs)


def test_to_dict_round_trip():
    corr = Correlation(["a", "b", "c"], VALID, kind="gaussian")
    d = corr.to_dict()
    assert d == {"names": ["a", "b", "c"], "matrix": VALID.tolist(), "kind": "gaussian"}
    assert Correlation(**d) == corr


def test_to_dict_round_trip_of_repaired_matrix():
    with pytest.warns(CorrelationRepairWarning):
        corr = Correlation(["x", "y", "z"], INVALID, repair=True)
    d = corr.to_dict()
    assert d["repair"] is True
    with pytest.warns(CorrelationRepairWarning):
        again = Correlation(**d)
    assert again == corr
    np.testing.assert_array_equal(again.gaussian, corr.gaussian)


def test_equality_hash_and_repr():
    corr = Correlation(["a", "b", "c"], VALID)
    same = Correlation(["a", "b", "c"], VALID.tolist())
    assert corr == same and hash(corr) == hash(same)
    assert corr != Correlation(["a", "b", "c"], VALID, kind="gaussian")
    assert corr != Correlation(["a", "c", "b"], VALID)
    assert corr != "not a correlation"
    text = repr(corr)
    assert text.startswith("Correlation(names=['a', 'b', 'c'], matrix=[[1.0, 0.3, -0.2]")
    assert eval(text, {"Correlation": Correlation}) == corr  # noqa: S307 - trusted repr


def test_pickle_and_copy_keep_arrays_read_only():
    corr = Correlation(["a", "b", "c"], VALID)
    for clone in (pickle.loads(pickle.dumps(corr)), copy.deepcopy(corr), copy.copy(corr)):
        assert clone == corr
        np.testing.assert_array_equal(clone.cholesky, corr.cholesky)
        with pytest.raises(ValueError, match="read-only"):
            clone.gaussian[0, 0] = 0.0
