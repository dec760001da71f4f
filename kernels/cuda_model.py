"""The CUDA driver of the model: one thread per path, the building blocks of :mod:`kernels.model`.

The equations are not here. Each thread calls the CUDA twins (:func:`kernels.cuda.twins`)
of the very functions the CPU lane kernel :func:`kernels.model.run_paths` calls, with
their tuples in registers: ``sample_static_inputs_into`` (the static inputs),
``path_constants`` (again in each month a stress changes), ``initial_state``,
``draw_shocks``, ``month_step``, ``track`` and ``finish``; the reductions use the twins
of ``bucket``, ``group_sum`` and ``exact_add``.

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
  (aligned as in the CPU kernel) adds its :func:`kernels.model.group_sum` into
  the exact accumulator of :func:`kernels.sketch.exact_add`, staged in shared
  memory and flushed into ``sums`` with integer atomics. It is the CPU kernel's
  summation exactly, so equal values give bit-for-bit equal sums. A window takes
  one integer below 2**33 per group, so a caller launching more than 2**30 groups
  in all carries the windows between launches (``montecarlo.backends.cuda`` does after each);
- ``profitable[t]`` from ``syncthreads_count``, one atomic per block and month;
- ``ruin_counts[m]``, one count per path, aggregated over runs of equal months.

Per-path outcomes, inputs and monthly tensors are written (row = path - first_path)
only when their ``keep_*`` flag is set.
"""

from functools import cache

from numba import cuda, float64, int32, int64

from .cuda import twins
from .layout import MONTHLY_NAMES, N_INPUTS, N_MONTHLY, PATH_NAMES
from .model import LANES, UNSTRESSED, XS, X
from .sketch import ACCUMULATOR_WINDOWS

