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

# State rows: what carries from one month to the next.
S_USERS, S_API, S_UTIL, S_HW, S_ELEC, S_FLEET, S_BOOK, S_CASH = 0, 1, 2, 3, 4, 5, 6, 7
S_TAU, S_PRICE, S_THROUGHPUT, S_OPEX, S_TRAINING, S_DISCOUNT = 8, 9, 10, 11, 12, 13
S_NPV, S_CUM_OP, S_MIN_CASH, S_FIRST_PROFIT, S_LAST_BELOW, S_RUIN = 14, 15, 16, 17, 18, 19
N_STATE = 20

# Per-path constants derived once from the inputs.
D_TAU_GROWTH, D_PRICE_GROWTH, D_TH_GROWTH, D_OPEX_GROWTH, D_TR_GROWTH, D_DISCOUNT = range(6)
D_LOGIT_MEAN, D_LOG_EMEAN, D_RETIRE, D_ENERGY, D_OTHER = range(6, 11)
N_DERIVED = 11

# Shock rows.
Z_USERS, Z_API, Z_UTIL, Z_HW, Z_ELEC, Z_JUMP = 0, 1, 2, 3, 4, 5
N_SHOCKS = 6

# Extra monthly quantities kept beside the nine outcomes for the trackers.
_O_OP = 4
_O_CF = 5
_O_CASH = 6
_O_REVENUE = 1


@device(inline=True)
def path_setup(inp, der, st, lane):
    """Month 0 of one path and its constants (spec steps 10 and 13 at t = 0)."""
    # Deterministic trends advance by one monthly factor each (exp(g t dt) = exp(g dt)^t).
    der[D_TAU_GROWTH, lane] = math.exp(inp[_GTOK, lane] * DT)
    der[D_PRICE_GROWTH, lane] = math.exp(-inp[_DPI, lane] * DT)
    der[D_TH_GROWTH, lane] = math.exp(inp[_GTH, lane] * DT)
    der[D_OPEX_GROWTH, lane] = math.exp(inp[_GFO, lane] * DT)
    der[D_TR_GROWTH, lane] = math.exp(inp[_GTR, lane] * DT)
    der[D_DISCOUNT, lane] = (1.0 + inp[_RATE, lane]) ** (-1.0 / 12.0)
    u_mean = inp[_UMEAN, lane]
    der[D_LOGIT_MEAN, lane] = logit(u_mean)
    der[D_RETIRE, lane] = 1.0 / (12.0 * inp[_LIFE, lane])
    der[D_LOG_EMEAN, lane] = math.log(inp[_EMEAN, lane])
    der[D_ENERGY, lane] = HOURS_PER_MONTH * inp[_KW, lane] * inp[_PUE, lane]
    der[D_OTHER, lane] = HOURS_PER_MONTH * inp[_OTHER, lane]

    users = inp[_U0, lane]
    paid = inp[_PAID, lane] * users
    consumer = ((users - paid) * inp[_QF, lane] + paid * inp[_QP, lane]) * DAYS_PER_MONTH
    tokens = consumer * inp[_TAU0, lane] + inp[_A0, lane]
    gpus_0 = tokens / (3600.0 * inp[_TH0, lane]) / u_mean / HOURS_PER_MONTH
    fleet = (1.0 - inp[_RENT, lane]) * gpus_0

    st[S_USERS, lane] = users
    st[S_API, lane] = inp[_A0, lane]
    st[S_UTIL, lane] = der[D_LOGIT_MEAN, lane]
    st[S_HW, lane] = 1.0
    st[S_ELEC, lane] = math.log(inp[_E0, lane])
    st[S_FLEET, lane] = fleet
    st[S_BOOK, lane] = fleet * inp[_CAPEX0, lane]
    st[S_CASH, lane] = inp[_CASH0, lane]
    st[S_TAU, lane] = inp[_TAU0, lane]
    st[S_PRICE, lane] = inp[_PI0, lane]
    st[S_THROUGHPUT, lane] = inp[_TH0, lane]
    st[S_OPEX, lane] = inp[_FO0, lane]
    st[S_TRAINING, lane] = inp[_TR0, lane]
    st[S_DISCOUNT, lane] = 1.0
    st[S_NPV, lane] = 0.0
    st[S_CUM_OP, lane] = 0.0
    st[S_MIN_CASH, lane] = math.inf
    st[S_FIRST_PROFIT, lane] = 0.0
    st[S_LAST_BELOW, lane] = 0.0
    st[S_RUIN, lane] = 0.0


