"""The engine: backends agree path by path, runs reproduce bit for bit, closed forms hold.

Every statistical check uses a fixed seed and a tolerance derived from the Monte Carlo
standard error (``tests/stats.py``); every numerical check between implementations uses a
tolerance relative to the path's own scale of money flows, because cash and profits are
differences of large flows and carry their absolute round-off, not a relative one.
"""

import math

import numba
import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

import montecarlo as mc
from kernels import sketch
from kernels.layout import INPUT_NAMES, MONTH_OUTCOMES, MONTHLY_NAMES, NEUTRAL_V2, PATH_NAMES
from kernels.reference_model import run_reference
from montecarlo import distributions as md
from montecarlo.correlation import Correlation, psd_cholesky
from montecarlo.engine import SimulationError, simulate, simulate_paths
from montecarlo.scenario import FIELDS, Scenario, ScenarioError

from .stats import Z_BOUND

#: Agreement between backends, relative to a per-path scale (see the module docstring):
#: measured at most 6e-14 on the presets (docs/engine.md, "Backends").
RTOL = 1e-12
#: Hand-computed closed forms: only the rounding of a few dozen operations separates them.
HAND_RTOL = 1e-12
DAYS = 365.0 / 12.0
#: Money-valued monthly outcomes whose round-off follows the path's largest flow.
MONEY = ("operating_profit", "cash_flow", "cash", "idle_commitment_cost", "financing")
#: Monthly outcomes built from products and sums of non-negative terms: relative round-off.
POSITIVE = ("users", "revenue", "inference_cost", "gpus", "cost_per_mtok")
MONEY_PER_PATH = (
    "npv",
    "cumulative_operating_profit",
    "terminal_cash",
    "min_cash",
    "capital_raised",
    "funding_gap",
)
#: Attributes that describe how a run was executed, not what it computed.
EXECUTION_ATTRS = ("elapsed_seconds", "chunk_paths", "threads")

# Inputs a random scenario may take, inside each input's allowed range (FIELDS) and small
# enough that no path leaves double precision within 36 months.
SANE = {
    "users_0": (1e4, 1e6),
    "user_ceiling": (2e6, 1e8),
    "adoption_rate": (0.0, 2.0),
    "user_volatility": (0.0, 0.8),
    "paid_share": (0.01, 0.5),
    "subscription_price": (0.0, 50.0),
    "queries_per_free_user_day": (0.0, 10.0),
    "queries_per_paid_user_day": (0.0, 20.0),
    "tokens_per_query_0": (100.0, 5000.0),
    "tokens_per_query_growth": (-0.2, 0.7),
    "api_tokens_0": (1e8, 1e11),
    "api_growth": (-0.5, 1.5),
    "api_volatility": (0.0, 0.8),
    "api_price_0": (0.1, 10.0),
    "api_price_decline": (-0.2, 1.0),
    "revenue_share": (0.0, 0.3),
    "throughput_0": (200.0, 3000.0),
    "throughput_gain": (-0.1, 0.5),
    "utilization_mean": (0.2, 0.9),
    "utilization_persistence": (0.0, 0.95),
    "utilization_volatility": (0.0, 0.5),
    "rent_share": (0.0, 1.0),
    "gpu_rent_price_0": (1.0, 4.0),
    "gpu_capex_0": (1e4, 5e4),
    "hardware_drift": (-0.4, 0.1),
    "hardware_volatility": (0.0, 0.4),
    "generation_jump_rate": (0.0, 3.0),
    "generation_jump_size": (0.0, 0.5),
    "compute_discount": (0.0, 0.5),
    "discount_months": (0.0, 48.0),
    "gpu_life_years": (1.0, 8.0),
    "gpu_power_kw": (0.5, 1.5),
    "pue": (1.0, 1.6),
    "electricity_price_0": (0.05, 0.2),
    "electricity_mean": (0.05, 0.2),
    "electricity_reversion": (0.0, 3.0),
    "electricity_volatility": (0.0, 0.4),
    "other_cost_per_gpu_hour": (0.1, 0.5),
    "fixed_opex_0": (1e4, 1e6),
    "opex_growth": (-0.1, 0.4),
    "training_spend_0": (0.0, 1e6),
    "training_growth": (-0.1, 0.4),
    "initial_cash": (-1e6, 5e7),
    "discount_rate": (-0.5, 0.5),
    "commitment_share": (0.0, 1.5),
    "commitment_growth": (-0.3, 0.5),
    "commitment_months": (0.0, 48.0),
    "commitment_discount": (0.0, 0.6),
    "tranche_amount": (0.0, 5e7),
    "tranche_month": (0.0, 36.0),
    "tranche_probability": (0.0, 1.0),
    "raise_trigger_months": (0.0, 24.0),
    "raise_success_probability": (0.0, 1.0),
    "raise_arr_multiple": (0.0, 3.0),
    "raise_cooldown_months": (1.0, 12.0),
    "valuation_arr_multiple": (5.0, 40.0),
}

# Every input constant and every volatility zero: a deterministic company whose months can
# be worked out by hand; other tests change what they need.
QUIET = {
    "users_0": 2e5,
    "user_ceiling": math.inf,
    "adoption_rate": 0.0,
    "user_volatility": 0.0,
    "paid_share": 0.25,
    "subscription_price": 20.0,
    "queries_per_free_user_day": 2.0,
    "queries_per_paid_user_day": 6.0,
    "tokens_per_query_0": 1000.0,
    "tokens_per_query_growth": 0.0,
    "api_tokens_0": 2e9,
    "api_growth": 0.0,
    "api_volatility": 0.0,
    "api_price_0": 5.0,
    "api_price_decline": 0.0,
    "revenue_share": 0.0,
    "throughput_0": 800.0,
    "throughput_gain": 0.0,
    "utilization_mean": 0.6,
    "utilization_persistence": 0.7,
    "utilization_volatility": 0.0,
    "rent_share": 1.0,
    "gpu_rent_price_0": 2.5,
    "gpu_capex_0": 30000.0,
    "hardware_drift": 0.0,
    "hardware_volatility": 0.0,
    "generation_jump_rate": 0.0,
    "generation_jump_size": 0.3,
    "compute_discount": 0.0,
    "discount_months": 0.0,
    "gpu_life_years": 2.5,
    "gpu_power_kw": 0.9,
    "pue": 1.25,
    "electricity_price_0": 0.08,
    "electricity_mean": 0.08,
    "electricity_reversion": 1.0,
    "electricity_volatility": 0.0,
    "other_cost_per_gpu_hour": 0.25,
    "fixed_opex_0": 3e5,
    "opex_growth": 0.0,
    "training_spend_0": 1e5,
    "training_growth": 0.0,
    "initial_cash": 2e6,
    "discount_rate": 0.2,
    **NEUTRAL_V2,
}
assert tuple(SANE) == tuple(QUIET) == INPUT_NAMES


