"""The model of spec v2: its equations as scalar functions, and the CPU lane kernel.

The equations live in five scalar functions, values in and tuples out, with no
arrays and no state of their own:

- :func:`path_constants`: a path's inputs -> its per-path constants (four tuples);
- :func:`initial_state`: month 0 (spec steps 10 and 13 at t = 0);
- :func:`draw_shocks`: month t's five correlated shocks and its three uniforms (the
  generation jump, the round and the tranche);
- :func:`month_step`: one month, spec steps 1-18 with v2's commitments and financing
  -> the new state and eleven outcomes
  (:func:`advance_processes`, the random processes, then :func:`month_accounts`);
- :func:`track`: the per-path trackers (NPV, cumulative profit, event months), and
  :func:`finish`, the per-path outcomes.

Two drivers call them. :func:`run_paths` (here) advances a block of paths month by
month in lanes: a group of :data:`LANES` paths sits in the columns of a small work
array (rows = quantities), and each phase of a month is one loop over the lanes that
loads a row tuple, calls a function and stores the result. Everything those loops
call is inlined by LLVM (``forceinline``), branch-free after LLVM's if-conversion and
free of libm calls (:mod:`kernels.elementary`), so LLVM vectorises the loops: AVX-512
on the development machine (:mod:`kernels.vectorisation` runs each phase alone;
``benchmarks/bench_model.py`` prints its vector instruction counts and
``tests/test_vectorisation.py`` asserts them). The CUDA driver
(:mod:`kernels.cuda_model`) calls the same functions, one thread per path, with the
tuples in registers.

Nothing of size paths x months is ever stored unless asked for: each month's
eleven outcomes go straight into the streaming reductions of
:mod:`kernels.sketch` (quantile sketch counts, exact sums of deviations from
a per-month shift, counts of profitable paths) and into the per-path trackers.
"""

import math

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.core.extending import intrinsic

from .distributions import _hermite_table, inverse_cdf_from_normal
from .elementary import exp, fma, log
from .layout import (
    CONSTANT,
    DAYS_PER_MONTH,
    DT,
    GROSS_MARGIN_FLOOR,
    HOURS_PER_MONTH,
    INPUT_INDEX,
    LOGNORMAL,
    N_INPUTS,
    N_MONTHLY,
    NORMAL,
    TABLE,
)
from .processes import (
    gbm_advance,
    gbm_coefficients,
    log_ou_advance,
    log_ou_coefficients,
    logistic_advance,
    logistic_coefficients,
    logit,
    logit_ar1_step,
)
from .rng import (
    CENTRAL,
    draw_block,
    normal,
    normal_central,
    normal_of_uniform,
    normal_tail,
    uniform,
)
from .sketch import N_BUCKETS, bucket, exact_add
from .target import FASTMATH, device

#: Paths whose partial sums enter the exact accumulators together (by a fixed pairwise
#: tree, :func:`group_sum`); chunks of a run start at multiples of it, so the groups
#: are the same however a run is split. Also the lanes of one work array on the CPU.
LANES = 64
_LANE_BITS = 6
assert LANES == 1 << _LANE_BITS
#: Paths one CPU worker advances month by month together (a multiple of LANES):
#: large enough to reuse one month's sketch rows from cache, small enough that
#: the block's work arrays stay in the L2 cache.
BLOCK = 256
GROUPS = BLOCK // LANES

# Input rows (spec order).
_U0 = INPUT_INDEX["users_0"]
_K = INPUT_INDEX["user_ceiling"]
_R = INPUT_INDEX["adoption_rate"]
_SU = INPUT_INDEX["user_volatility"]
_PAID = INPUT_INDEX["paid_share"]
_SUB = INPUT_INDEX["subscription_price"]
_QF = INPUT_INDEX["queries_per_free_user_day"]
_QP = INPUT_INDEX["queries_per_paid_user_day"]
_TAU0 = INPUT_INDEX["tokens_per_query_0"]
_GTOK = INPUT_INDEX["tokens_per_query_growth"]
_A0 = INPUT_INDEX["api_tokens_0"]
_GA = INPUT_INDEX["api_growth"]
_SA = INPUT_INDEX["api_volatility"]
_PI0 = INPUT_INDEX["api_price_0"]
_DPI = INPUT_INDEX["api_price_decline"]
_RSHARE = INPUT_INDEX["revenue_share"]
_TH0 = INPUT_INDEX["throughput_0"]
_GTH = INPUT_INDEX["throughput_gain"]
_UMEAN = INPUT_INDEX["utilization_mean"]
_PHI = INPUT_INDEX["utilization_persistence"]
_SUTIL = INPUT_INDEX["utilization_volatility"]
_RENT = INPUT_INDEX["rent_share"]
_RHO0 = INPUT_INDEX["gpu_rent_price_0"]
_CAPEX0 = INPUT_INDEX["gpu_capex_0"]
_HDRIFT = INPUT_INDEX["hardware_drift"]
_SH = INPUT_INDEX["hardware_volatility"]
_JRATE = INPUT_INDEX["generation_jump_rate"]
_JSIZE = INPUT_INDEX["generation_jump_size"]
_DISC = INPUT_INDEX["compute_discount"]
_DMONTHS = INPUT_INDEX["discount_months"]
_LIFE = INPUT_INDEX["gpu_life_years"]
_KW = INPUT_INDEX["gpu_power_kw"]
_PUE = INPUT_INDEX["pue"]
_E0 = INPUT_INDEX["electricity_price_0"]
_EMEAN = INPUT_INDEX["electricity_mean"]
_EREV = INPUT_INDEX["electricity_reversion"]
_SE = INPUT_INDEX["electricity_volatility"]
_OTHER = INPUT_INDEX["other_cost_per_gpu_hour"]
_FO0 = INPUT_INDEX["fixed_opex_0"]
_GFO = INPUT_INDEX["opex_growth"]
_TR0 = INPUT_INDEX["training_spend_0"]
_GTR = INPUT_INDEX["training_growth"]
_CASH0 = INPUT_INDEX["initial_cash"]
_RATE = INPUT_INDEX["discount_rate"]
_CSHARE = INPUT_INDEX["commitment_share"]
_VALUATION = INPUT_INDEX["valuation_arr_multiple"]
assert _VALUATION == N_INPUTS - 1

