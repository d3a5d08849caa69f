"""How every op is declared and called: one table of op names to plain functions (what a
saved model's op layers are resolved against), real inputs converted to torch tensors on
cnnkit's device with Keras' dtypes, and symbolic inputs recorded as a layer call."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from cnnkit.layers._symbolic import KerasTensor

OPS: dict[str, Callable[..., Any]] = {}  # "sum", "image.resize" -> the function, unwrapped

_DTYPES = {
    name: getattr(torch, name)
    for name in (
        "float16 bfloat16 float32 float64 uint8 int8 int16 int32 int64 bool complex64".split()
    )
}


def op(name: str | None = None) -> Callable[[Callable], Callable]:
    """Register a function as the op ``name`` (default: its own name): called on symbolic
    tensors (anywhere in its arguments) it records an op layer instead of computing."""

    def decorator(function: Callable) -> Callable:
        key = name or function.__name__
        OPS[key] = function
        signature = inspect.signature(function)

        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if holds_symbolic((args, kwargs)):
                try:
                    signature.bind(*args, **kwargs)
                except TypeError as error:
                    raise TypeError(f"ops.{key}: {error}") from None
                return _record(key, args, kwargs)
            return function(*args, **kwargs)

        return wrapper

    return decorator


def holds_symbolic(value: Any) -> bool:
    """Whether ``value`` is, or holds in its lists, tuples or dicts, a symbolic tensor."""
    if isinstance(value, KerasTensor):
        return True
    if isinstance(value, (list, tuple)):
        return any(holds_symbolic(item) for item in value)
    if isinstance(value, dict):
        return any(holds_symbolic(item) for item in value.values())
    return False


def _record(key: str, args: tuple, kwargs: dict[str, Any]) -> Any:
    from cnnkit.ops._op_layer import OpLayer  # built on _dispatch: imported when first needed

    tensors: list[KerasTensor] = []
    layer = OpLayer(key, list(_slots(args, tensors)), _slots(kwargs, tensors))
    return layer(tensors)


class Slot:
    """Where the ``index``-th input tensor goes in an op layer's arguments."""

    def __init__(self, index: int):
        self.index = index

    def __repr__(self) -> str:
        return f"Slot({self.index})"


def _slots(value: Any, tensors: list[KerasTensor]) -> Any:
    """``value`` with each symbolic tensor replaced by a :class:`Slot` (collected in order)."""
    if isinstance(value, KerasTensor):
        tensors.append(value)
        return Slot(len(tensors) - 1)
    if isinstance(value, (list, tuple)):
        return type(value)(_slots(item, tensors) for item in value)
    if isinstance(value, dict):
        return {key: _slots(item, tensors) for key, item in value.items()}
    return value


def fill(value: Any, tensors: list[Any]) -> Any:
    """``value`` with each :class:`Slot` replaced by its tensor (the inverse of recording)."""
    if isinstance(value, Slot):
        return tensors[value.index]
    if isinstance(value, (list, tuple)):
        return type(value)(fill(item, tensors) for item in value)
    if isinstance(value, dict):
        return {key: fill(item, tensors) for key, item in value.items()}
    return value


def standard_dtype(dtype: Any, what: str = "dtype") -> torch.dtype:
    """A torch dtype from a name ("float32"), a torch or NumPy dtype; else a TypeError."""
    if isinstance(dtype, torch.dtype):
        return dtype
    name = getattr(dtype, "name", None) or getattr(dtype, "__name__", None) or dtype
    if name in ("float", "int"):
        name = {"float": "float32", "int": "int32"}[name]
    if isinstance(name, str) and name.removeprefix("torch.") in _DTYPES:
        return _DTYPES[name.removeprefix("torch.")]
    raise TypeError(
        f"{what} must be one of {sorted(_DTYPES)} (a name, torch or NumPy dtype). "
        f"Received: {what}={dtype!r}"
    )


def default_device() -> torch.device:
    """cnnkit's device, where ops put the tensors they make from NumPy arrays and numbers."""
    from cnnkit import config

    return config.get_device()


def to_tensor(x: Any, dtype: Any = None, device: torch.device | None = None) -> torch.Tensor:
    """``x`` as a torch tensor with Keras' dtypes: Python ints int32, Python floats float32,
    NumPy arrays their own dtype; a given tensor stays where it is."""
    wanted = None if dtype is None else standard_dtype(dtype)
    if isinstance(x, torch.Tensor):
        return x if wanted is None else x.to(wanted)
    if isinstance(x, KerasTensor):
        x._refuse()
    if hasattr(x, "numpy") and not isinstance(x, np.ndarray):
        x = x.numpy()  # Keras variables and the like
    array = np.asarray(x)
    if array.dtype == object:
        raise TypeError(f"cannot convert {type(x).__name__} to a tensor: {x!r:.100}")
    if wanted is None and not isinstance(x, (np.ndarray, np.generic)):
        if array.dtype.kind in "iu":
            wanted = torch.int32
        elif array.dtype.kind == "f":
            wanted = torch.float32
    tensor = torch.as_tensor(array, device=device or default_device())
    return tensor if wanted is None else tensor.to(wanted)


def tensors(*values: Any) -> list[torch.Tensor]:
    """``values`` as tensors on one device: that of the first tensor among them (so constants
    join it), else cnnkit's. Python numbers next to a tensor take its dtype family."""
    device = next((v.device for v in values if isinstance(v, torch.Tensor)), None)
    result = []
    for value in values:
        if isinstance(value, (bool, int, float)) and not isinstance(value, np.generic):
            result.append(_scalar_like(value, values, device))
        else:
            result.append(to_tensor(value, device=device))
    return result


def _scalar_like(value: Any, values: tuple, device: torch.device | None) -> torch.Tensor:
    """A Python number as a 0-d tensor that does not widen its partner's dtype (Keras'
    weak types): 2 * int8 stays int8, 0.5 * float16 stays float16."""
    partner = next((v for v in values if isinstance(v, torch.Tensor)), None)
    if partner is None:
        return to_tensor(value, device=device)
    if isinstance(value, bool):
        return torch.tensor(value, device=device)
    if (
        isinstance(value, int)
        and not partner.dtype.is_floating_point
        and partner.dtype != torch.bool
    ):
        return torch.tensor(value, dtype=partner.dtype, device=device)
    if partner.dtype.is_floating_point:
        return torch.tensor(value, dtype=partner.dtype, device=device)
    return to_tensor(value, device=device)


def check_axis(name: str, axis: Any, ndim: int, what: str = "axis") -> None:
    """Raise a ValueError naming op ``name`` when ``axis`` (int, tuple or None) does not fit
    a tensor of rank ``ndim``."""
    axes = [] if axis is None else list(axis) if isinstance(axis, (list, tuple)) else [axis]
    for item in axes:
        if isinstance(item, bool) or not isinstance(item, (int, np.integer)):
            raise TypeError(
                f"ops.{name}: {what} must be an int, a tuple of ints or None. "
                f"Received: {what}={axis!r}"
            )
        if not -max(ndim, 1) <= item < max(ndim, 1):
            raise ValueError(
                f"ops.{name}: {what}={axis!r} is out of range for a tensor of rank {ndim} "
                f"(accepted: {-max(ndim, 1)} to {max(ndim, 1) - 1})"
            )


def axes(axis: Any) -> Any:
    """``axis`` as torch wants it: None, an int, or a tuple of ints (from a JSON list)."""
    return tuple(axis) if isinstance(axis, list) else axis