@device(inline=True)
def draw_shocks(k0, k1, path, t, antithetic, shock_chol, z, lane):
    """The month's five correlated shocks and the jump uniform (spec: Random streams)."""
    w0, w1, w2, w3 = draw_block(k0, k1, path, t, 0, antithetic)
    v0, v1, _, _ = draw_block(k0, k1, path, t, 1, antithetic)
    r0 = normal(w0)
    r1 = normal(w1)
    r2 = normal(w2)
    r3 = normal(w3)
    r4 = normal(v0)
    c = shock_chol
    z[Z_USERS, lane] = c[0, 0] * r0
    z[Z_API, lane] = c[1, 0] * r0 + c[1, 1] * r1
    z[Z_UTIL, lane] = c[2, 0] * r0 + c[2, 1] * r1 + c[2, 2] * r2
    z[Z_HW, lane] = c[3, 0] * r0 + c[3, 1] * r1 + c[3, 2] * r2 + c[3, 3] * r3
    z[Z_ELEC, lane] = c[4, 0] * r0 + c[4, 1] * r1 + c[4, 2] * r2 + c[4, 3] * r3 + c[4, 4] * r4
    z[Z_JUMP, lane] = uniform(v1)


@device(inline=True)
def month_step(t, inp, der, st, z, out, lane):
    """Advance one path from month t - 1 to t; write the nine outcomes of month t.

    Spec v1, "Monthly dynamics", steps 1-18, in order; the stochastic
    processes are the steps of :mod:`kernels.processes`.
    """
    # 1-2. Users: logistic growth with lognormal noise; paid and free users.
    users = logistic_step(
        st[S_USERS, lane], inp[_R, lane], inp[_K, lane], inp[_SU, lane], DT, z[Z_USERS, lane]
    )
    paid = inp[_PAID, lane] * users
    free = users - paid
    # 3-4. Consumer tokens.
    tau = st[S_TAU, lane] * der[D_TAU_GROWTH, lane]
    consumer = (free * inp[_QF, lane] + paid * inp[_QP, lane]) * DAYS_PER_MONTH * tau
    # 5-6. API tokens (GBM) and list price.
    api = gbm_step(st[S_API, lane], inp[_GA, lane], inp[_SA, lane], DT, z[Z_API, lane])
    price = st[S_PRICE, lane] * der[D_PRICE_GROWTH, lane]
    # 7. Revenue and partner share.
    revenue = paid * inp[_SUB, lane] + api * price * 1e-6
    partner = inp[_RSHARE, lane] * revenue
    # 8-10. Throughput, utilisation (AR(1) in logit space), GPU-hours and GPUs.
    throughput = st[S_THROUGHPUT, lane] * der[D_TH_GROWTH, lane]
    x = logit_ar1_step(
        st[S_UTIL, lane], der[D_LOGIT_MEAN, lane], inp[_PHI, lane], inp[_SUTIL, lane],
        z[Z_UTIL, lane],
    )  # fmt: skip
    util = logistic(x)
    tokens = consumer + api
    busy = tokens / (3600.0 * throughput)
    hours = busy / util
    gpus = hours / HOURS_PER_MONTH
    # 11. Hardware price index: GBM with Bernoulli generation jumps.
    hw = gbm_step(st[S_HW, lane], inp[_HDRIFT, lane], inp[_SH, lane], DT, z[Z_HW, lane])
    hw = hw * jump_factor(z[Z_JUMP, lane], inp[_JRATE, lane], DT, inp[_JSIZE, lane])
    # 12. Rented capacity at the (possibly discounted) rental price.
    discount = inp[_DISC, lane] if t <= inp[_DMONTHS, lane] else 0.0
    rent_share = inp[_RENT, lane]
    rented = rent_share * hours * inp[_RHO0, lane] * hw * (1.0 - discount)
    # 13. Owned fleet: retire, buy what the need exceeds, depreciate straight-line by rate q.
    q = der[D_RETIRE, lane]
    kept = st[S_FLEET, lane] * (1.0 - q)
    fleet = max(kept, (1.0 - rent_share) * gpus)
    capex = (fleet - kept) * inp[_CAPEX0, lane] * hw
    book = st[S_BOOK, lane]
    depreciation = q * book
    book = book - depreciation + capex
    # 14. Electricity (mean-reverting in logs) and other owned-fleet costs.
    y = log_ou_step(
        st[S_ELEC, lane], inp[_EREV, lane], der[D_LOG_EMEAN, lane], inp[_SE, lane], DT,
        z[Z_ELEC, lane],
    )  # fmt: skip
    energy = fleet * der[D_ENERGY, lane] * math.exp(y)
    other = fleet * der[D_OTHER, lane]
    # 15. Company costs.
    opex = st[S_OPEX, lane] * der[D_OPEX_GROWTH, lane]
    training = st[S_TRAINING, lane] * der[D_TR_GROWTH, lane]
    # 16-17. Profit and cash.
    compute = rented + depreciation + energy + other
    gross = revenue - partner - compute
    operating = gross - opex - training
    cash_flow = revenue - partner - rented - energy - other - capex - opex - training
    cash = st[S_CASH, lane] + cash_flow
    # 18. Derived ratios, kept finite.
    if revenue > 0.0:
        margin = max(gross / revenue, GROSS_MARGIN_FLOOR)
    else:
        margin = GROSS_MARGIN_FLOOR if gross < 0.0 else 0.0
    cost_per_mtok = 1e6 * compute / tokens if tokens > 0.0 else 0.0

    st[S_USERS, lane] = users
    st[S_API, lane] = api
    st[S_UTIL, lane] = x
    st[S_HW, lane] = hw
    st[S_ELEC, lane] = y
    st[S_FLEET, lane] = fleet
    st[S_BOOK, lane] = book
    st[S_CASH, lane] = cash
    st[S_TAU, lane] = tau
    st[S_PRICE, lane] = price
    st[S_THROUGHPUT, lane] = throughput
    st[S_OPEX, lane] = opex
    st[S_TRAINING, lane] = training

    out[0, lane] = users
    out[1, lane] = revenue
    out[2, lane] = compute
    out[3, lane] = margin
    out[4, lane] = operating
    out[5, lane] = cash_flow
    out[6, lane] = cash
    out[7, lane] = gpus
    out[8, lane] = cost_per_mtok


