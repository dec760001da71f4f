"""Static inputs not drawn from Philox: given by the caller, or scrambled Sobol (RQMC)."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import montecarlo as mc
from kernels.layout import PATH_NAMES
from montecarlo.engine import SimulationError, simulate, simulate_paths
from montecarlo.inputs import sample_inputs, sobol_words

from .stats import Z_BOUND
from .test_engine import assert_per_path_agree, flow_scale, near_ties


def run(scenario, n, **kw):
    return simulate(scenario, n, keep_paths=True, progress=False, **kw)


SCENARIO = mc.Scenario.preset("api-startup").replace(horizon_months=18)


# ------------------------------------------------------------------------------------------
# Given inputs
# ------------------------------------------------------------------------------------------


def test_a_run_given_its_own_inputs_reproduces_itself_bit_for_bit():
    first = run(SCENARIO, 300, seed=8)
    again = run(SCENARIO, 300, seed=8, inputs=first.inputs)
    for name in PATH_NAMES:
        np.testing.assert_array_equal(again[name].values, first[name].values, err_msg=name)
    np.testing.assert_array_equal(again.cash_mean.values, first.cash_mean.values)
    assert "given" in again.attrs["static_inputs"]


def test_every_form_of_given_inputs_means_the_same():
    names = SCENARIO.uncertain_inputs
    values = sample_inputs(SCENARIO.packed(), 130, seed=99).sel(input=list(names))
    forms = {
        "dataarray": values,
        "dataset": xr.Dataset({"inputs": values}),
        "frame": pd.DataFrame(values.values, columns=list(names)),
        "mapping": {n: values.sel(input=n).values for n in names},
        "array": values.values,
    }
    runs = {k: run(SCENARIO, 130, seed=1, inputs=v) for k, v in forms.items()}
    for k, ds in runs.items():
        np.testing.assert_array_equal(ds.inputs.values, values.values, err_msg=k)
        np.testing.assert_array_equal(ds.npv.values, runs["array"].npv.values, err_msg=k)


def test_given_inputs_reach_the_reference_backend_too():
    grid = np.linspace(1.0, 4.0, 70)
    kw = dict(seed=5, inputs={"gpu_rent_price_0": grid})
    fast = simulate_paths(SCENARIO, 70, **kw)
    ref = simulate_paths(SCENARIO, 70, backend="numpy", **kw)
    np.testing.assert_array_equal(fast.inputs.sel(input="gpu_rent_price_0").values, grid)
    scale = flow_scale(ref)
    assert_per_path_agree(fast, ref, scale, near_ties(ref, scale), "given")


def test_a_given_input_overrides_a_constant_and_joins_the_kept_inputs():
    s = SCENARIO.replace(pue=1.2)
    ds = run(s, 64, seed=2, inputs={"pue": np.full(64, 1.5)})
    assert "pue" in ds.input.values
    assert (ds.inputs.sel(input="pue").values == 1.5).all()
    # The other inputs keep their own draws.
    plain = run(s, 64, seed=2)
    other = [n for n in s.uncertain_inputs]
    np.testing.assert_array_equal(
        ds.inputs.sel(input=other).values, plain.inputs.sel(input=other).values
    )


@pytest.mark.parametrize(
    ("inputs", "match"),
    [
        ({"gpu_rent_prices": np.ones(64)}, "unknown input 'gpu_rent_prices'"),
        ({"utilization_mean": np.full(64, 1.5)}, r"utilization_mean must be in \(0, 1\), but 64"),
        ({"pue": np.r_[np.ones(63), np.nan]}, "row 63: nan"),
        ({"pue": np.ones(10)}, "the run needs 64 paths"),
        (np.ones((64, 3)), "one column per uncertain input"),
        (xr.DataArray(np.ones((64, 2)), dims=("a", "b")), "dims \\('path', 'input'\\)"),
        ({"pue": ["a"] * 64}, "pue must hold numbers"),
    ],
)
def test_bad_given_inputs_name_the_problem(inputs, match):
    with pytest.raises(SimulationError, match=match):
        run(SCENARIO, 64, inputs=inputs)


def test_given_inputs_and_qmc_exclude_each_other():
    with pytest.raises(SimulationError, match="qmc and inputs exclude each other"):
        run(SCENARIO, 64, qmc=True, inputs={"pue": np.ones(64)})


# ------------------------------------------------------------------------------------------
# Scrambled Sobol
# ------------------------------------------------------------------------------------------


def test_sobol_words_do_not_depend_on_how_paths_are_split():
    whole = sobol_words(5, 0, 1000, seed=7)
    parts = np.concatenate([sobol_words(5, lo, hi - lo, seed=7)
                            for lo, hi in ((0, 64), (64, 600), (600, 1000))])  # fmt: skip
    np.testing.assert_array_equal(parts, whole)
    assert not np.array_equal(sobol_words(5, 0, 64, seed=8), whole[:64])


def test_sobol_points_are_stratified_in_every_dimension():
    m = 10
    words = sobol_words(12, 0, 2**m, seed=3)
    for j in range(words.shape[1]):
        cells = words[:, j] >> np.uint32(32 - m)  # which of 2**m equal intervals
        np.testing.assert_array_equal(np.sort(cells), np.arange(2**m))


def test_antithetic_sobol_pairs_complement_their_words():
    words = sobol_words(4, 0, 256, seed=1, antithetic=True)
    np.testing.assert_array_equal(words[1::2], np.uint32(0xFFFFFFFF) - words[0::2])
    np.testing.assert_array_equal(words[0::2], sobol_words(4, 0, 128, seed=1))
    np.testing.assert_array_equal(sobol_words(4, 64, 3, seed=1, antithetic=True), words[64:67])


def test_qmc_runs_do_not_depend_on_chunks_and_match_the_reference():
    a = run(SCENARIO, 256, seed=4, qmc=True)
    b = run(SCENARIO, 256, seed=4, qmc=True, chunk_paths=64)
    np.testing.assert_array_equal(a.npv.values, b.npv.values)
    np.testing.assert_array_equal(a.inputs.values, b.inputs.values)
    fast = simulate_paths(SCENARIO, 130, seed=4, qmc=True)
    ref = simulate_paths(SCENARIO, 130, seed=4, qmc=True, backend="numpy")
    np.testing.assert_array_equal(fast.inputs.values, ref.inputs.values)
    scale = flow_scale(ref)
    assert_per_path_agree(fast, ref, scale, near_ties(ref, scale), "qmc")
    np.testing.assert_array_equal(fast.npv.values, a.npv.values[:130])


def test_qmc_inputs_have_the_right_marginals_and_copula():
    s = mc.Scenario()  # frontier-lab: correlated uncertain inputs
    ds = run(s, 4096, seed=12, qmc=True)
    plain = run(s, 4096, seed=12)
    for name in s.uncertain_inputs:
        x, y = ds.inputs.sel(input=name).values, plain.inputs.sel(input=name).values
        se = np.sqrt(x.var() / x.size + y.var() / y.size)
        assert abs(x.mean() - y.mean()) <= Z_BOUND * se + 1e-12 * abs(y.mean()), name
    corr = s.correlation
    i, j = (list(ds.input.values).index(n) for n in corr.names[:2])
    from scipy.stats import spearmanr

    rho = spearmanr(ds.inputs.values[:, i], ds.inputs.values[:, j]).statistic
    want = spearmanr(plain.inputs.values[:, i], plain.inputs.values[:, j]).statistic
    assert abs(rho - want) < Z_BOUND * 2 / np.sqrt(4096)


def quiet_months() -> mc.Scenario:
    """Static inputs drive the outcome; the monthly shocks are switched off."""
    return mc.Scenario.preset("api-startup").replace(
        horizon_months=12,
        user_volatility=0.0,
        api_volatility=0.0,
        utilization_volatility=0.0,
        hardware_volatility=0.0,
        electricity_volatility=0.0,
        generation_jump_rate=0.0,
    )


def test_qmc_and_antithetic_estimates_are_unbiased_and_less_noisy():
    s = quiet_months()
    n, seeds = 1024, range(16)
    means = {
        kind: np.array([float(run(s, n, seed=k, **kw).npv.mean()) for k in seeds])
        for kind, kw in (("plain", {}), ("antithetic", {"antithetic": True}),
                         ("qmc", {"qmc": True}))
    }  # fmt: skip
    truth = float(run(s, 2**16, seed=999).npv.mean())
    truth_se = float(run(s, 2**16, seed=999).npv.std()) / 2**8
    for kind, m in means.items():
        se = m.std(ddof=1) / np.sqrt(m.size)
        assert abs(m.mean() - truth) <= Z_BOUND * np.hypot(se, truth_se), kind
    # 16 replicates give a variance ratio within a factor ~4.4 of the truth (F(15, 15),
    # 99.9%); the factor here is far larger, so this bound fails only if RQMC is broken.
    # (Antithetic pairs gain little on this convex outcome; benchmarks/ measures both.)
    var = {k: m.var(ddof=1) for k, m in means.items()}
    assert var["plain"] / var["qmc"] > 10, var