_HALF = N_INPUTS // 2  # inputs travel as two tuples: CPython builds longer tuple displays
assert 2 * _HALF == N_INPUTS  # in a way numba rejects (more than 30 items)
#: Step-0 blocks holding the static-input normals (input i: block i // 4, word i % 4).
N_STATIC_BLOCKS = (N_INPUTS + 3) // 4

# Sizes of the tuples the equations pass around.
N_DEMAND, N_SUPPLY, N_COMPANY, N_FINANCE = 13, 19, 12, 11
N_STATE, N_TRACK, N_SHOCKS, N_NORMALS, N_DRIVERS = 18, 9, 8, 5, 2

# Rows of a lane work array (one group of LANES paths in its columns): the sampled
# inputs (a whole number of step-0 blocks), the month's stressed inputs (also scratch
# while sampling), the per-path constants, state, trackers, the month's shocks and its
# eleven outcomes in MONTHLY_NAMES order, the month's uniforms of its five normals, and
# the two drivers advance_processes computes for month_accounts (the other two are the
# round and tranche uniforms, read from the shock rows).
X = 0
XS = 4 * N_STATIC_BLOCKS
CD = XS + 4 * N_STATIC_BLOCKS
CP = CD + N_DEMAND
CC = CP + N_SUPPLY
CF = CC + N_COMPANY
ST = CF + N_FINANCE
TR = ST + N_STATE
ZS = TR + N_TRACK
OUT = ZS + N_SHOCKS
UN = OUT + N_MONTHLY
DR = UN + N_NORMALS
N_ROWS = DR + N_DRIVERS
#: Length of a work-array row: LANES used, plus one cache line of padding. Rows exactly
#: 512 bytes apart would fall into 8 of the L1 cache's 64 sets, more rows than its ways.
ROW = LANES + 8
_O_REVENUE, _O_OP, _O_CF, _O_CASH, _O_FINANCING = 1, 4, 5, 6, 10
#: The state's cash (after financing).
_S_CASH = 7
#: The state each lane loop of the month step changes (the others pass it through):
#: advance_processes the random processes and trends of the starting levels (users, API
#: tokens, utilisation, hardware index, log electricity price, tokens per query, API
#: price, throughput); month_accounts the fleet, book value, cash, opex and training
#: trends, the committed schedule, the last attempt to raise, rounds and stake.
_PROCESS_ROWS = (0, 1, 2, 3, 4, 8, 9, 10)
_ACCOUNT_ROWS = (5, 6, 7, 11, 12, 13, 15, 16, 17)
assert sorted(_PROCESS_ROWS + _ACCOUNT_ROWS + (14,)) == list(range(N_STATE))  # 14: rho_c
#: The stress multipliers of the starting levels outside a stress.
UNSTRESSED = (1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0)


def _generated(name: str, source: str):
    """The building block ``name`` defined by ``source``, compiled inline."""
    namespace = {"__name__": __name__}
    exec(source, namespace)  # noqa: S102 - generated from sizes and row numbers, nothing else
    return device(namespace[name], inline=True, cache=False)


def _store_rows(name: str, elements):
    """``name(w, g, r, lane, v)``: element i of tuple v into row r + i of column lane of
    w[g], for each i of ``elements`` (the other elements are not stored)."""
    stores = "".join(f"\n    w[g, r + {i}, lane] = v[{i}]" for i in elements)
    return _generated(name, f"def {name}(w, g, r, lane, v):{stores}\n")


def _row_helpers(sizes):
    """``load{n}(w, g, r, lane)``: the tuple of rows r .. r + n - 1 of column lane of w[g];
    ``store{n}(w, g, r, lane, v)`` the reverse. Written out element by element: a tuple
    indexed by a loop variable becomes a switch, which stops LLVM's vectoriser."""
    helpers = {}
    for n in sizes:
        loads = ", ".join(f"w[g, r + {i}, lane]" for i in range(n))
        source = f"def load{n}(w, g, r, lane):\n    return ({loads},)\n"
        helpers[f"load{n}"] = _generated(f"load{n}", source)
        helpers[f"store{n}"] = _store_rows(f"store{n}", range(n))
    return helpers


_rows = _row_helpers(sorted({_HALF, N_DEMAND, N_SUPPLY, N_COMPANY, N_FINANCE, N_STATE,
                             N_TRACK, N_SHOCKS, N_NORMALS, N_MONTHLY}))  # fmt: skip
load_inputs = _rows[f"load{_HALF}"]  # a half of the inputs
load_demand, store_demand = _rows[f"load{N_DEMAND}"], _rows[f"store{N_DEMAND}"]
load_supply, store_supply = _rows[f"load{N_SUPPLY}"], _rows[f"store{N_SUPPLY}"]
load_company, store_company = _rows[f"load{N_COMPANY}"], _rows[f"store{N_COMPANY}"]
load_finance, store_finance = _rows[f"load{N_FINANCE}"], _rows[f"store{N_FINANCE}"]
load_state, store_state = _rows[f"load{N_STATE}"], _rows[f"store{N_STATE}"]
load_track, store_track = _rows[f"load{N_TRACK}"], _rows[f"store{N_TRACK}"]
load_shocks, store_shocks = _rows[f"load{N_SHOCKS}"], _rows[f"store{N_SHOCKS}"]
load5, store5 = _rows[f"load{N_NORMALS}"], _rows[f"store{N_NORMALS}"]
store_outcomes = _rows[f"store{N_MONTHLY}"]
#: The state rows each lane loop of the month step changes (_PROCESS_ROWS, _ACCOUNT_ROWS).
store_processes = _store_rows("store_processes", _PROCESS_ROWS)
store_accounts = _store_rows("store_accounts", _ACCOUNT_ROWS)


