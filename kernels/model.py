"""The model of spec v1 as a fused path kernel.

The equations live in two functions: :func:`path_setup` (month 0 and the
per-path constants) and :func:`month_step` (one month, spec steps 1-18).
Both work on one column ("lane") of small 2-D work arrays (rows = quantities,
columns = paths), so the CPU driver below advances a block of :data:`BLOCK`
paths month by month while a CUDA driver can call the same functions with a
single lane per thread.

Nothing of size paths x months is ever stored unless asked for: each month's
nine outcomes go straight into the streaming reductions of
:mod:`kernels.sketch` (quantile sketch counts, exact sums of deviations from
a per-month shift, counts of profitable paths) and into the per-path trackers
(NPV, minimum cash, event months).
"""

import math

import numba
import numpy as np

from .distributions import sample_static_inputs_into
from .layout import (
    DAYS_PER_MONTH,
    DT,
    GROSS_MARGIN_FLOOR,
    HOURS_PER_MONTH,
    INPUT_INDEX,
    N_INPUTS,
    N_MONTHLY,
    N_PATH,
)
from .processes import (
    gbm_step,
    jump_factor,
    log_ou_step,
    logistic,
    logistic_step,
    logit,
    logit_ar1_step,
)
from .rng import draw_block, normal, uniform
from .sketch import bucket, exact_add
from .target import device

#: Paths whose partial sums enter the exact accumulators together; chunks of a
#: run start at multiples of it, so the groups are the same however a run is split.
LANES = 64
#: Paths one CPU worker advances month by month together (a multiple of LANES):
#: large enough to reuse one month's sketch rows from cache, small enough that
#: the block's state (about 100 doubles per path) stays in the L2 cache.
BLOCK = 1024

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

# Rows of the work array of a block: inputs (rows 0..43, in INPUT_NAMES order), then
# per-path constants, state, the month's shocks and its nine outcomes. One array
# keeps each call to a building block down to one array argument: numba counts
# references to every array passed, and with five arrays that bookkeeping cost
# more than the month's arithmetic.
_D = N_INPUTS
D_TAU_GROWTH, D_PRICE_GROWTH, D_TH_GROWTH, D_OPEX_GROWTH, D_TR_GROWTH = range(_D, _D + 5)
D_DISCOUNT = _D + 5
D_LOGIT_MEAN, D_LOG_EMEAN, D_RETIRE, D_ENERGY, D_OTHER = range(_D + 6, _D + 11)
_S = _D + 11
S_USERS, S_API, S_UTIL, S_HW, S_ELEC, S_FLEET, S_BOOK, S_CASH = range(_S, _S + 8)
S_TAU, S_PRICE, S_THROUGHPUT, S_OPEX, S_TRAINING, S_DISCOUNT = range(_S + 8, _S + 14)
S_NPV, S_CUM_OP, S_MIN_CASH, S_FIRST_PROFIT, S_LAST_BELOW, S_RUIN = range(_S + 14, _S + 20)
_Z = _S + 20
Z_USERS, Z_API, Z_UTIL, Z_HW, Z_ELEC, Z_JUMP = range(_Z, _Z + 6)
# Stress multipliers of the quantities the starting levels (layout.LEVEL_INPUTS) begin:
# 1.0 outside a stress, so an unstressed run multiplies by one exactly.
_L = _Z + 6
L_USERS, L_TAU, L_API, L_PRICE, L_THROUGHPUT, L_ELEC, L_OPEX, L_TRAINING = range(_L, _L + 8)
#: First of the nine rows of monthly outcomes, in MONTHLY_NAMES order.
OUT = _L + 8
_O_REVENUE, _O_OP, _O_CF, _O_CASH = OUT + 1, OUT + 4, OUT + 5, OUT + 6
#: Rows of the work array. A stressed run appends N_INPUTS rows from BASE: the
#: path's sampled inputs, from which each stressed month's values are made.
N_ROWS = OUT + N_MONTHLY
BASE = N_ROWS


