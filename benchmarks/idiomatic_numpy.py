"""The full model of spec v2 as a competent user would write it in plain numpy.

This is the baseline the engine has to beat: what someone who knows numpy and
scipy would write for this model if ``montecarlo`` did not exist. It reads the
scenario's inputs (their scipy distributions, the copula correlation and the
shock correlation) and nothing else from the package: no Philox streams, no
numba, no sketches.

How it is written, and why:

- Vectorised over a chunk of paths (30,000 by default, a few MB per state
  array) with a Python loop over months: the month recursion is serial, the
  paths are independent.
- Random numbers from one ``numpy.random.default_rng(seed)``. Uncorrelated
  static inputs use scipy's ``rvs`` with that generator (it calls numpy's own
  beta, triangular, normal... samplers); inputs in the Gaussian copula get
  correlated normals and ``ppf(Phi(z))``. Constants stay Python floats.
- Means and standard deviations come from running sums of x and x**2 per
  month; probabilities from counts; quantiles exactly, with ``np.quantile``
  over every path of a month, which needs all (paths, months) values of the
  eleven outcomes: they are kept as float32 (2.6 GB at 1e6 paths x 60 months)
  while that fits ``quantile_memory``, and quantiles are skipped otherwise.

The streams differ from the engine's, so results agree with
:func:`montecarlo.engine.simulate` statistically, not path by path;
:func:`check_against_engine` checks that.
"""

from __future__ import annotations

import math
import time

import numpy as np
import scipy.special

#: Months per year, hours per month and days per month of the specification.
DT = 1.0 / 12.0
HOURS_PER_MONTH = 730.0
DAYS_PER_MONTH = 365.0 / 12.0
#: Gross margin floor for months without revenue (documented in docs/model.md).
GROSS_MARGIN_FLOOR = -1.0e6

#: The eleven per-month outcomes, in the engine's order.
MONTHLY = (
    "users",
    "revenue",
    "inference_cost",
    "gross_margin",
    "operating_profit",
    "cash_flow",
    "cash",
    "gpus",
    "cost_per_mtok",
    "idle_commitment_cost",
    "financing",
)
#: The per-path outcomes, in the engine's order; three are months (never = T + 1).
PER_PATH = (
    "npv",
    "cumulative_operating_profit",
    "terminal_cash",
    "min_cash",
    "terminal_arr",
    "first_profit_month",
    "payback_month",
    "ruin_month",
    "capital_raised",
    "rounds",
    "ownership_retained",
    "funding_gap",
)
#: Quantile levels, as the engine reports by default.
QUANTILES = (0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99)


def _factor(matrix) -> np.ndarray:
    """A lower factor L with L L^T = matrix; positive semi-definite matrices are allowed."""
    matrix = np.asarray(matrix, dtype=np.float64)
    try:
        return np.linalg.cholesky(matrix)
    except np.linalg.LinAlgError:
        # Singular but PSD (e.g. perfectly correlated shocks): factor through the eigenvalues.
        w, v = np.linalg.eigh(matrix)
        return v * np.sqrt(np.clip(w, 0.0, None))


def _from_uniform(dist, u: np.ndarray) -> np.ndarray:
    frozen = dist.to_scipy()
    if hasattr(frozen, "ppf"):
        return frozen.ppf(u)
    return dist.ppf(u)  # finite laws (empirical, discrete) have no scipy ppf here


