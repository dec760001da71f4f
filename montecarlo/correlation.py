"""Correlated static inputs through a Gaussian copula.

Analysts describe dependence between uncertain inputs as a matrix of pairwise correlations,
usually Spearman rank correlations (as in @RISK or Crystal Ball).  The engine samples such
inputs through a Gaussian copula: draw independent standard normals, multiply by a Cholesky
factor of the copula's correlation matrix, map each column through the normal CDF and then
through the marginal's inverse CDF.  Because every step after the Cholesky product is
monotone per column, the rank correlation of the outputs is that of the Gaussian copula,
``(6 / pi) * arcsin(rho / 2)``, whatever the marginals are.

This module provides the pieces for that: conversions between Spearman rank correlation and
the copula parameter, validation of correlation matrices, Higham's nearest correlation matrix
for repairing inconsistent user input, a Cholesky factorisation that accepts singular (positive
semi-definite) matrices, and :class:`Correlation`, the validated user-facing specification.

References
----------
N. J. Higham, "Computing the nearest correlation matrix - a problem from finance",
IMA Journal of Numerical Analysis 22 (2002), 329-343.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "Correlation",
    "CorrelationError",
    "CorrelationRepairWarning",
    "check_correlation_matrix",
    "gaussian_to_spearman",
    "nearest_correlation",
    "psd_cholesky",
    "spearman_to_gaussian",
]

# Symmetry and unit-diagonal tolerances are absolute: correlation entries are O(1), and anything
# looser would hide typing mistakes in hand-entered matrices.
_SYMMETRY_TOL = 1e-12
_DIAGONAL_TOL = 1e-12
# Smallest eigenvalue a Gaussian copula matrix may have and still count as positive
# semi-definite; round-off in spearman_to_gaussian and in user-computed matrices lands well
# above this, genuine inconsistencies well below.
_PSD_EIGENVALUE_TOL = 1e-10
# psd_cholesky: a matrix whose smallest eigenvalue is below -_NEGATIVE_PIVOT * scale is not
# PSD, and a factor that misses its matrix by more than _RECONSTRUCTION_TOL * scale is redone.
_NEGATIVE_PIVOT = 1e-8
_RECONSTRUCTION_TOL = 1e-10
# Eigenvalue floor that nearest_correlation guarantees for its result.
_NEAREST_EIGENVALUE_FLOOR = 1e-12

_KINDS = ("spearman", "gaussian")


class CorrelationError(ValueError):
    """A correlation specification or matrix is invalid."""


class CorrelationRepairWarning(UserWarning):
    """An inconsistent correlation matrix was replaced by the nearest valid one."""


# --------------------------------------------------------------------------------------------
# Scalar conversions
# --------------------------------------------------------------------------------------------


def _as_correlation_values(values: npt.ArrayLike, name: str) -> npt.NDArray[np.float64]:
    arr = _as_real_array(values, name)
    if arr.size:
        bad = ~np.isfinite(arr) | (np.abs(arr) > 1.0)
        if np.any(bad):
            position = tuple(int(i) for i in np.argwhere(bad)[0])
            raise CorrelationError(
                f"{name} must contain finite values in [-1, 1], got {float(arr[position])!r}"
                + (f" at position {position}" if position else "")
            )
    return arr


def spearman_to_gaussian(rho_s: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Gaussian copula correlation that yields a given Spearman rank correlation.

    Parameters
    ----------
    rho_s : array_like
        Target Spearman rank correlation(s), each in [-1, 1].

    Returns
    -------
    numpy.ndarray
        ``2 * sin(pi * rho_s / 6)``, elementwise, with the same shape as `rho_s`; exact 0, +1
        and -1 map to themselves, so a unit diagonal stays exactly 1.

    Raises
    ------
    CorrelationError
        If any value is not finite or lies outside [-1, 1].
    """
    rho_s = _as_correlation_values(rho_s, "rho_s")
    rho = 2.0 * np.sin(np.pi * rho_s / 6.0)
    # sin(pi / 6) rounds to 0.49999999999999994, so +-1 would otherwise drift off the boundary
    # and a perfect correlation would silently become a near-perfect one.
    rho = np.where(np.abs(rho_s) == 1.0, rho_s, np.clip(rho, -1.0, 1.0))
    return np.asarray(rho, dtype=np.float64)


