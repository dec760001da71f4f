"""Sensitivity analysis: which uncertain inputs drive an outcome, each measure with its error bar.

Three families (equations, sources and limits in docs/sensitivity.md):

- :func:`sobol`: variance-based first-order and total indices of any vectorised
  function of independent inputs, from the Saltelli design on a scrambled
  Sobol sequence, with bootstrap confidence intervals;
- :func:`rank_correlation`, :func:`variance_contribution` and
  :func:`tail_attribution`: read from one ``simulate(..., keep_paths=True)``
  run at no extra model cost, from the sampled inputs and per-path outcomes;
- :func:`tornado`: one-at-a-time swings of each uncertain input between two
  percentiles, every run on the same seed (common random numbers), so the
  swings are paired differences.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr
from scipy import special
from scipy import stats as sps
from scipy.stats import qmc

from kernels.layout import PATH_NAMES
from kernels.rng import check_seed

from . import budget
from .compare import DIFFERENCED
from .distributions import Distribution, as_distribution
from .engine import SimulationError, _as_scenario, _positive_int, simulate
from .risk import Z95, expected_shortfall
from .scenario import FIELDS, ScenarioError

#: Bits of the scrambled Sobol points: they are multiples of 2**-SOBOL_BITS in [0, 1).
SOBOL_BITS = 30
#: Contiguous batches of paths whose spread gives variance_contribution its standard error.
BATCHES = 20
#: Per-path outcomes for which a later month is the worse one (tail_attribution's default).
LATER_IS_WORSE = ("first_profit_month", "payback_month")

# --------------------------------------------------------------------------------------------
# Validation shared by the measures


def _real(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a real number, got {value!r} ({type(value).__name__})")
    return float(value)


def _open_unit(name: str, value: Any) -> float:
    value = _real(name, value)
    if not 0 < value < 1:
        raise ValueError(f"{name} must lie strictly between 0 and 1, got {value}")
    return value


def _integer(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer in [{low}, {high}], got {value!r}")
    if not low <= int(value) <= high:
        raise ValueError(f"{name} must be an integer in [{low}, {high}], got {value}")
    return int(value)


# --------------------------------------------------------------------------------------------
# Sobol indices


def sobol(
    func: Callable[[np.ndarray], Any],
    problem: Mapping[str, Any],
    n: int,
    seed: int = 0,
    *,
    n_bootstrap: int = 500,
    confidence: float = 0.95,
) -> xr.Dataset:
    """First-order and total Sobol indices of ``func`` over independent uncertain inputs.

    Parameters
    ----------
    func : callable
        Takes an (M, d) float64 array, one row per input point and the columns in
        ``problem``'s order, and returns M real values (shape (M,) or (M, 1)). It is
        called once, with all M = n (d + 2) points.
    problem : mapping of str to distribution
        Each input's distribution: a :class:`montecarlo.distributions.Distribution`,
        a frozen continuous ``scipy.stats`` distribution or a ``{"dist": ...}``
        mapping (anything :func:`montecarlo.distributions.as_distribution` takes).
        The inputs are sampled independently. Constants are refused: an index of
        a constant is 0 by definition, so leave it out and fix it inside ``func``.
    n : int
        Base points: a power of two from 2 to 2**30 (the balance of Sobol points
        needs one). The model is evaluated n (d + 2) times.
    seed : int
        In [0, 2**64 - 1]; 0 is a valid seed. It scrambles the Sobol sequence and
        seeds the bootstrap (two independent streams spawned from it).
    n_bootstrap : int
        Bootstrap resamples of the n base rows for the confidence intervals.
    confidence : float
        Level of the confidence intervals, in (0, 1).

    Returns
    -------
    xarray.Dataset
        On dim ``input`` (the names, with each ``distribution`` as a coordinate):
        ``S1`` and ``ST``; ``S1_conf`` and ``ST_conf``, half-widths of normal
        intervals from the bootstrap standard deviation (as SALib reports them);
        ``S1_ci_low``, ``S1_ci_high``, ``ST_ci_low``, ``ST_ci_high``, the bootstrap
        percentile intervals. Attributes: ``n``, ``evaluations``, ``seed``,
        ``n_bootstrap``, ``confidence``, ``estimators``, ``design``,
        ``output_mean``, ``output_variance``.

    Raises
    ------
    ValueError
        For a bad ``problem``, ``n``, ``n_bootstrap`` or ``confidence``, or when
        ``func`` returns the wrong shape, non-real or non-finite values (with how
        many and the first offending point), or the same value everywhere.

    Notes
    -----
    Design (Saltelli 2002; Saltelli et al. 2010): the first d columns of a
    scrambled Sobol sequence in 2d dimensions give matrix A, the last d give B;
    AB_i is A with column i taken from B. Each uniform is moved to the midpoint
    of its 2**-30 cell, so none is 0 or 1, and mapped through the input's
    inverse CDF. With V the variance of f over the rows of A and B together::

        S1_i = mean((f(B) - m) (f(AB_i) - f(A))) / V        (Saltelli et al. 2010)
        ST_i = mean((f(A) - f(AB_i))**2) / (2 V)           (Jansen 1999)

    with m the mean of f over A and B (centring leaves the estimator's expectation
    unchanged and keeps a large mean from inflating its variance, as SALib does by
    normalising the output). The bootstrap treats the quasi-random rows as
    independent, as SALib does; Sobol points are better spread than random ones,
    so the intervals err wide.
    """
    names, dists = _check_problem(problem)
    n = _check_base_points(n)
    seed = check_seed(seed)
    n_bootstrap = _integer("n_bootstrap", n_bootstrap, 2, 10**7)
    confidence = _open_unit("confidence", confidence)
    if not callable(func):
        raise ValueError(f"func must be callable, got {func!r} ({type(func).__name__})")
    d = len(names)
    scramble_seed, bootstrap_seed = np.random.SeedSequence(seed).spawn(2)

    u = _sobol_points(n, 2 * d, np.random.default_rng(scramble_seed))
    a = _inverse_cdfs(u[:, :d], dists)
    b = _inverse_cdfs(u[:, d:], dists)
    ab = np.repeat(a[np.newaxis], d, axis=0)
    for i in range(d):
        ab[i, :, i] = b[:, i]
    x = np.concatenate([a, b, ab.reshape(d * n, d)])
    y = _evaluate(func, x)
    f_a, f_b, f_ab = y[:n], y[n : 2 * n], y[2 * n :].reshape(d, n)
    variance = float(np.var(y[: 2 * n]))
    if not variance > 0:
        raise ValueError(
            f"func returns the same value, {y[0]!r}, on every point of A and B; its variance "
            f"is 0, so the indices are undefined"
        )
    s1, st = _saltelli_jansen(f_a, f_b, f_ab)

    rng = np.random.default_rng(bootstrap_seed)
    s1_boot = np.empty((n_bootstrap, d))
    st_boot = np.empty((n_bootstrap, d))
    # A resample with a constant output has no variance; its NaN indices are skipped below.
    with np.errstate(divide="ignore", invalid="ignore"):
        for r in range(n_bootstrap):
            rows = rng.integers(0, n, size=n)
            s1_boot[r], st_boot[r] = _saltelli_jansen(f_a[rows], f_b[rows], f_ab[:, rows])
    z = float(special.ndtri(0.5 + confidence / 2))
    tails = [(1 - confidence) / 2, (1 + confidence) / 2]
    data_vars = {}
    for key, estimate, boot, meaning in (
        ("S1", s1, s1_boot, "first-order Sobol index (Saltelli et al. 2010)"),
        ("ST", st, st_boot, "total Sobol index (Jansen 1999)"),
    ):
        low, high = np.nanquantile(boot, tails, axis=0)
        level = f"{confidence:g} bootstrap"
        data_vars[key] = ("input", estimate, {"units": "1", "long_name": meaning})
        data_vars[f"{key}_conf"] = (
            "input",
            z * np.nanstd(boot, axis=0, ddof=1),
            {"units": "1", "long_name": f"half-width of the {level} normal interval"},
        )
        data_vars[f"{key}_ci_low"] = (
            "input",
            low,
            {"units": "1", "long_name": f"{level} percentile interval, low"},
        )
        data_vars[f"{key}_ci_high"] = (
            "input",
            high,
            {"units": "1", "long_name": f"{level} percentile interval, high"},
        )
    return xr.Dataset(
        data_vars,
        coords={"input": list(names), "distribution": ("input", [repr(t) for t in dists])},
        attrs={
            "title": "Sobol sensitivity indices",
            "n": n,
            "evaluations": n * (d + 2),
            "seed": str(seed),
            "n_bootstrap": n_bootstrap,
            "confidence": confidence,
            "estimators": (
                "S1: Saltelli et al. (2010), mean((f_B - m) (f_ABi - f_A)) / V, m the mean; "
                "ST: Jansen (1999), mean((f_A - f_ABi)^2) / (2 V); V = variance of f_A and "
                "f_B together"
            ),
            "design": (
                f"Saltelli: A, B and AB_i (A with column i from B), n (d + 2) evaluations; "
                f"A and B from one scrambled Sobol sequence in 2d dimensions "
                f"(scipy.stats.qmc.Sobol, {SOBOL_BITS} bits, cell midpoints), through each "
                f"input's inverse CDF; inputs independent"
            ),
            "output_mean": float(np.mean(y[: 2 * n])),
            "output_variance": variance,
        },
    )


def _check_problem(problem) -> tuple[tuple[str, ...], tuple[Distribution, ...]]:
    if not isinstance(problem, Mapping) or len(problem) == 0:
        raise ValueError(
            f"problem must be a non-empty mapping of input names to distributions, got {problem!r}"
        )
    if 2 * len(problem) > qmc.Sobol.MAXDIM:
        raise ValueError(
            f"problem has {len(problem)} inputs; the Sobol sequence allows at most "
            f"{qmc.Sobol.MAXDIM // 2}"
        )
    names, dists = [], []
    for name, value in problem.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"problem's keys must be non-empty input names, got {name!r}")
        dist = as_distribution(value, name=f"problem[{name!r}]")
        if dist.is_constant:
            raise ValueError(
                f"problem[{name!r}] is a constant ({dist!r}); a constant has no variance to "
                f"apportion: leave it out of problem and fix it inside func"
            )
        names.append(name)
        dists.append(dist)
    return tuple(names), tuple(dists)


def _check_base_points(n) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not n >= 1:
        raise ValueError(f"n must be a power of two from 2 to 2**{SOBOL_BITS}, got {n!r}")
    n = int(n)
    if n & (n - 1):
        lower = 1 << (n.bit_length() - 1)
        raise ValueError(
            f"n must be a power of two (the balance of Sobol points needs one), got {n}; "
            f"use {lower} or {2 * lower}"
        )
    if not 2 <= n <= 2**SOBOL_BITS:
        raise ValueError(f"n must be a power of two from 2 to 2**{SOBOL_BITS}, got {n}")
    return n


def _sobol_points(n: int, dims: int, rng: np.random.Generator) -> np.ndarray:
    """n scrambled Sobol points in ``dims`` dimensions, strictly inside (0, 1)."""
    # scipy 1.15 renamed the seed argument rng; older versions know only seed.
    key = "rng" if "rng" in inspect.signature(qmc.Sobol).parameters else "seed"
    engine = qmc.Sobol(d=dims, scramble=True, bits=SOBOL_BITS, **{key: rng})
    u = engine.random_base2(n.bit_length() - 1)
    # The points are multiples of 2**-bits in [0, 1): moving each to its cell's midpoint
    # keeps every column's balance and keeps the inverse CDFs finite.
    return u + 0.5 ** (SOBOL_BITS + 1)


def _inverse_cdfs(u: np.ndarray, dists: Sequence[Distribution]) -> np.ndarray:
    x = np.empty_like(u)
    for j, dist in enumerate(dists):
        x[:, j] = dist.ppf(u[:, j])
    return x


def _evaluate(func, x: np.ndarray) -> np.ndarray:
    m = x.shape[0]
    y = np.asarray(func(x))
    if y.shape == (m, 1):
        y = y[:, 0]
    if y.shape != (m,):
        raise ValueError(
            f"func must return one value per row of its ({m}, {x.shape[1]}) argument, an "
            f"array of shape ({m},); got shape {y.shape}"
        )
    if y.dtype.kind not in "biuf":
        raise ValueError(f"func must return real numbers, got dtype {y.dtype}")
    y = y.astype(np.float64)
    bad = ~np.isfinite(y)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"func returned {int(bad.sum())} non-finite values (NaN or inf) out of {m}, the "
            f"first at row {first} (inputs {x[first].tolist()}); the indices need a finite "
            f"output everywhere"
        )
    return y


def _saltelli_jansen(f_a, f_b, f_ab) -> tuple[np.ndarray, np.ndarray]:
    both = np.concatenate([f_a, f_b])
    variance = np.var(both)
    # E[f_ABi - f_A] = 0, so centring f_B changes nothing in expectation; it removes the
    # noise a large mean (NPV in the billions, say) would multiply into the estimate.
    centred = f_b - np.mean(both)
    s1 = np.mean(centred * (f_ab - f_a), axis=1) / variance
    st = 0.5 * np.mean((f_a - f_ab) ** 2, axis=1) / variance
    return s1, st


# --------------------------------------------------------------------------------------------
# Measures from one run's sampled inputs and per-path outcomes


def _sampled_inputs(ds, what: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """(names, units, values (path, input), constant names) of the inputs that vary in ``ds``."""
    if not isinstance(ds, xr.Dataset):
        raise ValueError(
            f"{what} needs the Dataset of simulate(..., keep_paths=True), got {type(ds).__name__}"
        )
    if "inputs" not in ds or ds["inputs"].dims != ("path", "input"):
        raise ValueError(
            f"{what} needs per-path outcomes and sampled inputs (variable inputs on dims "
            f"(path, input)), which this Dataset lacks: run simulate(..., keep_paths=True)"
        )
    values = np.asarray(ds["inputs"].values, dtype=np.float64)
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{what}: ds.inputs holds non-finite values")
    names = np.asarray(ds["input"].values).astype(str)
    if "input_unit" in ds.coords:
        units = np.asarray(ds["input_unit"].values).astype(str)
    else:
        units = np.full(names.size, "")
    varies = np.ptp(values, axis=0) > 0 if values.shape[0] else np.zeros(names.size, bool)
    if not varies.any():
        raise ValueError(
            f"{what}: no input is uncertain in this run (ds.inputs has {names.size} inputs, "
            f"none of which varies over the paths); make some inputs distributions"
        )
    return names[varies], units[varies], values[:, varies], names[~varies].tolist()


def _path_outcomes(ds: xr.Dataset) -> list[str]:
    return [str(v) for v in ds.data_vars if ds[v].dims == ("path",)]


def _outcome(ds: xr.Dataset, name, what: str) -> np.ndarray:
    available = _path_outcomes(ds)
    if not isinstance(name, str) or name not in available:
        raise ValueError(
            f"{what}: outcome must name a per-path variable of ds, one of {available}; got {name!r}"
        )
    y = np.asarray(ds[name].values, dtype=np.float64)
    if not np.all(np.isfinite(y)):
        raise ValueError(f"{what}: outcome {name!r} holds non-finite values")
    return y


def _pearson(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Correlation of each column of ``a`` with ``b``; NaN where either is constant."""
    a = a - a.mean(axis=0)
    b = b - b.mean()
    scale = np.sqrt(np.einsum("ij,ij->j", a, a) * (b @ b))
    return np.divide(a.T @ b, scale, out=np.full(a.shape[1], np.nan), where=scale > 0)


