"""Calibrated preset scenarios, as plain data.

Each preset maps every input of the model specification to a number (a
constant) or to a distribution spec in the form
:func:`montecarlo.distributions.from_dict` reads (``{"dist": "pert", ...}``),
plus ``correlation`` (Spearman rank correlations of static inputs, or None),
``shock_correlation`` (5x5 over the shocks users, api, utilization, hardware,
electricity) and ``horizon_months``. :class:`montecarlo.scenario.Scenario`
validates them; nothing here is validated on import.

Every number comes from a row of the project's calibration sheet (public
figures with their sources, ``shared/CALIBRATION.md``) or is marked
"assumption". The comment beside each value names its row; docs/model.md
tabulates all of them with their sources and the derivations.

Conventions used by all four presets:

- t = 0 is February 2025 (ChatGPT at 400M weekly active users). Users are
  weekly active users, and queries per user per day are per weekly active
  user, as NBER w34255 reports them.
- Tokens per query count input and output tokens; ``throughput_0`` is the
  calibration sheet's *output* rate, so every token is charged the GPU time
  of a generated one. That overstates the cost of reading (prefill is several
  times faster per token) and stands in for what a one-throughput model
  leaves out (long contexts, hidden reasoning, images and voice, headroom for
  latency).
- frontier-lab carries its whole inference bill, free users included: its
  year-1 median inference cost (12.3B) matches the leaked Azure inference
  spend (8.67B for January-September 2025, ~0.96B a month), while the compute
  margin on *paying* users at the input means is the reported 52% (The
  Information: 35% / 52% / 70%); overall it is ~3% in month 1.
- The hardware index carries the price-performance gain of hardware (Epoch
  AI: about 30%/yr cheaper at fixed performance), as a drift plus generation
  jumps; ``throughput_gain`` carries serving-software gains only, so the two
  do not count the same improvement twice.
- Triangular and PERT laws take (low, mode, high) straight from a row's
  low / likely / high; a lognormal "90% in [a, b]" is written with
  :func:`_lognormal_90`.
"""

from __future__ import annotations

import math
from typing import Any

from kernels.layout import COMMITMENT_INPUTS, NEUTRAL_V2, TRANCHE_INPUTS

from .distributions import LogNormal

#: Hours per month in the model (spec: 730).
_HOURS = 730.0
#: Server power per GPU in kW: H100 board power 700 W x server overhead 1.82 (Epoch AI).
_SERVER_KW = 0.700 * 1.82
#: Mean of the Bernoulli hardware-generation jumps per year: rate 0.5/yr x size 0.3.
_JUMP_DECLINE = 0.5 * 0.3


def _pert(low: float, mode: float, high: float) -> dict[str, Any]:
    return {"dist": "pert", "low": low, "mode": mode, "high": high}


def _triangular(low: float, mode: float, high: float) -> dict[str, Any]:
    return {"dist": "triangular", "low": low, "mode": mode, "high": high}


def _lognormal_90(low: float, high: float) -> dict[str, Any]:
    """Lognormal with 90% of its mass in [low, high] (5th and 95th percentiles)."""
    return LogNormal.from_interval(low, high).to_dict()


def _decline(fraction: float) -> float:
    """Continuous annual rate of a decline by ``fraction`` per year: -ln(1 - fraction)."""
    return round(0.0 - math.log(1.0 - fraction), 4)  # 0.0 - keeps a zero decline from being -0.0


def _blended_price(input_price: float, output_price: float) -> float:
    """USD per 1e6 tokens at 3 input tokens per output token (1500 in / 500 out per message)."""
    return round((3.0 * input_price + output_price) / 4.0, 4)


# ------------------------------------------------------------------------------------------
# Shared rows of the calibration sheet
# ------------------------------------------------------------------------------------------

