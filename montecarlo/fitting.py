"""Inputs fitted to data: :func:`fit` (a static input's law) and :func:`fit_process` (a process).

:func:`fit` ranks the package's distributions on a sample by AIC or BIC. The
likelihood laws are fitted by maximum likelihood with scipy.stats' own
estimators (``scipy.stats.<law>.fit`` with ``floc``/``fscale`` fixed where the
package's law has no location or scale); triangular and PERT laws are fitted by
matching quantiles; the empirical law is the data itself. Standard errors come
from the observed Fisher information (a central-difference Hessian of the
negative log-likelihood at the estimate) or, for the quantile-matched laws,
from the asymptotic covariance of sample quantiles (a sandwich formula).

:func:`fit_process` estimates the monthly processes of the model
(``shared/MODEL_SPEC.md`` steps 9, 11 and 14; ``docs/model.md``) from a time
series and returns the scenario fields by name, so ``scenario.replace(**fit.fields)``
puts them in a scenario. The formulas are in ``docs/fit.md``.
"""

from __future__ import annotations

import dataclasses
import math
import types
from collections.abc import Callable, Mapping, Sequence
from importlib import resources
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.optimize
import scipy.special
import scipy.stats
import xarray as xr

from kernels.layout import DT

from . import distributions as md
from .scenario import FIELDS
from .values import real, short_repr

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "CANDIDATES",
    "CRITERIA",
    "PROCESS_KINDS",
    "FitError",
    "FitResult",
    "ProcessFit",
    "example_quotes",
    "fit",
    "fit_process",
]

#: Candidate laws of :func:`fit`, by their scenario-file names, in the default order.
CANDIDATES = (
    "lognormal",
    "gamma",
    "normal",
    "truncated_normal",
    "beta",
    "triangular",
    "pert",
    "empirical",
)
#: Model-selection criteria of :func:`fit`.
CRITERIA = ("aic", "bic")
#: Processes :func:`fit_process` estimates.
PROCESS_KINDS = ("gbm", "log_ou", "logit_ar1")
#: Fewest observations :func:`fit` accepts: fewer cannot tell 2-3 parameter laws apart.
MIN_FIT_POINTS = 5
#: Fewest observations :func:`fit_process` accepts: its standard errors are asymptotic.
MIN_PROCESS_POINTS = 10
#: Probabilities whose sample quantiles the triangular and PERT laws are matched to.
QUANTILE_LEVELS = np.linspace(0.05, 0.95, 19)
#: Largest relative difference between a gap of a DatetimeIndex and ``dt`` months
#: (calendar months are 28 to 31 days, 8 % below and 2 % above their mean).
DATE_TOLERANCE = 0.1
_DAYS_PER_MONTH = 365.25 / 12
# Step of the central differences, in free coordinates (log of a positive parameter, a
# location over its law's scale): errors ~ step^2 from truncation, eps / step^2 from round-off.
_STEP = 1e-3
#: fit_process(jumps=True) refuses jumps whose likelihood-ratio test p-value exceeds this.
JUMP_TEST_LEVEL = 0.05


class FitError(ValueError):
    """Bad input to :func:`fit` or :func:`fit_process`; the message names it and what is allowed."""


@dataclasses.dataclass(frozen=True)
class FitResult:
    """What :func:`fit` found.

    Attributes
    ----------
    best : Distribution
        The best-ranked candidate, ready for ``scenario.replace(field=fit.best)``.
    table : xarray.Dataset
        Every candidate (dim ``candidate``) with its estimated parameters and standard
        errors (``estimate``, ``se`` on ``candidate`` x ``parameter``; NaN where the
        parameter is not one of the candidate's), ``n_params``, ``loglik``, ``aic``,
        ``bic``, ``ks_statistic``, ``ks_pvalue``, ``delta`` (criterion minus the best),
        ``rank`` (1 = best; 0 = not ranked) and ``status`` (why a candidate was skipped,
        failed or not ranked).
    criterion : str
        "aic" or "bic".
    n_obs : int
        The sample size.
    """

    best: md.Distribution
    table: xr.Dataset
    criterion: str
    n_obs: int


@dataclasses.dataclass(frozen=True)
class ProcessFit:
    """What :func:`fit_process` found.

    Attributes
    ----------
    kind : str
        "gbm", "log_ou" or "logit_ar1".
    fields : Mapping[str, float]
        Scenario field name -> value: ``scenario.replace(**fit.fields)``.
    table : xarray.Dataset
        ``estimate`` and ``se`` of every field (dim ``field``, with ``units``), the
        ``method`` of each, and the raw estimates on the data's spacing in attrs.
    n_obs : int
        Observations used (values, not increments).
    dt : float
        Spacing of the observations in months.
    last : float
        The last observation (e.g. for ``electricity_price_0``; not put in ``fields``).
    """

    kind: str
    fields: Mapping[str, float]
    table: xr.Dataset
    n_obs: int
    dt: float
    last: float


# ------------------------------------------------------------------------------------------
# Input checks
# ------------------------------------------------------------------------------------------


def _positions(mask: np.ndarray, limit: int = 5) -> str:
    where = np.flatnonzero(mask)
    shown = ", ".join(str(int(i)) for i in where[:limit])
    return shown + (f" and {where.size - limit} more" if where.size > limit else "")