@device(inline=True)
def derive_constants(w, lane):
    """The per-path constants made from the inputs (again in each month a stress changes)."""
    # Deterministic trends advance by one monthly factor each (exp(g t dt) = exp(g dt)^t).
    w[D_TAU_GROWTH, lane] = math.exp(w[_GTOK, lane] * DT)
    w[D_PRICE_GROWTH, lane] = math.exp(-w[_DPI, lane] * DT)
    w[D_TH_GROWTH, lane] = math.exp(w[_GTH, lane] * DT)
    w[D_OPEX_GROWTH, lane] = math.exp(w[_GFO, lane] * DT)
    w[D_TR_GROWTH, lane] = math.exp(w[_GTR, lane] * DT)
    w[D_DISCOUNT, lane] = (1.0 + w[_RATE, lane]) ** (-1.0 / 12.0)
    w[D_LOGIT_MEAN, lane] = logit(w[_UMEAN, lane])
    w[D_RETIRE, lane] = 1.0 / (12.0 * w[_LIFE, lane])
    w[D_LOG_EMEAN, lane] = math.log(w[_EMEAN, lane])
    w[D_ENERGY, lane] = HOURS_PER_MONTH * w[_KW, lane] * w[_PUE, lane]
    w[D_OTHER, lane] = HOURS_PER_MONTH * w[_OTHER, lane]


@device(inline=True)
def apply_stress(t, stress_mul, stress_add, w, lane):
    """Set month t's inputs: each is its sampled value (row BASE + i) times stress_mul[t, i]
    plus stress_add[t, i]; a starting level's multiplier goes to its quantity's L_ row."""
    for i in range(N_INPUTS):
        w[i, lane] = w[BASE + i, lane] * stress_mul[t, i] + stress_add[t, i]
    w[L_USERS, lane] = stress_mul[t, _U0]
    w[L_TAU, lane] = stress_mul[t, _TAU0]
    w[L_API, lane] = stress_mul[t, _A0]
    w[L_PRICE, lane] = stress_mul[t, _PI0]
    w[L_THROUGHPUT, lane] = stress_mul[t, _TH0]
    w[L_ELEC, lane] = stress_mul[t, _E0]
    w[L_OPEX, lane] = stress_mul[t, _FO0]
    w[L_TRAINING, lane] = stress_mul[t, _TR0]
    derive_constants(w, lane)


@device(inline=True)
def path_setup(w, lane):
    """Month 0 of one path and its constants (spec steps 10 and 13 at t = 0)."""
    derive_constants(w, lane)
    for row in range(_L, _L + 8):
        w[row, lane] = 1.0
    u_mean = w[_UMEAN, lane]
    users = w[_U0, lane]
    paid = w[_PAID, lane] * users
    consumer = ((users - paid) * w[_QF, lane] + paid * w[_QP, lane]) * DAYS_PER_MONTH
    tokens = consumer * w[_TAU0, lane] + w[_A0, lane]
    gpus_0 = tokens / (3600.0 * w[_TH0, lane]) / u_mean / HOURS_PER_MONTH
    fleet = (1.0 - w[_RENT, lane]) * gpus_0

    w[S_USERS, lane] = users
    w[S_API, lane] = w[_A0, lane]
    w[S_UTIL, lane] = w[D_LOGIT_MEAN, lane]
    w[S_HW, lane] = 1.0
    w[S_ELEC, lane] = math.log(w[_E0, lane])
    w[S_FLEET, lane] = fleet
    w[S_BOOK, lane] = fleet * w[_CAPEX0, lane]
    w[S_CASH, lane] = w[_CASH0, lane]
    w[S_TAU, lane] = w[_TAU0, lane]
    w[S_PRICE, lane] = w[_PI0, lane]
    w[S_THROUGHPUT, lane] = w[_TH0, lane]
    w[S_OPEX, lane] = w[_FO0, lane]
    w[S_TRAINING, lane] = w[_TR0, lane]
    w[S_DISCOUNT, lane] = 1.0
    w[S_NPV, lane] = 0.0
    w[S_CUM_OP, lane] = 0.0
    w[S_MIN_CASH, lane] = math.inf
    w[S_FIRST_PROFIT, lane] = 0.0
    w[S_LAST_BELOW, lane] = 0.0
    w[S_RUIN, lane] = 0.0


@device(inline=True)
def start_path(
    k0, k1, first_path, row, antithetic, kinds, params, data, corr_index, chol,
    given, given_mask, any_given, stressed, keep_inputs, inputs_out, x_path, w, lane,
):  # fmt: skip
    """Path ``first_path + row``: its static inputs (drawn, or ``given[row]`` where
    ``given_mask`` is set) into its work column (and, stressed, their copy from BASE;
    kept, ``inputs_out[row]``), then month 0. Every driver starts its paths here."""
    sample_static_inputs_into(
        k0, k1, first_path + row, antithetic, kinds, params, data, corr_index, chol, x_path
    )
    if any_given:
        for i in range(N_INPUTS):
            if given_mask[i]:
                x_path[i] = given[row, i]
    for i in range(N_INPUTS):
        w[i, lane] = x_path[i]
    if stressed:
        for i in range(N_INPUTS):
            w[BASE + i, lane] = x_path[i]
    if keep_inputs:
        for i in range(N_INPUTS):
            inputs_out[row, i] = x_path[i]
    path_setup(w, lane)


