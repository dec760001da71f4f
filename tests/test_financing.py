"""Spec v2: compute commitments and financing.

- With the v2 inputs neutral, every v1 result is unchanged bit for bit: the outputs
  recorded at commit 3637be6 (the last v1 kernel; tests/data/v1) come back exactly.
- The numba kernel and the numpy reference agree path by path on random scenarios in
  which commitments sit idle, tranches arrive and rounds succeed and fail.
- Closed forms: a sure tranche adds exactly its amount; a commitment above demand bills
  its idle hours at the locked price whatever the hardware index does; sure rounds
  dilute by exactly (1 - m / v) each and raise exactly m x 12 R_t.
- The random streams: the round and tranche uniforms are words 2 and 3 of block 1,
  and antithetic paths use 1 - u.
"""

import hashlib
import math
import pathlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kernels import reference
from kernels.layout import INPUT_NAMES, MONTHLY_NAMES, NEUTRAL_V2, PATH_NAMES
from kernels.reference_model import month_uniforms
from montecarlo import distributions as md
from montecarlo.engine import simulate_paths
from montecarlo.scenario import Scenario, ScenarioError

from .test_engine import (
    assert_close,
    assert_per_path_agree,
    flow_scale,
    monthly_tolerance,
    near_ties,
    quiet,
)

V1 = pathlib.Path(__file__).parent / "data" / "v1"
V1_CASES = ("frontier-lab", "api-startup", "self-hosted", "specialized-model",
            "api-startup-stressed")  # fmt: skip
N_V1_INPUTS = 44


# ------------------------------------------------------------------------------------------
# 1. Neutral v2 inputs: v1, bit for bit
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def v1_outputs():
    with np.load(V1 / "outputs.npz") as data:
        return dict(data)


@pytest.mark.parametrize("antithetic", [False, True], ids=["plain", "antithetic"])
@pytest.mark.parametrize("case", V1_CASES)
def test_neutral_v2_inputs_give_the_v1_results_bit_for_bit(v1_outputs, case, antithetic):
    # The scenarios were saved with every v1 input; v2 inputs they lack would come from
    # the (recalibrated) default preset, so they are set neutral here.
    scenario = Scenario.from_toml(V1 / f"{case}.toml").replace(**NEUTRAL_V2)
    tag = case + ("-antithetic" if antithetic else "")
    ds = simulate_paths(scenario, 64, seed=20261206, antithetic=antithetic)
    monthly = np.ascontiguousarray(np.stack([ds[v].values for v in MONTHLY_NAMES[:9]], axis=1))
    per_path = np.stack([ds[v].values.astype(np.float64) for v in PATH_NAMES[:8]], axis=1)
    np.testing.assert_array_equal(ds["inputs"].values[:, :N_V1_INPUTS], v1_outputs[f"{tag}/inputs"])
    np.testing.assert_array_equal(per_path.view(np.int64), v1_outputs[f"{tag}/per_path"].view(np.int64))
    if f"{tag}/monthly" in v1_outputs:
        want = v1_outputs[f"{tag}/monthly"]
        np.testing.assert_array_equal(monthly.view(np.int64), want.view(np.int64))
    digest = hashlib.sha256(monthly.tobytes()).hexdigest()
    assert digest == str(v1_outputs[f"{tag}/monthly_sha256"]), "monthly outcomes changed"
    # The v2 outcomes are what neutral inputs mean: nothing idle, raised or diluted.
    assert not ds.idle_commitment_cost.values.any() and not ds.financing.values.any()
    assert not ds.capital_raised.values.any() and not ds.rounds.values.any()
    assert (ds.ownership_retained.values == 1.0).all()
    np.testing.assert_array_equal(ds.funding_gap.values, np.maximum(-ds.min_cash.values, 0.0))


# ------------------------------------------------------------------------------------------
# 2. The kernel and the reference agree on random v2 scenarios
# ------------------------------------------------------------------------------------------


def _v2_inputs(draw) -> dict:
    """Random v2 inputs, drawn so that every mechanism is switched on; a few are
    distributions so that their static streams (inputs 44..55) are exercised."""
    u = st.floats(0.0, 1.0, allow_subnormal=False)
    raise_multiple = 0.5 + 2.5 * draw(u)
    return {
        "commitment_share": md.Uniform(0.05, 0.6 + 1.4 * draw(u)),
        "commitment_growth": -0.3 + 0.8 * draw(u),
        "commitment_months": draw(st.sampled_from([6.0, 18.0, 36.0, math.inf])),
        "commitment_discount": 0.6 * draw(u),
        "tranche_amount": md.LogNormal.from_interval(1e5, 1e9),
        "tranche_month": md.Uniform(0.0, 12.0) if draw(st.booleans()) else 1.0 + draw(
            st.integers(0, 11)),  # fmt: skip
        "tranche_probability": 0.3 + 0.7 * draw(u),
        "raise_trigger_months": 6.0 + 18.0 * draw(u),
        "raise_success_probability": md.Uniform(0.3, 0.9),
        "raise_arr_multiple": raise_multiple,
        "raise_cooldown_months": float(draw(st.integers(1, 8))),
        "valuation_arr_multiple": raise_multiple + 2.0 + 30.0 * draw(u),
    }