def quiet(horizon: int, **changes) -> Scenario:
    """The deterministic company of QUIET, with independent inputs and shocks."""
    return Scenario(
        name="quiet",
        horizon_months=horizon,
        correlation=None,
        shock_correlation=None,
        **{**QUIET, **changes},
    )


def without_execution_attrs(ds: xr.Dataset) -> xr.Dataset:
    out = ds.copy()
    for key in EXECUTION_ATTRS:
        out.attrs.pop(key, None)
    return out


def bits(values) -> np.ndarray:
    """The IEEE bits of float64 values, so comparisons are bitwise (-0.0 != 0.0, NaN == NaN)."""
    return np.ascontiguousarray(values, dtype=np.float64).view(np.int64)


#: Spec v2's inputs switched on over any preset: a committed schedule above demand in some
#: paths (the share is uncertain), a tranche that may come, rounds that may fail.
FINANCED = {
    "commitment_share": md.Uniform(0.2, 1.6),
    "commitment_growth": 0.3,
    "commitment_months": 18.0,
    "commitment_discount": 0.4,
    "tranche_amount": md.Uniform(1e6, 1e10),
    "tranche_month": 6.0,
    "tranche_probability": 0.7,
    "raise_trigger_months": 12.0,
    "raise_success_probability": 0.6,
    "raise_arr_multiple": md.Uniform(0.5, 3.0),
    "raise_cooldown_months": 3.0,
    "valuation_arr_multiple": 20.0,
}


# ------------------------------------------------------------------------------------------
# Tolerances relative to a path's scale, and threshold ties
# ------------------------------------------------------------------------------------------


def flow_scale(paths: xr.Dataset) -> np.ndarray:
    """Per path: the largest |flow| of any month (revenue, cost, profit, cash flow, cash)."""
    names = ("revenue", "inference_cost", "operating_profit", "cash_flow", "cash", "financing")
    return np.max([np.abs(paths[n].values).max(axis=1) for n in names], axis=0)


def monthly_tolerance(name: str, want: xr.Dataset, scale: np.ndarray) -> np.ndarray:
    """Allowed |got - want| of monthly outcome ``name``, shape (path, month)."""
    x = np.abs(want[name].values)
    if name in POSITIVE:
        return RTOL * x
    if name in MONEY:
        return RTOL * (x + scale[:, None])
    assert name == "gross_margin"
    # GM = (R - PS - CC) / R carries the round-off of R + CC, divided by R; with R = 0 it is
    # the floor or 0 in both backends, exactly.
    revenue = want["revenue"].values
    cost = want["inference_cost"].values
    with np.errstate(divide="ignore", invalid="ignore"):
        spread = np.where(revenue > 0, (revenue + cost) / revenue, 0.0)
    return np.where(revenue > 0, RTOL * (x + spread), 0.0)


def near_ties(want: xr.Dataset, scale: np.ndarray) -> dict[str, np.ndarray]:
    """Per month outcome: (path, month) where the deciding quantity is within RTOL of its
    threshold, so two correct implementations may fall on either side."""
    tol = RTOL * scale[:, None]
    op = want["operating_profit"].values
    cash = want["cash"].values
    cash_0 = want["inputs"].sel(input="initial_cash").values[:, None]
    # Payback follows the cash before financing: initial cash plus the cumulative cash flow.
    operating_cash = cash_0 + np.cumsum(want["cash_flow"].values, axis=1)
    return {
        "first_profit_month": np.abs(op) <= tol,
        "payback_month": np.abs(operating_cash - cash_0) <= tol,
        "ruin_month": np.abs(cash) <= tol,
    }


def assert_close(got, want, tol, label):
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    tol = np.broadcast_to(tol, want.shape)
    with np.errstate(invalid="ignore"):  # inf - inf: equal infinities pass through ==
        bad = ~((np.abs(got - want) <= tol) | (got == want))
    if bad.any():
        i = tuple(np.argwhere(bad)[0])
        raise AssertionError(
            f"{label}: {int(bad.sum())} values differ beyond tolerance; first at {i}: "
            f"{got[i]!r} vs {want[i]!r} (tolerance {tol[i]:.3g})"
        )


def assert_per_path_agree(got, want, scale, ties, label) -> int:
    """Per-path outcomes of two backends; returns how many month outcomes a tie excused."""
    excused = 0
    for name in PATH_NAMES:
        g, w = np.asarray(got[name].values), np.asarray(want[name].values)
        if name in MONTH_OUTCOMES:
            differ = g != w
            tied = ties[name].any(axis=1)
            unexplained = differ & ~tied
            assert not unexplained.any(), (
                f"{label} {name}: paths {np.flatnonzero(unexplained)[:5]} differ "
                f"({g[unexplained][:5]} vs {w[unexplained][:5]}) with no threshold tie"
            )
            excused += int(differ.sum())
        elif name in MONEY_PER_PATH:
            assert_close(g, w, RTOL * (np.abs(w) + scale), f"{label} {name}")
        elif name == "rounds":
            np.testing.assert_array_equal(g, w, err_msg=f"{label} {name}")
        else:
            assert name in ("terminal_arr", "ownership_retained")
            assert_close(g, w, RTOL * np.abs(w), f"{label} {name}")
    return excused


# ------------------------------------------------------------------------------------------
# Random scenarios
# ------------------------------------------------------------------------------------------


def test_sane_ranges_lie_inside_the_allowed_ranges():
    # The strategies below draw inside SANE; the scenario must accept all of it.
    for name, (low, high) in SANE.items():
        allowed = FIELDS[name].range
        assert low < high and allowed.contains(low) and allowed.contains(high), name