def _provenance(ds: xr.Dataset, n: int, constants: list[str]) -> dict[str, Any]:
    return {
        "n_paths": n,
        "seed": str(ds.attrs.get("seed", "")),
        "scenario_name": str(ds.attrs.get("scenario_name", "")),
        "constant_inputs_left_out": ", ".join(constants),
    }


def rank_correlation(ds: xr.Dataset, outcomes: Sequence[str] | None = None) -> xr.Dataset:
    """Spearman rank correlation of each uncertain input with each per-path outcome.

    Parameters
    ----------
    ds : xarray.Dataset
        A ``simulate(..., keep_paths=True)`` result (sampled ``inputs`` on
        (``path``, ``input``) and per-path outcomes on ``path``). Inputs that do
        not vary over the paths (constants) are left out.
    outcomes : sequence of str, optional
        Per-path variables to correlate with; default: the outcomes of
        :data:`kernels.layout.PATH_NAMES` present in ``ds``.

    Returns
    -------
    xarray.Dataset
        On (``input``, ``outcome``): ``estimate`` (the rank correlation, in
        [-1, 1]; positive when higher values of the input go with higher values
        of the outcome), its standard error ``se`` and 95 % interval ``ci_low``,
        ``ci_high``. NaN where the outcome takes one value on every path.

    Notes
    -----
    Ranks are averaged over ties (a month outcome's "never", T + 1, ranks
    last) and correlated with Pearson's formula. The interval is
    tanh(atanh(r) -+ 1.96 s) with s^2 = (1 + r^2 / 2) / (n - 3) (Bonett and
    Wright 2000); ``se`` = (1 - r^2) s.
    """
    names, units, x, constants = _sampled_inputs(ds, "rank_correlation")
    if outcomes is None:
        outcomes = [name for name in PATH_NAMES if name in _path_outcomes(ds)]
        if not outcomes:
            raise ValueError(
                "rank_correlation needs per-path outcomes, which this Dataset lacks: run "
                "simulate(..., keep_paths=True)"
            )
    elif isinstance(outcomes, str):
        outcomes = [outcomes]
    outcomes = list(outcomes)
    if not outcomes:
        raise ValueError("outcomes must name at least one per-path variable, got an empty list")
    n = x.shape[0]
    if n < 5:
        raise ValueError(f"rank_correlation needs at least 5 paths, ds has {n}")
    ranks = sps.rankdata(x, axis=0)
    r = np.column_stack(
        [_pearson(ranks, sps.rankdata(_outcome(ds, o, "rank_correlation"))) for o in outcomes]
    )
    s = np.sqrt((1 + r**2 / 2) / (n - 3))
    z = np.arctanh(np.clip(r, -1 + 1e-15, 1 - 1e-15))
    dims = ("input", "outcome")
    return xr.Dataset(
        {
            "estimate": (dims, r, {"units": "1", "long_name": "Spearman rank correlation"}),
            "se": (dims, (1 - r**2) * s, {"units": "1", "long_name": "its standard error"}),
            "ci_low": (dims, np.tanh(z - Z95 * s), {"units": "1", "long_name": "95% CI, low"}),
            "ci_high": (dims, np.tanh(z + Z95 * s), {"units": "1", "long_name": "95% CI, high"}),
        },
        coords={"input": names, "outcome": outcomes, "input_unit": ("input", units)},
        attrs={
            "title": "Spearman rank correlation of inputs with outcomes",
            "method": "Pearson correlation of the ranks (ties averaged)",
            "ci_method": "Fisher z, variance (1 + r^2/2)/(n - 3) (Bonett & Wright 2000)",
            "confidence": 0.95,
            **_provenance(ds, n, constants),
        },
    )