@st.composite
def financed_scenarios(draw):
    base = draw(st.sampled_from(["api-startup", "specialized-model", "frontier-lab"]))
    scenario = Scenario.preset(base).replace(
        horizon_months=draw(st.integers(18, 30)),
        # Part-rented, so committed hours compete with the rented need.
        rent_share=md.Uniform(0.3, 1.0),
        **_v2_inputs(draw),
    )
    if draw(st.booleans()):
        scenario = scenario.with_stress("raise_success_probability", draw(st.integers(9, 15)),
                                        multiply=0.0)  # fmt: skip
    return scenario


@settings(max_examples=8)
@given(scenario=financed_scenarios(), seed=st.integers(0, 2**64 - 1), antithetic=st.booleans())
def test_kernel_and_reference_agree_where_financing_happens(scenario, seed, antithetic):
    n = 130
    fast = simulate_paths(scenario, n, seed=seed, antithetic=antithetic, backend="numba")
    ref = simulate_paths(scenario, n, seed=seed, antithetic=antithetic, backend="numpy")
    # The mechanisms under test happen on these paths.
    assert (ref.idle_commitment_cost.values > 0).sum() >= 5, "no idle commitment"
    assert (ref.rounds.values > 0).sum() >= 5, "no successful round"
    tranche = ref["inputs"].sel(input="tranche_amount").values[:, None]
    assert (ref.financing.values == tranche).any(axis=1).sum() >= 5, "no tranche arrived"
    scale = flow_scale(ref)
    np.testing.assert_allclose(fast["inputs"], ref["inputs"], rtol=1e-12, atol=1e-300)
    for name in MONTHLY_NAMES:
        tol = monthly_tolerance(name, ref, scale)
        assert_close(fast[name].values, ref[name].values, tol, name)
    excused = assert_per_path_agree(fast, ref, scale, near_ties(ref, scale), "paths")
    assert excused <= max(1, n // 50)


# ------------------------------------------------------------------------------------------
# 3. Closed forms
# ------------------------------------------------------------------------------------------


def _deterministic(**changes) -> Scenario:
    """tests/test_engine.py's deterministic company (no uncertainty, no volatility)."""
    return quiet(12, **changes)


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_a_sure_tranche_adds_exactly_its_amount(backend):
    amount, month = 7.5e6, 5
    base = simulate_paths(_deterministic(), 70, seed=3, backend=backend)
    funded = simulate_paths(
        _deterministic(tranche_amount=amount, tranche_month=float(month), tranche_probability=1.0),
        70, seed=3, backend=backend,
    )  # fmt: skip
    financing = funded.financing.values
    assert (financing[:, month - 1] == amount).all()
    assert not np.delete(financing, month - 1, axis=1).any()
    np.testing.assert_array_equal(funded.capital_raised.values, amount)
    np.testing.assert_array_equal(funded.rounds.values, 0)
    # Cash moves by the amount from that month on (the addition's own rounding aside),
    # and nothing of the business does.
    shift = funded.cash.values - base.cash.values
    assert not shift[:, : month - 1].any()
    np.testing.assert_allclose(shift[:, month - 1 :], amount, rtol=1e-12)
    for name in ("revenue", "inference_cost", "operating_profit", "cash_flow"):
        np.testing.assert_array_equal(funded[name].values, base[name].values, err_msg=name)
    for name in ("npv", "payback_month"):
        np.testing.assert_array_equal(funded[name].values, base[name].values, err_msg=name)


def test_a_fractional_tranche_month_means_the_month_it_falls_in():
    funded = simulate_paths(
        _deterministic(tranche_amount=1e6, tranche_month=4.25, tranche_probability=1.0), 64
    )
    assert (funded.financing.values[:, 4] == 1e6).all()
    assert funded.financing.values.sum() == 64 * 1e6


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_an_idle_commitment_bills_its_hours_at_the_locked_price(backend):
    # The deterministic company rents everything and its need is the same every month,
    # H_t = H_0. Committing 2.5 H_0 for 6 months leaves 1.5 H_0 idle each month, billed
    # at the committed price while the hardware index falls or rises.
    rent, cut, share, months = 2.5, 0.4, 2.5, 6
    committed_price = rent * (1 - cut)
    costs = {}
    for drift in (-0.5, 0.3):
        s = _deterministic(hardware_drift=drift, commitment_share=share,
                           commitment_months=float(months), commitment_discount=cut)  # fmt: skip
        ds = simulate_paths(s, 64, seed=5, backend=backend)
        hours = ds.gpus.values * 730.0  # H_t, the provisioned hours
        np.testing.assert_allclose(hours, np.broadcast_to(hours[:, :1], hours.shape), rtol=1e-13)
        h0 = hours[:, 0]
        idle = ds.idle_commitment_cost.values
        want = np.broadcast_to(((share - 1) * h0 * committed_price)[:, None], (64, months))
        np.testing.assert_allclose(idle[:, :months], want, rtol=1e-13)
        assert not idle[:, months:].any()
        costs[drift] = ds.inference_cost.values
        # After the term the rented hours follow the index: rent x exp(drift t dt).
        t = np.arange(months + 1, 13)
        np.testing.assert_allclose(
            costs[drift][:, months:],
            (h0[:, None] * rent * np.exp(drift * t / 12.0)),
            rtol=1e-12,
        )
    # During the term the whole bill is the committed hours at the locked price.
    for drift, cost in costs.items():
        want = np.broadcast_to((share * h0 * committed_price)[:, None], (64, months))
        np.testing.assert_allclose(cost[:, :months], want, rtol=1e-13, err_msg=f"drift {drift}")


def test_the_committed_schedule_grows_from_month_two():
    # Growth 0.6/yr: Hc_t = share H_0 exp(0.6 (t - 1) / 12); the need stays H_0, so the
    # idle hours are Hc_t - H_0 once Hc_t exceeds it.
    share, growth = 1.2, 0.6
    ds = simulate_paths(_deterministic(commitment_share=share, commitment_growth=growth,
                                       commitment_months=math.inf), 64)  # fmt: skip
    h0 = ds.gpus.values[:, :1] * 730.0
    t = np.arange(1, 13)
    committed = share * h0 * np.exp(growth * (t - 1) / 12.0)
    np.testing.assert_allclose(ds.idle_commitment_cost.values, (committed - h0) * 2.5, rtol=1e-12)


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_sure_rounds_dilute_by_exactly_one_minus_m_over_v_each(backend):
    # A company that burns cash (opex far above revenue) and raises whenever its runway is
    # below 12 months, every 3 months at most; every attempt succeeds.
    m, v = 1.5, 12.0
    s = _deterministic(fixed_opex_0=3e6, initial_cash=1e7, raise_trigger_months=12.0,
                       raise_success_probability=1.0, raise_arr_multiple=m,
                       raise_cooldown_months=3.0, valuation_arr_multiple=v)  # fmt: skip
    ds = simulate_paths(s, 64, seed=9, backend=backend)
    rounds = ds.rounds.values
    assert (rounds >= 3).all()
    kept = 1.0 - m / v
    want = np.array([math.prod([kept] * int(k)) for k in rounds])
    np.testing.assert_array_equal(ds.ownership_retained.values, want)
    # Each round raises m x 12 R_t in its month, rounds are at least 3 months apart,
    # and the capital raised is their sum.
    financing = ds.financing.values
    months = financing > 0
    assert (months.sum(axis=1) == rounds).all()
    np.testing.assert_allclose(financing[months], m * 12.0 * ds.revenue.values[months],
                               rtol=1e-15)  # fmt: skip
    for row in months:
        assert (np.diff(np.flatnonzero(row)) >= 3).all()
    np.testing.assert_allclose(ds.capital_raised.values, financing.sum(axis=1), rtol=1e-13)


def test_a_round_is_attempted_only_when_the_runway_is_short():
    # With success probability 0 nothing is raised; the attempts still follow the
    # trigger, which a probability of 1 makes visible: the first round comes in the
    # first month whose cash (after the month) covers less than `trigger` months of burn.
    trigger = 12.0
    s = _deterministic(fixed_opex_0=3e6, initial_cash=4e7, raise_trigger_months=trigger,
                       raise_success_probability=1.0, raise_arr_multiple=1.0,
                       raise_cooldown_months=100.0)  # fmt: skip
    ds = simulate_paths(s, 64)
    base = simulate_paths(s.replace(raise_success_probability=0.0), 64)
    assert not base.financing.values.any()
    cash, burn = base.cash.values[0], -base.cash_flow.values[0]
    assert (burn > 0).all()
    first = int(np.argmax(cash < trigger * burn))
    assert 0 < first < 11
    got = np.flatnonzero(ds.financing.values[0])
    assert list(got) == [first], "one round (the cooldown outlasts the horizon) in that month"


def test_investors_saying_no_from_month_12_stops_every_round_from_then():
    s = Scenario.preset("api-startup").replace(
        horizon_months=36, raise_trigger_months=9.0, raise_success_probability=0.6,
        raise_arr_multiple=2.0, raise_cooldown_months=3.0, valuation_arr_multiple=15.0,
    )  # fmt: skip
    free = simulate_paths(s, 256, seed=1)
    shut = simulate_paths(s.with_stress("raise_success_probability", 12, multiply=0.0), 256, seed=1)
    assert free.financing.values[:, 11:].any(), "rounds after month 11 without the stress"
    assert not shut.financing.values[:, 11:].any()
    # Common random numbers: the months before the stress are the same paths.
    np.testing.assert_array_equal(shut.cash.values[:, :11], free.cash.values[:, :11])
    # Financing never changes the business's cash flows, so without the later rounds the
    # cash is never higher and ruin never later.
    np.testing.assert_array_equal(shut.cash_flow.values, free.cash_flow.values)
    assert (shut.cash.values <= free.cash.values).all()
    assert (shut.ruin_month.values <= free.ruin_month.values).all()
    assert (shut.ruin_month.values < free.ruin_month.values).any()


# ------------------------------------------------------------------------------------------
# 4. Random streams
# ------------------------------------------------------------------------------------------


def test_round_and_tranche_uniforms_are_words_two_and_three_of_block_one():
    seed, step, paths = 2**63 + 5, 7, np.arange(8)
    words = reference.block_words(seed, paths.astype(np.uint64), step, 1, False)
    v_round, v_tranche = month_uniforms(seed, paths, step)
    np.testing.assert_array_equal(v_round, (words[:, 2] + 0.5) * 2.0**-32)
    np.testing.assert_array_equal(v_tranche, (words[:, 3] + 0.5) * 2.0**-32)
    # Antithetic: path 2k + 1 uses 1 - u of path 2k, exactly.
    a_round, a_tranche = month_uniforms(seed, paths, step, antithetic=True)
    np.testing.assert_array_equal(a_round[1::2], 1.0 - a_round[0::2])
    np.testing.assert_array_equal(a_tranche[1::2], 1.0 - a_tranche[0::2])


def test_v2_inputs_draw_their_own_static_normals():
    # Inputs 44..55 use step-0 normals 44..55: making one uncertain changes no v1 sample.
    base = Scenario.preset("api-startup").replace(horizon_months=3)
    both = base.replace(tranche_amount=md.Uniform(0.0, 1e6), raise_arr_multiple=md.Uniform(0.5, 2))
    a = simulate_paths(base, 64, seed=4)["inputs"].values
    b = simulate_paths(both, 64, seed=4)["inputs"].values
    v2 = [INPUT_NAMES.index("tranche_amount"), INPUT_NAMES.index("raise_arr_multiple")]
    np.testing.assert_array_equal(np.delete(a, v2, axis=1), np.delete(b, v2, axis=1))
    assert np.unique(b[:, v2[0]]).size == 64


# ------------------------------------------------------------------------------------------
# 5. Validation
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        (dict(raise_cooldown_months=0.5), r"raise_cooldown_months must be .*>= 1"),
        (dict(commitment_share=-0.1), r"commitment_share must be"),
        (dict(tranche_probability=1.5), r"tranche_probability must be in"),
        (
            dict(raise_trigger_months=6.0, raise_success_probability=0.5, raise_arr_multiple=3.0,
                 valuation_arr_multiple=md.Uniform(2.0, 30.0)),
            r"valuation_arr_multiple must exceed raise_arr_multiple .* up to 3\.0 and "
            r"valuation_arr_multiple down to 2\.0",
        ),
    ],
)
def test_bad_v2_inputs_are_refused_with_the_field_named(changes, match):
    with pytest.raises(ScenarioError, match=match):
        Scenario.preset("api-startup").replace(**changes)


def test_rounds_that_cannot_happen_need_no_valuation_above_them():
    # No trigger: the multiples are never used, so their order does not matter.
    Scenario.preset("api-startup").replace(raise_trigger_months=0.0, raise_arr_multiple=3.0,
                                           valuation_arr_multiple=2.0)  # fmt: skip


def test_a_stress_may_not_sell_the_whole_company_nor_reprice_a_signed_commitment():
    s = Scenario.preset("api-startup").replace(
        raise_trigger_months=6.0, raise_success_probability=0.5, raise_arr_multiple=2.0,
        valuation_arr_multiple=10.0,
    )  # fmt: skip
    with pytest.raises(ScenarioError, match=r"\(with its stresses\)"):
        s.with_stress("valuation_arr_multiple", 6, multiply=0.1)
    with pytest.raises(ScenarioError, match=r"'commitment_discount' cannot be stressed"):
        s.with_stress("commitment_discount", 6, multiply=0.5)
