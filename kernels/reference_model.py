"""Numpy reference implementation of the model (specification v2), the test oracle.

Written from ``MODEL_SPEC.md`` alone, equation by equation, vectorised over paths
with a plain loop over months, so the fast kernels can be checked against it path
by path. Clarity wins over speed here: every equation of the specification's
"Monthly dynamics" appears once, literally, under its number.

Readings of the specification this module commits to (the kernels must agree):

- Months are t = 1..T; nothing is booked at t = 0. Growth terms are evaluated as
  written, ``exp(g t dt)``, not accumulated month by month.
- The owned fleet starts at N_0 = (1 - rent_share) G_0, G_0 being step 10 at t = 0
  (U_0, tau_0, A_0, theta_0 and u_0 = utilization_mean); BV_0 = N_0 gpu_capex_0.
- Energy and other owned costs use N_t, the fleet after this month's purchases.
- The compute discount applies while t <= discount_months (which may be +inf).
- ``user_ceiling`` may be +inf, and then U/K = 0.
- Gross margin is GP/R floored at ``GROSS_MARGIN_FLOOR`` when R > 0; when R <= 0 it
  is the floor if GP < 0 and 0 otherwise (R < 0 cannot arise from valid inputs).
- Cost per 1e6 tokens is 1e6 CC / (C + A), and 0 when no token is served.
- Month outcomes that never happen within the horizon are ``never = T + 1``.

v2 (commitments and financing):

- The committed schedule is Hc_t = commitment_share H_0 exp(dt sum_{2 <= s <= t} g_s)
  (``exp(g (t - 1) dt)`` for a constant g), H_0 = G_0 x 730, for t <= commitment_months.
- The committed price is fixed at t = 0 from the path's unstressed gpu_rent_price_0;
  commitment_discount cannot be stressed.
- The tranche arrives in month ceil(tranche_month): the month t with
  t - 1 < tranche_month <= t (so a whole number means that month), never when it is 0.
- A successful attempt to raise that would raise nothing (12 R_t x multiple = 0) is no
  round: nothing is raised, nothing diluted, the rounds count does not move.

Stress tests (docs/model.md) extend the specification: in month t every input is
its path's value times ``mul[t]`` plus ``add[t]``. Growth terms then accumulate
each month's rate, ``exp(dt sum_{s <= t} g_s)`` (``exp(g t dt)`` when g is
constant), so a level never jumps when its rate changes; the mean-reverting
processes revert to month t's mean. A starting level (``LEVEL_INPUTS``) only
sets month 0: its multiplier scales the quantity it starts in month t instead.
"""

from __future__ import annotations

import numpy as np

from . import reference as ref
from .layout import (
    DAYS_PER_MONTH,
    DT,
    GROSS_MARGIN_FLOOR,
    HOURS_PER_MONTH,
    INPUT_INDEX,
    INPUT_NAMES,
    LEVEL_INPUTS,
    MONTHLY_NAMES,
    N_INPUTS,
    N_MONTHLY,
    N_PATH,
    PATH_NAMES,
    SHOCK_NAMES,
)

_MONTHLY = {name: i for i, name in enumerate(MONTHLY_NAMES)}
_PATH = {name: i for i, name in enumerate(PATH_NAMES)}
_N_SHOCKS = len(SHOCK_NAMES)
_SECONDS_PER_HOUR = 3600.0
_TOKENS_PER_PRICE_UNIT = 1.0e6  # API prices and the cost per token are per 1e6 tokens


def _as_paths(paths) -> np.ndarray:
    """Path indices: an int n means paths 0 .. n - 1."""
    if np.ndim(paths) == 0:
        return np.arange(int(paths), dtype=np.uint64)
    return np.asarray(paths, dtype=np.uint64).ravel()


