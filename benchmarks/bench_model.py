"""Path-months per second of the full model (spec v2): the numba engine beside its baselines.

Usage::

    PYTHONPATH=. python benchmarks/bench_model.py [--paths N] [--repeats R] [--json PATH]
                                                  [--scenario NAME] [--quick] [--no-memory]

Variants, timed in one process, interleaved (the order rotates every repeat),
the median of R repeats after a warm-up call that compiles everything:

(a) ``simulate(..., backend="numba", keep_paths=False)`` on all numba threads, and
    (a1) the same on one thread;
(b) ``simulate(..., backend="numpy")``, the reference backend, on 1/20 of the
    paths (it is slow; its rate is per path-month all the same);
(c) RNG only: a numba kernel drawing exactly the variates the model draws
    (per path the 56 static-input normals, per month five normals and the
    jump, round and tranche uniforms) and summing them: the floor on what the
    model can cost;
(d) the model written in idiomatic numpy (``idiomatic_numpy.py``), one thread.

Then, one thread, each phase of the numba kernel alone (``kernels.vectorisation``: the
kernel's own lane-loop helpers run over a block of paths): its time per path-month and
the packed float64 instructions in its machine code, by register width (the evidence
that the lane loops vectorise); the start-up of ``montecarlo run`` in fresh processes,
cold (an empty numba cache: every kernel compiles) and warm; and the peak resident
memory of ``simulate`` at two sizes, each in a fresh
process (plus one that only imports and compiles, as the baseline). Prints
tables and writes JSON (default ``benchmarks/results/model.json``;
``--quick``: 1e5 paths, memory at 1e5 and 1e6, ``model-quick.json``).

OpenBLAS is limited to one thread (unless ``OPENBLAS_NUM_THREADS`` is set):
the idiomatic version's small matrix products (5 x 5 shock factor times a
chunk of normals, dot products of a chunk) otherwise start a second BLAS
thread per call, and on a 2-core machine that thrashes: the month loop ran
3-4x slower. Nothing in the numba variants uses BLAS.
"""

import os

# Before numpy is imported, or OpenBLAS has already started its threads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import numba  # noqa: E402
import numpy as np  # noqa: E402

# The baseline sits beside this file; the package comes from PYTHONPATH (or an install).
sys.path.insert(0, str(Path(__file__).resolve().parent))

import idiomatic_numpy  # noqa: E402

from kernels.layout import N_INPUTS  # noqa: E402
from kernels.rng import draw_block, normal, uniform  # noqa: E402
from montecarlo.bench import machine_info, write_json  # noqa: E402
from montecarlo.engine import simulate  # noqa: E402
from montecarlo.scenario import Scenario  # noqa: E402

#: Step-0 blocks holding the static-input normals (input i: block i // 4, word i % 4).
N_STATIC_BLOCKS = (N_INPUTS + 3) // 4
#: The numpy reference backend runs on this fraction of the paths.
REFERENCE_FRACTION = 20
SEED = 1


@numba.njit(parallel=True, cache=True, error_model="numpy")
def rng_only(k0, k1, n_paths, horizon, n_static_blocks):
    """Draw every variate the model draws, on every path, and return their sum.

    Per path: the normals of step 0, blocks 0 .. n_static_blocks - 1 (the
    static inputs); per month t: the four normals of block 0 of step t and,
    from block 1, the normal of word 0 and the uniforms of words 1-3 (the jump,
    the round and the tranche).
    Summing them keeps the compiler from dropping any draw.
    """
    total = 0.0
    for p in numba.prange(n_paths):
        s = 0.0
        for b in range(n_static_blocks):
            w0, w1, w2, w3 = draw_block(k0, k1, p, 0, b, False)
            s += normal(w0) + normal(w1) + normal(w2) + normal(w3)
        for t in range(1, horizon + 1):
            w0, w1, w2, w3 = draw_block(k0, k1, p, t, 0, False)
            v0, v1, v2, v3 = draw_block(k0, k1, p, t, 1, False)
            s += normal(w0) + normal(w1) + normal(w2) + normal(w3) + normal(v0)
            s += uniform(v1) + uniform(v2) + uniform(v3)
        total += s
    return total


class _Variant:
    """One timed variant: a callable and how many path-months one call simulates."""

    def __init__(self, name: str, paths: int, horizon: int, fn: Callable[[int], object]):
        self.name = name
        self.paths = paths
        self.path_months = paths * horizon
        self.fn = fn
        self.seconds: list[float] = []
        self.extra: list[object] = []

    def run(self, n: int | None = None):
        start = time.perf_counter()
        out = self.fn(self.paths if n is None else n)
        return time.perf_counter() - start, out


