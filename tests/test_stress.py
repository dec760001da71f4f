"""Stress tests: shocks to named inputs in given months, in the kernel, the reference and files."""

import math
import pickle

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import montecarlo as mc
from kernels.layout import INPUT_NAMES, LEVEL_INPUTS, MONTHLY_NAMES, NEUTRAL_V2, UNSTRESSABLE_INPUTS
from montecarlo.engine import simulate, simulate_paths
from montecarlo.scenario import Scenario, ScenarioError, Stress, stress_tables

from .test_engine import (
    assert_close,
    assert_per_path_agree,
    flow_scale,
    monthly_tolerance,
    near_ties,
    quiet,
    random_scenarios,
    seeds,
)

T = 24


def volatile() -> Scenario:
    """An uncertain company with jumps; the inputs tests scale by hand are constants."""
    return Scenario.preset("api-startup").replace(
        horizon_months=T,
        generation_jump_rate=1.0,
        gpu_rent_price_0=2.5,
        adoption_rate=1.2,
        pue=1.2,
        fixed_opex_0=3e6,
    )


# ------------------------------------------------------------------------------------------
# The kernel follows the reference, stressed
# ------------------------------------------------------------------------------------------

# Stresses whose values stay inside every input's range for the random scenarios.
MENU = [
    Stress("gpu_rent_price_0", start_month=3, multiply=1.5),
    Stress("electricity_price_0", start_month=2, months=6, multiply=2.0),
    Stress("adoption_rate", start_month=4, multiply=0.5),
    Stress("users_0", start_month=5, months=3, multiply=0.7),
    Stress("api_tokens_0", start_month=1, months=2, multiply=0.0),
    Stress("tokens_per_query_growth", start_month=6, add=0.3),
    Stress("api_price_decline", start_month=2, months=9, add=0.5),
    Stress("throughput_gain", start_month=7, multiply=0.0),
    Stress("utilization_mean", start_month=3, months=4, multiply=0.8),
    Stress("utilization_volatility", start_month=1, add=0.2),
    Stress("hardware_volatility", start_month=8, multiply=2.0),
    Stress("gpu_capex_0", start_month=2, months=10, multiply=1.3, add=100.0),
    Stress("gpu_life_years", start_month=5, multiply=0.5),
    Stress("pue", start_month=3, add=0.2),
    Stress("electricity_mean", start_month=4, multiply=1.5),
    Stress("fixed_opex_0", start_month=6, multiply=1.2),
    Stress("training_spend_0", start_month=1, months=12, multiply=3.0),
    Stress("opex_growth", start_month=2, add=0.1),
    Stress("rent_share", start_month=4, multiply=0.5),
    Stress("compute_discount", start_month=1, months=3, multiply=0.0),
    Stress("subscription_price", start_month=9, multiply=0.9, add=-0.5),
    Stress("throughput_0", start_month=3, months=2, multiply=1.7),
    Stress("api_price_0", start_month=10, multiply=0.6),
]


