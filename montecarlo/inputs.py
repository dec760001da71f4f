"""Static inputs: named distributions, their copula, and how the kernels see them.

A set of inputs is an ordered mapping of names to distributions (numbers count
as constants). Input i draws normal number i of step 0 on its path; the
correlated ones then get the copula's Cholesky factor applied in input order,
and every input its inverse CDF. Adding or making uncertain one input never
changes another's draws, because each keeps its own normal number.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

from kernels import distributions as kd
from kernels.rng import check_seed

from .correlation import Correlation, CorrelationError, psd_cholesky
from .distributions import Distribution, as_distribution


@dataclasses.dataclass(frozen=True, eq=False)
class PackedInputs:
    """Inputs laid out as the kernels take them."""

    names: tuple[str, ...]
    kinds: np.ndarray  # int64[n_inputs]
    params: np.ndarray  # float64[n_inputs, 4]
    data: np.ndarray  # float64[:] shared by the tabulated kinds
    corr_index: np.ndarray  # int64[m]: correlated inputs, in input order
    chol: np.ndarray  # float64[m, m]: lower Cholesky factor of their copula correlation


def pack_inputs(inputs: Mapping[str, Any], correlation: Correlation | None = None) -> PackedInputs:
    """Validate named inputs and their correlation and lay them out for the kernels.

    The correlation may name any subset of the inputs in any order; its
    matrix is permuted into input order before the Cholesky factor is taken,
    as the model specification prescribes.
    """
    if not isinstance(inputs, Mapping) or len(inputs) == 0:
        raise ValueError(
            f"inputs must be a non-empty mapping of names to distributions, got {inputs!r}"
        )
    names = tuple(inputs)
    dists: list[Distribution] = [as_distribution(inputs[n], name=n) for n in names]
    kinds = np.empty(len(names), dtype=np.int64)
    params = np.empty((len(names), 4), dtype=np.float64)
    chunks, offset = [], 0
    for i, dist in enumerate(dists):
        kind, p, data = dist.kernel_spec()
        kinds[i], params[i] = kind, p
        if kind in (kd.TABLE, kd.EMPIRICAL, kd.DISCRETE):
            params[i, 2] = offset
            chunks.append(data)
            offset += data.size
    data = np.concatenate(chunks) if chunks else kd.empty_data()

    if correlation is None:
        corr_index = np.zeros(0, dtype=np.int64)
        chol = np.zeros((0, 0), dtype=np.float64)
    else:
        if not isinstance(correlation, Correlation):
            raise CorrelationError(
                f"correlation must be a montecarlo.Correlation, got {type(correlation).__name__}"
            )
        unknown = [n for n in correlation.names if n not in names]
        if unknown:
            raise CorrelationError(
                f"correlation names {unknown} that are not inputs; inputs are {list(names)}"
            )
        position = {n: i for i, n in enumerate(names)}
        order = sorted(range(len(correlation.names)), key=lambda k: position[correlation.names[k]])
        corr_index = np.array([position[correlation.names[k]] for k in order], dtype=np.int64)
        chol = psd_cholesky(correlation.gaussian[np.ix_(order, order)])
    return PackedInputs(names, kinds, params, data, corr_index, np.ascontiguousarray(chol))


def sample_inputs(
    inputs: Mapping[str, Any] | PackedInputs,
    n_paths: int,
    *,
    seed: int = 0,
    correlation: Correlation | None = None,
    antithetic: bool = False,
    paths=None,
) -> xr.DataArray:
    """Draw the static inputs of paths ``0 .. n_paths - 1`` (or of the given ``paths``).

    Returns a DataArray on (``path``, ``input``): exactly the values the
    engine's kernels use for those paths.
    """
    packed = inputs if isinstance(inputs, PackedInputs) else pack_inputs(inputs, correlation)
    seed = check_seed(seed)
    if paths is None:
        if isinstance(n_paths, bool) or not isinstance(n_paths, (int, np.integer)) or n_paths < 1:
            raise ValueError(f"n_paths must be a positive integer, got {n_paths!r}")
        paths = np.arange(int(n_paths), dtype=np.uint64)
    else:
        paths = np.ascontiguousarray(paths, dtype=np.uint64)
    out = np.empty((paths.size, len(packed.names)), dtype=np.float64)
    kd.sample_static_inputs(
        np.uint32(seed & 0xFFFFFFFF),
        np.uint32(seed >> 32),
        paths,
        bool(antithetic),
        packed.kinds,
        packed.params,
        packed.data,
        packed.corr_index,
        packed.chol,
        out,
    )
    return xr.DataArray(
        out,
        dims=("path", "input"),
        coords={"path": paths.astype(np.int64), "input": list(packed.names)},
        name="inputs",
        attrs={"seed": seed, "antithetic": int(bool(antithetic)), "rng": "philox4x32-10"},
    )


#: Bits of each scrambled Sobol coordinate: one 32-bit word, as a Philox draw gives.
SOBOL_BITS = 32


def sobol_words(n_dims: int, first: int, n: int, seed: int, antithetic: bool = False):
    """32-bit words of paths ``first .. first + n - 1`` from one scrambled Sobol sequence.

    Path p takes point p of the sequence (point p // 2 with ``antithetic``, odd
    paths complementing their pair's words, as the specification's antithetic
    rule does for Philox words). The scramble depends on ``seed`` only, and
    any range of paths is computed by skipping ahead, so chunks, threads and
    backends see the same points: randomised quasi-Monte Carlo that stays a
    pure function of (scenario, seed, path).

    Returns
    -------
    numpy.ndarray
        ``(n, n_dims)`` uint32; the uniform of a word is ``(w + 0.5) 2**-32``.
    """
    from scipy.stats import qmc

    lo = first // 2 if antithetic else first
    hi = (first + n - 1) // 2 + 1 if antithetic else first + n
    if hi > 2**SOBOL_BITS:
        raise ValueError(
            f"quasi-Monte Carlo gives at most 2**{SOBOL_BITS} points, but paths up to "
            f"{first + n} need {hi}"
        )
    # The scramble's own stream, apart from the Philox key that drives everything else.
    rng = np.random.default_rng(np.random.SeedSequence([seed & 0xFFFFFFFF, seed >> 32, 0x50B01]))
    engine = qmc.Sobol(n_dims, scramble=True, bits=SOBOL_BITS, seed=rng)
    if lo:
        engine.fast_forward(lo)
    # Points come out as k / 2**32 exactly, so the word is k. The balance warning for
    # point counts that are not powers of two is the engine's caller's to give.
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message=".*balance properties of Sobol", category=UserWarning
        )
        points = engine.random(hi - lo)
    words = np.ldexp(points, SOBOL_BITS).astype(np.uint32)
    if not antithetic:
        return words
    paths = np.arange(first, first + n)
    out = words[paths // 2 - lo]
    odd = paths % 2 == 1
    out[odd] = np.uint32(0xFFFFFFFF) - out[odd]
    return out
