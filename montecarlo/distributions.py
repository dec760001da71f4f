"""User-facing distributions of the uncertain static inputs.

Each spec validates its parameters once, in Python, and knows how to hand
itself to the kernels (:mod:`kernels.distributions`) as an integer kind, four
float parameters and an optional data array. Closed-form inverse CDFs are used
where they exist (constant, uniform, normal, lognormal, triangular, truncated
normal, empirical, discrete); the others (beta, PERT, gamma, any frozen
continuous ``scipy.stats`` distribution) are tabulated once with scipy on a
grid of normal scores and interpolated in the kernel.

Table accuracy: the quantile table holds x = F^-1(Phi(z)) and dx/dz on
:data:`TABLE_POINTS` equally spaced z in [-:data:`TABLE_Z_MAX`, +TABLE_Z_MAX],
joined by monotone cubic Hermite pieces (PCHIP). Over u in (1e-6, 1 - 1e-6)
it matches scipy's ``ppf`` within :data:`TABLE_ACCURACY` times (|x| + IQR),
IQR being the distribution's interquartile range, for shape parameters of 0.1
and above (tested for every tabulated family over a spread of shapes); below
0.1, where quantiles span hundreds of decades, within
:data:`SMALL_SHAPE_TABLE_ACCURACY`. Beyond |z| = TABLE_Z_MAX it returns the
end values.
"""

from __future__ import annotations

import dataclasses
import math
import sys
import warnings
from collections.abc import Mapping
from functools import cached_property
from typing import Any

import numpy as np
import scipy.interpolate
import scipy.special
import scipy.stats

from kernels import distributions as kd

from .values import real

#: Normal-score range and size of the quantile tables (Phi(-8.5) is about 1e-17).
TABLE_Z_MAX = 8.5
TABLE_POINTS = 4097
#: Stated accuracy of tabulated inverse CDFs, relative to |x| + IQR (see module docs),
#: for shape parameters >= 0.1; below that, SMALL_SHAPE_TABLE_ACCURACY.
TABLE_ACCURACY = 1e-7
SMALL_SHAPE_TABLE_ACCURACY = 1e-6
#: Largest shape parameter of the tabulated laws (Beta's a and b, PERT's and Gamma's shape).
#: Beyond it scipy's quantile functions lose accuracy or take minutes (PERT shape 1e300),
#: and the law is a normal for every purpose: use Normal or TruncatedNormal.
MAX_SHAPE = 1e6
#: Largest mu + LOGNORMAL_TAIL_Z sigma of a LogNormal: exp of more overflows a double.
LOG_FLOAT_MAX = math.log(sys.float_info.max)
#: Normal score (one draw in about 3e4 lies beyond it) up to which LogNormal draws must be finite;
#: rarer overflows are caught by the checks of every result (docs/engine.md, Overflow).
LOGNORMAL_TAIL_Z = 4.0


class DistributionError(ValueError):
    """A distribution's parameters are invalid; the message names which and why."""


def _real(owner: str, name: str, value: Any, *, finite: bool = True) -> float:
    return real(f"{owner}: {name}", value, error=DistributionError, allow_inf=not finite)


def _positive(owner: str, name: str, value: Any) -> float:
    value = _real(owner, name, value)
    if not value > 0:
        raise DistributionError(f"{owner}: {name} must be > 0, got {value}")
    return value


def _shape(owner: str, name: str, value: Any) -> float:
    value = _positive(owner, name, value)
    if value > MAX_SHAPE:
        raise DistributionError(
            f"{owner}: {name} must be at most {MAX_SHAPE:g}, got {value!r}; a law this "
            f"concentrated is a normal for every purpose: use Normal or TruncatedNormal"
        )
    return value


