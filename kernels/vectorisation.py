"""Evidence that the CPU kernel's lane loops vectorise, read off the compiler itself.

:func:`report` compiles :func:`kernels.model.run_paths` afresh (an empty cache, line
numbers on every function) in a child process with LLVM's loop-vectoriser remarks
switched on, and returns, for each lane loop marked ``# lane loop: NAME`` in
``kernels/model.py``, the vectorisation widths LLVM reports for it, plus the count of
vector register operands in the kernel's machine code by register width. ``tests/test_vectorisation.py`` asserts on it, so a change that de-vectorises a
loop fails the tests; ``benchmarks/bench_model.py`` prints it.

A child process, because the remarks are a process-wide LLVM option that would
otherwise print for every later compilation.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

_MODEL = Path(__file__).with_name("model.py")
_MARK = re.compile(r"#\s*lane loop:\s*(.+?)\s*$")

_CHILD = r"""
import json, os, re, sys, tempfile
# Line numbers in every function (the helpers are inlined into the kernel, and their
# loops' remarks carry their own lines), compiled afresh into a throw-away cache.
os.environ["NUMBA_DEBUGINFO"] = "1"
os.environ["NUMBA_CACHE_DIR"] = tempfile.mkdtemp()
import llvmlite.binding as llvm
llvm.set_option("", "-pass-remarks=loop-vectorize")
llvm.set_option("", "-pass-remarks-missed=loop-vectorize")
import numba
import numpy as np
from kernels import model
from kernels.target import FASTMATH
from montecarlo.backends.plan import Plan
from montecarlo.scenario import Scenario

from montecarlo.engine import simulate
simulate(Scenario.preset("frontier-lab").replace(horizon_months=2), 64, progress=False,
         keep_paths=False)
signature = model.run_paths.signatures[0]
asm = model.run_paths.inspect_asm(signature)
counts = {reg: len(re.findall("%" + reg + r"\d+", asm)) for reg in ("xmm", "ymm", "zmm")}
print("VECTORISATION " + json.dumps(counts), flush=True)
"""


def marked_loops() -> dict[str, tuple[int, int]]:
    """Each marked lane loop of kernels/model.py: its first and last line."""
    loops = {}
    lines = _MODEL.read_text().splitlines()
    for number, line in enumerate(lines, start=1):
        match = _MARK.search(line)
        if not match:
            continue
        indent = len(line) - len(line.lstrip())
        last = number
        for later in range(number, len(lines)):
            text = lines[later]
            if text.strip() and len(text) - len(text.lstrip()) <= indent:
                break
            last = later + 1
        loops[match.group(1)] = (number, last)
    return loops


def report() -> dict:
    """``{"loops": {name: [widths]}, "registers": {"xmm"|"ymm"|"zmm": count}}``.

    A loop's widths are those of LLVM's "vectorized loop (vectorization width: W, ...)"
    remarks located in its lines (LLVM names a loop by a line of its body); an empty
    list means LLVM did not vectorise it.
    """
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD], capture_output=True, text=True, cwd=root, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"compiling the kernel for its remarks failed:\n{proc.stderr[-3000:]}")
    counts = json.loads(proc.stdout.split("VECTORISATION ", 1)[1].splitlines()[0])
    widths: dict[int, list[int]] = {}
    pattern = re.compile(r"model\.py:(\d+):\d+: vectorized loop \(vectorization width: (\d+)")
    for match in pattern.finditer(proc.stderr):
        widths.setdefault(int(match.group(1)), []).append(int(match.group(2)))
    loops = {
        name: [w for n in range(first, last + 1) for w in widths.get(n, [])]
        for name, (first, last) in marked_loops().items()
    }
    return {"loops": loops, "registers": counts}
