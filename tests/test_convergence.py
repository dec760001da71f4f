"""simulate(precision=...): add chunks until the asked standard errors are reached."""

import numpy as np
import pytest

import montecarlo as mc
from montecarlo.engine import SimulationError

SCENARIO = mc.Scenario.preset("api-startup").replace(horizon_months=24)


def test_stops_at_the_first_chunk_that_meets_every_target():
    target = 0.006
    ds = mc.simulate(
        SCENARIO, 1024, seed=2, chunk_paths=1024, precision={"p_ruined": target,
        "revenue_mean": {"relative": 0.02}}, max_paths=200_000, progress=False,
    )  # fmt: skip
    assert ds.attrs["converged"] == 1
    se = ds.convergence_se.values
    goal = ds.convergence_target.values
    assert np.all(se[:, -1] <= goal)
    assert np.any(se[:, -2] > goal)  # the chunk before was not yet enough
    assert ds.attrs["n_paths"] == ds.convergence_paths.values[-1] < 200_000
    # The trace ends on the run's own estimates, with honest binomial and mean SEs.
    n = ds.attrs["n_paths"]
    p = float(ds.p_ruined[-1])
    assert ds.convergence_estimate.sel(metric="p_ruined").values[-1] == p
    assert se[0, -1] == pytest.approx(np.sqrt(p * (1 - p) / n), rel=1e-12)
    revenue_se = float(ds.revenue_std[-1]) / np.sqrt(n)
    assert se[1, -1] == pytest.approx(revenue_se, rel=1e-9)
    assert ds.convergence_estimate.values[1, -1] == pytest.approx(float(ds.revenue_mean[-1]))


def test_unreachable_target_stops_at_max_paths():
    ds = mc.simulate(
        SCENARIO, 512, seed=3, chunk_paths=512, precision={"p_ruined": 1e-6}, max_paths=2048,
        progress=False,
    )  # fmt: skip
    assert ds.attrs["n_paths"] == 2048 and ds.attrs["converged"] == 0
    np.testing.assert_array_equal(ds.convergence_paths.values, [512, 1024, 1536, 2048])


def test_npv_mean_needs_paths_and_converges_with_them():
    ds = mc.simulate(
        SCENARIO, 1024, seed=4, chunk_paths=1024, precision={"npv_mean": {"relative": 0.05}},
        max_paths=100_000, progress=False,
    )  # fmt: skip
    npv = ds.npv.values
    assert ds.convergence_se.values[0, -1] == pytest.approx(
        npv.std(ddof=1) / np.sqrt(npv.size), rel=1e-12
    )
    with pytest.raises(SimulationError, match="keep_paths"):
        mc.simulate(SCENARIO, 64, precision={"npv_mean": 1.0}, keep_paths=False)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"precision": {"nope": 0.1}}, "unknown metric"),
        ({"precision": {"p_ruined": 0}}, "must be > 0"),
        ({"precision": {"p_ruined": {"rel": 0.1}}}, "relative"),
        ({"precision": []}, "non-empty mapping"),
        ({"precision": {"p_ruined": 0.1}, "max_paths": 10}, "max_paths must be at least"),
    ],
)
def test_bad_precision_arguments(kwargs, match):
    with pytest.raises(SimulationError, match=match):
        mc.simulate(SCENARIO, 64, progress=False, **kwargs)


def test_a_converged_run_equals_a_plain_run_of_as_many_paths():
    ds = mc.simulate(
        SCENARIO, 1024, seed=5, chunk_paths=1024, precision={"p_ruined": 0.01},
        max_paths=100_000, progress=False,
    )  # fmt: skip
    plain = mc.simulate(SCENARIO, ds.attrs["n_paths"], seed=5, chunk_paths=1024, progress=False)
    for name in ("cash", "cash_mean", "cash_std", "p_ruined", "p_profitable", "npv"):
        np.testing.assert_array_equal(ds[name].values, plain[name].values)


def test_added_paths_follow_what_the_standard_error_says_is_needed():
    # From 1024 paths, a target 4x tighter than the first SE needs about 16x the paths;
    # the run adds that (plus 10 %) rather than a whole chunk of 2**18.
    first = mc.simulate(SCENARIO, 1024, seed=6, keep_paths=True, progress=False)
    se = float(first.npv.std(ddof=1)) / np.sqrt(1024)
    ds = mc.simulate(
        SCENARIO, 1024, seed=6, precision={"npv_mean": se / 4}, max_paths=2**20, progress=False
    )
    n = ds.attrs["n_paths"]
    assert ds.attrs["converged"] == 1 and n % 64 == 0
    final_se = float(ds.convergence_se.values[0, -1])
    needed = n * (final_se / (se / 4)) ** 2  # paths the final spread says were enough
    assert n <= 1.25 * needed + 64 * len(ds.convergence_paths), (n, needed)
    assert 8 * 1024 < n < 2**18