@settings(max_examples=12)
@given(
    scenario=random_scenarios(),
    seed=seeds,
    picks=st.lists(st.sampled_from(range(len(MENU))), min_size=1, max_size=5),
    antithetic=st.booleans(),
)
def test_stressed_kernel_agrees_with_the_reference_path_by_path(scenario, seed, picks, antithetic):
    stresses = [MENU[i] for i in picks if MENU[i].start_month <= scenario.horizon_months]
    assume(stresses)
    try:
        scenario = scenario.replace(stresses=stresses)
    except ScenarioError:
        assume(False)  # a menu stress pushed this scenario's input out of its range
    n = 70
    fast = simulate_paths(scenario, n, seed=seed, antithetic=antithetic)
    ref = simulate_paths(scenario, n, seed=seed, antithetic=antithetic, backend="numpy")
    scale = flow_scale(ref)
    for name in MONTHLY_NAMES:
        assert_close(fast[name].values, ref[name].values, monthly_tolerance(name, ref, scale), name)
    excused = assert_per_path_agree(fast, ref, scale, near_ties(ref, scale), "stressed")
    assert excused <= max(1, n // 50)


def test_simulate_and_simulate_paths_run_the_same_stressed_paths():
    s = volatile().with_stress("gpu_rent_price_0", 6, multiply=1.5)
    a = simulate(s, 200, seed=3, keep_paths=True, progress=False, chunk_paths=64)
    b = simulate_paths(s, 200, seed=3)
    for name in ("npv", "ruin_month", "terminal_cash"):
        np.testing.assert_array_equal(a[name].values, b[name].values)


# ------------------------------------------------------------------------------------------
# What a stress means
# ------------------------------------------------------------------------------------------


def paths(scenario, n=64, seed=11):
    return simulate_paths(scenario, n, seed=seed)


def test_a_stress_over_the_whole_horizon_equals_changing_the_input():
    base = volatile()
    for name, factor in (("gpu_rent_price_0", 1.5), ("adoption_rate", 0.5), ("pue", 1.25)):
        value = base.inputs[name].value
        stressed = paths(base.with_stress(name, 1, multiply=factor))
        changed = paths(base.replace(**{name: value * factor}))
        for out in MONTHLY_NAMES:
            np.testing.assert_array_equal(stressed[out].values, changed[out].values, err_msg=name)


def test_a_level_stress_scales_its_quantity_and_lets_its_process_run_on():
    base = volatile()
    plain = paths(base)
    # Users x 0.5 in months 5..7: users halve there and return to the same path after.
    cut = paths(base.with_stress("users_0", 5, months=3, multiply=0.5))
    months = plain.month.values
    inside = (months >= 5) & (months <= 7)
    np.testing.assert_allclose(
        cut.users.values[:, inside], 0.5 * plain.users.values[:, inside], rtol=1e-15
    )
    np.testing.assert_array_equal(cut.users.values[:, ~inside], plain.users.values[:, ~inside])
    # Fixed opex x 2 from month 1 equals doubling fixed_opex_0 (the trend starts twice as high).
    doubled = paths(base.with_stress("fixed_opex_0", 1, multiply=2.0))
    twice = paths(base.replace(fixed_opex_0=2 * base.inputs["fixed_opex_0"].value))
    scale = flow_scale(twice)
    for out in MONTHLY_NAMES:
        assert_close(
            doubled[out].values, twice[out].values, monthly_tolerance(out, twice, scale), out
        )


def test_electricity_doubled_for_six_months_costs_more_only_then():
    # Owns its GPUs, so it pays for power; without financing, so that the extra cost is
    # all that separates the two cash paths (a round could otherwise move).
    base = Scenario.preset("self-hosted").replace(horizon_months=T, **NEUTRAL_V2)
    plain = paths(base)
    hot = paths(base.with_stress("electricity_price_0", 7, months=6, multiply=2.0))
    m = plain.month.values
    inside = (m >= 7) & (m <= 12)
    for out in ("users", "revenue", "gpus"):
        np.testing.assert_array_equal(hot[out].values, plain[out].values, err_msg=out)
    cost, cost0 = hot.inference_cost.values, plain.inference_cost.values
    np.testing.assert_array_equal(cost[:, ~inside], cost0[:, ~inside])
    assert (cost[:, inside] > cost0[:, inside]).all()
    # Cash carries the extra cost of those six months forward, unchanged afterwards.
    lost = plain.cash.values - hot.cash.values
    after = lost[:, m >= 13]
    total = lost[:, m == 12]
    np.testing.assert_allclose(
        after, np.broadcast_to(total, after.shape), rtol=0, atol=1e-9 * flow_scale(plain).max()
    )
    assert (lost[:, m < 7] == 0).all()


def test_halving_user_growth_changes_nothing_before_it_starts():
    base = volatile()
    plain = paths(base)
    slow = paths(base.with_stress("adoption_rate", 12, multiply=0.5))
    m = plain.month.values
    for out in MONTHLY_NAMES:
        np.testing.assert_array_equal(slow[out].values[:, m < 12], plain[out].values[:, m < 12])
    # Logistic growth (r > 0) with a smaller rate: fewer users on every path from month 12.
    assert (slow.users.values[:, m >= 12] < plain.users.values[:, m >= 12]).all()


def test_rent_stress_on_common_random_numbers_costs_npv_with_a_tight_error_bar():
    base = volatile()
    ds = mc.compare(
        {"base": base, "rent +50% from month 12": base.with_stress("gpu_rent_price_0", 12,
                                                                   multiply=1.5)},
        2048, seed=4, progress=False,
    )  # fmt: skip
    diff = float(ds.npv_diff_mean[1])
    se, se_indep = float(ds.npv_diff_se[1]), float(ds.npv_diff_se_independent[1])
    assert diff < 0 and diff + 4 * se < 0
    # The paired differences cancel what both runs share; measured factor 3.7 here.
    assert se < se_indep / 2


# ------------------------------------------------------------------------------------------
# Stress tables
# ------------------------------------------------------------------------------------------


@settings(max_examples=60)
@given(
    ops=st.lists(
        st.tuples(
            st.integers(1, 12),
            st.one_of(st.just(math.inf), st.integers(1, 12)),
            st.floats(-3, 3),
            st.floats(-5, 5),
        ),
        min_size=1,
        max_size=4,
    ),
    x=st.floats(-100, 100),
)
def test_stress_tables_compose_stresses_in_order(ops, x):
    stresses = [Stress("api_growth", s, months=m, multiply=a, add=b) for s, m, a, b in ops]
    mul, add, change = stress_tables(stresses, 12)
    col = INPUT_NAMES.index("api_growth")
    for t in range(1, 13):
        want = x
        for stress in stresses:
            if t in stress.months_in(12):
                want = want * stress.multiply + stress.add
        assert math.isclose(x * mul[t, col] + add[t, col], want, rel_tol=1e-12, abs_tol=1e-9)
    rows = np.column_stack([mul, add])
    np.testing.assert_array_equal(change[1:], (rows[1:] != rows[:-1]).any(axis=1))
    assert not change[0]


def test_an_unstressed_scenario_has_identity_tables():
    mul, add, change = Scenario(horizon_months=5).stress_tables()
    assert (mul == 1).all() and (add == 0).all() and not change.any()


# ------------------------------------------------------------------------------------------
# Files and validation
# ------------------------------------------------------------------------------------------


def test_stresses_round_trip_through_toml_dict_and_pickle():
    s = (
        Scenario(horizon_months=36)
        .with_stress("gpu_rent_price_0", 12, multiply=1.5)
        .with_stress("electricity_price_0", 1, months=6, multiply=2.0)
        .with_stress("api_growth", 3, months=math.inf, add=-0.2)
    )
    text = s.to_toml()
    assert "[[stresses]]" in text and 'input = "gpu_rent_price_0"' in text
    back = Scenario.from_toml(text)
    assert back == s and back.stresses == s.stresses
    assert Scenario.from_dict(s.to_dict()) == s
    assert pickle.loads(pickle.dumps(s)) == s
    assert s != s.replace(stresses=())
    assert "3 stresses" in repr(s)


def test_a_hand_written_toml_stress_reads():
    s = Scenario.from_toml(
        'horizon_months = 24\n[[stresses]]\ninput = "adoption_rate"\nstart_month = 12\n'
        "multiply = 0.5\n"
    )
    assert s.stresses == (Stress("adoption_rate", 12, multiply=0.5),)
    assert s.stresses[0].describe() == "adoption_rate x 0.5 from month 12"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(input="gpu_rent_prise_0", start_month=1), "did you mean 'gpu_rent_price_0'"),
        (dict(input="initial_cash", start_month=1, add=1e6), "'initial_cash' cannot be stressed"),
        (dict(input="users_0", start_month=1, add=5.0), "users_0 must use multiply, not add"),
        (dict(input="users_0", start_month=1, multiply=-1.0), "must be >= 0"),
        (dict(input="pue", start_month=0), "start_month must be an integer >= 1, got 0"),
        (dict(input="pue", start_month=1.5), "start_month must be an integer"),
        (dict(input="pue", start_month=1, months=0), "months must be an integer >= 1 or inf"),
        (dict(input="pue", start_month=1, months=2.5), "months must be an integer >= 1"),
        (dict(input="pue", start_month=1, multiply=math.nan), "multiply must be a finite"),
        (dict(input="pue", start_month=1, add=math.inf), "add must be a finite"),
    ],
)
def test_invalid_stresses_name_the_problem(kwargs, match):
    with pytest.raises(ScenarioError, match=match):
        Stress(**kwargs)


