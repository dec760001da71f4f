"""Tests for montecarlo.scenario and the presets in montecarlo.presets.

Round trips are exact: ``==`` on scenarios compares every float bit for bit (up to the
sign of zero), so a passing test means TOML and to_dict lose nothing.
"""

from __future__ import annotations

import math
import pickle
import traceback

import numpy as np
import pandas as pd
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

from kernels.layout import INPUT_NAMES, SHOCK_NAMES
from montecarlo import distributions as md
from montecarlo.correlation import Correlation
from montecarlo.presets import DEFAULT_PRESET, PRESETS
from montecarlo.scenario import FIELDS, Range, Scenario, ScenarioError, presets

PRESET_NAMES = ["frontier-lab", "api-startup", "self-hosted", "specialized-model"]


def raises(match: str, build=None, **kwargs) -> ScenarioError:
    """Assert that building a scenario fails with a ScenarioError matching ``match``, raised by
    the validation in Python (never from numba or the kernels)."""
    with pytest.raises(ScenarioError, match=match) as info:
        (build or Scenario)(**kwargs)
    frames = traceback.extract_tb(info.value.__traceback__)
    assert not [f for f in frames if "numba" in f.filename or "/kernels/" in f.filename]
    message = str(info.value)
    assert message.count("\n") == 0, message
    return info.value


# ------------------------------------------------------------------------------------------
# Field metadata
# ------------------------------------------------------------------------------------------


def test_fields_follow_the_specification():
    assert tuple(FIELDS) == INPUT_NAMES
    for name, info in FIELDS.items():
        assert info.unit and info.meaning, name
        assert info.range.low <= info.range.high, name


@pytest.mark.parametrize(
    ("rng", "inside", "outside"),
    [
        (Range(0.0, 1.0, True, True), [0.0, 0.5, 1.0], [-1e-300, 1.0000000000000002, math.inf]),
        (Range(0.0, 1.0, False, False), [5e-324, 0.999], [0.0, 1.0]),
        (Range(0.0, math.inf, False, False, True), [1e-300, 1e300, math.inf], [0.0, -math.inf]),
        (Range(-math.inf, math.inf, False, False), [-1e300, 0.0, 1e300], [math.inf, -math.inf]),
    ],
)
def test_range_contains(rng, inside, outside):
    assert all(rng.contains(x) for x in inside)
    assert not any(rng.contains(x) for x in outside)
    assert not rng.contains(math.nan)


# ------------------------------------------------------------------------------------------
# Presets
# ------------------------------------------------------------------------------------------


def test_presets_are_listed_default_first():
    assert presets() == PRESET_NAMES
    assert DEFAULT_PRESET == PRESET_NAMES[0]


@pytest.mark.parametrize("name", PRESET_NAMES)
def test_preset_validates_and_sets_every_input(name):
    data = PRESETS[name]
    # The default preset fills the others' gaps, so it (and every preset) must be complete.
    assert tuple(data["inputs"]) == INPUT_NAMES
    scenario = Scenario.preset(name)
    assert scenario.name == name
    assert scenario.horizon_months == 60
    assert tuple(scenario.inputs) == INPUT_NAMES
    assert scenario.uncertain_inputs  # every preset carries uncertainty


@pytest.mark.parametrize("name", PRESET_NAMES)
def test_preset_round_trips_exactly(name):
    scenario = Scenario.preset(name)
    text = scenario.to_toml()
    again = Scenario.from_toml(text)
    assert again == scenario
    assert again.to_toml() == text
    assert Scenario.from_dict(scenario.to_dict()) == scenario


def test_presets_have_correlations():
    assert Scenario.preset("frontier-lab").correlation is not None
    identity = np.eye(len(SHOCK_NAMES))
    assert any(
        not np.array_equal(Scenario.preset(n).shock_correlation, identity) for n in PRESET_NAMES
    )