def _values(name: str, data: Any, minimum: int) -> np.ndarray:
    """``data`` as a 1-D float array of at least ``minimum`` finite values, or FitError."""
    raw = getattr(data, "to_numpy", lambda: data)()
    if isinstance(raw, (str, bytes)) or np.ndim(raw) == 0:
        raise FitError(
            f"{name} must be a 1-D sequence of numbers, got {short_repr(data)} "
            f"({type(data).__name__})"
        )
    try:
        arr = np.asarray(raw)
    except (TypeError, ValueError):
        arr = np.asarray(raw, dtype=object)
    if arr.dtype.kind not in "iuf":
        raise FitError(
            f"{name} must hold real numbers (int or float), got dtype {arr.dtype} "
            f"in {short_repr(data)}"
        )
    if arr.ndim != 1:
        raise FitError(f"{name} must be 1-D, got shape {arr.shape}")
    arr = arr.astype(np.float64)
    bad = ~np.isfinite(arr)
    if bad.any():
        raise FitError(
            f"{name} must be finite: NaN or inf at position(s) {_positions(bad)}; drop or "
            f"fill them first (missing values are not guessed)"
        )
    if arr.size < minimum:
        raise FitError(f"{name} must hold at least {minimum} values, got {arr.size}")
    if arr.min() == arr.max():
        raise FitError(f"{name} is constant ({arr[0]!r} throughout): no spread to fit")
    return arr


def _choice(name: str, value: Any, allowed: Sequence[str]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise FitError(f"{name} must be one of {list(allowed)}, got {short_repr(value)}")
    return value


# ------------------------------------------------------------------------------------------
# fit: one candidate
# ------------------------------------------------------------------------------------------


@dataclasses.dataclass
class _Fitted:
    names: tuple[str, ...] = ()
    values: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))
    se: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))
    dist: md.Distribution | None = None
    status: str = "fitted"
    ranked: bool = True


def _hessian(f: Callable[[np.ndarray], float], z: np.ndarray) -> np.ndarray:
    """Central-difference Hessian of ``f`` at ``z`` (step :data:`_STEP` in every coordinate)."""
    k, h = z.size, _STEP
    out = np.empty((k, k))
    eye = np.eye(k) * h
    for i in range(k):
        for j in range(i, k):
            out[i, j] = out[j, i] = (
                f(z + eye[i] + eye[j])
                - f(z + eye[i] - eye[j])
                - f(z - eye[i] + eye[j])
                + f(z - eye[i] - eye[j])
            ) / (4 * h * h)
    return out


def _mle_se(
    x: np.ndarray,
    make: Callable[..., md.Distribution],
    values: np.ndarray,
    kinds: Sequence[str | int],
) -> tuple[np.ndarray, str]:
    """Standard errors from the observed information, and a note when it is not usable.

    ``kinds[i]`` is "pos" for a positive parameter (differentiated in its log) or the
    index of the parameter that scales parameter i (a location, differentiated in
    units of that scale), so one step size suits every law and every unit of data.
    """
    values = np.asarray(values, dtype=np.float64)

    def theta(z):
        return np.array(
            [
                math.exp(z[i]) if kind == "pos" else z[i] * values[kind]
                for i, kind in enumerate(kinds)
            ]
        )

    def nll(z):
        try:
            dist = make(*theta(z))
        except md.DistributionError:
            return math.inf
        return -float(np.sum(dist.to_scipy().logpdf(x)))

    z0 = np.array(
        [math.log(v) if k == "pos" else v / values[k] for v, k in zip(values, kinds, strict=True)]
    )
    # d theta / d z at z0: exp(z) = theta for a log, the scale for a location.
    scale = np.array([v if k == "pos" else values[k] for v, k in zip(values, kinds, strict=True)])
    info = _hessian(nll, z0)
    try:
        np.linalg.cholesky(info)
    except np.linalg.LinAlgError:
        nan = np.full(values.size, np.nan)
        return nan, "; information matrix not positive definite: no standard errors"
    cov = scale[:, None] * np.linalg.inv(info) * scale[None, :]
    return np.sqrt(np.diag(cov)), ""


def _scipy_mle(x: np.ndarray, name: str) -> _Fitted:
    """The likelihood laws, by scipy.stats' estimators."""
    st = scipy.stats
    if name == "normal":
        loc, scale = st.norm.fit(x)
        names, values, kinds, make = ("mean", "sd"), (loc, scale), (1, "pos"), md.Normal
    elif name == "lognormal":
        s, _, scale = st.lognorm.fit(x, floc=0.0)
        names, values = ("mu", "sigma"), (math.log(scale), s)
        kinds, make = (1, "pos"), md.LogNormal
    elif name == "gamma":
        a, _, scale = st.gamma.fit(x, floc=0.0)
        names, values, kinds, make = ("shape", "scale"), (a, scale), ("pos", "pos"), md.Gamma
    elif name == "beta":
        a, b, _, _ = st.beta.fit(x, floc=0.0, fscale=1.0)
        names, values, kinds, make = ("a", "b"), (a, b), ("pos", "pos"), md.Beta
    else:  # pragma: no cover - the caller passes the names above only
        raise AssertionError(name)
    values = np.array(values, dtype=np.float64)
    dist = make(*values)
    se, note = _mle_se(x, make, values, kinds)
    return _Fitted(names, values, se, dist, "fitted (maximum likelihood, scipy.stats)" + note)


