"""One-month steps of the stochastic processes of the model (spec v1).

Each function advances one state by one step given its shock(s); the model's
month step in the engine composes them. ``dt`` is the step in years (1/12 for
a month); volatilities are annualised and scale with ``sqrt(dt)`` except the
utilisation AR(1), whose volatility is per step, as the spec states. They use the
polynomial :func:`kernels.elementary.exp` and ``log``, so loops over paths that call
them vectorise.
"""

import math

from .elementary import exp, fma, log
from .target import device

# Each process comes in two parts: ``*_coefficients`` (the per-path constants of a step,
# which a path computes once: kernels.model.path_constants) and ``*_advance`` (the step
# from them); ``*_step`` is the two together.


@device(inline=True)
def gbm_coefficients(drift, volatility, dt):
    """(mu, sigma) of a GBM step: (drift - vol^2/2) dt and vol sqrt(dt)."""
    return (drift - 0.5 * volatility * volatility) * dt, volatility * math.sqrt(dt)


@device(inline=True)
def gbm_advance(x, mu, sigma, z):
    """x exp(mu + sigma z)."""
    return x * exp(fma(sigma, z, mu))


@device(inline=True)
def gbm_step(x, drift, volatility, dt, z):
    """Geometric Brownian motion: x exp((drift - vol^2/2) dt + vol sqrt(dt) z).

    Exact in distribution for any dt: E[x_t] = x_0 exp(drift t).
    """
    mu, sigma = gbm_coefficients(drift, volatility, dt)
    return gbm_advance(x, mu, sigma, z)


@device(inline=True)
def logistic_coefficients(rate, ceiling, volatility, dt):
    """(rate dt, 1 / ceiling, vol^2 dt / 2, vol sqrt(dt)) of a logistic step."""
    return rate * dt, 1.0 / ceiling, 0.5 * volatility * volatility * dt, volatility * math.sqrt(dt)


@device(inline=True)
def logistic_advance(x, rate_dt, inverse_ceiling, half_variance, sigma, z):
    """x exp(rate dt (1 - x / ceiling) - vol^2 dt / 2 + vol sqrt(dt) z)."""
    return x * exp(fma(sigma, z, fma(rate_dt, 1.0 - x * inverse_ceiling, -half_variance)))


@device(inline=True)
def logistic_step(x, rate, ceiling, volatility, dt, z):
    """Logistic growth towards ``ceiling`` with lognormal noise.

    x exp(rate dt (1 - x / ceiling) - vol^2 dt / 2 + vol sqrt(dt) z); with an
    infinite ceiling x / ceiling is 0 and this is a GBM with drift ``rate``.
    """
    a, inverse_ceiling, b, sigma = logistic_coefficients(rate, ceiling, volatility, dt)
    return logistic_advance(x, a, inverse_ceiling, b, sigma, z)


@device(inline=True)
def log_ou_coefficients(reversion, volatility, dt):
    """(a dt, vol sqrt(dt)) of a mean-reverting step in logs."""
    return reversion * dt, volatility * math.sqrt(dt)


@device(inline=True)
def log_ou_advance(y, reversion_dt, log_mean, sigma, z):
    """y + a dt (log_mean - y) + vol sqrt(dt) z."""
    return fma(sigma, z, fma(reversion_dt, log_mean - y, y))


@device(inline=True)
def log_ou_step(y, reversion, log_mean, volatility, dt, z):
    """Mean reversion in logs (Euler step of an OU process on y = log price).

    y + a dt (log_mean - y) + vol sqrt(dt) z; the price is exp(y). As an AR(1)
    with coefficient 1 - a dt its stationary law is normal with mean log_mean
    and variance vol^2 dt / (1 - (1 - a dt)^2).
    """
    reversion_dt, sigma = log_ou_coefficients(reversion, volatility, dt)
    return log_ou_advance(y, reversion_dt, log_mean, sigma, z)


@device(inline=True)
def logit(p):
    """log(p / (1 - p)) for 0 < p < 1."""
    return log(p / (1.0 - p))


@device(inline=True)
def logistic(x):
    """1 / (1 + exp(-x)), the inverse of :func:`logit`, inside (0, 1)."""
    return 1.0 / (1.0 + exp(-x))


@device(inline=True)
def logit_ar1_step(x, mean_logit, persistence, volatility, z):
    """AR(1) in logit space: m + phi (x - m) + sigma z (sigma per step).

    Stationary law: normal with mean m and variance sigma^2 / (1 - phi^2);
    :func:`logistic` maps the state to a utilisation inside (0, 1).
    """
    return fma(volatility, z, fma(persistence, x - mean_logit, mean_logit))


@device(inline=True)
def jump_occurs(v, rate, dt):
    """Bernoulli jump: 1 if the uniform v < rate dt, else 0 (rate dt <= 1)."""
    return 1 if v < rate * dt else 0


@device(inline=True)
def jump_factor(v, rate, dt, size):
    """Multiplicative effect of a Bernoulli jump: (1 - size) if it occurs, else 1."""
    return 1.0 - size if v < rate * dt else 1.0
