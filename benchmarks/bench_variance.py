"""Variance-reduction factors of antithetic paths and randomised quasi-Monte Carlo.

Usage::

    PYTHONPATH=. python benchmarks/bench_variance.py [--paths N] [--replicates R]
                                                     [--scenario NAME] [--json PATH] [--quick]

For each sampling method (plain Philox, antithetic pairs, scrambled Sobol static
inputs, and both), R independent runs of N paths each (seeds 0 .. R - 1) give R
estimates of each metric; the variance of those estimates, against plain
sampling's, is the method's variance-reduction factor (a factor f means plain
sampling needs f times the paths for the same standard error). Its 95% interval
comes from the F distribution with (R - 1, R - 1) degrees of freedom (the
estimates are close to normal). The time ratio turns the factor into an
efficiency gain (factor x plain time / method time). Runs of all methods are
interleaved, so a slow spell of the shared machine hits them alike.

Prints a table and writes JSON (default ``benchmarks/results/variance.json``;
``--quick``: N = 2**12, R = 16, ``variance-quick.json``).
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from scipy import stats

from montecarlo.bench import machine_info, write_json
from montecarlo.engine import simulate
from montecarlo.risk import expected_shortfall
from montecarlo.scenario import Scenario

METHODS = {
    "plain": {},
    "antithetic": {"antithetic": True},
    "qmc": {"qmc": True},
    "qmc + antithetic": {"qmc": True, "antithetic": True},
}


def metrics(ds) -> dict[str, float]:
    """The named metrics of one run."""
    T = int(ds.attrs["horizon_months"])
    return {
        "mean npv": float(ds.npv.mean()),
        "mean cumulative operating profit": float(ds.cumulative_operating_profit.mean()),
        "P(ruined by horizon)": float(ds.p_ruined.sel(month=T)),
        "P(profitable at horizon)": float(ds.p_profitable.sel(month=T)),
        "median npv": float(ds.npv.median()),
        "CVaR 0.95 of npv (loss)": expected_shortfall(ds.npv.values, 0.95)[0],
    }


def measure(scenario: Scenario, n_paths: int, replicates: int) -> dict:
    simulate(scenario, 64, progress=False)  # compile outside the timings
    estimates = {m: [] for m in METHODS}
    seconds = {m: 0.0 for m in METHODS}
    for seed in range(replicates):
        for method, kw in METHODS.items():
            start = time.perf_counter()
            ds = simulate(scenario, n_paths, seed=seed, keep_paths=True, progress=False, **kw)
            seconds[method] += time.perf_counter() - start
            estimates[method].append(metrics(ds))
    names = list(estimates["plain"][0])
    lo_q, hi_q = stats.f.ppf([0.975, 0.025], replicates - 1, replicates - 1)
    rows = []
    for name in names:
        plain = np.array([e[name] for e in estimates["plain"]])
        var_plain = plain.var(ddof=1)
        for method in METHODS:
            x = np.array([e[name] for e in estimates[method]])
            var = x.var(ddof=1)
            factor = var_plain / var if var > 0 else float("inf")
            rows.append({
                "metric": name,
                "method": method,
                "mean": float(x.mean()),
                "sd_of_estimate": float(np.sqrt(var)),
                "factor": float(factor),
                "factor_ci95": [float(factor / lo_q), float(factor / hi_q)],
                "efficiency": float(factor * seconds["plain"] / seconds[method]),
            })  # fmt: skip
    return {
        "scenario": scenario.name,
        "horizon_months": scenario.horizon_months,
        "n_paths": n_paths,
        "replicates": replicates,
        "seconds": seconds,
        "rows": rows,
    }


def format_table(result: dict) -> str:
    head = (
        f"variance reduction: {result['scenario']}, {result['n_paths']} paths x "
        f"{result['replicates']} replicates, {result['horizon_months']} months\n"
        f"{'metric':34} {'method':17} {'estimate':>14} {'sd':>11} {'factor':>8} "
        f"{'95% interval':>17} {'efficiency':>10}"
    )
    lines = [head]
    for r in result["rows"]:
        lo, hi = r["factor_ci95"]
        lines.append(
            f"{r['metric']:34} {r['method']:17} {r['mean']:14.6g} {r['sd_of_estimate']:11.4g} "
            f"{r['factor']:8.2f} {f'[{lo:.2f}, {hi:.2f}]':>17} {r['efficiency']:10.2f}"
        )
    secs = ", ".join(f"{m} {s:.1f} s" for m, s in result["seconds"].items())
    lines.append(f"time: {secs}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--paths", type=int, help="paths per run (default 2**14)")
    parser.add_argument("--replicates", type=int, help="runs per method (default 32)")
    parser.add_argument("--scenario", default="frontier-lab", help="preset to simulate")
    parser.add_argument("--json", metavar="PATH", help="where to write the JSON result")
    parser.add_argument("--quick", action="store_true", help="smoke run: 2**12 paths x 16")
    args = parser.parse_args(argv)
    n = args.paths or (2**12 if args.quick else 2**14)
    r = args.replicates or (16 if args.quick else 32)
    if n < 2 or r < 3:
        parser.error("need at least 2 paths and 3 replicates")
    result = measure(Scenario.preset(args.scenario), n, r)
    result["machine"] = machine_info()
    print(format_table(result))
    default = "variance-quick.json" if args.quick else "variance.json"
    out = args.json or Path(__file__).resolve().parent / "results" / default
    write_json(result, out)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
