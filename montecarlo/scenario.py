"""Scenarios: every input of the model, validated once, and their file format.

A :class:`Scenario` holds one value per input of the model specification
(constants or distributions sampled once per path), the correlation of the
uncertain inputs, the correlation of the five monthly shocks, the horizon and a
name. It checks everything when it is built, in Python, so that the kernels can
assume valid input: each error is a :class:`ScenarioError` naming the field, the
value and what is allowed.

Inputs a scenario does not set take the values of the ``frontier-lab`` preset
(:mod:`montecarlo.presets`); so do ``correlation`` and ``shock_correlation``
when they are not given. ``Scenario()`` is therefore the default scenario, named
``"custom"``.

Allowed values (:data:`FIELDS`) follow from each input's unit and meaning:
counts, prices and costs are >= 0, shares lie in [0, 1], the mean utilisation
in (0, 1), rates may be any finite number, and so on. A distribution must not
be able to draw a value outside its input's range: its support is checked (the
endpoints of a continuous law have probability zero, so (0, inf) is fine for an
input that must be > 0; the atoms of constants, empirical and discrete laws
count, and so do the end values of a quantile table).

TOML layout
-----------
``to_toml`` writes, and ``from_toml`` reads, one document::

    name = "frontier-lab"
    horizon_months = 60
    shock_correlation = [            # optional; rows and columns: users, api,
        [1.0, 0.0, 0.0, 0.0, 0.0],   # utilization, hardware, electricity
        ...
    ]

    [inputs]                         # one key per input, in specification order
    users_0 = 400000000.0            # a number is a constant
    paid_share = { dist = "pert", low = 0.03, mode = 0.05, high = 0.085, shape = 4.0 }
    discount_months = inf            # TOML's inf where an input allows it

    [correlation]                    # optional; Spearman unless kind = "gaussian"
    names = ["adoption_rate", "user_ceiling"]
    matrix = [[1.0, -0.6], [-0.6, 1.0]]
    kind = "spearman"

    [[stresses]]                     # optional, any number: a shock to one input
    input = "gpu_rent_price_0"       # from start_month for `months` months
    start_month = 12                 # (months left out: to the horizon)
    multiply = 1.5                   # value x multiply + add in those months

Distributions are inline tables in the form of
:meth:`montecarlo.distributions.Distribution.to_dict` (``dist`` names the law:
constant, uniform, normal, lognormal, triangular, pert, beta, gamma,
truncated_normal, empirical, discrete, or scipy with ``name``, ``args`` and
``kwds``). A key, table or input left out takes the default (frontier-lab's);
an empty ``[correlation]`` table means no correlated inputs. ``to_toml`` always
writes every input, so a saved scenario does not depend on the defaults, and
floats are written in their shortest exact form: reading back gives an equal
scenario.
"""

from __future__ import annotations

import difflib
import functools
import math
import numbers
import os
import pathlib
import re
import tomllib
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import numpy.typing as npt
import tomli_w

from kernels import distributions as kd
from kernels.layout import (
    DT,
    INPUT_INDEX,
    INPUT_NAMES,
    LEVEL_INPUTS,
    N_INPUTS,
    SHOCK_NAMES,
    UNSTRESSABLE_INPUTS,
)

from . import distributions as md
from . import presets as _presets
from .correlation import (
    _PSD_EIGENVALUE_TOL,
    Correlation,
    CorrelationError,
    check_correlation_matrix,
)
from .inputs import PackedInputs, pack_inputs
from .values import real, short_repr

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["FIELDS", "FieldInfo", "Range", "Scenario", "ScenarioError", "Stress", "presets"]


class ScenarioError(ValueError):
    """A scenario field is invalid; the message names the field, the value and what is allowed."""


# ------------------------------------------------------------------------------------------
# Field metadata
# ------------------------------------------------------------------------------------------


class Range(NamedTuple):
    """Allowed values of an input: an interval, and whether +inf is allowed besides."""

    low: float
    high: float
    low_inclusive: bool
    high_inclusive: bool
    allow_inf: bool = False

    def contains(self, x: float) -> bool:
        """Whether the number ``x`` is allowed (NaN never is)."""
        if math.isnan(x):
            return False
        if math.isinf(x):
            return x > 0 and self.allow_inf
        above = x > self.low or (self.low_inclusive and x == self.low)
        below = x < self.high or (self.high_inclusive and x == self.high)
        return above and below

    def describe(self) -> str:
        """The range in words, e.g. ``"in [0, 1]"`` or ``"a finite number > 0"``."""
        low_open, high_open = math.isinf(self.low), math.isinf(self.high)
        if low_open and high_open:
            return "a finite number"
        if high_open:
            sign = ">=" if self.low_inclusive else ">"
            if self.allow_inf:
                return f"a number {sign} {self.low:g}, or inf"
            return f"a finite number {sign} {self.low:g}"
        left = "[" if self.low_inclusive else "("
        right = "]" if self.high_inclusive else ")"
        return f"in {left}{self.low:g}, {self.high:g}{right}"


class FieldInfo(NamedTuple):
    """What an input is: its unit and meaning (as in the specification) and allowed range."""

    unit: str
    meaning: str
    range: Range
    #: Why the range is narrower than the unit alone suggests, for error messages.
    why: str = ""


_INF = math.inf
_ANY = Range(-_INF, _INF, False, False)
_NONNEG = Range(0.0, _INF, True, False)
_POSITIVE = Range(0.0, _INF, False, False)
_SHARE = Range(0.0, 1.0, True, True)
# rate x dt is the monthly jump probability, a dt the electricity AR(1) weight: both <= 1.
_PER_MONTH_AT_MOST_ONE = Range(0.0, 1.0 / DT, True, True)

