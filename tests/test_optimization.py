"""montecarlo.optimize and ``montecarlo optimize``: decisions under risk limits.

The model has no price elasticity: a path's cash is affine and increasing in the
subscription price, so on common random numbers P(ruin) is a non-increasing step
function of the price and mean NPV an increasing line. Minimising mean NPV subject
to P(ruin) <= c therefore asks for the lowest price that meets the risk limit, an
optimum that sits on the constraint's boundary, which a fine ``sweep`` with the
same seed (the same SAA function) pins between two grid prices. That premise needs
a company without financing (a round is a jump in cash that a higher price can move to
another month), so the scenario here has spec v2's financing inputs neutral.
"""

import json

import numpy as np
import pytest
from click.testing import CliRunner

import montecarlo as mc
from kernels.layout import NEUTRAL_V2
from montecarlo import cli, export
from montecarlo.risk import Z95

PATHS = 3000
SEED = 0
LIMIT = 0.03
LOW, HIGH = 1.0, 60.0
GRID = np.arange(20.0, 45.0 + 1e-9, 0.5)


@pytest.fixture(scope="module")
def scenario():
    return mc.Scenario.preset("specialized-model").replace(horizon_months=24, **NEUTRAL_V2)


@pytest.fixture(scope="module")
def lowest_price(scenario):
    return mc.optimize(
        scenario, {"subscription_price": (LOW, HIGH)}, "npv_mean", maximize=False,
        constraints={"p_ruined": ("<=", LIMIT)}, n_paths=PATHS, seed=SEED,
    )  # fmt: skip


@pytest.fixture(scope="module")
def grid(scenario):
    ds = mc.sweep(scenario, "subscription_price", GRID.tolist(), PATHS, seed=SEED, progress=False)
    return ds.p_ruined.sel(month=24).values


def test_the_sweep_pins_the_boundary_and_optimize_finds_it(lowest_price, grid):
    # The SAA function is a step function of the price: check the sweep is monotone, so the
    # lowest feasible grid price g_k bounds the optimum: it lies in (g_(k-1), g_k].
    assert np.all(np.diff(grid) <= 0)
    k = int(np.argmax(grid <= LIMIT))
    assert 0 < k and grid[k - 1] > LIMIT, "the grid must bracket the boundary"
    price = float(lowest_price.value.sel(decision="subscription_price"))
    assert GRID[k - 1] < price <= GRID[k]
    assert bool(lowest_price.feasible)
    assert float(lowest_price.in_sample.sel(metric="P(ruined by) month 24")) <= LIMIT


def test_the_in_sample_figures_are_the_search_seed_run_at_the_decision(scenario, lowest_price):
    price = float(lowest_price.value.sel(decision="subscription_price"))
    ds = mc.simulate(scenario.replace(subscription_price=price), PATHS, seed=SEED,
                     keep_paths=True, progress=False)  # fmt: skip
    assert float(lowest_price.in_sample.sel(metric="mean npv")) == float(ds.npv.mean())
    ruined = float(np.mean(ds.ruin_month.values <= 24))
    assert float(lowest_price.in_sample.sel(metric="P(ruined by) month 24")) == ruined


def test_the_constraint_holds_out_of_sample_within_its_interval(scenario, lowest_price):
    res = lowest_price
    assert res.attrs["eval_seed"] != res.attrs["seed"]
    price = float(res.value.sel(decision="subscription_price"))
    # A third, independent run at the chosen decision agrees with the reported fresh estimate
    # within the noise of the two, and exceeds the limit by no more than that noise.
    ds = mc.simulate(scenario.replace(subscription_price=price), PATHS, seed=12345,
                     keep_paths=True, progress=False)  # fmt: skip
    p = float(np.mean(ds.ruin_month.values <= 24))
    se_p = np.sqrt(p * (1 - p) / PATHS)
    row = res.sel(metric="P(ruined by) month 24")
    noise = float(np.hypot(row.se, se_p))
    assert abs(p - float(row.estimate)) < 4 * noise
    assert p <= LIMIT + 4 * se_p
    # The fresh estimate is its own binomial estimate on eval_paths paths.
    assert float(row.ci_low) < float(row.estimate) < float(row.ci_high)
    assert float(row.se) == pytest.approx(
        np.sqrt(float(row.estimate) * (1 - float(row.estimate)) / res.attrs["eval_paths"])
    )
    c = res.sel(constraint="P(ruined by) month 24")
    assert bool(c.met_with_confidence) == (float(row.ci_high) <= LIMIT)
    assert bool(c.met_at_estimate) == (float(row.estimate) <= LIMIT)