# Demand and revenue
_MESSAGES_PER_DAY = _pert(2.0, 3.6, 7.0)  # NBER w34255: 2.5B messages/day over ~700M WAU
_HEAVY_USER_MESSAGES = 7.0  # top of the NBER range; assumption: payers are the heavy users
# Output 270 / 500 / 1500+ plus input 300 / 1500 / 20000 tokens per message.
_TOKENS_PER_QUERY = _pert(270.0 + 300.0, 500.0 + 1500.0, 1500.0 + 20000.0)
# Reasoning models write 1500+ output tokens vs 500: a tripling over ~3 years is ln(3)/3 = 0.37.
_TOKENS_GROWTH = _pert(0.0, 0.35, 0.7)  # assumption from the output-tokens row
_PAID_SHARE = _pert(0.03, 0.05, 0.085)  # paid conversion of WAU
_BLENDED_SUBSCRIPTION = _pert(15.0, 22.0, 35.0)  # blended revenue per paying user
# Frontier list prices fall 0 / 30 / 60 %/yr.
_FRONTIER_PRICE_DECLINE = _pert(_decline(0.0), _decline(0.30), _decline(0.60))

# Hardware
_H100_CONTRACT = _pert(1.6, 2.1, 2.6)  # USD/GPU-h, H100 1-yr contract (SemiAnalysis index)
_H100_NEOCLOUD = _pert(1.8, 2.4, 3.0)  # USD/GPU-h, H100 neocloud on-demand
_H100_HYPERSCALER = _pert(3.5, 5.0, 7.0)  # USD/GPU-h, H100 hyperscaler on-demand
_H100_SERVER_PER_GPU = 280_000.0 / 8  # 8xH100 server 280k (SemiAnalysis, Thinkmate)
# E[h] falls by the price-performance gain 20 / 30 / 40 %/yr; jumps supply 0.15/yr of it.
_HARDWARE_DRIFT = _pert(
    *(round(math.log(1.0 - gain) + _JUMP_DECLINE, 4) for gain in (0.40, 0.30, 0.20))
)
_HARDWARE_VOLATILITY = 0.25  # suggested processes: 20-30 %/yr
_GENERATION_JUMP_RATE = 0.5  # assumption: a new GPU generation about every two years
_GENERATION_JUMP_SIZE = 0.3  # assumption: -30% on the index per generation (spec's example)
_SOFTWARE_GAIN = 0.15  # assumption: batching, quantisation, speculative decoding
_UTILIZATION = _pert(0.35, 0.55, 0.80)  # fleet utilisation (DeepSeek 0.82 the high end)
_LIFE_YEARS = 5.0  # useful life: likely 5 years (10-K filings)

# Power and facilities (an owned H100: 700 W board power)
_POWER_KW = round(0.700 * 1.82 * 0.7, 3)  # board power x server/TDP 1.82 x average/peak 0.7
_PUE = 1.2  # likely PUE
_ELECTRICITY = 0.082  # USD/kWh, EIA US industrial 2023 (8.06 c)
_ELECTRICITY_REVERSION = 0.5  # assumption: half-life ln 2 / 0.5 = 1.4 years
_ELECTRICITY_VOLATILITY = 0.10  # assumption: contracted buyers see low volatility
_COLOCATION = round(184.0 * _SERVER_KW / _HOURS, 4)  # CBRE 184 USD/kW-month x 1.274 kW / 730 h

# Financing of a start-up (api-startup scale): rounds of 1-3x ARR at 10-30x ARR; many fail to
# raise. Judgement: a start-up starts raising with six months of runway left and succeeds
# half the time; the cooldown is the spec's six months.
_STARTUP_ROUNDS = {
    "raise_trigger_months": 6.0,  # assumption: raise with six months of runway left
    "raise_success_probability": 0.5,  # start-up financing: "many fail to raise" (judgement)
    "raise_arr_multiple": _triangular(1.0, 2.0, 3.0),  # rounds sized at 1-3x ARR
    "raise_cooldown_months": 6.0,  # assumption: the spec's six months between attempts
    "valuation_arr_multiple": _triangular(10.0, 20.0, 30.0),  # valuation 10-30x ARR
}
#: No compute commitments and no scheduled tranche.
_NO_COMMITMENTS = {name: NEUTRAL_V2[name] for name in (*COMMITMENT_INPUTS, *TRANCHE_INPUTS)}

# Spearman correlation of the users and API shocks, where one market drives both.
_IDENTITY5 = [[1.0 if i == j else 0.0 for j in range(5)] for i in range(5)]


def _users_api_shocks(rho: float) -> list[list[float]]:
    matrix = [row[:] for row in _IDENTITY5]
    matrix[0][1] = matrix[1][0] = rho
    return matrix


