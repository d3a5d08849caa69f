"""The constant arguments of an op layer as JSON and back: tuples, slices, arrays and dtypes
get a tagged object, the layer's input tensors a ``{"__tensor__": index}`` slot. Decoding
accepts only these tags (a model file cannot smuggle in anything else)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from cnnkit.ops._dispatch import Slot, standard_dtype

MAX_DEPTH = 16  # nesting of lists in one argument
MAX_ARRAY_VALUES = 1_000_000  # values of one array constant


def encode(value: Any, where: str, depth: int = 0) -> Any:
    """``value`` as JSON-able data; a TypeError naming ``where`` for what has no JSON form."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float, np.integer, np.floating, np.bool_)):
        return value.item() if isinstance(value, np.generic) else value
    if depth > MAX_DEPTH:
        raise TypeError(f"{where} is nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, Slot):
        return {"__tensor__": value.index}
    if isinstance(value, list):
        return [encode(item, where, depth + 1) for item in value]
    if isinstance(value, tuple):
        return {"__tuple__": [encode(item, where, depth + 1) for item in value]}
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        return {"__dict__": {k: encode(v, where, depth + 1) for k, v in value.items()}}
    if isinstance(value, slice):
        return {
            "__slice__": [
                encode(v, where, depth + 1) for v in (value.start, value.stop, value.step)
            ]
        }
    if value is Ellipsis:
        return {"__ellipsis__": True}
    if isinstance(value, (torch.dtype, np.dtype)) or (
        isinstance(value, type) and issubclass(value, np.generic)
    ):
        return {"__dtype__": str(standard_dtype(value)).removeprefix("torch.")}
    if isinstance(value, (np.ndarray, torch.Tensor)):
        array = value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else value
        return {"__array__": array.tolist(), "dtype": str(array.dtype)}
    raise TypeError(
        f"{where} is a {type(value).__name__}, which a model file cannot store; use numbers, "
        "strings, lists, tuples, NumPy arrays or dtypes"
    )


def decode(value: Any, where: str, depth: int = 0) -> Any:
    """The value :func:`encode` wrote; a ValueError naming ``where`` for anything else."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if depth > MAX_DEPTH:
        raise ValueError(f"{where} is nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, list):
        return [decode(item, where, depth + 1) for item in value]
    if not isinstance(value, dict) or len(value) not in (1, 2):
        raise ValueError(f"{where} holds {value!r:.100}, which is no op argument")
    tag = next(iter(value))
    content = value[tag]
    if tag == "__tensor__" and _is_index(content) and len(value) == 1:
        return Slot(content)
    if tag == "__tuple__" and isinstance(content, list) and len(value) == 1:
        return tuple(decode(item, where, depth + 1) for item in content)
    if tag == "__dict__" and isinstance(content, dict) and len(value) == 1:
        return {str(k): decode(v, where, depth + 1) for k, v in content.items()}
    if tag == "__slice__" and isinstance(content, list) and len(content) == 3:
        if all(v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in content):
            return slice(*content)
    if tag == "__ellipsis__" and content is True and len(value) == 1:
        return Ellipsis
    if tag == "__dtype__" and len(value) == 1:
        return _dtype_name(content, where)
    if tag == "__array__" and set(value) == {"__array__", "dtype"}:
        return _array(content, value["dtype"], where)
    raise ValueError(f"{where} holds {value!r:.100}, which is no op argument")


def _is_index(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 4096


def _dtype_name(name: Any, where: str) -> str:
    try:
        standard_dtype(name)
    except TypeError:
        raise ValueError(f"{where} names an unknown dtype {name!r:.50}") from None
    return name


def _array(values: Any, dtype: Any, where: str) -> np.ndarray:
    name = _dtype_name(dtype, where)
    if name == "bfloat16":
        name = "float32"
    array = np.asarray(values)
    if array.dtype == object or array.size > MAX_ARRAY_VALUES or array.dtype.kind not in "biuf":
        raise ValueError(f"{where}: an array constant must be a rectangular list of numbers")
    return array.astype(name)
