"""Conversions between NumPy, Python numbers and torch tensors (Keras' ``ops.core``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from cnnkit.layers._symbolic import KerasTensor
from cnnkit.ops._dispatch import op, standard_dtype, to_tensor


def convert_to_tensor(x: Any, dtype: Any = None, sparse: Any = None, ragged: Any = None) -> Any:
    """``x`` (NumPy array, Python number or list, tensor) as a torch tensor on cnnkit's device;
    Python ints become int32 and floats float32, as in Keras."""
    if isinstance(x, KerasTensor):
        return x if dtype is None else cast(x, dtype)
    return to_tensor(x, dtype)


def convert_to_numpy(x: Any) -> np.ndarray:
    """``x`` as a NumPy array (copied to the CPU, detached from autograd)."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu()
        return (x.float() if x.dtype == torch.bfloat16 else x).numpy()
    if isinstance(x, KerasTensor):
        x._refuse()
    return np.asarray(x)


@op()
def cast(x: Any, dtype: Any) -> torch.Tensor:
    """``x`` converted to ``dtype`` ("float32", "int32", ...)."""
    return to_tensor(x).to(standard_dtype(dtype, "ops.cast: dtype"))


def shape(x: Any) -> tuple:
    """The shape of ``x`` as a tuple (``None`` for unknown sizes of symbolic tensors)."""
    if isinstance(x, KerasTensor):
        return x.shape
    return tuple(to_tensor(x).shape)


def dtype(x: Any) -> str:
    """The name of ``x``'s dtype, e.g. "float32"."""
    value = x.dtype if isinstance(x, KerasTensor) else to_tensor(x).dtype
    return str(value).removeprefix("torch.")


@op()
def stop_gradient(variable: Any) -> torch.Tensor:
    """``variable`` with no gradient flowing back through it."""
    return to_tensor(variable).detach()