def test_a_constraint_with_margin_is_met_with_confidence(scenario):
    # Ask the search for 1 point of margin below the limit the decision must honour.
    res = mc.optimize(
        scenario, {"subscription_price": (LOW, HIGH)}, "npv_mean", maximize=False,
        constraints={"p_ruined": ("<=", LIMIT - 0.01)}, n_paths=PATHS, seed=SEED,
        eval_paths=4 * PATHS, max_evaluations=30,
    )  # fmt: skip
    row = res.sel(metric="P(ruined by) month 24")
    # eval_paths = 4 n: a fresh interval half as wide; its high end below the real limit.
    assert float(row.ci_high) < LIMIT
    assert float(row.ci_high - row.ci_low) < 2 * Z95 * 1.2 * np.sqrt(0.02 * 0.98 / (4 * PATHS))


CASH_GRID = np.arange(20e6, 40e6 + 1, 0.5e6)


def test_an_objective_named_by_a_decision_finds_the_least_cash_that_meets_the_limit(scenario):
    # "How much must we raise?": minimise the starting cash itself subject to the risk limit.
    # On common random numbers P(ruin) is a non-increasing step function of the cash, so a
    # sweep with the same seed brackets the least feasible cash between two grid points.
    res = mc.optimize(
        scenario, {"initial_cash": (1e6, 1e8)}, "initial_cash", maximize=False,
        constraints={"p_ruined": ("<=", LIMIT)}, n_paths=PATHS, seed=SEED,
    )  # fmt: skip
    ruin = mc.sweep(scenario, "initial_cash", CASH_GRID.tolist(), PATHS, seed=SEED,
                    progress=False).p_ruined.sel(month=24).values  # fmt: skip
    assert np.all(np.diff(ruin) <= 0)
    k = int(np.argmax(ruin <= LIMIT))
    assert 0 < k and ruin[k - 1] > LIMIT, "the grid must bracket the boundary"
    cash = float(res.value.sel(decision="initial_cash"))
    assert CASH_GRID[k - 1] < cash <= CASH_GRID[k]
    # The objective is the decision's own value: exact, on either set of paths.
    row = res.sel(metric="initial_cash")
    assert str(row.role.values) == "objective" and str(row.units.values) == "USD"
    assert float(row.estimate) == float(row.in_sample) == cash
    assert float(row.se) == 0.0 and float(row.ci_low) == float(row.ci_high) == cash
    np.testing.assert_array_equal(res.trace_objective.values,
                                  res.trace_value.sel(decision="initial_cash").values)  # fmt: skip
    assert bool(res.feasible)


def test_the_trace_records_every_evaluation(lowest_price):
    res = lowest_price
    n = res.attrs["n_evaluations"]
    assert res.sizes["evaluation"] == n <= res.attrs["max_evaluations"]
    assert list(res.trace_stage.values[:8]) == ["design"] * 8
    assert "local" in res.trace_stage.values
    values = res.trace_value.sel(decision="subscription_price").values
    assert np.all((values >= LOW) & (values <= HIGH))
    assert len(set(values.tolist())) == n  # the cache never simulates a decision twice
    feasible = res.trace_constraint.values[:, 0] <= LIMIT
    np.testing.assert_array_equal(res.trace_feasible.values, feasible)
    # The chosen decision is the best feasible evaluation.
    best = res.trace_objective.values[feasible].min()
    assert float(res.in_sample.sel(metric="mean npv")) == best
    assert res.attrs["wall_time_s"] > 0
    assert "subscription_price = " in res.attrs["scenario"]