def _truncated_normal(x: np.ndarray, low: float, high: float) -> _Fitted:
    """Maximum likelihood with the bounds fixed in the data's units.

    scipy's ``truncnorm.fit`` fixes its bounds in standard units (a, b), which move
    with loc and scale, so its own likelihood is maximised here with
    ``scipy.optimize.minimize`` from the untruncated estimate.
    """

    def make(mean, sd):
        return md.TruncatedNormal(mean, sd, low, high)

    def nll(z):
        try:
            dist = make(z[0] * x.std(), math.exp(z[1]))
        except md.DistributionError:
            return math.inf
        return -float(np.sum(dist.to_scipy().logpdf(x)))

    start = np.array([x.mean() / x.std(), math.log(x.std())])
    options = {"xatol": 1e-10, "fatol": 1e-10, "maxiter": 4000}
    res = scipy.optimize.minimize(nll, start, method="Nelder-Mead", options=options)
    if not (res.success and np.isfinite(res.fun)):
        return _Fitted(status=f"failed: the likelihood's maximum was not found ({res.message})",
                       ranked=False)  # fmt: skip
    values = np.array([res.x[0] * x.std(), math.exp(res.x[1])])
    se, note = _mle_se(x, make, values, (1, "pos"))
    bounds = f"[{low:g}, {high:g}]" if math.isfinite(high) else f"[{low:g}, inf)"
    status = f"fitted (maximum likelihood, bounds fixed at {bounds})" + note
    return _Fitted(("mean", "sd"), values, se, make(*values), status)


def _quantile_matched(x: np.ndarray, name: str) -> _Fitted:
    """Triangular or PERT (shape 4) by least squares on the sample quantiles.

    low, mode, high minimise the squared differences between the law's quantiles and
    the sample's at :data:`QUANTILE_LEVELS`, subject to low <= min(x) - g and
    high >= max(x) + g, g = (max(x) - min(x)) / n, so every observation has a positive
    density. Standard errors: the sandwich (J'J)^-1 J' S J (J'J)^-1, S the asymptotic
    covariance of sample quantiles, (min(p_i, p_j) - p_i p_j) / (n f(q_i) f(q_j)).
    """
    law = md.Triangular if name == "triangular" else md.PERT
    n, lo, hi = x.size, float(x.min()), float(x.max())
    gap = (hi - lo) / n
    target = np.quantile(x, QUANTILE_LEVELS)

    def params(w):  # (low, high, mode's share of the width): no ordering to break
        low, high, c = w
        return low, low + c * (high - low), high

    def quantiles(w):
        return law(*params(w)).to_scipy().ppf(QUANTILE_LEVELS)

    start = np.array([lo - gap, hi + gap, 0.5])
    bounds = ([-np.inf, hi + gap, 0.0], [lo - gap, np.inf, 1.0])
    res = scipy.optimize.least_squares(lambda w: quantiles(w) - target, start, bounds=bounds,
                                       x_scale=[hi - lo, hi - lo, 1.0])  # fmt: skip
    if not res.success:
        return _Fitted(status=f"failed: quantile matching did not converge ({res.message})",
                       ranked=False)  # fmt: skip
    values = np.array(params(res.x))
    dist = law(*values)
    # Jacobian of the quantiles in the search's coordinates w = (low, high, c), by central
    # differences (one-sided where c sits at 0 or 1), then carried to (low, mode, high).
    w, width = res.x, values[2] - values[0]
    jac = np.empty((QUANTILE_LEVELS.size, 3))
    for i in range(3):
        h = _STEP * (1.0 if i == 2 else width)
        up, down = w.copy(), w.copy()
        up[i] = min(w[i] + h, 1.0) if i == 2 else w[i] + h
        down[i] = max(w[i] - h, 0.0) if i == 2 else w[i] - h
        jac[:, i] = (quantiles(up) - quantiles(down)) / (up[i] - down[i])
    p = QUANTILE_LEVELS
    density = dist.to_scipy().pdf(dist.to_scipy().ppf(p))
    quantile_cov = (np.minimum.outer(p, p) - np.outer(p, p)) / (n * np.outer(density, density))
    bread = np.linalg.pinv(jac.T @ jac)
    cov_w = bread @ jac.T @ quantile_cov @ jac @ bread
    c = w[2]
    carry = np.array([[1.0, 0.0, 0.0], [1.0 - c, c, width], [0.0, 1.0, 0.0]])
    cov = carry @ cov_w @ carry.T
    note = ""
    edge = 1e-9 * (hi - lo)
    if values[0] >= lo - gap - edge or values[2] <= hi + gap + edge or c in (0.0, 1.0):
        note = "; an estimate is held at a bound (the data's edge, or mode = low or high): "
        note += "the standard errors understate"
    status = "fitted (quantiles matched by least squares; not maximum likelihood)" + note
    return _Fitted(("low", "mode", "high"), values, np.sqrt(np.diag(cov)), dist, status)