def _correlation_matrix(draw, k: int) -> np.ndarray:
    """A valid k x k correlation: a random factor matrix's Gram matrix, unit diagonal.

    Rank 1..k, so singular matrices (perfect correlations) are drawn too.
    """
    rank = draw(st.integers(1, k))
    cells = draw(st.lists(st.floats(-1.0, 1.0), min_size=k * rank, max_size=k * rank))
    factors = np.array(cells).reshape(k, rank)
    for i in range(k):
        if np.linalg.norm(factors[i]) < 0.1:
            factors[i, i % rank] = 1.0
    gram = factors @ factors.T
    d = np.sqrt(np.diag(gram))
    corr = gram / np.outer(d, d)
    corr = np.clip(0.5 * (corr + corr.T), -1.0, 1.0)
    np.fill_diagonal(corr, 1.0)
    return corr


@st.composite
def input_values(draw, name: str):
    """A constant or a distribution for input ``name``, inside SANE[name]."""
    low, high = SANE[name]
    allowed = FIELDS[name].range
    kinds = ["constant", "uniform", "triangular", "pert", "truncated_normal", "discrete"]
    # A round's multiple must stay below the valuation over its whole support whenever a
    # round can happen, as it can in every preset: an unbounded law is refused there.
    if allowed.low == 0.0 and math.isinf(allowed.high) and name != "raise_arr_multiple":
        kinds.append("lognormal")
    if math.isinf(allowed.low):
        kinds.append("normal")
    kind = draw(st.sampled_from(kinds))
    fraction = st.floats(0.0, 1.0, allow_subnormal=False)
    if kind == "constant":
        if allowed.allow_inf and draw(st.booleans()):
            return math.inf
        return low + (high - low) * draw(fraction)
    # Three ordered points with a < c well apart.
    a = low + (high - low) * 0.45 * draw(fraction)
    c = high - (high - low) * 0.45 * draw(fraction)
    b = a + (c - a) * draw(fraction)
    if kind == "uniform":
        return md.Uniform(a, c)
    if kind == "triangular":
        return md.Triangular(a, b, c)
    if kind == "pert":
        return md.PERT(a, b, c)
    if kind == "truncated_normal":
        dist = md.TruncatedNormal(b, (c - a) * (0.1 + draw(fraction)), a, c)
        # Its support is computed through scipy with round-off and may poke past [a, c],
        # which the scenario then rejects (test_truncated_normal_at_a_bound_is_accepted).
        if dist.support[0] >= a and dist.support[1] <= c:
            return dist
        return md.Uniform(a, c)
    if kind == "lognormal":
        return md.LogNormal.from_interval(max(a, c / 10), c)  # at most a factor 10 wide
    if kind == "normal":
        return md.Normal(b, (c - a) / 4)
    assert kind == "discrete"
    values = draw(st.lists(fraction, min_size=2, max_size=4, unique=True))
    weights = np.array(draw(st.lists(st.floats(0.1, 1.0), min_size=len(values),
                                     max_size=len(values))))  # fmt: skip
    return md.Discrete([low + (high - low) * v for v in values], weights / weights.sum())


@st.composite
def random_scenarios(draw):
    """Random inputs over a base (constants or a preset), a random copula and shocks."""
    base_name = draw(st.sampled_from(["quiet", *mc.presets()]))
    horizon = draw(st.integers(12, 36))
    if base_name == "quiet":
        base = quiet(horizon)
        choices = INPUT_NAMES
    else:
        base = Scenario.preset(base_name).replace(horizon_months=horizon)
        # A preset's users_0 may exceed any ceiling drawn from SANE: leave both alone.
        choices = tuple(n for n in INPUT_NAMES if n not in ("users_0", "user_ceiling"))
    changed = draw(st.lists(st.sampled_from(choices), unique=True, max_size=15))
    scenario = base.replace(**{n: draw(input_values(n)) for n in changed})

    changes = {}
    uncertain = scenario.uncertain_inputs
    if len(uncertain) >= 2 and draw(st.booleans()):
        names = draw(
            st.lists(st.sampled_from(uncertain), min_size=2, max_size=min(4, len(uncertain)),
                     unique=True)
        )  # fmt: skip
        # A Spearman matrix maps to a copula matrix that may lose positive semi-definiteness
        # beyond 2 x 2, so larger ones are given as the copula's own correlation.
        kind = draw(st.sampled_from(["gaussian", "spearman"])) if len(names) == 2 else "gaussian"
        changes["correlation"] = Correlation(
            names, _correlation_matrix(draw, len(names)), kind=kind
        )
    if draw(st.booleans()):
        changes["shock_correlation"] = _correlation_matrix(draw, 5)
    return scenario.replace(**changes) if changes else scenario


seeds = st.one_of(st.sampled_from([0, 2**64 - 1]), st.integers(0, 2**64 - 1))


# ------------------------------------------------------------------------------------------
# 1. The numba and numpy backends agree path by path
# ------------------------------------------------------------------------------------------


