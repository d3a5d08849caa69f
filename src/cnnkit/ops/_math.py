"""Element-wise math, comparisons and products (Keras' NumPy-like ``ops``): inputs may be
tensors, NumPy arrays or Python numbers, and broadcast as in NumPy."""

from __future__ import annotations

from typing import Any

import torch

from cnnkit.ops._dispatch import op, tensors, to_tensor


def _float(x: torch.Tensor) -> torch.Tensor:
    """``x`` itself when floating point, else as float32 (Keras' result for sqrt(int) etc.)."""
    return x if x.is_floating_point() or x.is_complex() else x.to(torch.float32)


@op()
def add(x1: Any, x2: Any) -> torch.Tensor:
    """``x1 + x2``."""
    a, b = tensors(x1, x2)
    return torch.add(a, b)


@op()
def subtract(x1: Any, x2: Any) -> torch.Tensor:
    """``x1 - x2``."""
    a, b = tensors(x1, x2)
    return torch.subtract(a, b)


@op()
def multiply(x1: Any, x2: Any) -> torch.Tensor:
    """``x1 * x2``."""
    a, b = tensors(x1, x2)
    return torch.multiply(a, b)


@op()
def divide(x1: Any, x2: Any) -> torch.Tensor:
    """``x1 / x2`` (true division: integers give float32)."""
    a, b = tensors(x1, x2)
    return torch.divide(a, b)


@op()
def floor_divide(x1: Any, x2: Any) -> torch.Tensor:
    """``x1 // x2``."""
    a, b = tensors(x1, x2)
    return torch.floor_divide(a, b)


@op()
def mod(x1: Any, x2: Any) -> torch.Tensor:
    """``x1 % x2`` (the sign of ``x2``, as in NumPy)."""
    a, b = tensors(x1, x2)
    return torch.remainder(a, b)


@op()
def power(x1: Any, x2: Any) -> torch.Tensor:
    """``x1 ** x2``."""
    a, b = tensors(x1, x2)
    return torch.pow(a, b)


@op()
def maximum(x1: Any, x2: Any) -> torch.Tensor:
    """The element-wise larger of ``x1`` and ``x2``."""
    a, b = tensors(x1, x2)
    return torch.maximum(a, b.to(a.dtype) if b.ndim == 0 else b)


@op()
def minimum(x1: Any, x2: Any) -> torch.Tensor:
    """The element-wise smaller of ``x1`` and ``x2``."""
    a, b = tensors(x1, x2)
    return torch.minimum(a, b.to(a.dtype) if b.ndim == 0 else b)


@op()
def equal(x1: Any, x2: Any) -> torch.Tensor:
    """``x1 == x2`` as a bool tensor."""
    return torch.eq(*tensors(x1, x2))


@op()
def not_equal(x1: Any, x2: Any) -> torch.Tensor:
    """``x1 != x2`` as a bool tensor."""
    return torch.ne(*tensors(x1, x2))


@op()
def greater(x1: Any, x2: Any) -> torch.Tensor:
    """``x1 > x2`` as a bool tensor."""
    return torch.gt(*tensors(x1, x2))


@op()
def greater_equal(x1: Any, x2: Any) -> torch.Tensor:
    """``x1 >= x2`` as a bool tensor."""
    return torch.ge(*tensors(x1, x2))


@op()
def less(x1: Any, x2: Any) -> torch.Tensor:
    """``x1 < x2`` as a bool tensor."""
    return torch.lt(*tensors(x1, x2))


@op()
def less_equal(x1: Any, x2: Any) -> torch.Tensor:
    """``x1 <= x2`` as a bool tensor."""
    return torch.le(*tensors(x1, x2))


@op()
def logical_and(x1: Any, x2: Any) -> torch.Tensor:
    """Element-wise ``x1 and x2`` (non-zero is true)."""
    return torch.logical_and(*tensors(x1, x2))


@op()
def logical_or(x1: Any, x2: Any) -> torch.Tensor:
    """Element-wise ``x1 or x2`` (non-zero is true)."""
    return torch.logical_or(*tensors(x1, x2))


@op()
def logical_not(x: Any) -> torch.Tensor:
    """Element-wise ``not x`` (non-zero is true)."""
    return torch.logical_not(to_tensor(x))


@op()
def abs(x: Any) -> torch.Tensor:  # noqa: A001 (Keras' name)
    """``|x|``."""
    return torch.abs(to_tensor(x))


absolute = abs


@op()
def negative(x: Any) -> torch.Tensor:
    """``-x``."""
    return torch.negative(to_tensor(x))