def _ordered(owner: str, *, finite_width: bool = True, **bounds: float) -> None:
    names, values = list(bounds), list(bounds.values())
    got = ", ".join(f"{k}={v}" for k, v in bounds.items())
    if any(a > b for a, b in zip(values, values[1:], strict=False)) or values[0] >= values[-1]:
        rule = " <= ".join(names)
        raise DistributionError(f"{owner}: need {rule} with {names[0]} < {names[-1]}, got {got}")
    if finite_width and not math.isfinite(values[-1] - values[0]):
        raise DistributionError(
            f"{owner}: {names[-1]} - {names[0]} must be a finite number (at most about 1.8e308), "
            f"got {got}"
        )


class Distribution:
    """Base of every input distribution.

    Subclasses are frozen dataclasses that validate in ``__post_init__`` and
    implement :meth:`kernel_spec` and :meth:`to_scipy`.
    """

    #: Name used in scenario files (``{dist = "normal", ...}``).
    name: str = ""

    def kernel_spec(self) -> tuple[int, np.ndarray, np.ndarray]:
        """``(kind, params[4], data)`` as the kernels take them."""
        raise NotImplementedError

    def to_scipy(self):
        """The equivalent frozen ``scipy.stats`` distribution."""
        raise NotImplementedError

    @property
    def support(self) -> tuple[float, float]:
        """Smallest and largest value a draw can take."""
        return tuple(float(v) for v in self.to_scipy().support())

    @property
    def is_constant(self) -> bool:
        return False

    def ppf_from_normal(self, z) -> np.ndarray:
        """F^-1(Phi(z)) as the kernels compute it, for an array of normal scores."""
        z = np.asarray(z, dtype=np.float64)
        kind, params, data = self.kernel_spec()
        out = np.empty(z.size, dtype=np.float64)
        kd.transform_normals(kind, params, data, np.ascontiguousarray(z.ravel()), out)
        return out.reshape(z.shape)

    def ppf(self, u) -> np.ndarray:
        """Inverse CDF at probabilities ``u`` in (0, 1), as the kernels compute it."""
        u = np.asarray(u, dtype=np.float64)
        if not np.all((u > 0) & (u < 1)):
            bad = u[~((u > 0) & (u < 1))].ravel()[0]
            raise DistributionError(f"ppf: probabilities must lie in (0, 1), got {bad}")
        return self.ppf_from_normal(scipy.special.ndtri(u))

    def sample(self, n: int, *, seed: int = 0) -> np.ndarray:
        """``n`` draws from the engine's random streams (input 0 of paths 0..n-1)."""
        from .inputs import sample_inputs

        return sample_inputs({"x": self}, n, seed=seed).values[:, 0]

    def to_dict(self) -> dict[str, Any]:
        """Plain mapping for scenario files; :func:`from_dict` inverts it."""
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return {"dist": self.name, **{k: _plain(v) for k, v in fields.items()}}


def _plain(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, tuple):
        return list(value)
    return value


def _params(*values: float) -> np.ndarray:
    out = np.zeros(4, dtype=np.float64)
    out[: len(values)] = values
    return out


@dataclasses.dataclass(frozen=True)
class Constant(Distribution):
    """A known value."""

    value: float
    name = "constant"

    def __post_init__(self):
        object.__setattr__(self, "value", _real("Constant", "value", self.value, finite=False))

    def kernel_spec(self):
        return kd.CONSTANT, _params(self.value), kd.empty_data()

    def to_scipy(self):
        return _FiniteDistribution(np.array([self.value]), np.array([1.0]))

    @property
    def support(self):
        return (self.value, self.value)

    @property
    def is_constant(self):
        return True


@dataclasses.dataclass(frozen=True)
class Uniform(Distribution):
    """Uniform on [low, high]."""

    low: float
    high: float
    name = "uniform"

    def __post_init__(self):
        low = _real("Uniform", "low", self.low)
        high = _real("Uniform", "high", self.high)
        _ordered("Uniform", low=low, high=high)
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)

    def kernel_spec(self):
        return kd.UNIFORM, _params(self.low, self.high), kd.empty_data()

    def to_scipy(self):
        return scipy.stats.uniform(loc=self.low, scale=self.high - self.low)


