"""What running the model as dask tasks costs: dask worker processes beside in-process numba.

Usage::

    PYTHONPATH=. python benchmarks/bench_dask.py [--paths N] [--repeats R] [--json PATH]
                                                 [--scenario NAME] [--workers 1,2,4] [--quick]

Variants, each a whole ``simulate(..., keep_paths=False)`` call at the same paths and
seed, R repeats interleaved (the order rotates every repeat):

- ``numba``, in this process, on 1 thread and on every core;
- ``dask`` on a ``LocalCluster`` of 1, 2 and 4 single-threaded worker processes on
  loopback, with the backend's own task sizes. Clusters are started before the
  timings and warmed by a small run (workers import the package, load the kernel
  from numba's disk cache and rebuild the scenario once); the start and that first
  run are reported apart. More worker processes than cores share the cores: on a
  2-core machine 4 workers measure the cost of oversubscription and of scheduling
  twice the tasks, not the speed of 4 machines;
- the 2-worker cluster (the largest not above the cores) with tasks of one fixed
  size, to find the task size where the overhead falls under 10 %.

Two overheads, each against numba on as many cores (``min(workers, cores)`` threads):

- wall: median seconds over numba's median, minus one;
- CPU: CPU seconds of this process (client and scheduler) plus every worker process,
  over numba's CPU seconds, minus one. This machine is shared, so wall times move
  with other people's load; CPU seconds much less, which makes the CPU overhead the
  steadier measure of what dask adds (serialising, encoding and merging partials,
  scheduling).

Prints two tables and writes JSON (default ``benchmarks/results/dask.json``;
``--quick``: 2**17 paths, 2 repeats, workers 1 and 2, ``dask-quick.json``).
"""

import argparse
import os
import statistics
import sys
import time

import distributed
import numba

from montecarlo.backends import dask as mdd
from montecarlo.bench import machine_info, write_json
from montecarlo.engine import DEFAULT_CHUNK_PATHS, simulate
from montecarlo.scenario import Scenario

SEED = 1
#: The largest overhead (time / numba's time - 1) a task size may cost to count as big enough.
OVERHEAD_TARGET = 0.10
#: Paths of the untimed runs that warm workers and compile kernels.
WARM_PATHS = 4096
TASK_SIZES = (4096, 16384, 65536, 131072, 262144)


def start_cluster(n_workers: int):
    start = time.perf_counter()
    cluster = distributed.LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
    )
    client = distributed.Client(cluster, set_as_default=False)
    return cluster, client, time.perf_counter() - start


class fixed_task_size:
    """Every task of the dask backend takes ``size`` paths while inside (None: the default)."""

    def __init__(self, size: int | None):
        self.size = size

    def __enter__(self):
        self.saved = mdd.TASK_PATHS, mdd.MIN_TASK_PATHS
        if self.size is not None:
            mdd.TASK_PATHS = mdd.MIN_TASK_PATHS = self.size

    def __exit__(self, *exc):
        mdd.TASK_PATHS, mdd.MIN_TASK_PATHS = self.saved


def _worker_cpu(client) -> float:
    return sum(client.run(time.process_time).values())