#: One thread's inputs as rows of a single column: the sampled inputs from row X, the
#: month's stressed inputs from row XS (the CPU work array's layout, so the same row
#: helpers read both). CUDA sizes local arrays at compile time, so this is a module
#: constant rather than an expression in the kernel.
INPUT_SHAPE = (1, 2 * XS, 1)
#: A month's outcomes as rows of one column, and one chain's terms of a group.
OUTCOME_SHAPE = (1, N_MONTHLY, 1)
TERMS_SHAPE = (1, LANES)
#: Threads per block unless the caller says otherwise: one group of LANES paths. Small
#: blocks keep the serial part of a month's reduction (LANES additions) short and the
#: shared memory of a block (about 17 KB per group) small; 2 * LANES is the most.
THREADS = LANES
#: Exact accumulators staged per group: the sums of d and of d**2 of each outcome.
_CHAINS = 2 * N_MONTHLY
_OPERATING_PROFIT = MONTHLY_NAMES.index("operating_profit")
_REVENUE = MONTHLY_NAMES.index("revenue")
_RUIN_MONTH = PATH_NAMES.index("ruin_month")
_HALF = N_INPUTS // 2
#: Marks a thread without a path in a tile (the last tile of a launch may be partial).
_NONE = -1
#: Static shared memory of a block, per group of LANES threads: the month's values and
#: buckets, the staged accumulators and the ruin months (20,672 bytes).
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
    kernel but without its per-worker copies: ``sketch`` is int64 (11, T, N_BUCKETS),
    ``sums`` int64 (2, 11, T, ACCUMULATOR_WINDOWS), ``profitable`` int64 (T,) and
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
    sample_static_inputs_into = tw.sample_static_inputs_into
    load_inputs = getattr(tw, f"load{_HALF}")
    store_outcomes = getattr(tw, f"store{N_MONTHLY}")
    path_constants = tw.path_constants
    initial_state = tw.initial_state
    stress_levels = tw.stress_levels
    cholesky_rows = tw.cholesky_rows
    draw_shocks = tw.draw_shocks
    month_step = tw.month_step
    track = tw.track
    finish = tw.finish
    store_path = tw.store_path
    group_sum = tw.group_sum
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
        x = cuda.local.array(INPUT_SHAPE, float64)
        x_path = cuda.local.array(N_INPUTS, float64)
        out = cuda.local.array(OUTCOME_SHAPE, float64)
        terms = cuda.local.array(TERMS_SHAPE, float64)
        part = cuda.local.array(8, float64)
        values = cuda.shared.array(month_shape, float64)
        buckets = cuda.shared.array(month_shape, int32)
        staging = cuda.shared.array(staging_shape, int64)
        months = cuda.shared.array(threads, int32)
        for i in range(tid, staged, threads):
            staging[i // ACCUMULATOR_WINDOWS, i % ACCUMULATOR_WINDOWS] = 0
        chol_rows = cholesky_rows(shock_chol)
        cuda.syncthreads()

        for start in range(cuda.blockIdx.x * threads, n_paths, cuda.gridDim.x * threads):
            row = start + tid
            active = row < n_paths
            # A thread past the end computes a path it never reports, so that every
            # thread reaches the block's barriers with its registers defined.
            sample_static_inputs_into(
                k0, k1, first_path + row, antithetic, kinds, params, data, corr_index, chol,
                x_path,
            )  # fmt: skip
            if active and any_given:
                for i in range(N_INPUTS):
                    if given_mask[i]:
                        x_path[i] = given[row, i]
            for i in range(N_INPUTS):
                x[0, X + i, 0] = x_path[i]
                if active and keep_inputs:
                    inputs_out[row, i] = x_path[i]
            a = load_inputs(x, 0, X, 0)
            b = load_inputs(x, 0, X + _HALF, 0)
            demand, supply, company, finance = path_constants(a, b, UNSTRESSED)
            state, trackers = initial_state(a, b, supply)
            # Paths of this tile in the thread's group: the chain's summation range.
            lanes = min(LANES, n_paths - start - group * LANES)

            for t in range(1, horizon + 1):
                if stress_change[t]:
                    for i in range(N_INPUTS):
                        x[0, XS + i, 0] = x[0, X + i, 0] * stress_mul[t, i] + stress_add[t, i]
                    demand, supply, company, finance = path_constants(
                        load_inputs(x, 0, XS, 0), load_inputs(x, 0, XS + _HALF, 0),
                        stress_levels(stress_mul, t),
                    )  # fmt: skip
                shocks = draw_shocks(k0, k1, first_path + row, t, antithetic, chol_rows)
                state, outcomes = month_step(t, demand, supply, company, finance, state, shocks)
                trackers = track(t, company, trackers, outcomes)
                store_outcomes(out, 0, 0, 0, outcomes)
                if active:
                    for v in range(N_MONTHLY):
                        value = out[0, v, 0]
                        values[v, tid] = value
                        buckets[v, tid] = bucket(value)
                        if keep_monthly:
                            monthly[row, v, t - 1] = value
                    profit = 1 if out[0, _OPERATING_PROFIT, 0] > 0.0 else 0
                else:
                    for v in range(N_MONTHLY):
                        buckets[v, tid] = _NONE
                    profit = 0
                n_profitable = cuda.syncthreads_count(profit)
                if tid == 0 and n_profitable > 0:
                    cuda.atomic.add(profitable, t - 1, n_profitable)
                # Sketch: the first thread of each run of equal buckets adds the run.
                for v in range(N_MONTHLY):
                    bk = buckets[v, tid]
                    if bk != _NONE and (tid == 0 or buckets[v, tid - 1] != bk):
                        k = 1
                        while tid + k < threads and buckets[v, tid + k] == bk:
                            k += 1
                        cuda.atomic.add(sketch, (v, t - 1, bk), k)
                # Sums: as the CPU kernel, the group's deviations (zero past its last
                # path) summed in group_sum's fixed order, once.
                if chain < _CHAINS and lanes > 0:
                    v = chain % N_MONTHLY
                    c = shift[v, t - 1]
                    first = group * LANES
                    for lane in range(LANES):
                        d = values[v, first + lane] - c if lane < lanes else 0.0
                        terms[0, lane] = d if chain < N_MONTHLY else d * d
                    exact_add(staging[group * _CHAINS + chain], group_sum(terms, 0, part))
                cuda.syncthreads()
                # Flush the staged windows (the values and buckets are free again).
                for i in range(tid, staged, threads):
                    r = i // ACCUMULATOR_WINDOWS
                    j = i - r * ACCUMULATOR_WINDOWS
                    staged_part = staging[r, j]
                    if staged_part != 0:
                        q = r % _CHAINS
                        cuda.atomic.add(
                            sums, (q // N_MONTHLY, q % N_MONTHLY, t - 1, j), staged_part
                        )
                        staging[r, j] = 0

            if active:
                result = finish(float64(horizon), company, state, out[0, _REVENUE, 0], trackers)
                months[tid] = int32(result[_RUIN_MONTH])
                if keep_per_path:
                    store_path(per_path, row, result)
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