_FIELD_ROWS: tuple[tuple[str, FieldInfo], ...] = (
    # demand
    ("users_0", FieldInfo("users", "active users at t = 0", _POSITIVE)),
    (
        "user_ceiling",
        FieldInfo(
            "users", "saturation K of adoption (may be +inf)", Range(0.0, _INF, False, False, True)
        ),
    ),
    ("adoption_rate", FieldInfo("1/yr", "logistic growth rate r", _ANY)),
    ("user_volatility", FieldInfo("1/sqrt(yr)", "sigma_u of user shocks", _NONNEG)),
    ("paid_share", FieldInfo("fraction", "share of active users who pay", _SHARE)),
    (
        "subscription_price",
        FieldInfo("USD/paid user/month", "blended subscription revenue", _NONNEG),
    ),
    ("queries_per_free_user_day", FieldInfo("queries", "usage of a free user", _NONNEG)),
    ("queries_per_paid_user_day", FieldInfo("queries", "usage of a paying user", _NONNEG)),
    (
        "tokens_per_query_0",
        FieldInfo("tokens", "tokens generated+read per query at t = 0", _NONNEG),
    ),
    (
        "tokens_per_query_growth",
        FieldInfo("1/yr", "g_tok, growth of tokens per query (reasoning, agents)", _ANY),
    ),
    ("api_tokens_0", FieldInfo("tokens/month", "API volume at t = 0", _NONNEG)),
    ("api_growth", FieldInfo("1/yr", "drift of API volume", _ANY)),
    ("api_volatility", FieldInfo("1/sqrt(yr)", "sigma_a", _NONNEG)),
    ("api_price_0", FieldInfo("USD per 1e6 tokens", "API list price at t = 0", _NONNEG)),
    ("api_price_decline", FieldInfo("1/yr", "continuous decline of API price", _ANY)),
    ("revenue_share", FieldInfo("fraction", "share of revenue paid to a partner", _SHARE)),
    # supply and costs
    (
        "throughput_0",
        FieldInfo(
            "tokens/s per GPU",
            "serving throughput at full load, t = 0",
            _POSITIVE,
            "it divides the token volume",
        ),
    ),
    (
        "throughput_gain",
        FieldInfo("1/yr", "continuous efficiency gain (software + hardware)", _ANY),
    ),
    (
        "utilization_mean",
        FieldInfo(
            "fraction in (0,1)",
            "long-run mean utilisation of provisioned GPUs",
            Range(0.0, 1.0, False, False),
            "its logit is the AR(1) mean",
        ),
    ),
    (
        "utilization_persistence",
        FieldInfo(
            "phi in [0,1)",
            "AR(1) persistence of utilisation in logit space",
            Range(0.0, 1.0, True, False),
        ),
    ),
    (
        "utilization_volatility",
        FieldInfo("logit units per month", "sigma_util", _NONNEG),
    ),
    (
        "rent_share",
        FieldInfo("fraction", "share of capacity rented; 1 - rent_share is owned", _SHARE),
    ),
    ("gpu_rent_price_0", FieldInfo("USD/GPU-hour", "cloud rental price at t = 0", _NONNEG)),
    (
        "gpu_capex_0",
        FieldInfo("USD/GPU", "all-in purchase price per owned GPU at t = 0", _NONNEG),
    ),
    (
        "hardware_drift",
        FieldInfo("1/yr", "drift of the hardware price index (negative: cheaper)", _ANY),
    ),
    ("hardware_volatility", FieldInfo("1/sqrt(yr)", "sigma_h", _NONNEG)),
    (
        "generation_jump_rate",
        FieldInfo(
            "1/yr",
            "rate of new-generation price drops",
            _PER_MONTH_AT_MOST_ONE,
            "rate x dt is the monthly jump probability and cannot exceed 1",
        ),
    ),
    (
        "generation_jump_size",
        FieldInfo(
            "fraction",
            "drop of the index at each jump (0.3 = -30%)",
            Range(0.0, 1.0, True, False),
            "a drop of 100% would zero the hardware price index",
        ),
    ),
    ("compute_discount", FieldInfo("fraction", "partner discount on rented compute", _SHARE)),
    (
        "discount_months",
        FieldInfo(
            "months",
            "months the discount lasts (0 = none, inf = always)",
            Range(0.0, _INF, True, False, True),
        ),
    ),
    (
        "gpu_life_years",
        FieldInfo(
            "years",
            "useful life of an owned GPU",
            Range(DT, _INF, True, False),
            "the monthly retirement rate 1 / (12 gpu_life_years) cannot exceed 1",
        ),
    ),
    (
        "gpu_power_kw",
        FieldInfo("kW/GPU", "average all-in draw of an owned GPU (server share)", _NONNEG),
    ),
    (
        "pue",
        FieldInfo(
            "ratio >= 1",
            "data-centre power usage effectiveness",
            Range(1.0, _INF, True, False),
            "facility power is at least IT power",
        ),
    ),
    (
        "electricity_price_0",
        FieldInfo("USD/kWh", "price at t = 0", _POSITIVE, "the price process runs on its log"),
    ),
    (
        "electricity_mean",
        FieldInfo("USD/kWh", "long-run level", _POSITIVE, "the price reverts to its log"),
    ),
    (
        "electricity_reversion",
        FieldInfo(
            "1/yr",
            "mean-reversion speed a",
            _PER_MONTH_AT_MOST_ONE,
            "the monthly AR(1) coefficient 1 - a dt must stay in [0, 1]",
        ),
    ),
    ("electricity_volatility", FieldInfo("1/sqrt(yr)", "sigma_e", _NONNEG)),
    (
        "other_cost_per_gpu_hour",
        FieldInfo("USD/GPU-hour", "colocation, network, ops of owned GPUs", _NONNEG),
    ),
    # company
    ("fixed_opex_0", FieldInfo("USD/month", "staff, R&D, G&A", _NONNEG)),
    ("opex_growth", FieldInfo("1/yr", "growth of fixed opex", _ANY)),
    ("training_spend_0", FieldInfo("USD/month", "training compute (not inference)", _NONNEG)),
    ("training_growth", FieldInfo("1/yr", "growth of training spend", _ANY)),
    ("initial_cash", FieldInfo("USD", "cash at t = 0", _ANY)),
    (
        "discount_rate",
        FieldInfo(
            "1/yr",
            "annual rate for NPV (simple annual compounding)",
            Range(-1.0, _INF, False, False),
            "the discount factor (1 + rate)^(t/12) must be positive",
        ),
    ),
    # commitments and financing (spec v2)
    (
        "commitment_share",
        FieldInfo(
            "fraction",
            "committed GPU-hours per month at t = 1, as a share of H_0 (provisioned hours at t = 0)",
            _NONNEG,
        ),
    ),
    ("commitment_growth", FieldInfo("1/yr", "growth of the committed schedule", _ANY)),
    (
        "commitment_months",
        FieldInfo(
            "months",
            "term: hours are committed for t <= commitment_months (inf = always)",
            Range(0.0, _INF, True, False, True),
        ),
    ),
    (
        "commitment_discount",
        FieldInfo(
            "fraction",
            "committed price = gpu_rent_price_0 (1 - commitment_discount), fixed at signing",
            _SHARE,
        ),
    ),
    (
        "tranche_amount",
        FieldInfo("USD", "a scheduled financing tranche (e.g. the second part of a round)", _NONNEG),
    ),
    (
        "tranche_month",
        FieldInfo(
            "months",
            "the month in which the tranche may arrive: month ceil(tranche_month) (0: none)",
            _NONNEG,
        ),
    ),
    ("tranche_probability", FieldInfo("fraction", "probability that the tranche arrives", _SHARE)),
    (
        "raise_trigger_months",
        FieldInfo(
            "months",
            "a round is attempted when the runway falls below this many months of the "
            "current burn (0: never)",
            _NONNEG,
        ),
    ),
    (
        "raise_success_probability",
        FieldInfo("fraction", "probability that an attempt to raise succeeds", _SHARE),
    ),
    (
        "raise_arr_multiple",
        FieldInfo("x", "size of a round as a multiple of annualised revenue 12 R_t", _NONNEG),
    ),
    (
        "raise_cooldown_months",
        FieldInfo(
            "months",
            "minimum months between two attempts to raise",
            Range(1.0, _INF, True, False),
            "an attempt per month at most",
        ),
    ),
    (
        "valuation_arr_multiple",
        FieldInfo(
            "x",
            "post-money valuation as a multiple of 12 R_t (> raise_arr_multiple)",
            _POSITIVE,
            "holders keep 1 - raise_arr_multiple / valuation_arr_multiple of their stake",
        ),
    ),
)