def _rank_contributions(x: np.ndarray, y: np.ndarray):
    """Rank correlations r, contributions, shares of explained and explained share R^2."""
    rx = sps.rankdata(x, axis=0)
    rx -= rx.mean(axis=0)
    ry = sps.rankdata(y)
    ry -= ry.mean()
    total = ry @ ry
    d = x.shape[1]
    if not total > 0:
        nan = np.full(d, np.nan)
        return nan, nan, nan, np.nan
    # An input constant within a batch tells nothing there: its correlation counts as 0.
    r = np.nan_to_num(_pearson(rx, ry))
    coef = np.linalg.lstsq(rx, ry, rcond=None)[0]
    residual = ry - rx @ coef
    explained = float(1 - residual @ residual / total)
    r2 = r * r
    share = r2 / r2.sum() if r2.sum() > 0 else np.zeros(d)
    return r, share * explained, share, explained


def variance_contribution(ds: xr.Dataset, outcome: str = "npv") -> xr.Dataset:
    """Share of an outcome's rank variance attributed to each uncertain input.

    Parameters
    ----------
    ds : xarray.Dataset
        A ``simulate(..., keep_paths=True)`` result with at least
        20 max(30, 5 (d + 2)) paths for d varying inputs (for the error bar).
    outcome : str
        A per-path variable of ``ds`` (``npv``, ``terminal_cash``, ...).

    Returns
    -------
    xarray.Dataset
        On ``input``, largest contribution first: ``estimate``, the share of the
        outcome's rank variance attributed to the input (the estimates sum to
        ``explained``), its ``se``, 95 % interval ``ci_low``, ``ci_high`` (clipped
        to [0, 1]), ``share_of_explained`` (the same normalised to sum to 1, the
        "contribution to variance" of spreadsheet risk tools) and
        ``rank_correlation`` (its sign gives the direction). 0-d: ``explained``,
        the R^2 of a linear regression of the outcome's ranks on all the inputs'
        ranks, and ``explained_se``.

    Notes
    -----
    With r_i the Spearman correlation of input i and the outcome,
    ``estimate_i = r_i^2 / sum_j r_j^2 * explained``. For independent inputs and
    an outcome monotone and additive in them, r_i^2 is the share of the
    outcome's rank variance that input i explains and the r_i^2 sum to about
    ``explained``; the rest (1 - explained) is interactions, non-monotone
    effects and the randomness not in the static inputs (the monthly shocks).
    Correlated inputs share explained variance, which the normalisation splits
    in proportion to r_i^2: read their contributions together, not apart.

    The standard error comes from 20 contiguous batches of paths (paths are
    independent): the spread of the batch estimates times sqrt(batch size / n),
    with a Student t interval on the batches' degrees of freedom.
    """
    names, units, x, constants = _sampled_inputs(ds, "variance_contribution")
    y = _outcome(ds, outcome, "variance_contribution")
    n, d = x.shape
    batch = n // BATCHES
    needed = BATCHES * max(30, 5 * (d + 2))
    if n < needed:
        raise ValueError(
            f"variance_contribution needs at least {needed} paths for its error bar "
            f"({BATCHES} batches of max(30, 5 (d + 2)) paths, d = {d} varying inputs); ds "
            f"has {n}"
        )
    if np.ptp(y) == 0:
        raise ValueError(
            f"variance_contribution: outcome {outcome!r} is {y[0]:g} on every path; it has "
            f"no variance to attribute"
        )
    r, contribution, share, explained = _rank_contributions(x, y)
    per_batch = [
        _rank_contributions(x[k * batch : (k + 1) * batch], y[k * batch : (k + 1) * batch])
        for k in range(BATCHES)
    ]
    contribution_b = np.array([b[1] for b in per_batch])
    explained_b = np.array([b[3] for b in per_batch])
    valid = int(np.sum(np.isfinite(explained_b)))  # a batch may see one value of the outcome
    if valid >= 2:
        scale = math.sqrt(batch / n)
        se = np.nanstd(contribution_b, axis=0, ddof=1) * scale
        explained_se = float(np.nanstd(explained_b, ddof=1) * scale)
        t = float(sps.t.ppf(0.975, valid - 1))
    else:
        se, explained_se, t = np.full(d, np.nan), math.nan, math.nan
    order = np.argsort(-contribution, kind="stable")
    attrs = {"units": "1"}
    out = xr.Dataset(
        {
            "estimate": (
                "input",
                contribution,
                {**attrs, "long_name": "share of the outcome's rank variance from the input"},
            ),
            "se": ("input", se, {**attrs, "long_name": "its standard error (batch means)"}),
            "ci_low": (
                "input",
                np.clip(contribution - t * se, 0, 1),
                {**attrs, "long_name": "95% CI, low"},
            ),
            "ci_high": (
                "input",
                np.clip(contribution + t * se, 0, 1),
                {**attrs, "long_name": "95% CI, high"},
            ),
            "share_of_explained": (
                "input",
                share,
                {**attrs, "long_name": "r^2 / sum r^2: contribution normalised to sum to 1"},
            ),
            "rank_correlation": (
                "input",
                r,
                {**attrs, "long_name": "Spearman rank correlation with the outcome"},
            ),
            "explained": (
                (),
                explained,
                {**attrs, "long_name": "R^2 of the outcome's ranks on all inputs' ranks"},
            ),
            "explained_se": ((), explained_se, {**attrs, "long_name": "its standard error"}),
        },
        coords={"input": names, "input_unit": ("input", units)},
        attrs={
            "title": f"contribution of the inputs to the rank variance of {outcome}",
            "outcome": outcome,
            "definition": (
                "estimate_i = r_i^2 / sum_j r_j^2 * explained, r_i the Spearman correlation; "
                "explained = R^2 of the linear regression of the outcome's ranks on the "
                "inputs' ranks"
            ),
            "se_method": (
                f"batch means: {BATCHES} contiguous batches of {batch} paths, sd of the batch "
                f"estimates * sqrt(batch / n); 95% Student t interval"
            ),
            "confidence": 0.95,
            **_provenance(ds, n, constants),
        },
    )
    return out.isel(input=order)