def _rate_row(v: _Variant, key: str, note: str) -> dict:
    med = statistics.median(v.seconds)
    return {
        "key": key,
        "variant": v.name,
        "note": note,
        "paths": v.paths,
        "path_months": v.path_months,
        "seconds": v.seconds,
        "median_seconds": med,
        "path_months_per_s": v.path_months / med,
        "min_per_s": v.path_months / max(v.seconds),
        "max_per_s": v.path_months / min(v.seconds),
    }


def throughput(scenario, n_paths: int, repeats: int) -> dict:
    """Time the four variants interleaved; return rows, ratios and phase timings."""
    T = int(scenario.horizon_months)
    k0, k1 = np.uint32(SEED & 0xFFFFFFFF), np.uint32(SEED >> 32)
    n_ref = max(64, n_paths // REFERENCE_FRACTION)
    threads = numba.get_num_threads()

    def numba_engine(n):
        ds = simulate(scenario, n, seed=SEED, keep_paths=False, progress=False)
        return ds.attrs["elapsed_seconds"]

    def numba_one_thread(n):
        numba.set_num_threads(1)
        try:
            return numba_engine(n)
        finally:
            numba.set_num_threads(threads)

    def numpy_reference(n):
        simulate(scenario, n, seed=SEED, backend="numpy", keep_paths=False, progress=False)

    def idiomatic(n):
        return idiomatic_numpy.simulate_numpy(scenario, n, seed=SEED)["seconds"]

    variants = {
        "numba": _Variant(f"(a) numba engine, simulate(), {threads} threads", n_paths, T,
                          numba_engine),
        "numba1": _Variant("(a1) numba engine, simulate(), 1 thread", n_paths // 2, T,
                           numba_one_thread),
        "reference": _Variant("(b) numpy reference backend, 1 thread", n_ref, T,
                              numpy_reference),
        "rng": _Variant(f"(c) RNG only, the model's variates, {threads} threads", n_paths, T,
                        lambda n: rng_only(k0, k1, n, T, N_STATIC_BLOCKS)),
        "idiomatic": _Variant("(d) idiomatic numpy, 1 thread", n_paths, T, idiomatic),
    }  # fmt: skip
    for v in variants.values():  # compile (or load the cache) and touch every code path
        v.run(min(v.paths, 2048))
    order = list(variants)
    load = []  # 1-minute load average before each repeat: flags repeats run beside other work
    for r in range(repeats):
        load.append(os.getloadavg()[0])
        for key in order[r % len(order) :] + order[: r % len(order)]:
            seconds, out = variants[key].run()
            variants[key].seconds.append(seconds)
            variants[key].extra.append(out)

    notes = {
        "numba": "whole simulate() call: setup, kernel, xarray result",
        "numba1": "as (a), half the paths",
        "reference": f"1/{REFERENCE_FRACTION} of the paths; rate per path-month",
        "rng": "Philox4x32-10 + AS 241, summed; no model",
        "idiomatic": "inputs + month loop + exact np.quantile",
    }
    keys = ("numba", "numba1", "reference", "rng", "idiomatic")
    rows = [_rate_row(variants[k], k, notes[k]) for k in keys]
    # Derived rows from the same calls: the engine's kernel loop alone (simulate's own
    # elapsed_seconds), and the idiomatic version's month loop alone.
    kernel_s = statistics.median(variants["numba"].extra)
    phases = {
        name: statistics.median(p[name] for p in variants["idiomatic"].extra)
        for name in ("inputs", "months", "quantiles")
    }
    derived = [
        {
            "key": "numba_kernel",
            "variant": "    (a) kernel loop only (simulate's elapsed_seconds)",
            "path_months_per_s": n_paths * T / kernel_s,
            "median_seconds": kernel_s,
            "paths": n_paths,
        },
        {
            "key": "idiomatic_months",
            "variant": "    (d) month loop only (no inputs, no quantiles)",
            "path_months_per_s": n_paths * T / phases["months"],
            "median_seconds": phases["months"],
            "paths": n_paths,
        },
    ]
    rate = {row["key"]: row["path_months_per_s"] for row in rows}
    ratios = {
        "numba / idiomatic numpy": rate["numba"] / rate["idiomatic"],
        "numba 1 thread / idiomatic numpy": rate["numba1"] / rate["idiomatic"],
        "numba 2 threads / 1 thread": rate["numba"] / rate["numba1"],
        "numba / numpy reference": rate["numba"] / rate["reference"],
        "numba / RNG-only": rate["numba"] / rate["rng"],
    }
    return {
        "rows": rows,
        "derived": derived,
        "ratios": ratios,
        "idiomatic_phase_seconds": phases,
        "load_before_repeat": load,
        "rng_checksum": float(variants["rng"].extra[-1]),
    }


# The child reports its own peaks from /proc/self/status (VmHWM), not only ru_maxrss: after
# exec, Linux folds the high-water RSS of the image it replaced into ru_maxrss, and with
# subprocess's vfork that image is this (large) benchmark process, so every child would report
# the parent's peak. Writing 5 to /proc/self/clear_refs resets VmHWM to the current RSS, which
# separates the run's own peak from the transient peak of importing and compiling.
_CHILD = """
import json, resource, sys, time
def status(key):
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1])
from montecarlo.engine import simulate
from montecarlo.scenario import Scenario
n, name = int(sys.argv[1]), sys.argv[2]
scenario = Scenario.preset(name)
simulate(scenario, 64, seed=1, keep_paths=False, progress=False)  # load or compile the kernel
out = {"n_paths": n, "warm_hwm_kib": status("VmHWM"), "rss_before_kib": status("VmRSS")}
try:
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
    out["hwm_reset"] = True
except OSError:
    out["hwm_reset"] = False
out["seconds"] = None
if n:
    start = time.perf_counter()
    simulate(scenario, n, seed=1, keep_paths=False, progress=False)
    out["seconds"] = time.perf_counter() - start
out["run_hwm_kib"] = status("VmHWM")
out["ru_maxrss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps(out))
"""


def _child_rss(n_paths: int, scenario_name: str) -> dict:
    """Memory of a fresh process (Linux, KiB) running ``simulate`` on ``n_paths`` paths."""
    root = str(Path(__file__).resolve().parent.parent)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(n_paths), scenario_name],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        raise RuntimeError(f"memory child for {n_paths} paths failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def peak_memory(scenario_name: str, sizes: tuple[int, ...]) -> dict:
    """Peak memory of ``simulate`` in fresh processes, in MiB.

    One child only imports and compiles (n_paths = 0, the baseline); one
    child per size then runs ``simulate(keep_paths=False)``. Per child:
    ``process_peak_mib``, its whole-life peak RSS; ``rss_before_mib``, RSS
    after import and compilation; ``run_peak_mib``, the peak while
    simulating (VmHWM reset before the run); ``run_increment_mib``, the
    latter minus the former; ``ru_maxrss_mib``, as getrusage reports it
    (inflated by the parent's peak, see above).
    """
    rows = []
    for n in (0, *sizes):
        r = _child_rss(n, scenario_name)
        mib = {k[:-4]: v / 1024 for k, v in r.items() if k.endswith("_kib")}
        run_peak = mib["run_hwm"] if r["hwm_reset"] else max(mib["run_hwm"], mib["rss_before"])
        rows.append(
            {
                "n_paths": n,
                "process_peak_mib": max(mib["warm_hwm"], mib["run_hwm"]),
                "rss_before_mib": mib["rss_before"],
                "run_peak_mib": run_peak,
                "run_increment_mib": run_peak - mib["rss_before"],
                "hwm_reset": r["hwm_reset"],
                "ru_maxrss_mib": mib["ru_maxrss"],
                "seconds": r["seconds"],
            }
        )
    return {
        "method": "fresh process per size; VmHWM from /proc/self/status, reset before the run",
        "rows": rows,
    }


def phases(scenario, repeats: int) -> dict:
    """Each phase of the numba kernel alone on one thread (kernels.vectorisation), the
    median of ``repeats`` timings; and its packed float64 instructions by register width."""
    from kernels import vectorisation as kv
    from kernels.model import BLOCK
    from montecarlo.backends.plan import Plan

    numba.set_num_threads(1)  # the phase kernels are serial; keep the pool quiet
    horizon = int(scenario.horizon_months)
    ph = kv.Phases(Plan(scenario, SEED, False))
    rows = []
    for name in kv.PHASES:
        per_path = name in ("sampling", "set-up")
        reps = 64 if per_path else 1024  # blocks of paths, or months of one block
        ph.run(name, 1)
        seconds = []
        for _ in range(repeats):
            start = time.perf_counter()
            ph.run(name, reps)
            seconds.append(time.perf_counter() - start)
        ns = statistics.median(seconds) * 1e9 / (reps * BLOCK)
        rows.append(
            {
                "phase": name,
                "ns_per_path": ns if per_path else None,
                "ns_per_path_month": ns / horizon if per_path else ns,
                "packed_f64_instructions": kv.packed_instructions(ph.assembly(name)),
            }
        )
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    return {"horizon": horizon, "rows": rows}


_STARTUP = """
import sys, time
start = time.perf_counter()
from montecarlo.cli import main
sys.argv = ["montecarlo", "run", sys.argv[1], "--paths", "1024", "--quiet", "--no-progress",
            "--out", sys.argv[2]]
try:
    main()
except SystemExit as exit:
    if exit.code:
        raise
print(time.perf_counter() - start)
"""


def startup(scenario_name: str) -> dict:
    """Seconds of ``montecarlo run SCENARIO --paths 1024`` in fresh processes: with an
    empty numba cache (every kernel compiles), then warm (the cache that run left)."""
    import tempfile

    root = str(Path(__file__).resolve().parent.parent)
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        env["NUMBA_CACHE_DIR"] = tmp
        for label in ("cold", "warm"):
            start = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, "-c", _STARTUP, scenario_name, str(Path(tmp) / f"{label}.nc")],
                capture_output=True, text=True, env=env, check=False,
            )  # fmt: skip
            wall = time.perf_counter() - start
            if proc.returncode != 0:
                raise RuntimeError(f"{label} start-up run failed:\n{proc.stderr[-2000:]}")
            out[f"{label}_seconds"] = wall
            out[f"{label}_in_process_seconds"] = float(proc.stdout.strip().splitlines()[-1])
    return out


