"""The numpy reference model: static inputs, closed forms by hand, and its random streams."""

import math

import numpy as np
import pytest

from kernels import reference as ref
from kernels.layout import (
    GROSS_MARGIN_FLOOR,
    INPUT_NAMES,
    MONTHLY_NAMES,
    NEUTRAL_V2,
    PATH_NAMES,
)
from kernels.reference_model import monthly_shocks, run_reference, simulate_reference
from montecarlo import distributions as md
from montecarlo.correlation import Correlation
from montecarlo.inputs import pack_inputs, sample_inputs

from .stats import assert_mean

M = {name: i for i, name in enumerate(MONTHLY_NAMES)}
P = {name: i for i, name in enumerate(PATH_NAMES)}
RTOL = 1e-12

# A non-trivial shock correlation, so the streams tests see the Cholesky factor at work.
SHOCK_CORRELATION = np.array(
    [
        [1.0, 0.3, 0.0, 0.2, -0.1],
        [0.3, 1.0, 0.1, 0.0, 0.2],
        [0.0, 0.1, 1.0, 0.4, 0.0],
        [0.2, 0.0, 0.4, 1.0, 0.3],
        [-0.1, 0.2, 0.0, 0.3, 1.0],
    ]
)
SHOCK_CHOL = np.linalg.cholesky(SHOCK_CORRELATION)

# Every input constant and every volatility zero: a deterministic company whose months
# can be worked out by hand. Tests override what they need.
BASE = {
    "users_0": 1e5,
    "user_ceiling": math.inf,
    "adoption_rate": 0.0,
    "user_volatility": 0.0,
    "paid_share": 0.2,
    "subscription_price": 20.0,
    "queries_per_free_user_day": 1.0,
    "queries_per_paid_user_day": 5.0,
    "tokens_per_query_0": 1000.0,
    "tokens_per_query_growth": 0.0,
    "api_tokens_0": 1e9,
    "api_growth": 0.0,
    "api_volatility": 0.0,
    "api_price_0": 10.0,
    "api_price_decline": 0.0,
    "revenue_share": 0.0,
    "throughput_0": 1000.0,
    "throughput_gain": 0.0,
    "utilization_mean": 0.5,
    "utilization_persistence": 0.5,
    "utilization_volatility": 0.0,
    "rent_share": 1.0,
    "gpu_rent_price_0": 2.0,
    "gpu_capex_0": 20000.0,
    "hardware_drift": 0.0,
    "hardware_volatility": 0.0,
    "generation_jump_rate": 0.0,
    "generation_jump_size": 0.3,
    "compute_discount": 0.0,
    "discount_months": 0.0,
    "gpu_life_years": 4.0,
    "gpu_power_kw": 1.0,
    "pue": 1.2,
    "electricity_price_0": 0.1,
    "electricity_mean": 0.1,
    "electricity_reversion": 1.0,
    "electricity_volatility": 0.0,
    "other_cost_per_gpu_hour": 0.3,
    "fixed_opex_0": 1e5,
    "opex_growth": 0.0,
    "training_spend_0": 0.0,
    "training_growth": 0.0,
    "initial_cash": 1e6,
    "discount_rate": 0.1,
    **NEUTRAL_V2,
}
assert tuple(BASE) == INPUT_NAMES
DAYS = 365.0 / 12.0
NEVER_3 = 4.0  # "never" for a 3-month horizon


def _rows(values: dict, n_paths: int = 1) -> np.ndarray:
    return np.tile([values[name] for name in INPUT_NAMES], (n_paths, 1)).astype(np.float64)


def _simulate(values: dict, horizon: int, *, n_paths=1, chol=None, seed=7, antithetic=False):
    chol = np.eye(5) if chol is None else chol
    return simulate_reference(
        _rows(values, n_paths), chol, horizon, seed=seed, paths=n_paths, antithetic=antithetic
    )


def _check(got, want):
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=0.0)


# --- Static inputs against the numba kernels ---------------------------------------------

