"""Reductions, statistics and orderings over axes (Keras' ``ops.sum``, ``mean``, ``sort``,
``top_k``...): ``axis=None`` means every axis, ``keepdims`` keeps reduced axes as size 1."""

from __future__ import annotations

from typing import Any

import torch

from cnnkit.ops._dispatch import axes, check_axis, op, standard_dtype, to_tensor

_SMALL_INTS = (torch.bool, torch.uint8, torch.int8, torch.int16)


def _checked(name: str, x: Any, axis: Any) -> torch.Tensor:
    x = to_tensor(x)
    check_axis(name, axis, x.ndim)
    return x


def _dims(x: torch.Tensor, axis: Any) -> tuple[int, ...]:
    """The axes to reduce as a tuple (every axis for None)."""
    axis = axes(axis)
    if axis is None:
        return tuple(range(x.ndim))
    return axis if isinstance(axis, tuple) else (axis,)


def _float(x: torch.Tensor) -> torch.Tensor:
    return x if x.is_floating_point() else x.to(torch.float32)


@op()
def sum(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:  # noqa: A001
    """The sum over ``axis`` (small integer and bool inputs give int32, as in Keras)."""
    x = _checked("sum", x, axis)
    dtype = torch.int32 if x.dtype in _SMALL_INTS else x.dtype
    return torch.sum(x, dim=_dims(x, axis), keepdim=keepdims, dtype=dtype)


@op()
def prod(x: Any, axis: Any = None, keepdims: bool = False, dtype: Any = None) -> torch.Tensor:
    """The product over ``axis``."""
    x = _checked("prod", x, axis)
    wanted = standard_dtype(dtype) if dtype is not None else x.dtype
    wanted = torch.int32 if wanted in _SMALL_INTS else wanted
    result = x.to(wanted)
    for dim in sorted((d % max(x.ndim, 1) for d in _dims(x, axis)), reverse=True):
        result = torch.prod(result, dim=dim, keepdim=keepdims)
    return result


@op()
def mean(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    """The average over ``axis`` (integers give float32)."""
    x = _checked("mean", x, axis)
    return torch.mean(_float(x), dim=_dims(x, axis), keepdim=keepdims)


@op()
def var(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    """The population variance over ``axis`` (divides by N, as NumPy)."""
    x = _checked("var", x, axis)
    return torch.var(_float(x), dim=_dims(x, axis), keepdim=keepdims, correction=0)


@op()
def std(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    """The population standard deviation over ``axis`` (divides by N, as NumPy)."""
    x = _checked("std", x, axis)
    return torch.std(_float(x), dim=_dims(x, axis), keepdim=keepdims, correction=0)


def _extreme(name: str, x: Any, axis: Any, keepdims: bool, initial: Any) -> torch.Tensor:
    x = _checked(name, x, axis)
    reduce = torch.amax if name == "max" else torch.amin
    if x.numel() == 0 and initial is None:
        raise ValueError(f"ops.{name}: cannot reduce an empty tensor without initial")
    result = reduce(x, dim=_dims(x, axis), keepdim=keepdims) if x.numel() else x
    if initial is not None:
        bound = torch.tensor(initial, dtype=result.dtype, device=result.device)
        result = torch.maximum(result, bound) if name == "max" else torch.minimum(result, bound)
    return result


@op()
def max(x: Any, axis: Any = None, keepdims: bool = False, initial: Any = None) -> torch.Tensor:  # noqa: A001
    """The largest value over ``axis`` (at least ``initial`` when given)."""
    return _extreme("max", x, axis, keepdims, initial)


@op()
def min(x: Any, axis: Any = None, keepdims: bool = False, initial: Any = None) -> torch.Tensor:  # noqa: A001
    """The smallest value over ``axis`` (at most ``initial`` when given)."""
    return _extreme("min", x, axis, keepdims, initial)


@op()
def any(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:  # noqa: A001
    """Whether any value over ``axis`` is non-zero."""
    x = _checked("any", x, axis)
    return torch.any(x.bool(), dim=_dims(x, axis), keepdim=keepdims)


@op()
def all(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:  # noqa: A001
    """Whether every value over ``axis`` is non-zero."""
    x = _checked("all", x, axis)
    return torch.all(x.bool(), dim=_dims(x, axis), keepdim=keepdims)


def _arg_extreme(name: str, x: Any, axis: Any, keepdims: bool) -> torch.Tensor:
    x = _checked(name, x, axis)
    if isinstance(axis, (list, tuple)):
        raise TypeError(f"ops.{name}: axis must be an int or None. Received: axis={axis!r}")
    find = torch.argmax if name == "argmax" else torch.argmin
    if x.dtype == torch.bool:
        x = x.to(torch.int32)
    if axis is None:
        index = find(x.reshape(-1))
        result = index.reshape([1] * x.ndim) if keepdims else index
    else:
        result = find(x, dim=axis, keepdim=keepdims)
    return result.to(torch.int32)


@op()
def argmax(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    """The index of the largest value along ``axis`` (of the flattened ``x`` for None), int32."""
    return _arg_extreme("argmax", x, axis, keepdims)


@op()
def argmin(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    """The index of the smallest value along ``axis`` (of the flattened ``x`` for None), int32."""
    return _arg_extreme("argmin", x, axis, keepdims)


@op()
def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> torch.Tensor:  # noqa: A002
    """A vector norm (one axis, or all of a flattened ``x``) or a matrix norm (two axes), as
    ``numpy.linalg.norm``."""
    x = _float(_checked("norm", x, axis))
    axis = axes(axis)
    if axis is None and ord is not None:
        axis = tuple(range(x.ndim))
        if len(axis) > 2:
            raise ValueError(f"ops.norm: ord={ord!r} needs axis for a tensor of rank {x.ndim}")
    if axis is None:
        return torch.linalg.vector_norm(x, keepdim=keepdims)
    dims = axis if isinstance(axis, tuple) else (axis,)
    if len(dims) == 1:
        return torch.linalg.vector_norm(x, 2 if ord is None else ord, dims, keepdim=keepdims)
    return torch.linalg.matrix_norm(x, "fro" if ord is None else ord, dims, keepdim=keepdims)


@op()
def cumsum(x: Any, axis: Any = None, dtype: Any = None) -> torch.Tensor:
    """Running sums along ``axis`` (of the flattened ``x`` for None)."""
    x = _checked("cumsum", x, axis)
    wanted = standard_dtype(dtype) if dtype is not None else x.dtype
    wanted = torch.int32 if wanted in _SMALL_INTS else wanted
    if axis is None:
        x, axis = x.reshape(-1), 0
    return torch.cumsum(x, dim=axis, dtype=wanted)


@op()
def sort(x: Any, axis: int = -1) -> torch.Tensor:
    """``x`` sorted in ascending order along ``axis``."""
    x = _checked("sort", x, axis)
    return torch.sort(x, dim=axis).values if x.ndim else x


@op()
def argsort(x: Any, axis: int = -1) -> torch.Tensor:
    """The indices (int32) that sort ``x`` along ``axis``."""
    x = _checked("argsort", x, axis)
    if x.ndim == 0:
        return torch.zeros((), dtype=torch.int32, device=x.device)
    return torch.argsort(x, dim=axis, stable=True).to(torch.int32)


@op()
def top_k(x: Any, k: int, sorted: bool = True) -> tuple[torch.Tensor, torch.Tensor]:  # noqa: A002
    """The ``k`` largest values along the last axis and their indices (int64, as Keras'
    torch backend returns them)."""
    x = to_tensor(x)
    if (
        isinstance(k, bool)
        or not isinstance(k, int)
        or not 0 <= k <= (x.shape[-1] if x.ndim else 1)
    ):
        size = x.shape[-1] if x.ndim else 1
        raise ValueError(f"ops.top_k: k must be an int from 0 to {size}. Received: k={k!r}")
    return tuple(torch.topk(x, k, dim=-1, sorted=True))