@device(inline=True)
def draw_shocks(k0, k1, path, t, antithetic, shock_chol, w, lane):
    """The month's five correlated shocks and the jump uniform (spec: Random streams)."""
    w0, w1, w2, w3 = draw_block(k0, k1, path, t, 0, antithetic)
    v0, v1, _, _ = draw_block(k0, k1, path, t, 1, antithetic)
    r0 = normal(w0)
    r1 = normal(w1)
    r2 = normal(w2)
    r3 = normal(w3)
    r4 = normal(v0)
    c = shock_chol
    w[Z_USERS, lane] = c[0, 0] * r0
    w[Z_API, lane] = c[1, 0] * r0 + c[1, 1] * r1
    w[Z_UTIL, lane] = c[2, 0] * r0 + c[2, 1] * r1 + c[2, 2] * r2
    w[Z_HW, lane] = c[3, 0] * r0 + c[3, 1] * r1 + c[3, 2] * r2 + c[3, 3] * r3
    w[Z_ELEC, lane] = c[4, 0] * r0 + c[4, 1] * r1 + c[4, 2] * r2 + c[4, 3] * r3 + c[4, 4] * r4
    w[Z_JUMP, lane] = uniform(v1)


@device(inline=True)
def month_step(t, w, lane):
    """Advance one path from month t - 1 to t; write the nine outcomes of month t.

    Spec v1, "Monthly dynamics", steps 1-18, in order; the stochastic
    processes are the steps of :mod:`kernels.processes`.
    """
    # 1-2. Users: logistic growth with lognormal noise; paid and free users.
    # The states and trends below run on unstressed; a stressed starting level scales
    # the month's quantity by its L_ row (1.0 otherwise).
    users_state = logistic_step(
        w[S_USERS, lane], w[_R, lane], w[_K, lane], w[_SU, lane], DT, w[Z_USERS, lane]
    )
    users = users_state * w[L_USERS, lane]
    paid = w[_PAID, lane] * users
    free = users - paid
    # 3-4. Consumer tokens.
    tau_trend = w[S_TAU, lane] * w[D_TAU_GROWTH, lane]
    tau = tau_trend * w[L_TAU, lane]
    consumer = (free * w[_QF, lane] + paid * w[_QP, lane]) * DAYS_PER_MONTH * tau
    # 5-6. API tokens (GBM) and list price.
    api_state = gbm_step(w[S_API, lane], w[_GA, lane], w[_SA, lane], DT, w[Z_API, lane])
    api = api_state * w[L_API, lane]
    price_trend = w[S_PRICE, lane] * w[D_PRICE_GROWTH, lane]
    price = price_trend * w[L_PRICE, lane]
    # 7. Revenue and partner share.
    revenue = paid * w[_SUB, lane] + api * price * 1e-6
    partner = w[_RSHARE, lane] * revenue
    # 8-10. Throughput, utilisation (AR(1) in logit space), GPU-hours and GPUs.
    throughput_trend = w[S_THROUGHPUT, lane] * w[D_TH_GROWTH, lane]
    throughput = throughput_trend * w[L_THROUGHPUT, lane]
    x = logit_ar1_step(
        w[S_UTIL, lane], w[D_LOGIT_MEAN, lane], w[_PHI, lane], w[_SUTIL, lane],
        w[Z_UTIL, lane],
    )  # fmt: skip
    util = logistic(x)
    tokens = consumer + api
    busy = tokens / (3600.0 * throughput)
    hours = busy / util
    gpus = hours / HOURS_PER_MONTH
    # 11. Hardware price index: GBM with Bernoulli generation jumps.
    hw = gbm_step(w[S_HW, lane], w[_HDRIFT, lane], w[_SH, lane], DT, w[Z_HW, lane])
    hw = hw * jump_factor(w[Z_JUMP, lane], w[_JRATE, lane], DT, w[_JSIZE, lane])
    # 12. Rented capacity at the (possibly discounted) rental price.
    discount = w[_DISC, lane] if t <= w[_DMONTHS, lane] else 0.0
    rent_share = w[_RENT, lane]
    rented = rent_share * hours * w[_RHO0, lane] * hw * (1.0 - discount)
    # 13. Owned fleet: retire, buy what the need exceeds, depreciate straight-line by rate q.
    q = w[D_RETIRE, lane]
    kept = w[S_FLEET, lane] * (1.0 - q)
    fleet = max(kept, (1.0 - rent_share) * gpus)
    capex = (fleet - kept) * w[_CAPEX0, lane] * hw
    book = w[S_BOOK, lane]
    depreciation = q * book
    book = book - depreciation + capex
    # 14. Electricity (mean-reverting in logs) and other owned-fleet costs.
    y = log_ou_step(
        w[S_ELEC, lane], w[_EREV, lane], w[D_LOG_EMEAN, lane], w[_SE, lane], DT,
        w[Z_ELEC, lane],
    )  # fmt: skip
    energy = fleet * w[D_ENERGY, lane] * (math.exp(y) * w[L_ELEC, lane])
    other = fleet * w[D_OTHER, lane]
    # 15. Company costs.
    opex_trend = w[S_OPEX, lane] * w[D_OPEX_GROWTH, lane]
    opex = opex_trend * w[L_OPEX, lane]
    training_trend = w[S_TRAINING, lane] * w[D_TR_GROWTH, lane]
    training = training_trend * w[L_TRAINING, lane]
    # 16-17. Profit and cash.
    compute = rented + depreciation + energy + other
    gross = revenue - partner - compute
    operating = gross - opex - training
    cash_flow = revenue - partner - rented - energy - other - capex - opex - training
    cash = w[S_CASH, lane] + cash_flow
    # 18. Derived ratios, kept finite.
    if revenue > 0.0:
        margin = max(gross / revenue, GROSS_MARGIN_FLOOR)
    else:
        margin = GROSS_MARGIN_FLOOR if gross < 0.0 else 0.0
    cost_per_mtok = 1e6 * compute / tokens if tokens > 0.0 else 0.0

    w[S_USERS, lane] = users_state
    w[S_API, lane] = api_state
    w[S_UTIL, lane] = x
    w[S_HW, lane] = hw
    w[S_ELEC, lane] = y
    w[S_FLEET, lane] = fleet
    w[S_BOOK, lane] = book
    w[S_CASH, lane] = cash
    w[S_TAU, lane] = tau_trend
    w[S_PRICE, lane] = price_trend
    w[S_THROUGHPUT, lane] = throughput_trend
    w[S_OPEX, lane] = opex_trend
    w[S_TRAINING, lane] = training_trend

    w[OUT + 0, lane] = users
    w[OUT + 1, lane] = revenue
    w[OUT + 2, lane] = compute
    w[OUT + 3, lane] = margin
    w[OUT + 4, lane] = operating
    w[OUT + 5, lane] = cash_flow
    w[OUT + 6, lane] = cash
    w[OUT + 7, lane] = gpus
    w[OUT + 8, lane] = cost_per_mtok


