"""GPU check: the cuda backend against the CPU backend, and its speed beside its baselines.

Usage (on a machine with an NVIDIA GPU and numba-cuda, ``pip install 'montecarlo[gpu]'``)::

    PYTHONPATH=. python benchmarks/gpu_check.py [--quick] [--scenario NAME] [--repeats R]
                                                [--check-paths N] [--paths N [N ...]]
                                                [--tune] [--json PATH]
    PYTHONPATH=. python benchmarks/gpu_check.py --ptx 9.0     # no GPU needed: see below

One run, in this order:

1. Correctness, on ``--check-paths`` paths (default 1e5): ``simulate_paths`` with
   ``backend="cuda"`` and ``backend="numba"``, path by path (largest difference of
   every monthly tensor and per-path outcome, relative to the path's money scale as
   in tests/test_engine.py, and how many event months differ); then ``simulate`` on
   both (quantiles equal, largest difference of means, standard deviations and
   probabilities).
2. Speed of the full model (``--paths``, default 1e7 and 1e8, 60 months), each the
   median of ``--repeats`` calls after a warm-up call that compiles, each call ending
   with a device synchronisation:
   (a) the cuda backend's ``run`` (kernel and streaming reductions, no per-path output);
   (b) ``simulate(backend="cuda")`` end to end (chunks, shift, xarray result);
   (c) RNG only: a CUDA kernel drawing exactly the model's variates and summing them;
   (d) the same model vectorised in CuPy, as a user would write it (inputs sampled
       with scipy on the CPU, the month loop on the GPU, sums and counts but no
       quantiles); skipped with a note when CuPy is not installed;
   (e) the numba CPU backend's ``run`` on all cores, at 1/10 of the smallest size.
3. ``--tune``: the cuda backend's rate for each block size (64, 128 threads)
   and register cap (compiler's choice, 168, 128) at the smallest size.

Prints tables and writes JSON (default ``benchmarks/results/gpu.json``; ``--quick``:
1e4 paths checked, sizes 1e6 and 1e7, ``gpu-quick.json``). Without a usable GPU it
says why and exits with status 2; ``--help`` needs neither a GPU nor numba-cuda.

``--ptx CC`` compiles the kernel for compute capability CC (e.g. 9.0) without a GPU,
given a CUDA toolkit's NVVM and NVRTC libraries (``CUDA_HOME``), and runs ``ptxas
-v`` on it when found: registers, spills and shared memory per block. It finds what
the simulator cannot (code numba-cuda cannot compile for a device).
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The CPU baseline of (d) sits beside this file; the package comes from PYTHONPATH.
sys.path.insert(0, str(HERE))

SEED = 1
RESULTS = HERE / "results"
#: Per-path agreement required of the check (tests/test_engine.py's RTOL).
RTOL = 1e-9
#: numba.cuda once a kernel is built (imported late: --help needs no numba-cuda).
cuda = None


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Check the cuda backend against the CPU and time it beside its baselines.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--quick", action="store_true", help="small sizes (1e4 checked; 1e6, 1e7)")
    p.add_argument("--scenario", default="self-hosted", help="preset name (default self-hosted)")
    p.add_argument("--repeats", type=int, default=5, help="timed calls per variant (median)")
    p.add_argument("--check-paths", type=int, help="paths compared with the CPU (1e5)")
    p.add_argument("--paths", type=float, nargs="+", help="sizes timed (1e7 1e8)")
    p.add_argument("--tune", action="store_true", help="also sweep block size and registers")
    p.add_argument("--json", help="output file (benchmarks/results/gpu[-quick].json)")
    p.add_argument(
        "--ptx", metavar="CC", help="only compile the kernel for compute capability CC (no GPU)"
    )
    return p.parse_args(argv)


# ------------------------------------------------------------------------------------------
# Machine
# ------------------------------------------------------------------------------------------


def gpu_info() -> dict:
    from numba import cuda

    device = cuda.get_current_device()
    free, total = cuda.current_context().get_memory_info()
    info = {
        "gpu": device.name.decode() if isinstance(device.name, bytes) else str(device.name),
        "compute_capability": ".".join(map(str, device.compute_capability)),
        "multiprocessors": device.MULTIPROCESSOR_COUNT,
        "memory_gib": round(total / 2**30, 1),
        "free_memory_gib": round(free / 2**30, 1),
    }
    try:
        from importlib.metadata import version

        info["numba_cuda"] = version("numba-cuda")
    except Exception:  # noqa: BLE001 - informational only
        pass
    try:
        info["driver_version"] = ".".join(map(str, cuda.cudadrv.driver.driver.get_version()))
    except Exception:  # noqa: BLE001
        pass
    return info


def synchronize():
    from numba import cuda

    cuda.synchronize()


# ------------------------------------------------------------------------------------------
# 1. Correctness against the CPU backend
# ------------------------------------------------------------------------------------------

MONEY = ("operating_profit", "cash_flow", "cash")
POSITIVE = ("users", "revenue", "inference_cost", "gpus", "cost_per_mtok")
MONEY_PER_PATH = ("npv", "cumulative_operating_profit", "terminal_cash", "min_cash")


def _relative(got, want, floor):
    import numpy as np

    diff = np.abs(np.asarray(got, dtype=np.float64) - want)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(diff == 0, 0.0, diff / floor)
    return float(np.nanmax(rel)) if rel.size else 0.0


def check_paths(scenario, n: int) -> dict:
    """Path by path: the largest relative difference of every output, and event months."""
    import numpy as np

    from kernels.layout import MONTH_OUTCOMES, MONTHLY_NAMES, PATH_NAMES
    from montecarlo.engine import simulate_paths

    start = time.perf_counter()
    got = simulate_paths(scenario, n, seed=SEED, backend="cuda")
    gpu_s = time.perf_counter() - start
    start = time.perf_counter()
    want = simulate_paths(scenario, n, seed=SEED, backend="numba")
    cpu_s = time.perf_counter() - start
    flows = ("revenue", "inference_cost", "operating_profit", "cash_flow", "cash")
    scale = np.max([np.abs(want[f].values).max(axis=1) for f in flows], axis=0)
    rel = {}
    for name in MONTHLY_NAMES:
        w = want[name].values
        if name in MONEY:
            floor = np.abs(w) + scale[:, None]
        elif name in POSITIVE:
            floor = np.abs(w)
        else:  # gross margin carries the round-off of (R + CC) / R
            revenue, cost = want["revenue"].values, want["inference_cost"].values
            with np.errstate(divide="ignore", invalid="ignore"):
                floor = np.abs(w) + np.where(revenue > 0, (revenue + cost) / revenue, 0.0)
        rel[name] = _relative(got[name].values, w, floor)
    differ = {}
    for name in PATH_NAMES:
        w = want[name].values
        if name in MONTH_OUTCOMES:
            differ[name] = int((got[name].values != w).sum())
        elif name in MONEY_PER_PATH:
            rel[name] = _relative(got[name].values, w, np.abs(w) + scale)
        else:
            rel[name] = _relative(got[name].values, w, np.abs(w))
    rel["inputs"] = _relative(got["inputs"].values, want["inputs"].values, np.abs(want["inputs"]))
    worst = max(rel.values())
    return {
        "paths": n,
        "max_relative_difference": rel,
        "worst": worst,
        "event_months_differing": differ,
        "ok": worst <= RTOL and sum(differ.values()) <= max(1, n // 50),
        "seconds": {"cuda": gpu_s, "numba": cpu_s},
    }


def check_reductions(scenario, n: int) -> dict:
    """simulate on both backends: quantiles, means, standard deviations, probabilities."""
    import numpy as np

    from kernels.layout import MONTHLY_NAMES
    from montecarlo.engine import simulate

    kw = dict(seed=SEED, keep_paths=False, progress=False)
    got = simulate(scenario, n, backend="cuda", **kw)
    want = simulate(scenario, n, backend="numba", **kw)
    quantiles_equal = 0
    quantiles_total = 0
    q_rel = 0.0
    stat_rel = 0.0
    for name in MONTHLY_NAMES:
        g, w = got[name].values, want[name].values
        quantiles_equal += int((g == w).sum())
        quantiles_total += w.size
        q_rel = max(q_rel, _relative(g, w, np.abs(w)))
        spread = want[f"{name}_std"].values
        for stat in ("mean", "std"):
            w = want[f"{name}_{stat}"].values
            floor = np.maximum(np.abs(w), spread)
            stat_rel = max(stat_rel, _relative(got[f"{name}_{stat}"].values, w, floor))
    paths = {
        p: int(np.abs(np.round((got[p].values - want[p].values) * n)).max())
        for p in ("p_ruined", "p_profitable")
    }
    return {
        "paths": n,
        "quantiles_equal": f"{quantiles_equal} of {quantiles_total}",
        "quantile_max_relative_difference": q_rel,
        "mean_std_max_relative_difference": stat_rel,
        "probability_paths_differing": paths,
        "summation": got.attrs["mean_std_summation"],
    }


# ------------------------------------------------------------------------------------------
# 2. Speed
# ------------------------------------------------------------------------------------------


def rng_kernel():
    """A CUDA kernel drawing the model's variates (spec: Random streams) and summing them."""
    # A module global, not a local: numba-cuda's simulator swaps module globals only.
    global cuda
    from numba import cuda

    from kernels.cuda import twins
    from kernels.layout import N_INPUTS

    tw = twins()
    draw_block, normal, uniform = tw.draw_block, tw.normal, tw.uniform
    static_blocks = (N_INPUTS + 3) // 4

    @cuda.jit
    def rng_only(k0, k1, n_paths, horizon, out):
        i = cuda.grid(1)
        s = 0.0
        for p in range(i, n_paths, cuda.gridsize(1)):
            for b in range(static_blocks):
                w0, w1, w2, w3 = draw_block(k0, k1, p, 0, b, False)
                s += normal(w0) + normal(w1) + normal(w2) + normal(w3)
            for t in range(1, horizon + 1):
                w0, w1, w2, w3 = draw_block(k0, k1, p, t, 0, False)
                v0, v1, _, _ = draw_block(k0, k1, p, t, 1, False)
                s += normal(w0) + normal(w1) + normal(w2) + normal(w3)
                s += normal(v0) + uniform(v1)
        if i < out.size:
            out[i] = s

    return rng_only


