"""Argument types for argparse: each turns a bad value into a usage error (exit code 2) that
names the option, what was received and what is accepted."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from cnnkit.cli._data import dataset_kind


def dataset(value: str) -> str:
    """A built-in dataset name or a folder of images; returned as given."""
    try:
        dataset_kind(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return value


def parse_positive_int(value: str) -> int:
    """Command-line text as an integer >= 1 (epochs, batch sizes, counts)."""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1; got {value!r}")
    return number


def positive_float(value: str) -> float:
    """A number > 0 (learning rates)."""
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not number > 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0 such as 0.001; got {value!r}")
    return number


def non_negative_float(value: str) -> float:
    """A number >= 0 (weight decay)."""
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not number >= 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0 such as 0.0005; got {value!r}")
    return number


def fraction(value: str) -> float:
    """A fraction in [0, 1) (validation split; 0 turns validation off)."""
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0 <= number < 1:
        raise argparse.ArgumentTypeError(
            f"expected a fraction in [0, 1) such as 0.1; got {value!r}"
        )
    return number


def int_tuple(option: str, length: int | None, example: str) -> Callable[[str], tuple[int, ...]]:
    """A parser for comma-separated positive ints, e.g. ``32,32`` or ``1,3,5``."""

    def parse(value: str) -> tuple[int, ...]:
        try:
            numbers = tuple(int(part) for part in value.split(","))
        except ValueError:
            numbers = ()
        if not numbers or min(numbers) < 1 or (length is not None and len(numbers) != length):
            raise argparse.ArgumentTypeError(
                f"{option} must be comma-separated ints such as {example}; got {value!r}"
            )
        return numbers

    return parse


def name_list(option: str, choices: tuple[str, ...]) -> Callable[[str], tuple[str, ...]]:
    """A parser for comma-separated names out of ``choices``, e.g. ``l1,l2``."""

    def parse(value: str) -> tuple[str, ...]:
        names = tuple(part.strip().lower() for part in value.split(",") if part.strip())
        unknown = [name for name in names if name not in choices]
        if not names or unknown:
            raise argparse.ArgumentTypeError(
                f"{option} must be comma-separated names out of {', '.join(choices)}; got {value!r}"
            )
        return names

    return parse


def open_fraction(value: str) -> float:
    """A fraction strictly between 0 and 1 (a held-out share that must not be empty)."""
    number = fraction(value)
    if number == 0:
        raise argparse.ArgumentTypeError(
            f"expected a fraction in (0, 1) such as 0.2; got {value!r}"
        )
    return number