def test_unknown_preset_suggests_the_closest():
    raises(
        "unknown preset 'frontier'; did you mean 'frontier-lab'", Scenario.preset, name="frontier"
    )


# ------------------------------------------------------------------------------------------
# Defaults, views, replace
# ------------------------------------------------------------------------------------------


def test_default_scenario_is_frontier_lab():
    default, preset = Scenario(), Scenario.preset("frontier-lab")
    assert default.name == "custom"
    assert dict(default.inputs) == dict(preset.inputs)
    assert default.correlation == preset.correlation
    assert default == preset.replace(name="custom")


def test_inputs_not_given_come_from_the_default_preset():
    scenario = Scenario(paid_share=0.1, name="x")
    preset = Scenario.preset("frontier-lab")
    assert scenario.inputs["paid_share"] == md.Constant(0.1)
    assert all(scenario.inputs[n] == preset.inputs[n] for n in INPUT_NAMES if n != "paid_share")
    assert Scenario(correlation=None).correlation is None
    assert np.array_equal(Scenario(shock_correlation=None).shock_correlation, np.eye(5))


def test_accepted_value_types():
    scipy_law = scipy.stats.gamma(2.0, scale=3.0)
    scenario = Scenario(
        users_0=np.int64(10**6),
        user_ceiling=math.inf,
        paid_share=np.float32(0.25),
        throughput_0=scipy_law,
        api_price_0={"dist": "triangular", "low": 0.1, "mode": 0.2, "high": 0.5},
        pue=md.PERT(1.1, 1.2, 1.5),
    )
    assert scenario.inputs["users_0"] == md.Constant(1e6)
    assert scenario.inputs["user_ceiling"] == md.Constant(math.inf)
    assert scenario.inputs["paid_share"] == md.Constant(0.25)
    assert scenario.inputs["throughput_0"] == md.ScipyDistribution(scipy_law)
    assert scenario.inputs["api_price_0"] == md.Triangular(0.1, 0.2, 0.5)
    assert {"throughput_0", "api_price_0", "pue"} <= set(scenario.uncertain_inputs)
    assert "users_0" not in scenario.uncertain_inputs


def test_views_are_read_only_and_the_scenario_immutable():
    scenario = Scenario.preset("api-startup")
    assert list(scenario.inputs) == list(INPUT_NAMES)
    with pytest.raises(TypeError):
        scenario.inputs["paid_share"] = md.Constant(0.5)
    with pytest.raises(ValueError, match="read-only"):
        scenario.shock_correlation[0, 1] = 0.0
    with pytest.raises(AttributeError, match="immutable"):
        scenario.name = "other"
    assert scenario.shock_correlation[0, 1] == 0.5


def test_replace_changes_one_field_and_validates_again():
    base = Scenario.preset("self-hosted")
    changed = base.replace(initial_cash=5e6, horizon_months=24)
    assert changed.inputs["initial_cash"] == md.Constant(5e6)
    assert changed.horizon_months == 24
    assert changed.name == base.name
    assert all(changed.inputs[n] == base.inputs[n] for n in INPUT_NAMES if n != "initial_cash")
    assert changed.correlation == base.correlation
    assert base.inputs["initial_cash"] == md.Constant(100e6)  # the original is untouched
    assert base.replace() == base
    assert base.replace(correlation=None).correlation is None
    raises(r"paid_share must be in \[0, 1\], got 2\.0", base.replace, paid_share=2.0)
    raises("did you mean 'users_0'", base.replace, user_0=1.0)
    raises("users_0 must not exceed user_ceiling", base.replace, users_0=1e9, user_ceiling=1e8)


def test_packed_is_cached_and_in_spec_order():
    scenario = Scenario.preset("frontier-lab")
    packed = scenario.packed()
    assert packed is scenario.packed()
    assert packed.names == INPUT_NAMES
    expected = sorted(INPUT_NAMES.index(n) for n in scenario.correlation.names)
    assert packed.corr_index.tolist() == expected


