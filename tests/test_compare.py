"""Scenario comparison on common random numbers."""

import numpy as np
import pytest

import montecarlo as mc
from montecarlo.engine import SimulationError

from .stats import Z_BOUND

N = 3000


@pytest.fixture(scope="module")
def rent_sweep():
    base = mc.Scenario.preset("api-startup").replace(horizon_months=24)
    return base, mc.sweep(base, "gpu_rent_price_0", [2.0, 2.2, 2.6], N, seed=5, progress=False)


def test_sweep_layout_and_baseline(rent_sweep):
    _, ds = rent_sweep
    assert ds.sizes["scenario"] == 3 and ds.npv.dims == ("scenario", "path")
    np.testing.assert_array_equal(ds.value.values, [2.0, 2.2, 2.6])
    assert (
        ds.attrs["swept_field"] == "gpu_rent_price_0"
        and ds.attrs["baseline"] == ds.scenario.values[0]
    )
    assert ds.npv_diff_mean.values[0] == 0.0 and ds.npv_diff_se.values[0] == 0.0
    for toml in ds.scenario_toml.values:
        assert mc.Scenario.from_toml(toml).horizon_months == 24
    assert "inputs" not in ds


def test_each_scenario_equals_its_own_run(rent_sweep):
    base, ds = rent_sweep
    alone = mc.simulate(base.replace(gpu_rent_price_0=2.2), N, seed=5, progress=False)
    np.testing.assert_array_equal(
        ds.npv.sel(scenario=ds.scenario.values[1]).values, alone.npv.values
    )
    np.testing.assert_array_equal(ds.cash.isel(scenario=1).values, alone.cash.values)


def test_paired_differences_are_right_and_far_less_noisy(rent_sweep):
    _, ds = rent_sweep
    for i in (1, 2):
        d = ds.npv.isel(scenario=i).values - ds.npv.isel(scenario=0).values
        assert ds.npv_diff_mean.values[i] == pytest.approx(d.mean(), rel=1e-12)
        assert ds.npv_diff_se.values[i] == pytest.approx(d.std(ddof=1) / np.sqrt(N), rel=1e-12)
        # Dearer rent lowers NPV on every path with the same random numbers.
        assert np.all(d <= 0) and ds.npv_diff_ci_high.values[i] < 0
        # Common random numbers: the paired standard error is far below the independent one.
        factor = (ds.npv_diff_se_independent.values[i] / ds.npv_diff_se.values[i]) ** 2
        assert factor > 10, factor


def test_paired_beats_independent_runs_empirically():
    # The same comparison with the second scenario on another seed: the difference of
    # means then carries both runs' noise, as the independent SE says.
    base = mc.Scenario.preset("api-startup").replace(horizon_months=24)
    a = mc.simulate(base, N, seed=5, progress=False).npv.values
    b_paired = mc.simulate(base.replace(gpu_rent_price_0=2.2), N, seed=5, progress=False).npv.values
    b_indep = mc.simulate(base.replace(gpu_rent_price_0=2.2), N, seed=6, progress=False).npv.values
    se_paired = np.std(b_paired - a, ddof=1) / np.sqrt(N)
    se_indep = np.sqrt((np.var(a, ddof=1) + np.var(b_indep, ddof=1)) / N)
    # Both estimate the same difference; the independent one is within its own noise of it.
    diff_paired = b_paired.mean() - a.mean()
    assert abs((b_indep.mean() - a.mean()) - diff_paired) <= Z_BOUND * np.hypot(se_indep, se_paired)
    assert se_indep > 5 * se_paired


def test_bad_arguments():
    with pytest.raises(SimulationError, match="non-empty mapping"):
        mc.compare({}, 10)
    with pytest.raises(SimulationError, match="horizon_months"):
        mc.compare({"a": mc.Scenario(horizon_months=12), "b": mc.Scenario(horizon_months=24)}, 10)
    with pytest.raises(SimulationError, match="keep_paths"):
        mc.compare({"a": "api-startup"}, 10, keep_paths=False)
    with pytest.raises(mc.ScenarioError, match="unknown scenario field"):
        mc.sweep("api-startup", "gpu_rent_prise_0", [1.0], 10)


def test_financing_effect_compares_with_the_financing_inputs_neutral_on_common_paths():
    from kernels.layout import FINANCING_INPUTS, NEUTRAL_V2
    from montecarlo.compare import financing_effect, without_financing

    base = mc.Scenario.preset("api-startup").replace(
        horizon_months=24, commitment_share=1.5, commitment_months=18, tranche_amount=5e6,
        tranche_month=6, tranche_probability=0.5, raise_trigger_months=6,
        raise_success_probability=0.6, raise_arr_multiple=2.0, valuation_arr_multiple=10.0,
    ).with_stress("raise_success_probability", 12, multiply=0.0)  # fmt: skip
    plain = without_financing(base)
    assert plain.stresses == () and plain.inputs["commitment_share"].value == 1.5
    assert all(plain.inputs[k].value == NEUTRAL_V2[k] for k in FINANCING_INPUTS)
    assert set(NEUTRAL_V2) - set(FINANCING_INPUTS) == {
        "commitment_share", "commitment_growth", "commitment_months", "commitment_discount"
    }  # fmt: skip
    ds = financing_effect(base, 2000, seed=4, progress=False)
    assert list(ds.scenario.values) == ["without financing", "with financing"]
    assert ds.attrs["baseline"] == "without financing"
    alone = mc.simulate(base, 2000, seed=4, progress=False)
    np.testing.assert_array_equal(ds.ruin_month.sel(scenario="with financing"), alone.ruin_month)
    assert (ds.capital_raised.sel(scenario="without financing") == 0).all()
    ruined = (ds.ruin_month.values <= 24).astype(float)
    diff = ruined[1] - ruined[0]
    assert diff.min() < 0 and float(ds.p_ruined_diff_mean[1]) == pytest.approx(diff.mean())
    assert float(ds.p_ruined_diff_se[1]) < float(ds.p_ruined_diff_se_independent[1])
