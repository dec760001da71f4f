"""The CUDA driver of the model: one thread per path, the building blocks of :mod:`kernels.model`.

The equations are not here. Each thread calls the CUDA twins (:func:`kernels.cuda.twins`)
of the very functions the CPU kernel :func:`kernels.model.run_paths` calls, on one
column (``lane = 0``) of its own work array: ``start_path`` (static inputs and month 0),
``apply_stress``, ``draw_shocks``, ``month_step``, ``track_outcomes``
and ``finish_path``; the reductions use the twins of ``bucket`` and ``exact_add``.

Layout of a launch
    Threads go in blocks of ``threads`` (a multiple of :data:`LANES`); block b takes
    paths ``b * threads .. b * threads + threads - 1`` of the launch, then the same
    tile ``gridDim * threads`` further on (a grid-stride loop), so any grid covers any
    number of paths. All threads of a block advance their paths month by month in
    step, so each month's outcomes of the block meet in shared memory.

Reductions, every one a sum of integers (so, as on the CPU, totals do not depend on
the grid, the block size or how a run is split into launches or chunks):

- sketch counts ``sketch[v, t, b]``: consecutive threads whose values fall in one
  bucket add their count with a single atomic, which keeps the early months (when
  every path is still near its start) from serialising on a handful of counters;
- the sums of d = x - shift[v, t] and d**2: each group of LANES consecutive paths
  (aligned as in the CPU kernel) adds its partial sums, taken in path order, into
  the exact accumulator of :func:`kernels.sketch.exact_add`, staged in shared
  memory and flushed into ``sums`` with integer atomics. It is the CPU kernel's
  summation exactly, so equal values give bit-for-bit equal sums. A window takes
  one integer below 2**33 per group, so a caller launching more than 2**30 groups
  in all carries the windows between launches (``montecarlo.gpu`` does after each);
- ``profitable[t]`` from ``syncthreads_count``, one atomic per block and month;
- ``ruin_counts[m]``, one count per path, aggregated over runs of equal months.

Per-path outcomes, inputs and monthly tensors are written (row = path - first_path)
only when their ``keep_*`` flag is set.
"""

from functools import cache

from numba import cuda, float64, int32, int64

from .cuda import twins
from .layout import MONTHLY_NAMES, N_INPUTS, N_MONTHLY, N_PATH, PATH_NAMES
from .model import LANES, N_ROWS, OUT
from .sketch import ACCUMULATOR_WINDOWS

#: One thread's work array: the model's rows and, for a stressed run, the sampled
#: inputs from row BASE; a single column (lane 0). CUDA sizes local arrays at compile
#: time, so this is a module constant rather than an expression in the kernel.
WORK_SHAPE = (N_ROWS + N_INPUTS, 1)
#: Threads per block unless the caller says otherwise: one group of LANES paths. Small
#: blocks keep the serial part of a month's reduction (LANES additions) short and the
#: shared memory of a block (about 17 KB per group) small; 2 * LANES is the most.
THREADS = LANES
#: Exact accumulators staged per group: the sums of d and of d**2 of each outcome.
_CHAINS = 2 * N_MONTHLY
_OPERATING_PROFIT = OUT + MONTHLY_NAMES.index("operating_profit")
_RUIN_MONTH = PATH_NAMES.index("ruin_month")
#: Marks a thread without a path in a tile (the last tile of a launch may be partial).
_NONE = -1
#: Static shared memory of a block, per group of LANES threads: the month's values and
#: buckets, the staged accumulators and the ruin months (16,960 bytes).
SHARED_BYTES_PER_GROUP = LANES * N_MONTHLY * (8 + 4) + 8 * _CHAINS * ACCUMULATOR_WINDOWS + 4 * LANES
#: CUDA's limit on the static shared memory of a block: 48 KB, so at most two groups.
SHARED_BYTES_LIMIT = 48 * 1024