def test_correlation_may_name_constant_inputs():
    corr = Correlation(["users_0", "paid_share"], [[1.0, 0.5], [0.5, 1.0]])
    scenario = Scenario(users_0=1e6, paid_share=md.Beta(2, 30), correlation=corr)
    assert scenario.correlation == corr
    scenario.packed()


def test_describe_repr_hash_and_pickle():
    scenario = Scenario.preset("frontier-lab")
    table = scenario.describe()
    assert isinstance(table, pd.DataFrame)
    assert list(table.index) == list(INPUT_NAMES)
    assert list(table.columns) == ["unit", "value", "meaning"]
    assert table.loc["users_0", "value"] == "4e+08"
    assert "PERT" in table.loc["paid_share", "value"]
    assert repr(scenario).startswith("<Scenario 'frontier-lab': 60 months")
    copy = Scenario.from_toml(scenario.to_toml())
    assert hash(copy) == hash(scenario)
    assert pickle.loads(pickle.dumps(scenario)) == scenario
    assert scenario != scenario.replace(name="other")
    assert scenario != "frontier-lab"


# ------------------------------------------------------------------------------------------
# Files
# ------------------------------------------------------------------------------------------


def test_toml_layout_and_special_floats():
    scenario = Scenario(
        user_ceiling=math.inf,
        discount_months=math.inf,
        users_0=1e-300,
        initial_cash=1e300,
        paid_share=0.1,
        adoption_rate=-0.0,
        name='quote " and ünïcode',
    )
    text = scenario.to_toml()
    assert "user_ceiling = inf" in text
    assert "paid_share = 0.1\n" in text
    assert "users_0 = 1e-300" in text
    assert "[inputs]" in text and "[correlation]" in text
    assert Scenario.from_toml(text) == scenario


def test_toml_reads_files_and_partial_documents(tmp_path):
    scenario = Scenario.preset("specialized-model")
    path = tmp_path / "scenario.toml"
    path.write_text(scenario.to_toml(), encoding="utf-8")
    assert Scenario.from_toml(path) == scenario
    assert Scenario.from_toml(str(path)) == scenario

    partial = Scenario.from_toml('name = "small"\n[inputs]\nusers_0 = 1000\n')
    assert partial == Scenario(name="small", users_0=1000.0)
    assert partial.correlation == Scenario().correlation
    no_correlation = Scenario.from_toml("horizon_months = 12\n[correlation]\n")
    assert no_correlation.correlation is None
    assert no_correlation.horizon_months == 12


def test_discrete_and_empirical_round_trip_exactly():
    # Probabilities that sum to 1 only within round-off are kept exactly as given.
    rng = np.random.default_rng(7)
    for _ in range(50):
        probs = rng.random(5)
        probs /= probs.sum()
        dist = md.Discrete(rng.random(5) * 0.9 + 0.05, probs)
        assert md.from_dict(dist.to_dict()) == dist
        scenario = Scenario(paid_share=dist, utilization_mean=md.Empirical([0.2, 0.5, 0.55, 0.9]))
        assert Scenario.from_toml(scenario.to_toml()) == scenario
        assert Scenario.from_dict(scenario.to_dict()) == scenario


# ------------------------------------------------------------------------------------------
# Random valid scenarios round-trip exactly
# ------------------------------------------------------------------------------------------

SPECIAL_FLOATS = [0.0, 0.1, 1 / 3, 1e-300, 5e-324, 1e300, math.inf, -0.0, 12.0, 0.5]