#: Unit, meaning and allowed range of every input, in specification order.
FIELDS: Mapping[str, FieldInfo] = MappingProxyType(dict(_FIELD_ROWS))
if tuple(FIELDS) != INPUT_NAMES:  # a spec version added inputs without metadata
    raise RuntimeError("montecarlo.scenario.FIELDS must list kernels.layout.INPUT_NAMES in order")

_OPTIONS = ("name", "horizon_months", "correlation", "shock_correlation", "stresses")
_VALID_KEYWORDS = (*INPUT_NAMES, *_OPTIONS)
_DICT_KEYS = ("name", "horizon_months", "inputs", "correlation", "shock_correlation", "stresses")
_STRESS_KEYS = ("input", "start_month", "months", "multiply", "add")
_CORRELATION_KEYS = ("names", "matrix", "kind", "repair")
_MAX_HORIZON = 600
#: Smallest discount factor (1 + discount_rate)^(T/12) at the horizon: NPV divides each cash
#: flow by its month's factor, so a smaller one would scale cash flows by more than 1e100 and
#: can overflow double precision (a rate near -1 over a long horizon underflows it to 0).
MIN_DISCOUNT_FACTOR = 1e-100
_DEFAULT_NAME = "custom"
# Atoms of these laws are drawn with positive probability, so their support's ends count.
_ATOMIC = (md.Constant, md.Empirical, md.Discrete)


class _Default:
    """Marks an option left to the default preset (None means "none" for correlations)."""

    def __repr__(self) -> str:
        return "<default>"


_DEFAULT: Any = _Default()


# ------------------------------------------------------------------------------------------
# Validation helpers
# ------------------------------------------------------------------------------------------


def _unknown(what: str, key: object, valid: tuple[str, ...]) -> ScenarioError:
    close = [repr(c) for c in difflib.get_close_matches(str(key), valid, n=3, cutoff=0.5)]
    if close:
        options = close[0] if len(close) == 1 else ", ".join(close[:-1]) + " or " + close[-1]
        hint = f"did you mean {options}?"
    else:
        hint = "valid names: " + ", ".join(valid)
    return ScenarioError(f"unknown {what} {key!r}; {hint}")


def _short_repr(value: Any, limit: int = 120) -> str:
    return short_repr(value, limit)


def _number(x: float) -> str:
    return repr(float(x))


def _out_of_range(name: str, value: float) -> ScenarioError:
    info = FIELDS[name]
    why = f"; {info.why}" if info.why else ""
    return ScenarioError(f"{name} must be {info.range.describe()}, got {_number(value)}{why}")


def _suggest_laws(allowed: Range) -> str:
    if not math.isinf(allowed.high):
        return (
            f"a bounded law such as Beta, PERT, TruncatedNormal, Uniform or Triangular "
            f"within {allowed.describe()[3:]}"
        )
    if allowed.low == 0.0:
        return "a law on [0, inf) such as LogNormal, Gamma or TruncatedNormal(low=0)"
    return (
        f"a law bounded below at {allowed.low:g} such as TruncatedNormal(low={allowed.low:g}), "
        f"or PERT, Triangular or Uniform with low >= {allowed.low:g}"
    )


def _interval(low: float, high: float) -> str:
    left = "[" if math.isfinite(low) else "("
    right = "]" if math.isfinite(high) else ")"
    return f"{left}{low:g}, {high:g}{right}"


def _check_support(name: str, dist: md.Distribution) -> None:
    allowed = FIELDS[name].range
    low, high = (float(v) for v in dist.support)
    atomic = isinstance(dist, _ATOMIC)
    low_ok = low > allowed.low or (low == allowed.low and (allowed.low_inclusive or not atomic))
    high_ok = (
        high < allowed.high
        or (high == allowed.high and (allowed.high_inclusive or not atomic))
        or (math.isinf(high) and allowed.allow_inf)
    )
    if not (low_ok and high_ok):
        raise ScenarioError(
            f"{name} = {_describe_value(dist)} can draw values in {_interval(low, high)}, but "
            f"{name} must be {allowed.describe()}; use {_suggest_laws(allowed)}"
        )
    # A continuous law may touch an open bound only at probability zero, but a quantile table
    # returns its end values beyond |z| = 8.5, where underflow can put them on the bound.
    touches = (low == allowed.low and not allowed.low_inclusive) or (
        high == allowed.high and not allowed.high_inclusive
    )
    if touches and not atomic:
        try:
            kind, params, data = dist.kernel_spec()
        except md.DistributionError as err:
            raise ScenarioError(f"{name}: {err}") from None
        if kind == kd.TABLE:
            n = int(params[3])
            for end in (float(data[0]), float(data[n - 1])):
                if not allowed.contains(end):
                    raise ScenarioError(
                        f"{name} = {_describe_value(dist)} has a tail so thin that its quantile "
                        f"table reaches {_number(end)}, but {name} must be "
                        f"{allowed.describe()}; move its parameters away from the bound"
                    )


def _to_distribution(name: str, value: Any) -> md.Distribution:
    """Turn one input's value into a distribution and check it against the input's range."""
    if isinstance(value, md.Distribution):
        dist = value
    elif isinstance(value, bool | np.bool_ | str | bytes) or value is None:
        raise ScenarioError(_type_message(name, value))
    elif isinstance(value, numbers.Real) or (isinstance(value, np.ndarray) and value.ndim == 0):
        x = real(name, value, error=ScenarioError, allow_inf=True, allow_nan=True)
        if not FIELDS[name].range.contains(x):
            raise _out_of_range(name, x)
        return md.Constant(x)
    elif isinstance(value, Mapping):
        try:
            dist = md.from_dict(value)
        except (md.DistributionError, TypeError, ValueError, AttributeError,
                ArithmeticError) as err:  # fmt: skip
            raise ScenarioError(
                f"{name}: invalid distribution {_short_repr(value)}: {err}"
            ) from None
    elif hasattr(value, "dist") and hasattr(value, "ppf"):
        try:
            dist = md.ScipyDistribution(value)
        except md.DistributionError as err:
            raise ScenarioError(f"{name}: {err}") from None
    else:
        raise ScenarioError(_type_message(name, value))

    if isinstance(dist, md.Constant):
        if not FIELDS[name].range.contains(dist.value):
            raise _out_of_range(name, dist.value)
    else:
        _check_support(name, dist)
    return dist