def vectorised_model(xp, scenario, n_paths: int, *, seed: int = SEED, chunk: int = 1 << 22):
    """The model of spec v1 vectorised over paths in ``xp`` (CuPy, or numpy to check it).

    What a user would write with CuPy: the static inputs drawn with scipy on the CPU
    (as in idiomatic_numpy.py) and moved to the device, then a loop over months on
    arrays of paths with ``xp.random`` shocks; sums, sums of squares and counts per
    month. No quantiles (the engine's sketch is extra work this version skips).
    """
    import idiomatic_numpy as base
    import numpy as np

    DT, H, DAYS = base.DT, base.HOURS_PER_MONTH, base.DAYS_PER_MONTH
    T = int(scenario.horizon_months)
    cpu_rng = np.random.default_rng(seed)
    rng = xp.random.default_rng(seed + 1)
    chol = xp.asarray(base._factor(scenario.shock_correlation))
    sums = xp.zeros((9, T))
    sums2 = xp.zeros((9, T))
    profitable = xp.zeros(T, dtype=xp.int64)
    ruin_counts = xp.zeros(T + 2, dtype=xp.int64)
    seconds = {"inputs": 0.0, "months": 0.0}
    sq = math.sqrt(DT)

    def growth(rate, t):  # exp(g t dt) of a constant or of an array of paths
        return xp.exp(xp.asarray(rate) * (t * DT))

    for first in range(0, n_paths, chunk):
        n = min(chunk, n_paths - first)
        start = time.perf_counter()
        x = {
            k: xp.asarray(v) if isinstance(v, np.ndarray) else v
            for k, v in base.sample_inputs(scenario, n, cpu_rng).items()
        }
        seconds["inputs"] += time.perf_counter() - start
        start = time.perf_counter()
        ones = xp.ones(n)
        r, K = x["adoption_rate"], x["user_ceiling"]
        su, sa, sh = x["user_volatility"], x["api_volatility"], x["hardware_volatility"]
        paid_share, qf, qp = (
            x["paid_share"], x["queries_per_free_user_day"], x["queries_per_paid_user_day"]
        )  # fmt: skip
        rent = x["rent_share"]
        m = xp.log(x["utilization_mean"] / (1.0 - x["utilization_mean"])) * ones
        retire = 1.0 / (12.0 * x["gpu_life_years"])
        log_e_mean = xp.log(x["electricity_mean"] * ones)
        discount_factor = (1.0 + x["discount_rate"] * ones) ** (-1.0 / 12.0)
        cash0 = x["initial_cash"] * ones
        users = x["users_0"] * ones
        paid = paid_share * users
        tokens = ((users - paid) * qf + paid * qp) * DAYS * x["tokens_per_query_0"]
        tokens = tokens + x["api_tokens_0"]
        fleet = (1.0 - rent) * tokens / (3600.0 * x["throughput_0"]) / x["utilization_mean"] / H
        book = fleet * x["gpu_capex_0"]
        api = x["api_tokens_0"] * ones
        util_x = m
        hw = xp.ones(n)
        y = xp.log(x["electricity_price_0"] * ones)
        cash = cash0
        npv = xp.zeros(n)
        never = T + 1.0
        first_profit = xp.full(n, never)
        ruin = xp.full(n, never)
        for t in range(1, T + 1):
            z = chol @ rng.standard_normal((5, n))
            v = rng.random(n)
            users = users * xp.exp(r * DT * (1.0 - users / K) - 0.5 * su**2 * DT + su * sq * z[0])
            paid = paid_share * users
            tau = x["tokens_per_query_0"] * growth(x["tokens_per_query_growth"], t)
            consumer = ((users - paid) * qf + paid * qp) * DAYS * tau
            api = api * xp.exp((x["api_growth"] - 0.5 * sa**2) * DT + sa * sq * z[1])
            price = x["api_price_0"] * growth(-x["api_price_decline"], t)
            revenue = paid * x["subscription_price"] + api * price / 1e6
            partner = x["revenue_share"] * revenue
            throughput = x["throughput_0"] * growth(x["throughput_gain"], t)
            util_x = m + x["utilization_persistence"] * (util_x - m)
            util_x = util_x + x["utilization_volatility"] * z[2]
            util = 1.0 / (1.0 + xp.exp(-util_x))
            tokens = consumer + api
            hours = tokens / (3600.0 * throughput) / util
            gpus = hours / H
            jump = xp.where(
                v < x["generation_jump_rate"] * DT, 1.0 - x["generation_jump_size"], 1.0
            )
            hw = hw * xp.exp((x["hardware_drift"] - 0.5 * sh**2) * DT + sh * sq * z[3]) * jump
            discount = xp.where(t <= x["discount_months"] * ones, x["compute_discount"], 0.0)
            rented = rent * hours * x["gpu_rent_price_0"] * hw * (1.0 - discount)
            kept = fleet * (1.0 - retire)
            fleet = xp.maximum(kept, (1.0 - rent) * gpus)
            capex = (fleet - kept) * x["gpu_capex_0"] * hw
            depreciation = retire * book
            book = book - depreciation + capex
            y = y + x["electricity_reversion"] * DT * (log_e_mean - y)
            y = y + x["electricity_volatility"] * sq * z[4]
            energy = fleet * H * x["gpu_power_kw"] * x["pue"] * xp.exp(y)
            other = fleet * H * x["other_cost_per_gpu_hour"]
            opex = x["fixed_opex_0"] * growth(x["opex_growth"], t)
            training = x["training_spend_0"] * growth(x["training_growth"], t)
            compute = rented + depreciation + energy + other
            gross = revenue - partner - compute
            operating = gross - opex - training
            cash_flow = revenue - partner - rented - energy - other - capex - opex - training
            cash = cash + cash_flow
            safe = xp.where(revenue > 0.0, revenue, 1.0)
            margin = xp.where(
                revenue > 0.0,
                xp.maximum(gross / safe, base.GROSS_MARGIN_FLOOR),
                xp.where(gross < 0.0, base.GROSS_MARGIN_FLOOR, 0.0),
            )
            some = tokens > 0.0
            cost_per_mtok = xp.where(some, 1e6 * compute / xp.where(some, tokens, 1.0), 0.0)
            npv += cash_flow * discount_factor**t
            first_profit = xp.where((first_profit == never) & (operating > 0.0), t, first_profit)
            ruin = xp.where((ruin == never) & (cash < 0.0), t, ruin)
            outcomes = (users, revenue, compute, margin, operating, cash_flow, cash, gpus,
                        cost_per_mtok)  # fmt: skip
            for i, values in enumerate(outcomes):
                sums[i, t - 1] += values.sum()
                sums2[i, t - 1] += values @ values
            profitable[t - 1] += xp.count_nonzero(operating > 0.0)
        ruin_counts += xp.bincount(ruin.astype(xp.int64), minlength=T + 2)
        if xp is not np:
            synchronize()
        seconds["months"] += time.perf_counter() - start
    mean = sums / n_paths
    std = xp.sqrt(xp.maximum((sums2 - sums**2 / n_paths) / max(n_paths - 1, 1), 0.0))
    to_np = (lambda a: a.get()) if xp is not np else (lambda a: a)
    return {
        "mean": to_np(mean),
        "std": to_np(std),
        "p_ruined": to_np(xp.cumsum(ruin_counts[1 : T + 1])) / n_paths,
        "p_profitable": to_np(profitable) / n_paths,
        "seconds": seconds,
    }