@settings(max_examples=15)
@given(scenario=random_scenarios(), seed=seeds, antithetic=st.booleans())
def test_backends_agree_path_by_path(scenario, seed, antithetic):
    n = 130  # crosses two LANES groups and ends inside a third
    kw = dict(seed=seed, antithetic=antithetic)
    fast = simulate_paths(scenario, n, backend="numba", **kw)
    ref = simulate_paths(scenario, n, backend="numpy", **kw)
    scale = flow_scale(ref)
    ties = near_ties(ref, scale)

    np.testing.assert_allclose(fast["inputs"], ref["inputs"], rtol=1e-12, atol=1e-300)
    for name in MONTHLY_NAMES:
        tol = monthly_tolerance(name, ref, scale)
        assert_close(fast[name].values, ref[name].values, tol, f"simulate_paths {name}")
    excused = assert_per_path_agree(fast, ref, scale, ties, "simulate_paths")

    sim_fast = simulate(scenario, n, backend="numba", keep_paths=True, progress=False, **kw)
    sim_ref = simulate(scenario, n, backend="numpy", keep_paths=True, progress=False, **kw)
    excused += assert_per_path_agree(sim_fast, sim_ref, scale, ties, "simulate")
    # Within one backend simulate and simulate_paths run the very same paths.
    for sim, paths in ((sim_fast, fast), (sim_ref, ref)):
        for name in PATH_NAMES:
            np.testing.assert_array_equal(sim[name].values, paths[name].values, err_msg=name)
    # A threshold tie may move a path between counts, nothing else.
    for t in range(scenario.horizon_months):
        slack = int(ties["first_profit_month"][:, t].sum())
        got, want = (round(float(s.p_profitable[t]) * n) for s in (sim_fast, sim_ref))
        assert abs(got - want) <= slack, f"p_profitable month {t + 1}: {got} vs {want} of {n}"
        slack = int(ties["ruin_month"][:, : t + 1].any(axis=1).sum())
        got, want = (round(float(s.p_ruined[t]) * n) for s in (sim_fast, sim_ref))
        assert abs(got - want) <= slack, f"p_ruined month {t + 1}: {got} vs {want} of {n}"
    for name in MONTHLY_NAMES:
        tol = monthly_tolerance(name, ref, scale)
        # A mean or standard deviation moves by at most the largest change of one path.
        bound = tol.max(axis=0) + RTOL * np.abs(ref[name].values).max(axis=0)
        for stat in ("mean", "std"):
            assert_close(
                sim_fast[f"{name}_{stat}"].values,
                sim_ref[f"{name}_{stat}"].values,
                bound,
                f"{name}_{stat}",
            )
    # Ties are coincidences of the inputs; they must stay rare.
    assert excused <= max(1, n // 50), f"{excused} month outcomes excused by ties"


# ------------------------------------------------------------------------------------------
# 2. Reproducibility
# ------------------------------------------------------------------------------------------

VOLATILE = Scenario.preset("self-hosted").replace(
    horizon_months=24,
    generation_jump_rate=2.0,
    shock_correlation=[
        [1.0, 0.5, 0.0, 0.2, 0.0],
        [0.5, 1.0, 0.1, 0.0, 0.3],
        [0.0, 0.1, 1.0, 0.0, 0.0],
        [0.2, 0.0, 0.0, 1.0, 0.1],
        [0.0, 0.3, 0.0, 0.1, 1.0],
    ],
)
REPRO_SEED = 2**63 + 12345


@pytest.fixture
def restore_threads():
    threads = numba.get_num_threads()
    yield
    numba.set_num_threads(threads)


@pytest.fixture(scope="module")
def repro_reference():
    return simulate(VOLATILE, 3000, seed=REPRO_SEED, chunk_paths=100_000, progress=False)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("chunk_paths", [1, 997, 100_000])
def test_results_do_not_depend_on_chunks_or_threads(
    repro_reference, restore_threads, chunk_paths, threads
):
    threads = min(threads, numba.config.NUMBA_NUM_THREADS)
    numba.set_num_threads(threads)
    ds = simulate(VOLATILE, 3000, seed=REPRO_SEED, chunk_paths=chunk_paths, progress=False)
    assert ds.attrs["threads"] == threads
    xr.testing.assert_identical(
        without_execution_attrs(ds), without_execution_attrs(repro_reference)
    )
    for name in ds.data_vars:  # assert_identical compares values with ==; this is bitwise
        if ds[name].dtype.kind == "f":
            np.testing.assert_array_equal(bits(ds[name]), bits(repro_reference[name]), name)


def test_means_are_bitwise_identical_for_any_chunking(restore_threads):
    runs = []
    for chunk, threads in ((64, 1), (100_000, 2), (192, 2)):
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
        ds = simulate(VOLATILE, 3000, seed=7, chunk_paths=chunk, keep_paths=False, progress=False)
        runs.append(ds)
    for name in MONTHLY_NAMES:
        for stat in ("mean", "std"):
            key = f"{name}_{stat}"
            for other in runs[1:]:
                np.testing.assert_array_equal(bits(other[key]), bits(runs[0][key]), key)
    # Not vacuous: the paths do differ, so the sums had rounding to get wrong.
    assert np.all(runs[0]["cash_std"].values > 0)


def test_first_paths_of_a_run_are_the_same_paths_run_alone():
    n_small = 200
    big = simulate(VOLATILE, 3000, seed=REPRO_SEED, keep_paths=True, progress=False)
    big_paths = simulate_paths(VOLATILE, 3000, seed=REPRO_SEED)
    small = simulate_paths(VOLATILE, n_small, seed=REPRO_SEED)
    for name in MONTHLY_NAMES:
        np.testing.assert_array_equal(
            bits(small[name]), bits(big_paths[name][:n_small]), err_msg=name
        )
    for name in PATH_NAMES:
        np.testing.assert_array_equal(small[name].values, big[name].values[:n_small], name)
        np.testing.assert_array_equal(small[name].values, big_paths[name].values[:n_small], name)
    kept = list(VOLATILE.uncertain_inputs)
    np.testing.assert_array_equal(
        big["inputs"].values[:n_small], small["inputs"].sel(input=kept).values
    )


def test_paths_in_the_middle_of_a_run_are_a_function_of_their_index():
    # No engine call starts at an offset, but the numpy reference takes any path indices:
    # paths 1500..1536 alone (not aligned to a chunk or a lane group) are the run's rows.
    run = simulate_paths(VOLATILE, 1537, seed=REPRO_SEED)
    rows = np.arange(1500, 1537)
    alone = run_reference(
        VOLATILE.packed(), psd_cholesky(np.asarray(VOLATILE.shock_correlation)),
        VOLATILE.horizon_months, seed=REPRO_SEED, paths=rows.astype(np.uint64),
    )  # fmt: skip
    part = run.isel(path=rows)
    want = xr.Dataset(
        {name: (("path", "month"), alone["monthly"][:, i]) for i, name in enumerate(MONTHLY_NAMES)}
    )
    want["inputs"] = (("path", "input"), alone["inputs"])
    want = want.assign_coords(input=list(INPUT_NAMES))
    for j, name in enumerate(PATH_NAMES):
        want[name] = ("path", alone["per_path"][:, j])
    scale = flow_scale(want)
    for name in MONTHLY_NAMES:
        tol = monthly_tolerance(name, want, scale)
        assert_close(part[name].values, want[name].values, tol, name)
    assert assert_per_path_agree(part, want, scale, near_ties(want, scale), "offset") == 0


# ------------------------------------------------------------------------------------------
# 3. Closed forms through the engine
# ------------------------------------------------------------------------------------------

BY_HAND = dict(
    user_ceiling=2e6,
    adoption_rate=2.4,  # r dt = 0.2
    tokens_per_query_growth=12 * math.log(1.05),  # +5% a month
    api_growth=12 * math.log(1.1),  # +10% a month, no volatility
    api_price_decline=-12 * math.log(0.95),  # -5% a month
    revenue_share=0.15,
    throughput_gain=12 * math.log(1.02),  # +2% a month
    rent_share=0.25,
    hardware_drift=12 * math.log(0.99),  # -1% a month
    compute_discount=0.4,
    discount_months=2.5,  # months 1 and 2
    electricity_mean=0.32,
    electricity_reversion=6.0,  # a dt = 1/2
    fixed_opex_0=9.6e5,
    opex_growth=12 * math.log(1.01),  # +1% a month
)


def _by_hand():
    """Months 1-3 of quiet(3, **BY_HAND), written out equation by equation."""
    K = 2e6
    # (1) Logistic users towards K, r dt = 0.2.
    u0 = 2e5
    u1 = u0 * math.exp(0.2 * (1 - u0 / K))
    u2 = u1 * math.exp(0.2 * (1 - u1 / K))
    u3 = u2 * math.exp(0.2 * (1 - u2 / K))
    # (2)-(4) 0.75 U free users x 2 queries + 0.25 U paid x 6 = 3 U queries a day,
    # 1000 x 1.05^t tokens each.
    c0 = 3 * u0 * DAYS * 1000
    c1 = 3 * u1 * DAYS * 1000 * 1.05
    c2 = 3 * u2 * DAYS * 1000 * 1.05**2
    c3 = 3 * u3 * DAYS * 1000 * 1.05**3
    # (5) API volume 2e9 x 1.1^t tokens a month.
    a0, a1, a2, a3 = 2e9, 2e9 * 1.1, 2e9 * 1.1**2, 2e9 * 1.1**3
    # (6)-(7) 0.25 U payers at $20, API at $5 x 0.95^t per 1e6 tokens; 15% to the partner.
    r1 = 0.25 * u1 * 20 + a1 * 5 * 0.95 / 1e6
    r2 = 0.25 * u2 * 20 + a2 * 5 * 0.95**2 / 1e6
    r3 = 0.25 * u3 * 20 + a3 * 5 * 0.95**3 / 1e6
    # (8)-(10) 800 x 1.02^t tokens/s per GPU at 60% utilisation; 730 hours a month.
    h0 = (c0 + a0) / (3600 * 800) / 0.6
    h1 = (c1 + a1) / (3600 * 800 * 1.02) / 0.6
    h2 = (c2 + a2) / (3600 * 800 * 1.02**2) / 0.6
    h3 = (c3 + a3) / (3600 * 800 * 1.02**3) / 0.6
    g0, g1, g2, g3 = h0 / 730, h1 / 730, h2 / 730, h3 / 730
    # (11)-(12) A quarter rented at $2.5 x 0.99^t an hour, 40% off in months 1 and 2 only.
    rc1 = 0.25 * h1 * 2.5 * 0.99 * 0.6
    rc2 = 0.25 * h2 * 2.5 * 0.99**2 * 0.6
    rc3 = 0.25 * h3 * 2.5 * 0.99**3
    # (13) Three quarters owned; q = 1 / 30 a month. Demand outgrows retirement, so the
    # fleet is the need every month and the difference is bought at $30000 x 0.99^t.
    n0, n1, n2, n3 = 0.75 * g0, 0.75 * g1, 0.75 * g2, 0.75 * g3
    assert n1 > n0 * 29 / 30 and n2 > n1 * 29 / 30 and n3 > n2 * 29 / 30
    cx1 = (n1 - n0 * 29 / 30) * 30000 * 0.99
    cx2 = (n2 - n1 * 29 / 30) * 30000 * 0.99**2
    cx3 = (n3 - n2 * 29 / 30) * 30000 * 0.99**3
    bv0 = n0 * 30000
    d1 = bv0 / 30
    bv1 = bv0 - d1 + cx1
    d2 = bv1 / 30
    bv2 = bv1 - d2 + cx2
    d3 = bv2 / 30
    # (14) The log price goes half way to log 0.32 = log(0.08 x 4) each month:
    # 0.08 x 4^(1/2, 3/4, 7/8); 0.9 kW x PUE 1.25 and $0.25 an hour per owned GPU.
    en1 = n1 * 730 * 0.9 * 1.25 * 0.08 * 4**0.5
    en2 = n2 * 730 * 0.9 * 1.25 * 0.08 * 4**0.75
    en3 = n3 * 730 * 0.9 * 1.25 * 0.08 * 4**0.875
    oc1, oc2, oc3 = n1 * 730 * 0.25, n2 * 730 * 0.25, n3 * 730 * 0.25
    # (15) Opex $9.6e5 x 1.01^t, training a flat $1e5.
    fo1, fo2, fo3 = 9.6e5 * 1.01, 9.6e5 * 1.01**2, 9.6e5 * 1.01**3
    tr = 1e5
    # (16)-(17)
    cc1 = rc1 + d1 + en1 + oc1
    cc2 = rc2 + d2 + en2 + oc2
    cc3 = rc3 + d3 + en3 + oc3
    op1 = 0.85 * r1 - cc1 - fo1 - tr
    op2 = 0.85 * r2 - cc2 - fo2 - tr
    op3 = 0.85 * r3 - cc3 - fo3 - tr
    cf1 = 0.85 * r1 - rc1 - en1 - oc1 - cx1 - fo1 - tr
    cf2 = 0.85 * r2 - rc2 - en2 - oc2 - cx2 - fo2 - tr
    cf3 = 0.85 * r3 - rc3 - en3 - oc3 - cx3 - fo3 - tr
    return {
        "users": [u1, u2, u3],
        "revenue": [r1, r2, r3],
        "inference_cost": [cc1, cc2, cc3],
        "gross_margin": [(0.85 * r1 - cc1) / r1, (0.85 * r2 - cc2) / r2, (0.85 * r3 - cc3) / r3],
        "operating_profit": [op1, op2, op3],
        "cash_flow": [cf1, cf2, cf3],
        "gpus": [g1, g2, g3],
        "cost_per_mtok": [1e6 * cc1 / (c1 + a1), 1e6 * cc2 / (c2 + a2), 1e6 * cc3 / (c3 + a3)],
        # No commitment and no financing in this company.
        "idle_commitment_cost": [0.0, 0.0, 0.0],
        "financing": [0.0, 0.0, 0.0],
    }


# Initial cash that lasts, and one that runs out in month 1 (cash flows do not depend on it).
@pytest.mark.parametrize("initial_cash", [2e6, 1e5])
@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_closed_form_months_through_the_engine(backend, initial_cash):
    scenario = quiet(3, **BY_HAND, initial_cash=initial_cash)
    want = _by_hand()
    cf1, cf2, cf3 = want["cash_flow"]
    cash = [initial_cash + cf1, initial_cash + cf1 + cf2, initial_cash + cf1 + cf2 + cf3]
    want["cash"] = cash
    # The scenario was chosen to lose money in month 1 and earn it back in month 3.
    op1, op2, op3 = want["operating_profit"]
    assert op1 < 0 < op2 < op3 and cf1 < 0 < cf2 and cf1 + cf2 < 0 < cf1 + cf2 + cf3

    n = 70  # identical paths, across two lane groups
    paths = simulate_paths(scenario, n, seed=11, backend=backend)
    for name in MONTHLY_NAMES:
        got = paths[name].values
        np.testing.assert_allclose(got, np.broadcast_to(want[name], got.shape), rtol=HAND_RTOL,
                                   atol=0, err_msg=name)  # fmt: skip

    ds = simulate(scenario, n, seed=11, backend=backend, progress=False)
    for name in MONTHLY_NAMES:
        x = np.asarray(want[name])
        np.testing.assert_allclose(ds[f"{name}_mean"].values, x, rtol=HAND_RTOL, err_msg=name)
        np.testing.assert_array_equal(ds[f"{name}_std"].values, 0.0, err_msg=name)
        q = ds[name].values  # (quantile, month)
        assert np.all(np.abs(q - x) <= sketch.RELATIVE_ACCURACY * np.abs(x)), name

    never = 4
    ruined = initial_cash < -cf1  # cash is lowest in month 1
    assert ruined == (cash[0] < 0) and min(cash) == cash[0]
    expected = {
        "npv": cf1 / 1.2 ** (1 / 12) + cf2 / 1.2 ** (2 / 12) + cf3 / 1.2 ** (3 / 12),
        "cumulative_operating_profit": op1 + op2 + op3,
        "terminal_cash": cash[2],
        "min_cash": cash[0],
        "terminal_arr": 12 * want["revenue"][2],
        "first_profit_month": 2,
        "payback_month": 3,
        "ruin_month": 1 if ruined else never,
    }
    for name, value in expected.items():
        for source in (paths, ds):
            got = source[name].values
            if name in MONTH_OUTCOMES:
                np.testing.assert_array_equal(got, value, err_msg=name)
            else:
                np.testing.assert_allclose(got, value, rtol=HAND_RTOL, atol=0, err_msg=name)
    np.testing.assert_array_equal(ds.p_profitable.values, [0.0, 1.0, 1.0])
    np.testing.assert_array_equal(ds.p_ruined.values, 1.0 if ruined else 0.0)


# ------------------------------------------------------------------------------------------
# 4. The GBM mean of users
# ------------------------------------------------------------------------------------------


def test_users_without_ceiling_grow_at_the_gbm_mean():
    r, sigma, n = 0.4, 0.5, 20_000
    scenario = quiet(36, adoption_rate=r, user_volatility=sigma)
    ds = simulate(scenario, n, seed=2024, keep_paths=False, progress=False)
    for t in (12, 36):
        mean = float(ds.users_mean.sel(month=t))
        se = float(ds.users_std.sel(month=t)) / math.sqrt(n)
        want = 2e5 * math.exp(r * t / 12)
        assert abs(mean - want) <= Z_BOUND * se, f"month {t}: {mean} vs {want} (se {se:.4g})"
        # Not vacuous: leaving out the Ito term -sigma^2/2 would move the mean by far more.
        assert want * (math.exp(sigma**2 * t / 24) - 1) > 2 * Z_BOUND * se


# ------------------------------------------------------------------------------------------
# 5. Streaming quantiles against exact order statistics
# ------------------------------------------------------------------------------------------

LEVELS = (0.0, 0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1.0)


@pytest.mark.parametrize("preset", ["frontier-lab", "api-startup"])
def test_sketch_quantiles_are_within_their_stated_accuracy(preset):
    # Commitments and financing switched on, so that their outcomes are spread too.
    scenario = Scenario.preset(preset).replace(horizon_months=24, **FINANCED)
    n, seed = 4000, 99
    ds = simulate(scenario, n, seed=seed, quantiles=LEVELS, keep_paths=False, progress=False)
    paths = simulate_paths(scenario, n, seed=seed)
    for name in MONTHLY_NAMES:
        ordered = np.sort(paths[name].values, axis=0)  # (path, month)
        got = ds[name].values  # (quantile, month)
        for i, q in enumerate(LEVELS):
            k = math.floor(q * (n - 1))
            x_k, x_k1 = ordered[k], ordered[min(k + 1, n - 1)]
            tol = sketch.RELATIVE_ACCURACY * np.maximum(np.abs(x_k), np.abs(x_k1))
            tol = tol + 2.0**sketch.MIN_EXPONENT
            low = np.minimum(x_k, x_k1) - tol
            high = np.maximum(x_k, x_k1) + tol
            bad = (got[i] < low) | (got[i] > high)
            assert not bad.any(), (
                f"{name} q={q} month {np.flatnonzero(bad)[0] + 1}: {got[i][bad][0]!r} not in "
                f"[{low[bad][0]!r}, {high[bad][0]!r}]"
            )
        # Not vacuous: the distribution is wide compared with the sketch's accuracy.
        spread = ordered[-1] - ordered[0]
        assert np.any(spread > 10 * sketch.RELATIVE_ACCURACY * np.abs(ordered).max(axis=0)), name


# ------------------------------------------------------------------------------------------
# 6. The Dataset contract
# ------------------------------------------------------------------------------------------

CONTRACT = Scenario.preset("frontier-lab").replace(horizon_months=30)
CONTRACT_SEED = 2**64 - 1
CONTRACT_LEVELS = (0.02, 0.5, 0.98)


@pytest.fixture(scope="module")
def contract():
    ds = simulate(
        CONTRACT, 2000, seed=CONTRACT_SEED, quantiles=CONTRACT_LEVELS, keep_paths=True,
        progress=False,
    )  # fmt: skip
    return ds, simulate_paths(CONTRACT, 2000, seed=CONTRACT_SEED)


def test_dataset_dims_coords_and_layout(contract):
    ds, _ = contract
    T, n = CONTRACT.horizon_months, 2000
    np.testing.assert_array_equal(ds.month.values, np.arange(1, T + 1))
    np.testing.assert_array_equal(ds["quantile"].values, CONTRACT_LEVELS)
    np.testing.assert_array_equal(ds.path.values, np.arange(n))
    assert list(ds.input.values) == list(CONTRACT.uncertain_inputs)
    assert dict(ds.sizes) == {
        "month": T, "quantile": 3, "path": n, "input": len(CONTRACT.uncertain_inputs)
    }  # fmt: skip
    for name in MONTHLY_NAMES:
        assert ds[name].dims == ("quantile", "month")
        assert ds[f"{name}_mean"].dims == ds[f"{name}_std"].dims == ("month",)
    for name in PATH_NAMES:
        assert ds[name].dims == ("path",)
    assert ds.inputs.dims == ("path", "input")
    assert ds.month.attrs["units"] == "month"


def test_every_outcome_variable_has_units(contract):
    ds, paths = contract
    for source in (ds, paths):
        for name, var in source.data_vars.items():
            assert var.attrs.get("units"), name


def test_inputs_variable_has_units(contract):
    ds, paths = contract
    assert "units" in ds["inputs"].attrs
    assert "units" in paths["inputs"].attrs


def test_provenance_attrs(contract):
    ds, _ = contract
    assert int(ds.attrs["seed"]) == CONTRACT_SEED
    assert ds.attrs["n_paths"] == 2000
    assert ds.attrs["backend"] == "numba"
    assert ds.attrs["montecarlo_version"] == mc.__version__
    assert ds.attrs["horizon_months"] == CONTRACT.horizon_months
    assert ds.attrs["antithetic"] == 0
    assert "philox4x32-10" in ds.attrs["rng"].lower()
    assert ds.attrs["scenario_name"] == CONTRACT.name
    assert Scenario.from_toml(ds.attrs["scenario"]) == CONTRACT
    assert ds.attrs["sketch_relative_accuracy"] == sketch.RELATIVE_ACCURACY


def test_month_outcomes_use_an_explicit_never(contract):
    ds, _ = contract
    T = CONTRACT.horizon_months
    for name in MONTH_OUTCOMES:
        values = ds[name].values
        assert ds[name].attrs["never"] == T + 1
        assert np.issubdtype(values.dtype, np.integer)
        assert values.min() >= 1 and values.max() <= T + 1, name
    # Not vacuous: some paths are ruined within the horizon and some are not.
    ruin = ds.ruin_month.values
    assert 0 < np.sum(ruin <= T) < ruin.size


def test_probabilities_are_the_empirical_shares(contract):
    ds, paths = contract
    months = np.arange(1, CONTRACT.horizon_months + 1)
    ecdf = (ds.ruin_month.values[:, None] <= months[None, :]).mean(axis=0)
    np.testing.assert_array_equal(ds.p_ruined.values, ecdf)
    assert np.all(np.diff(ds.p_ruined.values) >= 0)
    # The ruin month is the first month with cash < 0 (the spec's min over s <= t).
    below = (paths.cash.values < 0).cumsum(axis=1) > 0
    np.testing.assert_array_equal(ds.p_ruined.values, below.mean(axis=0))
    share = (paths.operating_profit.values > 0).mean(axis=0)
    np.testing.assert_array_equal(ds.p_profitable.values, share)
    assert 0 < ds.p_profitable.values.max() and ds.p_profitable.values.min() < 1


def test_keep_paths_false_drops_path_variables(contract):
    ds, _ = contract
    lean = simulate(
        CONTRACT, 2000, seed=CONTRACT_SEED, quantiles=CONTRACT_LEVELS, keep_paths=False,
        progress=False,
    )  # fmt: skip
    assert "path" not in lean.dims and "input" not in lean.dims
    for name in (*PATH_NAMES, "inputs"):
        assert name not in lean
    kept = ds.drop_vars([*PATH_NAMES, "inputs", "path", "input", "input_unit"])
    xr.testing.assert_identical(without_execution_attrs(lean), without_execution_attrs(kept))


# ------------------------------------------------------------------------------------------
# 7. Invalid arguments
# ------------------------------------------------------------------------------------------


def assert_no_numba_frames(excinfo):
    for entry in excinfo.traceback:
        path = str(entry.path).replace("\\", "/")
        assert "/numba/" not in path, f"frame in {path}"


BAD_SIMULATE_ARGS = [
    ({"n_paths": 0}, SimulationError, "n_paths must be"),
    ({"n_paths": -5}, SimulationError, "n_paths must be"),
    ({"n_paths": 1.5}, SimulationError, "n_paths must be"),
    ({"n_paths": "10"}, SimulationError, "n_paths must be"),
    ({"n_paths": True}, SimulationError, "n_paths must be"),
    ({"seed": -1}, ValueError, "seed must be"),
    ({"seed": 2**64}, ValueError, "seed must be"),
    ({"seed": 1.5}, TypeError, "seed must be"),
    ({"backend": "gpu"}, SimulationError, "backend must be"),
    ({"quantiles": [-0.1]}, SimulationError, "quantiles must be"),
    ({"quantiles": [1.2]}, SimulationError, "quantiles must be"),
    ({"quantiles": [0.5, 0.5]}, SimulationError, "quantiles must be"),
    ({"quantiles": "abc"}, SimulationError, "quantiles must be"),
    ({"chunk_paths": 0}, SimulationError, "chunk_paths must be"),
    ({"keep_paths": "yes"}, SimulationError, "keep_paths must be"),
    ({"scenario": 42}, SimulationError, "scenario must be a montecarlo.Scenario or a preset"),
    ({"scenario": "no-such-preset"}, ScenarioError, "unknown preset 'no-such-preset'"),
]


@pytest.mark.parametrize(("changes", "error", "match"), BAD_SIMULATE_ARGS)
def test_simulate_rejects_invalid_arguments(changes, error, match):
    kwargs = {"scenario": quiet(12), "n_paths": 10, "progress": False, **changes}
    scenario, n_paths = kwargs.pop("scenario"), kwargs.pop("n_paths")
    with pytest.raises(error, match=match) as excinfo:
        simulate(scenario, n_paths, **kwargs)
    assert_no_numba_frames(excinfo)


@pytest.mark.parametrize(
    ("changes", "error", "match"),
    [c for c in BAD_SIMULATE_ARGS if set(c[0]) <= {"n_paths", "seed", "backend", "scenario"}],
)
def test_simulate_paths_rejects_invalid_arguments(changes, error, match):
    kwargs = {"scenario": quiet(12), "n_paths": 10, **changes}
    scenario, n_paths = kwargs.pop("scenario"), kwargs.pop("n_paths")
    with pytest.raises(error, match=match) as excinfo:
        simulate_paths(scenario, n_paths, **kwargs)
    assert_no_numba_frames(excinfo)


def test_simulate_rejects_a_non_boolean_antithetic():
    with pytest.raises(SimulationError, match="antithetic"):
        simulate(quiet(12), 10, antithetic="no", progress=False)


def test_truncated_normal_at_a_bound_is_accepted():
    dist = md.TruncatedNormal(0.7, 0.3, 0.0)
    assert dist.ppf_from_normal(np.array([-40.0, -8.0]))[0] == 0.0  # never below the bound
    scenario = quiet(12, user_volatility=dist)
    assert scenario.inputs["user_volatility"] == dist


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        (
            {"subscription_price": -1.0},
            r"subscription_price must be a finite number >= 0, got -1.0",
        ),
        ({"paid_share": 1.2}, r"paid_share must be in \[0, 1\], got 1.2"),
        ({"utilization_mean": 1.0}, r"utilization_mean must be in \(0, 1\), got 1.0"),
        ({"users_0": math.nan}, r"users_0 must be a finite number > 0, got nan"),
        ({"users_0": math.inf}, r"users_0 must be a finite number > 0, got inf"),
        ({"pue": "high"}, r"pue must be a number.*got 'high' \(str\)"),
        ({"paid_shares": 0.1}, r"unknown scenario field 'paid_shares'; did you mean 'paid_share'"),
        (
            {
                "correlation": {
                    "names": ["paid_share", "subscription_price", "api_growth"],
                    "matrix": [[1.0, 0.9, -0.9], [0.9, 1.0, 0.9], [-0.9, 0.9, 1.0]],
                }
            },
            r"correlation: .* not positive semi-definite",
        ),
        (
            {"shock_correlation": np.full((5, 5), -0.5) + 1.5 * np.eye(5)},
            "shock_correlation must be positive semi-definite",
        ),
    ],
)
def test_invalid_scenario_fields_raise_scenario_errors(changes, match):
    with pytest.raises(ScenarioError, match=match) as excinfo:
        Scenario(**changes)
    assert_no_numba_frames(excinfo)