def _check_discounting(dist: md.Distribution, horizon: int) -> None:
    """Refuse a discount rate whose factor at the horizon is below MIN_DISCOUNT_FACTOR."""
    if dist.is_constant:
        lowest = dist.value
    else:
        lowest = float(dist.support[0])
        if lowest <= -1.0:
            # A law reaching -1 draws near it only in its tail: take its quantile at z = -6
            # (one path in 1e9). Rarer draws are left to the check of every path's outcomes.
            lowest = max(lowest, float(dist.ppf_from_normal(np.array([-6.0]))[0]))
    if lowest <= -1.0:
        log10_factor = -math.inf
    else:
        log10_factor = horizon / 12 * math.log10(1.0 + lowest)
    floor = math.log10(MIN_DISCOUNT_FACTOR)
    if log10_factor < floor:
        least = 10.0 ** (floor * 12 / horizon) - 1.0
        factor = "0" if math.isinf(log10_factor) else f"1e{log10_factor:.0f}"
        what = _number(lowest) if dist.is_constant else f"{_describe_value(dist)}, which reaches "
        what += "" if dist.is_constant else _number(lowest) + ","
        raise ScenarioError(
            f"discount_rate = {what} discounts month {horizon} by (1 + rate)^({horizon}/12) = "
            f"{factor}, below {MIN_DISCOUNT_FACTOR:g}: NPV divides cash flows by it and would "
            f"overflow double precision; over {horizon} months the rate must stay above "
            f"{least:.6g}"
        )


def _check_dilution(dists: Mapping[str, md.Distribution], stresses: tuple, horizon: int) -> None:
    """Refuse rounds that would sell at least the whole company.

    A round raises raise_arr_multiple x ARR at a post-money valuation of
    valuation_arr_multiple x ARR, so the holders keep 1 - raise / valuation of their
    stake: the valuation must exceed the round in every month (stresses included)
    whenever a round can happen at all."""
    trigger = float(dists["raise_trigger_months"].support[1])
    success = float(dists["raise_success_probability"].support[1])
    mul, add, _ = stress_tables(stresses, horizon)
    r, v = INPUT_INDEX["raise_arr_multiple"], INPUT_INDEX["valuation_arr_multiple"]
    t_i, s_i = INPUT_INDEX["raise_trigger_months"], INPUT_INDEX["raise_success_probability"]
    raise_low, raise_high = (float(x) for x in dists["raise_arr_multiple"].support)
    value_low, value_high = (float(x) for x in dists["valuation_arr_multiple"].support)
    rows = {tuple(row) for row in np.column_stack([mul[1:, [r, v, t_i, s_i]],
                                                   add[1:, [r, v, t_i, s_i]]])}  # fmt: skip
    for m_r, m_v, m_t, m_s, a_r, a_v, a_t, a_s in sorted(rows):
        if max(trigger * m_t + a_t, a_t) <= 0.0 or max(success * m_s + a_s, a_s) <= 0.0:
            continue  # no attempt, or none can succeed
        most_raised = max(raise_low * m_r + a_r, raise_high * m_r + a_r)
        least_value = min(value_low * m_v + a_v, value_high * m_v + a_v)
        if most_raised > 0.0 and not most_raised < least_value:
            stressed = " (with its stresses)" if stresses else ""
            raise ScenarioError(
                f"valuation_arr_multiple must exceed raise_arr_multiple whenever a round can "
                f"happen: holders keep 1 - raise_arr_multiple / valuation_arr_multiple of their "
                f"stake; got raise_arr_multiple up to {_number(most_raised)} and "
                f"valuation_arr_multiple down to {_number(least_value)}{stressed}"
            )


def _type_message(name: str, value: Any) -> str:
    return (
        f"{name} must be a number, a montecarlo distribution, a frozen scipy.stats distribution "
        f"or a {{'dist': ...}} mapping, got {_short_repr(value)} ({type(value).__name__})"
    )


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ScenarioError(f"name must be a non-empty string, got {_short_repr(name)}")
    return name


def _check_horizon(months: Any) -> int:
    if isinstance(months, bool | np.bool_) or not isinstance(months, numbers.Integral):
        raise ScenarioError(
            f"horizon_months must be an integer from 1 to {_MAX_HORIZON}, got "
            f"{_short_repr(months)} ({type(months).__name__})"
        )
    if not 1 <= months <= _MAX_HORIZON:
        raise ScenarioError(
            f"horizon_months must be an integer from 1 to {_MAX_HORIZON}, got {int(months)}"
        )
    return int(months)


def _check_correlation(value: Any) -> Correlation | None:
    if value is None:
        return None
    if isinstance(value, Mapping):
        names = value.get("names")
        if not value or (isinstance(names, list | tuple) and len(names) == 0):
            return None  # an empty [correlation] table in a file
        for key in value:
            if key not in _CORRELATION_KEYS:
                raise _unknown("correlation key", key, _CORRELATION_KEYS)
        missing = [key for key in ("names", "matrix") if key not in value]
        if missing:
            raise ScenarioError(f"correlation needs names and matrix, but {missing[0]} is missing")
        try:
            value = Correlation(**value)
        except CorrelationError as err:
            raise ScenarioError(f"correlation: {err}") from None
    if not isinstance(value, Correlation):
        raise ScenarioError(
            f"correlation must be a montecarlo Correlation, a mapping with names and matrix, or "
            f"None, got {_short_repr(value)} ({type(value).__name__})"
        )
    for name in value.names:
        if name not in FIELDS:
            raise _unknown("input in the correlation's names:", name, INPUT_NAMES)
    return value