EVERY_KIND = {
    "constant": 3.5,
    "uniform": md.Uniform(-1.0, 4.0),
    "normal": md.Normal(2.0, 0.5),
    "lognormal": md.LogNormal(0.1, 0.7),
    "triangular": md.Triangular(1.0, 2.0, 5.0),
    "truncated": md.TruncatedNormal(1.0, 2.0, -0.5, 4.0),
    "truncated_upper_tail": md.TruncatedNormal(0.0, 1.0, 1.5, math.inf),
    "truncated_one_sided": md.TruncatedNormal(5.0, 1.0, 4.0),
    "gamma": md.Gamma(2.5, 3.0),
    "beta": md.Beta(2.0, 5.0, 10.0, 20.0),
    "pert": md.PERT(1.0, 3.0, 10.0),
    "empirical": md.Empirical([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0]),
    "discrete": md.Discrete([10.0, 20.0, 30.0, 40.0], [0.1, 0.2, 0.3, 0.4]),
    "infinite_constant": math.inf,
}
COPULA = Correlation(
    ["gamma", "uniform", "triangular", "truncated", "lognormal", "discrete"],
    [
        [1.0, 0.5, 0.2, 0.0, 0.3, -0.2],
        [0.5, 1.0, 0.1, 0.2, 0.0, 0.0],
        [0.2, 0.1, 1.0, -0.3, 0.0, 0.1],
        [0.0, 0.2, -0.3, 1.0, 0.4, 0.0],
        [0.3, 0.0, 0.0, 0.4, 1.0, 0.2],
        [-0.2, 0.0, 0.1, 0.0, 0.2, 1.0],
    ],
)


@pytest.mark.parametrize("antithetic", [False, True])
@pytest.mark.parametrize("correlation", [None, COPULA], ids=["independent", "copula"])
def test_static_inputs_match_the_numba_sampler(antithetic, correlation):
    packed = pack_inputs(EVERY_KIND, correlation)
    seed = 2**40 + 12345
    paths = np.arange(3000, dtype=np.uint64) + np.uint64(2**33)  # high counter word in use
    want = sample_inputs(packed, 0, seed=seed, antithetic=antithetic, paths=paths).values
    got = ref.static_inputs(seed, paths, packed, antithetic)
    # The kernels' normals take the tails' log from kernels.elementary (an ulp from
    # numpy's); inverse CDFs pass that ulp on times their slope, and the truncated
    # normal, which subtracts nearly equal probabilities, magnifies it.
    # An inverse CDF that crosses zero (uniform(-1, 4)) cancels near it, so each column
    # is compared to a few ulps of its own largest magnitude, not of each value.
    truncated = np.array(["truncated" in name for name in packed.names])
    finite = np.isfinite(want)
    np.testing.assert_array_equal(got[~finite], want[~finite])
    for j, name in enumerate(packed.names):
        col = finite[:, j]
        scale = np.abs(want[col, j]).max(initial=0.0)
        rtol = 1e-13 if truncated[j] else 4e-15
        np.testing.assert_allclose(got[col, j], want[col, j], rtol=0.0, atol=rtol * scale,
                                   err_msg=name)  # fmt: skip