@device(inline=True)
def path_constants(a, b, levels):
    """The per-path constants of inputs ``a`` (the first half, spec order) and ``b``
    (the second), with the stress multipliers ``levels`` of the quantities the starting
    levels begin (layout.LEVEL_INPUTS; all 1.0 outside a stress).

    Returns (demand, supply, company, finance): every constant a month needs, hoisted,
    e.g. the monthly factors exp(g dt) that advance the deterministic trends."""
    (_, ceiling, rate, su, paid, sub, qf, qp, _, gtok, _, ga, sa, _, dpi, rshare,
     _, gth, umean, phi, sutil, rent, rho0, capex0, hdrift, sh, jrate, jsize) = a  # fmt: skip
    (disc, dmonths, life, kw, pue, _, emean, erev, se, other, _, gfo, _, gtr, cash0, drate,
     cshare, cgrowth, cmonths, _, tranche, tranche_month, tranche_p, trigger, success_p,
     raise_multiple, cooldown, valuation_multiple) = b  # fmt: skip
    l_users, l_tau, l_api, l_price, l_th, l_elec, l_opex, l_tr = levels
    users_a, inverse_ceiling, users_b, users_sigma = logistic_coefficients(rate, ceiling, su, DT)
    api_mu, api_sigma = gbm_coefficients(ga, sa, DT)
    hw_mu, hw_sigma = gbm_coefficients(hdrift, sh, DT)
    elec_a, elec_sigma = log_ou_coefficients(erev, se, DT)
    demand = (users_a, inverse_ceiling, users_b, users_sigma, paid, sub, qf * DAYS_PER_MONTH,
              qp * DAYS_PER_MONTH, exp(gtok * DT), api_mu, api_sigma, exp(-dpi * DT), rshare)
    supply = (
        exp(gth * DT), logit(umean), phi, sutil, rent, rho0, capex0, hw_mu, hw_sigma,
        jrate * DT, 1.0 - jsize, disc, dmonths, 1.0 / (12.0 * life),
        HOURS_PER_MONTH * kw * pue, log(emean), elec_a, elec_sigma, HOURS_PER_MONTH * other,
    )  # fmt: skip
    # The NPV's monthly factor (1 + rate)^(-1/12), by exp and log so that it vectorises.
    company = (exp(gfo * DT), exp(gtr * DT), cash0, exp(-log(1.0 + drate) / 12.0),
               l_users, l_tau, l_api, l_price, l_th, l_elec, l_opex, l_tr)  # fmt: skip
    # v2: the committed schedule's share and monthly growth, its term; the tranche; the
    # rounds' trigger, odds, size (x 12 R_t) and cooldown, and the stake holders keep.
    finance = (cshare, exp(cgrowth * DT), cmonths, tranche, tranche_month, tranche_p, trigger,
               success_p, 12.0 * raise_multiple, cooldown,
               1.0 - raise_multiple / valuation_multiple)  # fmt: skip
    return demand, supply, company, finance


@device(inline=True)
def initial_state(a, b, supply):
    """Month 0 of a path (spec steps 10 and 13 at t = 0): (state, trackers)."""
    (users, _, _, _, paid_share, _, qf, qp, tau0, _, api0, _, _, price0, _, _,
     throughput0, _, u_mean, _, _, rent, rho0, capex0, _, _, _, _) = a  # fmt: skip
    (_, _, _, _, _, electricity0, _, _, _, _, opex0, _, training0, _, cash0, _,
     _, _, _, commitment_discount, _, _, _, _, _, _, _, _) = b  # fmt: skip
    paid = paid_share * users
    consumer = ((users - paid) * qf + paid * qp) * DAYS_PER_MONTH
    tokens = consumer * tau0 + api0
    gpus_0 = tokens / (3600.0 * throughput0) / u_mean / HOURS_PER_MONTH
    fleet = (1.0 - rent) * gpus_0
    # v2 state: the committed schedule before its share (H_0, grown from month 2), the
    # committed price (fixed at signing: it follows neither the index nor a stress), the
    # month of the last attempt to raise (none: -inf), rounds raised, stake retained.
    state = (users, api0, supply[1], 1.0, log(electricity0), fleet, fleet * capex0, cash0,
             tau0, price0, throughput0, opex0, training0,
             gpus_0 * HOURS_PER_MONTH, rho0 * (1.0 - commitment_discount), -math.inf, 0.0, 1.0)  # fmt: skip
    # Trackers: discount factor, NPV, cumulative operating profit, minimum cash, first
    # profitable month, last month below the starting cash, ruin month, the cash before
    # financing (initial_cash + sum of CF) and the capital raised.
    trackers = (1.0, 0.0, 0.0, math.inf, 0.0, 0.0, 0.0, cash0, 0.0)
    return state, trackers


@device(inline=True)
def shock_uniforms(k0, k1, path, t, antithetic):
    """Month t's eight uniforms (spec: Random streams): five for the normals, then the
    jump uniform v, the round uniform v_r and the tranche uniform v_tr (block 1, words
    1-3)."""
    w0, w1, w2, w3 = draw_block(k0, k1, path, t, 0, antithetic)
    v0, v1, v2, v3 = draw_block(k0, k1, path, t, 1, antithetic)
    return (uniform(w0), uniform(w1), uniform(w2), uniform(w3), uniform(v0), uniform(v1),
            uniform(v2), uniform(v3))  # fmt: skip


@device(inline=True)
def correlate(chol, r0, r1, r2, r3, r4):
    """Five independent standard normals times the lower Cholesky factor ``chol`` of
    shock_correlation (row by row): the month's five correlated shocks."""
    c00, c10, c11, c20, c21, c22, c30, c31, c32, c33, c40, c41, c42, c43, c44 = chol
    return (
        c00 * r0,
        c10 * r0 + c11 * r1,
        c20 * r0 + c21 * r1 + c22 * r2,
        c30 * r0 + c31 * r1 + c32 * r2 + c33 * r3,
        c40 * r0 + c41 * r1 + c42 * r2 + c43 * r3 + c44 * r4,
    )


@device(inline=True)
def draw_shocks(k0, k1, path, t, antithetic, chol):
    """Month t's five correlated shocks and its jump, round and tranche uniforms (spec:
    Random streams); ``chol`` is the lower Cholesky factor of shock_correlation, row by
    row."""
    u0, u1, u2, u3, u4, v, v_round, v_tranche = shock_uniforms(k0, k1, path, t, antithetic)
    z0, z1, z2, z3, z4 = correlate(
        chol, normal_of_uniform(u0), normal_of_uniform(u1), normal_of_uniform(u2),
        normal_of_uniform(u3), normal_of_uniform(u4),
    )  # fmt: skip
    return z0, z1, z2, z3, z4, v, v_round, v_tranche