@device(inline=True)
def track_outcomes(t, inp, der, st, out, lane):
    """Update the per-path trackers (NPV, cumulative profit, cash extremes, event months)."""
    discount = st[S_DISCOUNT, lane] * der[D_DISCOUNT, lane]
    st[S_DISCOUNT, lane] = discount
    st[S_NPV, lane] += out[_O_CF, lane] * discount
    st[S_CUM_OP, lane] += out[_O_OP, lane]
    cash = out[_O_CASH, lane]
    st[S_MIN_CASH, lane] = min(st[S_MIN_CASH, lane], cash)
    if st[S_FIRST_PROFIT, lane] == 0.0 and out[_O_OP, lane] > 0.0:
        st[S_FIRST_PROFIT, lane] = t
    if cash < inp[_CASH0, lane]:
        st[S_LAST_BELOW, lane] = t
    if st[S_RUIN, lane] == 0.0 and cash < 0.0:
        st[S_RUIN, lane] = t


@device(inline=True)
def finish_path(horizon, inp, st, out, per_path, lane):
    """Per-path outcomes in PATH_NAMES order; months that never come are horizon + 1."""
    never = horizon + 1.0
    per_path[0] = st[S_NPV, lane]
    per_path[1] = st[S_CUM_OP, lane]
    per_path[2] = st[S_CASH, lane]
    per_path[3] = st[S_MIN_CASH, lane]
    per_path[4] = 12.0 * out[_O_REVENUE, lane]
    first = st[S_FIRST_PROFIT, lane]
    per_path[5] = first if first > 0.0 else never
    per_path[6] = st[S_LAST_BELOW, lane] + 1.0 if st[S_CASH, lane] >= inp[_CASH0, lane] else never
    ruin = st[S_RUIN, lane]
    per_path[7] = ruin if ruin > 0.0 else never