def _machine() -> dict:
    info = machine_info()
    info["numba_threading_layer"] = numba.threading_layer()  # valid once a parallel kernel ran
    info["openblas_num_threads"] = os.environ.get("OPENBLAS_NUM_THREADS")
    try:  # private, but the only programmatic view of numpy's SIMD dispatch
        from numpy._core._multiarray_umath import __cpu_features__ as features

        info["numpy_simd"] = [f for f in ("AVX2", "FMA3", "AVX512F") if features.get(f)]
    except ImportError:
        info["numpy_simd"] = None
    try:
        import llvmlite.binding

        info["llvmlite_svml"] = bool(llvmlite.binding.targets.has_svml())
    except (ImportError, AttributeError):
        info["llvmlite_svml"] = None
    return info


def format_tables(result: dict) -> str:
    """Plain-text tables of a result of :func:`main`."""
    thr = result["throughput"]
    lines = [
        f"model benchmark: scenario {result['scenario']}, {result['n_paths']:,} paths x "
        f"{result['horizon']} months, median of {result['repeats']} interleaved repeats "
        f"after a warm-up call",
    ]
    header = f"{'variant':58s} {'paths':>10s} {'M path-months/s':>16s} {'range':>13s}"
    lines += [header, "-" * len(header)]
    for row in thr["rows"]:
        spread = f"{row['min_per_s'] / 1e6:.2f}-{row['max_per_s'] / 1e6:.2f}"
        lines.append(
            f"{row['variant']:58s} {row['paths']:10,d} {row['path_months_per_s'] / 1e6:16.3f} "
            f"{spread:>13s}"
        )
    for row in thr["derived"]:
        lines.append(
            f"{row['variant']:58s} {row['paths']:10,d} {row['path_months_per_s'] / 1e6:16.3f}"
        )
    ph = thr["idiomatic_phase_seconds"]
    lines.append(
        f"(b) runs on 1/{REFERENCE_FRACTION} of the paths. (d) median phases: inputs "
        f"{ph['inputs']:.2f} s, month loop {ph['months']:.2f} s, quantiles {ph['quantiles']:.2f} s"
    )
    lines.append("ratios: " + "; ".join(f"{k} = {v:.2f}" for k, v in thr["ratios"].items()))
    loads = ", ".join(f"{x:.2f}" for x in thr["load_before_repeat"])
    lines.append(f"load average before each repeat: {loads}")
    if max(thr["load_before_repeat"] + [result["load_average"]["end"]]) > 1.5:
        lines.append(
            "warning: other work ran beside this benchmark; the 2-thread variants lose more "
            "to it than the 1-thread ones, so ratios are biased against them"
        )
    if result.get("memory"):
        lines.append("")
        lines.append("peak memory: " + result["memory"]["method"])
        header = (
            f"{'paths':>14s} {'process peak':>12s} {'RSS before run':>14s} {'run peak':>9s} "
            f"{'run increment':>13s} {'run s':>7s} {'ru_maxrss':>9s}"
        )
        lines += [header, "-" * len(header)]
        for row in result["memory"]["rows"]:
            label = "import+compile" if row["n_paths"] == 0 else f"{row['n_paths']:,}"
            secs = "" if row["seconds"] is None else f"{row['seconds']:.1f}"
            lines.append(
                f"{label:>14s} {row['process_peak_mib']:12.0f} {row['rss_before_mib']:14.0f} "
                f"{row['run_peak_mib']:9.0f} {row['run_increment_mib']:13.0f} {secs:>7s} "
                f"{row['ru_maxrss_mib']:9.0f}"
            )
        lines.append("(MiB; ru_maxrss of a child counts the parent's peak, so it is not used)")
    if result.get("phases"):
        lines.append("")
        lines.append(
            "the numba kernel phase by phase, 1 thread (kernels.vectorisation), with the packed "
            "float64 instructions in each phase's machine code"
        )
        header = (
            f"{'phase':12s} {'ns/path':>9s} {'ns/path-month':>14s}   "
            f"{'xmm':>5s} {'ymm':>5s} {'zmm':>5s}"
        )
        lines += [header, "-" * len(header)]
        total = 0.0
        for row in result["phases"]["rows"]:
            c = row["packed_f64_instructions"]
            per_path = "" if row["ns_per_path"] is None else f"{row['ns_per_path']:.0f}"
            total += row["ns_per_path_month"]
            lines.append(
                f"{row['phase']:12s} {per_path:>9s} {row['ns_per_path_month']:14.1f}   "
                f"{c['xmm']:5d} {c['ymm']:5d} {c['zmm']:5d}"
            )
        lines.append(f"{'sum':12s} {'':>9s} {total:14.1f}   (= {1e3 / total:.1f} M path-months/s)")
        lines.append(
            f"(per-path phases over {result['phases']['horizon']} months; xmm counts include "
            f"scalar-code idioms such as sign masks, so only ymm/zmm mean vectorised loops)"
        )
    if result.get("startup"):
        st = result["startup"]
        lines.append("")
        lines.append(
            f"montecarlo run --paths 1024 in a fresh process: cold (empty numba cache) "
            f"{st['cold_seconds']:.1f} s, warm {st['warm_seconds']:.1f} s"
        )
    m = result["machine"]
    lines.append("")
    lines.append(
        f"numba {m['numba']} ({m['numba_threading_layer']} layer, {m['numba_threads']} threads), "
        f"numpy {m['numpy']} (SIMD {m['numpy_simd']}), {m['cpu_count']} CPUs, "
        f"OPENBLAS_NUM_THREADS={m['openblas_num_threads']}, load average "
        f"{result['load_average']['start']:.2f} -> {result['load_average']['end']:.2f}"
    )
    return "\n".join(lines)