def test_unstressable_and_level_inputs_are_the_documented_ones():
    assert set(UNSTRESSABLE_INPUTS) == {"initial_cash", "discount_rate", "commitment_discount"}
    assert set(LEVEL_INPUTS) <= set(INPUT_NAMES)


@pytest.mark.parametrize(
    ("stress", "match"),
    [
        (dict(input="pue", start_month=25), "starts after the horizon of 24 months"),
        (dict(input="utilization_mean", start_month=2, add=0.9), "utilization_mean must be in"),
        (dict(input="pue", start_month=2, multiply=0.5), "pue must be"),
        (dict(input="throughput_0", start_month=2, multiply=0.0), "throughput_0 must be"),
        (dict(input="paid_share", start_month=2, multiply=100.0), "paid_share must be in"),
        (dict(input="pue", start_month=2, bogus=1), "unknown stress key 'bogus'"),
        (dict(start_month=2), "needs input and start_month; input is missing"),
    ],
)
def test_invalid_stresses_in_a_scenario_name_the_problem(stress, match):
    with pytest.raises(ScenarioError, match=match):
        Scenario(horizon_months=24, stresses=[stress])


def test_stresses_must_be_a_list():
    with pytest.raises(ScenarioError, match="stresses must be a list"):
        Scenario(stresses=Stress("pue", 1, add=0.1))


def test_a_stress_on_an_uncertain_input_checks_the_whole_support():
    s = quiet(12, utilization_mean=mc.Uniform(0.5, 0.9))
    s.with_stress("utilization_mean", 2, multiply=1.05)  # up to 0.945: fine
    with pytest.raises(ScenarioError, match=r"values in \[0\.6, 1\.08\]"):
        s.with_stress("utilization_mean", 2, multiply=1.2)