@numba.njit(nogil=True, error_model="numpy", cache=True)
def run_paths(
    k0, k1, first_path, n_paths, worker, n_workers, antithetic, horizon,
    kinds, params, data, corr_index, chol, shock_chol, shift,
    sketch, sums, profitable, ruin_counts,
    keep_per_path, per_path, keep_inputs, inputs_out, keep_monthly, monthly,
):  # fmt: skip
    """Simulate this worker's share of paths ``first_path .. first_path + n_paths - 1``.

    Paths go in work blocks of :data:`BLOCK` consecutive paths, each advanced
    month by month so one month's reductions stay in cache; the engine runs
    ``n_workers`` threads, worker ``worker`` taking blocks worker, worker +
    n_workers, ... ``first_path`` must be a multiple of :data:`LANES`.
    Reductions are added into this worker's arrays, and every one of them is
    a sum of integers, so totals do not depend on how paths are split between
    workers, chunks or calls:

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
    inp = np.empty((N_INPUTS, BLOCK))
    der = np.empty((N_DERIVED, BLOCK))
    st = np.empty((N_STATE, BLOCK))
    z = np.empty((N_SHOCKS, BLOCK))
    out = np.empty((N_MONTHLY, BLOCK))
    x_path = np.empty(N_INPUTS)
    result = np.empty(N_PATH)
    n_blocks = (n_paths + BLOCK - 1) // BLOCK
    for block in range(worker, n_blocks, n_workers):
        start = block * BLOCK
        size = min(BLOCK, n_paths - start)
        for lane in range(size):
            path = first_path + start + lane
            sample_static_inputs_into(
                k0, k1, path, antithetic, kinds, params, data, corr_index, chol, x_path
            )
            for i in range(N_INPUTS):
                inp[i, lane] = x_path[i]
            if keep_inputs:
                for i in range(N_INPUTS):
                    inputs_out[start + lane, i] = x_path[i]
            path_setup(inp, der, st, lane)
        for t in range(1, horizon + 1):
            for lane in range(size):
                draw_shocks(k0, k1, first_path + start + lane, t, antithetic, shock_chol, z, lane)
            for lane in range(size):
                month_step(t, inp, der, st, z, out, lane)
            for lane in range(size):
                track_outcomes(t, inp, der, st, out, lane)
            for v in range(N_MONTHLY):
                c = shift[v, t - 1]
                counts = sketch[v, t - 1]
                for group in range(0, size, LANES):
                    s1 = 0.0
                    s2 = 0.0
                    for lane in range(group, min(group + LANES, size)):
                        x = out[v, lane]
                        counts[bucket(x)] += 1
                        d = x - c
                        s1 += d
                        s2 += d * d
                    exact_add(sums[0, v, t - 1], s1)
                    exact_add(sums[1, v, t - 1], s2)
            for lane in range(size):
                if out[_O_OP, lane] > 0.0:
                    profitable[t - 1] += 1
            if keep_monthly:
                for v in range(N_MONTHLY):
                    for lane in range(size):
                        monthly[start + lane, v, t - 1] = out[v, lane]
        for lane in range(size):
            finish_path(horizon, inp, st, out, result, lane)
            ruin_counts[int(result[7])] += 1
            if keep_per_path:
                for j in range(N_PATH):
                    per_path[start + lane, j] = result[j]
