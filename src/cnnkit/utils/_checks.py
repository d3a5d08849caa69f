"""Number checks for hyper-parameters (rates, slopes, thresholds), with cnnkit's message style.

Every message names the owner (``"Adam: "``), the argument, what was given and what is
accepted, so a wrong value is caught where it enters rather than deep inside PyTorch.
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any


def check_number(
    value: Any,
    name: str,
    owner: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``value`` as a finite float within [low, high] (open ends when asked), else raise.

    Raises:
        TypeError: ``value`` is not a real number (``bool`` and strings included).
        ValueError: ``value`` is NaN, infinite or outside the range.

    Example:
        >>> check_number(0.5, "rate", "Dropout", low=0, high=1, high_open=True)
        0.5
    """
    accepted = _describe(low, high, low_open, high_open)
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{owner}: {name} must be {accepted}. Received: {name}={value!r}")
    number = float(value)
    below = low is not None and (number <= low if low_open else number < low)
    above = high is not None and (number >= high if high_open else number > high)
    if not math.isfinite(number) or below or above:
        raise ValueError(f"{owner}: {name} must be {accepted}. Received: {name}={value!r}")
    return number


def check_int(
    value: Any, name: str, owner: str, *, low: int | None = None, allow_none: bool = False
) -> int | None:
    """Return ``value`` as an int >= ``low`` (or None when allowed), else raise naming it."""
    if value is None and allow_none:
        return None
    bound = "" if low is None else f" >= {low}"
    accepted = f"an int{bound}" + (" or None" if allow_none else "")
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{owner}: {name} must be {accepted}. Received: {name}={value!r}")
    if low is not None and value < low:
        raise ValueError(f"{owner}: {name} must be {accepted}. Received: {name}={value!r}")
    return int(value)


def _describe(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    if low is not None and high is not None:
        left, right = "(" if low_open else "[", ")" if high_open else "]"
        return f"a finite number in {left}{low:g}, {high:g}{right}"
    if low is not None:
        return f"a finite number {'>' if low_open else '>='} {low:g}"
    if high is not None:
        return f"a finite number {'<' if high_open else '<='} {high:g}"
    return "a finite number"
