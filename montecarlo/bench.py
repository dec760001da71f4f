"""Side-by-side speed measurements, shared by ``benchmarks/`` and the command line.

This machine is shared and noisy, so variants are interleaved in one process,
each timed several times, and reported as medians and ratios to a baseline
measured in the same run.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable

import numba
import numpy as np

from kernels import reference, rng

from . import __version__


@numba.njit(parallel=True, cache=True)
def _sum_of_normals(k0, k1, n_paths, n_blocks):
    # Generation without the memory traffic of storing results: the way the
    # fused model kernel consumes its normals.
    total = 0.0
    for p in numba.prange(n_paths):
        for b in range(n_blocks):
            z0, z1, z2, z3 = rng.draw_normals(k0, k1, p, 1, b, False)
            total += z0 + z1 + z2 + z3
    return total


def _time(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def machine_info() -> dict:
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "montecarlo": __version__,
        "cpu_count": os.cpu_count(),
        "numba_threads": numba.get_num_threads(),
        "machine": platform.machine(),
        "processor": platform.processor() or platform.machine(),
    }


def rng_benchmark(n_normals: int = 16_000_000, repeats: int = 5) -> dict:
    """Normals per second: the Philox kernels beside numpy's generator, in one run.

    Returns a dict with ``rows`` (variant, normals/s median, min and max,
    ratio to numpy's ``default_rng().standard_normal``) and ``machine``.
    """
    if n_normals < 64 or repeats < 1:
        raise ValueError(f"need n_normals >= 64 and repeats >= 1, got {n_normals}, {repeats}")
    n_blocks = 16
    n_paths = max(1, n_normals // (4 * n_blocks))
    n = n_paths * 4 * n_blocks
    paths = np.arange(n_paths, dtype=np.uint64)
    generator = np.random.default_rng(0)
    small = paths[: max(1, n_paths // 16)]
    variants: dict[str, tuple[Callable[[], object], int]] = {
        "philox numba, fused sum (all threads)": (
            lambda: _sum_of_normals(np.uint32(0), np.uint32(0), n_paths, n_blocks),
            n,
        ),
        "philox numba, to array (all threads)": (
            lambda: rng.draw_standard_normals(0, paths, 1, 0, n_blocks),
            n,
        ),
        "philox numba, raw words to array (all threads)": (
            lambda: rng.draw_words(0, paths, 1, 0, n_blocks),
            n,
        ),
        "numpy default_rng().standard_normal (1 thread)": (lambda: generator.standard_normal(n), n),
        "philox numpy reference (1 thread)": (
            lambda: reference.block_normals(0, small, 1, 0),
            small.size * 4,
        ),
    }
    for fn, _ in variants.values():  # compile and warm caches outside the timings
        fn()
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(repeats):
        for name, (fn, _) in variants.items():
            times[name].append(_time(fn))
    baseline = "numpy default_rng().standard_normal (1 thread)"
    base_rate = variants[baseline][1] / statistics.median(times[baseline])
    rows = []
    for name, (_, count) in variants.items():
        rate = count / statistics.median(times[name])
        rows.append(
            {
                "variant": name,
                "normals_per_s": rate,
                "min_per_s": count / max(times[name]),
                "max_per_s": count / min(times[name]),
                "ratio_to_numpy": rate / base_rate,
                "count": count,
                "repeats": repeats,
            }
        )
    return {"benchmark": "rng", "rows": rows, "machine": machine_info()}


def format_table(result: dict) -> str:
    """A plain-text table of :func:`rng_benchmark`'s rows."""
    header = f"{'variant':50s} {'normals/s (median)':>20s} {'range':>21s} {'x numpy':>8s}"
    lines = [header, "-" * len(header)]
    for row in result["rows"]:
        spread = f"{row['min_per_s'] / 1e6:.0f}-{row['max_per_s'] / 1e6:.0f} M"
        lines.append(
            f"{row['variant']:50s} {row['normals_per_s'] / 1e6:17.1f} M {spread:>21s} "
            f"{row['ratio_to_numpy']:8.2f}"
        )
    m = result["machine"]
    lines.append(
        f"numba {m['numba']}, numpy {m['numpy']}, {m['numba_threads']} numba threads, "
        f"{m['cpu_count']} CPUs"
    )
    return "\n".join(lines)


def write_json(result: dict, path: str | os.PathLike) -> None:
    """Write ``result`` atomically: a temporary file renamed into place."""
    path = os.fspath(path)
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        with open(tmp, "w") as fh:
            json.dump(result, fh, indent=2)
            fh.write("\n")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