@op()
def sign(x: Any) -> torch.Tensor:
    """-1, 0 or 1 by the sign of ``x``."""
    return torch.sign(to_tensor(x))


@op()
def sqrt(x: Any) -> torch.Tensor:
    """The square root of ``x`` (integers give float32)."""
    return torch.sqrt(_float(to_tensor(x)))


@op()
def square(x: Any) -> torch.Tensor:
    """``x * x``."""
    x = to_tensor(x)
    return torch.square(x.to(torch.int32) if x.dtype == torch.bool else x)


@op()
def reciprocal(x: Any) -> torch.Tensor:
    """``1 / x``."""
    return torch.reciprocal(_float(to_tensor(x)))


@op()
def exp(x: Any) -> torch.Tensor:
    """``e ** x`` (integers give float32)."""
    return torch.exp(_float(to_tensor(x)))


@op()
def log(x: Any) -> torch.Tensor:
    """The natural logarithm of ``x`` (integers give float32)."""
    return torch.log(_float(to_tensor(x)))


@op()
def log1p(x: Any) -> torch.Tensor:
    """``log(1 + x)``, accurate for small ``x``."""
    return torch.log1p(_float(to_tensor(x)))


@op()
def round(x: Any, decimals: int = 0) -> torch.Tensor:  # noqa: A001 (Keras' name)
    """``x`` rounded half to even to ``decimals`` places."""
    x = to_tensor(x)
    if not x.is_floating_point():
        return x if decimals >= 0 else torch.round(x.float(), decimals=decimals).to(x.dtype)
    return torch.round(x, decimals=decimals)


@op()
def floor(x: Any) -> torch.Tensor:
    """The largest integer not above ``x`` (float result)."""
    return torch.floor(_float(to_tensor(x)))


@op()
def ceil(x: Any) -> torch.Tensor:
    """The smallest integer not below ``x`` (float result)."""
    return torch.ceil(_float(to_tensor(x)))


@op()
def isnan(x: Any) -> torch.Tensor:
    """Where ``x`` is NaN."""
    return torch.isnan(to_tensor(x))


@op()
def isfinite(x: Any) -> torch.Tensor:
    """Where ``x`` is neither infinite nor NaN."""
    return torch.isfinite(to_tensor(x))


@op()
def isinf(x: Any) -> torch.Tensor:
    """Where ``x`` is infinite."""
    return torch.isinf(to_tensor(x))


@op()
def clip(x: Any, x_min: Any, x_max: Any) -> torch.Tensor:
    """``x`` limited to [x_min, x_max]."""
    x = to_tensor(x)
    if x.dtype == torch.bool:
        x = x.to(torch.int32)
    low, high = tensors(x, x_min, x_max)[1:]
    return torch.clamp(x, low.to(x.dtype), high.to(x.dtype))


@op()
def where(condition: Any, x1: Any = None, x2: Any = None) -> Any:
    """``x1`` where ``condition`` holds, else ``x2``; with neither, the indices where it holds."""
    if (x1 is None) != (x2 is None):
        raise ValueError("ops.where: give both x1 and x2, or neither")
    condition = to_tensor(condition)
    if x1 is None:
        return tuple(index.to(torch.int32) for index in torch.nonzero(condition, as_tuple=True))
    a, b = tensors(x1, x2)
    return torch.where(condition.to(a.device).bool(), a, b)


def _matrix_operands(name: str, x1: Any, x2: Any) -> tuple[torch.Tensor, torch.Tensor]:
    a, b = tensors(x1, x2)
    if a.dtype != b.dtype:
        wanted = torch.promote_types(a.dtype, b.dtype)
        a, b = a.to(wanted), b.to(wanted)
    if a.dtype == torch.bool:
        a, b = a.to(torch.int32), b.to(torch.int32)
    return a, b


@op()
def matmul(x1: Any, x2: Any) -> torch.Tensor:
    """The matrix product of ``x1`` and ``x2`` (batched over leading axes, as NumPy)."""
    a, b = _matrix_operands("matmul", x1, x2)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(
            f"ops.matmul: inputs must have rank >= 1. Received shapes {tuple(a.shape)} "
            f"and {tuple(b.shape)}"
        )
    return torch.matmul(a, b)


@op()
def dot(x1: Any, x2: Any) -> torch.Tensor:
    """NumPy's ``dot``: a product for scalars, ``matmul`` for matrices, and a sum over the
    last axis of ``x1`` and the second-to-last of ``x2`` otherwise."""
    a, b = _matrix_operands("dot", x1, x2)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if b.ndim == 1:
        return torch.tensordot(a, b, dims=([-1], [0]))
    return torch.tensordot(a, b, dims=([-1], [-2]))