def _check_shocks(value: Any) -> npt.NDArray[np.float64]:
    if value is None:
        matrix = np.eye(len(SHOCK_NAMES))
    else:
        try:
            matrix = check_correlation_matrix(value, name="shock_correlation")
        except CorrelationError as err:
            raise ScenarioError(str(err)) from None
    n = len(SHOCK_NAMES)
    if matrix.shape != (n, n):
        raise ScenarioError(
            f"shock_correlation must be {n}x{n} over the shocks ({', '.join(SHOCK_NAMES)}), "
            f"got shape {matrix.shape}"
        )
    smallest = float(np.linalg.eigvalsh(matrix)[0])
    if smallest < -_PSD_EIGENVALUE_TOL:
        raise ScenarioError(
            f"shock_correlation must be positive semi-definite, but its smallest eigenvalue is "
            f"{smallest:.6g} (allowed down to -{_PSD_EIGENVALUE_TOL:g}), so no set of shocks "
            f"can have these correlations"
        )
    matrix.flags.writeable = False
    return matrix


def _describe_value(dist: md.Distribution) -> str:
    """Short text of an input's value: the number, or the law and its parameters."""
    if isinstance(dist, md.Constant):
        return f"{dist.value:g}"
    if isinstance(dist, md.Empirical):
        return (
            f"Empirical({dist.samples.size} samples in [{dist.support[0]:g}, {dist.support[1]:g}])"
        )
    if isinstance(dist, md.Discrete):
        return f"Discrete({dist.values.size} values in [{dist.support[0]:g}, {dist.support[1]:g}])"
    if isinstance(dist, md.ScipyDistribution):
        frozen = dist.frozen
        args = [f"{a!r}" for a in frozen.args] + [f"{k}={v!r}" for k, v in frozen.kwds.items()]
        return f"scipy.stats.{frozen.dist.name}({', '.join(args)})"
    fields = {k: v for k, v in dist.to_dict().items() if k != "dist"}
    if isinstance(dist, md.PERT) and fields.get("shape") == 4.0:
        del fields["shape"]  # the classic PERT; spelling it out adds nothing
    text = f"{type(dist).__name__}({', '.join(f'{k}={v:.6g}' for k, v in fields.items())})"
    if isinstance(dist, md.LogNormal):
        z = 1.6448536269514722  # 90% central interval
        low, high = math.exp(dist.mu - z * dist.sigma), math.exp(dist.mu + z * dist.sigma)
        text += f", 90% in [{low:.3g}, {high:.3g}]"
    return text


# ------------------------------------------------------------------------------------------
# TOML writing (tomllib reads)
# ------------------------------------------------------------------------------------------

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _plain(value: Any) -> Any:
    """Python scalars, lists and dicts only, as TOML and to_dict need."""
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else _toml_value(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)  # shortest string that reads back to the same double
    if isinstance(value, str):
        # tomli_w knows TOML's string escapes; its inline tables are what we write ourselves.
        return tomli_w.dumps({"s": value})[len("s = ") : -1]
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        items = ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items())
        return "{ " + items + " }" if items else "{}"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _toml_matrix(key: str, rows: list[list[float]]) -> list[str]:
    return [f"{key} = [", *(f"    {_toml_value(row)}," for row in rows), "]"]


# ------------------------------------------------------------------------------------------
# Stress tests
# ------------------------------------------------------------------------------------------


def _finite(name: str, value: Any) -> float:
    return real(name, value, error=ScenarioError)


class Stress:
    """A shock to one input in some months: ``value * multiply + add`` in those months.

    Parameters
    ----------
    input : str
        The input to shock (any but ``initial_cash`` and ``discount_rate``).
    start_month : int
        First stressed month, 1..horizon.
    months : int or inf, optional
        How many months it lasts; inf (default) runs to the horizon.
    multiply, add : float, optional
        Each path's value of the input becomes ``value * multiply + add`` in the stressed
        months (both at once: first the product, then the sum).

    Notes
    -----
    A rate, share, price or cost (``gpu_rent_price_0``, ``adoption_rate``, ``pue``, ...) takes
    the stressed value in those months; trends accumulate the stressed growth rates, so a
    level never jumps when a rate changes. A starting level (:data:`kernels.layout.LEVEL_INPUTS`:
    ``users_0``, ``api_tokens_0``, ``electricity_price_0``, ...) only sets month 0, so its
    stress multiplies the quantity it starts (users, API tokens, the electricity price, ...)
    in the stressed months while the process behind it runs on; only ``multiply`` applies to
    them. Stresses on one input compose in the order given. docs/model.md has examples.

    Examples
    --------
    >>> Stress("gpu_rent_price_0", start_month=12, multiply=1.5)     # rent +50% from month 12
    Stress('gpu_rent_price_0', start_month=12, multiply=1.5)
    >>> Stress("electricity_price_0", start_month=1, months=6, multiply=2.0)
    Stress('electricity_price_0', start_month=1, months=6, multiply=2.0)
    """

    __slots__ = ("input", "start_month", "months", "multiply", "add")

    def __init__(
        self,
        input: str,
        start_month: int,
        months: float = math.inf,
        multiply: float = 1.0,
        add: float = 0.0,
    ) -> None:
        if not isinstance(input, str):
            raise ScenarioError(
                f"stress input must be the name of an input (a string), got "
                f"{_short_repr(input)} ({type(input).__name__})"
            )
        if input not in FIELDS:
            raise _unknown("stress input", input, INPUT_NAMES)
        if input in UNSTRESSABLE_INPUTS:
            why = (
                "it sets the committed price, fixed when the contract is signed at t = 0"
                if input == "commitment_discount"
                else "it only sets month 0 or the valuation"
            )
            raise ScenarioError(
                f"stress input {input!r} cannot be stressed: {why}; compare scenarios with "
                f"different {input} instead"
            )
        integral = isinstance(start_month, numbers.Integral)
        if isinstance(start_month, bool | np.bool_) or not integral:
            raise ScenarioError(
                f"stress start_month must be an integer >= 1, got {_short_repr(start_month)}"
            )
        if start_month < 1:
            raise ScenarioError(
                f"stress start_month must be an integer >= 1, got {_short_repr(start_month)}"
            )
        if not isinstance(months, numbers.Integral) or isinstance(months, bool | np.bool_):
            months = real("stress months", months, error=ScenarioError, allow_inf=True)
        if not (months == math.inf or (months >= 1 and float(months).is_integer())):
            raise ScenarioError(
                f"stress months must be an integer >= 1 or inf, got {_short_repr(months)}"
            )
        multiply = _finite("stress multiply", multiply)
        add = _finite("stress add", add)
        if input in LEVEL_INPUTS:
            if add != 0.0:
                raise ScenarioError(
                    f"stress on {input} must use multiply, not add (got add = {_number(add)}): "
                    f"{input} is a starting level, so a stress scales the quantity it starts"
                )
            if multiply < 0.0:
                raise ScenarioError(
                    f"stress multiply on {input} must be >= 0, got {_number(multiply)}"
                )
        object.__setattr__(self, "input", input)
        object.__setattr__(self, "start_month", int(start_month))
        object.__setattr__(self, "months", math.inf if months == math.inf else int(months))
        object.__setattr__(self, "multiply", multiply)
        object.__setattr__(self, "add", add)

    @classmethod
    def from_dict(cls, data: Any) -> Stress:
        """A stress from a mapping of its arguments (a ``[[stresses]]`` table)."""
        if isinstance(data, Stress):
            return data
        if not isinstance(data, Mapping):
            raise ScenarioError(
                f"a stress must be a Stress or a mapping with keys {', '.join(_STRESS_KEYS)}, "
                f"got {_short_repr(data)}"
            )
        for key in data:
            if key not in _STRESS_KEYS:
                raise _unknown("stress key", key, _STRESS_KEYS)
        missing = [k for k in ("input", "start_month") if k not in data]
        if missing:
            raise ScenarioError(f"a stress needs input and start_month; {missing[0]} is missing")
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        """Plain data that :meth:`from_dict` turns back into an equal stress."""
        out: dict[str, Any] = {"input": self.input, "start_month": self.start_month}
        if self.months != math.inf:
            out["months"] = self.months
        if self.multiply != 1.0:
            out["multiply"] = self.multiply
        if self.add != 0.0:
            out["add"] = self.add
        return out

    def months_in(self, horizon: int) -> range:
        """The stressed months within a horizon of ``horizon`` months."""
        end = horizon
        if self.months != math.inf:
            end = min(horizon, self.start_month + self.months - 1)
        return range(self.start_month, end + 1)

    def describe(self) -> str:
        """The stress in words, e.g. ``gpu_rent_price_0 x 1.5 in months 12..``."""
        change = []
        if self.multiply != 1.0:
            change.append(f"x {self.multiply:g}")
        if self.add != 0.0:
            change.append(f"{'+' if self.add > 0 else '-'} {abs(self.add):g}")
        when = (
            f"from month {self.start_month}"
            if self.months == math.inf
            else f"in months {self.start_month}..{self.start_month + self.months - 1}"
        )
        return f"{self.input} {' '.join(change) or 'unchanged'} {when}"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Stress):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(tuple(self.to_dict().items()))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.to_dict().items() if k != "input")
        return f"Stress({self.input!r}, {args})"

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Stress is immutable")

    def __reduce__(self):
        return (_stress_from_dict, (self.to_dict(),))