# ------------------------------------------------------------------------------------------
# 8. Antithetic paths
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_antithetic_pairs_mirror_log_users_around_the_drift(backend):
    r, sigma, T = 0.3, 0.6, 24
    scenario = quiet(T, adoption_rate=r, user_volatility=sigma)
    paths = simulate_paths(scenario, 64, seed=2**40 + 3, antithetic=True, backend=backend)
    months = np.arange(1, T + 1)
    deviation = np.log(paths.users.values / 2e5) - months * (r - sigma**2 / 2) / 12
    np.testing.assert_allclose(deviation[1::2], -deviation[0::2], rtol=0, atol=1e-12)
    # Not vacuous: the deviations themselves are of order sigma sqrt(t dt), far from 0.
    assert np.all(np.abs(deviation[0::2, -1]) > 1e-6)
    assert np.abs(deviation).max() > 0.5


def test_antithetic_pairs_split_generation_jumps():
    # Jump probability 1/2 a month and v -> 1 - v: exactly one path of each pair jumps each
    # month (v is never exactly 1/2). A rented fleet of constant size shows the index as cost.
    T = 12
    scenario = quiet(T, generation_jump_rate=6.0, generation_jump_size=0.3)
    paths = simulate_paths(scenario, 64, seed=5, antithetic=True)
    cost = paths.inference_cost.values
    flat = simulate_paths(quiet(T), 1, seed=5).inference_cost.values[0]  # the index at 1
    months = np.arange(1, T + 1)
    product = cost[0::2] * cost[1::2]
    np.testing.assert_allclose(product, np.broadcast_to(flat**2 * 0.7**months, product.shape),
                               rtol=1e-12)  # fmt: skip
    assert np.unique(np.round(cost[0::2, -1] / flat[-1], 12)).size > 1


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_sums_beyond_double_precision_are_a_floating_point_error(backend):
    # Finite users of 1e300 square to inf in the variance sums: an error that says so,
    # never a raw OverflowError, a warning, or an inf in the result.
    s = Scenario(horizon_months=3, users_0=1e300, user_ceiling=1e301)
    with pytest.raises(FloatingPointError, match="beyond double precision"):
        simulate(s, 128, backend=backend, progress=False)


