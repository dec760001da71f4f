"""The simulation engine: the public entry points, chunks, precision targets, progress.

A run is validated once into a :class:`~montecarlo.backends.plan.Plan` and split into
chunks of paths. A backend (:mod:`montecarlo.backends`) reduces each chunk into the
same mergeable reductions (sketch counts, sums, event counts), so memory is bounded by
the chunk and the per-path outputs kept, not by the number of paths, and the results
of a run do not depend on the chunk size or the thread count. The engine turns the
reductions into the Dataset (:mod:`montecarlo.results`) with the run's provenance.
"""

from __future__ import annotations

import math
import sys
import time
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

from kernels import model, sketch
from kernels.layout import INPUT_NAMES, MONTHLY_NAMES, N_INPUTS, N_MONTHLY, N_PATH, PATH_NAMES
from kernels.rng import check_seed

from . import __version__, budget
from .backends import BACKENDS as BACKENDS  # re-exported: the CLI offers these
from .backends import backend_class, resolve
from .backends.plan import Plan
from .backends.plan import SimulationError as SimulationError  # re-exported: callers catch it
from .results import DEFAULT_QUANTILES, INPUTS_ATTRS, MONTHLY_META, build_dataset, per_path_vars
from .scenario import FIELDS

#: Paths per chunk when the caller does not say (numba backend; the numpy
#: reference keeps whole (paths, 9, months) tensors, so it takes smaller ones).
DEFAULT_CHUNK_PATHS = {"numba": 1 << 18, "numpy": 1 << 13, "cuda": 1 << 22, "dask": 1 << 20}
#: Per-path outcomes and uncertain inputs are kept by default while they fit this.
PATH_MEMORY_BUDGET = 512 * 2**20
#: simulate_paths refuses to build a (path, month) tensor larger than this.
PATHS_TENSOR_LIMIT = 2 * 2**30


def _as_scenario(scenario):
    from .scenario import Scenario

    if isinstance(scenario, Scenario):
        return scenario
    if isinstance(scenario, str):
        return Scenario.preset(scenario)
    raise SimulationError(
        f"scenario must be a montecarlo.Scenario or a preset name, got {type(scenario).__name__}"
    )


def _positive_int(name: str, value, *, high: int = 2**62) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise SimulationError(f"{name} must be a positive integer, got {value!r}")
    if not 1 <= int(value) <= high:
        raise SimulationError(f"{name} must be an integer in [1, {high}], got {value}")
    return int(value)


def _check_bool(name: str, value) -> None:
    if not isinstance(value, (bool, np.bool_)):
        raise SimulationError(f"{name} must be True or False, got {value!r}")


def _check_quantiles(quantiles) -> np.ndarray:
    try:
        q = np.asarray(quantiles, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise SimulationError(f"quantiles must be numbers in [0, 1], got {quantiles!r}") from None
    if q.size == 0 or not np.all((q >= 0) & (q <= 1)):
        raise SimulationError(f"quantiles must be numbers in [0, 1], got {quantiles!r}")
    if np.any(np.diff(q) <= 0):
        raise SimulationError(f"quantiles must be strictly increasing, got {quantiles!r}")
    return q


def _backend(name: str, plan: Plan, shift: np.ndarray, options: Mapping[str, Any] | None = None):
    return backend_class(name)(plan, shift, **(options or {}))


def _shift(backend_name: str, plan: Plan) -> np.ndarray:
    """Path 0's monthly outcomes: the shift that keeps variance sums well conditioned.

    Every backend uses the CPU kernel's path 0, so all of them share one shift and
    their exact sums agree bit for bit."""
    cpu = "numpy" if backend_name == "numpy" else "numba"
    probe = _backend(cpu, plan, np.zeros((N_MONTHLY, plan.horizon)))
    try:
        _, _, monthly = probe.run(0, 1, keep_per_path=False, keep_inputs=False, keep_monthly=True)
    finally:
        probe.close()
    return np.ascontiguousarray(monthly[0])


def _progress_bar(enabled, total: int, desc: str):
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="path", unit_scale=True, leave=False)


