"""One check for every number a user hands the model: a float that names its field.

Scenario fields, distribution parameters, stresses and correlation entries
arrive as whatever Python type a caller or a TOML file produced: ``int``
(of any size), ``float``, numpy scalars and 0-d arrays, ``bool``, ``str``,
``None``, lists... :func:`real` turns the ones that are numbers into a
``float`` and refuses the rest with a message that names the field, so that no
``OverflowError``, ``TypeError`` from deep inside numpy, or Python's advice
about ``sys.set_int_max_str_digits`` reaches a user. :func:`short_repr` prints
any value in a message without itself failing on integers too long to print.
"""

from __future__ import annotations

import math
import numbers
import sys
from typing import Any

import numpy as np

#: The largest finite double, about 1.8e308.
FLOAT_MAX = sys.float_info.max
# Integers longer than this many bits are described by their size, not printed: Python
# refuses to print integers of more than 4300 digits, and a message takes one line.
_PRINTABLE_BITS = 400


def int_digits(value: int) -> int:
    """The number of decimal digits of ``|value|`` (exact, without printing it)."""
    value = abs(int(value))
    if value == 0:
        return 1
    digits = int(value.bit_length() * math.log10(2))
    # The estimate is low by at most one digit; 10**digits is exact integer arithmetic.
    return digits + 1 if value >= 10**digits else digits


def short_repr(value: Any, limit: int = 120) -> str:
    """``repr(value)`` on one line and at most ``limit`` characters; huge integers by size."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool | np.bool_):
        if int(value).bit_length() > _PRINTABLE_BITS:
            sign = "-" if value < 0 else ""
            return f"{sign}an integer of {int_digits(value)} digits"
    try:
        text = " ".join(repr(value).split())  # arrays print on several lines; messages take one
    except ValueError:  # a container holding an integer too long to print
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def real(
    name: str,
    value: Any,
    *,
    error: type[Exception] = ValueError,
    allow_inf: bool = False,
    allow_nan: bool = False,
) -> float:
    """``value`` as a float, or ``error`` with a message that starts with ``name``.

    Accepted: Python and numpy integers and floats, and 0-d numeric numpy arrays.
    Refused: booleans, strings, bytes, None, containers and other objects (a number
    is expected), integers beyond the double range (about 1.8e308), NaN unless
    ``allow_nan``, and infinities unless ``allow_inf``.
    """
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
        value = value[()]
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise error(
            f"{name} must be a number, got {short_repr(value)} ({type(value).__name__})"
        )
    if isinstance(value, numbers.Integral):
        number = int(value)
        if abs(number) > FLOAT_MAX:
            raise error(
                f"{name} must be a finite number, got {short_repr(number)}, beyond the largest "
                f"number the model can hold (about 1.8e308)"
            )
        return float(number)
    try:
        x = float(value)
    except (OverflowError, ValueError, TypeError):
        raise error(
            f"{name} must be a finite number, got {short_repr(value)} ({type(value).__name__})"
        ) from None
    if math.isnan(x) and not allow_nan:
        allowed = "a number (not NaN)" if allow_inf else "a finite number"
        raise error(f"{name} must be {allowed}, got nan")
    if math.isinf(x) and not allow_inf:
        raise error(f"{name} must be a finite number, got {x}")
    return x