@dataclasses.dataclass(frozen=True)
class Normal(Distribution):
    """Normal with mean ``mean`` and standard deviation ``sd``."""

    mean: float
    sd: float
    name = "normal"

    def __post_init__(self):
        object.__setattr__(self, "mean", _real("Normal", "mean", self.mean))
        object.__setattr__(self, "sd", _positive("Normal", "sd", self.sd))

    def kernel_spec(self):
        return kd.NORMAL, _params(self.mean, self.sd), kd.empty_data()

    def to_scipy(self):
        return scipy.stats.norm(loc=self.mean, scale=self.sd)


@dataclasses.dataclass(frozen=True)
class LogNormal(Distribution):
    """exp(N(mu, sigma^2)): ``mu`` and ``sigma`` are the mean and sd of the log."""

    mu: float
    sigma: float
    name = "lognormal"

    def __post_init__(self):
        mu = _real("LogNormal", "mu", self.mu)
        sigma = _positive("LogNormal", "sigma", self.sigma)
        if not mu + LOGNORMAL_TAIL_Z * sigma <= LOG_FLOAT_MAX:
            raise DistributionError(
                f"LogNormal: mu + {LOGNORMAL_TAIL_Z:g} sigma must be at most {LOG_FLOAT_MAX:.2f}, "
                f"got mu={mu!r}, sigma={sigma!r}: draws up to {LOGNORMAL_TAIL_Z:g} sd above mu "
                f"(one in 3e4) would overflow the largest double, about 1.8e308"
            )
        object.__setattr__(self, "mu", mu)
        object.__setattr__(self, "sigma", sigma)

    @classmethod
    def from_interval(cls, low: float, high: float, level: float = 0.9) -> LogNormal:
        """The lognormal whose central ``level`` interval is [low, high].

        With level 0.9, ``low`` is the 5th and ``high`` the 95th percentile,
        the way analysts state a range ("90% sure it is between low and high").
        """
        low = _positive("LogNormal.from_interval", "low", low)
        high = _positive("LogNormal.from_interval", "high", high)
        level = _real("LogNormal.from_interval", "level", level)
        if not 0 < level < 1:
            raise DistributionError(
                f"LogNormal.from_interval: level must lie in (0, 1), got {level}"
            )
        _ordered("LogNormal.from_interval", low=low, high=high)
        zq = float(scipy.special.ndtri(0.5 + level / 2))
        mu = 0.5 * (math.log(low) + math.log(high))
        sigma = (math.log(high) - math.log(low)) / (2 * zq)
        return cls(mu, sigma)

    def kernel_spec(self):
        return kd.LOGNORMAL, _params(self.mu, self.sigma), kd.empty_data()

    def to_scipy(self):
        return scipy.stats.lognorm(s=self.sigma, scale=math.exp(self.mu))


@dataclasses.dataclass(frozen=True)
class Triangular(Distribution):
    """Triangular on [low, high] with its peak at ``mode``."""

    low: float
    mode: float
    high: float
    name = "triangular"

    def __post_init__(self):
        vals = {k: _real("Triangular", k, getattr(self, k)) for k in ("low", "mode", "high")}
        _ordered("Triangular", **vals)
        for k, v in vals.items():
            object.__setattr__(self, k, v)

    def kernel_spec(self):
        return kd.TRIANGULAR, _params(self.low, self.mode, self.high), kd.empty_data()

    def to_scipy(self):
        width = self.high - self.low
        return scipy.stats.triang(c=(self.mode - self.low) / width, loc=self.low, scale=width)


class _Tabulated(Distribution):
    """A distribution whose inverse CDF the kernels read from a quantile table."""

    def kernel_spec(self):
        return self._table

    @cached_property
    def _table(self):
        return kd.TABLE, *quantile_table(self.to_scipy())


