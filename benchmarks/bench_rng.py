"""Normals per second: Philox4x32-10 numba kernels beside numpy's default_rng.

Usage: python benchmarks/bench_rng.py [--normals N] [--repeats R] [--json PATH]
Prints a table and writes JSON (default benchmarks/results/rng.json).
"""

import sys

from montecarlo.cli import main

if __name__ == "__main__":
    args = sys.argv[1:]
    if "--json" not in args:
        args += ["--json", "benchmarks/results/rng.json"]
    sys.exit(main(["bench-rng", *args]))