def constants(name: str, finite: bool = False) -> st.SearchStrategy[float]:
    rng = FIELDS[name].range
    low = None if math.isinf(rng.low) else rng.low
    high = None if math.isinf(rng.high) else rng.high
    floats = st.floats(
        min_value=low,
        max_value=high,
        exclude_min=low is not None and not rng.low_inclusive,
        exclude_max=high is not None and not rng.high_inclusive,
        allow_nan=False,
        allow_infinity=rng.allow_inf and not finite,
    )
    specials = [x for x in SPECIAL_FLOATS if rng.contains(x) and not (finite and math.isinf(x))]
    return st.one_of(st.sampled_from(specials), floats) if specials else floats


@st.composite
def distributions(draw, name: str) -> md.Distribution:
    rng = FIELDS[name].range
    kind = draw(st.sampled_from(["empirical", "discrete", "continuous", "scipy"]))
    if kind == "empirical":
        return md.Empirical(draw(st.lists(constants(name, finite=True), min_size=1, max_size=4)))
    if kind == "discrete":
        values = draw(st.lists(constants(name, finite=True), min_size=1, max_size=4))
        weights = draw(st.lists(st.floats(0.05, 1.0), min_size=len(values), max_size=len(values)))
        probs = np.array(weights) / np.sum(weights)
        return md.Discrete(values, probs)
    fractions = sorted(draw(st.lists(st.floats(0.0, 1.0), min_size=3, max_size=3)))
    if fractions[2] - fractions[0] < 0.01:  # keep laws away from zero width
        fractions = [0.2, 0.5, 0.8]
    a, m, b = fractions
    if math.isfinite(rng.high):  # bounded: laws on a sub-interval
        width = rng.high - rng.low
        low, mode, high = (rng.low + width * f for f in (a, m, b))
        if kind == "scipy":
            return md.ScipyDistribution(
                scipy.stats.beta(1 + 3 * a, 1 + 3 * b, loc=low, scale=high - low)
            )
        return draw(
            st.sampled_from(
                [md.Uniform(low, high), md.PERT(low, mode, high), md.Triangular(low, mode, high)]
            )
        )
    scale = 10.0 ** draw(st.integers(-3, 6))
    if math.isfinite(rng.low):  # bounded below
        if kind == "scipy":
            return md.ScipyDistribution(scipy.stats.gamma(0.5 + 4 * m, loc=rng.low, scale=scale))
        return draw(
            st.sampled_from(
                [
                    md.TruncatedNormal(rng.low + scale * m, scale, low=rng.low),
                    md.Uniform(rng.low + scale * a, rng.low + scale * (1 + b)),
                ]
                + ([md.LogNormal(math.log(scale), 0.1 + b)] if rng.low == 0 else [])
            )
        )
    if kind == "scipy":
        return md.ScipyDistribution(scipy.stats.t(2 + 10 * a, loc=scale * (m - 0.5), scale=scale))
    return md.Normal(scale * (m - 0.5), scale * (0.1 + b))


@st.composite
def scenarios(draw) -> Scenario:
    chosen = draw(st.lists(st.sampled_from(INPUT_NAMES), unique=True, max_size=10))
    fields = {}
    for name in chosen:
        uncertain = draw(st.integers(0, 3)) == 0
        fields[name] = draw(distributions(name) if uncertain else constants(name))
    ceiling = fields.get("user_ceiling", None)
    if isinstance(ceiling, float):  # users_0 (default 4e8, a constant) must stay below it
        fields["users_0"] = draw(
            st.floats(min_value=0.0, max_value=ceiling, exclude_min=True, allow_infinity=False)
        )
    options = {}
    if draw(st.booleans()):
        options["name"] = draw(st.text(min_size=1, max_size=12).filter(str.strip))
    if draw(st.booleans()):
        options["horizon_months"] = draw(st.integers(1, 600))
    if draw(st.booleans()):
        rho = draw(st.floats(-0.95, 0.95))
        pair = draw(st.lists(st.sampled_from(INPUT_NAMES), min_size=2, max_size=2, unique=True))
        kind = draw(st.sampled_from(["spearman", "gaussian"]))
        options["correlation"] = Correlation(pair, [[1.0, rho], [rho, 1.0]], kind=kind)
    elif draw(st.booleans()):
        options["correlation"] = None
    if draw(st.booleans()):
        vectors = np.array(draw(st.lists(st.floats(-1, 1), min_size=15, max_size=15)))
        factor = np.hstack([np.eye(5), vectors.reshape(5, 3)])  # rows are never zero
        factor /= np.linalg.norm(factor, axis=1, keepdims=True)
        matrix = factor @ factor.T
        matrix = 0.5 * (matrix + matrix.T)
        np.fill_diagonal(matrix, 1.0)
        options["shock_correlation"] = np.clip(matrix, -1.0, 1.0)
    try:
        return Scenario(**options, **fields)
    except ScenarioError as err:
        # A raise multiple drawn up to the valuation (the default's rounds are on) is
        # refused; switching the rounds off keeps the drawn multiples legal.
        if "valuation_arr_multiple must exceed" not in str(err):
            raise
        return Scenario(**options, **{**fields, "raise_trigger_months": 0.0})