@device(inline=True)
def advance_processes(demand, supply, state, shocks):
    """A month's random processes and the trends of its starting levels (spec steps 1, 3,
    5, 6, 8, 9, 11 and 14) from its shocks: (the state with each of them advanced, the
    others as they were; the drivers), the drivers being what the accounts take of
    utilisation (1 + exp(-x) = 1 / util), of the electricity price (exp(y), before its
    stress level) and of the shocks (the round and tranche uniforms)."""
    (users_a, inverse_ceiling, users_b, users_sigma, _, _, _, _, tau_g, api_mu, api_sigma,
     price_g, _) = demand  # fmt: skip
    (th_g, m, phi, sutil, _, _, _, hw_mu, hw_sigma, jump_threshold, jump_factor, _, _, _, _,
     log_emean, elec_a, elec_sigma, _) = supply  # fmt: skip
    (users_state, api_state, x, hw, y, fleet, book, cash, tau_trend, price_trend,
     throughput_trend, opex_trend, training_trend, committed, rho_c, last_attempt, rounds,
     ownership) = state  # fmt: skip
    z_users, z_api, z_util, z_hw, z_elec, v, v_round, v_tranche = shocks
    # The per-path coefficients come from path_constants (dt = DT). The states and
    # trends run unstressed; month_accounts applies the stress levels.
    # 1. Users: logistic growth with lognormal noise.
    users_state = logistic_advance(users_state, users_a, inverse_ceiling, users_b, users_sigma,
                                   z_users)  # fmt: skip
    # 3, 5, 6. Tokens per query; API tokens (GBM); list price.
    tau_trend = tau_trend * tau_g
    api_state = gbm_advance(api_state, api_mu, api_sigma, z_api)
    price_trend = price_trend * price_g
    # 8-9. Throughput; utilisation, an AR(1) in logit space: util = 1 / (1 + exp(-x)).
    throughput_trend = throughput_trend * th_g
    x = logit_ar1_step(x, m, phi, sutil, z_util)
    # 11. Hardware price index: GBM with Bernoulli generation jumps (factor 1 - size).
    hw = gbm_advance(hw, hw_mu, hw_sigma, z_hw) * (jump_factor if v < jump_threshold else 1.0)
    # 14. Electricity, mean-reverting in logs.
    y = log_ou_advance(y, elec_a, log_emean, elec_sigma, z_elec)
    state = (users_state, api_state, x, hw, y, fleet, book, cash, tau_trend, price_trend,
             throughput_trend, opex_trend, training_trend, committed, rho_c, last_attempt,
             rounds, ownership)  # fmt: skip
    return state, (1.0 + exp(-x), exp(y), v_round, v_tranche)


@device(inline=True)
def month_accounts(t, demand, supply, company, finance, state, drivers):
    """A month's quantities, costs, cash and financing (spec steps 2, 4, 7, 10, 12-18 and
    v2's steps 12 and 17) on a ``state`` whose processes :func:`advance_processes` has
    advanced (``drivers``: its second result): (the new state, the eleven outcomes of
    month t)."""
    (_, _, _, _, paid_share, subscription, qf, qp, _, _, _, _, rshare) = demand
    (_, _, _, _, rent_share, rho0, capex0, _, _, _, _, disc, dmonths, q, energy_factor, _, _, _,
     other_factor) = supply  # fmt: skip
    opex_g, tr_g, _, _, l_users, l_tau, l_api, l_price, l_th, l_elec, l_opex, l_tr = company
    (commitment_share, commitment_g, commitment_months, tranche, tranche_month, tranche_p,
     trigger, success_p, round_factor, cooldown, kept) = finance  # fmt: skip
    (users_state, api_state, x, hw, y, fleet, book, cash, tau_trend, price_trend,
     throughput_trend, opex_trend, training_trend, committed, rho_c, last_attempt, rounds,
     ownership) = state  # fmt: skip
    inverse_util, electricity, v_round, v_tranche = drivers
    month = np.float64(t)
    # A stressed starting level scales the month's quantity by its level multiplier
    # (1.0 otherwise); the queries per user per month (qf, qp) include DAYS_PER_MONTH.
    # 2. Paid and free users.
    users = users_state * l_users
    paid = paid_share * users
    free = users - paid
    # 4. Consumer tokens.
    tau = tau_trend * l_tau
    consumer = fma(free, qf, paid * qp) * tau
    # 7. Revenue and partner share.
    api = api_state * l_api
    price = price_trend * l_price
    revenue = fma(paid, subscription, api * price * 1e-6)
    partner = rshare * revenue
    # 10. GPU-hours and GPUs: hours = busy / util.
    throughput = throughput_trend * l_th
    tokens = consumer + api
    busy = tokens / (3600.0 * throughput)
    hours = busy * inverse_util
    gpus = hours * (1.0 / HOURS_PER_MONTH)
    # 12 (v2). Committed hours (the schedule grows from month 2 on) are paid at the
    # committed price whether used or not; the rented need beyond them is bought on
    # demand at the index's price, with the partner discount. With no commitment this is
    # v1's rent_share H_t rho_t (1 - d_t), bit for bit.
    committed = committed * commitment_g if t > 1 else committed
    hired = commitment_share * committed if month <= commitment_months else 0.0
    need = rent_share * hours
    discount = disc if t <= dmonths else 0.0
    rented = max(need - hired, 0.0) * rho0 * hw * (1.0 - discount) + hired * rho_c
    idle = max(hired - need, 0.0) * rho_c
    # 13. Owned fleet: retire, buy what the need exceeds, depreciate straight-line by rate q.
    kept_fleet = fleet * (1.0 - q)
    fleet = max(kept_fleet, (1.0 - rent_share) * gpus)
    capex = (fleet - kept_fleet) * capex0 * hw
    depreciation = q * book
    book = book - depreciation + capex
    # 14. Energy and other owned-fleet costs.
    energy = fleet * energy_factor * (electricity * l_elec)
    other = fleet * other_factor
    # 15. Company costs.
    opex_trend = opex_trend * opex_g
    opex = opex_trend * l_opex
    training_trend = training_trend * tr_g
    training = training_trend * l_tr
    # 16-17. Profit and cash.
    compute = rented + depreciation + energy + other
    gross = revenue - partner - compute
    operating = gross - opex - training
    cash_flow = revenue - partner - rented - energy - other - capex - opex - training
    cash = cash + cash_flow
    # 17 (v2). Financing: the tranche in its month (a fractional tranche_month means the
    # month it falls in), then a round when the cash after the tranche covers less than
    # `trigger` months of this month's burn and the cooldown since the last attempt has
    # passed. A successful attempt that would raise nothing (no revenue) is no round.
    arrived = (month - 1.0 < tranche_month) & (tranche_month <= month) & (v_tranche < tranche_p)
    tranche_in = tranche if arrived else 0.0
    attempt = (trigger > 0.0) & (cash_flow < 0.0) & (cash + tranche_in < trigger * -cash_flow)
    attempt = attempt & (month - last_attempt >= cooldown)
    raised = round_factor * revenue
    success = attempt & (v_round < success_p) & (raised > 0.0)
    last_attempt = month if attempt else last_attempt
    rounds = rounds + 1.0 if success else rounds
    ownership = ownership * kept if success else ownership
    financing = tranche_in + (raised if success else 0.0)
    cash = cash + financing
    # 18. Derived ratios, kept finite.
    margin = max(gross / revenue, GROSS_MARGIN_FLOOR) if revenue > 0.0 else (
        GROSS_MARGIN_FLOOR if gross < 0.0 else 0.0)  # fmt: skip
    cost_per_mtok = 1e6 * compute / tokens if tokens > 0.0 else 0.0
    state = (users_state, api_state, x, hw, y, fleet, book, cash, tau_trend, price_trend,
             throughput_trend, opex_trend, training_trend, committed, rho_c, last_attempt,
             rounds, ownership)  # fmt: skip
    outcomes = (users, revenue, compute, margin, operating, cash_flow, cash, gpus,
                cost_per_mtok, idle, financing)  # fmt: skip
    return state, outcomes


