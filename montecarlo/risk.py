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

Antithetic runs pair path 2k + 1 with path 2k, so their paths are not
independent; the pairs are. Means and per-path proportions then take their
standard errors from the n/2 pair averages (``pairs=True``). Quantile-based
intervals and the per-month probabilities (kept as counts only) still assume
independent paths; ``summary`` says which rows do in ``se_method``.
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
    # At p = 0 or 1 the bound is p itself; rounding must not put it on the wrong side.
    return min(float(centre - half), p), max(float(centre + half), p)


def proportion(p: float, n: int) -> tuple[float, float, float, float]:
    """(estimate, standard error, CI low, CI high) of a proportion."""
    low, high = wilson_interval(p, n)
    return float(p), float(np.sqrt(p * (1 - p) / n)), low, high


def _pair_means(x: np.ndarray) -> np.ndarray:
    """Averages of paths (2k, 2k + 1); an odd last path stands alone."""
    n = x.size
    pairs = x[: n - n % 2].reshape(-1, 2).mean(axis=1)
    return np.concatenate([pairs, x[n - n % 2 :]])


def mean(x: np.ndarray, pairs: bool = False) -> tuple[float, float, float, float]:
    """(estimate, standard error, CI low, CI high) of a mean.

    ``pairs``: the paths are antithetic pairs, so the standard error comes from
    the pair averages, which are independent.
    """
    x = np.asarray(x, dtype=np.float64)
    m = float(np.mean(x))
    units = _pair_means(x) if pairs and x.size > 2 else x
    if units.size > 1:
        # Var(mean) = Var(unit average) / units; a unit of a pair weighs 2 of n paths.
        se = float(np.std(units, ddof=1) / np.sqrt(units.size))
    else:
        se = 0.0
    return m, se, m - Z95 * se, m + Z95 * se


def share(hit: np.ndarray, pairs: bool = False) -> tuple[float, float, float, float]:
    """(estimate, standard error, CI low, CI high) of the share of paths where ``hit``.

    Independent paths: :func:`proportion`. Antithetic pairs: the standard error
    of the pair averages, and the Wilson interval at the effective number of
    paths p (1 - p) / se^2 that this standard error implies.
    """
    hit = np.asarray(hit, dtype=np.float64)
    n = hit.size
    p = float(hit.mean())
    if not pairs or n < 3:
        return proportion(p, n)
    _, se, _, _ = mean(hit, pairs=True)
    n_eff = p * (1 - p) / se**2 if se > 0 else n
    low, high = wilson_interval(p, n_eff)
    return p, se, low, high