def tail_attribution(
    ds: xr.Dataset, outcome: str = "npv", tail: float = 0.05, *, worst: str | None = None
) -> xr.Dataset:
    """How each uncertain input's distribution shifts within the worst paths of an outcome.

    Parameters
    ----------
    ds : xarray.Dataset
        A ``simulate(..., keep_paths=True)`` result.
    outcome : str
        A per-path variable of ``ds``.
    tail : float
        Share of paths in the tail, in (0, 1): the ceil(tail n) worst paths.
    worst : {"low", "high"}, optional
        Which end of the outcome is bad. Default: "high" (later) for
        ``first_profit_month`` and ``payback_month``, "low" for every other
        outcome (money, and ``ruin_month``, where earlier is worse).

    Returns
    -------
    xarray.Dataset
        On ``input``, largest standardised shift first: ``overall_mean``,
        ``tail_mean``, ``mean_shift`` (= tail_mean - overall_mean, in the input's
        units) with ``mean_shift_se``, ``mean_shift_ci_low``, ``mean_shift_ci_high``
        (95 %); ``overall_sd``; ``shift_in_sd`` (= mean_shift / overall_sd) with
        ``shift_in_sd_se``; ``overall_median`` and ``tail_median``. Attributes:
        ``tail_paths``, ``threshold`` (the outcome at the tail's edge) and
        ``ties_at_threshold``.

    Notes
    -----
    Paths tied with the tail's edge are taken in path order, which is random
    since paths are independent. The standard errors are those of the
    influence function of the tail mean with the edge estimated (the same
    asymptotics as the CVaR's): with I the tail indicator, a its share, m the
    tail mean and g the input's mean on paths at the edge (averaged over the
    ceil(sqrt n) paths on either side of it), the tail mean's influence is
    [(X - m) I - (g - m)(I - a)] / a, from which the overall mean's (X - mean)
    and, for ``shift_in_sd``, the standard deviation's are subtracted.
    """
    names, units, x, constants = _sampled_inputs(ds, "tail_attribution")
    y = _outcome(ds, outcome, "tail_attribution")
    tail = _open_unit("tail", tail)
    if worst is None:
        worst = "high" if outcome in LATER_IS_WORSE else "low"
    if worst not in ("low", "high"):
        raise ValueError(f"worst must be 'low' or 'high', got {worst!r}")
    n = x.shape[0]
    k = math.ceil(round(tail * n, 9))  # 0.05 * 2000 is 100.00000000000001
    if not 2 <= k <= n - 2:
        raise ValueError(
            f"tail={tail} selects {k} of {n} paths; the tail and the rest need at least 2 "
            f"paths each"
        )
    order = np.argsort(y if worst == "low" else -y, kind="stable")
    in_tail = np.zeros(n, dtype=bool)
    in_tail[order[:k]] = True
    a = k / n
    overall_mean = x.mean(axis=0)
    overall_sd = x.std(axis=0, ddof=1)
    tail_mean = x[in_tail].mean(axis=0)
    shift = tail_mean - overall_mean
    half = math.ceil(math.sqrt(n))
    edge = x[order[max(0, k - half) : min(n, k + half)]].mean(axis=0)
    indicator = in_tail[:, np.newaxis].astype(np.float64)
    tail_influence = ((x - tail_mean) * indicator - (edge - tail_mean) * (indicator - a)) / a
    influence = tail_influence - (x - overall_mean)
    sd_influence = ((x - overall_mean) ** 2 - overall_sd**2) / (2 * overall_sd)
    standardised = influence / overall_sd - shift / overall_sd**2 * sd_influence
    shift_se = influence.std(axis=0, ddof=1) / math.sqrt(n)
    shift_in_sd = shift / overall_sd
    shift_in_sd_se = standardised.std(axis=0, ddof=1) / math.sqrt(n)
    threshold = float(y[order[k - 1]])
    order_inputs = np.argsort(-np.abs(shift_in_sd), kind="stable")
    unit = {"units": "per input: see the input_unit coordinate"}
    out = xr.Dataset(
        {
            "overall_mean": ("input", overall_mean, {**unit, "long_name": "mean over all paths"}),
            "tail_mean": ("input", tail_mean, {**unit, "long_name": "mean over the tail"}),
            "mean_shift": ("input", shift, {**unit, "long_name": "tail mean - overall mean"}),
            "mean_shift_se": ("input", shift_se, {**unit, "long_name": "its standard error"}),
            "mean_shift_ci_low": (
                "input",
                shift - Z95 * shift_se,
                {**unit, "long_name": "95% CI, low"},
            ),
            "mean_shift_ci_high": (
                "input",
                shift + Z95 * shift_se,
                {**unit, "long_name": "95% CI, high"},
            ),
            "overall_sd": ("input", overall_sd, {**unit, "long_name": "sd over all paths"}),
            "shift_in_sd": (
                "input",
                shift_in_sd,
                {"units": "1", "long_name": "shift in units of the input's overall sd"},
            ),
            "shift_in_sd_se": ("input", shift_in_sd_se, {"units": "1", "long_name": "its se"}),
            "overall_median": ("input", np.median(x, axis=0), {**unit, "long_name": "median"}),
            "tail_median": (
                "input",
                np.median(x[in_tail], axis=0),
                {**unit, "long_name": "median over the tail"},
            ),
        },
        coords={"input": names, "input_unit": ("input", units)},
        attrs={
            "title": f"inputs in the worst {tail:g} of {outcome}",
            "outcome": outcome,
            "tail": tail,
            "worst": worst,
            "tail_paths": k,
            "threshold": threshold,
            "ties_at_threshold": int(np.sum(y == threshold)),
            "se_method": "influence function of the tail mean with its edge estimated",
            "confidence": 0.95,
            **_provenance(ds, n, constants),
        },
    )
    return out.isel(input=order_inputs)