def _fit_one(x: np.ndarray, name: str) -> _Fitted:
    lo, hi = float(x.min()), float(x.max())
    if name == "empirical":
        return _Fitted(
            dist=md.Empirical(x),
            status=(
                "not ranked: atoms have no density, hence no likelihood, AIC or BIC; chosen "
                "only when no other candidate fits (e.g. candidates=['empirical'])"
            ),
            ranked=False,
        )
    if name in ("lognormal", "gamma") and lo <= 0:
        return _Fitted(status=f"skipped: support (0, inf) excludes the data (min {lo:g})",
                       ranked=False)  # fmt: skip
    if name == "beta" and not (lo > 0 and hi < 1):
        return _Fitted(
            status=f"skipped: support (0, 1) excludes the data (min {lo:g}, max {hi:g})",
            ranked=False,
        )
    if name == "truncated_normal":
        if lo < 0:
            return _Fitted(
                status=(
                    f"skipped: fitted on [0, inf), or [0, 1] for shares; the data go below 0 "
                    f"(min {lo:g}): use normal"
                ),
                ranked=False,
            )
        return _truncated_normal(x, 0.0, 1.0 if hi <= 1 else math.inf)
    if name in ("triangular", "pert"):
        return _quantile_matched(x, name)
    return _scipy_mle(x, name)


# ------------------------------------------------------------------------------------------
# fit
# ------------------------------------------------------------------------------------------


def fit(
    data: Any,
    candidates: Sequence[str] | None = None,
    *,
    criterion: str = "aic",
) -> FitResult:
    """Fit the package's distributions to a sample and rank them.

    Each candidate whose support contains the data is fitted; the others are
    listed as skipped, not fitted. The fitted ones are ranked by ``criterion``
    (AIC = 2k - 2 loglik, BIC = k ln n - 2 loglik, k estimated parameters).

    - lognormal, gamma (location fixed at 0), normal, beta (on [0, 1]): maximum
      likelihood by ``scipy.stats.<law>.fit``.
    - truncated normal: maximum likelihood with the bounds fixed at [0, inf), or
      [0, 1] when every value lies in [0, 1]; skipped for data below 0.
    - triangular, PERT (shape 4): low, mode and high matched to the sample's
      quantiles at :data:`QUANTILE_LEVELS` by least squares, with the support
      reaching (max - min) / n beyond the sample so that every value has a
      positive density. Not maximum likelihood: their likelihood (hence AIC and
      BIC) is at most what the likelihood's maximum would give, so the ranking
      is conservative towards them.
    - empirical: the data itself. It has no density, so it is listed but not
      ranked, and chosen only when no other candidate fits (ask for
      ``candidates=["empirical"]`` to get it).

    Standard errors: the observed Fisher information (central-difference Hessian
    of the negative log-likelihood at the estimate) for the likelihood fits; for
    the quantile-matched laws the asymptotic covariance of sample quantiles
    through the least-squares fit. Both are large-sample approximations.

    The Kolmogorov-Smirnov statistic and p-value compare the data with the fitted
    law. The p-value is optimistic (too large): the parameters were estimated from
    the same data, which pulls the law towards it; use it to rank, not to test.

    Parameters
    ----------
    data : array_like
        1-D sample of at least :data:`MIN_FIT_POINTS` finite values, not all equal.
    candidates : sequence of str, optional
        Names from :data:`CANDIDATES` (default: all of them).
    criterion : {"aic", "bic"}
        The ranking criterion; smaller is better.

    Returns
    -------
    FitResult
        ``best`` (a montecarlo Distribution), ``table`` (xarray.Dataset),
        ``criterion`` and ``n_obs``.

    Raises
    ------
    FitError
        Bad data, an unknown candidate or criterion, or no candidate could be fitted.
    """
    x = _values("data", data, MIN_FIT_POINTS)
    criterion = _choice("criterion", criterion, CRITERIA)
    if candidates is None:
        names = list(CANDIDATES)
    else:
        if isinstance(candidates, str) or not isinstance(candidates, Sequence):
            raise FitError(
                f"candidates must be a list of names from {list(CANDIDATES)}, "
                f"got {short_repr(candidates)}"
            )
        names = [_choice("candidates", c, CANDIDATES) for c in candidates]
        if not names or len(set(names)) != len(names):
            raise FitError(
                f"candidates must be a non-empty list of distinct names from "
                f"{list(CANDIDATES)}, got {short_repr(candidates)}"
            )
    n = x.size
    fits = {name: _fit_one(x, name) for name in names}

    parameters = list(dict.fromkeys(p for f in fits.values() for p in f.names))
    m, k = len(names), len(parameters)
    estimate, se = np.full((m, k), np.nan), np.full((m, k), np.nan)
    stats = {key: np.full(m, np.nan) for key in ("loglik", "aic", "bic", "ks_stat", "ks_p")}
    n_params = np.zeros(m, dtype=np.int64)
    for i, f in enumerate(fits.values()):
        if not (f.ranked and f.dist is not None):
            continue
        for name, value, err in zip(f.names, f.values, f.se, strict=True):
            j = parameters.index(name)
            estimate[i, j], se[i, j] = value, err
        frozen = f.dist.to_scipy()
        loglik = float(np.sum(frozen.logpdf(x)))
        if not math.isfinite(loglik):  # cannot happen for a support that covers the data
            f.status += "; zero density at some values: not ranked"
            continue
        n_params[i] = len(f.names)
        ks = scipy.stats.kstest(x, frozen.cdf)
        stats["loglik"][i] = loglik
        stats["aic"][i] = 2 * n_params[i] - 2 * loglik
        stats["bic"][i] = n_params[i] * math.log(n) - 2 * loglik
        stats["ks_stat"][i], stats["ks_p"][i] = ks.statistic, ks.pvalue

    score = stats[criterion]
    ranked = np.isfinite(score)
    rank = np.zeros(m, dtype=np.int64)
    order = np.argsort(np.where(ranked, score, np.inf), kind="stable")[: int(ranked.sum())]
    rank[order] = np.arange(1, order.size + 1)
    if order.size:
        best_name = names[int(order[0])]
        delta = score - score[order[0]]
    elif "empirical" in fits:
        best_name, delta = "empirical", np.full(m, np.nan)
    else:
        why = "; ".join(f"{name}: {f.status}" for name, f in fits.items())
        raise FitError(f"no candidate could be fitted to data: {why}")

    c = "candidate"
    table = xr.Dataset(
        {
            "estimate": ((c, "parameter"), estimate, {
                "long_name": "estimated parameter (NaN: not a parameter of this candidate)"}),
            "se": ((c, "parameter"), se, {
                "long_name": "standard error (asymptotic; NaN: not a parameter or not fitted)"}),
            "n_params": (c, n_params, {"long_name": "estimated parameters k"}),
            "loglik": (c, stats["loglik"], {"long_name": "log-likelihood at the estimate"}),
            "aic": (c, stats["aic"], {"long_name": "AIC = 2k - 2 loglik"}),
            "bic": (c, stats["bic"], {"long_name": "BIC = k ln n - 2 loglik"}),
            "ks_statistic": (c, stats["ks_stat"], {"long_name": "Kolmogorov-Smirnov statistic"}),
            "ks_pvalue": (c, stats["ks_p"], {
                "long_name": "Kolmogorov-Smirnov p-value (optimistic: parameters fitted "
                             "to the same data)"}),
            "delta": (c, delta, {"long_name": f"{criterion} minus the best's"}),
            "rank": (c, rank, {"long_name": f"rank by {criterion} (1 = best, 0 = not ranked)"}),
            "status": (c, [f.status for f in fits.values()]),
        },
        coords={c: names, "parameter": parameters},
        attrs={
            "title": f"distributions fitted to {n} values, ranked by {criterion}",
            "criterion": criterion,
            "n_obs": n,
            "best": best_name,
            "data_min": float(x.min()),
            "data_max": float(x.max()),
            "method": (
                "maximum likelihood by scipy.stats (truncated normal: scipy.optimize on "
                "scipy.stats.truncnorm's likelihood); triangular and PERT by least squares on "
                "sample quantiles; standard errors from the observed information or the "
                "quantiles' asymptotic covariance"
            ),
            "montecarlo_version": _version(),
        },
    )  # fmt: skip
    best = fits[best_name].dist
    assert best is not None
    return FitResult(best=best, table=table, criterion=criterion, n_obs=n)