def monthly_shocks(seed: int, paths, step: int, shock_chol, antithetic: bool = False):
    """The correlated shocks z1..z5 and the jump uniform v of month ``step``.

    Block 0 of the step gives raw shocks 1..4 (its four normals), block 1 gives raw
    shock 5 (the normal of its word w0) and v (the uniform of its word w1); the raw
    shocks are then multiplied by the lower Cholesky factor, z = L raw, per path.

    Parameters
    ----------
    seed : int
        64-bit seed.
    paths : array_like of int
        Path indices.
    step : int
        The month t (1..T).
    shock_chol : array_like, shape (5, 5)
        Lower Cholesky factor of ``shock_correlation``.
    antithetic : bool, optional
        Path 2k+1 uses path 2k's words complemented.

    Returns
    -------
    z : numpy.ndarray
        ``(5, n_paths)``: z[0] is z1 (users) ... z[4] is z5 (electricity).
    v : numpy.ndarray
        ``(n_paths,)`` jump uniforms.
    """
    paths = _as_paths(paths)
    block0 = ref.block_normals(seed, paths, step, 0, antithetic)
    words1 = ref.block_words(seed, paths, step, 1, antithetic)
    raw = np.empty((_N_SHOCKS, paths.size))
    raw[:4] = block0.T
    raw[4] = ref.inverse_normal_cdf(ref.uniform(words1[:, 0]))
    v = ref.uniform(words1[:, 1])
    chol = np.asarray(shock_chol, dtype=np.float64)
    z = np.empty_like(raw)
    for j in range(_N_SHOCKS):
        # z_j = sum_{k <= j} L[j, k] raw_k: only the lower triangle is read.
        acc = np.zeros(paths.size)
        for k in range(j + 1):
            acc = acc + chol[j, k] * raw[k]
        z[j] = acc
    return z, v


def month_uniforms(seed: int, paths, step: int, antithetic: bool = False):
    """Month ``step``'s round and tranche uniforms (spec v2): the uniforms of words w2 and
    w3 of its block 1, as ``(v_round, v_tranche)``, each ``(n_paths,)``."""
    paths = _as_paths(paths)
    words1 = ref.block_words(seed, paths, step, 1, antithetic)
    return ref.uniform(words1[:, 2]), ref.uniform(words1[:, 3])


def _check_inputs(inputs, shock_chol, horizon_months, paths):
    inputs = np.asarray(inputs, dtype=np.float64)
    if inputs.ndim != 2 or inputs.shape[1] != N_INPUTS:
        raise ValueError(f"inputs must have shape (n_paths, {N_INPUTS}), got {inputs.shape}")
    chol = np.asarray(shock_chol, dtype=np.float64)
    if chol.shape != (_N_SHOCKS, _N_SHOCKS):
        raise ValueError(f"shock_chol must have shape (5, 5), got {chol.shape}")
    if isinstance(horizon_months, bool) or int(horizon_months) != horizon_months:
        raise ValueError(f"horizon_months must be a positive integer, got {horizon_months!r}")
    if int(horizon_months) < 1:
        raise ValueError(f"horizon_months must be a positive integer, got {horizon_months!r}")
    if paths.size != inputs.shape[0]:
        raise ValueError(f"inputs has {inputs.shape[0]} rows but {paths.size} paths were given")
    return inputs, chol, int(horizon_months)