def _stress_from_dict(data: dict[str, Any]) -> Stress:
    return Stress(**data)


def _check_stresses(value: Any, horizon: int, dists: Mapping[str, md.Distribution]) -> tuple:
    if value is None:
        return ()
    if isinstance(value, Stress | Mapping) or not isinstance(value, list | tuple):
        raise ScenarioError(
            f"stresses must be a list of Stress objects or mappings, got {_short_repr(value)}"
        )
    stresses: list[Stress] = []
    # Each error starts with "stresses[k]: ", the stress it is about (the CLI turns it into
    # the line of that [[stresses]] table). Stress k is checked with the ones before it,
    # since stresses on one input compose.
    for k, item in enumerate(value):
        try:
            stress = Stress.from_dict(item)
            if stress.start_month > horizon:
                raise ScenarioError(
                    f"stress {stress.describe()!r} starts after the horizon of {horizon} months"
                )
            stresses.append(stress)
            i = INPUT_INDEX[stress.input]
            mul, add, _ = stress_tables(stresses, horizon)
            name = INPUT_NAMES[i]
            pairs = zip(mul[1:, i], add[1:, i], strict=True)
            for m, a in sorted({(float(m), float(a)) for m, a in pairs}):
                _check_stressed_support(name, dists[name], m, a)
        except ScenarioError as err:
            raise ScenarioError(f"stresses[{k}]: {err}") from None
    return tuple(stresses)


def _check_stressed_support(name: str, dist: md.Distribution, m: float, a: float) -> None:
    """The stressed values ``x * m + a`` of a law must stay in the input's range."""
    allowed = FIELDS[name].range
    low, high = (float(v) for v in dist.support)
    if m == 0.0:
        low = high = a
        atomic = True
    else:
        low, high = sorted((low * m + a, high * m + a))
        atomic = isinstance(dist, _ATOMIC)
    low_ok = low > allowed.low or (low == allowed.low and (allowed.low_inclusive or not atomic))
    high_ok = (
        high < allowed.high
        or (high == allowed.high and (allowed.high_inclusive or not atomic))
        or (math.isinf(high) and high > 0 and allowed.allow_inf)
    )
    if not (low_ok and high_ok) or math.isnan(low) or math.isnan(high):
        raise ScenarioError(
            f"a stress makes {name} = {_describe_value(dist)} times {m:g} plus {a:g}, which can "
            f"take values in {_interval(low, high)}, but {name} must be {allowed.describe()}"
        )


def stress_tables(stresses, horizon: int):
    """The kernels' form of a list of stresses.

    Returns
    -------
    mul, add : numpy.ndarray
        ``(horizon + 1, N_INPUTS)``: in month t input i is ``value * mul[t, i] + add[t, i]``
        (row 0, month 0, is never stressed).
    change : numpy.ndarray of bool
        ``(horizon + 1,)``: whether month t's row differs from month t - 1's, i.e. the
        months where the kernels must set the inputs again.
    """
    mul = np.ones((horizon + 1, N_INPUTS))
    add = np.zeros((horizon + 1, N_INPUTS))
    for stress in stresses:
        i = INPUT_INDEX[stress.input]
        months = list(stress.months_in(horizon))
        # (x m1 + a1) m2 + a2: later stresses act on the result of earlier ones.
        add[months, i] = add[months, i] * stress.multiply + stress.add
        mul[months, i] *= stress.multiply
    change = np.zeros(horizon + 1, dtype=np.bool_)
    change[1:] = (mul[1:] != mul[:-1]).any(axis=1) | (add[1:] != add[:-1]).any(axis=1)
    return mul, add, change


# ------------------------------------------------------------------------------------------
# Scenario
# ------------------------------------------------------------------------------------------