def quantile_table(frozen) -> tuple[np.ndarray, np.ndarray]:
    """Tabulate x = F^-1(Phi(z)) of a frozen scipy distribution for the kernels.

    Returns ``(params, data)``: params = (z_min, dz, offset 0, n) and data =
    the n values followed by their monotone (PCHIP) slopes dx/dz. scipy's
    ``ppf`` is not trusted blindly: far in a tail some laws' root finders stall
    (Beta(0.5, 2) returns 0.5 at u = 1e-16), so every value is checked against
    the CDF and the ones that fail are found again by bisection.
    """
    z = np.linspace(-TABLE_Z_MAX, TABLE_Z_MAX, TABLE_POINTS)
    lower = z <= 0
    # Each half from its own tail probability, so neither tail loses digits to 1 - u.
    p = np.where(lower, scipy.special.ndtr(z), scipy.special.ndtr(-z))
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy's root finders warn where they stall
        x = _by_half(frozen.ppf, frozen.isf, p, lower)
        x = _repair_quantiles(frozen, x, p, lower)
        if not np.all(np.isfinite(x)):
            raise DistributionError(
                f"cannot tabulate {_describe(frozen)}: its quantiles are not finite "
                f"on the table's range"
            )
        x = np.maximum.accumulate(x)  # scipy's ppf may wobble by an ulp; keep it monotone
        slopes = scipy.interpolate.PchipInterpolator(z, x).derivative()(z)
    params = _params(z[0], z[1] - z[0], 0.0, float(TABLE_POINTS))
    return params, np.concatenate([x, slopes])


def _by_half(lower_fn, upper_fn, values, lower) -> np.ndarray:
    """``lower_fn`` where ``lower`` holds and ``upper_fn`` elsewhere, each called only on its
    own half (scipy's ppf/isf of a beta cost milliseconds a call: a table is built at every
    start of the command line)."""
    out = np.empty_like(values)
    for fn, half in ((lower_fn, lower), (upper_fn, ~lower)):
        if half.any():  # the bisection's points often lie in one tail only
            out[half] = fn(values[half])
    return out


def _repair_quantiles(frozen, x, p, lower):
    """Recompute, by bisection on the CDF, the tabulated quantiles scipy got wrong.

    All failed points are bisected together, each exactly as it would be alone: its
    bracket lies between its nearest trusted neighbours (or the support's ends), and it
    stops when the midpoint no longer falls strictly inside, or after 200 halvings.
    """
    tail = _by_half(frozen.cdf, frozen.sf, x, lower)
    bad = ~(np.isfinite(x) & (np.abs(tail - p) <= 1e-6 * p))
    if not bad.any():
        return x
    good = np.flatnonzero(~bad)
    if good.size == 0:
        raise DistributionError(f"cannot tabulate {_describe(frozen)}: scipy's quantiles fail")
    lo_support, hi_support = (float(v) for v in frozen.support())
    idx = np.flatnonzero(bad)
    # Nearest trusted neighbour on each side (searchsorted over the trusted indices).
    k = np.searchsorted(good, idx)
    a = np.where(k > 0, x[good[np.maximum(k - 1, 0)]], lo_support)
    b = np.where(k < good.size, x[good[np.minimum(k, good.size - 1)]], hi_support)
    # An open-ended bracket is left to the finiteness check.
    closed = np.isfinite(a) & np.isfinite(b)
    idx, a, b = idx[closed], a[closed], b[closed]
    target, low_half = p[idx], lower[idx]
    active = np.ones(idx.size, dtype=bool)
    for _ in range(200):
        mid = 0.5 * (a + b)
        active &= (a < mid) & (mid < b)
        if not active.any():
            break
        m = mid[active]
        t, low = target[active], low_half[active]
        tail_m = _by_half(frozen.cdf, frozen.sf, m, low)
        below = np.where(low, tail_m < t, tail_m > t)
        moved = np.flatnonzero(active)
        a[moved] = np.where(below, m, a[moved])
        b[moved] = np.where(below, b[moved], m)
    x = x.copy()
    x[idx] = 0.5 * (a + b)
    return x


def _describe(frozen) -> str:
    return f"scipy.stats.{frozen.dist.name}(args={frozen.args}, kwds={frozen.kwds})"