@cache
def path_kernel(threads: int = THREADS, max_registers: int | None = None):
    """The CUDA kernel simulating and reducing paths with ``threads`` threads per block.

    Launch it as ``kernel[blocks, threads](...)`` with the arguments of
    :func:`kernels.model.run_paths` plus two flags the CPU kernel works out itself,
    ``any_given`` (some ``given_mask[i]`` is set) and ``stressed`` (some
    ``stress_change[t]`` is set), in this order::

        k0, k1, first_path, n_paths, antithetic, horizon,
        kinds, params, data, corr_index, chol, shock_chol, shift,
        given, given_mask, any_given, stress_mul, stress_add, stress_change, stressed,
        sketch, sums, profitable, ruin_counts,
        keep_per_path, per_path, keep_inputs, inputs_out, keep_monthly, monthly

    ``first_path`` must be a multiple of LANES. The reductions are those of the CPU
    kernel but without its per-worker copies: ``sketch`` is int64 (9, T, N_BUCKETS),
    ``sums`` int64 (2, 9, T, ACCUMULATOR_WINDOWS), ``profitable`` int64 (T,) and
    ``ruin_counts`` int64 (T + 2,), all added to atomically.

    ``max_registers`` caps the registers of a thread (the compiler's choice otherwise,
    which for this kernel is all 255 that sm_90 allows, so 256 threads share an SM):
    fewer registers let more threads in at the price of spills to local memory;
    ``benchmarks/gpu_check.py --tune`` measures the trade.
    """
    if threads < LANES or threads % LANES:
        raise ValueError(f"threads per block must be a multiple of {LANES}, got {threads}")
    if threads // LANES * SHARED_BYTES_PER_GROUP > SHARED_BYTES_LIMIT:
        most = SHARED_BYTES_LIMIT // SHARED_BYTES_PER_GROUP * LANES
        raise ValueError(
            f"threads per block must be at most {most}: each {LANES} take "
            f"{SHARED_BYTES_PER_GROUP} bytes of the block's {SHARED_BYTES_LIMIT} of shared memory, "
            f"got {threads}"
        )
    tw = twins()
    start_path = tw.start_path
    apply_stress = tw.apply_stress
    draw_shocks = tw.draw_shocks
    month_step = tw.month_step
    track_outcomes = tw.track_outcomes
    finish_path = tw.finish_path
    bucket = tw.bucket
    exact_add = tw.exact_add
    groups = threads // LANES
    # Shared arrays, sized at compile time (closure constants).
    month_shape = (N_MONTHLY, threads)
    staging_shape = (groups * _CHAINS, ACCUMULATOR_WINDOWS)
    staged = groups * _CHAINS * ACCUMULATOR_WINDOWS

    options = {} if max_registers is None else {"max_registers": int(max_registers)}

    @cuda.jit(**options)
    def run_paths(
        k0, k1, first_path, n_paths, antithetic, horizon,
        kinds, params, data, corr_index, chol, shock_chol, shift,
        given, given_mask, any_given, stress_mul, stress_add, stress_change, stressed,
        sketch, sums, profitable, ruin_counts,
        keep_per_path, per_path, keep_inputs, inputs_out, keep_monthly, monthly,
    ):  # fmt: skip
        tid = cuda.threadIdx.x
        group = tid // LANES
        chain = tid - group * LANES  # < _CHAINS: this thread sums one chain of its group
        w = cuda.local.array(WORK_SHAPE, float64)
        x_path = cuda.local.array(N_INPUTS, float64)
        result = cuda.local.array(N_PATH, float64)
        values = cuda.shared.array(month_shape, float64)
        buckets = cuda.shared.array(month_shape, int32)
        staging = cuda.shared.array(staging_shape, int64)
        months = cuda.shared.array(threads, int32)
        for i in range(tid, staged, threads):
            staging[i // ACCUMULATOR_WINDOWS, i % ACCUMULATOR_WINDOWS] = 0
        cuda.syncthreads()

        for start in range(cuda.blockIdx.x * threads, n_paths, cuda.gridDim.x * threads):
            row = start + tid
            active = row < n_paths
            if active:
                start_path(
                    k0, k1, first_path, row, antithetic, kinds, params, data, corr_index, chol,
                    given, given_mask, any_given, stressed, keep_inputs, inputs_out, x_path,
                    w, 0,
                )  # fmt: skip
            # Paths of this tile in the thread's group: the chain's summation range.
            lanes = min(LANES, n_paths - start - group * LANES)

            for t in range(1, horizon + 1):
                if active:
                    if stress_change[t]:
                        apply_stress(t, stress_mul, stress_add, w, 0)
                    draw_shocks(k0, k1, first_path + row, t, antithetic, shock_chol, w, 0)
                    month_step(t, w, 0)
                    track_outcomes(t, w, 0)
                    for v in range(N_MONTHLY):
                        x = w[OUT + v, 0]
                        values[v, tid] = x
                        buckets[v, tid] = bucket(x)
                        if keep_monthly:
                            monthly[row, v, t - 1] = x
                    profit = 1 if w[_OPERATING_PROFIT, 0] > 0.0 else 0
                else:
                    for v in range(N_MONTHLY):
                        buckets[v, tid] = _NONE
                    profit = 0
                n_profitable = cuda.syncthreads_count(profit)
                if tid == 0 and n_profitable > 0:
                    cuda.atomic.add(profitable, t - 1, n_profitable)
                # Sketch: the first thread of each run of equal buckets adds the run.
                for v in range(N_MONTHLY):
                    b = buckets[v, tid]
                    if b != _NONE and (tid == 0 or buckets[v, tid - 1] != b):
                        k = 1
                        while tid + k < threads and buckets[v, tid + k] == b:
                            k += 1
                        cuda.atomic.add(sketch, (v, t - 1, b), k)
                # Sums: as the CPU kernel, the group's partial sums in path order, once.
                if chain < _CHAINS and lanes > 0:
                    v = chain % N_MONTHLY
                    c = shift[v, t - 1]
                    first = group * LANES
                    s = 0.0
                    if chain < N_MONTHLY:
                        for lane in range(lanes):
                            s += values[v, first + lane] - c
                    else:
                        for lane in range(lanes):
                            d = values[v, first + lane] - c
                            s += d * d
                    exact_add(staging[group * _CHAINS + chain], s)
                cuda.syncthreads()
                # Flush the staged windows (the values and buckets are free again).
                for i in range(tid, staged, threads):
                    r = i // ACCUMULATOR_WINDOWS
                    j = i - r * ACCUMULATOR_WINDOWS
                    part = staging[r, j]
                    if part != 0:
                        q = r % _CHAINS
                        cuda.atomic.add(sums, (q // N_MONTHLY, q % N_MONTHLY, t - 1, j), part)
                        staging[r, j] = 0

            if active:
                finish_path(horizon, w, result, 0)
                months[tid] = int32(result[_RUIN_MONTH])
                if keep_per_path:
                    for j in range(N_PATH):
                        per_path[row, j] = result[j]
            else:
                months[tid] = _NONE
            cuda.syncthreads()
            m = months[tid]
            if m != _NONE and (tid == 0 or months[tid - 1] != m):
                k = 1
                while tid + k < threads and months[tid + k] == m:
                    k += 1
                cuda.atomic.add(ruin_counts, m, k)
            cuda.syncthreads()

    return run_paths
