"""One working form for NumPy arrays and torch tensors: dtype rules, device, and the way back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

ArrayLike = np.ndarray | torch.Tensor | Any
"""A NumPy array, a torch tensor, or anything ``numpy.asarray`` accepts (nested lists)."""

Array = np.ndarray | torch.Tensor

_NUMERIC = "numeric (integer, float16/32/64, complex64/128)"
_NUMPY_OF_TORCH = {
    torch.int64: np.int64,
    torch.float32: np.float32,
    torch.float64: np.float64,
    torch.complex64: np.complex64,
    torch.complex128: np.complex128,
}


def prefix(owner: str) -> str:
    """``"correlate2d: "`` for an owner, so messages name the function the input entered."""
    return f"{owner}: " if owner else ""


def _dtype_error(name: str, dtype: object, accepted: str, owner: str = "") -> TypeError:
    shown = str(dtype).replace("torch.", "")
    return TypeError(
        f"{prefix(owner)}{name} must have a {accepted} dtype. Received: {name}.dtype={shown}"
    )


def as_array(value: ArrayLike, name: str, allow_bool: bool = False, owner: str = "") -> Array:
    """Return ``value`` as a tensor or NumPy array after checking that its dtype is numeric.

    Args:
        value: a tensor, a NumPy array or nested sequences of numbers.
        name: the argument's name, used in error messages.
        allow_bool: accept boolean data too (padding moves data, it does no arithmetic).
        owner: the public function, named at the start of error messages.
    """
    accepted = ("boolean or " if allow_bool else "") + _NUMERIC
    if isinstance(value, torch.Tensor):
        if value.is_quantized or (value.dtype == torch.bool and not allow_bool):
            raise _dtype_error(name, value.dtype, accepted, owner)
        return value
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"{prefix(owner)}{name} must be a NumPy array or a torch tensor. Received: {name}={value!r}"
        ) from error
    kinds = "biufc" if allow_bool else "iufc"
    too_wide = array.dtype.itemsize > (16 if array.dtype.kind == "c" else 8)
    if array.dtype.kind not in kinds or too_wide:
        raise _dtype_error(name, array.dtype, accepted, owner)
    return array


def compute_dtype(dtype: torch.dtype) -> torch.dtype:
    """Return the dtype the arithmetic runs in: int64 for ints (wraps like SciPy), else float."""
    if dtype.is_complex:
        return torch.complex128 if dtype == torch.complex128 else torch.complex64
    if dtype.is_floating_point:
        return torch.float64 if dtype == torch.float64 else torch.float32
    return torch.int64


def _torch_dtype(dtype: np.dtype) -> torch.dtype:
    return torch.from_numpy(np.zeros(1, dtype)).dtype


def _device(image: Array, kernel: Array, owner: str = "") -> torch.device:
    devices = [x.device for x in (image, kernel) if isinstance(x, torch.Tensor)]
    if len(devices) == 2 and devices[0] != devices[1]:
        raise ValueError(
            f"{prefix(owner)}image and kernel must be on the same device. "
            f"Received: image.device={devices[0]}, kernel.device={devices[1]}"
        )
    return devices[0] if devices else torch.device("cpu")


def result_dtype(image: Array, kernel: Array) -> np.dtype | torch.dtype:
    """Return the output dtype: NumPy promotion (SciPy's rule) for arrays, torch's for tensors."""
    if isinstance(image, torch.Tensor) or isinstance(kernel, torch.Tensor):
        dtypes = [
            x.dtype if isinstance(x, torch.Tensor) else _torch_dtype(x.dtype)
            for x in (image, kernel)
        ]
        return torch.promote_types(*dtypes)
    return np.result_type(image.dtype, kernel.dtype)


def to_working(
    image: Array, kernel: Array, owner: str = ""
) -> tuple[torch.Tensor, torch.Tensor, Callable[[torch.Tensor], Array]]:
    """Return both operands as tensors in their compute dtype and a function giving the result.

    NumPy in gives NumPy out in SciPy's result dtype; a tensor in gives a tensor out, on that
    tensor's device, in torch's promoted dtype. Integers are computed in int64 and cast back,
    which wraps exactly as SciPy's integer arithmetic does.
    """
    out_dtype = result_dtype(image, kernel)
    as_torch = isinstance(out_dtype, torch.dtype)
    device = _device(image, kernel, owner)
    work = compute_dtype(out_dtype if as_torch else _torch_dtype(out_dtype))

    def convert(x: Array) -> torch.Tensor:
        if isinstance(x, torch.Tensor):
            return x.to(device=device, dtype=work)
        array = np.ascontiguousarray(x, dtype=_NUMPY_OF_TORCH[work])
        return torch.from_numpy(array).to(device)

    def finish(out: torch.Tensor) -> Array:
        if as_torch:
            return out.to(out_dtype).contiguous()
        return np.ascontiguousarray(out.detach().cpu().numpy(), dtype=out_dtype)

    return convert(image), convert(kernel), finish


def to_tensor(value: Array) -> tuple[torch.Tensor, Callable[[torch.Tensor], Array]]:
    """Return ``value`` as a tensor with the same bits and a function turning a result back."""
    if isinstance(value, torch.Tensor):
        return value, lambda out: out
    dtype = value.dtype.newbyteorder("=")
    # Wide unsigned types have few torch kernels: move their bits as the signed type of equal size.
    moved = np.dtype(f"i{dtype.itemsize}") if dtype.kind == "u" and dtype.itemsize > 1 else dtype
    array = np.ascontiguousarray(value, dtype=dtype).view(moved)
    return torch.from_numpy(array), lambda out: out.numpy().view(dtype)