def sample_inputs(scenario, n: int, rng: np.random.Generator) -> dict:
    """Static inputs of ``n`` paths: a float for a constant, an ``(n,)`` array otherwise.

    Parameters
    ----------
    scenario : montecarlo.scenario.Scenario
        Supplies the inputs' distributions and their copula correlation.
    n : int
        Number of paths.
    rng : numpy.random.Generator
        Source of all randomness.

    Returns
    -------
    dict
        Input name to value, for every input of the specification.
    """
    correlation = scenario.correlation
    correlated = tuple(correlation.names) if correlation is not None else ()
    values = {}
    for name, dist in scenario.inputs.items():
        if dist.is_constant:
            values[name] = float(dist.value)
        elif name not in correlated:
            frozen = dist.to_scipy()
            if hasattr(frozen, "rvs"):
                values[name] = frozen.rvs(size=n, random_state=rng)
            else:
                values[name] = dist.ppf(rng.random(n))
    if correlated:
        # Gaussian copula: correlated normals, then each input's inverse CDF of Phi(z).
        # ``gaussian`` is the normal-score correlation (Spearman already converted).
        z = rng.standard_normal((n, len(correlated))) @ _factor(correlation.gaussian).T
        u = scipy.special.ndtr(z)
        for j, name in enumerate(correlated):
            dist = scenario.inputs[name]
            if dist.is_constant:
                values[name] = float(dist.value)
            else:
                values[name] = _from_uniform(dist, u[:, j])
    return values


