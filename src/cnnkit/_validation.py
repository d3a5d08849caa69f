"""The argument checks every public function and constructor uses, so messages read the same.

Each check takes ``(value, name, owner, ...)``: the value given, the argument's name and where it
entered (``"Conv2D"``), and returns the value in its canonical type or raises a TypeError (wrong
type) or a ValueError (right type, wrong value) whose message names the argument, says what is
accepted and shows what was received. ``bool`` is never accepted where a number is expected.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Sequence
from numbers import Integral, Real
from typing import Any


def owner_prefix(owner: str | None) -> str:
    """Return ``"Conv2D: "`` style prefixes so a message names where the input entered."""
    return f"{owner}: " if owner else ""


def _fail(error: type[Exception], owner: str | None, name: str, accepted: str, value: Any):
    """Build the one message shape every check raises."""
    return error(f"{owner_prefix(owner)}{name} must be {accepted}. Received: {name}={value!r}")


def _is_int(value: Any) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def check_int(
    value: Any,
    name: str,
    owner: str | None = None,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    optional: bool = False,
) -> int | None:
    """Return ``value`` as an int within [minimum, maximum] (or None when ``optional``).

    Example:
        >>> check_int(3, "patience", "EarlyStopping", minimum=0)
        3
    """
    if value is None and optional:
        return None
    if minimum is not None and maximum is not None:
        bound = f" in [{minimum}, {maximum}]"
    elif minimum is not None:
        bound = f" >= {minimum}"
    else:
        bound = "" if maximum is None else f" <= {maximum}"
    accepted = f"an int{bound}" + (" or None" if optional else "")
    if not _is_int(value):
        raise _fail(TypeError, owner, name, accepted, value)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise _fail(ValueError, owner, name, accepted, value)
    return int(value)


def check_positive_int(
    value: Any, name: str, owner: str | None = None, *, optional: bool = False
) -> int | None:
    """Return ``value`` as an int > 0 (filters, units, ...), or None when ``optional``."""
    if value is None and optional:
        return None
    accepted = "a positive int" + (" or None" if optional else "")
    if not _is_int(value):
        raise _fail(TypeError, owner, name, accepted, value)
    if value <= 0:
        raise _fail(ValueError, owner, name, accepted, value)
    return int(value)


def check_number(
    value: Any,
    name: str,
    owner: str | None = None,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    exclusive_minimum: bool = False,
    exclusive_maximum: bool = False,
    finite: bool = True,
    optional: bool = False,
) -> float | None:
    """Return ``value`` as a float within its bounds (open ends when asked), or None when
    ``optional``; NaN and infinities are refused unless ``finite=False``.

    Example:
        >>> check_number(0.5, "rate", "Dropout", minimum=0, maximum=1, exclusive_maximum=True)
        0.5
    """
    if value is None and optional:
        return None
    kind = "a finite number" if finite else "a number"
    accepted = kind + _describe_bounds(minimum, maximum, exclusive_minimum, exclusive_maximum)
    accepted += " or None" if optional else ""
    if not _is_number(value):
        raise _fail(TypeError, owner, name, accepted, value)
    number = float(value)
    below = minimum is not None and (number <= minimum if exclusive_minimum else number < minimum)
    above = maximum is not None and (number >= maximum if exclusive_maximum else number > maximum)
    if (finite and not math.isfinite(number)) or below or above:
        raise _fail(ValueError, owner, name, accepted, value)
    return number


def check_fraction(value: Any, name: str, owner: str | None = None) -> float:
    """Return ``value`` as a float in [0, 1) (dropout rates, ...), else raise naming the argument."""
    if not _is_number(value):
        raise _fail(TypeError, owner, name, "a float in [0, 1)", value)
    if not 0 <= value < 1:
        raise _fail(ValueError, owner, name, "a float in [0, 1)", value)
    return float(value)


def check_bool(value: Any, name: str, owner: str | None = None) -> bool:
    """Return ``value`` when it is True or False (not 0, 1 or a string), else raise."""
    if not isinstance(value, bool):
        raise _fail(TypeError, owner, name, "a bool (True or False)", value)
    return value


def check_choice(
    value: Any, name: str, owner: str | None = None, *, choices: Iterable[str], lower: bool = True
) -> str:
    """Return ``value`` (lower-cased if asked) when it is one of ``choices``, else raise a listing error."""
    choices = tuple(choices)
    accepted = f"one of {_quoted(choices)}"
    if not isinstance(value, str):
        raise _fail(TypeError, owner, name, accepted, value)
    key = value.lower() if lower else value
    if key not in choices:
        raise ValueError(
            f"{owner_prefix(owner)}{name} must be {accepted}. Received: {name}={value!r}"
            + did_you_mean(key, choices)
        )
    return key


def normalize_tuple(
    value: Any, name: str, owner: str | None = None, *, n: int = 2, allow_zero: bool = False
) -> tuple[int, ...]:
    """Turn an int or a sequence of ``n`` ints into an ``n``-tuple of positive ints.

    Example:
        >>> normalize_tuple(3, "kernel_size", "Conv2D")
        (3, 3)
    """
    accepted = f"an int or a tuple of {n} ints"
    if _is_int(value):
        values: tuple[Any, ...] = (int(value),) * n
    elif isinstance(value, Sequence) and not isinstance(value, str):
        values = tuple(value)
    else:
        raise _fail(TypeError, owner, name, accepted, value)
    if len(values) != n or not all(_is_int(v) for v in values):
        raise _fail(ValueError, owner, name, accepted, value)
    lowest = 0 if allow_zero else 1
    if any(v < lowest for v in values):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(
            f"{owner_prefix(owner)}every value of {name} must be {bound}. Received: {name}={value!r}"
        )
    return tuple(int(v) for v in values)


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """Return `` Did you mean 'x'?`` for the closest candidate, or an empty string."""
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else ""


def _describe_bounds(
    minimum: float | None, maximum: float | None, exclusive_minimum: bool, exclusive_maximum: bool
) -> str:
    """`` in [0, 1)``, `` > 0``, `` <= 5`` or nothing: the bounds a number must respect."""
    if minimum is not None and maximum is not None:
        left, right = "(" if exclusive_minimum else "[", ")" if exclusive_maximum else "]"
        return f" in {left}{minimum:g}, {maximum:g}{right}"
    if minimum is not None:
        return f" {'>' if exclusive_minimum else '>='} {minimum:g}"
    if maximum is not None:
        return f" {'<' if exclusive_maximum else '<='} {maximum:g}"
    return ""


def _quoted(choices: Sequence[str]) -> str:
    return ", ".join(repr(c) for c in choices)