def share_of_months(p: np.ndarray, n: int) -> tuple[float, float, float, float]:
    """(estimate, standard error bound, CI low, CI high) of the share of path-months with
    an event, from its per-month shares ``p`` (one per month) over ``n`` paths.

    The estimate mean(p) is exact. Its standard error needs the dependence between a
    path's months, which per-month shares do not hold; the bound takes it at its worst
    (months perfectly correlated): the standard deviation of a path's share of months is
    at most the mean of the months' standard deviations sqrt(p_t (1 - p_t)), so
    se <= mean_t sqrt(p_t (1 - p_t)) / sqrt(n). The interval is Wilson's at the number
    of paths p (1 - p) / se^2 that this bound implies, so it is conservative too.
    """
    p = np.asarray(p, dtype=np.float64)
    est = float(np.mean(p))
    se = float(np.mean(np.sqrt(p * (1 - p))) / np.sqrt(n))
    n_eff = est * (1 - est) / se**2 if se > 0 else n
    low, high = wilson_interval(est, n_eff)
    return est, se, low, high


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
        """A tidy Dataset on a ``metric`` dim: estimate, se, ci_low, ci_high, units, se_method.

        ``months`` lists the months for the monthly probabilities (default: 12,
        24, ... and the horizon). Time-to-event rows, VaR and CVaR need the
        per-path outcomes (``keep_paths``), and so do the financing rows (capital
        required at each of ``levels``: the ``levels`` quantile of ``funding_gap``;
        P(at least one round); mean capital raised; median ownership retained).
        The share of months with idle committed capacity comes from
        ``p_idle_commitment`` and is always there. ``se_method`` says what each
        standard error assumes: independent paths, or antithetic pair averages.
        """
        ds = self._ds
        n = int(ds.attrs["n_paths"])
        T = int(ds.attrs["horizon_months"])
        pairs = bool(int(ds.attrs.get("antithetic", 0)))
        per_path = "npv" in ds
        iid = "independent paths"
        if pairs:
            iid += " (antithetic pairs are not; see docs/risk.md)"
        elif "quasi-Monte Carlo" in str(ds.attrs.get("static_inputs", "")):
            iid += " (conservative under qmc)"
        paired = "antithetic pair averages" if pairs else iid
        if months is None:
            months = sorted({*range(12, T + 1, 12), T})
        rows: list[tuple[str, str, tuple[float, float, float, float], str]] = []
        for t in months:
            if not 1 <= int(t) <= T:
                raise ValueError(f"months must lie in 1..{T}, got {t}")
            p = float(ds.p_profitable.sel(month=t))
            rows.append((f"P(operating profit > 0) month {t}", "1", proportion(p, n), iid))
            if per_path:
                hit = ds.ruin_month.values <= t
                rows.append((f"P(ruined by) month {t}", "1", share(hit, pairs), paired))
            else:
                p = float(ds.p_ruined.sel(month=t))
                rows.append((f"P(ruined by) month {t}", "1", proportion(p, n), iid))
        if per_path:
            never = T + 1
            rows.append(
                (f"P(cash back to its start by) month {T}", "1",
                 share(ds.payback_month.values < never, pairs), paired)
            )  # fmt: skip
            rows.append(
                ("P(cumulative operating profit >= 0)", "1",
                 share(ds.cumulative_operating_profit.values >= 0, pairs), paired)
            )  # fmt: skip
            for name in ("first_profit_month", "payback_month", "ruin_month"):
                values = ds[name].values
                reached = values[values < never]
                rows.append((f"share never: {name}", "1", share(values == never, pairs), paired))
                if reached.size > 1:
                    rows.append(
                        (f"median {name} (paths reaching it)", "month",
                         quantile(reached, 0.5), iid)
                    )  # fmt: skip
            for name in ("npv", "cumulative_operating_profit"):
                x = ds[name].values
                unit = ds[name].attrs.get("units", "")
                rows.append((f"mean {name}", unit, mean(x, pairs), paired))
                for q in (0.05, 0.5, 0.95):
                    rows.append((f"quantile {q:g} {name}", unit, quantile(x, q), iid))
                for a in levels:
                    rows.append((f"VaR {a:g} {name} (loss)", unit, value_at_risk(x, a), iid))
                    rows.append((f"CVaR {a:g} {name} (loss)", unit, expected_shortfall(x, a), iid))
        if per_path and "funding_gap" in ds:  # results saved before model v2 lack these
            gap = ds.funding_gap.values
            unit = ds.funding_gap.attrs.get("units", "USD")
            for a in levels:
                # The a-quantile of the gap: a share a of paths needed at most this much more
                # at t = 0 to stay above zero (docs/risk.md on the spec's "(1 - a)" wording).
                rows.append((f"capital required {a:g}", unit, quantile(gap, a), iid))
            rows.append(("P(at least one round)", "1", share(ds.rounds.values >= 1, pairs), paired))
            raised = ds.capital_raised
            rows.append(
                ("mean capital_raised", raised.attrs.get("units", "USD"),
                 mean(raised.values, pairs), paired)
            )  # fmt: skip
            rows.append(
                ("median ownership_retained", "1", quantile(ds.ownership_retained.values, 0.5), iid)
            )
        if "p_idle_commitment" in ds:
            rows.append(
                ("share of months with idle committed capacity", "1",
                 share_of_months(ds.p_idle_commitment.values, n),
                 f"{iid}; an upper bound (a path's months taken as perfectly correlated)")
            )  # fmt: skip
        values = np.array([r[2] for r in rows], dtype=np.float64)
        return xr.Dataset(
            {
                "estimate": ("metric", values[:, 0]),
                "se": ("metric", values[:, 1]),
                "ci_low": ("metric", values[:, 2]),
                "ci_high": ("metric", values[:, 3]),
                "units": ("metric", [r[1] for r in rows]),
                "se_method": ("metric", [r[3] for r in rows]),
            },
            coords={"metric": [r[0] for r in rows]},
            attrs={"n_paths": n, "confidence": 0.95, "seed": ds.attrs.get("seed", "")},
        )
