"""Monte Carlo tolerances for statistical tests: bounds from standard errors.

Every statistical test uses a fixed seed, so it passes or fails the same way
every run; the bounds are Z_BOUND standard errors, loose enough that a correct
generator passes for almost every seed and tight enough to catch real bias.
"""

import numpy as np
import scipy.stats

#: Allowed distance, in standard errors, between an estimate and its true value.
Z_BOUND = 4.0
#: Smallest acceptable p-value of a goodness-of-fit test.
P_MIN = 1e-3


def assert_mean(samples, mean, sd=None, label=""):
    samples = np.asarray(samples, dtype=np.float64)
    sd = np.std(samples, ddof=1) if sd is None else sd
    se = sd / np.sqrt(samples.size)
    est = samples.mean()
    assert abs(est - mean) <= Z_BOUND * se, f"{label} mean {est} vs {mean} (se {se:.3g})"


def assert_variance(samples, variance, label=""):
    """Sample variance against ``variance``; SE from the sample's fourth central moment."""
    samples = np.asarray(samples, dtype=np.float64)
    n = samples.size
    centred = samples - samples.mean()
    est = np.mean(centred**2) * n / (n - 1)
    m4 = np.mean(centred**4)
    se = np.sqrt(max(m4 - est**2, 0.0) / n)
    assert abs(est - variance) <= Z_BOUND * se, (
        f"{label} variance {est} vs {variance} (se {se:.3g})"
    )


def assert_proportion(hits, n, p, label=""):
    se = np.sqrt(p * (1 - p) / n)
    est = hits / n
    assert abs(est - p) <= Z_BOUND * se, f"{label} proportion {est} vs {p} (se {se:.3g})"


def assert_ks(samples, cdf, label=""):
    result = scipy.stats.kstest(samples, cdf)
    assert result.pvalue > P_MIN, (
        f"{label} KS statistic {result.statistic:.4g}, p {result.pvalue:.3g}"
    )
