"""Names and positions shared by every implementation of the model (spec v2).

The order of ``INPUT_NAMES`` is the specification's: demand, then supply and
costs, then company, top to bottom (``shock_correlation`` excluded). Input i
draws normal number i of step 0, so this order is part of the random-stream
contract and must never change; inputs added by later spec versions are
appended.
"""

INPUT_NAMES = (
    # demand
    "users_0",
    "user_ceiling",
    "adoption_rate",
    "user_volatility",
    "paid_share",
    "subscription_price",
    "queries_per_free_user_day",
    "queries_per_paid_user_day",
    "tokens_per_query_0",
    "tokens_per_query_growth",
    "api_tokens_0",
    "api_growth",
    "api_volatility",
    "api_price_0",
    "api_price_decline",
    "revenue_share",
    # supply and costs
    "throughput_0",
    "throughput_gain",
    "utilization_mean",
    "utilization_persistence",
    "utilization_volatility",
    "rent_share",
    "gpu_rent_price_0",
    "gpu_capex_0",
    "hardware_drift",
    "hardware_volatility",
    "generation_jump_rate",
    "generation_jump_size",
    "compute_discount",
    "discount_months",
    "gpu_life_years",
    "gpu_power_kw",
    "pue",
    "electricity_price_0",
    "electricity_mean",
    "electricity_reversion",
    "electricity_volatility",
    "other_cost_per_gpu_hour",
    # company
    "fixed_opex_0",
    "opex_growth",
    "training_spend_0",
    "training_growth",
    "initial_cash",
    "discount_rate",
    # commitments and financing (spec v2)
    "commitment_share",
    "commitment_growth",
    "commitment_months",
    "commitment_discount",
    "tranche_amount",
    "tranche_month",
    "tranche_probability",
    "raise_trigger_months",
    "raise_success_probability",
    "raise_arr_multiple",
    "raise_cooldown_months",
    "valuation_arr_multiple",
)
N_INPUTS = len(INPUT_NAMES)
#: Position of each input in the per-path input vector.
INPUT_INDEX = {name: i for i, name in enumerate(INPUT_NAMES)}

#: Starting levels whose quantity is a separate state or trend after month 0. A stress
#: (see docs/model.md, "Stress tests") multiplies that quantity in its months rather than
#: restarting it, so only a multiplier makes sense for them.
LEVEL_INPUTS = (
    "users_0",
    "tokens_per_query_0",
    "api_tokens_0",
    "api_price_0",
    "throughput_0",
    "electricity_price_0",
    "fixed_opex_0",
    "training_spend_0",
)
#: The inputs of spec v2 by what they model: take-or-pay compute commitments, and the
#: money that comes in (a scheduled tranche and runway-triggered rounds).
COMMITMENT_INPUTS = (
    "commitment_share",
    "commitment_growth",
    "commitment_months",
    "commitment_discount",
)
TRANCHE_INPUTS = ("tranche_amount", "tranche_month", "tranche_probability")
FINANCING_INPUTS = (
    *TRANCHE_INPUTS,
    "raise_trigger_months",
    "raise_success_probability",
    "raise_arr_multiple",
    "raise_cooldown_months",
    "valuation_arr_multiple",
)

#: The inputs of spec v2 at their neutral values: with these, every v1 result is unchanged
#: bit for bit (raise_cooldown_months may be anything >= 1; 6 is the spec's neutral).
NEUTRAL_V2 = {
    "commitment_share": 0.0,
    "commitment_growth": 0.0,
    "commitment_months": 0.0,
    "commitment_discount": 0.0,
    "tranche_amount": 0.0,
    "tranche_month": 0.0,
    "tranche_probability": 0.0,
    "raise_trigger_months": 0.0,
    "raise_success_probability": 0.0,
    "raise_arr_multiple": 0.0,
    "raise_cooldown_months": 6.0,
    "valuation_arr_multiple": 20.0,
}

#: Inputs a stress may not change: month 0, valuation, and the committed price (fixed
#: when the contract is signed, at t = 0).
UNSTRESSABLE_INPUTS = ("initial_cash", "discount_rate", "commitment_discount")

#: Per-month outcomes, in the order kernels write them.
MONTHLY_NAMES = (
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
N_MONTHLY = len(MONTHLY_NAMES)

#: Per-path outcomes, in the order kernels write them: v1's eight (months in the three
#: ``MONTH_OUTCOMES``), then v2's four.
PATH_NAMES = (
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
N_PATH = len(PATH_NAMES)
MONTH_OUTCOMES = ("first_profit_month", "payback_month", "ruin_month")

#: The shocks correlated by ``shock_correlation``, in its row order.
SHOCK_NAMES = ("users", "api", "utilization", "hardware", "electricity")

#: Months per year, hours per month and days per month of the specification.
DT = 1.0 / 12.0
HOURS_PER_MONTH = 730.0
DAYS_PER_MONTH = 365.0 / 12.0

#: Gross margin GP / R is floored here (-100,000,000 %): with zero revenue and
#: positive cost it would be -inf; with zero revenue and zero cost it is 0.
GROSS_MARGIN_FLOOR = -1.0e6

#: How a static input's distribution reaches the kernels: an integer kind, four
#: float parameters and, for the last three kinds, a slice of a shared data
#: array (offset and length in parameters 2 and 3).
CONSTANT = 0  # value
UNIFORM = 1  # low, high
NORMAL = 2  # mean, sd
LOGNORMAL = 3  # mu, sigma (of the log)
TRIANGULAR = 4  # low, mode, high
TRUNCATED_NORMAL = 5  # mean, sd, low, high
TABLE = 6  # z_min, dz, offset, n: x and dx/dz at n equally spaced z, cubic Hermite
EMPIRICAL = 7  # -, -, offset, n: n sorted samples, each drawn with probability 1/n
DISCRETE = 8  # -, -, offset, n: n cumulative probabilities then n ascending values