def measure(run, client=None) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process and of the client's workers) of run()."""
    cpu = time.process_time() + (_worker_cpu(client) if client else 0.0)
    wall = time.perf_counter()
    run()
    wall = time.perf_counter() - wall
    cpu = time.process_time() + (_worker_cpu(client) if client else 0.0) - cpu
    return wall, cpu


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--scenario", default="frontier-lab")
    parser.add_argument("--workers", default=None, help="worker process counts, e.g. 1,2,4")
    parser.add_argument("--json", default=None)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    quick = args.quick
    n = args.paths or (1 << 17 if quick else 1 << 20)
    repeats = args.repeats or (2 if quick else 3)
    counts = [int(w) for w in (args.workers or ("1,2" if quick else "1,2,4")).split(",")]
    out = args.json or f"benchmarks/results/dask{'-quick' if quick else ''}.json"
    cores = os.cpu_count() or 1
    scenario = Scenario.preset(args.scenario)
    sweep_workers = max([w for w in counts if w <= cores] or counts[:1])
    sizes = [s for s in TASK_SIZES if s * sweep_workers <= n]

    def numba_run(threads: int, paths: int = n):
        numba.set_num_threads(threads)
        simulate(scenario, paths, seed=SEED, keep_paths=False, progress=False)

    def dask_run(client, size: int | None, paths: int = n):
        with fixed_task_size(size):
            simulate(
                scenario, paths, seed=SEED, backend="dask", client=client, keep_paths=False,
                progress=False,
            )  # fmt: skip

    load_start = os.getloadavg()[0]
    clusters = {}
    try:
        for w in counts:
            cluster, client, started = start_cluster(w)
            first, _ = measure(lambda c=client: dask_run(c, None, WARM_PATHS))
            clusters[w] = (cluster, client, started, first)
            print(f"{w} worker(s): cluster started in {started:.1f} s, first run {first:.1f} s")
        # name -> (cores it may use, client or None, run(paths))
        variants = {
            f"numba, {t} thread(s)": (t, None, lambda p=n, t=t: numba_run(t, p))
            for t in sorted({1, cores})
        }
        for w in counts:
            client = clusters[w][1]
            variants[f"dask, {w} worker(s)"] = (
                w,
                client,
                lambda p=n, c=client: dask_run(c, None, p),
            )
        for s in sizes:
            client = clusters[sweep_workers][1]
            variants[f"dask, {sweep_workers} worker(s), tasks of {s}"] = (
                sweep_workers, client, lambda p=n, c=client, s=s: dask_run(c, s, p),
            )  # fmt: skip
        for _, _, run in variants.values():  # compile and warm everything outside the timings
            run(WARM_PATHS)
        samples = {name: [] for name in variants}
        names = list(variants)
        for r in range(repeats):
            for name in names[r % len(names) :] + names[: r % len(names)]:
                _, client, run = variants[name]
                samples[name].append(measure(run, client))
                wall, cpu = samples[name][-1]
                print(f"  {name}: {wall:.2f} s, {cpu:.2f} CPU s", file=sys.stderr)
    finally:
        numba.set_num_threads(cores)
        for cluster, client, *_ in clusters.values():
            client.close()
            cluster.close()

    def row(name: str) -> dict:
        workers = variants[name][0]
        wall = [w for w, _ in samples[name]]
        cpu = [c for _, c in samples[name]]
        base = samples_median(samples[f"numba, {min(workers, cores)} thread(s)"])
        return {
            "variant": name, "workers": workers, "seconds": wall, "cpu_seconds": cpu,
            "median": statistics.median(wall), "cpu_median": statistics.median(cpu),
            "paths_per_s": n / statistics.median(wall),
            "overhead": statistics.median(wall) / base[0] - 1,
            "cpu_overhead": statistics.median(cpu) / base[1] - 1,
        }  # fmt: skip

    rows = [row(f"numba, {t} thread(s)") for t in sorted({1, cores})]
    for w in counts:
        rows.append({**row(f"dask, {w} worker(s)"), "cluster_start_s": clusters[w][2],
                     "first_run_s": clusters[w][3], "first_run_paths": WARM_PATHS,
                     "task_paths": mdd.TASK_PATHS})  # fmt: skip
    sweep = [
        {"task_paths": s, "tasks": -(-n // s),
         **row(f"dask, {sweep_workers} worker(s), tasks of {s}")}
        for s in sizes
    ]  # fmt: skip
    enough = [r["task_paths"] for r in sweep if r["cpu_overhead"] < OVERHEAD_TARGET]
    result = {
        "benchmark": "dask",
        "scenario": args.scenario,
        "horizon": scenario.horizon_months,
        "n_paths": n,
        "repeats": repeats,
        "seed": SEED,
        "cores": cores,
        "chunk_paths": {"numba": DEFAULT_CHUNK_PATHS["numba"], "dask": DEFAULT_CHUNK_PATHS["dask"]},
        "rows": rows,
        "task_size_sweep": {"workers": sweep_workers, "rows": sweep},
        "smallest_task_under_10_percent_cpu": min(enough) if enough else None,
        # This machine is shared: a load well above the cores while timing means noise.
        "load_average_1min": {"start": load_start, "end": os.getloadavg()[0]},
        "machine": machine_info(),
    }
    print(format_tables(result))
    write_json(result, out)
    print(f"wrote {out}")
    return result


def samples_median(samples) -> tuple[float, float]:
    return statistics.median(w for w, _ in samples), statistics.median(c for _, c in samples)


def format_tables(result: dict) -> str:
    n, cores = result["n_paths"], result["cores"]
    lines = [
        f"{result['scenario']}, {n} paths x {result['horizon']} months, median of "
        f"{result['repeats']}, {cores} cores; overheads against numba on as many cores",
        f"{'variant':22s} {'wall s':>7s} {'paths/s':>8s} {'wall +':>7s} {'CPU s':>7s} "
        f"{'CPU +':>7s} {'start s':>8s} {'1st run s':>9s}",
    ]
    for r in result["rows"]:
        extra = ""
        if "cluster_start_s" in r:
            extra = f" {r['cluster_start_s']:8.1f} {r['first_run_s']:9.1f}"
        lines.append(
            f"{r['variant']:22s} {r['median']:7.2f} {r['paths_per_s']:8.0f} "
            f"{100 * r['overhead']:6.1f}% {r['cpu_median']:7.2f} {100 * r['cpu_overhead']:6.1f}%"
            f"{extra}"
        )
    sweep = result["task_size_sweep"]
    lines += ["", f"task size, {sweep['workers']} worker(s)"]
    lines.append(f"{'paths/task':>10s} {'tasks':>6s} {'wall s':>7s} {'wall +':>7s} {'CPU +':>7s}")
    for r in sweep["rows"]:
        lines.append(
            f"{r['task_paths']:10d} {r['tasks']:6d} {r['median']:7.2f} "
            f"{100 * r['overhead']:6.1f}% {100 * r['cpu_overhead']:6.1f}%"
        )
    smallest = result["smallest_task_under_10_percent_cpu"]
    lines.append(f"smallest task size under {OVERHEAD_TARGET:.0%} CPU overhead: {smallest}")
    load = result["load_average_1min"]
    lines.append(f"load average (1 min) at start {load['start']:.2f}, at end {load['end']:.2f}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