def _median_seconds(fn, repeats: int) -> tuple[float, list[float]]:
    fn()  # warm-up: compiles, allocates, fills caches
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def _row(key: str, variant: str, paths: int, horizon: int, seconds: float, times, note="") -> dict:
    return {
        "key": key,
        "variant": variant,
        "paths": paths,
        "path_months": paths * horizon,
        "median_seconds": seconds,
        "seconds": times,
        "path_months_per_s": paths * horizon / seconds,
        "note": note,
    }


def kernel_resources(backend) -> dict:
    """Registers, local and shared memory of the compiled model kernel."""
    out = {"threads_per_block": backend.threads, "max_blocks": backend.max_blocks}
    for key, method in (
        ("registers_per_thread", "get_regs_per_thread"),
        ("local_bytes_per_thread", "get_local_mem_per_thread"),
        ("shared_bytes_per_block", "get_shared_mem_per_block"),
    ):
        try:
            out[key] = int(getattr(backend.kernel, method)())
        except Exception:  # noqa: BLE001 - not every numba-cuda version has them all
            pass
    return out


def timings(scenario, sizes: list[int], repeats: int) -> dict:
    import numpy as np
    from numba import cuda

    from montecarlo import engine
    from montecarlo.backends import cuda as gpu
    from montecarlo.backends.numba import NumbaBackend
    from montecarlo.backends.plan import Plan

    T = int(scenario.horizon_months)
    plan = Plan(scenario, SEED, False)
    shift = engine._shift("cuda", plan)
    backend = gpu.CudaBackend(plan, shift)
    rows = []
    compile_start = time.perf_counter()
    backend.run(0, 64, keep_per_path=False, keep_inputs=False, keep_monthly=False)
    compile_s = time.perf_counter() - compile_start
    resources = kernel_resources(backend)

    rng = rng_kernel()
    k0, k1 = np.uint32(SEED & 0xFFFFFFFF), np.uint32(SEED >> 32)
    device = cuda.get_current_device()
    rng_blocks = device.MULTIPROCESSOR_COUNT * 8
    rng_out = cuda.device_array(rng_blocks * 256)
    try:
        import cupy
    except ImportError:
        cupy = None

    cupy_name = "(d) CuPy vectorised model"
    for n in sizes:

        def run_model(n=n):
            backend.run(0, n, keep_per_path=False, keep_inputs=False, keep_monthly=False)

        med, times = _median_seconds(run_model, repeats)
        rows.append(_row("cuda_run", "(a) cuda backend run(): kernel + reductions", n, T, med,
                         times))  # fmt: skip

        def run_simulate(n=n):
            engine.simulate(scenario, n, seed=SEED, backend="cuda", keep_paths=False,
                            progress=False)  # fmt: skip

        med, times = _median_seconds(run_simulate, max(1, repeats // 2))
        rows.append(_row("cuda_simulate", "(b) simulate(backend='cuda'), end to end", n, T, med,
                         times, "chunks of 2^22, shift on the CPU, xarray result"))  # fmt: skip

        def run_rng(n=n):
            rng[rng_blocks, 256](k0, k1, np.int64(n), np.int64(T), rng_out)

        med, times = _median_seconds(run_rng, repeats)
        rows.append(_row("rng", "(c) RNG only: the model's variates, summed", n, T, med, times,
                         "Philox4x32-10 + AS 241 twins; no model"))  # fmt: skip

        if cupy is None:
            note = "skipped: CuPy is not installed (pip install cupy-cuda12x)"
            rows.append({"key": "cupy", "variant": cupy_name, "paths": n, "note": note})
        elif n == sizes[0]:
            extra = []

            def run_cupy(n=n, extra=extra):
                extra.append(vectorised_model(cupy, scenario, n)["seconds"])

            med, times = _median_seconds(run_cupy, max(1, repeats // 2))
            months = statistics.median(s["months"] for s in extra[1:])
            rows.append(_row("cupy", cupy_name, n, T, med, times,
                             "inputs drawn with scipy on the CPU; no quantiles"))  # fmt: skip
            rows.append(_row("cupy_months", "    (d) its month loop only", n, T, months, []))
        else:
            note = "run at the smallest size only (its inputs come from scipy)"
            rows.append({"key": "cupy", "variant": cupy_name, "paths": n, "note": note})

    n_cpu = max(64, sizes[0] // 10)
    cpu = NumbaBackend(plan, shift)
    try:
        med, times = _median_seconds(
            lambda: cpu.run(0, n_cpu, keep_per_path=False, keep_inputs=False, keep_monthly=False),
            max(1, repeats // 2),
        )
    finally:
        cpu.close()
    rows.append(_row("numba_run", f"(e) numba CPU backend run(), {cpu.workers} threads", n_cpu,
                     T, med, times))  # fmt: skip
    backend.close()
    rate = {r["key"]: r["path_months_per_s"] for r in rows if "path_months_per_s" in r}
    ratios = {}
    if "numba_run" in rate:
        ratios["cuda run / numba CPU run"] = rate["cuda_run"] / rate["numba_run"]
        ratios["cuda run / RNG only"] = rate["cuda_run"] / rate["rng"]
    if "cupy" in rate:
        ratios["cuda run / CuPy vectorised"] = rate["cuda_run"] / rate["cupy"]
    return {"rows": rows, "ratios": ratios, "compile_seconds": compile_s, "kernel": resources}


def tune(scenario, n: int, repeats: int) -> list[dict]:
    """The cuda backend's rate for each block size and register cap."""
    from montecarlo import engine
    from montecarlo.backends import cuda as gpu
    from montecarlo.backends.plan import Plan

    T = int(scenario.horizon_months)
    plan = Plan(scenario, SEED, False)
    shift = engine._shift("cuda", plan)
    rows = []
    for threads in (64, 128):  # the most shared memory allows
        for registers in (None, 168, 128):
            backend = gpu.CudaBackend(plan, shift, threads=threads, max_registers=registers)

            def run(backend=backend):
                backend.run(0, n, keep_per_path=False, keep_inputs=False, keep_monthly=False)

            med, times = _median_seconds(run, repeats)
            row = _row("tune", f"threads={threads}, max_registers={registers}", n, T, med, times)
            row.update(kernel_resources(backend), max_registers=registers)
            rows.append(row)
            backend.close()
    return rows


# ------------------------------------------------------------------------------------------
# --ptx: compile without a GPU
# ------------------------------------------------------------------------------------------


def compile_ptx(cc: str) -> int:
    """Compile the model kernel for compute capability ``cc``; ptxas -v when found."""
    os.environ["NUMBA_ENABLE_CUDASIM"] = "0"
    import types as pytypes

    import numba.cuda.dispatcher as dispatcher
    from numba import cuda
    from numba import types as nt

    from kernels.cuda_model import THREADS, path_kernel

    major, minor = (int(x) for x in cc.split("."))
    # Device functions ask the current device for its compute capability; there is none.
    dispatcher.get_current_device = lambda: pytypes.SimpleNamespace(
        compute_capability=(major, minor)
    )

    def array(dtype, ndim):
        return nt.Array(dtype, ndim, "C")

    f8, i8, b1 = nt.float64, nt.int64, nt.boolean
    signature = (
        nt.uint32, nt.uint32, i8, i8, b1, i8,
        array(i8, 1), array(f8, 2), array(f8, 1), array(i8, 1), array(f8, 2),
        array(f8, 2), array(f8, 2),
        array(f8, 2), array(b1, 1), b1, array(f8, 2), array(f8, 2), array(b1, 1), b1,
        array(i8, 3), array(i8, 4), array(i8, 1), array(i8, 1),
        b1, array(f8, 2), b1, array(f8, 2), b1, array(f8, 3),
    )  # fmt: skip
    start = time.perf_counter()
    ptx, _ = cuda.compile_ptx(path_kernel(THREADS).py_func, signature, cc=(major, minor))
    print(f"compiled for sm_{major}{minor} in {time.perf_counter() - start:.1f} s: "
          f"{ptx.count(chr(10))} lines of PTX")  # fmt: skip
    ptxas = shutil.which("ptxas") or os.path.join(os.environ.get("CUDA_HOME", ""), "bin", "ptxas")
    if not os.path.exists(ptxas):
        print("ptxas not found (set CUDA_HOME): no register count")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.ptx")
        with open(path, "w") as fh:
            fh.write(ptx)
        out = subprocess.run(
            [ptxas, f"-arch=sm_{major}{minor}", "-v", path, "-o", os.devnull],
            capture_output=True,
            text=True,
        )
    spills = ""
    for line in (out.stdout + out.stderr).splitlines():  # the kernel's lines come first
        if "spill" in line:
            spills = line.strip()
        elif "registers" in line:
            print(f"{line.strip()}; {spills}")
            break
    return out.returncode


# ------------------------------------------------------------------------------------------
# Report
# ------------------------------------------------------------------------------------------


def format_rows(rows: list[dict]) -> str:
    header = f"{'variant':52s} {'paths':>8s} {'G path-months/s':>16s} {'median s':>9s}  note"
    lines = [header, "-" * len(header)]
    for r in rows:
        rate = r.get("path_months_per_s")
        rate_s = f"{rate / 1e9:16.2f}" if rate else f"{'-':>16s}"
        sec = f"{r['median_seconds']:9.3f}" if "median_seconds" in r else f"{'-':>9s}"
        lines.append(f"{r['variant']:52s} {r['paths']:8.0e} {rate_s} {sec}  {r.get('note', '')}")
    return "\n".join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.ptx:
        return compile_ptx(args.ptx)

    from montecarlo.backends import cuda as gpu

    if not gpu.available():
        reason = "numba-cuda's simulator is on" if gpu._simulating() else None
        if reason is None:
            try:
                gpu._kernels()
                reason = gpu._gpu_problem() or "unknown"
            except Exception as err:  # noqa: BLE001 - numba-cuda missing: say so
                reason = str(err)
        print(f"gpu_check: no usable GPU here ({reason}); run it on a machine with an "
              f"NVIDIA GPU and numba-cuda ({gpu.INSTALL_HINT})", file=sys.stderr)  # fmt: skip
        return 2

    from montecarlo.bench import machine_info, write_json
    from montecarlo.scenario import Scenario

    scenario = Scenario.preset(args.scenario).replace(horizon_months=60)
    check_n = args.check_paths or (10_000 if args.quick else 100_000)
    sizes = [int(x) for x in (args.paths or ([1e6, 1e7] if args.quick else [1e7, 1e8]))]
    result = {
        "benchmark": "gpu",
        "scenario": args.scenario,
        "horizon_months": 60,
        "machine": {**machine_info(), **gpu_info()},
    }
    m = result["machine"]
    print(
        f"GPU: {m['gpu']} (sm {m['compute_capability']}, {m['multiprocessors']} SMs); "
        f"scenario {args.scenario}, 60 months"
    )

    paths = check_paths(scenario, check_n)
    result["check_paths"] = paths
    print(f"\n1. path by path, {check_n} paths: worst relative difference {paths['worst']:.2e} "
          f"(limit {RTOL:g}); event months differing {paths['event_months_differing']} -> "
          f"{'ok' if paths['ok'] else 'FAILED'}")  # fmt: skip
    for name, value in paths["max_relative_difference"].items():
        print(f"   {name:30s} {value:.2e}")
    red = check_reductions(scenario, check_n)
    result["check_reductions"] = red
    print(f"   simulate(): quantiles equal {red['quantiles_equal']} (max rel diff "
          f"{red['quantile_max_relative_difference']:.2e}); means/stds max rel diff "
          f"{red['mean_std_max_relative_difference']:.2e}; probabilities differ by "
          f"{red['probability_paths_differing']} paths")  # fmt: skip

    speed = timings(scenario, sizes, args.repeats)
    result["speed"] = speed
    print(f"\n2. speed (median of {args.repeats}; kernel compiled in "
          f"{speed['compile_seconds']:.1f} s; {speed['kernel']})")  # fmt: skip
    print(format_rows(speed["rows"]))
    for name, value in speed["ratios"].items():
        print(f"   {name}: {value:.1f}x")

    if args.tune:
        rows = tune(scenario, sizes[0], args.repeats)
        result["tune"] = rows
        print("\n3. launch shape and register cap")
        print(format_rows(rows))

    out = args.json or RESULTS / ("gpu-quick.json" if args.quick else "gpu.json")
    write_json(result, out)
    print(f"\nwrote {out}")
    return 0 if paths["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