@device(inline=True)
def track_outcomes(t, w, lane):
    """Update the per-path trackers (NPV, cumulative profit, cash extremes, event months)."""
    discount = w[S_DISCOUNT, lane] * w[D_DISCOUNT, lane]
    w[S_DISCOUNT, lane] = discount
    w[S_NPV, lane] += w[_O_CF, lane] * discount
    w[S_CUM_OP, lane] += w[_O_OP, lane]
    cash = w[_O_CASH, lane]
    w[S_MIN_CASH, lane] = min(w[S_MIN_CASH, lane], cash)
    if w[S_FIRST_PROFIT, lane] == 0.0 and w[_O_OP, lane] > 0.0:
        w[S_FIRST_PROFIT, lane] = t
    if cash < w[_CASH0, lane]:
        w[S_LAST_BELOW, lane] = t
    if w[S_RUIN, lane] == 0.0 and cash < 0.0:
        w[S_RUIN, lane] = t


@device(inline=True)
def finish_path(horizon, w, per_path, lane):
    """Per-path outcomes in PATH_NAMES order; months that never come are horizon + 1."""
    never = horizon + 1.0
    per_path[0] = w[S_NPV, lane]
    per_path[1] = w[S_CUM_OP, lane]
    per_path[2] = w[S_CASH, lane]
    per_path[3] = w[S_MIN_CASH, lane]
    per_path[4] = 12.0 * w[_O_REVENUE, lane]
    first = w[S_FIRST_PROFIT, lane]
    per_path[5] = first if first > 0.0 else never
    per_path[6] = w[S_LAST_BELOW, lane] + 1.0 if w[S_CASH, lane] >= w[_CASH0, lane] else never
    ruin = w[S_RUIN, lane]
    per_path[7] = ruin if ruin > 0.0 else never


