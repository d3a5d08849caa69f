"""The small checks of a model file's JSON header: limits, the one refusal wording, and
checks of objects, ints, sizes and shapes that every section of the schema shares."""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import Any

MAX_DEPTH = 12  # nesting of any JSON section; the deepest valid one is 6 levels
MAX_STRING = 4096  # characters in a name, an activation, a padding mode...
MAX_LAYERS = 4096
MAX_SIZE = 65536  # filters, units, groups, heights, widths and input sizes
MAX_WINDOW = 4096  # kernel, pool, stride and dilation sizes
MAX_INPUT_ELEMENTS = 2**31  # elements of one input image (the product of input_shape)
MAX_PARAM_GROUPS = 64
MAX_MODEL_NESTING = 6  # models used as layers inside models inside models...


def refuse(path: str, field: str, expected: str, found: Any) -> ValueError:
    """The one wording of a refusal: file, field, what is accepted, what was found."""
    return ValueError(f"{path!r}: {field} must be {expected}; found {_shown(found)}")


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def is_int(value: Any) -> bool:
    """An int that is not a bool (JSON's true would pass isinstance(value, int))."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    """A finite int or float that is not a bool."""
    return (is_int(value) or isinstance(value, float)) and math.isfinite(value)


def check_object(value: Any, field: str, path: str) -> dict:
    if not isinstance(value, dict):
        raise refuse(path, field, "a JSON object", value)
    return value


def refuse_keys(value: dict, accepted: Collection[str], field: str, path: str) -> None:
    unknown = sorted(set(value) - set(accepted))
    if unknown:
        raise refuse(path, field, f"an object with fields among {sorted(accepted)}", unknown)


def _check_size(value: Any, field: str, path: str, high: int) -> None:
    if not is_int(value) or not 1 <= value <= high:
        raise refuse(path, field, f"an int in [1, {high}]", value)


def _check_sizes(value: Any, field: str, path: str, high: int, optional: bool = False) -> None:
    """An int, or a list of up to 3 ints, each in [1, high] (kernel sizes, strides...)."""
    if value is None and optional:
        return
    sizes = value if isinstance(value, list) and 1 <= len(value) <= 3 else [value]
    for size in sizes:
        _check_size(size, field, path, high)


def check_shape(value: Any, field: str, path: str, optional: bool = True) -> None:
    """An input shape: 1 to 4 sizes in [1, MAX_SIZE] or null, MAX_INPUT_ELEMENTS at most."""
    if value is None and optional:
        return
    expected = f"a list of 1 to 4 sizes, each null or an int in [1, {MAX_SIZE}]"
    if not isinstance(value, list) or not 1 <= len(value) <= 4:
        raise refuse(path, field, expected, value)
    for size in value:
        if size is not None:
            _check_size(size, field, path, MAX_SIZE)
    if math.prod(size for size in value if size is not None) > MAX_INPUT_ELEMENTS:
        raise refuse(path, field, f"a shape of at most {MAX_INPUT_ELEMENTS} elements", value)