# --------------------------------------------------------------------------------------------
# Tornado


def _money(name: str) -> Callable[[xr.Dataset], np.ndarray]:
    return lambda ds: np.asarray(ds[name].values, dtype=np.float64)


def _ruined(ds: xr.Dataset) -> np.ndarray:
    return (ds.ruin_month.values <= int(ds.attrs["horizon_months"])).astype(np.float64)


def _median(name: str) -> Callable[[xr.Dataset], float]:
    return lambda ds: float(np.median(ds[name].values))


def _cvar95(name: str) -> Callable[[xr.Dataset], float]:
    return lambda ds: expected_shortfall(ds[name].values, 0.95)[0]


def _units(name: str) -> str:
    return "USD/year" if name == "terminal_arr" else "USD"


#: Metrics by name: (per-path values whose mean is the metric, or None; the metric
#: of a Dataset; units; meaning). A per-path metric gets a paired standard error.
METRICS: dict[str, tuple[Callable | None, Callable | None, str, str]] = {
    **{f"{x}_mean": (_money(x), None, _units(x), f"mean {x}") for x in DIFFERENCED},
    **{f"{x}_median": (None, _median(x), _units(x), f"median {x}") for x in DIFFERENCED},
    **{
        f"{x}_cvar95": (None, _cvar95(x), "USD", f"CVaR 0.95 of the loss -{x}")
        for x in ("npv", "cumulative_operating_profit")
    },
    "p_ruined": (_ruined, None, "1", "P(cash below 0 by the horizon)"),
}


