"""Memory and work budgets: a run that cannot fit is refused before it allocates anything.

``simulate``, ``simulate_paths``, ``compare`` and ``sweep``, ``tornado`` and
``model_sobol`` each estimate, from their arguments alone, the memory they will
hold (per-path outcomes and inputs kept, the quantile sketches, design
matrices) and call :func:`check_memory` first. A run above the budget raises
:class:`BudgetError` at once, stating the estimate and the budget, instead of
growing until the machine runs out.

The budget is :data:`DEFAULT_MEMORY_BUDGET` (4 GiB), or half the machine's
physical memory if that is less, or the ``MONTECARLO_MEMORY_BUDGET``
environment variable (``16GiB``, ``512MiB``, ``2e9``) when set.

Work is counted in path-months (one path advanced one month). The command line
compares :func:`estimate_seconds` of a run, at :data:`PATH_MONTHS_PER_SECOND`
(measured by benchmarks/bench_model.py; docs/engine.md), with
:data:`TIME_BOUND_SECONDS` and asks for ``--yes`` above it; the library itself
runs whatever it is asked to, since a script may well mean a long run.
"""

from __future__ import annotations

import math
import os
import re

from kernels import sketch
from kernels.layout import N_INPUTS, N_MONTHLY, N_PATH

#: Memory a run may plan to hold when neither the environment nor the machine says less.
DEFAULT_MEMORY_BUDGET = 4 * 2**30
#: The environment variable that sets the budget (bytes, or a number with KiB..TiB, KB..TB).
MEMORY_BUDGET_ENV = "MONTECARLO_MEMORY_BUDGET"
#: Path-months per second per thread assumed for the time estimate, by backend, rounded
#: down from benchmarks/bench_model.py on the development machine (docs/engine.md): the
#: numba engine ran 25e6 on 2 threads and 12e6 on one, the numpy reference 0.95e6; cuda
#: is taken as 100 CPU threads, dask as the local threads.
PATH_MONTHS_PER_SECOND = {"numba": 1e7, "dask": 1e7, "numpy": 0.8e6, "cuda": 1e9}
#: A command-line run estimated to take longer than this asks for ``--yes``.
TIME_BOUND_SECONDS = 3600.0

_UNITS = {
    "": 1, "b": 1, "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9, "gb": 10**9,
    "t": 10**12, "tb": 10**12, "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40,
}  # fmt: skip


class BudgetError(ValueError):
    """A run would need more memory than the budget; the message states both."""


def _physical_memory() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def parse_bytes(text: str) -> int:
    """``"16GiB"``, ``"512 MiB"``, ``"2e9"`` -> bytes; ValueError naming the text otherwise."""
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([A-Za-z]*)\s*", text)
    unit = match[2].lower() if match else None
    if not match or unit not in _UNITS:
        raise BudgetError(
            f"{MEMORY_BUDGET_ENV}={text!r}: expected a size such as 4GiB, 512MiB or 2e9 (bytes)"
        )
    size = float(match[1]) * _UNITS[unit]
    if not (math.isfinite(size) and size >= 1):
        raise BudgetError(f"{MEMORY_BUDGET_ENV}={text!r}: the size must be at least 1 byte")
    return int(size)


