"""Tensors read from a model file must be exactly what the model holds: the same names, shapes
and dtypes. Nothing is converted silently (a float64 or bool weight is refused, not cast)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import torch

# safetensors' dtype names; any other name stays a string and fits no model
_DTYPES = {
    "F64": torch.float64,
    "F32": torch.float32,
    "F16": torch.float16,
    "BF16": torch.bfloat16,
    "I64": torch.int64,
    "I32": torch.int32,
    "I16": torch.int16,
    "I8": torch.int8,
    "U8": torch.uint8,
    "BOOL": torch.bool,
}
NOT_WEIGHTS = ("optimizer/", "backup/")  # prefixes of the other tensors a file may hold

Layout = tuple[tuple[int, ...], Any]  # (shape, torch dtype or safetensors' name of it)


def file_layouts(reader: Any) -> dict[str, Layout]:
    """Shape and dtype of every tensor of an open safetensors file, without reading any data."""
    layouts = {}
    for name in reader.keys():
        piece = reader.get_slice(name)
        dtype = piece.get_dtype()
        layouts[name] = (tuple(piece.get_shape()), _DTYPES.get(dtype, dtype))
    return layouts


def layouts_of(tensors: Mapping[str, torch.Tensor]) -> dict[str, Layout]:
    """Shape and dtype of each tensor."""
    return {name: (tuple(tensor.shape), tensor.dtype) for name, tensor in tensors.items()}


def weights_only(layouts: Mapping[str, Any]) -> dict[str, Any]:
    """The entries that are weights (not optimizer state nor a backup's training state)."""
    return {name: value for name, value in layouts.items() if not name.startswith(NOT_WEIGHTS)}


def dtype_name(dtype: Any) -> str:
    """'float32' for torch.float32; safetensors' own name for a dtype torch lacks."""
    return str(dtype).removeprefix("torch.")


def nbytes(shape: Iterable[int], dtype: torch.dtype) -> int:
    """Bytes of a tensor of ``shape`` and ``dtype`` (Python ints: no overflow)."""
    count = 1
    for size in shape:
        count *= int(size)
    return count * torch.empty((), dtype=dtype, device="meta").element_size()


def check_weights_fit(
    expected: Mapping[str, Layout], found: Mapping[str, Layout], path: str
) -> None:
    """Refuse unless ``found`` has exactly the names of ``expected``, each with its shape and
    dtype; the first mismatch reported is the first layer's."""
    missing = sorted(set(expected) - set(found))
    unexpected = sorted(set(found) - set(expected))
    if missing or unexpected:
        raise ValueError(
            f"{path!r} does not fit this model: missing weights {missing[:5]}, "
            f"unexpected weights {unexpected[:5]}"
        )
    for name, (shape, dtype) in expected.items():
        found_shape, found_dtype = found[name]
        if tuple(found_shape) != tuple(shape):
            raise ValueError(
                f"{path!r}: weight {name!r} has shape {tuple(found_shape)}, "
                f"the model needs {tuple(shape)}"
            )
        if found_dtype != dtype:
            raise ValueError(
                f"{path!r}: weight {name!r} holds {dtype_name(found_dtype)} values, the model "
                f"needs {dtype_name(dtype)}; cnnkit does not convert weights silently"
            )
