"""Static inputs: layout, independence of inputs, and the Gaussian copula."""

import numpy as np
import pytest
import scipy.stats

from montecarlo import distributions as md
from montecarlo.correlation import Correlation, CorrelationError, gaussian_to_spearman
from montecarlo.inputs import pack_inputs, sample_inputs

from .stats import Z_BOUND

MARGINALS = {
    "price": md.Gamma(3.0, 2.0),
    "share": md.Uniform(0.1, 0.4),
    "life": md.Triangular(3, 5, 6),
    "growth": md.LogNormal(0.0, 0.5),
}
TARGET = np.array([[1.0, 0.6, -0.3], [0.6, 1.0, 0.2], [-0.3, 0.2, 1.0]])
NAMES = ["price", "share", "growth"]


def _spearman(x):
    return scipy.stats.spearmanr(x).statistic


def test_copula_reproduces_target_spearman_correlations():
    n = 200_000
    draws = sample_inputs(MARGINALS, n, seed=3, correlation=Correlation(NAMES, TARGET))
    got = _spearman(draws.sel(input=NAMES).values)
    # The SE of a Spearman coefficient is at most about 1/sqrt(n) (its value under independence).
    bound = Z_BOUND / np.sqrt(n)
    np.testing.assert_allclose(got, TARGET, atol=bound)
    # A Pearson-parameterised copula would miss the targets by more than that bound.
    assert np.max(np.abs(gaussian_to_spearman(TARGET) - TARGET)) > 2 * bound
    # Inputs outside the correlation stay independent of the rest.
    life = draws.sel(input="life").values
    for name in NAMES:
        assert abs(_spearman(np.c_[life, draws.sel(input=name).values])) <= bound


def test_gaussian_kind_sets_the_copula_parameter_directly():
    n = 200_000
    rho = np.array([[1.0, 0.7], [0.7, 1.0]])
    draws = sample_inputs(
        MARGINALS, n, seed=4, correlation=Correlation(["price", "growth"], rho, kind="gaussian")
    )
    got = _spearman(draws.sel(input=["price", "growth"]).values)
    assert abs(got - gaussian_to_spearman(0.7)) <= Z_BOUND / np.sqrt(n)


def test_order_of_names_in_the_correlation_does_not_matter():
    a = sample_inputs(MARGINALS, 1000, seed=5, correlation=Correlation(NAMES, TARGET))
    perm = [2, 0, 1]
    b = sample_inputs(
        MARGINALS,
        1000,
        seed=5,
        correlation=Correlation([NAMES[i] for i in perm], TARGET[np.ix_(perm, perm)]),
    )
    np.testing.assert_array_equal(a.values, b.values)


def test_perfect_correlation_is_supported():
    corr = Correlation(["price", "share"], [[1.0, 1.0], [1.0, 1.0]])
    draws = sample_inputs(MARGINALS, 5000, seed=6, correlation=corr)
    assert _spearman(draws.sel(input=["price", "share"]).values) == pytest.approx(1.0)


def test_making_one_input_uncertain_leaves_the_others_untouched():
    fixed = dict(MARGINALS, share=0.25)
    a = sample_inputs(MARGINALS, 2000, seed=8)
    b = sample_inputs(fixed, 2000, seed=8)
    for name in ("price", "life", "growth"):
        np.testing.assert_array_equal(a.sel(input=name), b.sel(input=name))
    assert np.all(b.sel(input="share") == 0.25)


def test_input_i_uses_normal_number_i_of_step_zero():
    from kernels import rng

    n_inputs = 9
    inputs = {f"x{i}": md.Normal(0.0, 1.0) for i in range(n_inputs)}
    draws = sample_inputs(inputs, 50, seed=9).values
    normals = rng.draw_standard_normals(9, np.arange(50), step=0, block=0, n_blocks=3)
    np.testing.assert_array_equal(draws, normals[:, :n_inputs])


def test_paths_subset_chunking_and_antithetic():
    full = sample_inputs(
        MARGINALS, 1000, seed=10, correlation=Correlation(NAMES, TARGET), antithetic=True
    )
    chunk = sample_inputs(
        MARGINALS,
        0,
        seed=10,
        correlation=Correlation(NAMES, TARGET),
        antithetic=True,
        paths=np.arange(500, 997),
    )
    np.testing.assert_array_equal(full.values[500:997], chunk.values)
    normal = sample_inputs({"z": md.Normal(0.0, 2.0)}, 1000, seed=10, antithetic=True).values[:, 0]
    np.testing.assert_array_equal(normal[1::2], -normal[0::2])


def test_provenance_and_coordinates():
    draws = sample_inputs(MARGINALS, 10, seed=0)
    assert draws.dims == ("path", "input")
    assert list(draws.input.values) == list(MARGINALS)
    assert draws.attrs["seed"] == 0 and draws.attrs["rng"] == "philox4x32-10"


def test_bad_inputs_are_rejected_clearly():
    with pytest.raises(CorrelationError, match="not inputs"):
        pack_inputs(MARGINALS, Correlation(["price", "nope"], [[1, 0.1], [0.1, 1]]))
    with pytest.raises(md.DistributionError, match="price must be a number"):
        pack_inputs({"price": "cheap"})
    with pytest.raises(ValueError, match="n_paths must be a positive integer"):
        sample_inputs(MARGINALS, 0)
    with pytest.raises(ValueError, match="non-empty mapping"):
        pack_inputs({})
