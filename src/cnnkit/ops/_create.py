"""Ops that make tensors from shapes and ranges (Keras' ``ops.ones``, ``arange``, ...)."""

from __future__ import annotations

from typing import Any

import torch

from cnnkit.ops._dispatch import default_device, op, standard_dtype, to_tensor


def _shape(shape: Any, name: str) -> tuple[int, ...]:
    shape = (shape,) if isinstance(shape, int) else shape
    if not isinstance(shape, (list, tuple, torch.Size)) or not all(
        isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape
    ):
        raise ValueError(
            f"ops.{name}: shape must be an int or a tuple of non-negative ints. "
            f"Received: shape={shape!r}"
        )
    return tuple(shape)


def _dtype(dtype: Any, default: torch.dtype = torch.float32) -> torch.dtype:
    return default if dtype is None else standard_dtype(dtype)


def ones(shape: Any, dtype: Any = None) -> torch.Tensor:
    """A tensor of ones of ``shape`` (float32 by default)."""
    return torch.ones(_shape(shape, "ones"), dtype=_dtype(dtype), device=default_device())


def zeros(shape: Any, dtype: Any = None) -> torch.Tensor:
    """A tensor of zeros of ``shape`` (float32 by default)."""
    return torch.zeros(_shape(shape, "zeros"), dtype=_dtype(dtype), device=default_device())


def full(shape: Any, fill_value: Any, dtype: Any = None) -> torch.Tensor:
    """A tensor of ``shape`` filled with ``fill_value`` (float32 unless ``dtype`` is given)."""
    value = to_tensor(fill_value)
    return torch.full(_shape(shape, "full"), value.item(), dtype=_dtype(dtype), device=value.device)


@op()
def ones_like(x: Any, dtype: Any = None) -> torch.Tensor:
    """Ones of ``x``'s shape and dtype (or ``dtype``)."""
    x = to_tensor(x)
    return torch.ones_like(x, dtype=_dtype(dtype, x.dtype))


@op()
def zeros_like(x: Any, dtype: Any = None) -> torch.Tensor:
    """Zeros of ``x``'s shape and dtype (or ``dtype``)."""
    x = to_tensor(x)
    return torch.zeros_like(x, dtype=_dtype(dtype, x.dtype))


@op()
def full_like(x: Any, fill_value: Any, dtype: Any = None) -> torch.Tensor:
    """``fill_value`` in ``x``'s shape and dtype (or ``dtype``)."""
    x = to_tensor(x)
    return torch.full_like(x, fill_value, dtype=_dtype(dtype, x.dtype))


def arange(start: Any, stop: Any = None, step: Any = None, dtype: Any = None) -> torch.Tensor:
    """Evenly spaced values in [start, stop) (int32 for ints, float32 for floats)."""
    start, stop = (0, start) if stop is None else (start, stop)
    step = 1 if step is None else step
    floats = any(isinstance(v, float) for v in (start, stop, step))
    wanted = _dtype(dtype, torch.float32 if floats else torch.int32)
    return torch.arange(start, stop, step, dtype=wanted, device=default_device())


def linspace(
    start: Any,
    stop: Any,
    num: int = 50,
    endpoint: bool = True,
    retstep: bool = False,
    dtype: Any = None,
    axis: int = 0,
) -> Any:
    """``num`` evenly spaced values from ``start`` to ``stop`` (included unless ``endpoint``
    is False); with ``retstep`` also the spacing."""
    if isinstance(num, bool) or not isinstance(num, int) or num < 0:
        raise ValueError(f"ops.linspace: num must be a non-negative int. Received: num={num!r}")
    count = num if endpoint else num + 1
    values = torch.linspace(float(start), float(stop), count, device=default_device())
    values = values if endpoint else values[:-1]
    step = (stop - start) / max(num - 1 if endpoint else num, 1)
    values = values.to(_dtype(dtype))
    return (values, step) if retstep else values


def eye(N: int, M: int | None = None, k: int = 0, dtype: Any = None) -> torch.Tensor:  # noqa: N803
    """An N x M matrix with ones on diagonal ``k`` (float32 by default)."""
    M = N if M is None else M  # noqa: N806
    rows = torch.arange(N, device=default_device())[:, None]
    columns = torch.arange(M, device=default_device())[None, :]
    return (columns - rows == k).to(_dtype(dtype))


@op()
def one_hot(
    x: Any, num_classes: int, axis: int = -1, dtype: Any = None, sparse: bool = False
) -> torch.Tensor:
    """Integer labels ``x`` as one-hot vectors of length ``num_classes`` along ``axis``; labels
    outside [0, num_classes) give all zeros, as in Keras."""
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(
            f"ops.one_hot: num_classes must be a positive int. Received: num_classes={num_classes!r}"
        )
    if sparse:
        raise ValueError("ops.one_hot: sparse=True is not supported; cnnkit tensors are dense")
    labels = to_tensor(x).long()
    classes = torch.arange(num_classes, device=labels.device)
    encoded = (labels.unsqueeze(-1) == classes).to(_dtype(dtype))
    return encoded if axis == -1 else torch.movedim(encoded, -1, axis)