@settings(max_examples=60)
@given(scenarios())
def test_random_scenarios_round_trip_exactly(scenario):
    assert Scenario.from_toml(scenario.to_toml()) == scenario
    assert Scenario.from_dict(scenario.to_dict()) == scenario


# ------------------------------------------------------------------------------------------
# Invalid fields
# ------------------------------------------------------------------------------------------

INVALID = [
    # out of range
    ({"gpu_rent_price_0": -1.0}, r"gpu_rent_price_0 must be a finite number >= 0, got -1\.0"),
    ({"subscription_price": -0.01}, r"subscription_price must be a finite number >= 0"),
    ({"paid_share": 1.5}, r"paid_share must be in \[0, 1\], got 1\.5"),
    ({"revenue_share": -0.1}, r"revenue_share must be in \[0, 1\]"),
    ({"utilization_mean": 1.0}, r"utilization_mean must be in \(0, 1\), got 1\.0"),
    ({"utilization_mean": 0.0}, r"utilization_mean must be in \(0, 1\), got 0\.0"),
    ({"utilization_persistence": 1.0}, r"utilization_persistence must be in \[0, 1\)"),
    ({"pue": 0.9}, r"pue must be a finite number >= 1, got 0\.9"),
    ({"users_0": 0}, r"users_0 must be a finite number > 0, got 0\.0"),
    ({"throughput_0": 0.0}, r"throughput_0 must be a finite number > 0, got 0\.0; it divides"),
    ({"electricity_price_0": 0.0}, r"electricity_price_0 must be a finite number > 0"),
    ({"generation_jump_size": 1.0}, r"generation_jump_size must be in \[0, 1\)"),
    ({"generation_jump_rate": 12.5}, r"generation_jump_rate must be in \[0, 12\].*probability"),
    ({"electricity_reversion": 13.0}, r"electricity_reversion must be in \[0, 12\]"),
    ({"electricity_reversion": -0.1}, r"electricity_reversion must be in \[0, 12\]"),
    ({"gpu_life_years": 0.05}, r"gpu_life_years must be a finite number >= 0\.08"),
    ({"discount_rate": -1.0}, r"discount_rate must be a finite number > -1, got -1\.0"),
    ({"discount_months": -1.0}, r"discount_months must be a number >= 0, or inf"),
    ({"users_0": 3e9, "user_ceiling": 2e9}, r"users_0 must not exceed user_ceiling"),
    # NaN and infinities
    ({"paid_share": math.nan}, r"paid_share must be in \[0, 1\], got nan"),
    ({"initial_cash": math.nan}, r"initial_cash must be a finite number, got nan"),
    ({"initial_cash": math.inf}, r"initial_cash must be a finite number, got inf"),
    ({"users_0": math.inf}, r"users_0 must be a finite number > 0, got inf"),
    ({"api_price_0": math.inf}, r"api_price_0 must be a finite number >= 0, got inf"),
    ({"user_ceiling": -math.inf}, r"user_ceiling must be a number > 0, or inf, got -inf"),
    ({"adoption_rate": md.Constant(math.inf)}, r"adoption_rate must be a finite number, got inf"),
    # wrong types
    ({"paid_share": "0.05"}, r"paid_share must be a number.*got '0\.05' \(str\)"),
    ({"paid_share": None}, r"paid_share must be a number.*got None \(NoneType\)"),
    ({"paid_share": True}, r"paid_share must be a number.*got True \(bool\)"),
    ({"paid_share": [0.05]}, r"paid_share must be a number.*got \[0\.05\] \(list\)"),
    ({"paid_share": np.array([0.05])}, r"paid_share must be a number.*\(ndarray\)"),
    # unknown fields
    ({"user_growth": 1.0}, r"unknown scenario field 'user_growth'; did you mean"),
    ({"paid_shares": 0.1}, r"unknown scenario field 'paid_shares'; did you mean 'paid_share'"),
    ({"horizon": 12}, r"unknown scenario field 'horizon'; did you mean 'horizon_months'"),
    # distributions that can leave the range
    (
        {"paid_share": md.Normal(0.05, 0.02)},
        r"paid_share = Normal\(mean=0\.05, sd=0\.02\) can draw values in \(-inf, inf\), but "
        r"paid_share must be in \[0, 1\]; use a bounded law such as Beta, PERT",
    ),
    (
        {"paid_share": scipy.stats.norm(0.05, 0.001)},
        r"paid_share = scipy\.stats\.norm.*bounded law",
    ),
    ({"users_0": md.Normal(1e6, 1e5)}, r"users_0 = Normal.*LogNormal, Gamma"),
    ({"pue": md.Uniform(0.9, 1.3)}, r"pue = Uniform.*\[0\.9, 1\.3\].*>= 1"),
    ({"utilization_mean": md.Uniform(0.5, 1.5)}, r"utilization_mean = Uniform.*\(0, 1\)"),
    ({"utilization_mean": md.Empirical([0.0, 0.5])}, r"utilization_mean = Empirical.*\(0, 1\)"),
    ({"utilization_mean": md.Discrete([0.5, 1.0], [0.5, 0.5])}, r"utilization_mean = Discrete"),
    ({"generation_jump_rate": md.Gamma(2.0, 1.0)}, r"generation_jump_rate = Gamma.*\[0, 12\]"),
    ({"throughput_0": scipy.stats.gamma(0.01)}, r"throughput_0 = scipy.*quantile table reaches 0"),
    ({"user_ceiling": md.Normal(2e9, 1e8)}, r"user_ceiling = Normal.*> 0, or inf"),
    # malformed distribution mappings
    (
        {"paid_share": {"dist": "pert", "low": 0.1, "mode": 0.05, "high": 0.2}},
        r"paid_share: .*PERT",
    ),
    ({"api_price_0": {"dist": "nope"}}, r"api_price_0: .*unknown distribution 'nope'"),
    ({"api_price_0": {"dist": "uniform", "lo": 1}}, r"api_price_0: invalid distribution"),
    # horizon and name
    ({"horizon_months": 0}, r"horizon_months must be an integer from 1 to 600, got 0"),
    ({"horizon_months": 601}, r"horizon_months must be an integer from 1 to 600, got 601"),
    ({"horizon_months": 12.5}, r"horizon_months must be an integer.*got 12\.5 \(float\)"),
    ({"horizon_months": "60"}, r"horizon_months must be an integer.*got '60' \(str\)"),
    ({"horizon_months": True}, r"horizon_months must be an integer.*\(bool\)"),
    ({"name": ""}, r"name must be a non-empty string"),
    ({"name": 3}, r"name must be a non-empty string, got 3"),
    # correlations
    (
        {"correlation": {"names": ["paid_share", "user_grwth"], "matrix": np.eye(2)}},
        r"unknown input in the correlation's names: 'user_grwth'; did you mean",
    ),
    (
        {
            "correlation": {
                "names": ["paid_share", "adoption_rate", "pue"],
                "matrix": [[1, 0.9, 0.9], [0.9, 1, -0.9], [0.9, -0.9, 1]],
            }
        },
        r"correlation: .*not positive semi-definite",
    ),
    ({"correlation": {"names": ["pue", "paid_share"]}}, r"correlation needs names and matrix"),
    ({"correlation": {"nmaes": ["pue"], "matrix": [[1]]}}, r"unknown correlation key 'nmaes'"),
    ({"correlation": np.eye(2)}, r"correlation must be a montecarlo Correlation"),
    (
        {"shock_correlation": np.array([[1, 0.9, 0.9], [0.9, 1, -0.9], [0.9, -0.9, 1]])},
        r"shock_correlation must be 5x5",
    ),
    ({"shock_correlation": "identity"}, r"shock_correlation matrix must be an array of real"),
    ({"shock_correlation": 2 * np.eye(5)}, r"shock_correlation matrix diagonal must be 1"),
]