def gaussian_to_spearman(rho: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Spearman rank correlation produced by a Gaussian copula correlation.

    Parameters
    ----------
    rho : array_like
        Gaussian copula correlation(s), each in [-1, 1].

    Returns
    -------
    numpy.ndarray
        ``(6 / pi) * arcsin(rho / 2)``, elementwise, with the same shape as `rho`; exact 0, +1
        and -1 map to themselves.

    Raises
    ------
    CorrelationError
        If any value is not finite or lies outside [-1, 1].
    """
    rho = _as_correlation_values(rho, "rho")
    rho_s = (6.0 / np.pi) * np.arcsin(rho / 2.0)
    # Same round-off issue as in spearman_to_gaussian: arcsin(0.5) * 6 / pi is not exactly 1.
    rho_s = np.where(np.abs(rho) == 1.0, rho, np.clip(rho_s, -1.0, 1.0))
    return np.asarray(rho_s, dtype=np.float64)


# --------------------------------------------------------------------------------------------
# Matrix validation
# --------------------------------------------------------------------------------------------


def _as_real_array(values: npt.ArrayLike, name: str) -> npt.NDArray[np.float64]:
    try:
        arr = np.asarray(values)
    except (TypeError, ValueError) as exc:
        raise CorrelationError(f"{name} must be an array of real numbers, got {values!r}") from exc
    if arr.dtype.kind not in "biuf":
        raise CorrelationError(
            f"{name} must be an array of real numbers, got an array of dtype {arr.dtype}"
        )
    return np.array(arr, dtype=np.float64)


def _as_square_matrix(matrix: npt.ArrayLike, name: str) -> npt.NDArray[np.float64]:
    """Float64 copy of `matrix`, checked to be a non-empty, finite, square 2-D array."""
    arr = _as_real_array(matrix, f"{name} matrix")
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1] or arr.shape[0] == 0:
        raise CorrelationError(
            f"{name} matrix must be a non-empty 2-D square array, got shape {arr.shape}"
        )
    finite = np.isfinite(arr)
    if not np.all(finite):
        i, j = (int(k) for k in np.argwhere(~finite)[0])
        raise CorrelationError(
            f"{name} matrix entries must be finite, got {float(arr[i, j])!r} at position ({i}, {j})"
        )
    return arr


def _check_symmetric(arr: npt.NDArray[np.float64], name: str, tol: float) -> None:
    asym = np.abs(arr - arr.T)
    i, j = np.unravel_index(int(np.argmax(asym)), asym.shape)
    if asym[i, j] > tol:
        i, j = (int(min(i, j)), int(max(i, j)))
        raise CorrelationError(
            f"{name} matrix must be symmetric to within {tol:g}, but entry ({i}, {j}) is "
            f"{float(arr[i, j])!r} while entry ({j}, {i}) is {float(arr[j, i])!r}"
        )


def check_correlation_matrix(
    matrix: npt.ArrayLike, *, name: str = "correlation", tol: float = 1e-10
) -> npt.NDArray[np.float64]:
    """Validate a correlation matrix's structure and return a clean float64 copy.

    Checks, in order: 2-D and square, finite entries, symmetry (to 1e-12 absolute), unit
    diagonal (to 1e-12 absolute) and entries in [-1, 1] (to `tol`).  Positive
    semi-definiteness is *not* checked; see :func:`nearest_correlation` and :class:`Correlation`.

    Parameters
    ----------
    matrix : array_like
        Candidate correlation matrix.
    name : str, optional
        What the matrix is, used as the subject of error messages.
    tol : float, optional
        How far an entry may lie outside [-1, 1] before it is an error.

    Returns
    -------
    numpy.ndarray
        A new float64 array, made exactly symmetric (mean of the two triangles), with an exact
        unit diagonal and entries clipped into [-1, 1]; these changes are within the tolerances
        above, so they only remove round-off.

    Raises
    ------
    CorrelationError
        Naming the first problem found and where it is.
    """
    if not (isinstance(tol, numbers.Real) and np.isfinite(tol) and tol >= 0):
        raise CorrelationError(f"tol must be a finite number >= 0, got {tol!r}")
    arr = _as_square_matrix(matrix, name)
    _check_symmetric(arr, name, _SYMMETRY_TOL)
    diag = np.diagonal(arr)
    off_unit = np.abs(diag - 1.0)
    k = int(np.argmax(off_unit))
    if off_unit[k] > _DIAGONAL_TOL:
        raise CorrelationError(
            f"{name} matrix diagonal must be 1 to within {_DIAGONAL_TOL:g}, but entry "
            f"({k}, {k}) is {float(diag[k])!r}"
        )
    excess = np.abs(arr) - 1.0
    i, j = (int(m) for m in np.unravel_index(int(np.argmax(excess)), excess.shape))
    if excess[i, j] > tol:
        raise CorrelationError(
            f"{name} matrix entries must lie in [-1, 1], but entry ({i}, {j}) is "
            f"{float(arr[i, j])!r}"
        )
    arr = 0.5 * (arr + arr.T)
    np.fill_diagonal(arr, 1.0)
    np.clip(arr, -1.0, 1.0, out=arr)
    return arr


# --------------------------------------------------------------------------------------------
# Nearest correlation matrix (Higham 2002)
# --------------------------------------------------------------------------------------------


def _project_psd(matrix: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    eigenvalues, eigenvectors = np.linalg.eigh(matrix)
    projected = (eigenvectors * np.maximum(eigenvalues, 0.0)) @ eigenvectors.T
    # The product is symmetric only up to round-off; later steps assume exact symmetry.
    return 0.5 * (projected + projected.T)


def nearest_correlation(
    matrix: npt.ArrayLike, *, tol: float = 1e-12, max_iterations: int = 1000
) -> npt.NDArray[np.float64]:
    """Nearest correlation matrix in the Frobenius norm (Higham 2002).

    Alternating projections onto the positive semi-definite cone (eigen-decomposition with
    negative eigenvalues set to 0) and onto the unit-diagonal matrices, with Dykstra's
    correction applied to the PSD step, which makes the iteration converge to the nearest
    point of the intersection rather than to an arbitrary one.

    Parameters
    ----------
    matrix : array_like
        Symmetric matrix to approximate; it need not have a unit diagonal or entries in
        [-1, 1].
    tol : float, optional
        Convergence tolerance on the relative change of both iterates between sweeps and on
        their relative distance from each other (Frobenius norms relative to the unit-diagonal
        iterate).
    max_iterations : int, optional
        Maximum number of sweeps.

    Returns
    -------
    numpy.ndarray
        Symmetric matrix with an exact unit diagonal, entries in [-1, 1] and smallest
        eigenvalue >= -1e-12.  A matrix that already is a correlation matrix is returned
        unchanged (as a copy).

    Raises
    ------
    CorrelationError
        If `matrix` is not square, finite and symmetric, if `tol` or `max_iterations` is
        invalid, or if the iteration does not converge within `max_iterations` sweeps.
    """
    if not (isinstance(tol, numbers.Real) and np.isfinite(tol) and tol > 0):
        raise CorrelationError(f"tol must be a finite number > 0, got {tol!r}")
    if isinstance(max_iterations, bool) or not isinstance(max_iterations, numbers.Integral):
        raise CorrelationError(f"max_iterations must be an integer >= 1, got {max_iterations!r}")
    if max_iterations < 1:
        raise CorrelationError(f"max_iterations must be an integer >= 1, got {max_iterations!r}")
    a = _as_square_matrix(matrix, "input")
    scale = max(1.0, float(np.max(np.abs(a))))
    _check_symmetric(a, "input", _SYMMETRY_TOL * scale)
    a = 0.5 * (a + a.T)

    if np.all(np.diagonal(a) == 1.0) and np.linalg.eigvalsh(a)[0] >= 0.0:
        return a

    y = a.copy()
    x = a.copy()
    correction = np.zeros_like(a)
    converged = False
    change = np.inf
    for _ in range(int(max_iterations)):
        r = y - correction
        x_new = _project_psd(r)
        correction = x_new - r
        y_new = x_new.copy()
        np.fill_diagonal(y_new, 1.0)
        # y_new has a unit diagonal, so its norm is >= sqrt(n) and never divides by zero
        # (x_new can be the zero matrix, e.g. for a negative definite input).
        norm_y = np.linalg.norm(y_new)
        change = max(
            np.linalg.norm(x_new - x) / norm_y,
            np.linalg.norm(y_new - y) / norm_y,
            np.linalg.norm(y_new - x_new) / norm_y,
        )
        x, y = x_new, y_new
        if change <= tol:
            converged = True
            break
    if not converged:
        raise CorrelationError(
            f"nearest_correlation did not converge to tol={tol:g} within max_iterations="
            f"{max_iterations} (last relative change {change:.3g}); raise max_iterations or tol"
        )

    # The unit-diagonal iterate can still have eigenvalues of order -tol; one more PSD
    # projection and a congruence rescaling (which preserves semi-definiteness) fix that at the
    # cost of a change of order tol.
    z = _project_psd(y)
    d = np.sqrt(np.diagonal(z))
    if not np.all(d > 0.0):
        raise CorrelationError(
            "nearest_correlation converged to a matrix with a zero diagonal entry, which "
            "cannot be rescaled to a correlation matrix; check the input"
        )
    z = z / np.outer(d, d)
    z = 0.5 * (z + z.T)
    np.fill_diagonal(z, 1.0)
    np.clip(z, -1.0, 1.0, out=z)
    return z


# --------------------------------------------------------------------------------------------
# Cholesky factorisation of positive semi-definite matrices
# --------------------------------------------------------------------------------------------


def _factor_via_eigh(
    eigenvalues: npt.NDArray[np.float64], eigenvectors: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Lower-triangular factor from a symmetric square root, backward stable for any PSD."""
    root = eigenvectors * np.sqrt(np.maximum(eigenvalues, 0.0))
    # root @ root.T == matrix and root.T == Q @ R, so R.T @ R == matrix with R.T lower.
    r = np.linalg.qr(root.T, mode="r")
    signs = np.where(np.diagonal(r) < 0.0, -1.0, 1.0)
    return np.tril((signs[:, np.newaxis] * r).T)


def psd_cholesky(matrix: npt.ArrayLike, *, tol: float = 1e-12) -> npt.NDArray[np.float64]:
    """Lower Cholesky factor of a positive semi-definite matrix, singular ones included.

    ``np.linalg.cholesky`` rejects singular matrices such as a perfect +1 or -1 correlation
    between two inputs.  This is a plain column-by-column Cholesky in which a pivot
    ``<= tol * scale`` (``scale`` being the largest diagonal entry) is treated as zero: that
    column of the factor is set to zero on and below the diagonal.  For a positive definite
    matrix the result matches ``np.linalg.cholesky`` up to round-off.

    The result is checked by reconstruction.  Without pivoting, a leading block that is
    nearly (not exactly) singular amplifies round-off in later pivots by up to
    ``eps * scale / pivot``, which can make them spuriously negative or leave a dropped
    column with a large residual.  When ``L @ L.T`` misses `matrix` by more than
    ``1e-10 * scale``, the eigenvalues decide: below ``-1e-8 * scale`` the matrix is not
    positive semi-definite and an error is raised; otherwise the factor is recomputed
    backward-stably as the triangular factor of a QR decomposition of the symmetric square
    root (for a singular matrix this may differ from the column-zeroing convention, but it is
    still lower-triangular and reproduces `matrix`).

    Parameters
    ----------
    matrix : array_like
        Symmetric positive semi-definite matrix.
    tol : float, optional
        Relative pivot threshold below which a column is treated as linearly dependent on the
        previous ones.

    Returns
    -------
    numpy.ndarray
        Lower-triangular `L` with non-negative diagonal and ``L @ L.T == matrix`` to within
        ``1e-10 * scale`` (up to the clipped negative eigenvalues, at most ``1e-8 * scale``,
        for a matrix that is only semi-definite up to round-off).

    Raises
    ------
    CorrelationError
        If `matrix` is not square, finite and symmetric, or is not positive semi-definite:
        a Cholesky pivot or reconstruction error beyond what round-off explains, confirmed by
        a smallest eigenvalue below ``-1e-8 * scale``.
    """
    if not (isinstance(tol, numbers.Real) and np.isfinite(tol) and tol >= 0):
        raise CorrelationError(f"tol must be a finite number >= 0, got {tol!r}")
    a = _as_square_matrix(matrix, "input")
    n = a.shape[0]
    _check_symmetric(a, "input", _SYMMETRY_TOL * max(1.0, float(np.max(np.abs(a)))))
    a = 0.5 * (a + a.T)
    scale = float(np.max(np.abs(np.diagonal(a))))
    zero_pivot = tol * scale
    factor = np.zeros_like(a)
    # Remember the most negative pivot only to explain a failure; deciding on it alone would
    # reject PSD matrices whose leading blocks are nearly singular.
    worst_pivot, worst_column = 0.0, -1
    for j in range(n):
        row = factor[j, :j]
        pivot = a[j, j] - row @ row
        if pivot > zero_pivot:
            factor[j, j] = np.sqrt(pivot)
            factor[j + 1 :, j] = (a[j + 1 :, j] - factor[j + 1 :, :j] @ row) / factor[j, j]
        elif pivot < worst_pivot:
            worst_pivot, worst_column = pivot, j

    error = float(np.max(np.abs(factor @ factor.T - a)))
    # Written so that a NaN error (overflow after a tiny pivot with tol=0) takes the slow path.
    if error <= _RECONSTRUCTION_TOL * scale:
        return factor
    eigenvalues, eigenvectors = np.linalg.eigh(a)
    if eigenvalues[0] < -_NEGATIVE_PIVOT * scale:
        pivot_note = (
            f" (Cholesky pivot {worst_column} is {worst_pivot:.3g})" if worst_column >= 0 else ""
        )
        raise CorrelationError(
            f"input matrix must be positive semi-definite, but its smallest eigenvalue is "
            f"{eigenvalues[0]:.3g}, below the allowed -{_NEGATIVE_PIVOT:g} * scale{pivot_note}"
        )
    return _factor_via_eigh(eigenvalues, eigenvectors)


# --------------------------------------------------------------------------------------------
# User-facing specification
# --------------------------------------------------------------------------------------------


def _check_kind(kind: object) -> str:
    if not isinstance(kind, str) or kind not in _KINDS:
        raise CorrelationError(f"kind must be one of {_KINDS}, got {kind!r}")
    return kind


def _check_names(names: object) -> tuple[str, ...]:
    if isinstance(names, str | bytes) or not isinstance(names, Sequence):
        raise CorrelationError(f"names must be a sequence of strings, got {names!r}")
    result = tuple(names)
    for name in result:
        if not isinstance(name, str) or not name.strip():
            raise CorrelationError(f"names must all be non-empty strings, got {name!r}")
    if len(result) < 2:
        raise CorrelationError(f"names must hold at least 2 names to correlate, got {result!r}")
    seen: set[str] = set()
    for name in result:
        if name in seen:
            raise CorrelationError(f"names must be unique, but {name!r} appears more than once")
        seen.add(name)
    return result


def _read_only(arr: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    arr.flags.writeable = False
    return arr


class Correlation:
    """Validated, immutable correlation between named static inputs via a Gaussian copula.

    Parameters
    ----------
    names : sequence of str
        Names of the correlated inputs, at least 2, unique, in the order of the matrix rows.
    matrix : array_like
        Square matrix of pairwise correlations, one row per name.
    kind : {"spearman", "gaussian"}, optional
        ``"spearman"`` (the default, and what tools such as @RISK ask for): `matrix` holds
        target Spearman rank correlations, converted to the copula parameter with
        :func:`spearman_to_gaussian`.  ``"gaussian"``: `matrix` is the Gaussian copula's
        correlation itself.
    repair : bool, optional
        If the copula correlation is not positive semi-definite, replace it by the nearest
        correlation matrix (Higham 2002) and emit a :class:`CorrelationRepairWarning` instead
        of raising.

    Raises
    ------
    CorrelationError
        If `kind` or `names` is invalid, the matrix fails :func:`check_correlation_matrix`,
        its size differs from the number of names, or the copula correlation is not positive
        semi-definite (smallest eigenvalue below -1e-10) and `repair` is False.

    Warns
    -----
    CorrelationRepairWarning
        When `repair` replaced the copula correlation; the size of the change is reported and
        kept in :attr:`repair_change`.

    Notes
    -----
    A Spearman matrix that is itself positive semi-definite can map to a copula correlation
    that is not, because the conversion is applied entrywise; the check is therefore made on
    the copula correlation, which is what gets factorised for sampling.
    """

    __slots__ = ("_names", "_kind", "_matrix", "_gaussian", "_cholesky", "_repaired", "_change")

    def __init__(
        self,
        names: Sequence[str],
        matrix: npt.ArrayLike,
        *,
        kind: str = "spearman",
        repair: bool = False,
    ) -> None:
        kind = _check_kind(kind)
        if not isinstance(repair, bool | np.bool_):
            raise CorrelationError(f"repair must be a bool, got {repair!r}")
        checked_names = _check_names(names)
        given = check_correlation_matrix(matrix, name=f"{kind} correlation")
        if given.shape[0] != len(checked_names):
            raise CorrelationError(
                f"names has {len(checked_names)} entries but the {kind} correlation matrix is "
                f"{given.shape[0]}x{given.shape[1]}; they must match"
            )
        gaussian = spearman_to_gaussian(given) if kind == "spearman" else given.copy()

        smallest = float(np.linalg.eigvalsh(gaussian)[0])
        repaired = False
        change = {"max_abs": 0.0, "frobenius": 0.0}
        if smallest < -_PSD_EIGENVALUE_TOL:
            if not repair:
                raise CorrelationError(
                    f"the Gaussian copula correlation matrix for {kind} input is not positive "
                    f"semi-definite (smallest eigenvalue {smallest:.6g}, must be >= "
                    f"-{_PSD_EIGENVALUE_TOL:g}); pass repair=True to use the nearest "
                    f"correlation matrix instead"
                )
            fixed = nearest_correlation(gaussian)
            delta = fixed - gaussian
            change = {
                "max_abs": float(np.max(np.abs(delta))),
                "frobenius": float(np.linalg.norm(delta)),
            }
            repaired = True
            gaussian = fixed
            warnings.warn(
                f"Correlation of {list(checked_names)}: the Gaussian copula correlation matrix "
                f"was not positive semi-definite (smallest eigenvalue {smallest:.6g}) and was "
                f"replaced by the nearest correlation matrix; max absolute element change "
                f"{change['max_abs']:.6g}, Frobenius norm of the change "
                f"{change['frobenius']:.6g}",
                CorrelationRepairWarning,
                stacklevel=2,
            )

        object.__setattr__(self, "_names", checked_names)
        object.__setattr__(self, "_kind", kind)
        object.__setattr__(self, "_matrix", _read_only(given))
        object.__setattr__(self, "_gaussian", _read_only(gaussian))
        object.__setattr__(self, "_cholesky", _read_only(psd_cholesky(gaussian)))
        object.__setattr__(self, "_repaired", repaired)
        object.__setattr__(self, "_change", change)

    @classmethod
    def from_pairs(
        cls,
        pairs: Mapping[tuple[str, str], float],
        *,
        names: Sequence[str] | None = None,
        kind: str = "spearman",
        repair: bool = False,
    ) -> Correlation:
        """Build a correlation from pairwise entries; pairs not given are uncorrelated.

        Parameters
        ----------
        pairs : mapping of (str, str) to float
            Correlation of each listed pair; ``(a, b)`` and ``(b, a)`` mean the same pair and
            may both be given only with equal values.
        names : sequence of str, optional
            Order of the inputs (and inputs correlated with nothing); by default the order in
            which names first appear in `pairs`.
        kind, repair
            As for :class:`Correlation`.

        Returns
        -------
        Correlation

        Raises
        ------
        CorrelationError
            For a malformed key, a name paired with itself, a non-numeric or out-of-range
            value, a pair given twice with different values, a name missing from `names`, or
            anything :class:`Correlation` rejects.
        """
        if not isinstance(pairs, Mapping):
            raise CorrelationError(
                f"pairs must be a mapping of (name, name) to correlation, got {pairs!r}"
            )
        entries: dict[frozenset[str], tuple[tuple[str, str], float]] = {}
        order: list[str] = []
        for key, value in pairs.items():
            if (
                not isinstance(key, tuple)
                or len(key) != 2
                or not all(isinstance(k, str) for k in key)
            ):
                raise CorrelationError(f"pairs keys must be (name, name) tuples, got {key!r}")
            a, b = key
            if a == b:
                raise CorrelationError(
                    f"pairs must not correlate a name with itself, got {key!r}; the diagonal "
                    f"is always 1"
                )
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise CorrelationError(
                    f"pairs value for {key!r} must be a real number in [-1, 1], got {value!r}"
                )
            rho = float(value)
            if not (np.isfinite(rho) and -1.0 <= rho <= 1.0):
                raise CorrelationError(
                    f"pairs value for {key!r} must be a real number in [-1, 1], got {value!r}"
                )
            pair = frozenset(key)
            if pair in entries and entries[pair][1] != rho:
                first_key, first_rho = entries[pair]
                raise CorrelationError(
                    f"pairs gives the pair {first_key!r} twice with different values: "
                    f"{first_rho!r} and {rho!r} for {key!r}"
                )
            entries[pair] = (key, rho)
            for name in key:
                if name not in order:
                    order.append(name)

        if names is None:
            ordered = _check_names(order)
        else:
            ordered = _check_names(names)
            missing = [name for name in order if name not in ordered]
            if missing:
                raise CorrelationError(
                    f"pairs mentions {missing[0]!r}, which is not in names {list(ordered)!r}"
                )
        index = {name: i for i, name in enumerate(ordered)}
        matrix = np.eye(len(ordered))
        for (a, b), rho in entries.values():
            matrix[index[a], index[b]] = matrix[index[b], index[a]] = rho
        return cls(ordered, matrix, kind=kind, repair=repair)

    # Views of read-only arrays cannot be made writeable again, unlike the arrays themselves.
    @property
    def names(self) -> tuple[str, ...]:
        """Names of the correlated inputs, in matrix order."""
        return self._names

    @property
    def kind(self) -> str:
        """``"spearman"`` or ``"gaussian"``: what :attr:`matrix` holds."""
        return self._kind

    @property
    def matrix(self) -> npt.NDArray[np.float64]:
        """The correlation matrix as given (read-only; round-off cleaned, never repaired)."""
        return self._matrix.view()

    @property
    def gaussian(self) -> npt.NDArray[np.float64]:
        """The Gaussian copula's correlation matrix used for sampling (read-only)."""
        return self._gaussian.view()

    @property
    def cholesky(self) -> npt.NDArray[np.float64]:
        """Lower factor ``L`` with ``L @ L.T == gaussian``, from :func:`psd_cholesky`."""
        return self._cholesky.view()

    @property
    def repaired(self) -> bool:
        """Whether :attr:`gaussian` was replaced by the nearest correlation matrix."""
        return self._repaired

    @property
    def repair_change(self) -> dict[str, float]:
        """``{"max_abs": ..., "frobenius": ...}`` of the repair's change to :attr:`gaussian`."""
        return dict(self._change)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form that round-trips through ``Correlation(**d)``.

        Returns
        -------
        dict
            ``{"names": [...], "matrix": [[...], ...], "kind": ...}``, plus ``"repair": True``
            when the matrix needed repairing (so that rebuilding it does not raise).
        """
        data: dict[str, Any] = {
            "names": list(self._names),
            "matrix": self._matrix.tolist(),
            "kind": self._kind,
        }
        if self._repaired:
            data["repair"] = True
        return data

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Correlation):
            return NotImplemented
        # The copula matrix is a function of (kind, matrix), repair or not, so this suffices.
        return (
            self._names == other._names
            and self._kind == other._kind
            and np.array_equal(self._matrix, other._matrix)
        )

    def __hash__(self) -> int:
        # Adding 0.0 turns -0.0 into 0.0, which compare equal but differ in bytes.
        return hash((self._names, self._kind, (self._matrix + 0.0).tobytes()))

    def __repr__(self) -> str:
        repair = ", repair=True" if self._repaired else ""
        return (
            f"Correlation(names={list(self._names)!r}, matrix={self._matrix.tolist()!r}, "
            f"kind={self._kind!r}{repair})"
        )

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Correlation is immutable; cannot set attribute {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"Correlation is immutable; cannot delete attribute {name!r}")

    # Pickle and copy would otherwise restore slots through the blocked __setattr__ and lose
    # the read-only flags on the arrays.
    def __getstate__(self) -> dict[str, Any]:
        return {slot: getattr(self, slot) for slot in self.__slots__}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for slot, value in state.items():
            if isinstance(value, np.ndarray):
                value = _read_only(np.array(value, dtype=np.float64))
            object.__setattr__(self, slot, value)