def test_an_infeasible_problem_says_so_and_reports_the_least_violating_decision():
    s = mc.Scenario.preset("api-startup").replace(horizon_months=24)
    res = mc.optimize(
        s, {"subscription_price": (10, 60)}, constraints={"p_ruined": ("<=", 0.05)},
        n_paths=2000, seed=SEED, max_evaluations=16,
    )  # fmt: skip
    assert not bool(res.feasible)
    assert res.attrs["status"].startswith("infeasible")
    assert not res.trace_feasible.values.any()
    # Higher prices ruin fewer paths: the least violating decision is the highest price seen.
    ruin = res.trace_constraint.values[:, 0]
    assert float(res.in_sample.sel(metric="P(ruined by) month 24")) == ruin.min()
    assert not bool(res.met_with_confidence.item())


def test_metrics_by_alias_summary_row_and_per_path_statistic(scenario):
    res = mc.optimize(
        scenario, {"rent_share": (0.5, 1)}, ("npv", "quantile", 0.05),
        constraints={"CVaR 0.95 npv (loss)": ("<=", 1e9), "terminal_cash:below:0": ("<=", 1)},
        n_paths=512, seed=SEED, max_evaluations=8, eval_paths=1024,
    )  # fmt: skip
    assert list(res.metric.values) == [
        "npv:quantile:0.05", "CVaR 0.95 npv (loss)", "terminal_cash:below:0"
    ]
    assert list(res.role.values) == ["objective", "constraint", "constraint"]
    assert list(res.units.values) == ["USD", "USD", "1"]
    ds = mc.simulate(scenario.replace(rent_share=float(res.value.item())), 1024,
                     seed=int(res.attrs["eval_seed"]), keep_paths=True, progress=False)
    assert float(res.estimate.sel(metric="npv:quantile:0.05")) == np.quantile(ds.npv.values, 0.05)
    assert float(res.estimate.sel(metric="terminal_cash:below:0")) == np.mean(
        ds.terminal_cash.values < 0
    )


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"decisions": {"subscription_prize": (10, 60)}}, "input 'subscription_prize'"),
        ({"decisions": {"subscription_price": (60, 10)}}, "low < high, got (60.0, 10.0)"),
        ({"decisions": {"rent_share": (0, 2)}}, "be in [0, 1], so 2 is not allowed"),
        ({"decisions": {"rent_share": 0.5}}, "decisions['rent_share'] must be (low, high)"),
        ({"decisions": {}}, "decisions must be a non-empty mapping"),
        ({"objective": "npv_mena"}, "objective: unknown metric 'npv_mena'"),
        ({"objective": "npv:quantile:1.5"}, "the level of quantile must lie in (0, 1), got 1.5"),
        ({"objective": "npv:mode"}, "unknown statistic 'mode' of npv"),
        ({"objective": ("cash", "mean")}, "unknown per-path outcome 'cash'"),
        ({"constraints": {"p_ruined": ("<", 0.05)}}, "one of ('<=', '>='), got '<'"),
        ({"constraints": {"p_ruined": ("<=", "low")}}, "the bound must be a number, got 'low'"),
        # integers beyond the double range: one clear line, not an OverflowError
        ({"constraints": {"p_ruined": ("<=", 10**400)}},
         "the bound must be a finite number, got an integer of 401 digits"),
        ({"decisions": {"initial_cash": (0, 10**400)}},
         "decisions['initial_cash'] high must be a finite number"),
        ({"objective": ("npv", "below", 10**400)}, "the threshold of below must be a finite"),
        ({"constraints": {"p_ruin": ("<=", 0.05)}}, "['p_ruin']: unknown metric 'p_ruin'"),
        ({"constraints": {"npv_mean": ("<=", 0)}}, "'mean npv' is the objective"),
        ({"eval_seed": 0}, "eval_seed must differ from seed (0)"),
        ({"method": "nelder-mead"}, "method must be one of ('cobyqa', 'cobyla'), got 'nel"),
        ({"design_points": 6}, "design_points must be a power of two"),
        ({"n_paths": 0}, "n_paths must be an integer in [1,"),
        ({"keep_paths": True}, "do not pass keep_paths=True"),
    ],
)  # fmt: skip
def test_bad_input_names_the_parameter_and_the_value(scenario, kwargs, expected):
    args = {"decisions": {"subscription_price": (10, 60)}, **kwargs}
    with pytest.raises(ValueError) as info:
        mc.optimize(scenario, n_paths=args.pop("n_paths", 64), **args)
    assert expected in str(info.value)


