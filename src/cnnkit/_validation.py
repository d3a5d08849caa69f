"""Argument checks shared by every public constructor, so messages read the same everywhere."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import Any


def owner_prefix(owner: str | None) -> str:
    """Return ``"Conv2D: "`` style prefixes so a message names where the input entered."""
    return f"{owner}: " if owner else ""


def normalize_tuple(
    value: Any, n: int, name: str, owner: str | None = None, *, allow_zero: bool = False
) -> tuple[int, ...]:
    """Turn an int or a sequence of ``n`` ints into an ``n``-tuple of positive ints.

    Example:
        >>> normalize_tuple(3, 2, "kernel_size")
        (3, 3)
    """
    if isinstance(value, bool):
        raise TypeError(
            f"{owner_prefix(owner)}{name} must be an int or a tuple of {n} ints. Received: {name}={value!r}"
        )
    if isinstance(value, int):
        values: tuple[Any, ...] = (value,) * n
    elif isinstance(value, Sequence) and not isinstance(value, str):
        values = tuple(value)
    else:
        raise TypeError(
            f"{owner_prefix(owner)}{name} must be an int or a tuple of {n} ints. Received: {name}={value!r}"
        )
    if len(values) != n or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise ValueError(
            f"{owner_prefix(owner)}{name} must be an int or a tuple of {n} ints. Received: {name}={value!r}"
        )
    lowest = 0 if allow_zero else 1
    if any(v < lowest for v in values):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(
            f"{owner_prefix(owner)}every value of {name} must be {bound}. Received: {name}={value!r}"
        )
    return values


def check_choice(
    value: Any, choices: Iterable[str], name: str, owner: str | None = None, *, lower: bool = True
) -> str:
    """Return ``value`` (lower-cased if asked) when it is one of ``choices``, else raise a listing error."""
    choices = tuple(choices)
    if not isinstance(value, str):
        raise TypeError(
            f"{owner_prefix(owner)}{name} must be one of {_quoted(choices)}. Received: {name}={value!r}"
        )
    key = value.lower() if lower else value
    if key not in choices:
        raise ValueError(
            f"{owner_prefix(owner)}{name} must be one of {_quoted(choices)}. Received: {name}={value!r}"
            + did_you_mean(key, choices)
        )
    return key


def check_positive_int(value: Any, name: str, owner: str | None = None) -> int:
    """Return ``value`` if it is an int > 0 (filters, units, ...), else raise naming the argument."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(
            f"{owner_prefix(owner)}{name} must be a positive int. Received: {name}={value!r}"
        )
    if value <= 0:
        raise ValueError(
            f"{owner_prefix(owner)}{name} must be a positive int. Received: {name}={value!r}"
        )
    return value


def check_fraction(value: Any, name: str, owner: str | None = None) -> float:
    """Return ``value`` as a float in [0, 1) (dropout rates, ...), else raise naming the argument."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(
            f"{owner_prefix(owner)}{name} must be a float in [0, 1). Received: {name}={value!r}"
        )
    if not 0 <= value < 1:
        raise ValueError(
            f"{owner_prefix(owner)}{name} must be a float in [0, 1). Received: {name}={value!r}"
        )
    return float(value)


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """Return `` Did you mean 'x'?`` for the closest candidate, or an empty string."""
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else ""


def _quoted(choices: Sequence[str]) -> str:
    return ", ".join(repr(c) for c in choices)