def simulate_reference(
    inputs,
    shock_chol,
    horizon_months: int,
    *,
    seed: int,
    paths,
    antithetic: bool = False,
    stress=None,
) -> dict:
    """Simulate the monthly P&L of every path, literally as the specification writes it.

    Parameters
    ----------
    inputs : array_like, shape (n_paths, 56)
        Static inputs, columns in ``layout.INPUT_NAMES`` order; row i belongs to path
        ``paths[i]``.
    shock_chol : array_like, shape (5, 5)
        Lower Cholesky factor of ``shock_correlation`` (rows in ``SHOCK_NAMES`` order).
    horizon_months : int
        T, the number of months simulated.
    seed : int
        64-bit seed of the random streams.
    paths : int or array_like of int
        The path indices of the rows of `inputs` (an int n means 0 .. n - 1); they pick
        the Philox counters, so any subset of paths reproduces its rows exactly.
    antithetic : bool, optional
        Path 2k+1 uses path 2k's words complemented (every shock negated, v -> 1 - v).
    stress : tuple of two array_like, optional
        ``(mul, add)``, each ``(T + 1, 56)``: input i in month t is ``x * mul[t, i] +
        add[t, i]`` (row 0 unused); None: no stress.

    Returns
    -------
    dict
        ``monthly``: ``(n_paths, 11, T)`` float64 in ``MONTHLY_NAMES`` order, month t in
        column t - 1; ``per_path``: ``(n_paths, 12)`` float64 in ``PATH_NAMES`` order,
        month outcomes as month numbers with never = T + 1; ``never``: T + 1.
    """
    paths = _as_paths(paths)
    x, chol, horizon = _check_inputs(inputs, shock_chol, horizon_months, paths)
    if stress is None:
        mul, add = np.ones((horizon + 1, N_INPUTS)), np.zeros((horizon + 1, N_INPUTS))
    else:
        mul, add = (np.asarray(a, dtype=np.float64) for a in stress)
        if mul.shape != (horizon + 1, N_INPUTS) or add.shape != mul.shape:
            raise ValueError(f"stress tables must have shape ({horizon + 1}, {N_INPUTS})")
    level = np.array([name in LEVEL_INPUTS for name in INPUT_NAMES])

    def col(name):
        return x[:, INPUT_INDEX[name]]

    users_0, ceiling = col("users_0"), col("user_ceiling")
    r, sigma_u = col("adoption_rate"), col("user_volatility")
    paid_share, price = col("paid_share"), col("subscription_price")
    q_free, q_paid = col("queries_per_free_user_day"), col("queries_per_paid_user_day")
    tokens_0 = col("tokens_per_query_0")
    api_0, api_growth, sigma_a = col("api_tokens_0"), col("api_growth"), col("api_volatility")
    api_price_0 = col("api_price_0")
    revenue_share = col("revenue_share")
    throughput_0 = col("throughput_0")
    util_mean = col("utilization_mean")
    phi, sigma_util = col("utilization_persistence"), col("utilization_volatility")
    rent_share = col("rent_share")
    rent_0, capex_0 = col("gpu_rent_price_0"), col("gpu_capex_0")
    hw_drift, sigma_h = col("hardware_drift"), col("hardware_volatility")
    jump_rate, jump_size = col("generation_jump_rate"), col("generation_jump_size")
    discount, discount_months = col("compute_discount"), col("discount_months")
    life_years = col("gpu_life_years")
    power_kw, pue = col("gpu_power_kw"), col("pue")
    elec_0, elec_mean = col("electricity_price_0"), col("electricity_mean")
    elec_a, sigma_e = col("electricity_reversion"), col("electricity_volatility")
    other_cost = col("other_cost_per_gpu_hour")
    opex_0 = col("fixed_opex_0")
    training_0 = col("training_spend_0")
    initial_cash, discount_rate = col("initial_cash"), col("discount_rate")
    commitment_discount = col("commitment_discount")

    sqrt_dt = np.sqrt(DT)

    # --- State at t = 0 ---------------------------------------------------------------
    users_state = users_0.copy()  # (1) U_0
    api_state = api_0.copy()  # (5) A_0
    m = np.log(util_mean / (1.0 - util_mean))  # (9) m = logit(utilization_mean)
    x_util = m.copy()  # (9) x_0 = m
    hw_index = np.ones_like(users_0)  # (11) h_0 = 1
    y = np.log(elec_0)  # (14) y_0
    log_elec_mean = np.log(elec_mean)
    q_retire = 1.0 / (12.0 * life_years)  # (13) monthly retirement rate
    # (13) N_0 from step 10 at t = 0: tau_0 = tokens_per_query_0, theta_0 = throughput_0,
    # u_0 = utilization_mean.
    paid_0 = paid_share * users_0
    consumer_0 = ((users_0 - paid_0) * q_free + paid_0 * q_paid) * DAYS_PER_MONTH * tokens_0
    gpus_0 = (consumer_0 + api_0) / (_SECONDS_PER_HOUR * throughput_0) / util_mean
    gpus_0 = gpus_0 / HOURS_PER_MONTH
    fleet = (1.0 - rent_share) * gpus_0  # N_0
    book_value = fleet * capex_0  # BV_0
    cash = initial_cash.copy()  # (17) Cash_0
    # v2 (12): H_0 = G_0 x 730 and the committed price, both fixed at t = 0.
    hours_0 = gpus_0 * HOURS_PER_MONTH
    committed_price = rent_0 * (1.0 - commitment_discount)
    # v2 (17): month of the last attempt to raise (none yet), rounds, stake retained.
    last_attempt = np.full(paths.size, -np.inf)
    rounds = np.zeros(paths.size)
    ownership = np.ones(paths.size)

    # Accumulated growth exponents dt * sum_{s <= t} g_s of the deterministic trends.
    tau_exp = np.zeros(paths.size)
    price_exp = np.zeros(paths.size)
    theta_exp = np.zeros(paths.size)
    opex_exp = np.zeros(paths.size)
    training_exp = np.zeros(paths.size)
    commitment_exp = np.zeros(paths.size)  # from month 2: Hc_1 = share x H_0

    monthly = np.empty((paths.size, N_MONTHLY, horizon))
    for t in range(1, horizon + 1):
        z, v = monthly_shocks(seed, paths, t, chol, antithetic)
        z1, z2, z3, z4, z5 = z
        v_round, v_tranche = month_uniforms(seed, paths, t, antithetic)
        # Month t's inputs (the stressed ones changed); starting levels become multipliers.
        xt = np.where(level, x, x * mul[t] + add[t])
        lvl = dict(zip(LEVEL_INPUTS, (mul[t, INPUT_INDEX[n]] for n in LEVEL_INPUTS), strict=True))

        def now(name, xt=xt):
            return xt[:, INPUT_INDEX[name]]

        ceiling, r, sigma_u = now("user_ceiling"), now("adoption_rate"), now("user_volatility")
        paid_share, price = now("paid_share"), now("subscription_price")
        q_free, q_paid = now("queries_per_free_user_day"), now("queries_per_paid_user_day")
        api_growth, sigma_a = now("api_growth"), now("api_volatility")
        revenue_share = now("revenue_share")
        m = np.log(now("utilization_mean") / (1.0 - now("utilization_mean")))
        phi, sigma_util = now("utilization_persistence"), now("utilization_volatility")
        rent_share = now("rent_share")
        rent_0, capex_0 = now("gpu_rent_price_0"), now("gpu_capex_0")
        hw_drift, sigma_h = now("hardware_drift"), now("hardware_volatility")
        jump_rate, jump_size = now("generation_jump_rate"), now("generation_jump_size")
        discount, discount_months = now("compute_discount"), now("discount_months")
        q_retire = 1.0 / (12.0 * now("gpu_life_years"))
        power_kw, pue = now("gpu_power_kw"), now("pue")
        log_elec_mean = np.log(now("electricity_mean"))
        elec_a, sigma_e = now("electricity_reversion"), now("electricity_volatility")
        other_cost = now("other_cost_per_gpu_hour")
        tau_exp = tau_exp + now("tokens_per_query_growth") * DT
        price_exp = price_exp + now("api_price_decline") * DT
        theta_exp = theta_exp + now("throughput_gain") * DT
        opex_exp = opex_exp + now("opex_growth") * DT
        training_exp = training_exp + now("training_growth") * DT
        if t >= 2:
            commitment_exp = commitment_exp + now("commitment_growth") * DT

        # (1) Users: logistic drift with lognormal shocks.
        users_state = users_state * np.exp(
            r * DT * (1.0 - users_state / ceiling) - sigma_u**2 * DT / 2.0 + sigma_u * sqrt_dt * z1
        )
        users = users_state * lvl["users_0"]
        # (2) Paid and free users.
        paid = paid_share * users
        free = users - paid
        # (3) Tokens per query (exp(g_tok t dt) unless a stress changed g_tok).
        tau = tokens_0 * np.exp(tau_exp) * lvl["tokens_per_query_0"]
        # (4) Consumer tokens.
        consumer = (free * q_free + paid * q_paid) * DAYS_PER_MONTH * tau
        # (5) API tokens: GBM.
        api_state = api_state * np.exp(
            (api_growth - sigma_a**2 / 2.0) * DT + sigma_a * sqrt_dt * z2
        )
        api_tokens = api_state * lvl["api_tokens_0"]
        # (6) API price.
        api_price = api_price_0 * np.exp(-price_exp) * lvl["api_price_0"]
        # (7) Revenue and partner share.
        revenue = paid * price + api_tokens * api_price / _TOKENS_PER_PRICE_UNIT
        partner = revenue_share * revenue
        # (8) Throughput.
        theta = throughput_0 * np.exp(theta_exp) * lvl["throughput_0"]
        # (9) Utilisation: AR(1) in logit space.
        x_util = m + phi * (x_util - m) + sigma_util * z3
        util = 1.0 / (1.0 + np.exp(-x_util))
        # (10) Busy and provisioned GPU-hours, GPUs.
        tokens = consumer + api_tokens
        busy = tokens / (_SECONDS_PER_HOUR * theta)
        provisioned = busy / util
        gpus = provisioned / HOURS_PER_MONTH
        # (11) Hardware price index with generation jumps.
        jump = v < jump_rate * DT
        hw_index = (
            hw_index
            * np.exp((hw_drift - sigma_h**2 / 2.0) * DT + sigma_h * sqrt_dt * z4)
            * np.where(jump, 1.0 - jump_size, 1.0)
        )
        rent_price = rent_0 * hw_index
        capex_price = capex_0 * hw_index
        # (12, v2) Committed hours at the committed price, used or not; the rest of the
        # rented need on demand, with the partner discount while t <= discount_months.
        committed = np.where(
            t <= now("commitment_months"),
            now("commitment_share") * hours_0 * np.exp(commitment_exp),
            0.0,
        )
        rented_need = rent_share * provisioned
        on_demand = np.maximum(rented_need - committed, 0.0)
        idle_hours = np.maximum(committed - rented_need, 0.0)
        d = np.where(t <= discount_months, discount, 0.0)
        rented_cost = on_demand * rent_price * (1.0 - d) + committed * committed_price
        idle_cost = idle_hours * committed_price
        # (13) Owned fleet: buy up to the need, never sell; straight-line-rate depreciation.
        need = (1.0 - rent_share) * gpus
        survivors = fleet * (1.0 - q_retire)
        fleet = np.maximum(survivors, need)
        purchases = fleet - survivors
        capex = purchases * capex_price
        depreciation = q_retire * book_value
        book_value = book_value - depreciation + capex
        # (14) Electricity: mean-reverting log price; owned GPUs' energy and other costs.
        y = y + elec_a * DT * (log_elec_mean - y) + sigma_e * sqrt_dt * z5
        elec = np.exp(y) * lvl["electricity_price_0"]
        energy = fleet * HOURS_PER_MONTH * power_kw * pue * elec
        other = fleet * HOURS_PER_MONTH * other_cost
        # (15) Fixed opex and training spend.
        opex = opex_0 * np.exp(opex_exp) * lvl["fixed_opex_0"]
        training = training_0 * np.exp(training_exp) * lvl["training_spend_0"]
        # (16) Inference cost, gross and operating profit.
        inference_cost = rented_cost + depreciation + energy + other
        gross_profit = revenue - partner - inference_cost
        operating_profit = gross_profit - opex - training
        # (17) Cash flow: capex is cash, depreciation is not.
        cash_flow = revenue - partner - rented_cost - energy - other - capex - opex - training
        cash_before = cash + cash_flow  # Cash'_t
        # (17, v2) The tranche in month ceil(tranche_month), with its probability.
        tranche_month = now("tranche_month")
        arrives = (t - 1 < tranche_month) & (tranche_month <= t)
        tranche = np.where(arrives & (v_tranche < now("tranche_probability")),
                           now("tranche_amount"), 0.0)  # fmt: skip
        # A round is attempted when the runway after the tranche is short of the trigger
        # and the cooldown since the last attempt has passed.
        trigger = now("raise_trigger_months")
        attempt = (
            (trigger > 0)
            & (cash_flow < 0)
            & (cash_before + tranche < trigger * -cash_flow)
            & (t - last_attempt >= now("raise_cooldown_months"))
        )
        raised = now("raise_arr_multiple") * 12.0 * revenue
        success = attempt & (v_round < now("raise_success_probability")) & (raised > 0)
        last_attempt = np.where(attempt, float(t), last_attempt)
        rounds = rounds + success
        kept = 1.0 - now("raise_arr_multiple") / now("valuation_arr_multiple")
        ownership = np.where(success, ownership * kept, ownership)
        financing = tranche + np.where(success, raised, 0.0)
        cash = cash_before + financing  # Cash_t
        # (18) Gross margin, floored; 0 revenue gives the floor (a loss) or 0 (no loss).
        ratio = np.divide(gross_profit, revenue, out=np.zeros_like(revenue), where=revenue > 0)
        margin = np.where(
            revenue > 0,
            np.maximum(ratio, GROSS_MARGIN_FLOOR),
            np.where(gross_profit < 0, GROSS_MARGIN_FLOOR, 0.0),
        )
        # (18) Cost per 1e6 tokens; 0 when no token is served.
        cost_per_mtok = np.divide(
            _TOKENS_PER_PRICE_UNIT * inference_cost,
            tokens,
            out=np.zeros_like(tokens),
            where=tokens != 0,
        )

        out = monthly[:, :, t - 1]
        out[:, _MONTHLY["users"]] = users
        out[:, _MONTHLY["revenue"]] = revenue
        out[:, _MONTHLY["inference_cost"]] = inference_cost
        out[:, _MONTHLY["gross_margin"]] = margin
        out[:, _MONTHLY["operating_profit"]] = operating_profit
        out[:, _MONTHLY["cash_flow"]] = cash_flow
        out[:, _MONTHLY["cash"]] = cash
        out[:, _MONTHLY["gpus"]] = gpus
        out[:, _MONTHLY["cost_per_mtok"]] = cost_per_mtok
        out[:, _MONTHLY["idle_commitment_cost"]] = idle_cost
        out[:, _MONTHLY["financing"]] = financing

    per_path = path_outcomes(monthly, initial_cash, discount_rate, rounds, ownership)
    return {"monthly": monthly, "per_path": per_path, "never": float(horizon + 1)}