def _check_metric(metric):
    """(per_path, value, label, units, meaning) of a metric name or callable."""
    if callable(metric):
        label = getattr(metric, "__name__", type(metric).__name__)
        return None, metric, label, "", f"callable {label}(ds)"
    if isinstance(metric, str) and metric in METRICS:
        per_path, value, units, meaning = METRICS[metric]
        return per_path, value, metric, units, meaning
    raise ValueError(
        f"metric must be one of {sorted(METRICS)} or a callable ds -> float, got {metric!r}"
    )


def _evaluate_metric(ds, per_path, value, label, where: str) -> tuple[float, np.ndarray | None]:
    if per_path is not None:
        paths = per_path(ds)
        return float(np.mean(paths)), paths
    result = value(ds)
    if isinstance(result, bool) or not isinstance(result, (int, float, np.integer, np.floating)):
        result = np.asarray(result)
        if result.shape != () or result.dtype.kind not in "iuf":
            raise ValueError(
                f"metric {label} must return a real number, got {result!r} for {where}"
            )
    result = float(result)
    if not math.isfinite(result):
        raise ValueError(f"metric {label} returned {result} for {where}; it must be finite")
    return result, None


def _tornado_inputs(scenario, inputs) -> tuple[str, ...]:
    uncertain = scenario.uncertain_inputs
    if inputs is None:
        if not uncertain:
            raise ValueError(
                f"tornado: scenario {scenario.name!r} has no uncertain input to swing; make "
                f"some inputs distributions"
            )
        return uncertain
    if isinstance(inputs, str):
        inputs = [inputs]
    names = list(inputs)
    if not names:
        raise ValueError("inputs must name at least one uncertain input, got an empty list")
    for name in names:
        if name not in scenario.inputs:
            raise ValueError(f"inputs: unknown input {name!r}; uncertain inputs: {list(uncertain)}")
        if name not in uncertain:
            raise ValueError(
                f"inputs: {name!r} is the constant {scenario.inputs[name]!r} in this scenario; "
                f"tornado swings uncertain inputs only: {list(uncertain)}"
            )
    if len(set(names)) != len(names):
        raise ValueError(f"inputs names an input twice: {names}")
    return tuple(names)