class Scenario:
    """Every input of the model with its uncertainty, validated: what the engine simulates.

    Parameters
    ----------
    name : str, optional
        A label for results and files; ``"custom"`` by default.
    horizon_months : int, optional
        T, the number of simulated months, 1 to 600; 60 by default.
    correlation : Correlation, mapping or None, optional
        Gaussian-copula correlation of static inputs (:class:`montecarlo.correlation.Correlation`,
        or a mapping of its arguments ``names``, ``matrix``, ``kind``, ``repair``). It may name
        constant inputs too, which it then leaves unchanged. None: no correlation. Default:
        frontier-lab's.
    shock_correlation : array_like or None, optional
        5x5 correlation of the monthly normal shocks (users, api, utilization, hardware,
        electricity), itself (not a rank correlation); symmetric, unit diagonal, positive
        semi-definite. None: independent shocks. Default: frontier-lab's, the identity.
    stresses : sequence of Stress or mappings, optional
        Shocks to named inputs in given months (:class:`Stress`), applied in order; none by
        default. Each stressed value must stay in its input's range.
    **inputs
        One keyword per input of the specification (:data:`FIELDS` lists them with units and
        allowed ranges): a number, a :class:`montecarlo.distributions.Distribution`, a frozen
        ``scipy.stats`` continuous distribution, or a mapping such as
        ``{"dist": "pert", "low": 0.03, "mode": 0.05, "high": 0.085}``. **Inputs not given take
        the values of the frontier-lab preset**, so ``Scenario()`` is the default scenario and
        ``Scenario(paid_share=0.1)`` is frontier-lab with one change.

    Raises
    ------
    ScenarioError
        For an unknown keyword (with the closest valid names), a value of the wrong type, NaN,
        a value or a distribution's support outside the input's range, ``users_0`` above a
        constant ``user_ceiling``, an invalid correlation or shock correlation, or a horizon
        that is not an integer in 1..600.

    Notes
    -----
    ``users_0 <= user_ceiling`` is enforced when both are constants. When either is uncertain,
    a draw with users above the ceiling is allowed: the logistic step then shrinks the users
    towards the ceiling.

    Examples
    --------
    >>> s = Scenario.preset("api-startup").replace(initial_cash=10e6, horizon_months=36)
    >>> Scenario.from_toml(s.to_toml()) == s
    True
    """

    __slots__ = ("_name", "_horizon", "_inputs", "_correlation", "_shocks", "_stresses", "_packed")

    def __init__(
        self,
        *,
        name: str = _DEFAULT_NAME,
        horizon_months: int = 60,
        correlation: Correlation | Mapping[str, Any] | None = _DEFAULT,
        shock_correlation: npt.ArrayLike | None = _DEFAULT,
        stresses: Any = (),
        **inputs: Any,
    ) -> None:
        for key in inputs:
            if key not in FIELDS:
                raise _unknown("scenario field", key, _VALID_KEYWORDS)
        name = _check_name(name)
        horizon = _check_horizon(horizon_months)

        missing = [n for n in INPUT_NAMES if n not in inputs]
        # Built lazily: the default preset itself sets every field and never gets here.
        default = _preset_scenario(_presets.DEFAULT_PRESET) if missing else None
        dists: dict[str, md.Distribution] = {}
        for n in INPUT_NAMES:
            dists[n] = _to_distribution(n, inputs[n]) if n in inputs else default._inputs[n]

        users, ceiling = dists["users_0"], dists["user_ceiling"]
        if isinstance(users, md.Constant) and isinstance(ceiling, md.Constant):
            if users.value > ceiling.value:
                raise ScenarioError(
                    f"users_0 must not exceed user_ceiling, got users_0 = {_number(users.value)} "
                    f"above user_ceiling = {_number(ceiling.value)}"
                )

        _check_discounting(dists["discount_rate"], horizon)

        if correlation is _DEFAULT or shock_correlation is _DEFAULT:
            default = default or _preset_scenario(_presets.DEFAULT_PRESET)
        if correlation is _DEFAULT:
            correlation = default._correlation
        if shock_correlation is _DEFAULT:
            shock_correlation = default._shocks

        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_horizon", horizon)
        object.__setattr__(self, "_inputs", MappingProxyType(dists))
        object.__setattr__(self, "_correlation", _check_correlation(correlation))
        object.__setattr__(self, "_shocks", _check_shocks(shock_correlation))
        object.__setattr__(self, "_stresses", _check_stresses(stresses, horizon, dists))
        _check_dilution(dists, self._stresses, horizon)
        object.__setattr__(self, "_packed", None)

    # --- construction ---------------------------------------------------------------------

    @classmethod
    def preset(cls, name: str) -> Scenario:
        """One of the calibrated presets (:func:`presets` lists them; docs/model.md sources them).

        Raises
        ------
        ScenarioError
            If there is no preset of that name.
        """
        if not isinstance(name, str) or name not in _presets.PRESETS:
            raise _unknown("preset", name, tuple(_presets.PRESETS))
        return _preset_scenario(name)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Scenario:
        """Build a scenario from :meth:`to_dict`'s mapping (or a hand-written subset of it).

        Keys: ``name``, ``horizon_months``, ``inputs`` (a mapping of input names to numbers or
        distribution mappings), ``correlation`` (a mapping of names, matrix, kind, repair; None
        or empty for none) and ``shock_correlation``. Anything left out takes the default.
        """
        if not isinstance(data, Mapping):
            raise ScenarioError(
                f"a scenario must be a mapping with keys {', '.join(_DICT_KEYS)}, got "
                f"{_short_repr(data)} ({type(data).__name__})"
            )
        for key in data:
            if key not in _DICT_KEYS:
                raise _unknown("scenario key", key, _DICT_KEYS)
        inputs = data.get("inputs", {})
        if not isinstance(inputs, Mapping):
            raise ScenarioError(
                f"inputs must be a mapping of input names to values, got {_short_repr(inputs)}"
            )
        for key in inputs:
            if key not in FIELDS:
                raise _unknown("input", key, INPUT_NAMES)
        options = {key: data[key] for key in _OPTIONS if key in data}
        return cls(**options, **inputs)

    @classmethod
    def from_toml(cls, source: str | os.PathLike[str]) -> Scenario:
        """Read a scenario from TOML text or a TOML file (layout in the module docstring).

        A ``str`` holding a newline or ``=`` is TOML text, any other ``str`` or an
        ``os.PathLike`` is a path.
        """
        if isinstance(source, str) and not source.strip():
            raise ScenarioError(
                "from_toml got empty text; pass TOML text that sets at least one field, or the "
                "path of a scenario file"
            )
        if isinstance(source, os.PathLike) or (
            isinstance(source, str) and "\n" not in source and "=" not in source
        ):
            path = pathlib.Path(source)
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                raise ScenarioError(f"scenario file {os.fspath(path)}: not UTF-8 text") from None
            except OSError as err:
                raise ScenarioError(
                    f"scenario file {os.fspath(path)}: {err.strerror or err}"
                ) from None
        elif isinstance(source, str):
            text = source
        else:
            raise ScenarioError(
                f"from_toml needs TOML text or a path, got {_short_repr(source)} "
                f"({type(source).__name__})"
            )
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            raise ScenarioError(f"the scenario is not valid TOML: {err}") from None
        except ValueError as err:  # an integer literal beyond Python's digit limit
            raise ScenarioError(f"the scenario holds a number too long to read: {err}") from None
        return cls.from_dict(data)

    def replace(self, **changes: Any) -> Scenario:
        """A copy with some fields changed (inputs or options), validated again as a whole."""
        fields: dict[str, Any] = {
            "name": self._name,
            "horizon_months": self._horizon,
            "correlation": self._correlation,
            "shock_correlation": self._shocks,
            "stresses": self._stresses,
            **self._inputs,
        }
        for key in changes:
            if key not in fields:
                raise _unknown("scenario field", key, _VALID_KEYWORDS)
        fields.update(changes)
        return Scenario(**fields)

    # --- views ----------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The scenario's label."""
        return self._name

    @property
    def horizon_months(self) -> int:
        """T, the number of simulated months."""
        return self._horizon

    @property
    def inputs(self) -> Mapping[str, md.Distribution]:
        """Read-only mapping of every input to its distribution, in specification order."""
        return self._inputs

    @property
    def uncertain_inputs(self) -> tuple[str, ...]:
        """Names of the inputs that are not constants, in specification order."""
        return tuple(n for n, d in self._inputs.items() if not d.is_constant)

    @property
    def correlation(self) -> Correlation | None:
        """Copula correlation of static inputs, or None."""
        return self._correlation

    @property
    def stresses(self) -> tuple[Stress, ...]:
        """The stress tests applied, in order (empty: none)."""
        return self._stresses

    def with_stress(self, input: str, start_month: int, **kwargs: Any) -> Scenario:
        """A copy with one more :class:`Stress` (same arguments), e.g.
        ``s.with_stress("gpu_rent_price_0", start_month=12, multiply=1.5)``."""
        return self.replace(stresses=(*self._stresses, Stress(input, start_month, **kwargs)))

    def stress_tables(self):
        """:func:`stress_tables` of this scenario's stresses over its horizon."""
        return stress_tables(self._stresses, self._horizon)

    @property
    def shock_correlation(self) -> npt.NDArray[np.float64]:
        """5x5 correlation of the monthly shocks (read-only), rows as in SHOCK_NAMES."""
        return self._shocks.view()

    def packed(self) -> PackedInputs:
        """The inputs laid out for the kernels (computed once, then cached)."""
        if self._packed is None:
            for name, dist in self._inputs.items():
                try:
                    dist.kernel_spec()  # tabulated laws build (and cache) their tables here
                except md.DistributionError as err:
                    raise ScenarioError(f"{name}: {err}") from None
            object.__setattr__(self, "_packed", pack_inputs(self._inputs, self._correlation))
        return self._packed

    # --- output ---------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Plain data (numbers, strings, lists, dicts) that :meth:`from_dict` turns back into
        an equal scenario; every input is written."""
        inputs = {
            n: (d.value if isinstance(d, md.Constant) else _plain(d.to_dict()))
            for n, d in self._inputs.items()
        }
        return {
            "name": self._name,
            "horizon_months": self._horizon,
            "inputs": inputs,
            "correlation": None if self._correlation is None else self._correlation.to_dict(),
            "shock_correlation": self._shocks.tolist(),
            "stresses": [st.to_dict() for st in self._stresses],
        }

    def to_toml(self) -> str:
        """The scenario as TOML text (layout in the module docstring); reads back exactly."""
        data = self.to_dict()
        lines = [
            "# montecarlo scenario (model specification v1); read it with Scenario.from_toml",
            f"name = {_toml_value(data['name'])}",
            f"horizon_months = {data['horizon_months']}",
            f"# shocks: {', '.join(SHOCK_NAMES)}",
            *_toml_matrix("shock_correlation", data["shock_correlation"]),
            "",
            "[inputs]",
            *(f"{n} = {_toml_value(v)}" for n, v in data["inputs"].items()),
            "",
        ]
        corr = data["correlation"]
        if corr is None:
            lines.append("[correlation]  # empty: no correlated inputs")
        else:
            lines += ["[correlation]", f"names = {_toml_value(corr['names'])}"]
            lines += _toml_matrix("matrix", corr["matrix"])
            lines.append(f"kind = {_toml_value(corr['kind'])}")
            if corr.get("repair"):
                lines.append("repair = true")
        for stress in data["stresses"]:
            lines += ["", "[[stresses]]"]
            lines += [f"{k} = {_toml_value(v)}" for k, v in stress.items()]
        return "\n".join(lines) + "\n"

    def describe(self) -> pd.DataFrame:
        """Table of the inputs: unit, value (number or law) and meaning, indexed by name."""
        import pandas as pd

        rows = [
            (n, FIELDS[n].unit, _describe_value(d), FIELDS[n].meaning)
            for n, d in self._inputs.items()
        ]
        return pd.DataFrame(rows, columns=["input", "unit", "value", "meaning"]).set_index("input")

    # --- comparison and immutability ------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Scenario):
            return NotImplemented
        return (
            self._name == other._name
            and self._horizon == other._horizon
            and all(self._inputs[n] == other._inputs[n] for n in INPUT_NAMES)
            and self._correlation == other._correlation
            and np.array_equal(self._shocks, other._shocks)
            and self._stresses == other._stresses
        )

    def __hash__(self) -> int:
        # Equal scenarios have equal constants and the same uncertain inputs; hashing just that
        # avoids the unhashable array-backed laws (Empirical, Discrete).
        key = tuple(d.value if d.is_constant else type(d).__name__ for d in self._inputs.values())
        return hash((self._name, self._horizon, key, self._stresses))

    def __repr__(self) -> str:
        correlated = 0 if self._correlation is None else len(self._correlation.names)
        return (
            f"<Scenario {self._name!r}: {self._horizon} months, "
            f"{len(self.uncertain_inputs)} of {len(INPUT_NAMES)} inputs uncertain, "
            f"{correlated} correlated"
            + (f", {len(self._stresses)} stresses" if self._stresses else "")
            + ">"
        )

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Scenario is immutable; use replace() to change {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"Scenario is immutable; cannot delete {name!r}")

    def __reduce__(self):
        # Slots behind a blocked __setattr__ and a mappingproxy do not pickle by default.
        kwargs = {
            "name": self._name,
            "horizon_months": self._horizon,
            "correlation": self._correlation,
            "shock_correlation": np.array(self._shocks),
            "stresses": self._stresses,
            **self._inputs,
        }
        return (_restore, (kwargs,))


def _restore(kwargs: dict[str, Any]) -> Scenario:
    return Scenario(**kwargs)


@functools.cache
def _preset_scenario(name: str) -> Scenario:
    return Scenario.from_dict(_presets.PRESETS[name])


def presets() -> list[str]:
    """Names of the calibrated presets, the default (``frontier-lab``) first."""
    return _presets.names()