def simulate_numpy(
    scenario,
    n_paths: int,
    *,
    seed: int = 0,
    chunk_paths: int = 30_000,
    quantiles=QUANTILES,
    quantile_memory: float = 4 * 2**30,
    keep_paths: bool = False,
) -> dict:
    """Simulate the model of spec v2 in plain numpy and reduce it like ``simulate``.

    Parameters
    ----------
    scenario : montecarlo.scenario.Scenario
        The scenario.
    n_paths : int
        Number of paths.
    seed : int
        Seed of ``numpy.random.default_rng``.
    chunk_paths : int
        Paths advanced together through the month loop.
    quantiles : sequence of float
        Quantile levels of the per-month distributions.
    quantile_memory : float
        Bytes the float32 (outcome, month, path) store may take; above it no
        quantiles are computed (``"quantiles"`` is None).
    keep_paths : bool
        Return the per-path outcomes.

    Returns
    -------
    dict
        ``mean``, ``std`` (11, T); ``quantiles`` (11, nq, T) or None;
        ``p_profitable``, ``p_ruined`` (T,); ``per_path`` (name to (n_paths,)
        array) or None; ``seconds`` spent in ``inputs``, ``months`` and
        ``quantiles``.
    """
    T = int(scenario.horizon_months)
    never = T + 1.0
    rng = np.random.default_rng(seed)
    shock_chol = _factor(scenario.shock_correlation)
    q = np.asarray(quantiles, dtype=np.float64)
    sums = np.zeros((len(MONTHLY), T))
    sums2 = np.zeros((len(MONTHLY), T))
    profitable = np.zeros(T, dtype=np.int64)
    ruin_counts = np.zeros(T + 2, dtype=np.int64)
    # Month-major so that each month's row of paths is contiguous for np.quantile.
    store_bytes = 4.0 * len(MONTHLY) * T * n_paths
    store = (
        np.empty((len(MONTHLY), T, n_paths), dtype=np.float32)
        if store_bytes <= quantile_memory
        else None
    )
    per_path = {k: np.empty(n_paths) for k in PER_PATH} if keep_paths else None
    seconds = {"inputs": 0.0, "months": 0.0, "quantiles": 0.0}

    for first in range(0, n_paths, chunk_paths):
        n = min(chunk_paths, n_paths - first)
        start = time.perf_counter()
        x = sample_inputs(scenario, n, rng)
        seconds["inputs"] += time.perf_counter() - start
        start = time.perf_counter()

        # Per-path constants.
        r, K = x["adoption_rate"], x["user_ceiling"]
        su, sa, sh = x["user_volatility"], x["api_volatility"], x["hardware_volatility"]
        paid_share, q_free, q_paid = (
            x["paid_share"],
            x["queries_per_free_user_day"],
            x["queries_per_paid_user_day"],
        )
        phi, s_util = x["utilization_persistence"], x["utilization_volatility"]
        rent = x["rent_share"]
        m = np.log(x["utilization_mean"] / (1.0 - x["utilization_mean"]))
        retire = 1.0 / (12.0 * x["gpu_life_years"])
        log_e_mean = np.log(x["electricity_mean"])
        discount_factor = (1.0 + x["discount_rate"]) ** (-1.0 / 12.0)
        cash0 = x["initial_cash"]

        # Month 0 (spec steps 10 and 13 at t = 0).
        users = x["users_0"] * np.ones(n)
        paid = paid_share * users
        consumer = ((users - paid) * q_free + paid * q_paid) * DAYS_PER_MONTH
        tokens = consumer * x["tokens_per_query_0"] + x["api_tokens_0"]
        gpus = tokens / (3600.0 * x["throughput_0"]) / x["utilization_mean"] / HOURS_PER_MONTH
        fleet = (1.0 - rent) * gpus
        book = fleet * x["gpu_capex_0"]
        api = x["api_tokens_0"] * np.ones(n)
        util_x = m * np.ones(n)
        hw = np.ones(n)
        y = np.log(x["electricity_price_0"]) * np.ones(n)
        cash = cash0 * np.ones(n)
        # v2: the committed schedule starts at share x H_0, at a price fixed at signing.
        committed_0 = x["commitment_share"] * gpus * HOURS_PER_MONTH
        committed_price = x["gpu_rent_price_0"] * (1.0 - x["commitment_discount"])
        kept_stake = 1.0 - x["raise_arr_multiple"] / x["valuation_arr_multiple"]
        last_attempt = np.full(n, -np.inf)
        rounds = np.zeros(n)
        ownership = np.ones(n)
        capital = np.zeros(n)
        operating_cash = cash0 * np.ones(n)

        npv = np.zeros(n)
        cum_op = np.zeros(n)
        min_cash = np.full(n, np.inf)
        first_profit = np.full(n, never)
        last_below = np.zeros(n)
        ruin = np.full(n, never)

        for t in range(1, T + 1):
            z = shock_chol @ rng.standard_normal((5, n))
            v, v_round, v_tranche = rng.random((3, n))
            # 1-4. Users, paid and free users, consumer tokens.
            users = users * np.exp(
                r * DT * (1.0 - users / K) - 0.5 * su**2 * DT + su * math.sqrt(DT) * z[0]
            )
            paid = paid_share * users
            tau = x["tokens_per_query_0"] * np.exp(x["tokens_per_query_growth"] * t * DT)
            consumer = ((users - paid) * q_free + paid * q_paid) * DAYS_PER_MONTH * tau
            # 5-7. API volume and price; revenue and partner share.
            api = api * np.exp((x["api_growth"] - 0.5 * sa**2) * DT + sa * math.sqrt(DT) * z[1])
            price = x["api_price_0"] * np.exp(-x["api_price_decline"] * t * DT)
            revenue = paid * x["subscription_price"] + api * price / 1e6
            partner = x["revenue_share"] * revenue
            # 8-10. Throughput, utilisation, GPU-hours and GPUs.
            throughput = x["throughput_0"] * np.exp(x["throughput_gain"] * t * DT)
            util_x = m + phi * (util_x - m) + s_util * z[2]
            util = 1.0 / (1.0 + np.exp(-util_x))
            tokens = consumer + api
            hours = tokens / (3600.0 * throughput) / util
            gpus = hours / HOURS_PER_MONTH
            # 11. Hardware price index with Bernoulli generation jumps.
            jump = np.where(
                v < x["generation_jump_rate"] * DT, 1.0 - x["generation_jump_size"], 1.0
            )
            hw = hw * np.exp((x["hardware_drift"] - 0.5 * sh**2) * DT + sh * math.sqrt(DT) * z[3])
            hw = hw * jump
            # 12. Rented capacity: committed hours at the committed price, the rest on demand.
            committed = np.where(
                t <= x["commitment_months"],
                committed_0 * np.exp(x["commitment_growth"] * (t - 1) * DT),
                0.0,
            )
            need = rent * hours
            discount = np.where(t <= x["discount_months"], x["compute_discount"], 0.0)
            rented = np.maximum(need - committed, 0.0) * x["gpu_rent_price_0"] * hw * (
                1.0 - discount) + committed * committed_price  # fmt: skip
            idle = np.maximum(committed - need, 0.0) * committed_price
            # 13. Owned fleet, purchases, depreciation.
            kept = fleet * (1.0 - retire)
            fleet = np.maximum(kept, (1.0 - rent) * gpus)
            capex = (fleet - kept) * x["gpu_capex_0"] * hw
            depreciation = retire * book
            book = book - depreciation + capex
            # 14. Electricity and other owned-fleet costs.
            y = y + x["electricity_reversion"] * DT * (log_e_mean - y)
            y = y + x["electricity_volatility"] * math.sqrt(DT) * z[4]
            energy = fleet * HOURS_PER_MONTH * x["gpu_power_kw"] * x["pue"] * np.exp(y)
            other = fleet * HOURS_PER_MONTH * x["other_cost_per_gpu_hour"]
            # 15-17. Company costs, profit and cash.
            opex = x["fixed_opex_0"] * np.exp(x["opex_growth"] * t * DT)
            training = x["training_spend_0"] * np.exp(x["training_growth"] * t * DT)
            compute = rented + depreciation + energy + other
            gross = revenue - partner - compute
            operating = gross - opex - training
            cash_flow = revenue - partner - rented - energy - other - capex - opex - training
            cash = cash + cash_flow
            # 17 (v2). The tranche in its month, then a round when the runway is short.
            tm = x["tranche_month"]
            tranche = np.where((t - 1 < tm) & (tm <= t) & (v_tranche < x["tranche_probability"]),
                               x["tranche_amount"], 0.0)  # fmt: skip
            trigger = x["raise_trigger_months"]
            attempt = (trigger > 0) & (cash_flow < 0) & (cash + tranche < trigger * -cash_flow)
            attempt &= t - last_attempt >= x["raise_cooldown_months"]
            raised = x["raise_arr_multiple"] * 12.0 * revenue
            success = attempt & (v_round < x["raise_success_probability"]) & (raised > 0)
            last_attempt = np.where(attempt, t, last_attempt)
            rounds += success
            ownership = np.where(success, ownership * kept_stake, ownership)
            financing = tranche + np.where(success, raised, 0.0)
            cash = cash + financing
            capital += financing
            operating_cash = operating_cash + cash_flow
            # 18. Derived ratios, kept finite.
            with np.errstate(divide="ignore", invalid="ignore"):
                margin = np.where(
                    revenue > 0.0,
                    np.maximum(gross / revenue, GROSS_MARGIN_FLOOR),
                    np.where(gross < 0.0, GROSS_MARGIN_FLOOR, 0.0),
                )
                cost_per_mtok = np.where(tokens > 0.0, 1e6 * compute / tokens, 0.0)

            # Per-path trackers.
            npv += cash_flow * discount_factor**t
            cum_op += operating
            np.minimum(min_cash, cash, out=min_cash)
            first_profit = np.where((first_profit == never) & (operating > 0.0), t, first_profit)
            last_below = np.where(operating_cash < cash0, t, last_below)
            ruin = np.where((ruin == never) & (cash < 0.0), t, ruin)

            # Reductions of the month.
            outcomes = (users, revenue, compute, margin, operating, cash_flow, cash, gpus,
                        cost_per_mtok, idle, financing)  # fmt: skip
            for i, values in enumerate(outcomes):
                sums[i, t - 1] += values.sum()
                sums2[i, t - 1] += values @ values
                if store is not None:
                    store[i, t - 1, first : first + n] = values
            profitable[t - 1] += np.count_nonzero(operating > 0.0)

        ruin_counts += np.bincount(ruin.astype(np.int64), minlength=T + 2)
        if per_path is not None:
            payback = np.where(operating_cash >= cash0, last_below + 1.0, never)
            chunk = (npv, cum_op, cash, min_cash, 12.0 * revenue, first_profit, payback, ruin,
                     capital, rounds, ownership, np.maximum(-min_cash, 0.0))  # fmt: skip
            for name, values in zip(PER_PATH, chunk, strict=True):
                per_path[name][first : first + n] = values
        seconds["months"] += time.perf_counter() - start

    start = time.perf_counter()
    quant = None
    if store is not None:
        quant = np.empty((len(MONTHLY), q.size, T))
        for i in range(len(MONTHLY)):
            quant[i] = np.quantile(store[i], q, axis=1)
    seconds["quantiles"] = time.perf_counter() - start
    del store

    mean = sums / n_paths
    var = (sums2 - sums**2 / n_paths) / max(n_paths - 1, 1)
    return {
        "n_paths": n_paths,
        "horizon": T,
        "mean": mean,
        "std": np.sqrt(np.maximum(var, 0.0)),
        "quantile_levels": q,
        "quantiles": quant,
        "p_profitable": profitable / n_paths,
        "p_ruined": np.cumsum(ruin_counts[1 : T + 1]) / n_paths,
        "per_path": per_path,
        "seconds": seconds,
    }