def _non_psd_shocks() -> np.ndarray:
    matrix = np.eye(5)
    matrix[0, 1:3] = matrix[1:3, 0] = 0.9
    matrix[1, 2] = matrix[2, 1] = -0.9
    return matrix


INVALID.append(({"shock_correlation": _non_psd_shocks()}, r"shock_correlation must be positive"))


@pytest.mark.parametrize(("fields", "match"), INVALID, ids=[str(i) for i in range(len(INVALID))])
def test_invalid_fields_are_clear_errors(fields, match):
    err = raises(match, **fields)
    named = [k for k in fields if k in FIELDS or k in ("horizon_months", "name")]
    assert any(k in str(err) for k in named) or "correlation" in str(err) or "unknown" in str(err)


def test_allowed_edge_values():
    Scenario(
        user_ceiling=math.inf,
        discount_months=math.inf,
        generation_jump_rate=12.0,
        electricity_reversion=12.0,
        utilization_persistence=0.0,
        generation_jump_size=0.0,
        paid_share=1.0,
        pue=1.0,
        gpu_life_years=1 / 12,
        initial_cash=-1e9,
        adoption_rate=-2.0,
        horizon_months=600,
    )
    # Continuous laws may touch an open bound at probability zero.
    Scenario(
        utilization_mean=md.Uniform(0.0, 1.0),
        users_0=md.LogNormal.from_interval(1e5, 1e6),
        throughput_0=md.Gamma(2.0, 500.0),
        user_ceiling=md.LogNormal(21.0, 0.5),
        initial_cash=scipy.stats.t(3, loc=1e8, scale=1e7),
        discount_rate=md.Uniform(-1.0, 0.2),
    )


def test_invalid_files_and_mappings():
    raises(
        r"unknown scenario key 'input'; did you mean 'inputs'",
        Scenario.from_dict,
        data={"input": {}},
    )
    raises(r"a scenario must be a mapping", Scenario.from_dict, data=[1, 2])
    raises(r"inputs must be a mapping", Scenario.from_dict, data={"inputs": [1]})
    raises(
        r"unknown input 'usrs_0'; did you mean 'users_0'",
        Scenario.from_dict,
        data={"inputs": {"usrs_0": 1}},
    )
    raises(r"not valid TOML", Scenario.from_toml, source="name = \n[inputs")
    raises(
        r"horizon_months must be an integer.*60\.0",
        Scenario.from_toml,
        source="horizon_months = 60.0",
    )
    raises(r"from_toml needs TOML text or a path", Scenario.from_toml, source=b"name = 'x'")
    raises(
        r"unknown input 'paid_shares'", Scenario.from_toml, source="[inputs]\npaid_shares = 0.1\n"
    )
