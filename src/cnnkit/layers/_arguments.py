"""Layer constructor arguments in the forms Keras accepts: dtypes, input shapes, and the JSON
form of initializers, regularizers, constraints and activations for ``get_config``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from cnnkit import constraints as constraints_module
from cnnkit import initializers as initializers_module
from cnnkit import regularizers as regularizers_module


def _serializable(value: Any) -> Any:
    from cnnkit import activations

    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, initializers_module.Initializer):
        return initializers_module.serialize(value)
    if isinstance(value, regularizers_module.Regularizer):
        return regularizers_module.serialize(value)
    if isinstance(value, constraints_module.Constraint):
        return constraints_module.serialize(value)
    if callable(value):
        return activations.serialize(value)
    return value


def _resolve_dtype(dtype: Any, owner: str) -> torch.dtype:
    if dtype is None:
        return torch.float32
    if isinstance(dtype, torch.dtype):
        return dtype
    names = {
        "float32": torch.float32,
        "float64": torch.float64,
        "float16": torch.float16,
        "bfloat16": torch.bfloat16,
    }
    if isinstance(dtype, str) and dtype in names:
        return names[dtype]
    raise ValueError(
        f"{owner}: dtype must be one of {list(names)} or a torch.dtype. Received: dtype={dtype!r}"
    )


def _check_input_shape(
    shape: Any, owner: str, name: str = "input_shape"
) -> tuple[int | None, ...] | None:
    if shape is None:
        return None
    if isinstance(shape, int) and not isinstance(shape, bool):
        shape = (shape,)
    if (
        not isinstance(shape, Sequence)
        or isinstance(shape, str)
        or not all(
            s is None or (isinstance(s, int) and not isinstance(s, bool) and s > 0) for s in shape
        )
    ):
        raise ValueError(
            f"{owner}: {name} must be a tuple of positive ints without the batch axis, "
            f"e.g. (28, 28, 1). Received: {name}={shape!r}"
        )
    return tuple(shape)