@device(inline=True)
def month_step(t, demand, supply, company, finance, state, shocks):
    """Advance one path from month t - 1 to t: (new state, the eleven outcomes of month t).

    Spec v2, "Monthly dynamics", steps 1-18 with v2's steps 12 and 17: the random
    processes (:func:`advance_processes`, the steps of :mod:`kernels.processes`), then
    the month's accounts (:func:`month_accounts`). The CPU lane kernel runs the two as
    separate loops, each short enough for the processor to overlap its iterations.
    """
    state, drivers = advance_processes(demand, supply, state, shocks)
    return month_accounts(t, demand, supply, company, finance, state, drivers)


@device(inline=True)
def track(t, company, trackers, outcomes):
    """The per-path trackers after month t: (discount factor, NPV, cumulative operating
    profit, minimum cash, first profitable month, last month the cash before financing
    was below the starting cash, ruin month, the cash before financing, capital raised),
    months 0 until they happen."""
    cash0 = company[2]
    (discount, npv, cum_op, min_cash, first_profit, last_below, ruin, operating_cash,
     capital) = trackers  # fmt: skip
    operating = outcomes[_O_OP]
    cash_flow = outcomes[_O_CF]
    cash = outcomes[_O_CASH]
    month = np.float64(t)
    discount = discount * company[3]
    npv = npv + cash_flow * discount
    cum_op = cum_op + operating
    min_cash = min(min_cash, cash)
    first_profit = month if (first_profit == 0.0) & (operating > 0.0) else first_profit
    # Payback is the business's own break-even: initial_cash + sum of CF, financing left
    # out (with no financing it is the cash itself, as in v1).
    operating_cash = operating_cash + cash_flow
    last_below = month if operating_cash < cash0 else last_below
    ruin = month if (ruin == 0.0) & (cash < 0.0) else ruin
    capital = capital + outcomes[_O_FINANCING]
    return (discount, npv, cum_op, min_cash, first_profit, last_below, ruin, operating_cash,
            capital)  # fmt: skip


@device(inline=True)
def finish(horizon, company, state, revenue, trackers):
    """Per-path outcomes in PATH_NAMES order from the last month's state and revenue;
    months that never come are horizon + 1."""
    never = horizon + 1.0
    _, npv, cum_op, min_cash, first_profit, last_below, ruin, operating_cash, capital = trackers
    return (
        npv,
        cum_op,
        state[_S_CASH],
        min_cash,
        12.0 * revenue,
        first_profit if first_profit > 0.0 else never,
        last_below + 1.0 if operating_cash >= company[2] else never,
        ruin if ruin > 0.0 else never,
        capital,
        state[16],
        state[17],
        max(-min_cash, 0.0),
    )


@device(inline=True)
def stress_levels(stress_mul, t):
    """Month t's multipliers of the quantities the starting levels begin."""
    return (
        stress_mul[t, _U0], stress_mul[t, _TAU0], stress_mul[t, _A0], stress_mul[t, _PI0],
        stress_mul[t, _TH0], stress_mul[t, _E0], stress_mul[t, _FO0], stress_mul[t, _TR0],
    )  # fmt: skip


@device(inline=True)
def cholesky_rows(c):
    """The lower triangle of a 5 x 5 Cholesky factor, row by row (draw_shocks' chol)."""
    return (
        c[0, 0], c[1, 0], c[1, 1], c[2, 0], c[2, 1], c[2, 2], c[3, 0], c[3, 1], c[3, 2],
        c[3, 3], c[4, 0], c[4, 1], c[4, 2], c[4, 3], c[4, 4],
    )  # fmt: skip


@device(inline=True)
def group_sum(buf, row, part):
    """The sum of ``buf[row, :LANES]`` (LANES = 64) in one fixed order: eight partial
    sums, part[j] of the lanes j, j + 8, ..., j + 56 by a pairwise tree, then a pairwise
    tree over the eight. Both drivers sum a group's deviations this way before the exact
    accumulators take them: the order is fixed (so results are reproducible) and the
    CPU lane kernel computes the same tree with vector instructions (:func:`lane_sum`).
    ``part`` is scratch of eight."""
    for j in range(8):
        part[j] = (
            ((buf[row, j] + buf[row, j + 32]) + (buf[row, j + 16] + buf[row, j + 48]))
            + ((buf[row, j + 8] + buf[row, j + 40]) + (buf[row, j + 24] + buf[row, j + 56]))
        )
    return ((part[0] + part[4]) + (part[2] + part[6])) + ((part[1] + part[5]) + (part[3] + part[7]))