def tornado(
    scenario,
    n_paths: int,
    *,
    metric: str | Callable[[xr.Dataset], float] = "npv_mean",
    seed: int = 0,
    low: float = 0.1,
    high: float = 0.9,
    inputs: Sequence[str] | None = None,
    **simulate_kwargs: Any,
) -> xr.Dataset:
    """One-at-a-time swing of a metric as each uncertain input moves between two percentiles.

    For each input, the scenario is simulated with that input fixed at its
    ``low`` percentile, then at its ``high`` percentile, every other input
    keeping its distribution; a baseline run leaves the scenario as it is. All
    runs use the same seed and paths (common random numbers), so the swing is a
    paired difference with a small standard error.

    Parameters
    ----------
    scenario : Scenario or str
        The scenario, or a preset's name.
    n_paths : int
        Paths per run; 2 d + 1 runs for d inputs.
    metric : str or callable
        A name in :data:`METRICS`: ``<outcome>_mean`` and ``<outcome>_median`` for
        npv, cumulative_operating_profit, terminal_cash, min_cash and
        terminal_arr; ``npv_cvar95`` and ``cumulative_operating_profit_cvar95``
        (expected shortfall of the loss, minus the outcome, at 0.95: larger is
        worse); ``p_ruined`` (P(cash below 0 by the horizon)). Or a callable
        taking a run's Dataset (per-path outcomes kept) and returning a number.
    seed : int
        The seed of every run; 0 is a valid seed.
    low, high : float
        Percentile levels of the swing, 0 < low < high < 1.
    inputs : sequence of str, optional
        Inputs to swing; default: every uncertain input of the scenario.
    **simulate_kwargs
        Passed to :func:`montecarlo.simulate` (``progress`` defaults to False).
        ``keep_paths``, ``precision`` and ``max_paths`` are refused: per-path
        outcomes are always kept, and an adaptive run would break the pairing.

    Returns
    -------
    xarray.Dataset
        On ``input``, largest |swing| first: ``low_value`` and ``high_value``
        (the input's percentiles, from its inverse CDF as the kernels compute
        it), ``metric_low``, ``metric_high``, ``swing`` (= metric_high -
        metric_low) and ``swing_se`` (paired standard error for the per-path
        means ``*_mean`` and ``p_ruined``; NaN otherwise, see the
        ``swing_se_method`` attribute). Attributes: ``metric``, ``baseline``
        (the metric of the unchanged scenario), ``baseline_se``, ``low``,
        ``high``, ``n_paths``, ``seed``, ``runs``.

    Notes
    -----
    Fixing a correlated input leaves the inputs correlated with it at their
    marginal distributions, not at their distributions given that value; and a
    one-at-a-time swing shows no interactions. See docs/sensitivity.md.
    """
    scenario = _as_scenario(scenario)
    per_path, value, label, units, meaning = _check_metric(metric)
    low, high = _open_unit("low", low), _open_unit("high", high)
    if not low < high:
        raise ValueError(f"low must be below high, got low={low}, high={high}")
    names = _tornado_inputs(scenario, inputs)
    n_paths = _positive_int("n_paths", n_paths)
    budget.check_tornado(n_paths, len(scenario.uncertain_inputs), scenario.horizon_months)
    for key in ("keep_paths", "precision", "max_paths"):
        if key in simulate_kwargs:
            raise SimulationError(
                f"tornado sets {key} itself (per-path outcomes kept, a fixed number of paths "
                f"so runs pair path by path); do not pass {key}"
            )
    simulate_kwargs.setdefault("progress", False)

    def run(variant, where: str) -> tuple[float, np.ndarray | None]:
        ds = simulate(variant, n_paths, seed=seed, keep_paths=True, **simulate_kwargs)
        return _evaluate_metric(ds, per_path, value, label, where)

    baseline, base_paths = run(scenario, "the baseline")
    rows = []
    for name in names:
        levels = scenario.inputs[name].ppf(np.array([low, high]))
        results = []
        for level, x in zip((low, high), levels, strict=True):
            where = f"{name} at its {level:g} quantile ({x:g})"
            try:
                variant = scenario.replace(**{name: float(x)})
            except ScenarioError as err:
                raise ScenarioError(f"tornado: setting {where} fails: {err}") from None
            results.append(run(variant, where))
        (m_low, p_low), (m_high, p_high) = results
        se = math.nan
        if p_low is not None:
            d = p_high - p_low
            se = float(np.std(d, ddof=1) / math.sqrt(d.size)) if d.size > 1 else 0.0
        rows.append((float(levels[0]), float(levels[1]), m_low, m_high, m_high - m_low, se))
    table = np.array(rows, dtype=np.float64)
    order = np.argsort(-np.abs(table[:, 4]), kind="stable")
    table = table[order]
    names = [names[i] for i in order]
    baseline_se = math.nan
    if base_paths is not None and base_paths.size > 1:
        baseline_se = float(np.std(base_paths, ddof=1) / math.sqrt(base_paths.size))
    metric_attrs = {"units": units, "metric": label}
    input_attrs = {"units": "per input: see the input_unit coordinate"}
    return xr.Dataset(
        {
            "low_value": ("input", table[:, 0], {**input_attrs, "long_name": f"{low:g} quantile"}),
            "high_value": (
                "input",
                table[:, 1],
                {**input_attrs, "long_name": f"{high:g} quantile"},
            ),
            "metric_low": ("input", table[:, 2], {**metric_attrs, "long_name": "at low_value"}),
            "metric_high": ("input", table[:, 3], {**metric_attrs, "long_name": "at high_value"}),
            "swing": ("input", table[:, 4], {**metric_attrs, "long_name": "high - low"}),
            "swing_se": (
                "input",
                table[:, 5],
                {**metric_attrs, "long_name": "paired standard error of the swing"},
            ),
        },
        coords={"input": names, "input_unit": ("input", [FIELDS[x].unit for x in names])},
        attrs={
            "title": f"tornado of {label} for scenario '{scenario.name}'",
            "metric": label,
            "metric_meaning": meaning,
            "metric_units": units,
            "baseline": baseline,
            "baseline_se": baseline_se,
            "low": low,
            "high": high,
            "n_paths": int(n_paths),
            "seed": str(seed),
            "runs": 2 * len(names) + 1,
            "scenario_name": scenario.name,
            "horizon_months": scenario.horizon_months,
            "common_random_numbers": "yes: every run simulated with the same seed and paths",
            "swing_se_method": (
                "sd of the per-path differences (high - low) / sqrt(n_paths)"
                if per_path is not None
                else "not computed: the metric is not a mean of per-path values (NaN)"
            ),
        },
    )