def test_fold_counts_adds_only_nonzero_cells_and_clears_them():
    counts = np.zeros(1000, dtype=np.uint32)
    counts[[3, 500, 999]] = [7, 2**32 - 1, 1]
    total = np.full(1000, 5, dtype=np.int64)
    sketch.fold_counts(total, counts)
    expect = np.full(1000, 5, dtype=np.int64)
    expect[[3, 500, 999]] += [7, 2**32 - 1, 1]
    np.testing.assert_array_equal(total, expect)
    assert not counts.any()


def test_folding_the_worker_counts_mid_run_changes_no_count():
    # The numba backend folds its uint32 counts into int64 totals before they could wrap;
    # a fold between chunks must leave the totals as one fold at the end would.
    from montecarlo.backends.numba import NumbaBackend
    from montecarlo.backends.plan import Plan

    plan = Plan(Scenario.preset("api-startup"), 3, False)
    shift = np.zeros((len(MONTHLY_NAMES), plan.horizon))
    totals = []
    for fold_between in (False, True):
        backend = NumbaBackend(plan, shift)
        try:
            for first in (0, 256):
                backend.run(first, 256, keep_per_path=False, keep_inputs=False, keep_monthly=False)
                if fold_between:
                    backend._fold()
            totals.append(backend.reductions(512).counts.copy())
        finally:
            backend.close()
    assert totals[0].sum() == 512 * len(MONTHLY_NAMES) * plan.horizon
    np.testing.assert_array_equal(totals[0], totals[1])