@intrinsic
def lane_sum(typingctx, buf, row):
    """:func:`group_sum` of ``buf[row]`` (a C-contiguous float64 array of LANES columns)
    in the same order, written as vector operations for the CPU lane kernel: the eight
    partial sums are one tree of adds on <8 x double> rows, then halves are added down
    to one. LLVM's SLP vectoriser leaves group_sum's 63 additions scalar (about 30 cycles
    a sum); these are 10 vector additions. tests/test_vectorisation.py checks the two
    agree bit for bit."""
    if not (
        isinstance(buf, types.Array) and buf.ndim == 2 and buf.dtype == types.float64
        and buf.layout == "C" and isinstance(row, types.Integer)
    ):  # fmt: skip
        return None

    def codegen(context, builder, signature, args):
        array = context.make_array(signature.args[0])(context, builder, args[0])
        row = context.cast(builder, args[1], signature.args[1], types.intp)
        start = builder.gep(array.data, [builder.mul(row, builder.extract_value(array.shape, 1))])
        vectors = builder.bitcast(start, ir.VectorType(ir.DoubleType(), 8).as_pointer())
        v = [builder.load(builder.gep(vectors, [ir.Constant(ir.IntType(64), k)]), align=8)
             for k in range(8)]  # fmt: skip
        add = builder.fadd
        # part[j] = ((b[j] + b[j+32]) + (b[j+16] + b[j+48])) + ((b[j+8] + b[j+40]) + ...)
        part = add(add(add(v[0], v[4]), add(v[2], v[6])), add(add(v[1], v[5]), add(v[3], v[7])))

        def lanes(x, which):
            mask = ir.Constant(ir.VectorType(ir.IntType(32), len(which)), which)
            return builder.shuffle_vector(x, x, mask)

        quad = add(lanes(part, [0, 1, 2, 3]), lanes(part, [4, 5, 6, 7]))  # p0 + p4, ...
        pair = add(lanes(quad, [0, 1]), lanes(quad, [2, 3]))
        first, second = (builder.extract_element(pair, ir.Constant(ir.IntType(32), k))
                         for k in (0, 1))  # fmt: skip
        return add(first, second)

    return types.float64(buf, row), codegen


assert LANES == 64  # lane_sum's eight vectors of eight


@device(inline=True)
def store_path(per_path, row, result):
    """One path's outcomes (a PATH_NAMES tuple) into row ``row``."""
    per_path[row, 0] = result[0]
    per_path[row, 1] = result[1]
    per_path[row, 2] = result[2]
    per_path[row, 3] = result[3]
    per_path[row, 4] = result[4]
    per_path[row, 5] = result[5]
    per_path[row, 6] = result[6]
    per_path[row, 7] = result[7]
    per_path[row, 8] = result[8]
    per_path[row, 9] = result[9]
    per_path[row, 10] = result[10]
    per_path[row, 11] = result[11]


# --- the CPU lane driver --------------------------------------------------------------


@intrinsic
def _cttz(typingctx, x):
    if x != types.uint64:
        return None

    def codegen(context, builder, signature, args):
        return builder.cttz(args[0], ir.Constant(ir.IntType(1), 1))

    return types.uint64(types.uint64), codegen


@numba.njit(forceinline=True, cache=False)
def _trailing_zeros(x):
    """The number of trailing zero bits of a non-zero uint64 (one tzcnt), as an int64."""
    return np.int64(_cttz(x))


_lane_block = numba.njit(forceinline=True, error_model="numpy", fastmath=FASTMATH)