def check_against_engine(scenario, n_paths: int = 20_000, *, seed: int = 1) -> dict:
    """Compare this version with the numba engine on the same scenario, statistically.

    The two use different random streams, so their estimates differ by
    sampling error: month-T means are compared in standard errors of the
    difference, sqrt(s1^2 / n + s2^2 / n), and probabilities in binomial
    standard errors. ``ok`` is true when every |z| < 4.

    Returns
    -------
    dict
        ``rows`` (quantity, engine, numpy, z) and ``ok``.
    """
    from montecarlo.engine import simulate

    ds = simulate(scenario, n_paths, seed=seed, keep_paths=False, progress=False)
    ours = simulate_numpy(scenario, n_paths, seed=seed, quantiles=(0.5,))
    T = ours["horizon"]
    rows = []
    for name in ("users", "revenue", "inference_cost", "operating_profit", "cash", "financing"):
        i = MONTHLY.index(name)
        a, b = float(ds[f"{name}_mean"][-1]), float(ours["mean"][i, -1])
        sa, sb = float(ds[f"{name}_std"][-1]), float(ours["std"][i, -1])
        se = math.sqrt((sa**2 + sb**2) / n_paths)
        rows.append({"quantity": f"mean {name}, month {T}", "engine": a, "numpy": b,
                     "z": (b - a) / se if se > 0 else 0.0})  # fmt: skip
    for name, a, b in (
        (f"P(ruined by month {T})", float(ds.p_ruined[-1]), float(ours["p_ruined"][-1])),
        (f"P(profitable, month {T})", float(ds.p_profitable[-1]), float(ours["p_profitable"][-1])),
    ):
        p = 0.5 * (a + b)
        se = math.sqrt(p * (1.0 - p) * 2.0 / n_paths)
        rows.append({"quantity": name, "engine": a, "numpy": b,
                     "z": (b - a) / se if se > 0 else 0.0})  # fmt: skip
    return {"n_paths": n_paths, "rows": rows, "ok": all(abs(r["z"]) < 4.0 for r in rows)}


def format_check(check: dict) -> str:
    """A plain-text table of :func:`check_against_engine`'s rows."""
    header = f"{'quantity':32s} {'numba engine':>14s} {'idiomatic numpy':>16s} {'z':>7s}"
    lines = [
        f"idiomatic numpy vs numba engine, {check['n_paths']} paths each (different streams)",
        header,
        "-" * len(header),
    ]
    for row in check["rows"]:
        lines.append(
            f"{row['quantity']:32s} {row['engine']:14.5g} {row['numpy']:16.5g} {row['z']:7.2f}"
        )
    lines.append("agreement: " + ("ok (all |z| < 4)" if check["ok"] else "FAILED (some |z| >= 4)"))
    return "\n".join(lines)