def _first_month(hit: np.ndarray) -> np.ndarray:
    """First month t (1-based) with ``hit[:, t - 1]`` true, else T + 1."""
    horizon = hit.shape[1]
    return np.where(hit.any(axis=1), hit.argmax(axis=1) + 1, horizon + 1).astype(np.float64)


def path_outcomes(
    monthly: np.ndarray, initial_cash, discount_rate, rounds=0.0, ownership=1.0
) -> np.ndarray:
    """The per-path outcomes of the specification from the monthly outcomes.

    Parameters
    ----------
    monthly : numpy.ndarray
        ``(n_paths, 11, T)`` in ``MONTHLY_NAMES`` order.
    initial_cash, discount_rate : array_like
        Per path (or scalars).
    rounds, ownership : array_like, optional
        Per path (or scalars): successful rounds and the stake retained.

    Returns
    -------
    numpy.ndarray
        ``(n_paths, 12)`` float64 in ``PATH_NAMES`` order; months that never come are T + 1.
    """
    n_paths, _, horizon = monthly.shape
    initial_cash = np.broadcast_to(np.asarray(initial_cash, np.float64), (n_paths,))
    discount_rate = np.broadcast_to(np.asarray(discount_rate, np.float64), (n_paths,))
    months = np.arange(1, horizon + 1, dtype=np.float64)
    cash_flow = monthly[:, _MONTHLY["cash_flow"]]
    cash = monthly[:, _MONTHLY["cash"]]
    operating_profit = monthly[:, _MONTHLY["operating_profit"]]
    revenue = monthly[:, _MONTHLY["revenue"]]
    never = float(horizon + 1)

    out = np.empty((n_paths, N_PATH))
    # Simple annual compounding: month t is discounted by (1 + rate)^(t / 12).
    factor = (1.0 + discount_rate[:, None]) ** (months[None, :] / 12.0)
    out[:, _PATH["npv"]] = np.sum(cash_flow / factor, axis=1)
    out[:, _PATH["cumulative_operating_profit"]] = operating_profit.sum(axis=1)
    out[:, _PATH["terminal_cash"]] = cash[:, -1]
    out[:, _PATH["min_cash"]] = cash.min(axis=1)
    out[:, _PATH["terminal_arr"]] = 12.0 * revenue[:, -1]
    out[:, _PATH["first_profit_month"]] = _first_month(operating_profit > 0)
    # Payback (sustained break-even of the business): the month after the last one in
    # which initial cash + cumulative cash flow (financing excluded) was below initial
    # cash (month 1 if none was); never if the horizon ends below it. A running sum
    # from initial_cash, so with no financing it is the cash itself, bit for bit.
    running = np.cumsum(np.concatenate([initial_cash[:, None], cash_flow], axis=1), axis=1)
    below = running[:, 1:] < initial_cash[:, None]
    last_below = np.where(below.any(axis=1), horizon - below[:, ::-1].argmax(axis=1), 0)
    payback = (last_below + 1).astype(np.float64)
    out[:, _PATH["payback_month"]] = np.where(below[:, -1], never, payback)
    out[:, _PATH["ruin_month"]] = _first_month(cash < 0)
    out[:, _PATH["capital_raised"]] = monthly[:, _MONTHLY["financing"]].sum(axis=1)
    out[:, _PATH["rounds"]] = np.broadcast_to(np.asarray(rounds, np.float64), (n_paths,))
    out[:, _PATH["ownership_retained"]] = np.broadcast_to(
        np.asarray(ownership, np.float64), (n_paths,)
    )
    out[:, _PATH["funding_gap"]] = np.maximum(-out[:, _PATH["min_cash"]], 0.0)
    return out