__all__ = [
    "METRICS",
    "rank_correlation",
    "sobol",
    "tail_attribution",
    "tornado",
    "variance_contribution",
]


def model_sobol(
    scenario,
    n: int,
    *,
    outcome: str = "npv",
    seed: int = 0,
    inputs: Sequence[str] | None = None,
    n_bootstrap: int = 500,
    confidence: float = 0.95,
    **simulate_kwargs,
) -> xr.Dataset:
    """Sobol indices of a per-path outcome of the model over its uncertain static inputs.

    :func:`sobol` with ``func`` = the model: each block of the Saltelli design
    (A, B, AB_1 .. AB_d, n points each) is one ``simulate(scenario, n, seed=seed,
    inputs=block)`` run, so design point j of every block is path j and sees the
    same monthly shocks (common random numbers).

    Parameters
    ----------
    scenario : Scenario or str
        The scenario; the indices are of its uncertain inputs (or ``inputs``, a
        subset of them; the others are then drawn as usual on each path).
    n : int
        Base points, a power of two; the model runs n (d + 2) paths in all.
    outcome : str
        A per-path outcome of :func:`montecarlo.simulate` (``npv``,
        ``cumulative_operating_profit``, ``terminal_cash``, ``min_cash``,
        ``terminal_arr``, or a month outcome), or ``"ruined"``: 1 on paths ruined
        within the horizon, else 0.
    seed, n_bootstrap, confidence
        As for :func:`sobol`; ``seed`` also seeds the model's random streams.
    **simulate_kwargs
        Passed to :func:`montecarlo.simulate` (``backend``, ``chunk_paths``, ...).

    Returns
    -------
    xarray.Dataset
        :func:`sobol`'s Dataset, with the outcome and scenario in its attributes.

    Notes
    -----
    Sobol indices assume independent inputs: the scenario's copula correlation
    is not applied to the design (the ``correlation_ignored`` attribute names
    the correlated inputs, if any). The monthly shocks act as one more group of
    inputs, shared by the points of one base row: ``ST`` is then each static
    input's total index, interactions with the shocks included, and ``S1`` its
    first-order effect together with its interaction with the shocks
    (docs/sensitivity.md).
    """
    scenario = _as_scenario(scenario)
    for key in ("inputs", "keep_paths", "qmc", "precision", "max_paths"):
        if key in simulate_kwargs:
            raise SimulationError(f"model_sobol sets {key} itself; do not pass it")
    uncertain = scenario.uncertain_inputs
    names = tuple(uncertain if inputs is None else inputs)
    for name in names:
        if name not in uncertain:
            raise SimulationError(
                f"inputs: {name!r} is not an uncertain input of the scenario; its uncertain "
                f"inputs are {list(uncertain)}"
            )
    if not names:
        raise SimulationError("model_sobol needs at least one uncertain input")
    month_outcomes = [p for p in PATH_NAMES if p.endswith("_month")]
    if outcome not in (*PATH_NAMES, "ruined"):
        raise SimulationError(f"outcome must be one of {[*PATH_NAMES, 'ruined']}, got {outcome!r}")
    T = scenario.horizon_months
    d = len(names)
    n = _check_base_points(n)
    budget.check_model_sobol(n, d, T)

    def model(x: np.ndarray) -> np.ndarray:
        out = np.empty(x.shape[0])
        for k, block in enumerate(x.reshape(d + 2, n, d)):
            given = {name: block[:, j] for j, name in enumerate(names)}
            ds = simulate(
                scenario, n, seed=seed, inputs=given, keep_paths=True, progress=False,
                **simulate_kwargs,
            )  # fmt: skip
            if outcome == "ruined":
                values = (ds.ruin_month.values <= T).astype(np.float64)
            else:
                values = ds[outcome].values
            out[k * n : (k + 1) * n] = values
        return out

    result = sobol(
        model,
        {name: scenario.inputs[name] for name in names},
        n,
        seed,
        n_bootstrap=n_bootstrap,
        confidence=confidence,
    )
    correlated = [] if scenario.correlation is None else list(scenario.correlation.names)
    ignored = [name for name in correlated if name in names]
    unit = "1" if outcome == "ruined" else ("month" if outcome in month_outcomes else "USD")
    return result.assign_attrs(
        outcome=outcome,
        outcome_units=unit,
        scenario=scenario.to_toml(),
        scenario_name=scenario.name,
        monthly_shocks="common to the points of one base row (path j of every block)",
        correlation_ignored=", ".join(ignored) or "none",
    )