# ------------------------------------------------------------------------------------------
# frontier-lab: a ChatGPT-scale consumer and API business in February 2025
# ------------------------------------------------------------------------------------------

FRONTIER_LAB: dict[str, Any] = {
    "name": "frontier-lab",
    "horizon_months": 60,
    "inputs": {
        "users_0": 400e6,  # ChatGPT 400M WAU (Feb 2025)
        "user_ceiling": _pert(1.2e9, 2.0e9, 3.0e9),  # adoption ceiling 1.2B / 2.0B / 3.0B
        # Logistic fit of 400M (Feb 2025) -> 900M (Feb 2026): the change of logit(U/K) in one
        # year is 1.0 (K = 3B), 1.19 (K = 2B), 1.79 (K = 1.2B).
        "adoption_rate": _pert(1.0, 1.2, 1.8),
        "user_volatility": 0.15,  # assumption: the reported WAU series is smooth
        "paid_share": _PAID_SHARE,
        "subscription_price": _BLENDED_SUBSCRIPTION,
        "queries_per_free_user_day": _MESSAGES_PER_DAY,
        # Derived from the compute margin on paid users, 35% / 52% / 70% (The Information): the
        # usage, in queries of tokens_per_query_0, at which (subscriptions - the inference cost
        # of paid users' tokens) / subscriptions is 52% at the input means; the ends give 70%
        # and 35%. About 7 messages a day (NBER top, payers are the heavy users) x ~7: reasoning
        # output (1500+ vs 500 tokens), long inputs (~5k vs 1500), images, voice, deep research.
        "queries_per_paid_user_day": _pert(31.0, 50.0, 68.0),
        "tokens_per_query_0": _TOKENS_PER_QUERY,
        "tokens_per_query_growth": _TOKENS_GROWTH,
        # Revenue run-rate ~0.5-0.7B/month in early 2025 (6B at end-2024, 4.3B in H1 2025) less
        # subscriptions (20M payers x 22 = 0.44B) leaves ~0.15B/month of API revenue; at the
        # blended price below that is ~5e13 tokens/month.
        "api_tokens_0": _lognormal_90(2.5e13, 1.0e14),
        # Run-rate 2B -> 6B -> 20B+ (2023-2025) grew ln 3 = 1.1-1.2/yr; judgement: slowing.
        "api_growth": _pert(0.4, 0.8, 1.2),
        "api_volatility": 0.30,  # assumption
        # List prices blended 3:1 input:output: 4o-mini 0.26, GPT-5 3.44, Sonnet 6.0.
        "api_price_0": _triangular(
            _blended_price(0.15, 0.60), _blended_price(1.25, 10.0), _blended_price(3.0, 15.0)
        ),
        "api_price_decline": _FRONTIER_PRICE_DECLINE,
        "revenue_share": 0.20,  # Microsoft terms: 20% revenue share
        "throughput_0": _pert(250.0, 700.0, 1900.0),  # frontier model on Hopper, output tok/s
        "throughput_gain": _SOFTWARE_GAIN,
        "utilization_mean": _UTILIZATION,
        "utilization_persistence": 0.8,  # assumption: utilisation is persistent
        "utilization_volatility": 0.2,  # assumption (logit units per month)
        "rent_share": 1.0,  # rents its fleet from its partner
        # Its partner is a hyperscaler: hyperscaler on-demand. The contract prices are the
        # discounts below (a contract price here, discounted again, would count them twice).
        "gpu_rent_price_0": _H100_HYPERSCALER,
        "gpu_capex_0": _H100_SERVER_PER_GPU,  # unused while rent_share = 1
        "hardware_drift": _HARDWARE_DRIFT,
        "hardware_volatility": _HARDWARE_VOLATILITY,
        "generation_jump_rate": _GENERATION_JUMP_RATE,
        "generation_jump_size": _GENERATION_JUMP_SIZE,
        # Hours beyond the commitments: commitment discount vs on-demand, 1 yr likely 40%.
        "compute_discount": 0.40,
        "discount_months": 36.0,  # assumption: the partner terms last three more years
        "gpu_life_years": _LIFE_YEARS,
        "gpu_power_kw": _POWER_KW,
        "pue": _PUE,
        "electricity_price_0": _ELECTRICITY,
        "electricity_mean": _ELECTRICITY,
        "electricity_reversion": _ELECTRICITY_REVERSION,
        "electricity_volatility": _ELECTRICITY_VOLATILITY,
        "other_cost_per_gpu_hour": _COLOCATION,
        # Sized with the spec's equations at the input means (docs/model.md): month-1 revenue
        # 0.71B less the partner's 0.14B and inference 0.69B leaves a gross loss of 0.12B;
        # fixed opex 0.45B and training 0.70B (0.46B and 0.72B after a month of growth) then
        # give an operating loss of 1.30B in month 1, the H1 2025 operating loss 7.8B / 6 =
        # 1.3B per month (the 2024 loss, ~5B, averaged 0.42B per month).
        "fixed_opex_0": 0.45e9,
        "opex_growth": 0.20,  # assumption
        "training_spend_0": 0.70e9,
        "training_growth": 0.30,  # assumption
        # Cash in hand in February 2025: the October 2024 round (6.6B) and the part of the
        # March 2025 round paid at once (10B); assumption: earlier cash about offsets the burn
        # since October. The contingent 30B is the tranche below.
        "initial_cash": 16.6e9,
        "discount_rate": 0.12,  # assumption: cost of capital
        # Compute commitments (docs/model.md derives them): the contracts cover the hours
        # provisioned at t = 0 and grow at the rate that spreads the inference half of ~1.4T
        # (company statement, Nov 2025) over ~8 years from that start.
        "commitment_share": 1.0,  # assumption: the t = 0 fleet is under contract
        "commitment_growth": 0.48,  # derived: ~0.69T over 96 months from 0.61B in month 1
        "commitment_months": 96.0,  # ~1.4T over ~8 years
        "commitment_discount": 0.55,  # commitment discount vs on-demand, 3 yr likely 55%
        # SoftBank-led round, March 2025: 30B by the end of 2025 contingent on the restructuring,
        # cut to 20B if it failed. Assumption: 3 in 4 that it succeeds.
        "tranche_amount": {"dist": "discrete", "values": [20e9, 30e9], "probs": [0.25, 0.75]},
        "tranche_month": 10.0,  # December 2025 (t = 0 is February 2025)
        "tranche_probability": 1.0,  # paid in either case, 20B or 30B
        "raise_trigger_months": 12.0,  # assumption: raise with a year of runway left
        "raise_success_probability": 0.8,  # assumption: every reported round closed
        # Round sizes of the reported rounds relative to revenue: 6.6B / 3.7B (Oct 2024) = 1.8x,
        # 40B / 12.7B (Mar 2025) = 3.1x.
        "raise_arr_multiple": {"dist": "uniform", "low": 1.8, "high": 3.1},
        "raise_cooldown_months": 6.0,  # the two reported rounds were ~6 months apart
        # Valuation multiples: 300B / ~12.7B = 24x; the 500B secondary sale ~ 38x.
        "valuation_arr_multiple": {"dist": "uniform", "low": 24.0, "high": 38.0},
    },
    # Spearman rank correlations.
    "correlation": {
        "names": ["adoption_rate", "user_ceiling", "paid_share", "subscription_price"],
        "matrix": [
            # The observed WAU path ties rate and ceiling: a lower ceiling needs a faster rate.
            [1.0, -0.6, 0.0, 0.0],
            [-0.6, 1.0, 0.0, 0.0],
            # Assumption: a higher blended price comes with fewer payers.
            [0.0, 0.0, 1.0, -0.3],
            [0.0, 0.0, -0.3, 1.0],
        ],
        "kind": "spearman",
    },
    "shock_correlation": _IDENTITY5,
}