@_lane_block
def drawn_blocks(kinds, corr_index):
    """Which step-0 blocks a run draws: those holding the normal of an input that is not
    a constant, or that the copula mixes into others."""
    drawn = np.zeros(N_STATIC_BLOCKS, dtype=np.bool_)
    for i in range(N_INPUTS):
        if kinds[i] != CONSTANT:
            drawn[i // 4] = True
    for k in range(corr_index.shape[0]):
        drawn[corr_index[k] // 4] = True
    return drawn


@_lane_block
def _sample_group(k0, k1, base, lanes, antithetic, kinds, params, data, corr_index, chol,
                  drawn, w, g):  # fmt: skip
    """Static inputs of paths base .. base + lanes - 1 into rows X.. of w[g]: the
    arithmetic of :func:`kernels.distributions.sample_static_inputs_into`, loop by loop
    over the lanes, and only for the step-0 blocks ``drawn`` marks."""
    for b in range(N_STATIC_BLOCKS):
        if drawn[b]:
            r = X + 4 * b
            for lane in range(lanes):  # lane loop: static normals
                w0, w1, w2, w3 = draw_block(k0, k1, base + lane, 0, b, antithetic)
                w[g, r, lane] = normal(w0)
                w[g, r + 1, lane] = normal(w1)
                w[g, r + 2, lane] = normal(w2)
                w[g, r + 3, lane] = normal(w3)
    # The copula (kernels.distributions.correlate_in_place), row XS as the accumulator.
    m = corr_index.shape[0]
    for j in range(m - 1, -1, -1):
        for lane in range(lanes):
            w[g, XS, lane] = 0.0
        for k in range(j + 1):
            c = chol[j, k]
            r = X + corr_index[k]
            for lane in range(lanes):
                w[g, XS, lane] += c * w[g, r, lane]
        r = X + corr_index[j]
        for lane in range(lanes):
            w[g, r, lane] = w[g, XS, lane]
    for i in range(N_INPUTS):
        kind = kinds[i]
        p0, p1, p2, p3 = params[i, 0], params[i, 1], params[i, 2], params[i, 3]
        r = X + i
        if kind == CONSTANT:
            for lane in range(lanes):
                w[g, r, lane] = p0
        elif kind == NORMAL:
            for lane in range(lanes):
                w[g, r, lane] = p0 + p1 * w[g, r, lane]
        elif kind == LOGNORMAL:
            for lane in range(lanes):
                w[g, r, lane] = exp(p0 + p1 * w[g, r, lane])
        elif kind == TABLE:
            offset = np.int64(p2)
            n = np.int64(p3)
            for lane in range(lanes):  # lane loop: tabulated inverse CDFs
                w[g, r, lane] = _hermite_table(w[g, r, lane], p0, p1, data, offset, n)
        else:
            for lane in range(lanes):
                w[g, r, lane] = inverse_cdf_from_normal(kind, p0, p1, p2, p3, data, w[g, r, lane])


@_lane_block
def _setup_group(lanes, levels, src, w, g):
    """The per-path constants of the inputs in rows ``src..`` of w[g] (with the stress
    multipliers ``levels``) into its constant rows."""
    for lane in range(lanes):  # lane loop: constants
        demand, supply, company, finance = path_constants(
            load_inputs(w, g, src, lane), load_inputs(w, g, src + _HALF, lane), levels
        )
        store_demand(w, g, CD, lane, demand)
        store_supply(w, g, CP, lane, supply)
        store_company(w, g, CC, lane, company)
        store_finance(w, g, CF, lane, finance)


@_lane_block
def _start_group(lanes, w, g):
    """Month 0 of w[g]'s paths from their inputs and constants."""
    for lane in range(lanes):  # lane loop: month 0
        state, trackers = initial_state(
            load_inputs(w, g, X, lane), load_inputs(w, g, X + _HALF, lane),
            load_supply(w, g, CP, lane),
        )  # fmt: skip
        store_state(w, g, ST, lane, state)
        store_track(w, g, TR, lane, trackers)


@_lane_block
def _shock_group(k0, k1, base, t, lanes, antithetic, chol_rows, w, g, tails, tail_at):
    """Month t's shocks of paths base .. base + lanes - 1 into w[g]: the arithmetic of
    :func:`draw_shocks`, with each normal's near tail computed only where it is needed.

    A vector loop computes every uniform and its central normal; the 15 % of uniforms
    in the tails are then listed in ``tails`` (their places in ``tail_at``, both
    scratch of N_NORMALS * LANES), a second vector loop computes their tail normals,
    and they are put back. Computing both rational functions for every draw and selecting
    one, as :func:`kernels.rng.normal` does, spends most of the phase on tails that
    85 % of draws discard; each normal is the same quotient either way."""
    for lane in range(lanes):  # lane loop: Philox words, uniforms and central normals
        u0, u1, u2, u3, u4, v, v_round, v_tranche = shock_uniforms(k0, k1, base + lane, t,
                                                                   antithetic)  # fmt: skip
        store5(w, g, UN, lane, (u0, u1, u2, u3, u4))
        n0, d0 = normal_central(u0)
        n1, d1 = normal_central(u1)
        n2, d2 = normal_central(u2)
        n3, d3 = normal_central(u3)
        n4, d4 = normal_central(u4)
        store_shocks(w, g, ZS, lane, (n0 / d0, n1 / d1, n2 / d2, n3 / d3, n4 / d4, v, v_round,
                                      v_tranche))  # fmt: skip
    # The tail draws of each normal as the set bits of a 64-bit mask (a vector loop),
    # then listed bit by bit: about 10 of 64 lanes, no unpredictable branch.
    n = 0
    for i in range(N_NORMALS):
        mask = np.uint64(0)
        for lane in range(lanes):
            tail = abs(w[g, UN + i, lane] - 0.5) > CENTRAL
            mask |= np.uint64(tail) << np.uint64(lane)
        while mask != np.uint64(0):
            lane = _trailing_zeros(mask)
            mask &= mask - np.uint64(1)
            tails[n] = w[g, UN + i, lane]
            tail_at[n] = i * LANES + lane
            n += 1
    for k in range(n):  # lane loop: tail normals
        num, den = normal_tail(tails[k])
        tails[k] = num / den
    for k in range(n):
        at = tail_at[k]
        w[g, ZS + (at >> _LANE_BITS), at & (LANES - 1)] = tails[k]
    for lane in range(lanes):  # lane loop: correlation
        store5(w, g, ZS, lane, correlate(chol_rows, *load5(w, g, ZS, lane)))


@_lane_block
def _step_group(t, lanes, w, g):
    """Advance w[g]'s paths to month t: state, trackers and the month's outcomes (the
    processes and the accounts of :func:`month_step` as two lane loops).

    Each loop stores back only the state it changes (:data:`_PROCESS_ROWS`,
    :data:`_ACCOUNT_ROWS`): the rest is returned as it was loaded, and LLVM cannot drop
    those stores itself (it cannot tell that the work array's other rows do not alias
    them). The round and tranche uniforms go from the shock rows straight to the
    accounts."""
    for lane in range(lanes):  # lane loop: processes
        state, drivers = advance_processes(
            load_demand(w, g, CD, lane), load_supply(w, g, CP, lane), load_state(w, g, ST, lane),
            load_shocks(w, g, ZS, lane),
        )  # fmt: skip
        store_processes(w, g, ST, lane, state)
        w[g, DR, lane] = drivers[0]
        w[g, DR + 1, lane] = drivers[1]
    for lane in range(lanes):  # lane loop: accounts
        company = load_company(w, g, CC, lane)
        drivers = (w[g, DR, lane], w[g, DR + 1, lane], w[g, ZS + 6, lane], w[g, ZS + 7, lane])
        state, outcomes = month_accounts(
            t, load_demand(w, g, CD, lane), load_supply(w, g, CP, lane), company,
            load_finance(w, g, CF, lane), load_state(w, g, ST, lane), drivers,
        )  # fmt: skip
        store_accounts(w, g, ST, lane, state)
        store_track(w, g, TR, lane, track(t, company, load_track(w, g, TR, lane), outcomes))
        store_outcomes(w, g, OUT, lane, outcomes)


@_lane_block
def _reduce_group(t, horizon, lanes, shift, w, g, flat, dev, slots, sums):
    """Month t's outcomes of w[g] into the sketch counts (``flat``, the flat view of the
    sketch) and the exact sums of d = x - shift and d**2 (each summed by :func:`lane_sum`,
    in :func:`group_sum`'s order); returns the count of profitable paths. ``dev`` and
    ``slots`` are scratch."""
    month = t - 1
    for v in range(N_MONTHLY):
        offset = np.uint64((v * horizon + month) * N_BUCKETS)
        c = shift[v, month]
        r = OUT + v
        for lane in range(lanes):  # lane loop: sketch slots and deviations
            x = w[g, r, lane]
            slots[v, lane] = offset + np.uint64(bucket(x))
            d = x - c
            dev[v, lane] = d
            dev[N_MONTHLY + v, lane] = d * d
        for lane in range(lanes, LANES):
            dev[v, lane] = 0.0
            dev[N_MONTHLY + v, lane] = 0.0
    # The scatter stays scalar: eleven counts per path, at unsigned flat offsets.
    for v in range(N_MONTHLY):
        for lane in range(lanes):
            flat[slots[v, lane]] += np.uint32(1)
    profitable = 0
    for lane in range(lanes):
        profitable += np.int64(w[g, OUT + _O_OP, lane] > 0.0)
    for chain in range(2 * N_MONTHLY):
        exact_add(sums[chain // N_MONTHLY, chain % N_MONTHLY, month], lane_sum(dev, chain))
    return profitable


@numba.njit(nogil=True, error_model="numpy", cache=True, fastmath=FASTMATH)
def run_paths(
    k0, k1, first_path, n_paths, antithetic, horizon,
    kinds, params, data, corr_index, chol, shock_chol, shift,
    given, given_mask, stress_mul, stress_add, stress_change,
    sketch, sums, profitable, ruin_counts,
    keep_per_path, per_path, keep_inputs, inputs_out, keep_monthly, monthly,
):  # fmt: skip
    """Simulate paths ``first_path .. first_path + n_paths - 1`` and reduce them.

    Static inputs are sampled from the packed distributions (``kinds`` ..
    ``chol``), except input i of path ``first_path + row`` is ``given[row, i]``
    where ``given_mask[i]`` is set. In each month t with ``stress_change[t]``
    every input becomes its path's value times ``stress_mul[t, i]`` plus
    ``stress_add[t, i]``, and the constants are made again from them; these hold
    until the next such month, so a run without stresses never reads them.

    Paths go in blocks of :data:`BLOCK` consecutive paths, each advanced month
    by month so one month's reductions stay in cache. ``first_path`` must be a
    multiple of :data:`LANES`. The engine calls this from several threads on
    separate ranges, each with its own reduction arrays; every reduction is a
    sum of integers, so totals do not depend on how paths are split between
    threads, chunks or calls:

    - ``sketch[v, t, b]``: count of outcome v in month t + 1 in bucket b;
    - ``sums[0 or 1, v, t, :]``: exact accumulators of the sum of
      d = x - shift[v, t] and of d**2; each group of LANES consecutive paths
      (aligned on multiples of LANES) adds its :func:`group_sum` once;
    - ``profitable[t]``: paths with operating profit > 0 in month t + 1;
    - ``ruin_counts[m]``: paths whose ruin month is m (horizon + 1: never).

    Per-path outcomes, sampled inputs and full monthly tensors are written
    (row = path - first_path) only when their ``keep_*`` flag is set.
    """
    stressed = False
    for t in range(1, horizon + 1):
        stressed = stressed or stress_change[t]
    any_given = False
    for i in range(N_INPUTS):
        any_given = any_given or given_mask[i]
    drawn = drawn_blocks(kinds, corr_index)
    chol_rows = cholesky_rows(shock_chol)
    # The work arrays have a shape known at compile time, so LLVM sees rows a constant
    # LANES apart and vectorises the lane loops without run-time alias checks.
    work = np.zeros((GROUPS, N_ROWS, ROW))
    dev = np.zeros((2 * N_MONTHLY, LANES))
    slots = np.zeros((N_MONTHLY, LANES), dtype=np.uint64)
    tails = np.zeros(N_NORMALS * LANES)
    tail_at = np.zeros(N_NORMALS * LANES, dtype=np.int64)
    flat = sketch.reshape(-1)
    n_blocks = (n_paths + BLOCK - 1) // BLOCK
    for block in range(n_blocks):
        start = block * BLOCK
        size = min(BLOCK, n_paths - start)
        n_groups = (size + LANES - 1) // LANES
        for g in range(n_groups):
            lanes = min(LANES, size - g * LANES)
            row0 = start + g * LANES  # relative to first_path
            _sample_group(k0, k1, first_path + row0, lanes, antithetic, kinds, params, data,
                          corr_index, chol, drawn, work, g)  # fmt: skip
            if any_given:
                for i in range(N_INPUTS):
                    if given_mask[i]:
                        for lane in range(lanes):
                            work[g, X + i, lane] = given[row0 + lane, i]
            if keep_inputs:
                for lane in range(lanes):
                    for i in range(N_INPUTS):
                        inputs_out[row0 + lane, i] = work[g, X + i, lane]
            _setup_group(lanes, UNSTRESSED, X, work, g)
            _start_group(lanes, work, g)
        for t in range(1, horizon + 1):
            for g in range(n_groups):
                lanes = min(LANES, size - g * LANES)
                row0 = start + g * LANES
                if stress_change[t]:
                    for i in range(N_INPUTS):
                        mul = stress_mul[t, i]
                        add = stress_add[t, i]
                        for lane in range(lanes):
                            work[g, XS + i, lane] = work[g, X + i, lane] * mul + add
                    _setup_group(lanes, stress_levels(stress_mul, t), XS, work, g)
                # The shocks and the month step run all LANES columns, also in a partial
                # last group (whose spare columns hold a finished path's or zeros, and are
                # never reported): with a trip count known at compile time LLVM vectorises
                # the loops without run-time checks, which it gave up on for the month's
                # accounts once v2 made them longer (1.4x slower).
                _shock_group(k0, k1, first_path + row0, t, LANES, antithetic, chol_rows, work, g,
                             tails, tail_at)  # fmt: skip
                _step_group(t, LANES, work, g)
                profitable[t - 1] += _reduce_group(
                    t, horizon, lanes, shift, work, g, flat, dev, slots, sums
                )
                if keep_monthly:
                    for v in range(N_MONTHLY):
                        for lane in range(lanes):
                            monthly[row0 + lane, v, t - 1] = work[g, OUT + v, lane]
        for g in range(n_groups):
            lanes = min(LANES, size - g * LANES)
            row0 = start + g * LANES
            for lane in range(lanes):
                result = finish(
                    np.float64(horizon), load_company(work, g, CC, lane),
                    load_state(work, g, ST, lane), work[g, OUT + _O_REVENUE, lane],
                    load_track(work, g, TR, lane),
                )  # fmt: skip
                ruin_counts[np.int64(result[7])] += 1
                if keep_per_path:
                    store_path(per_path, row0 + lane, result)