def test_static_inputs_accept_a_path_count_and_draw_normal_i_for_input_i():
    packed = pack_inputs({f"x{i}": md.Normal(0.0, 1.0) for i in range(9)})
    got = ref.static_inputs(11, 5, packed)
    for i in range(9):
        # Input i is normal number i of step 0: block i // 4, word i % 4.
        normals = ref.block_normals(11, range(5), 0, i // 4)
        np.testing.assert_array_equal(got[:, i], normals[:, i % 4])


def test_distribution_edges():
    # Table ends: beyond the grid the end values; discrete: first i with u < cum[i].
    beta = md.Beta(2.0, 3.0)
    kind, params, data = beta.kernel_spec()
    z = np.array([-40.0, -8.5, 0.0, 8.5, 40.0])
    got = ref.inverse_cdf_from_normal(kind, params, data, z)
    np.testing.assert_array_equal(got[[0, 1]], data[0])
    np.testing.assert_array_equal(got[[3, 4]], data[params[3].astype(int) - 1])
    discrete = md.Discrete([1.0, 2.0, 3.0], [0.25, 0.25, 0.5])
    kind, params, data = discrete.kernel_spec()
    z = np.array([-1.0, 0.0, 1e-9, 5.0])  # Phi(0) = 0.5 exactly is not < cum[1] = 0.5
    np.testing.assert_array_equal(ref.inverse_cdf_from_normal(kind, params, data, z), [1, 3, 3, 3])


def test_normal_cdf_is_math_erfc_elementwise():
    z = np.linspace(-9.0, 9.0, 1001)
    want = np.array([0.5 * math.erfc(-v * 0.7071067811865476) for v in z])
    np.testing.assert_array_equal(ref.normal_cdf(z), want)
    assert ref.normal_cdf(np.zeros((2, 3))).shape == (2, 3)


# --- Closed forms by hand -----------------------------------------------------------------


def test_owned_fleet_with_purchases_discount_and_revenue_share_by_hand():
    values = dict(
        BASE,
        user_ceiling=1e6,
        adoption_rate=1.2,  # r dt = 0.1
        revenue_share=0.1,
        rent_share=0.5,
        compute_discount=0.25,
        discount_months=2.0,
        tokens_per_query_growth=12 * math.log(1.1),  # +10% a month
        api_price_decline=-12 * math.log(0.9),  # -10% a month
        hardware_drift=12 * math.log(0.98),  # -2% a month
        gpu_life_years=2.0,  # q = 1/24
        electricity_mean=0.2,
        electricity_reversion=6.0,  # a dt = 1/2
        fixed_opex_0=3.6e5,
        training_spend_0=5e4,
        training_growth=12 * math.log(1.02),  # +2% a month
    )
    got = _simulate(values, 3)
    monthly, per_path = got["monthly"][0], got["per_path"][0]

    # (1) Logistic users towards K = 1e6.
    u0 = 1e5
    u1 = u0 * math.exp(0.1 * (1 - u0 / 1e6))
    u2 = u1 * math.exp(0.1 * (1 - u1 / 1e6))
    u3 = u2 * math.exp(0.1 * (1 - u2 / 1e6))
    # (2)-(4) 0.8 U free users x 1 query + 0.2 U paid x 5 = 1.8 U queries a day, 1000 x 1.1^t
    # tokens each; (5) API volume stays 1e9 tokens a month.
    c0 = 1.8 * u0 * DAYS * 1000
    c1 = 1.8 * u1 * DAYS * 1000 * 1.1
    c2 = 1.8 * u2 * DAYS * 1000 * 1.1**2
    c3 = 1.8 * u3 * DAYS * 1000 * 1.1**3
    api = 1e9
    # (6)-(7) 0.2 U paid x $20, plus 1e9 tokens at $10 x 0.9^t per 1e6; 10% to the partner.
    r1 = 0.2 * u1 * 20 + api * 10 * 0.9 / 1e6
    r2 = 0.2 * u2 * 20 + api * 10 * 0.9**2 / 1e6
    r3 = 0.2 * u3 * 20 + api * 10 * 0.9**3 / 1e6
    # (8)-(10) 1000 tokens/s per GPU at 50% utilisation; 730 hours a month.
    h0 = (c0 + api) / 3.6e6 / 0.5
    h1 = (c1 + api) / 3.6e6 / 0.5
    h2 = (c2 + api) / 3.6e6 / 0.5
    h3 = (c3 + api) / 3.6e6 / 0.5
    g0, g1, g2, g3 = h0 / 730, h1 / 730, h2 / 730, h3 / 730
    # (11)-(12) Half rented at $2 x 0.98^t an hour, 25% off in months 1 and 2 only.
    rc1 = 0.5 * h1 * 2 * 0.98 * 0.75
    rc2 = 0.5 * h2 * 2 * 0.98**2 * 0.75
    rc3 = 0.5 * h3 * 2 * 0.98**3
    # (13) Half owned. Demand outgrows retirement, so the fleet is the need every month.
    n0, n1, n2, n3 = 0.5 * g0, 0.5 * g1, 0.5 * g2, 0.5 * g3
    assert n1 > n0 * 23 / 24 and n2 > n1 * 23 / 24 and n3 > n2 * 23 / 24
    cx1 = (n1 - n0 * 23 / 24) * 20000 * 0.98
    cx2 = (n2 - n1 * 23 / 24) * 20000 * 0.98**2
    cx3 = (n3 - n2 * 23 / 24) * 20000 * 0.98**3
    bv0 = n0 * 20000
    d1 = bv0 / 24
    bv1 = bv0 - d1 + cx1
    d2 = bv1 / 24
    bv2 = bv1 - d2 + cx2
    d3 = bv2 / 24
    # (14) The log price moves half way to log 0.2 each month: 0.1 x 2^(1/2, 3/4, 7/8).
    en1 = n1 * 730 * 1.0 * 1.2 * 0.1 * 2**0.5
    en2 = n2 * 730 * 1.0 * 1.2 * 0.1 * 2**0.75
    en3 = n3 * 730 * 1.0 * 1.2 * 0.1 * 2**0.875
    oc1, oc2, oc3 = n1 * 730 * 0.3, n2 * 730 * 0.3, n3 * 730 * 0.3
    # (15) Opex flat, training +2% a month.
    fo = 3.6e5
    tr1, tr2, tr3 = 5e4 * 1.02, 5e4 * 1.02**2, 5e4 * 1.02**3
    # (16)-(17)
    cc1 = rc1 + d1 + en1 + oc1
    cc2 = rc2 + d2 + en2 + oc2
    cc3 = rc3 + d3 + en3 + oc3
    op1 = 0.9 * r1 - cc1 - fo - tr1
    op2 = 0.9 * r2 - cc2 - fo - tr2
    op3 = 0.9 * r3 - cc3 - fo - tr3
    cf1 = 0.9 * r1 - rc1 - en1 - oc1 - cx1 - fo - tr1
    cf2 = 0.9 * r2 - rc2 - en2 - oc2 - cx2 - fo - tr2
    cf3 = 0.9 * r3 - rc3 - en3 - oc3 - cx3 - fo - tr3
    cash1 = 1e6 + cf1
    cash2 = cash1 + cf2
    cash3 = cash2 + cf3

    _check(monthly[M["users"]], [u1, u2, u3])
    _check(monthly[M["revenue"]], [r1, r2, r3])
    _check(monthly[M["gpus"]], [g1, g2, g3])
    _check(monthly[M["inference_cost"]], [cc1, cc2, cc3])
    _check(
        monthly[M["gross_margin"]],
        [(0.9 * r1 - cc1) / r1, (0.9 * r2 - cc2) / r2, (0.9 * r3 - cc3) / r3],
    )
    _check(monthly[M["operating_profit"]], [op1, op2, op3])
    _check(monthly[M["cash_flow"]], [cf1, cf2, cf3])
    _check(monthly[M["cash"]], [cash1, cash2, cash3])
    _check(
        monthly[M["cost_per_mtok"]],
        [1e6 * cc1 / (c1 + api), 1e6 * cc2 / (c2 + api), 1e6 * cc3 / (c3 + api)],
    )
    # The scenario was chosen to dip below the initial cash and recover.
    assert op1 < 0 < op2 and cash1 < cash2 < 1e6 < cash3
    _check(per_path[P["npv"]], cf1 / 1.1 ** (1 / 12) + cf2 / 1.1 ** (2 / 12) + cf3 / 1.1**0.25)
    _check(per_path[P["cumulative_operating_profit"]], op1 + op2 + op3)
    _check(per_path[P["terminal_cash"]], cash3)
    _check(per_path[P["min_cash"]], cash1)
    _check(per_path[P["terminal_arr"]], 12 * r3)
    assert per_path[P["first_profit_month"]] == 2.0
    assert per_path[P["payback_month"]] == 3.0
    assert per_path[P["ruin_month"]] == NEVER_3


def test_rented_fleet_without_revenue_goes_bankrupt_by_hand():
    # Only free users, no API: no revenue at all, so the gross margin is the floor.
    values = dict(
        BASE,
        users_0=1000.0,
        paid_share=0.0,
        queries_per_free_user_day=10.0,
        api_tokens_0=0.0,
        initial_cash=1.5e5,
        discount_rate=0.2,
    )
    got = _simulate(values, 3)
    monthly, per_path = got["monthly"][0], got["per_path"][0]
    tokens = 1000 * 10 * DAYS * 1000  # users x queries a day x days x tokens per query
    hours = tokens / 3.6e6 / 0.5
    rc = hours * 2.0  # all rented at $2 an hour; no owned fleet, so nothing else
    cf = -rc - 1e5
    cash1, cash2, cash3 = 1.5e5 + cf, 1.5e5 + 2 * cf, 1.5e5 + 3 * cf

    _check(monthly[M["users"]], [1000.0] * 3)
    np.testing.assert_array_equal(monthly[M["revenue"]], 0.0)
    _check(monthly[M["gpus"]], [hours / 730] * 3)
    _check(monthly[M["inference_cost"]], [rc] * 3)
    np.testing.assert_array_equal(monthly[M["gross_margin"]], GROSS_MARGIN_FLOOR)
    _check(monthly[M["operating_profit"]], [cf] * 3)
    _check(monthly[M["cash"]], [cash1, cash2, cash3])
    _check(monthly[M["cost_per_mtok"]], [1e6 * rc / tokens] * 3)
    assert cash1 > 0 > cash2
    _check(per_path[P["npv"]], cf * (1.2 ** (-1 / 12) + 1.2 ** (-2 / 12) + 1.2**-0.25))
    _check(per_path[P["min_cash"]], cash3)
    assert per_path[P["terminal_arr"]] == 0.0
    assert per_path[P["first_profit_month"]] == NEVER_3
    assert per_path[P["payback_month"]] == NEVER_3
    assert per_path[P["ruin_month"]] == 2.0


def test_profitable_from_the_first_month_by_hand():
    got = _simulate(dict(BASE, discount_months=math.inf, compute_discount=0.5), 3)
    monthly, per_path = got["monthly"][0], got["per_path"][0]
    revenue = 0.2 * 1e5 * 20 + 1e9 * 10 / 1e6
    tokens = 1.8 * 1e5 * DAYS * 1000 + 1e9
    rc = tokens / 3.6e6 / 0.5 * 2.0 * 0.5  # half price for ever (discount_months = inf)
    cf = revenue - rc - 1e5
    _check(monthly[M["revenue"]], [revenue] * 3)
    _check(monthly[M["inference_cost"]], [rc] * 3)
    _check(monthly[M["gross_margin"]], [(revenue - rc) / revenue] * 3)
    _check(monthly[M["cash"]], [1e6 + cf, 1e6 + 2 * cf, 1e6 + 3 * cf])
    _check(per_path[P["cumulative_operating_profit"]], 3 * cf)
    _check(per_path[P["min_cash"]], 1e6 + cf)
    assert per_path[P["first_profit_month"]] == 1.0
    assert per_path[P["payback_month"]] == 1.0
    assert per_path[P["ruin_month"]] == NEVER_3


def test_no_tokens_and_no_revenue_give_zero_margin_and_zero_cost_per_token():
    values = dict(BASE, users_0=0.0, api_tokens_0=0.0, rent_share=0.5)
    monthly = _simulate(values, 2)["monthly"][0]
    np.testing.assert_array_equal(monthly[M["inference_cost"]], 0.0)
    np.testing.assert_array_equal(monthly[M["gross_margin"]], 0.0)
    np.testing.assert_array_equal(monthly[M["cost_per_mtok"]], 0.0)
    np.testing.assert_array_equal(monthly[M["gpus"]], 0.0)


def test_gross_margin_is_floored():
    # Revenue of $1e-3 a month against thousands of dollars of compute.
    values = dict(BASE, paid_share=0.0, api_price_0=1e-9)
    margin = _simulate(values, 2)["monthly"][0, M["gross_margin"]]
    np.testing.assert_array_equal(margin, GROSS_MARGIN_FLOOR)


# --- Random streams -----------------------------------------------------------------------


def test_mean_users_follow_the_gbm_mean_with_no_ceiling():
    n, r = 50_000, 0.4
    values = dict(BASE, adoption_rate=r, user_volatility=0.5)
    users = _simulate(values, 36, n_paths=n, chol=SHOCK_CHOL, seed=2024)["monthly"][:, M["users"]]
    for t in (12, 36):
        assert_mean(users[:, t - 1], 1e5 * math.exp(r * t / 12), label=f"users at month {t}")


def test_antithetic_pairs_negate_the_user_shocks():
    r, sigma = 0.3, 0.4
    values = dict(BASE, adoption_rate=r, user_volatility=sigma)
    users = _simulate(values, 24, n_paths=64, chol=SHOCK_CHOL, antithetic=True)["monthly"][
        :, M["users"]
    ]
    log_growth = np.log(users / 1e5)
    months = np.arange(1, 25)
    drift = months * (r - sigma**2 / 2) / 12
    # The shocks of each pair cancel; only twice the deterministic drift is left.
    pair_sums = log_growth[0::2] + log_growth[1::2]
    np.testing.assert_allclose(pair_sums, np.broadcast_to(2 * drift, pair_sums.shape), rtol=1e-12)
    assert np.all(np.abs(log_growth[0::2] - drift) > 0)


def test_antithetic_jump_uniforms_are_complements():
    z, v = monthly_shocks(5, np.arange(10), 3, SHOCK_CHOL, antithetic=True)
    np.testing.assert_array_equal(v[1::2], 1.0 - v[0::2])
    np.testing.assert_array_equal(z[:, 1::2], -z[:, 0::2])


def test_any_subset_of_paths_reproduces_its_rows_bit_for_bit():
    values = dict(
        BASE,
        adoption_rate=0.5,
        user_ceiling=3e5,
        user_volatility=0.3,
        api_volatility=0.2,
        utilization_volatility=0.3,
        hardware_volatility=0.2,
        generation_jump_rate=1.0,
        electricity_volatility=0.3,
        rent_share=0.4,
    )
    whole = _simulate(values, 12, n_paths=40, chol=SHOCK_CHOL, seed=99)
    subset = np.array([3, 17, 18, 39])
    part = simulate_reference(_rows(values, subset.size), SHOCK_CHOL, 12, seed=99, paths=subset)
    np.testing.assert_array_equal(part["monthly"], whole["monthly"][subset])
    np.testing.assert_array_equal(part["per_path"], whole["per_path"][subset])


def _raw_shocks(seed, paths, t):
    """The spec's raw shocks of month t, read straight off the Philox words."""
    normals = ref.block_normals(seed, paths, t, 0)
    words = ref.block_words(seed, paths, t, 1)
    raw = np.column_stack([normals, ref.inverse_normal_cdf(ref.uniform(words[:, 0]))])
    return raw @ SHOCK_CHOL.T, ref.uniform(words[:, 1])


def test_each_process_reads_its_own_shock_of_step_t():
    """Recover z1..z4 and the jumps from the outcomes of a rented fleet, month by month."""
    seed, n, horizon = 31, 8, 4
    sig_u, sig_a, sig_util, sig_h = 0.3, 0.2, 0.25, 0.15
    values = dict(
        BASE,
        user_volatility=sig_u,
        paid_share=0.0,  # revenue is API revenue alone, so it reveals A_t
        api_volatility=sig_a,
        utilization_volatility=sig_util,
        utilization_persistence=0.0,  # x_t = m + sigma z3
        hardware_volatility=sig_h,
        generation_jump_rate=6.0,  # P(jump) = 1/2 a month
    )
    monthly = _simulate(values, horizon, n_paths=n, chol=SHOCK_CHOL, seed=seed)["monthly"]
    users, revenue = monthly[:, M["users"]], monthly[:, M["revenue"]]
    gpus, cost = monthly[:, M["gpus"]], monthly[:, M["inference_cost"]]
    api = revenue * 1e6 / 10.0
    tokens = users * 1.0 * DAYS * 1000.0 + api
    util = tokens / 3.6e6 / (gpus * 730)
    hw_index = cost / (gpus * 730 * 2.0)  # rent_share 1: the cost is H rho_t
    sqrt_dt = math.sqrt(1 / 12)
    prev_users, prev_api, prev_hw = np.full(n, 1e5), np.full(n, 1e9), np.ones(n)
    for t in range(1, horizon + 1):
        z, v = _raw_shocks(seed, np.arange(n), t)
        i = t - 1
        np.testing.assert_allclose(
            np.log(users[:, i] / prev_users),
            -(sig_u**2) / 24 + sig_u * sqrt_dt * z[:, 0],
            rtol=1e-9,
            atol=1e-12,
        )
        np.testing.assert_allclose(
            np.log(api[:, i] / prev_api),
            -(sig_a**2) / 24 + sig_a * sqrt_dt * z[:, 1],
            rtol=1e-9,
            atol=1e-12,
        )
        np.testing.assert_allclose(np.log(util[:, i] / (1 - util[:, i])), sig_util * z[:, 2])
        jumps = np.where(v < 0.5, 0.7, 1.0)
        np.testing.assert_allclose(
            hw_index[:, i] / prev_hw,
            np.exp(-(sig_h**2) / 24 + sig_h * sqrt_dt * z[:, 3]) * jumps,
            rtol=1e-12,
        )
        prev_users, prev_api, prev_hw = users[:, i], api[:, i], hw_index[:, i]


def test_electricity_reads_z5_of_step_t():
    # An owned fleet of constant size (no growth, no retirement), free GPUs, nothing else:
    # the inference cost is the energy bill N 730 kW PUE e_t.
    seed, n, horizon, sigma = 8, 6, 3, 0.4
    values = dict(
        BASE,
        rent_share=0.0,
        gpu_capex_0=0.0,
        gpu_life_years=math.inf,
        other_cost_per_gpu_hour=0.0,
        electricity_reversion=0.0,
        electricity_volatility=sigma,
    )
    got = _simulate(values, horizon, n_paths=n, chol=SHOCK_CHOL, seed=seed)["monthly"]
    fleet = got[:, M["gpus"], 0]
    log_price = np.log(got[:, M["inference_cost"]] / (fleet[:, None] * 730 * 1.0 * 1.2))
    steps = np.column_stack(
        [_raw_shocks(seed, np.arange(n), t)[0][:, 4] for t in range(1, horizon + 1)]
    )
    want = math.log(0.1) + sigma * math.sqrt(1 / 12) * np.cumsum(steps, axis=1)
    np.testing.assert_allclose(log_price, want, rtol=1e-12)


# --- Plumbing -----------------------------------------------------------------------------


def test_run_reference_draws_inputs_then_simulates():
    dists = dict(
        BASE, users_0=md.LogNormal(math.log(1e5), 0.3), subscription_price=md.PERT(10, 20, 40)
    )
    copula = Correlation(["users_0", "subscription_price"], [[1.0, 0.5], [0.5, 1.0]])
    packed = pack_inputs(dists, copula)
    got = run_reference(packed, SHOCK_CHOL, 6, seed=3, paths=20, antithetic=True)
    assert got["inputs"].shape == (20, len(INPUT_NAMES))
    again = simulate_reference(got["inputs"], SHOCK_CHOL, 6, seed=3, paths=20, antithetic=True)
    np.testing.assert_array_equal(got["monthly"], again["monthly"])
    assert got["monthly"].shape == (20, len(MONTHLY_NAMES), 6)
    assert got["per_path"].shape == (20, len(PATH_NAMES))
    assert got["never"] == 7.0


def test_bad_shapes_are_rejected():
    with pytest.raises(ValueError, match="inputs must have shape"):
        simulate_reference(np.zeros((2, 5)), np.eye(5), 3, seed=0, paths=2)
    with pytest.raises(ValueError, match="paths were given"):
        simulate_reference(_rows(BASE, 2), np.eye(5), 3, seed=0, paths=3)
    with pytest.raises(ValueError, match="horizon_months"):
        simulate_reference(_rows(BASE, 2), np.eye(5), 0, seed=0, paths=2)
    with pytest.raises(ValueError, match="INPUT_NAMES"):
        run_reference(pack_inputs({"x": 1.0}), np.eye(5), 3, seed=0, paths=2)