# ------------------------------------------------------------------------------------------
# api-startup: an open model behind a token-priced API on rented neocloud GPUs
# ------------------------------------------------------------------------------------------

API_STARTUP: dict[str, Any] = {
    "name": "api-startup",
    "horizon_months": 60,
    "inputs": {
        "users_0": 10e3,  # assumption: a small chat playground beside the API
        "user_ceiling": _pert(5e4, 2e5, 1e6),  # assumption
        "adoption_rate": _pert(0.5, 1.5, 3.0),  # assumption
        "user_volatility": 0.6,  # assumption: a start-up's demand is volatile
        "paid_share": 0.02,  # assumption: below the 3% low of ChatGPT's conversion
        "subscription_price": 20.0,  # Plus price (OpenAI help centre)
        "queries_per_free_user_day": _MESSAGES_PER_DAY,
        "queries_per_paid_user_day": _HEAVY_USER_MESSAGES,
        "tokens_per_query_0": _TOKENS_PER_QUERY,
        "tokens_per_query_growth": _TOKENS_GROWTH,
        "api_tokens_0": _lognormal_90(3e10, 3e11),  # assumption: ~40k tokens/s on average
        "api_growth": _pert(0.5, 1.5, 3.0),  # assumption
        "api_volatility": 0.8,  # assumption
        # Judgement: a 70B open model priced between the small and the frontier tier, from
        # 4o-mini's output list price (0.60) through GPT-5's input price (1.25) to GPT-5's 3:1
        # blend (3.44); its cost per 1e6 tokens at month 1 is about 1.0.
        "api_price_0": _triangular(0.60, 1.25, _blended_price(1.25, 10.0)),
        # It follows the frontier list prices by moving to newer open models; the "LLMflation"
        # row (9x/yr and more at fixed capability) is a stress case, not the default.
        "api_price_decline": _FRONTIER_PRICE_DECLINE,
        "revenue_share": 0.0,  # sells directly
        "throughput_0": _pert(400.0, 1000.0, 2500.0),  # 70B dense on H100, FP8, output tok/s
        "throughput_gain": _SOFTWARE_GAIN,
        "utilization_mean": _UTILIZATION,
        "utilization_persistence": 0.6,  # assumption
        "utilization_volatility": 0.4,  # assumption: spiky API traffic
        "rent_share": 1.0,
        "gpu_rent_price_0": _H100_NEOCLOUD,
        "gpu_capex_0": _H100_SERVER_PER_GPU,  # unused while rent_share = 1
        "hardware_drift": _HARDWARE_DRIFT,
        "hardware_volatility": _HARDWARE_VOLATILITY,
        "generation_jump_rate": _GENERATION_JUMP_RATE,
        "generation_jump_size": _GENERATION_JUMP_SIZE,
        "compute_discount": 0.0,  # on-demand: no discount
        "discount_months": 0.0,
        "gpu_life_years": _LIFE_YEARS,
        "gpu_power_kw": _POWER_KW,
        "pue": _PUE,
        "electricity_price_0": _ELECTRICITY,
        "electricity_mean": _ELECTRICITY,
        "electricity_reversion": _ELECTRICITY_REVERSION,
        "electricity_volatility": _ELECTRICITY_VOLATILITY,
        "other_cost_per_gpu_hour": _COLOCATION,
        "fixed_opex_0": 250e3,  # assumption: ~12 staff at ~20k USD/month fully loaded
        "opex_growth": 0.30,  # assumption
        "training_spend_0": 20e3,  # assumption: fine-tuning runs only
        "training_growth": 0.30,  # assumption
        "initial_cash": 5e6,  # a small seed reserve: seed/Series A 2-20M (start-up financing)
        "discount_rate": 0.30,  # assumption: venture hurdle rate
        # No commitments: it rents on demand from neoclouds. Rounds it may fail to raise.
        **_NO_COMMITMENTS,
        **_STARTUP_ROUNDS,
    },
    "correlation": None,
    # Assumption: chat users and API customers answer to the same market.
    "shock_correlation": _users_api_shocks(0.5),
}