def _provenance(plan: Plan, backend: str, n_paths: int, chunk: int, extra: dict) -> dict:
    return {
        "title": f"montecarlo simulation of scenario '{plan.scenario.name}'",
        "montecarlo_version": __version__,
        "backend": backend,
        "seed": str(plan.seed),
        "n_paths": n_paths,
        "antithetic": int(plan.antithetic),
        "horizon_months": plan.horizon,
        "chunk_paths": chunk,
        "rng": "philox4x32-10; counter (path lo, path hi, step, block); AS 241 normals",
        "model_spec": "v2",
        "scenario_name": plan.scenario.name,
        "scenario": plan.scenario.to_toml(),
        "static_inputs": plan.static_inputs,
        "stresses": "; ".join(st.describe() for st in plan.scenario.stresses) or "none",
        **extra,
    }


def simulate(
    scenario,
    n_paths: int,
    *,
    seed: int = 0,
    backend: str = "numba",
    chunk_paths: int | None = None,
    quantiles=DEFAULT_QUANTILES,
    keep_paths: bool | None = None,
    progress: bool | None = None,
    antithetic: bool = False,
    precision: Mapping[str, Any] | None = None,
    max_paths: int | None = None,
    qmc: bool = False,
    inputs=None,
    client=None,
) -> xr.Dataset:
    """Simulate ``n_paths`` paths of a scenario and return the distribution of outcomes.

    Parameters
    ----------
    scenario : Scenario or str
        The scenario, or the name of a preset (``montecarlo.presets()``).
    n_paths : int
        Number of paths; path p uses counter p of the random streams.
    seed : int
        64-bit seed in [0, 2**64 - 1]; 0 is a valid seed.
    backend : {"numba", "numpy", "cuda", "dask", "auto"}
        ``numba``: the compiled kernel on all numba threads. ``numpy``: the
        independent vectorised reference (slow; for checking). ``cuda``: the
        same model on an NVIDIA GPU (the ``gpu`` extra; docs/gpu.md). ``dask``:
        chunks as tasks on a dask.distributed cluster (the ``distributed``
        extra; docs/dask.md). ``auto``: ``cuda`` where a usable GPU is present,
        else ``numba``; the attrs say which ran.
    chunk_paths : int, optional
        Paths per chunk (memory and progress granularity), rounded up to a
        multiple of 64. Results do not depend on it.
    quantiles : sequence of float
        Quantile levels of the per-month distributions.
    keep_paths : bool, optional
        Keep per-path outcomes and sampled inputs (dims ``path``, ``input``).
        By default they are kept while they fit in 512 MiB.
    progress : bool, optional
        Show a progress bar (default: when standard error is a terminal).
    antithetic : bool
        Pair paths 2k and 2k + 1 with negated normals (see docs/random-inputs.md).
    precision : mapping, optional
        Targets for standard errors at the horizon, by metric: ``p_ruined``,
        ``p_profitable``, ``<outcome>_mean`` for a monthly outcome, or
        ``npv_mean`` (needs per-path outcomes kept). A number is an absolute
        standard error; ``{"relative": r}`` asks for r times the estimate's
        magnitude. After ``n_paths`` paths (rounded up to a multiple of 64),
        paths are added, as many as the standard errors so far say the
        targets need (at most a chunk at a time), until every target is met or
        ``max_paths`` is reached; the Dataset records the trace
        (``convergence_*`` on ``metric`` and ``step``).
    max_paths : int, optional
        Most paths a run with ``precision`` may use (default ``n_paths``).
    qmc : bool
        Randomised quasi-Monte Carlo for the static inputs: path p takes point p of
        a scrambled Sobol sequence (seeded by ``seed``) instead of its Philox
        draws; monthly shocks stay Philox. Best with ``n_paths`` a power of two.
        Standard errors are still computed as for independent paths, which
        overstates the error of a quasi-Monte Carlo estimate (docs/risk.md).
    client : dask.distributed.Client or str, optional
        With ``backend="dask"``: the client, or a scheduler address to join;
        None starts a local cluster on loopback.
    inputs : xarray.DataArray, xarray.Dataset, pandas.DataFrame, mapping or array, optional
        Static inputs to use instead of drawing them: row p belongs to path p. A
        DataArray on (``path``, ``input``) (for example another run's ``inputs``),
        a Dataset holding one, a DataFrame or mapping of input name to values, or
        an array whose columns are the scenario's uncertain inputs (or all 56) in
        specification order. Inputs not given are drawn as usual (without
        correlation to the given ones). Rows must number at least the paths run.

    Returns
    -------
    xarray.Dataset
        Per-month distributions on (``quantile``, ``month``) with their
        ``_mean`` and ``_std`` on ``month``, ``p_profitable`` and ``p_ruined``;
        per-path outcomes and ``inputs`` on ``path`` when kept; units in
        every variable's attrs and the run's provenance in the Dataset's attrs.
    """
    scenario = _as_scenario(scenario)
    n_paths = _positive_int("n_paths", n_paths)
    seed = check_seed(seed)
    q = _check_quantiles(quantiles)
    requested = backend
    backend = resolve(backend)
    if client is not None and backend != "dask":
        raise SimulationError(f"client is for backend='dask', not backend={backend!r}")
    options = {"client": client} if backend == "dask" else {}
    if chunk_paths is None:
        chunk = DEFAULT_CHUNK_PATHS[backend]
    else:
        chunk = _positive_int("chunk_paths", chunk_paths)
    chunk = -(-chunk // model.LANES) * model.LANES
    if keep_paths not in (None, True, False):
        raise SimulationError(f"keep_paths must be True, False or None, got {keep_paths!r}")
    _check_bool("antithetic", antithetic)
    _check_bool("qmc", qmc)
    limit = n_paths if max_paths is None else _positive_int("max_paths", max_paths)
    if limit < n_paths:
        raise SimulationError(f"max_paths must be at least n_paths ({n_paths}), got {limit}")
    budget.check_simulate(limit, scenario.horizon_months, len(scenario.uncertain_inputs),
                          bool(keep_paths))  # fmt: skip
    given = None if inputs is None else _given_inputs(inputs, scenario, limit)
    if qmc and given is not None:
        raise SimulationError("qmc and inputs exclude each other: given inputs are not drawn")
    if qmc and (n_paths & (n_paths - 1) or limit & (limit - 1)):
        warnings.warn(
            f"qmc: n_paths={n_paths} (max_paths={limit}) is not a power of two, so the "
            f"Sobol points lose their balance and part of the variance reduction",
            UserWarning,
            stacklevel=2,
        )
    plan = Plan(scenario, seed, antithetic, qmc=qmc, given=given)
    if keep_paths is None:
        keep_paths = limit * (N_PATH + len(plan.kept_inputs)) * 8 <= PATH_MEMORY_BUDGET
    targets = _check_precision(precision, keep_paths)

    shift = _shift(backend, plan)
    engine = _backend(backend, plan, shift, options)
    if backend == "dask" and chunk_paths is None:
        # A chunk never splits finer than a task per worker thread: grow it with the
        # cluster so tasks keep the size at which their overhead stays small (docs/dask.md).
        from .backends.dask import TASK_PATHS

        threads = sum(engine.client.nthreads().values())
        chunk = max(chunk, 2 * TASK_PATHS * threads)
    kept_per_path, kept_inputs, trace = [], [], []
    bar = _progress_bar(progress, n_paths, f"{scenario.name} ({backend})")
    # A backend that reports finished tasks moves the bar within a chunk.
    per_task = bar is not None and hasattr(engine, "on_paths_done")
    if per_task:
        engine.on_paths_done = bar.update
    start = time.perf_counter()
    done = 0
    try:
        # A run with targets starts with n_paths (rounded up to whole groups of LANES, so
        # every later chunk starts on a group), then adds what the least advanced target
        # needs by se ~ 1/sqrt(paths), plus 10 %, at most a chunk at a time.
        first = min(limit, -(-n_paths // model.LANES) * model.LANES) if targets else n_paths
        while done < limit:
            if done < first:
                n = min(chunk, first - done)
            else:
                need = max(done * (se / goal) ** 2 if goal > 0 else math.inf
                           for _, se, goal in trace[-1][1])  # fmt: skip
                step = -(-max(1.1 * need - done, 1) // model.LANES) * model.LANES
                n = int(min(chunk, limit - done, step))
            pp, inp, _ = engine.run(
                done, n, keep_per_path=keep_paths, keep_inputs=keep_paths, keep_monthly=False
            )
            done += n
            if keep_paths:
                kept_per_path.append(pp)
                kept_inputs.append(inp[:, plan.kept_columns])
            if bar is not None and not per_task:
                bar.update(n)
            if targets:
                trace.append((done, _precision_status(targets, engine, done, plan, kept_per_path)))
                if done >= first and all(se <= goal for _, se, goal in trace[-1][1]):
                    break
            elif done >= n_paths:
                break
    finally:
        if bar is not None:
            bar.close()
        engine.close()
    elapsed = time.perf_counter() - start
    n_paths = done
    red = engine.reductions(n_paths)
    if keep_paths:
        red.per_path = np.concatenate(kept_per_path)
        red.inputs = np.concatenate(kept_inputs)
    red.input_names = plan.kept_inputs
    extra = {
        "threads": engine.workers,
        "standard_errors": (
            "as for independent paths; conservative under qmc" if qmc else
            "as for independent paths"
        ),
        "elapsed_seconds": round(elapsed, 3),
        "mean_std_summation": engine.summation,
        "sketch_relative_accuracy": sketch.RELATIVE_ACCURACY,
    }  # fmt: skip
    if requested != backend:
        extra["backend_requested"] = requested
    attrs = _provenance(plan, backend, n_paths, chunk, extra)
    ds = build_dataset(red, quantiles=q, attrs=attrs, keep_per_path=keep_paths)
    if targets:
        ds = _with_trace(ds, targets, trace)
    return ds


def _given_inputs(inputs, scenario, n_rows: int):
    """Validate caller-given static inputs: ``(values (rows, 56), mask (56,))``."""
    if isinstance(inputs, xr.Dataset):
        if "inputs" in inputs:
            inputs = inputs["inputs"]
        else:
            inputs = {name: inputs[name].values for name in inputs.data_vars}
    if isinstance(inputs, xr.DataArray):
        if set(inputs.dims) != {"path", "input"}:
            raise SimulationError(
                f"inputs as a DataArray must have dims ('path', 'input'), got {inputs.dims}"
            )
        arr = inputs.transpose("path", "input")
        columns = {str(n): arr.values[:, j] for j, n in enumerate(arr["input"].values)}
    elif hasattr(inputs, "columns") and hasattr(inputs, "to_numpy"):  # a DataFrame
        columns = {str(n): inputs[n].to_numpy() for n in inputs.columns}
    elif isinstance(inputs, Mapping):
        columns = {str(n): np.asarray(v) for n, v in inputs.items()}
    else:
        arr = np.asarray(inputs)
        names = scenario.uncertain_inputs
        if arr.ndim != 2 or arr.shape[1] not in (len(names), N_INPUTS):
            raise SimulationError(
                f"inputs as an array must be 2-D with one column per uncertain input "
                f"({len(names)}: {', '.join(names)}) or per input ({N_INPUTS}), got shape "
                f"{arr.shape}"
            )
        names = names if arr.shape[1] == len(names) else INPUT_NAMES
        columns = {n: arr[:, j] for j, n in enumerate(names)}
    if not columns:
        raise SimulationError("inputs names no input")
    values = np.zeros((n_rows, N_INPUTS))
    mask = np.zeros(N_INPUTS, dtype=np.bool_)
    for name, column in columns.items():
        if name not in FIELDS:
            close = ", ".join(INPUT_NAMES)
            raise SimulationError(f"inputs: unknown input {name!r}; inputs are {close}")
        try:
            column = np.asarray(column, dtype=np.float64)
        except (TypeError, ValueError):
            raise SimulationError(f"inputs: {name} must hold numbers") from None
        if column.ndim != 1 or column.size < n_rows:
            raise SimulationError(
                f"inputs: {name} has shape {column.shape}, but the run needs {n_rows} paths "
                f"(one value per path)"
            )
        column = column[:n_rows]
        allowed = FIELDS[name].range
        bad = ~np.vectorize(allowed.contains, otypes=[bool])(column)
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            raise SimulationError(
                f"inputs: {name} must be {allowed.describe()}, but {int(bad.sum())} of its "
                f"values are not (the first, row {first}: {float(column[first])!r})"
            )
        i = INPUT_NAMES.index(name)
        values[:, i] = column
        mask[i] = True
    return values, mask


def _check_precision(precision, keep_paths: bool) -> dict[str, tuple[str, float]]:
    """Validate ``precision``: metric -> ("absolute" | "relative", value)."""
    if precision is None:
        return {}
    if not isinstance(precision, Mapping) or not precision:
        raise SimulationError(f"precision must be a non-empty mapping, got {precision!r}")
    allowed = ["p_ruined", "p_profitable", "npv_mean", *(f"{v}_mean" for v in MONTHLY_NAMES)]
    out = {}
    for metric, target in precision.items():
        if metric not in allowed:
            raise SimulationError(f"precision: unknown metric {metric!r}; allowed: {allowed}")
        if metric == "npv_mean" and not keep_paths:
            raise SimulationError("precision: npv_mean needs per-path outcomes (keep_paths=True)")
        kind, value = "absolute", target
        if isinstance(target, Mapping):
            if set(target) != {"relative"}:
                raise SimulationError(
                    f"precision[{metric!r}] must be a number or {{'relative': r}}, got {target!r}"
                )
            kind, value = "relative", target["relative"]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise SimulationError(f"precision[{metric!r}] must be > 0, got {value!r}")
        out[metric] = (kind, float(value))
    return out


def _precision_status(targets, engine, n: int, plan: Plan, kept_per_path):
    """(estimate, standard error, goal) of each target metric after n paths."""
    T = plan.horizon
    status = []
    for metric, (kind, value) in targets.items():
        if metric in ("p_ruined", "p_profitable"):
            count = engine.ruined_by(T) if metric == "p_ruined" else engine.profitable_in(T)
            est = count / n
            se = float(np.sqrt(est * (1 - est) / n))
        elif metric == "npv_mean":
            npv = np.concatenate(kept_per_path)[:, PATH_NAMES.index("npv")]
            est = float(npv.mean())
            se = float(npv.std(ddof=1) / np.sqrt(n)) if n > 1 else math.inf
        else:
            v = MONTHLY_NAMES.index(metric[: -len("_mean")])
            sum_d, sum_d2 = engine.running_sums(v, T - 1)
            est = float(engine.shift[v, T - 1] + sum_d / n)
            var = (sum_d2 - sum_d * sum_d / n) / (n - 1) if n > 1 else math.inf
            se = float(np.sqrt(max(var, 0.0) / n))
        goal = value if kind == "absolute" else value * abs(est)
        status.append((est, se, goal))
    return status


def _with_trace(ds: xr.Dataset, targets, trace) -> xr.Dataset:
    """Add the convergence trace: estimate and standard error after each chunk."""
    paths = np.array([done for done, _ in trace])
    table = np.array([status for _, status in trace])  # (step, metric, 3)
    est, se, goal = table[:, :, 0].T, table[:, :, 1].T, table[-1, :, 2]
    return (
        ds.assign(
            convergence_estimate=(
                ("metric", "step"),
                est,
                {"long_name": "estimate after each chunk"},
            ),
            convergence_se=(("metric", "step"), se, {"long_name": "its standard error"}),
            convergence_target=("metric", goal, {"long_name": "standard error asked for"}),
        )
        .assign_coords(
            metric=list(targets), convergence_paths=("step", paths, {"long_name": "paths so far"})
        )
        .assign_attrs(converged=int(np.all(se[:, -1] <= goal)))
    )


def simulate_paths(
    scenario,
    n_paths: int,
    *,
    seed: int = 0,
    backend: str = "numba",
    antithetic: bool = False,
    qmc: bool = False,
    inputs=None,
) -> xr.Dataset:
    """The full (``path``, ``month``) tensors of a small run, for inspection and plots.

    Variables have the per-month outcome names of :func:`simulate`
    (``users``, ``revenue``, ...) on (``path``, ``month``), plus the per-path
    outcomes and the sampled ``inputs`` (all 56, on ``input``). Path p is the
    same path p as in :func:`simulate` with the same seed (and ``qmc`` or ``inputs``).
    """
    scenario = _as_scenario(scenario)
    n_paths = _positive_int("n_paths", n_paths)
    seed = check_seed(seed)
    backend = resolve(backend)
    if backend == "dask":
        raise SimulationError("simulate_paths runs in this process; use simulate() for dask")
    _check_bool("antithetic", antithetic)
    _check_bool("qmc", qmc)
    given = None if inputs is None else _given_inputs(inputs, scenario, n_paths)
    if qmc and given is not None:
        raise SimulationError("qmc and inputs exclude each other: given inputs are not drawn")
    plan = Plan(scenario, seed, antithetic, qmc=qmc, given=given)
    size = n_paths * N_MONTHLY * plan.horizon * 8
    if size > PATHS_TENSOR_LIMIT:
        raise SimulationError(
            f"simulate_paths would hold {size / 2**30:.1f} GiB of (path, month) tensors "
            f"(n_paths={n_paths}); use simulate(), which streams, or fewer paths"
        )
    budget.check_simulate_paths(n_paths, plan.horizon)
    engine = _backend(backend, plan, np.zeros((N_MONTHLY, plan.horizon)))
    try:
        per_path, inputs, monthly = engine.run(
            0, n_paths, keep_per_path=True, keep_inputs=True, keep_monthly=True
        )
    finally:
        engine.close()
    T = plan.horizon
    data_vars: dict[str, Any] = {}
    for i, name in enumerate(MONTHLY_NAMES):
        unit, meaning = MONTHLY_META[name]
        data_vars[name] = (
            ("path", "month"),
            monthly[:, i, :],
            {"units": unit, "long_name": meaning},
        )
    data_vars.update(per_path_vars(per_path, T))
    data_vars["inputs"] = (("path", "input"), inputs, INPUTS_ATTRS)
    coords = {
        "path": np.arange(n_paths),
        "month": np.arange(1, T + 1),
        "input": list(INPUT_NAMES),
        "input_unit": ("input", [FIELDS[name].unit for name in INPUT_NAMES]),
    }
    attrs = _provenance(plan, backend, n_paths, n_paths, {})
    ds = xr.Dataset(data_vars, coords=coords, attrs=attrs)
    ds["month"].attrs.update(units="month", long_name="month t = 1..T after the start")
    if not np.all(np.isfinite(monthly)):
        raise FloatingPointError(
            "non-finite monthly outcomes; the scenario drives the model outside double precision"
        )
    return ds