@dataclasses.dataclass(frozen=True)
class Beta(_Tabulated):
    """Beta(a, b) stretched onto [low, high]."""

    a: float
    b: float
    low: float = 0.0
    high: float = 1.0
    name = "beta"

    def __post_init__(self):
        object.__setattr__(self, "a", _shape("Beta", "a", self.a))
        object.__setattr__(self, "b", _shape("Beta", "b", self.b))
        low, high = _real("Beta", "low", self.low), _real("Beta", "high", self.high)
        _ordered("Beta", low=low, high=high)
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)

    def to_scipy(self):
        return scipy.stats.beta(self.a, self.b, loc=self.low, scale=self.high - self.low)


@dataclasses.dataclass(frozen=True)
class PERT(_Tabulated):
    """Beta-PERT on [low, high] with most likely value ``mode``.

    A beta with a = 1 + shape (mode - low) / (high - low) and
    b = 1 + shape (high - mode) / (high - low); shape 4 is the classic PERT
    (mean = (low + 4 mode + high) / 6).
    """

    low: float
    mode: float
    high: float
    shape: float = 4.0
    name = "pert"

    def __post_init__(self):
        vals = {k: _real("PERT", k, getattr(self, k)) for k in ("low", "mode", "high")}
        _ordered("PERT", **vals)
        for k, v in vals.items():
            object.__setattr__(self, k, v)
        object.__setattr__(self, "shape", _shape("PERT", "shape", self.shape))

    def to_scipy(self):
        width = self.high - self.low
        a = 1 + self.shape * (self.mode - self.low) / width
        b = 1 + self.shape * (self.high - self.mode) / width
        return scipy.stats.beta(a, b, loc=self.low, scale=width)


@dataclasses.dataclass(frozen=True)
class Gamma(_Tabulated):
    """Gamma with shape k and scale theta (mean k theta)."""

    shape: float
    scale: float
    name = "gamma"

    def __post_init__(self):
        object.__setattr__(self, "shape", _shape("Gamma", "shape", self.shape))
        object.__setattr__(self, "scale", _positive("Gamma", "scale", self.scale))

    def to_scipy(self):
        return scipy.stats.gamma(self.shape, scale=self.scale)


@dataclasses.dataclass(frozen=True)
class TruncatedNormal(Distribution):
    """Normal(mean, sd) conditioned on [low, high] (either bound may be infinite)."""

    mean: float
    sd: float
    low: float = -math.inf
    high: float = math.inf
    name = "truncated_normal"

    def __post_init__(self):
        owner = "TruncatedNormal"
        mean = _real(owner, "mean", self.mean)
        sd = _positive(owner, "sd", self.sd)
        low = _real(owner, "low", self.low, finite=False)
        high = _real(owner, "high", self.high, finite=False)
        _ordered(owner, finite_width=False, low=low, high=high)
        # A window far out in a tail has no probability mass in double precision.
        a, b = (low - mean) / sd, (high - mean) / sd
        if a > 37 or b < -37:
            raise DistributionError(
                f"{owner}: [low, high] = [{low}, {high}] lies more than 37 sd from the mean "
                f"{mean}; its probability underflows"
            )
        for k, v in (("mean", mean), ("sd", sd), ("low", low), ("high", high)):
            object.__setattr__(self, k, v)

    def kernel_spec(self):
        params = _params(self.mean, self.sd, self.low, self.high)
        return kd.TRUNCATED_NORMAL, params, kd.empty_data()

    def to_scipy(self):
        a, b = (self.low - self.mean) / self.sd, (self.high - self.mean) / self.sd
        return scipy.stats.truncnorm(a, b, loc=self.mean, scale=self.sd)

    @property
    def support(self):
        # The bounds themselves: scipy's loc + a * scale can round past them.
        return (self.low, self.high)