# ------------------------------------------------------------------------------------------
# self-hosted: a mid-size provider on its own H100 fleet in colocation
# ------------------------------------------------------------------------------------------

SELF_HOSTED: dict[str, Any] = {
    "name": "self-hosted",
    "horizon_months": 60,
    "inputs": {
        "users_0": 2e6,  # assumption
        "user_ceiling": _pert(5e6, 1e7, 3e7),  # assumption
        "adoption_rate": _pert(0.3, 0.8, 1.5),  # assumption
        "user_volatility": 0.3,  # assumption
        "paid_share": _PAID_SHARE,
        "subscription_price": _BLENDED_SUBSCRIPTION,
        "queries_per_free_user_day": _MESSAGES_PER_DAY,
        "queries_per_paid_user_day": _HEAVY_USER_MESSAGES,
        "tokens_per_query_0": _TOKENS_PER_QUERY,
        "tokens_per_query_growth": _TOKENS_GROWTH,
        "api_tokens_0": _lognormal_90(3e11, 3e12),  # assumption
        "api_growth": _pert(0.2, 0.6, 1.0),  # assumption
        "api_volatility": 0.4,  # assumption
        # Between 4o-mini (0.26) and GPT-5 (3.44), blended 3:1; mode 1.0 is judgement.
        "api_price_0": _triangular(_blended_price(0.15, 0.60), 1.0, _blended_price(1.25, 10.0)),
        "api_price_decline": _FRONTIER_PRICE_DECLINE,
        "revenue_share": 0.0,
        "throughput_0": _pert(400.0, 1000.0, 2500.0),  # 70B dense on H100, FP8, output tok/s
        "throughput_gain": _SOFTWARE_GAIN,
        "utilization_mean": _UTILIZATION,
        "utilization_persistence": 0.8,  # assumption
        "utilization_volatility": 0.2,  # assumption
        "rent_share": 0.0,  # owns its whole fleet
        "gpu_rent_price_0": _H100_NEOCLOUD,  # unused while rent_share = 0
        # 8xH100 server 250k / 280k / 320k, divided by 8.
        "gpu_capex_0": _pert(250e3 / 8, 280e3 / 8, 320e3 / 8),
        "hardware_drift": _HARDWARE_DRIFT,
        "hardware_volatility": _HARDWARE_VOLATILITY,
        "generation_jump_rate": _GENERATION_JUMP_RATE,
        "generation_jump_size": _GENERATION_JUMP_SIZE,
        "compute_discount": 0.0,
        "discount_months": 0.0,
        "gpu_life_years": _pert(3.0, 5.0, 6.0),  # useful life 3 / 5 / 6 years
        # 700 W x server/TDP 1.6 / 1.82 / 2.0 x average/peak 0.5 / 0.7 / 0.9.
        "gpu_power_kw": _pert(round(0.700 * 1.6 * 0.5, 3), _POWER_KW, round(0.700 * 2.0 * 0.9, 3)),
        "pue": _pert(1.09, 1.2, 1.56),  # Google/Meta 1.09-1.10, likely 1.2, Uptime 1.56
        # EIA: 8.06 c average (2023), 7.1 c (Ohio) to 18 c (Massachusetts); the site is unknown,
        # so the start and the long-run level are both uncertain and move together.
        "electricity_price_0": _pert(0.065, _ELECTRICITY, 0.18),
        "electricity_mean": _pert(0.065, _ELECTRICITY, 0.18),
        "electricity_reversion": _ELECTRICITY_REVERSION,
        "electricity_volatility": _ELECTRICITY_VOLATILITY,
        # CBRE colocation 150 / 184 / 230 USD/kW-month x 1.274 kW per GPU / 730 h.
        "other_cost_per_gpu_hour": _pert(
            round(150.0 * _SERVER_KW / _HOURS, 4),
            _COLOCATION,
            round(230.0 * _SERVER_KW / _HOURS, 4),
        ),
        "fixed_opex_0": 1.5e6,  # assumption: ~60 staff
        "opex_growth": 0.20,  # assumption
        "training_spend_0": 0.5e6,  # assumption
        "training_growth": 0.20,  # assumption
        "initial_cash": 100e6,  # assumption: after a growth round
        "discount_rate": 0.15,  # assumption
        # No commitments: it owns its fleet, and committed hours are rented hours (with
        # rent_share = 0 every committed hour would sit idle). Assumption: a company with
        # positive gross margins and GPUs to pledge raises more easily and earlier.
        **_NO_COMMITMENTS,
        **_STARTUP_ROUNDS,
        "raise_trigger_months": 12.0,  # assumption: a growth-stage company raises a year ahead
        "raise_success_probability": 0.7,  # assumption: above the start-up's one in two
    },
    "correlation": {
        "names": ["electricity_price_0", "electricity_mean"],
        "matrix": [[1.0, 0.9], [0.9, 1.0]],  # assumption: the same site sets both
        "kind": "spearman",
    },
    "shock_correlation": _IDENTITY5,
}