def _version() -> str:
    from . import __version__

    return __version__


# ------------------------------------------------------------------------------------------
# fit_process
# ------------------------------------------------------------------------------------------


def _series(series: Any, dt: float) -> np.ndarray:
    """Values of a regular series; a DatetimeIndex must step by ``dt`` months."""
    import pandas as pd

    index = getattr(series, "index", None)
    values = _values("series", series, MIN_PROCESS_POINTS)
    if isinstance(index, pd.DatetimeIndex):
        if index.has_duplicates or not index.is_monotonic_increasing:
            raise FitError("series: its DatetimeIndex must be strictly increasing (sort it, "
                           "drop duplicate dates)")  # fmt: skip
        seconds = index.to_numpy().astype("datetime64[s]").astype(np.int64)
        days = np.diff(seconds) / 86400.0
        expected = dt * _DAYS_PER_MONTH
        off = np.abs(days / expected - 1) > DATE_TOLERANCE
        if off.any():
            i = int(np.flatnonzero(off)[0])
            raise FitError(
                f"series: irregular dates: the gap from {index[i].date()} to "
                f"{index[i + 1].date()} is {days[i]:g} days, but dt={dt:g} months is "
                f"{expected:.1f} days (within {DATE_TOLERANCE:.0%}); pass the right dt, or put "
                f"the series on a regular grid first (series.resample('MS').last()) and fill "
                f"the periods without a value (missing values are refused, not guessed) or fit "
                f"the longest run without a gap"
            )
    return values


def _delta_se(fun: Callable[[np.ndarray], np.ndarray], theta: np.ndarray, cov: np.ndarray):
    """Standard errors of ``fun(theta)`` by the delta method (central-difference Jacobian)."""
    k = theta.size
    jac = []
    for i in range(k):
        h = _STEP * max(abs(theta[i]), math.sqrt(cov[i, i]))
        step = np.zeros(k)
        step[i] = h
        jac.append((fun(theta + step) - fun(theta - step)) / (2 * h))
    jac = np.array(jac).T
    return np.sqrt(np.diag(jac @ cov @ jac.T))


