"""``backend="numpy"``: the independent numpy reference, chunk by chunk.

:mod:`kernels.reference_model` is written from the model's specification alone, with
its own Philox, AS 241 and inverse CDFs: the oracle the tests compare the compiled
backends with. Its sums are float64 in chunk order, so unlike the other backends its
means and standard deviations depend (in the last bits) on the chunk size.
"""

from __future__ import annotations

# Imports are absolute (Python 3): `import numpy` is the library, not this module.
import numpy as np

from kernels import sketch
from kernels.layout import MONTHLY_NAMES, N_MONTHLY, PATH_NAMES

from .plan import Plan, Reductions


class NumpyBackend:
    """The independent numpy reference (:mod:`kernels.reference_model`), chunk by chunk."""

    name = "numpy"
    summation = "float64 in chunk order"
    workers = 1

    def __init__(self, plan: Plan, shift: np.ndarray):
        self.plan = plan
        self.shift = shift
        T = plan.horizon
        self.counts = np.zeros((N_MONTHLY, T, sketch.N_BUCKETS), dtype=np.int64)
        self.sum_d = np.zeros((N_MONTHLY, T))
        self.sum_d2 = np.zeros((N_MONTHLY, T))
        self.profitable = np.zeros(T, dtype=np.int64)
        self.ruin = np.zeros(T + 2, dtype=np.int64)

    def run(
        self, first: int, n: int, *, keep_per_path: bool, keep_inputs: bool, keep_monthly: bool
    ):
        p = self.plan
        values, mask = p.chunk_inputs(first, n)
        # Overflow becomes inf as in the kernel; the sketch's invalid bucket and
        # build_dataset report it as a FloatingPointError rather than a warning per step.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return self._run(p, values, mask, first, n)

    def _run(self, p, values, mask, first: int, n: int):
        from kernels import reference
        from kernels.reference_model import run_reference

        T = p.horizon
        out = run_reference(
            p.packed, p.shock_chol, T, seed=p.seed,
            paths=np.arange(first, first + n, dtype=np.uint64), antithetic=p.antithetic,
            stress=(p.stress_mul, p.stress_add) if p.stress_change.any() else None,
            given=(values, mask) if mask.any() else None,
        )  # fmt: skip
        monthly = out["monthly"]
        buckets = reference.sketch_bucket(
            monthly, sketch.MANTISSA_BITS, sketch.MIN_EXPONENT, sketch.N_POSITIVE
        )
        cell = (np.arange(N_MONTHLY)[:, None] * T + np.arange(T)[None, :]) * sketch.N_BUCKETS
        flat = np.bincount((buckets + cell).ravel(), minlength=self.counts.size)
        self.counts += flat.reshape(self.counts.shape)
        d = monthly - self.shift
        self.sum_d += d.sum(axis=0)
        self.sum_d2 += (d * d).sum(axis=0)
        self.profitable += (monthly[:, MONTHLY_NAMES.index("operating_profit"), :] > 0).sum(axis=0)
        ruin = out["per_path"][:, PATH_NAMES.index("ruin_month")].astype(np.int64)
        self.ruin += np.bincount(ruin, minlength=T + 2)
        return out["per_path"], out["inputs"], monthly

    def ruined_by(self, t: int) -> int:
        return int(self.ruin[1 : t + 1].sum())

    def profitable_in(self, t: int) -> int:
        return int(self.profitable[t - 1])

    def running_sums(self, v: int, t: int) -> tuple[float, float]:
        return float(self.sum_d[v, t]), float(self.sum_d2[v, t])

    def reductions(self, n_paths: int) -> Reductions:
        return Reductions(
            n_paths=n_paths, horizon=self.plan.horizon, counts=self.counts, sum_d=self.sum_d,
            sum_d2=self.sum_d2, shift=self.shift, profitable=self.profitable,
            ruin_counts=self.ruin,
        )  # fmt: skip

    def close(self):
        pass
