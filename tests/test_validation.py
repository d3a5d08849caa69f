"""The one set of argument checks (cnnkit._validation): what each accepts, what it refuses and
the exact message, plus a guard that no other module grows its own copy."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import numpy as np
import pytest

from cnnkit._validation import (
    check_bool,
    check_choice,
    check_fraction,
    check_int,
    check_number,
    check_positive_int,
    normalize_tuple,
)

SRC = Path(__file__).resolve().parents[1] / "src" / "cnnkit"
GUARDED_NAMES = {"check_int", "check_positive_int", "check_number", "check_real", "positive_int"}


@pytest.mark.parametrize(
    ("value", "kwargs", "expected"),
    [
        (0, {}, 0),
        (-4, {}, -4),
        (np.int64(7), {"minimum": 1}, 7),
        (5, {"minimum": 5}, 5),
        (2, {"minimum": 1, "maximum": 2}, 2),
        (None, {"optional": True}, None),
    ],
)
def test_check_int_accepts(value, kwargs, expected):
    result = check_int(value, "size", "Owner", **kwargs)
    assert result == expected
    assert result is None or type(result) is int


@pytest.mark.parametrize(
    ("value", "kwargs", "error", "message"),
    [
        (True, {}, TypeError, "Owner: size must be an int. Received: size=True"),
        (1.0, {"minimum": 0}, TypeError, "Owner: size must be an int >= 0. Received: size=1.0"),
        ("3", {"minimum": 1}, TypeError, "Owner: size must be an int >= 1. Received: size='3'"),
        (None, {"minimum": 1}, TypeError, "Owner: size must be an int >= 1. Received: size=None"),
        (0, {"minimum": 1}, ValueError, "Owner: size must be an int >= 1. Received: size=0"),
        (3, {"maximum": 2}, ValueError, "Owner: size must be an int <= 2. Received: size=3"),
        (
            9,
            {"minimum": 1, "maximum": 4},
            ValueError,
            "Owner: size must be an int in [1, 4]. Received: size=9",
        ),
        (
            -1,
            {"minimum": 0, "optional": True},
            ValueError,
            "Owner: size must be an int >= 0 or None. Received: size=-1",
        ),
        (
            False,
            {"optional": True},
            TypeError,
            "Owner: size must be an int or None. Received: size=False",
        ),
    ],
)
def test_check_int_refuses(value, kwargs, error, message):
    with pytest.raises(error) as caught:
        check_int(value, "size", "Owner", **kwargs)
    assert str(caught.value) == message


def test_check_int_without_owner_has_no_prefix():
    with pytest.raises(ValueError) as caught:
        check_int(0, "k", minimum=1)
    assert str(caught.value) == "k must be an int >= 1. Received: k=0"


@pytest.mark.parametrize(
    ("value", "optional", "error", "message"),
    [
        (0, False, ValueError, "Conv2D: filters must be a positive int. Received: filters=0"),
        (True, False, TypeError, "Conv2D: filters must be a positive int. Received: filters=True"),
        (2.0, False, TypeError, "Conv2D: filters must be a positive int. Received: filters=2.0"),
        (None, False, TypeError, "Conv2D: filters must be a positive int. Received: filters=None"),
        (
            -1,
            True,
            ValueError,
            "Conv2D: filters must be a positive int or None. Received: filters=-1",
        ),
    ],
)
def test_check_positive_int_refuses(value, optional, error, message):
    with pytest.raises(error) as caught:
        check_positive_int(value, "filters", "Conv2D", optional=optional)
    assert str(caught.value) == message


def test_check_positive_int_accepts():
    assert check_positive_int(np.int32(3), "filters", "Conv2D") == 3
    assert check_positive_int(None, "filters", "Conv2D", optional=True) is None


@pytest.mark.parametrize(
    ("value", "kwargs", "expected"),
    [
        (2, {}, 2.0),
        (np.float32(0.5), {"minimum": 0, "maximum": 1}, 0.5),
        (0, {"minimum": 0}, 0.0),
        (math.inf, {"finite": False}, math.inf),
        (None, {"optional": True}, None),
        (0.999, {"minimum": 0, "maximum": 1, "exclusive_maximum": True}, 0.999),
    ],
)
def test_check_number_accepts(value, kwargs, expected):
    result = check_number(value, "rate", "Owner", **kwargs)
    assert result == expected
    assert result is None or type(result) is float


@pytest.mark.parametrize(
    ("value", "kwargs", "error", "message"),
    [
        (True, {}, TypeError, "Owner: rate must be a finite number. Received: rate=True"),
        ("1", {"finite": False}, TypeError, "Owner: rate must be a number. Received: rate='1'"),
        (math.nan, {}, ValueError, "Owner: rate must be a finite number. Received: rate=nan"),
        (
            math.inf,
            {"minimum": 0},
            ValueError,
            "Owner: rate must be a finite number >= 0. Received: rate=inf",
        ),
        (
            0,
            {"minimum": 0, "exclusive_minimum": True},
            ValueError,
            "Owner: rate must be a finite number > 0. Received: rate=0",
        ),
        (
            1,
            {"minimum": 0, "maximum": 1, "exclusive_maximum": True},
            ValueError,
            "Owner: rate must be a finite number in [0, 1). Received: rate=1",
        ),
        (
            0,
            {"minimum": 0, "maximum": 1, "exclusive_minimum": True},
            ValueError,
            "Owner: rate must be a finite number in (0, 1]. Received: rate=0",
        ),
        (
            3,
            {"maximum": 2, "exclusive_maximum": True},
            ValueError,
            "Owner: rate must be a finite number < 2. Received: rate=3",
        ),
        (
            3,
            {"maximum": 2.5},
            ValueError,
            "Owner: rate must be a finite number <= 2.5. Received: rate=3",
        ),
        (
            "x",
            {"finite": False, "optional": True},
            TypeError,
            "Owner: rate must be a number or None. Received: rate='x'",
        ),
    ],
)
def test_check_number_refuses(value, kwargs, error, message):
    with pytest.raises(error) as caught:
        check_number(value, "rate", "Owner", **kwargs)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        (1, ValueError, "Dropout: rate must be a float in [0, 1). Received: rate=1"),
        (-0.1, ValueError, "Dropout: rate must be a float in [0, 1). Received: rate=-0.1"),
        (False, TypeError, "Dropout: rate must be a float in [0, 1). Received: rate=False"),
        ("0.5", TypeError, "Dropout: rate must be a float in [0, 1). Received: rate='0.5'"),
    ],
)
def test_check_fraction_refuses(value, error, message):
    with pytest.raises(error) as caught:
        check_fraction(value, "rate", "Dropout")
    assert str(caught.value) == message


def test_check_fraction_accepts():
    assert check_fraction(0, "rate", "Dropout") == 0.0
    assert check_fraction(0.5, "rate", "Dropout") == 0.5


@pytest.mark.parametrize("value", [1, 0, "True", None])
def test_check_bool_refuses_everything_but_a_bool(value):
    with pytest.raises(TypeError) as caught:
        check_bool(value, "use_bias", "Dense")
    assert str(caught.value) == (
        f"Dense: use_bias must be a bool (True or False). Received: use_bias={value!r}"
    )


def test_check_bool_accepts():
    assert check_bool(True, "use_bias", "Dense") is True
    assert check_bool(False, "use_bias", "Dense") is False


def test_check_choice_accepts_and_lowers():
    assert check_choice("Same", "padding", "Conv2D", choices=("valid", "same")) == "same"
    flips = ("horizontal", "vertical")
    assert check_choice("vertical", "mode", "RandomFlip", choices=flips, lower=False) == "vertical"


@pytest.mark.parametrize(
    ("value", "kwargs", "error", "message"),
    [
        (
            "sme",
            {},
            ValueError,
            "Conv2D: padding must be one of 'valid', 'same'. Received: padding='sme' Did you mean 'same'?",
        ),
        (
            "zzz",
            {},
            ValueError,
            "Conv2D: padding must be one of 'valid', 'same'. Received: padding='zzz'",
        ),
        (1, {}, TypeError, "Conv2D: padding must be one of 'valid', 'same'. Received: padding=1"),
        (
            "SAME",
            {"lower": False},
            ValueError,
            "Conv2D: padding must be one of 'valid', 'same'. Received: padding='SAME'",
        ),
    ],
)
def test_check_choice_refuses(value, kwargs, error, message):
    with pytest.raises(error) as caught:
        check_choice(value, "padding", "Conv2D", choices=("valid", "same"), **kwargs)
    assert str(caught.value) == message


def test_normalize_tuple_accepts():
    assert normalize_tuple(3, "kernel_size", "Conv2D") == (3, 3)
    assert normalize_tuple([1, np.int64(2)], "strides", "Conv2D") == (1, 2)
    assert normalize_tuple(0, "padding", "Owner", n=3, allow_zero=True) == (0, 0, 0)


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        (
            True,
            TypeError,
            "Conv2D: kernel_size must be an int or a tuple of 2 ints. Received: kernel_size=True",
        ),
        (
            "3",
            TypeError,
            "Conv2D: kernel_size must be an int or a tuple of 2 ints. Received: kernel_size='3'",
        ),
        (
            (3,),
            ValueError,
            "Conv2D: kernel_size must be an int or a tuple of 2 ints. Received: kernel_size=(3,)",
        ),
        (
            (3, 2.0),
            ValueError,
            "Conv2D: kernel_size must be an int or a tuple of 2 ints. Received: kernel_size=(3, 2.0)",
        ),
        (
            (3, 0),
            ValueError,
            "Conv2D: every value of kernel_size must be > 0. Received: kernel_size=(3, 0)",
        ),
    ],
)
def test_normalize_tuple_refuses(value, error, message):
    with pytest.raises(error) as caught:
        normalize_tuple(value, "kernel_size", "Conv2D")
    assert str(caught.value) == message


def _defined_functions(path: Path) -> set[str]:
    """Names of every function defined anywhere in a module (nested and methods included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef)
    return {node.name for node in ast.walk(tree) if isinstance(node, kinds)}


def test_no_module_but_validation_defines_its_own_number_checks():
    copies = sorted(
        f"{path.relative_to(SRC)}: {name}"
        for path in SRC.rglob("*.py")
        if path.name != "_validation.py" or path.parent != SRC
        for name in _defined_functions(path) & GUARDED_NAMES
    )
    assert copies == [], "use cnnkit._validation instead of a local copy: " + ", ".join(copies)


def test_the_guard_sees_a_copy(tmp_path):
    module = tmp_path / "copy.py"
    module.write_text("class A:\n    def check_int(self, value):\n        return value\n")
    assert _defined_functions(module) & GUARDED_NAMES == {"check_int"}