def _ar1(y: np.ndarray, kind: str) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
    """y_{i+1} = c + b y_i + s e_i by least squares (the Gaussian likelihood given y_0)."""
    lr = scipy.stats.linregress(y[:-1], y[1:])
    m = y.size - 1
    resid = y[1:] - lr.intercept - lr.slope * y[:-1]
    s = math.sqrt(float(resid @ resid) / (m - 2))
    b, c = float(lr.slope), float(lr.intercept)
    if not 0 < b < 1:
        what = "utilisation in logit space" if kind == "logit_ar1" else "the log price"
        advice = (
            "the series does not revert to a level: fit kind='gbm', or use a longer series"
            if b >= 1
            else "the model's persistence lies in [0, 1)"
        )
        raise FitError(
            f"fit_process(kind={kind!r}): the AR(1) slope of {what} is {b:.4g} "
            f"(SE {lr.stderr:.2g}), outside (0, 1): {advice}"
        )
    cov_cb = np.array(
        [[lr.intercept_stderr**2, -y[:-1].mean() * lr.stderr**2],
         [-y[:-1].mean() * lr.stderr**2, lr.stderr**2]]
    )  # fmt: skip
    cov = np.zeros((3, 3))
    cov[:2, :2] = cov_cb
    cov[2, 2] = s * s / (2 * (m - 2))
    raw = {"intercept": c, "intercept_se": float(lr.intercept_stderr), "slope": b,
           "slope_se": float(lr.stderr), "residual_sd": s,
           "residual_sd_se": math.sqrt(cov[2, 2])}  # fmt: skip
    return np.array([c, b, s]), cov, raw