def run_reference(
    packed,
    shock_chol,
    horizon_months: int,
    *,
    seed: int,
    paths,
    antithetic: bool = False,
    stress=None,
    given=None,
) -> dict:
    """Draw the static inputs and simulate: :func:`static_inputs` then :func:`simulate_reference`.

    Parameters
    ----------
    packed : montecarlo.inputs.PackedInputs
        All 56 model inputs, named and ordered as ``layout.INPUT_NAMES``.
    shock_chol, horizon_months, seed, paths, antithetic, stress
        As for :func:`simulate_reference`.
    given : tuple (values, mask), optional
        ``values`` ``(n_paths, 56)`` replace the drawn inputs in the columns where the
        boolean ``mask`` (56,) is set.

    Returns
    -------
    dict
        :func:`simulate_reference`'s dict plus ``inputs``, the ``(n_paths, 56)`` draws.
    """
    if tuple(packed.names) != INPUT_NAMES:
        raise ValueError("packed inputs must be the model's inputs in layout.INPUT_NAMES order")
    paths = _as_paths(paths)
    inputs = ref.static_inputs(seed, paths, packed, antithetic)
    if given is not None:
        values, mask = given
        inputs[:, mask] = np.asarray(values, dtype=np.float64)[:, mask]
    result = simulate_reference(
        inputs,
        shock_chol,
        horizon_months,
        seed=seed,
        paths=paths,
        antithetic=antithetic,
        stress=stress,
    )
    result["inputs"] = inputs
    return result