def _count(text: str) -> int:
    value = float(text)
    if not value.is_integer() or value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return int(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--paths", type=_count, help="paths per timing (default 1e6)")
    parser.add_argument("--repeats", type=_count, default=3, help="timings per variant")
    parser.add_argument("--json", metavar="PATH", help="where to write the JSON result")
    parser.add_argument("--scenario", default="frontier-lab", help="preset to simulate")
    parser.add_argument("--quick", action="store_true", help="smoke run: 1e5 paths")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory runs")
    args = parser.parse_args(argv)
    n_paths = args.paths or (100_000 if args.quick else 1_000_000)
    memory_sizes = (100_000, 1_000_000) if args.quick else (1_000_000, 10_000_000)
    json_path = args.json or (
        "benchmarks/results/model-quick.json" if args.quick else "benchmarks/results/model.json"
    )

    scenario = Scenario.preset(args.scenario)
    load_start = os.getloadavg()[0]
    if load_start > 1.5:
        print(f"warning: load average {load_start:.2f}; timings will be noisy", file=sys.stderr)

    check = idiomatic_numpy.check_against_engine(scenario, 20_000, seed=SEED)
    print(idiomatic_numpy.format_check(check))
    print()

    result = {
        "benchmark": "model",
        "scenario": scenario.name,
        "n_paths": n_paths,
        "horizon": int(scenario.horizon_months),
        "repeats": args.repeats,
        "seed": SEED,
        "check_against_engine": check,
        "throughput": throughput(scenario, n_paths, args.repeats),
    }
    result["phases"] = phases(scenario, args.repeats)
    result["startup"] = startup(scenario.name)
    result["memory"] = None if args.no_memory else peak_memory(scenario.name, memory_sizes)
    result["load_average"] = {"start": load_start, "end": os.getloadavg()[0]}
    result["machine"] = _machine()
    print(format_tables(result))
    write_json(result, json_path)
    print(f"wrote {json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