def _array(owner: str, name: str, values) -> np.ndarray:
    try:
        raw = np.asarray(values)
    except (TypeError, ValueError):
        raw = np.asarray(values, dtype=object)
    if raw.dtype.kind not in "iuf":  # no strings, booleans or objects
        for i, item in enumerate(raw.ravel()):
            _real(owner, f"{name}[{i}]", item, finite=False)
        raise DistributionError(f"{owner}: {name} must be a 1-D sequence of real numbers")
    arr = raw.astype(np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise DistributionError(
            f"{owner}: {name} must be a non-empty 1-D sequence, got shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        bad = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise DistributionError(f"{owner}: {name}[{bad}] must be finite, got {arr[bad]}")
    return arr


@dataclasses.dataclass(frozen=True, eq=False)
class Empirical(Distribution):
    """Resampling of observed values: each sample is drawn with probability 1/n."""

    samples: np.ndarray
    name = "empirical"

    def __post_init__(self):
        arr = np.sort(_array("Empirical", "samples", self.samples))
        arr.flags.writeable = False
        object.__setattr__(self, "samples", arr)

    def __eq__(self, other):
        return isinstance(other, Empirical) and np.array_equal(self.samples, other.samples)

    __hash__ = None

    def kernel_spec(self):
        n = self.samples.size
        return kd.EMPIRICAL, _params(0.0, 0.0, 0.0, float(n)), np.array(self.samples)

    def to_scipy(self):
        values, counts = np.unique(self.samples, return_counts=True)
        return _FiniteDistribution(values, counts / counts.sum())

    @property
    def support(self):
        return float(self.samples[0]), float(self.samples[-1])


@dataclasses.dataclass(frozen=True, eq=False)
class Discrete(Distribution):
    """Finitely many ``values`` with probabilities ``probs`` (summing to 1)."""

    values: np.ndarray
    probs: np.ndarray
    name = "discrete"

    def __post_init__(self):
        values = _array("Discrete", "values", self.values)
        probs = _array("Discrete", "probs", self.probs)
        if values.size != probs.size:
            raise DistributionError(
                f"Discrete: values and probs must have the same length, got {values.size} "
                f"and {probs.size}"
            )
        if np.any(probs < 0):
            bad = int(np.flatnonzero(probs < 0)[0])
            raise DistributionError(f"Discrete: probs[{bad}] must be >= 0, got {probs[bad]}")
        if abs(probs.sum() - 1.0) > 1e-9:
            raise DistributionError(f"Discrete: probs must sum to 1, got sum {probs.sum():.12g}")
        order = np.argsort(values, kind="stable")
        # Kept as given (not renormalised): a spec read back from a file is the same object.
        values, probs = values[order], probs[order]
        for arr in (values, probs):
            arr.flags.writeable = False
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "probs", probs)

    def __eq__(self, other):
        return (
            isinstance(other, Discrete)
            and np.array_equal(self.values, other.values)
            and np.array_equal(self.probs, other.probs)
        )

    __hash__ = None

    def kernel_spec(self):
        # Values of probability 0 are left out: a u that rounds to 1 must not reach them.
        keep = self.probs > 0
        cum = np.cumsum(self.probs[keep])
        cum[-1] = 1.0  # u < 1 always finds an index, whatever the round-off of the sum
        n = int(keep.sum())
        data = np.concatenate([cum, self.values[keep]])
        return kd.DISCRETE, _params(0.0, 0.0, 0.0, float(n)), data

    def to_scipy(self):
        return _FiniteDistribution(self.values, self.probs)

    @property
    def support(self):
        positive = self.values[self.probs > 0]
        return float(positive[0]), float(positive[-1])


class _FiniteDistribution:
    """The bits of scipy's frozen interface the tests and docs use, for finite supports
    (``scipy.stats.rv_discrete`` takes integer values only)."""

    def __init__(self, values: np.ndarray, probs: np.ndarray):
        self.values, self.probs = np.asarray(values), np.asarray(probs)

    def mean(self):
        return float(np.sum(self.values * self.probs))

    def std(self):
        return float(np.sqrt(np.sum(self.probs * (self.values - self.mean()) ** 2)))

    def cdf(self, x):
        cum = np.cumsum(self.probs)
        idx = np.searchsorted(self.values, x, side="right")
        return np.where(idx > 0, cum[np.maximum(idx - 1, 0)], 0.0)

    def support(self):
        return self.values[0], self.values[-1]


@dataclasses.dataclass(frozen=True, eq=False)
class ScipyDistribution(_Tabulated):
    """Any frozen continuous ``scipy.stats`` distribution, through a quantile table."""

    frozen: Any
    name = "scipy"

    def __post_init__(self):
        frozen = self.frozen
        dist = getattr(frozen, "dist", None)
        if not isinstance(dist, scipy.stats.rv_continuous):
            raise DistributionError(
                f"scipy distributions must be frozen continuous ones such as "
                f"scipy.stats.gamma(2.0, scale=3.0), got {frozen!r}; use Discrete for discrete laws"
            )
        try:  # tabulate now, so a bad distribution fails at construction
            self._table  # noqa: B018
        except DistributionError:
            raise
        except Exception as err:  # scipy raises many kinds for bad parameters
            raise DistributionError(f"cannot use {frozen!r}: {err}") from None

    def __eq__(self, other):
        return isinstance(other, ScipyDistribution) and self.to_dict() == other.to_dict()

    __hash__ = None

    def to_scipy(self):
        return self.frozen

    def to_dict(self):
        return {
            "dist": "scipy",
            "name": self.frozen.dist.name,
            "args": list(self.frozen.args),
            "kwds": dict(self.frozen.kwds),
        }


_BY_NAME = {
    cls.name: cls
    for cls in (
        Constant,
        Uniform,
        Normal,
        LogNormal,
        Triangular,
        PERT,
        Beta,
        Gamma,
        TruncatedNormal,
        Empirical,
        Discrete,
    )
}


def from_dict(spec: Mapping[str, Any]) -> Distribution:
    """Build a distribution from :meth:`Distribution.to_dict`'s mapping."""
    spec = dict(spec)
    name = spec.pop("dist", None)
    if name == "scipy":
        law = getattr(scipy.stats, str(spec.get("name")), None)
        if not isinstance(law, scipy.stats.rv_continuous):
            raise DistributionError(
                f"unknown continuous scipy.stats distribution {spec.get('name')!r}"
            )
        args, kwds = spec.get("args", []), spec.get("kwds", {})
        if not isinstance(args, (list, tuple)) or not isinstance(kwds, Mapping):
            raise DistributionError(
                f"scipy distribution {law.name}: args must be a list and kwds a table, "
                f"got args={args!r}, kwds={kwds!r}"
            )
        try:
            frozen = law(*args, **kwds)
        except (TypeError, ValueError) as err:
            raise DistributionError(f"scipy distribution {law.name}: {err}") from None
        return ScipyDistribution(frozen)
    if not isinstance(name, str) or name not in _BY_NAME:
        allowed = ", ".join(sorted([*_BY_NAME, "scipy"]))
        raise DistributionError(f"unknown distribution {name!r}; allowed: {allowed}")
    try:
        return _BY_NAME[name](**spec)
    except TypeError as err:
        raise DistributionError(f"{name}: {err}") from None


def as_distribution(value: Any, *, name: str = "value") -> Distribution:
    """A number becomes :class:`Constant`, a frozen scipy law :class:`ScipyDistribution`."""
    if isinstance(value, Distribution):
        return value
    if isinstance(value, Mapping):
        return from_dict(value)
    if hasattr(value, "dist") and hasattr(value, "ppf"):
        return ScipyDistribution(value)
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return Constant(value)
    raise DistributionError(
        f"{name} must be a number, a montecarlo distribution or a frozen scipy.stats "
        f"distribution, got {value!r} ({type(value).__name__})"
    )


__all__ = [
    "Beta",
    "Constant",
    "Discrete",
    "Distribution",
    "DistributionError",
    "Empirical",
    "Gamma",
    "LogNormal",
    "Normal",
    "PERT",
    "ScipyDistribution",
    "Triangular",
    "TruncatedNormal",
    "Uniform",
    "as_distribution",
    "from_dict",
    "quantile_table",
]