def test_cobyla_finds_the_same_boundary(scenario, grid):
    res = mc.optimize(
        scenario, {"subscription_price": (LOW, HIGH)}, "npv_mean", maximize=False,
        constraints={"p_ruined": ("<=", LIMIT)}, n_paths=PATHS, seed=SEED, method="cobyla",
    )  # fmt: skip
    k = int(np.argmax(grid <= LIMIT))
    assert GRID[k - 1] < float(res.value.item()) <= GRID[k]


# --------------------------------------------------------------------------------------------
# The command


def invoke(*args: str):
    return CliRunner().invoke(cli.cli, list(args), prog_name="montecarlo", catch_exceptions=False)


def test_the_command_prints_the_choice_and_writes_what_the_library_returns(
    tmp_path, scenario, lowest_price
):
    outs = [tmp_path / f"r{ext}" for ext in (".json", ".nc", ".csv")]
    # The module's scenario (the preset without financing), as a scenario file.
    source = tmp_path / "specialized-model.toml"
    source.write_text(scenario.to_toml())
    result = invoke(
        "optimize", str(source), "-d", f"subscription_price={LOW:g}:{HIGH:g}",
        "--minimize", "-c", f"p_ruined<={LIMIT}", "--paths", str(PATHS), "--horizon", "24",
        *[x for out in outs for x in ("--out", str(out))],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "minimize mean npv for 'specialized-model'" in result.output
    assert "subscription_price" in result.output and "fresh 95% CI" in result.output
    want = float(lowest_price.value.item())
    document = json.loads(outs[0].read_text())
    assert document["kind"] == "optimization"
    assert document["rows"][0]["name"] == "subscription_price"
    assert document["rows"][0]["value"] == want
    saved = export.open_netcdf(outs[1])
    assert float(saved.value.item()) == want
    np.testing.assert_array_equal(saved.trace_value.values, lowest_price.trace_value.values)
    assert bool(saved.feasible)
    assert "constraint,P(ruined by) month 24" in outs[2].read_text()


def test_the_command_exits_3_when_infeasible():
    result = CliRunner().invoke(
        cli.cli, ["optimize", "api-startup", "-d", "subscription_price=10:60",
                  "-c", "p_ruined<=0.05", "--paths", "1000", "--horizon", "24",
                  "--max-evaluations", "10"], prog_name="montecarlo",
    )  # fmt: skip
    assert result.exit_code == 3
    assert "infeasible: none of the" in result.output
    assert "no evaluated decision meets every constraint (p_ruined<=0.05)" in result.output


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["-d", "subscription_price=10-60"], "expected FIELD=LOW:HIGH"),
        (["-d", "subscription_price=10:60", "-c", "p_ruined<0.05"], "expected METRIC<=BOUND"),
        (["-d", "price=10:60"], "unknown scenario input 'price'"),
        (["-d", "subscription_price=10:60", "--objective", "npv:bogus"], "unknown statistic"),
        (["-d", "subscription_price=10:60", "--out", "r.txt"], "--out r.txt: this command writes"),
        (["-d", "rent_share=0:1", "-d", "rent_share=0:0.5"], "'rent_share' is given twice"),
        (["-d", "rent_share=0:1", "-c", "p_ruined<=0.05", "-c", "p_ruined<=0.1"],
         "'p_ruined' is given twice"),
    ],
)
def test_the_command_refuses_bad_input_with_one_line_and_status_2(args, expected, tmp_path,
                                                                   monkeypatch):  # fmt: skip
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        cli.cli, ["optimize", "api-startup", "--paths", "64", "--horizon", "24", *args],
        prog_name="montecarlo",
    )
    assert result.exit_code == 2
    assert expected in result.output
    assert not list(tmp_path.iterdir())
