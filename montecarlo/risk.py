"""Risk metrics with standard errors: the ``ds.risk`` accessor on simulate()'s Dataset.

Every metric comes with a standard error and a 95 % confidence interval, so an
analyst can tell a real difference from Monte Carlo noise:

- probabilities p: binomial standard error sqrt(p (1 - p) / n) and the Wilson
  score interval (which stays inside [0, 1] and behaves for p near 0 or 1);
- means: standard deviation / sqrt(n) and a normal interval;
- quantiles and value-at-risk: a distribution-free interval from the order
  statistics whose ranks are n q -+ 1.96 sqrt(n q (1 - q)) (the binomial
  count of draws below the true quantile), and its half-width / 1.96 as the
  standard error;
- conditional value-at-risk (expected shortfall): the asymptotic variance of
  the tail-mean estimator, [Var(L | L >= VaR) + a (CVaR - VaR)^2] / (n (1 - a)).

Losses are minus outcomes: the a-level VaR of an outcome X is the a-quantile of
L = -X (for a = 0.95, minus the 5 % quantile of NPV), and its CVaR is the mean
of L over the worst 1 - a share of paths (docs/risk.md).
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy import special

Z95 = float(special.ndtri(0.975))


def wilson_interval(p: float, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion p observed on n trials."""
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return float(centre - half), float(centre + half)


def proportion(p: float, n: int) -> tuple[float, float, float, float]:
    """(estimate, standard error, CI low, CI high) of a proportion."""
    low, high = wilson_interval(p, n)
    return float(p), float(np.sqrt(p * (1 - p) / n)), low, high


def mean(x: np.ndarray) -> tuple[float, float, float, float]:
    """(estimate, standard error, CI low, CI high) of a mean."""
    m = float(np.mean(x))
    se = float(np.std(x, ddof=1) / np.sqrt(x.size)) if x.size > 1 else 0.0
    return m, se, m - Z95 * se, m + Z95 * se


def quantile(x: np.ndarray, q: float) -> tuple[float, float, float, float]:
    """(estimate, standard error, CI low, CI high) of the q-quantile, distribution-free."""
    s = np.sort(x)
    n = s.size
    est = float(np.quantile(s, q))
    half = Z95 * np.sqrt(n * q * (1 - q))
    lo = s[int(np.clip(np.floor(n * q - half), 0, n - 1))]
    hi = s[int(np.clip(np.ceil(n * q + half), 0, n - 1))]
    return est, float((hi - lo) / (2 * Z95)), float(lo), float(hi)


def value_at_risk(outcome: np.ndarray, level: float) -> tuple[float, float, float, float]:
    """VaR at ``level`` of the loss -outcome, with its distribution-free interval."""
    est, se, lo, hi = quantile(-np.asarray(outcome, dtype=np.float64), level)
    return est, se, lo, hi


def expected_shortfall(outcome: np.ndarray, level: float) -> tuple[float, float, float, float]:
    """CVaR (expected shortfall) at ``level`` of the loss -outcome, with its asymptotic SE."""
    loss = -np.asarray(outcome, dtype=np.float64)
    n = loss.size
    var = float(np.quantile(loss, level))
    tail = loss[loss >= var]
    cvar = float(np.mean(tail))
    tail_var = float(np.var(tail, ddof=1)) if tail.size > 1 else 0.0
    se = float(np.sqrt((tail_var + level * (cvar - var) ** 2) / (n * (1 - level))))
    return cvar, se, cvar - Z95 * se, cvar + Z95 * se


@xr.register_dataset_accessor("risk")
class RiskAccessor:
    """Decision metrics of a :func:`montecarlo.simulate` result, each with its error bar."""

    def __init__(self, ds: xr.Dataset):
        self._ds = ds

    def summary(self, months=None, levels=(0.95, 0.99)) -> xr.Dataset:
        """A tidy Dataset on a ``metric`` dim: estimate, se, ci_low, ci_high, units.

        ``months`` lists the months for the monthly probabilities (default: 12,
        24, ... and the horizon). VaR and CVaR of NPV and of cumulative operating
        profit need the per-path outcomes (``keep_paths``).
        """
        ds = self._ds
        n = int(ds.attrs["n_paths"])
        T = int(ds.attrs["horizon_months"])
        if months is None:
            months = sorted({*range(12, T + 1, 12), T})
        rows: list[tuple[str, str, tuple[float, float, float, float]]] = []
        for t in months:
            if not 1 <= int(t) <= T:
                raise ValueError(f"months must lie in 1..{T}, got {t}")
            p = float(ds.p_profitable.sel(month=t))
            rows.append((f"P(operating profit > 0) month {t}", "1", proportion(p, n)))
            p = float(ds.p_ruined.sel(month=t))
            rows.append((f"P(ruined by) month {t}", "1", proportion(p, n)))
        if "npv" in ds:
            never = T + 1
            payback = ds.payback_month.values
            rows.append(
                (f"P(cash back to its start by) month {T}", "1",
                 proportion(float(np.mean(payback < never)), n))
            )  # fmt: skip
            cum = ds.cumulative_operating_profit.values
            rows.append(
                (
                    "P(cumulative operating profit >= 0)",
                    "1",
                    proportion(float(np.mean(cum >= 0)), n),
                )
            )
            for name in ("first_profit_month", "payback_month", "ruin_month"):
                values = ds[name].values
                reached = values[values < never]
                rows.append(
                    (f"share never: {name}", "1", proportion(float(np.mean(values == never)), n))
                )
                if reached.size > 1:
                    rows.append(
                        (f"median {name} (paths reaching it)", "month", quantile(reached, 0.5))
                    )
            for name in ("npv", "cumulative_operating_profit"):
                x = ds[name].values
                unit = ds[name].attrs.get("units", "")
                rows.append((f"mean {name}", unit, mean(x)))
                for q in (0.05, 0.5, 0.95):
                    rows.append((f"quantile {q:g} {name}", unit, quantile(x, q)))
                for a in levels:
                    rows.append((f"VaR {a:g} {name} (loss)", unit, value_at_risk(x, a)))
                    rows.append((f"CVaR {a:g} {name} (loss)", unit, expected_shortfall(x, a)))
        values = np.array([r[2] for r in rows], dtype=np.float64)
        return xr.Dataset(
            {
                "estimate": ("metric", values[:, 0]),
                "se": ("metric", values[:, 1]),
                "ci_low": ("metric", values[:, 2]),
                "ci_high": ("metric", values[:, 3]),
                "units": ("metric", [r[1] for r in rows]),
            },
            coords={"metric": [r[0] for r in rows]},
            attrs={"n_paths": n, "confidence": 0.95, "seed": ds.attrs.get("seed", "")},
        )
