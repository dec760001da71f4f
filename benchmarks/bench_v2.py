"""Path-months per second of the v2 kernel (commitments and financing) beside v1's.

Usage::

    git worktree add /tmp/montecarlo-v1 3637be6      # the last v1 commit
    PYTHONPATH=. python benchmarks/bench_v2.py --v1 /tmp/montecarlo-v1 [--paths N]
                                               [--repeats R] [--json PATH]

Three variants, each ``simulate(..., keep_paths=False)`` of the v1 frontier-lab preset
(``tests/data/v1/frontier-lab.toml``, 60 months) on all threads and on one:

- ``v1``: the v1 code (the checkout given by ``--v1``);
- ``v2 neutral``: this checkout, the v2 inputs neutral (the same paths as v1, bit for
  bit: the kernel does v2's extra work, its results are v1's);
- ``v2 financed``: this checkout with commitments, a tranche and rounds switched on.

Each timing runs in a fresh process (so the two checkouts never share an interpreter),
and the processes of the variants alternate, the order rotating every repeat: the
machine's load drifts, and alternation spreads the drift over all of them. A process
compiles (or loads its cache), runs once to warm up, then times ``--inner`` runs; the
table gives the median over repeats of each process's fastest run, and the fastest of
all (on a shared machine the least disturbed run is the better estimate of the cost). Prints the table and
writes JSON (default ``benchmarks/results/v2.json``).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SCENARIO = ROOT / "tests" / "data" / "v1" / "frontier-lab.toml"

#: v2 inputs switched on for "v2 financed": an uncertain commitment that is idle on some
#: paths, the contingent tranche and rounds that may fail.
FINANCED = {
    "commitment_share": {"dist": "uniform", "low": 0.5, "high": 1.5},
    "commitment_growth": 0.3,
    "commitment_months": 36.0,
    "commitment_discount": 0.4,
    "tranche_amount": 30e9,
    "tranche_month": 10.0,
    "tranche_probability": 0.8,
    "raise_trigger_months": 12.0,
    "raise_success_probability": 0.7,
    "raise_arr_multiple": 1.5,
    "raise_cooldown_months": 6.0,
    "valuation_arr_multiple": 25.0,
}

CHILD = r"""
import json, sys, numba
from kernels.layout import INPUT_NAMES
from montecarlo.engine import simulate
from montecarlo.scenario import Scenario
from montecarlo import distributions as md
toml, n, inner, threads, extra = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), json.loads(sys.argv[5])
changes = {k: (md.from_dict(v) if isinstance(v, dict) else v) for k, v in extra.items()}
if "commitment_share" in INPUT_NAMES:  # v2 code: unset v2 inputs would come from the default preset
    from kernels.layout import NEUTRAL_V2
    changes = {**NEUTRAL_V2, **changes}
scenario = Scenario.from_toml(toml).replace(horizon_months=60, **changes)
numba.set_num_threads(threads)
simulate(scenario, 1 << 16, seed=1, keep_paths=False, progress=False)
times = [simulate(scenario, n, seed=1, keep_paths=False, progress=False).attrs["elapsed_seconds"]
         for _ in range(inner)]
print(json.dumps(times))
"""


def run_child(tree: Path, n: int, inner: int, threads: int, extra: dict) -> float:
    env = {**os.environ, "PYTHONPATH": str(tree), "OPENBLAS_NUM_THREADS": "1"}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(SCENARIO), str(n), str(inner), str(threads),
         json.dumps(extra)],
        cwd=tree, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if out.returncode != 0:
        raise SystemExit(f"timing process in {tree} failed:\n{out.stderr[-3000:]}")
    return min(json.loads(out.stdout.strip().splitlines()[-1]))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--v1", required=True, type=Path, help="a checkout of the v1 code")
    parser.add_argument("--paths", type=int, default=1 << 20, help="paths per timing")
    parser.add_argument("--repeats", type=int, default=3, help="processes per variant")
    parser.add_argument("--inner", type=int, default=3, help="timed runs per process")
    parser.add_argument("--json", type=Path, default=HERE / "results" / "v2.json")
    args = parser.parse_args(argv)
    if not (args.v1 / "kernels" / "model.py").is_file():
        parser.error(f"--v1 {args.v1} is not a checkout of montecarlo (no kernels/model.py)")
    import numba

    threads = numba.config.NUMBA_NUM_THREADS
    variants = {
        "v1": (args.v1.resolve(), {}),
        "v2 neutral": (ROOT, {}),
        "v2 financed": (ROOT, FINANCED),
    }
    months = 60
    rows = []
    for t in sorted({threads, 1}, reverse=True):
        n = args.paths if t > 1 else args.paths // 2
        seconds = {name: [] for name in variants}
        order = list(variants)
        for r in range(args.repeats):
            for name in order[r % len(order) :] + order[: r % len(order)]:
                tree, extra = variants[name]
                seconds[name].append(run_child(tree, n, args.inner, t, extra))
                print(f"  {t} thread(s), repeat {r + 1}, {name}: {seconds[name][-1]:.3f} s",
                      file=sys.stderr)  # fmt: skip
        base, best = statistics.median(seconds["v1"]), min(seconds["v1"])
        for name in variants:
            s = statistics.median(seconds[name])
            rows.append({
                "variant": name, "threads": t, "paths": n, "months": months,
                "seconds": seconds[name], "median_seconds": s,
                "path_months_per_second": n * months / s, "rate_vs_v1": base / s,
                "best_path_months_per_second": n * months / min(seconds[name]),
                "best_rate_vs_v1": best / min(seconds[name]),
            })  # fmt: skip
    print(f"{'variant':<14}{'threads':>8}{'M path-months/s':>17}{'vs v1':>8}"
          f"{'best M/s':>10}{'best vs v1':>12}")  # fmt: skip
    for row in rows:
        print(f"{row['variant']:<14}{row['threads']:>8}{row['path_months_per_second'] / 1e6:>17.1f}"
              f"{row['rate_vs_v1']:>8.3f}{row['best_path_months_per_second'] / 1e6:>10.1f}"
              f"{row['best_rate_vs_v1']:>12.3f}")  # fmt: skip
    args.json.parent.mkdir(parents=True, exist_ok=True)
    from montecarlo.bench import machine_info, write_json

    write_json({"machine": machine_info(), "rows": rows}, args.json)
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