# ------------------------------------------------------------------------------------------
# specialized-model: a small task-specific model, cheap per token
# ------------------------------------------------------------------------------------------

SPECIALIZED_MODEL: dict[str, Any] = {
    "name": "specialized-model",
    "horizon_months": 60,
    "inputs": {
        "users_0": 100e3,  # assumption
        "user_ceiling": _pert(5e5, 2e6, 5e6),  # assumption
        "adoption_rate": _pert(0.5, 1.0, 2.0),  # assumption
        "user_volatility": 0.4,  # assumption
        "paid_share": _PAID_SHARE,
        "subscription_price": _pert(5.0, 6.5, 8.0),  # priced like the Go tier, 5-8 USD/month
        "queries_per_free_user_day": _MESSAGES_PER_DAY,
        "queries_per_paid_user_day": _HEAVY_USER_MESSAGES,
        "tokens_per_query_0": _TOKENS_PER_QUERY,
        "tokens_per_query_growth": _TOKENS_GROWTH,
        "api_tokens_0": _lognormal_90(1e12, 1e13),  # assumption: mostly API volume
        "api_growth": _pert(0.3, 0.8, 1.5),  # assumption
        "api_volatility": 0.5,  # assumption
        # At or below 4o-mini: mode its input list price 0.15, high its 3:1 blend 0.26; the
        # low 0.10 is judgement.
        "api_price_0": _triangular(0.10, 0.15, _blended_price(0.15, 0.60)),
        # A differentiated product keeps its price like a frontier model, not a commodity.
        "api_price_decline": _FRONTIER_PRICE_DECLINE,
        "revenue_share": 0.0,
        # 70B row (400 / 1000 / 2500) x 9. Assumption: an ~8B model, and decode is bound by
        # reading the weights, so its cost scales with parameters (70 / 8 = 8.75).
        "throughput_0": _pert(9 * 400.0, 9 * 1000.0, 9 * 2500.0),
        "throughput_gain": _SOFTWARE_GAIN,
        "utilization_mean": _UTILIZATION,
        "utilization_persistence": 0.8,  # assumption
        "utilization_volatility": 0.3,  # assumption
        "rent_share": 1.0,
        "gpu_rent_price_0": _H100_CONTRACT,
        "gpu_capex_0": _H100_SERVER_PER_GPU,  # unused while rent_share = 1
        "hardware_drift": _HARDWARE_DRIFT,
        "hardware_volatility": _HARDWARE_VOLATILITY,
        "generation_jump_rate": _GENERATION_JUMP_RATE,
        "generation_jump_size": _GENERATION_JUMP_SIZE,
        "compute_discount": 0.0,  # the 1-yr contract price already holds the commitment discount
        "discount_months": 0.0,
        "gpu_life_years": _LIFE_YEARS,
        "gpu_power_kw": _POWER_KW,
        "pue": _PUE,
        "electricity_price_0": _ELECTRICITY,
        "electricity_mean": _ELECTRICITY,
        "electricity_reversion": _ELECTRICITY_REVERSION,
        "electricity_volatility": _ELECTRICITY_VOLATILITY,
        "other_cost_per_gpu_hour": _COLOCATION,
        "fixed_opex_0": 400e3,  # assumption: ~20 staff
        "opex_growth": 0.20,  # assumption
        "training_spend_0": 100e3,  # assumption: fine-tuning and distillation runs
        "training_growth": 0.20,  # assumption
        "initial_cash": 20e6,  # a series A: seed/Series A 2-20M (start-up financing)
        "discount_rate": 0.20,  # assumption
        # No commitments: its rent is already the 1-yr contract index, repriced as the market
        # moves; a series-A company signs no multi-year take-or-pay. Rounds as a start-up.
        **_NO_COMMITMENTS,
        **_STARTUP_ROUNDS,
    },
    "correlation": None,
    "shock_correlation": _users_api_shocks(0.3),  # assumption, as for api-startup
}


#: The presets by name; the first is the default scenario.
PRESETS: dict[str, dict[str, Any]] = {
    preset["name"]: preset for preset in (FRONTIER_LAB, API_STARTUP, SELF_HOSTED, SPECIALIZED_MODEL)
}
#: Name of the preset whose values fill every input a scenario does not set.
DEFAULT_PRESET = "frontier-lab"


def names() -> list[str]:
    """Names of the presets, the default (``frontier-lab``) first."""
    return list(PRESETS)


__all__ = ["DEFAULT_PRESET", "PRESETS", "names"]