@numba.njit(nogil=True, error_model="numpy", cache=True)
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
    ``stress_add[t, i]`` (see :func:`apply_stress`); these hold until the next
    such month, so a run without stresses never reads them.

    Paths go in blocks of :data:`BLOCK` consecutive paths, each advanced month
    by month so one month's reductions stay in cache. ``first_path`` must be a
    multiple of :data:`LANES`. The engine calls this from several threads on
    separate ranges, each with its own reduction arrays; every reduction is a
    sum of integers, so totals do not depend on how paths are split between
    threads, chunks or calls:

    - ``sketch[v, t, b]``: count of outcome v in month t + 1 in bucket b;
    - ``sums[0 or 1, v, t, :]``: exact accumulators of the sum of
      d = x - shift[v, t] and of d**2; each group of LANES consecutive paths
      (aligned on multiples of LANES) adds its partial sums, taken in path
      order, once;
    - ``profitable[t]``: paths with operating profit > 0 in month t + 1;
    - ``ruin_counts[m]``: paths whose ruin month is m (horizon + 1: never).

    Per-path outcomes, sampled inputs and full monthly tensors are written
    (row = path - first_path) only when their ``keep_*`` flag is set.
    """
    # The block's work arrays, one per group of LANES paths: a group's rows (about
    # 48 KB) stay in the L1/L2 caches while its paths advance, where one array for
    # the whole block would stream ~100 rows of 8 KB through them at every step.
    stressed = False
    for t in range(1, horizon + 1):
        stressed = stressed or stress_change[t]
    any_given = False
    for i in range(N_INPUTS):
        any_given = any_given or given_mask[i]
    work = np.zeros((BLOCK // LANES, N_ROWS + (N_INPUTS if stressed else 0), LANES))
    x_path = np.empty(N_INPUTS)
    result = np.empty(N_PATH)
    n_blocks = (n_paths + BLOCK - 1) // BLOCK
    for block in range(n_blocks):
        start = block * BLOCK
        size = min(BLOCK, n_paths - start)
        n_groups = (size + LANES - 1) // LANES
        for g in range(n_groups):
            w = work[g]
            for lane in range(min(LANES, size - g * LANES)):
                row = start + g * LANES + lane  # relative to first_path
                start_path(
                    k0, k1, first_path, row, antithetic, kinds, params, data, corr_index, chol,
                    given, given_mask, any_given, stressed, keep_inputs, inputs_out, x_path,
                    w, lane,
                )  # fmt: skip
        for t in range(1, horizon + 1):
            for g in range(n_groups):
                w = work[g]
                lanes = min(LANES, size - g * LANES)
                base = first_path + start + g * LANES
                if stress_change[t]:
                    for lane in range(lanes):
                        apply_stress(t, stress_mul, stress_add, w, lane)
                for lane in range(lanes):
                    draw_shocks(k0, k1, base + lane, t, antithetic, shock_chol, w, lane)
                for lane in range(lanes):
                    month_step(t, w, lane)
                for lane in range(lanes):
                    track_outcomes(t, w, lane)
            for v in range(N_MONTHLY):
                c = shift[v, t - 1]
                counts = sketch[v, t - 1]
                for g in range(n_groups):
                    w = work[g]
                    s1 = 0.0
                    s2 = 0.0
                    for lane in range(min(LANES, size - g * LANES)):
                        x = w[OUT + v, lane]
                        counts[bucket(x)] += 1
                        d = x - c
                        s1 += d
                        s2 += d * d
                    exact_add(sums[0, v, t - 1], s1)
                    exact_add(sums[1, v, t - 1], s2)
            for g in range(n_groups):
                w = work[g]
                lanes = min(LANES, size - g * LANES)
                for lane in range(lanes):
                    if w[_O_OP, lane] > 0.0:
                        profitable[t - 1] += 1
                if keep_monthly:
                    for v in range(N_MONTHLY):
                        for lane in range(lanes):
                            monthly[start + g * LANES + lane, v, t - 1] = w[OUT + v, lane]
        for g in range(n_groups):
            w = work[g]
            for lane in range(min(LANES, size - g * LANES)):
                finish_path(horizon, w, result, lane)
                ruin_counts[int(result[7])] += 1
                if keep_per_path:
                    row = start + g * LANES + lane
                    for j in range(N_PATH):
                        per_path[row, j] = result[j]