def _gbm_with_jumps(r: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
    """The hardware index with its generation jumps, by maximum likelihood.

    Over k months a log increment is k a + sqrt(k) b e + n log(1 - q): a = (mu -
    sigma^2/2) / 12 and b = sigma / sqrt(12) the monthly drift and volatility, n ~
    Binomial(k, p) the jumps (the model draws one with probability p = rate / 12 each
    month) and q their size; the likelihood of each increment is the mixture over n.
    Searched in z = (a, log b, logit p, logit q) from several starts (scipy's
    Nelder-Mead, then BFGS); standard errors from the observed information in z.
    Returns (fields, their covariance, raw estimates).
    """
    n_jumps = np.arange(k + 1)
    log_binom = scipy.special.gammaln(k + 1) - scipy.special.gammaln(n_jumps + 1) - (
        scipy.special.gammaln(k - n_jumps + 1)
    )

    def nll(z):
        a, b = z[0], math.exp(z[1])
        # log p, log(1 - p) and log(1 - q) from the logits, finite wherever z is.
        log_p, log_not_p = -np.logaddexp(0.0, -z[2]), -np.logaddexp(0.0, z[2])
        mean = k * a - n_jumps[:, None] * np.logaddexp(0.0, z[3])
        weight = log_binom + n_jumps * log_p + (k - n_jumps) * log_not_p
        terms = weight[:, None] + scipy.stats.norm.logpdf(r[None, :], mean, b * math.sqrt(k))
        value = -float(np.sum(scipy.special.logsumexp(terms, axis=0)))
        return value if math.isfinite(value) else math.inf

    med = float(np.median(r))
    spread = 1.4826 * float(np.median(np.abs(r - med))) / math.sqrt(k) or float(np.std(r)) or 1e-3
    # The mixture has local optima (a few large increments read as jumps, or as the
    # diffusion's tail): BFGS from a small grid of jump probabilities and sizes.
    best = None
    for p0 in (0.02, 0.15):
        for q0 in (0.1, 0.4):
            z0 = np.array([med / k, math.log(spread), scipy.special.logit(p0),
                           scipy.special.logit(q0)])  # fmt: skip
            found = scipy.optimize.minimize(nll, z0, method="BFGS")
            if math.isfinite(found.fun) and (best is None or found.fun < best.fun):
                best = found
    if best is None:
        raise FitError("fit_process(kind='gbm', jumps=True): the likelihood search failed")
    z = best.x
    p = float(scipy.special.expit(z[2]))
    expected = p * k * r.size
    info = _hessian(nll, z)
    try:
        np.linalg.cholesky(info)
    except np.linalg.LinAlgError:
        info = None
    if expected < 1 or info is None:
        raise FitError(
            f"fit_process(kind='gbm', jumps=True): the series identifies no generation "
            f"jumps (the fit expects {expected:.2g} in its {k * r.size} months"
            + ("" if info is not None else "; the information matrix is not positive definite")
            + "): fit with jumps=False, or use a longer series"
        )
    # Are the jumps in the data, or is the mixture dressing up the diffusion's tails as
    # many small jumps? The likelihood ratio against the plain GBM, read against
    # chi-square(2): approximate, since under "no jumps" p sits on its bound and q is
    # unidentified (on simulated jump-free series it rejected about 7 % at the 5 % level).
    mean0, sd0 = scipy.stats.norm.fit(r)
    ratio = 2 * (-nll(z) - float(np.sum(scipy.stats.norm.logpdf(r, mean0, sd0))))
    p_value = float(scipy.stats.chi2.sf(max(ratio, 0.0), 2))
    if p_value > JUMP_TEST_LEVEL:
        raise FitError(
            f"fit_process(kind='gbm', jumps=True): the series shows no evidence of jumps "
            f"(likelihood ratio {ratio:.3g} against the model without them, p = {p_value:.2g} "
            f"> {JUMP_TEST_LEVEL:g}): fit with jumps=False"
        )
    cov_z = np.linalg.inv(info)

    def to_fields(t):
        a, b = t[0], math.exp(t[1])
        return np.array([12 * a + 6 * b * b, math.sqrt(12) * b,
                         12 * scipy.special.expit(t[2]), scipy.special.expit(t[3])])  # fmt: skip

    raw = {"monthly_log_drift": float(z[0]), "monthly_volatility": math.exp(z[1]),
           "monthly_jump_probability": p, "expected_jumps_in_series": expected,
           "log_likelihood": -nll(z), "jump_likelihood_ratio": ratio,
           "jump_test_p_value": p_value}  # fmt: skip
    return to_fields(z), _delta_se(to_fields, z, cov_z), raw


def fit_process(series: Any, kind: str, *, dt: float, jumps: bool = False) -> ProcessFit:
    """Estimate one of the model's monthly processes from a time series.

    kinds (``docs/model.md`` steps 11, 14 and 9; formulas in ``docs/fit.md``):

    - ``"gbm"``: the hardware price index (a price or index series, > 0). The log
      increments over tau = dt / 12 years are normal with mean (mu - sigma^2/2) tau
      and variance sigma^2 tau; ``scipy.stats.norm.fit`` gives their maximum
      likelihood mean and variance. Fields ``hardware_drift`` (mu, 1/yr),
      ``hardware_volatility`` (sigma, 1/sqrt(yr)) and ``generation_jump_rate`` = 0:
      a generation jump every two years or so cannot be told from the diffusion in
      a few years of data, and the fitted drift and volatility already carry the
      jumps the series had, so keeping the scenario's jumps would count them twice.
      With ``jumps=True`` the jumps are estimated too: ``generation_jump_rate``
      (1/yr) and ``generation_jump_size`` join the drift and volatility, by maximum
      likelihood of the model's own monthly mixture (a jump in a month with
      probability rate / 12, the index then multiplied by 1 - size). It needs whole
      months between observations and a series long enough to hold jumps: a fit that
      finds fewer than one is an error, and so is one whose likelihood-ratio test
      against the model without jumps has a p-value above :data:`JUMP_TEST_LEVEL`
      (chi-square with 2 degrees of freedom, approximate): a mixture can always read
      a diffusion's tails as many small jumps. A -30 % jump is five monthly standard
      deviations of a 25 % volatility, so jumps of that size stand out; their rate
      is known only as well as their count allows (about rate / sqrt(count)).
    - ``"log_ou"``: electricity prices (> 0). The model's month is the AR(1)
      y_t = y_{t-1} + a dt (log L - y_{t-1}) + sigma sqrt(dt) z in y = log price;
      fitted as y_{i+1} = c + b y_i + s e by least squares. Fields
      ``electricity_mean`` L = exp(c / (1 - b)), ``electricity_reversion``
      a = 12 (1 - b^(1/dt)) and ``electricity_volatility``
      sigma = sqrt(12) s sqrt((1 - b^(2/dt)) / (1 - b^2)).
    - ``"logit_ar1"``: utilisation, values in (0, 1), as an AR(1) in logit space:
      ``utilization_mean`` = expit(c / (1 - b)), ``utilization_persistence``
      phi = b^(1/dt), ``utilization_volatility`` s sqrt((1 - phi^2) / (1 - b^2))
      (logit units per month).

    With dt = 1 the mappings are the model's own; with an integer dt they are exact
    (every dt-th month of the monthly AR(1) is an AR(1)); otherwise (e.g. weekly
    data) they read the monthly process as the one whose dt-step is the fitted one.

    Standard errors: normal theory of the increments (gbm) or of the least-squares
    regression (the AR kinds), carried to the fields by the delta method. They are
    asymptotic; short or near-unit-root AR series bias the reversion estimate
    upwards (a known small-sample effect), which the SE does not include.

    Parameters
    ----------
    series : pandas.Series or array_like
        At least :data:`MIN_PROCESS_POINTS` observations, oldest first, equally
        spaced. Missing values (NaN) are an error naming their positions: drop or
        fill them first. A pandas DatetimeIndex is checked: every gap must be dt
        months within :data:`DATE_TOLERANCE` (so monthly dates of 28-31 days pass);
        irregular dates are an error (resample first). Other indexes are ignored.
    kind : {"gbm", "log_ou", "logit_ar1"}
        The process.
    dt : float
        Spacing of the observations in months (the model's step is one month):
        1 for monthly data, 12 / 52 for weekly, 3 for quarterly. A number > 0.
    jumps : bool
        For ``kind="gbm"``: also estimate the generation jumps (rate and size); dt
        must then be a whole number of months.

    Returns
    -------
    ProcessFit
        ``fields`` (scenario field -> value), ``table``, ``n_obs``, ``dt``, ``last``.
    """
    kind = _choice("kind", kind, PROCESS_KINDS)
    dt = real("dt", dt, error=FitError, allow_inf=True)
    if not (math.isfinite(dt) and dt > 0):
        raise FitError(f"dt must be a finite number of months > 0, got {dt!r}")
    if not isinstance(jumps, (bool, np.bool_)):
        raise FitError(f"jumps must be True or False, got {jumps!r}")
    if jumps and kind != "gbm":
        raise FitError(f"jumps=True is for kind='gbm' (the hardware index), not kind={kind!r}")
    if jumps and not (dt >= 1 and float(dt).is_integer()):
        raise FitError(
            f"jumps=True needs observations a whole number of months apart (the model draws "
            f"a jump or none each month), got dt={dt!r}"
        )
    x = _series(series, dt)
    if kind in ("gbm", "log_ou") and x.min() <= 0:
        raise FitError(
            f"series: kind={kind!r} models a price, which must be > 0; got {x.min():g} at "
            f"position(s) {_positions(x <= 0)}"
        )
    if kind == "logit_ar1" and not (x.min() > 0 and x.max() < 1):
        bad = (x <= 0) | (x >= 1)
        raise FitError(
            f"series: kind='logit_ar1' models utilisation, a share in (0, 1) (its logit "
            f"must be finite); got values outside at position(s) {_positions(bad)}"
        )
    years = dt * DT

    if kind == "gbm" and jumps:
        names = ["hardware_drift", "hardware_volatility", "generation_jump_rate",
                 "generation_jump_size"]  # fmt: skip
        estimate, se, raw = _gbm_with_jumps(np.diff(np.log(x)), int(dt))
        methods = ["maximum likelihood of the log increments, jumps as a binomial mixture"] * 4
    elif kind == "gbm":
        r = np.diff(np.log(x))
        mean, sd = scipy.stats.norm.fit(r)
        theta = np.array([mean, sd * sd])
        cov = np.diag([sd * sd / r.size, 2 * sd**4 / r.size])

        def to_fields(t):
            return np.array([t[0] / years + t[1] / (2 * years), math.sqrt(t[1] / years)])

        names = ["hardware_drift", "hardware_volatility"]
        methods = ["maximum likelihood of the log increments"] * 2
        raw = {"log_increment_mean": float(mean), "log_increment_sd": float(sd)}
    else:
        y = np.log(x) if kind == "log_ou" else scipy.special.logit(x)
        theta, cov, raw = _ar1(y, kind)

        def to_fields(t):
            c, b, s = t
            b_month = b ** (1 / dt)
            level = c / (1 - b)
            sd_month = s * math.sqrt((1 - b_month**2) / (1 - b**2))
            if kind == "log_ou":
                return np.array([math.exp(level), (1 - b_month) / DT, sd_month / math.sqrt(DT)])
            return np.array([scipy.special.expit(level), b_month, sd_month])

        names = (
            ["electricity_mean", "electricity_reversion", "electricity_volatility"]
            if kind == "log_ou"
            else ["utilization_mean", "utilization_persistence", "utilization_volatility"]
        )
        methods = ["least squares AR(1) on the log price" if kind == "log_ou"
                   else "least squares AR(1) in logit space"] * 3  # fmt: skip

    if not (kind == "gbm" and jumps):
        estimate = to_fields(theta)
        se = _delta_se(to_fields, theta, cov)
    if kind == "gbm" and not jumps:
        names.append("generation_jump_rate")
        estimate, se = np.append(estimate, 0.0), np.append(se, 0.0)
        methods.append("set to 0: the fitted drift and volatility carry the series' jumps")
    for name, value in zip(names, estimate, strict=True):
        allowed = FIELDS[name].range
        if not allowed.contains(float(value)):
            raise FitError(
                f"fit_process(kind={kind!r}): the fitted {name} = {value!r} is outside its "
                f"range ({allowed.describe()}); the series does not fit this process"
            )
    fields = types.MappingProxyType({n: float(v) for n, v in zip(names, estimate, strict=True)})
    table = xr.Dataset(
        {
            "estimate": ("field", estimate, {"long_name": "fitted scenario field"}),
            "se": ("field", se, {"long_name": "standard error (asymptotic, delta method)"}),
            "method": ("field", methods),
        },
        coords={"field": names, "units": ("field", [FIELDS[n].unit for n in names])},
        attrs={
            "title": f"{kind} process fitted to {x.size} observations {dt:g} months apart",
            "kind": kind,
            "jumps": int(jumps),
            "dt_months": dt,
            "n_obs": int(x.size),
            **raw,
            "montecarlo_version": _version(),
        },
    )
    return ProcessFit(kind=kind, fields=fields, table=table, n_obs=int(x.size), dt=dt,
                      last=float(x[-1]))  # fmt: skip


# ------------------------------------------------------------------------------------------
# Example data
# ------------------------------------------------------------------------------------------


def example_quotes() -> pd.Series:
    """SYNTHETIC monthly H100 rental quotes (USD per GPU-hour), for examples and docs.

    Generated by ``montecarlo/data/make_synthetic_quotes.py`` from a known GBM (its
    parameters are in the file's header and in ``series.attrs``); not market data.
    The Series has a monthly DatetimeIndex, so ``fit_process(quotes, "gbm", dt=1)``.
    """
    import pandas as pd

    path = resources.files("montecarlo") / "data" / "gpu_rent_quotes_synthetic.csv"
    with resources.as_file(path) as file:
        with open(file, encoding="utf-8") as lines:
            header = [line[1:].strip() for line in lines if line.startswith("#")]
        frame = pd.read_csv(file, comment="#", parse_dates=["month"])
    series = frame.set_index("month")["usd_per_gpu_hour"]
    series.name = "usd_per_gpu_hour (SYNTHETIC)"
    series.attrs.update(synthetic=True, description=" ".join(header))
    return series