def memory_budget() -> int:
    """Bytes a run may plan to hold (module docstring)."""
    text = os.environ.get(MEMORY_BUDGET_ENV)
    if text:
        return parse_bytes(text)
    physical = _physical_memory()
    return min(DEFAULT_MEMORY_BUDGET, physical // 2) if physical else DEFAULT_MEMORY_BUDGET


def format_bytes(size: float) -> str:
    """``3.2 GiB``: the size in the largest binary unit below it."""
    for unit, scale in (("EiB", 2**60), ("PiB", 2**50), ("TiB", 2**40), ("GiB", 2**30),
                        ("MiB", 2**20), ("KiB", 2**10)):  # fmt: skip
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{size:.0f} bytes"


def format_seconds(seconds: float) -> str:
    """``42 s``, ``3.5 min``, ``2.1 h``, ``12 days``, ``3e+04 years``."""
    for unit, scale in (("years", 365.25 * 86400), ("days", 86400), ("h", 3600), ("min", 60)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds:.2g} s"


def check_memory(what: str, needed: float, detail: str, advice: str = "use fewer paths") -> None:
    """Raise :class:`BudgetError` if ``needed`` bytes exceed the budget.

    ``what`` names the call and its size argument (``"simulate(n_paths=...)"``),
    ``detail`` says what the memory holds.
    """
    budget = memory_budget()
    if needed > budget:
        raise BudgetError(
            f"{what} needs about {format_bytes(needed)} of memory ({detail}), above the memory "
            f"budget of {format_bytes(budget)}; {advice}, or set {MEMORY_BUDGET_ENV} "
            f"(docs/engine.md, Budgets)"
        )


# --- estimates, in bytes -------------------------------------------------------------------


def sketch_bytes(horizon: int, workers: int | None = None) -> int:
    """The quantile sketches and exact sums a run holds whatever its number of paths."""
    if workers is None:
        import numba

        workers = numba.get_num_threads()
    per_worker = N_MONTHLY * horizon * (sketch.N_BUCKETS * 4 + 2 * sketch.ACCUMULATOR_WINDOWS * 8)
    return workers * per_worker + N_MONTHLY * horizon * sketch.N_BUCKETS * 8


def kept_path_bytes(n_paths: int, n_inputs: int) -> int:
    """Per-path outcomes and sampled inputs of n_paths paths, counted twice: the chunks
    are concatenated into one array at the end."""
    return 2 * n_paths * (N_PATH + n_inputs) * 8


def check_simulate(n_paths: int, horizon: int, n_inputs: int, keep_paths: bool) -> None:
    """simulate's budget: the sketches, and the kept paths when ``keep_paths``."""
    needed = sketch_bytes(horizon) + (kept_path_bytes(n_paths, n_inputs) if keep_paths else 0)
    detail = "per-path outcomes and inputs of every path, and the quantile sketches"
    if not keep_paths:
        detail = "the quantile sketches"
    check_memory(f"simulate(n_paths={n_paths}, keep_paths={keep_paths})", needed, detail)


def check_simulate_paths(n_paths: int, horizon: int) -> None:
    """simulate_paths' budget: the (path, month) tensors, per-path outcomes and all inputs."""
    needed = n_paths * (N_MONTHLY * horizon + N_PATH + N_INPUTS) * 8 * 2
    check_memory(
        f"simulate_paths(n_paths={n_paths})", needed, f"{N_MONTHLY} (path, month) tensors"
    )


def check_compare(n_paths: int, n_scenarios: int, horizon: int) -> None:
    """compare's budget: every scenario's kept paths at once, and their concatenation."""
    needed = 2 * n_scenarios * kept_path_bytes(n_paths, N_INPUTS) + sketch_bytes(horizon)
    check_memory(
        f"compare of {n_scenarios} scenarios with n_paths={n_paths}",
        needed,
        "per-path outcomes and inputs of every path of every scenario",
    )


def check_tornado(n_paths: int, n_inputs: int, horizon: int) -> None:
    """tornado's budget: one run's kept paths, and three per-path metric arrays."""
    needed = kept_path_bytes(n_paths, n_inputs) + 3 * n_paths * 8 + sketch_bytes(horizon)
    check_memory(
        f"tornado(n_paths={n_paths})", needed, "per-path outcomes and inputs of each run"
    )


def check_model_sobol(n: int, d: int, horizon: int) -> None:
    """model_sobol's budget: the Saltelli design (n (d + 2) points of d inputs) and its
    outputs, plus one block's run with all 56 inputs given and its kept paths."""
    design = n * (d + 2) * (2 * d + 1) * 8
    block = n * N_INPUTS * 8 + kept_path_bytes(n, d)
    check_memory(
        f"model_sobol(n={n}) over {d} inputs",
        design + block + sketch_bytes(horizon),
        f"the Saltelli design of {n * (d + 2)} points and one block's run",
        "use fewer base points",
    )


# --- work ----------------------------------------------------------------------------------


def estimate_seconds(path_months: float, backend: str, threads: int) -> float:
    """Seconds ``path_months`` path-months take at the assumed speed of ``backend``."""
    rate = PATH_MONTHS_PER_SECOND.get(backend, PATH_MONTHS_PER_SECOND["numba"])
    if backend in ("numba", "dask"):
        rate *= max(1, threads)
    return path_months / rate
