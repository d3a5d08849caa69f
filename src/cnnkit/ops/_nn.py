"""Activations, convolution and pooling as functions (Keras' ``ops.relu``, ``ops.conv``,
``ops.max_pool``...). Images are channels-last (N, ..., C) unless ``data_format`` says
otherwise; kernels are Keras' (..., in, out)."""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

from cnnkit._onednn import pointwise_at_unit_stride
from cnnkit.arithmetic import same_padding
from cnnkit.ops._dispatch import op, to_tensor


def _float(x: Any) -> torch.Tensor:
    x = to_tensor(x)
    return x if x.is_floating_point() else x.to(torch.float32)


@op()
def relu(x: Any) -> torch.Tensor:
    """``max(x, 0)``."""
    return F.relu(_float(x))


@op()
def relu6(x: Any) -> torch.Tensor:
    """``min(max(x, 0), 6)``."""
    return F.relu6(_float(x))


@op()
def sigmoid(x: Any) -> torch.Tensor:
    """``1 / (1 + exp(-x))``."""
    return torch.sigmoid(_float(x))


@op()
def tanh(x: Any) -> torch.Tensor:
    """The hyperbolic tangent."""
    return torch.tanh(_float(x))


@op()
def softplus(x: Any) -> torch.Tensor:
    """``log(1 + exp(x))``."""
    return F.softplus(_float(x))


@op()
def silu(x: Any) -> torch.Tensor:
    """``x * sigmoid(x)`` (swish)."""
    return F.silu(_float(x))


@op()
def gelu(x: Any, approximate: bool = True) -> torch.Tensor:
    """The Gaussian error linear unit (tanh approximation by default, as in Keras' ops)."""
    return F.gelu(_float(x), approximate="tanh" if approximate else "none")


@op()
def elu(x: Any, alpha: float = 1.0) -> torch.Tensor:
    """``x`` for x > 0, ``alpha * (exp(x) - 1)`` below."""
    return F.elu(_float(x), alpha=alpha)


@op()
def leaky_relu(x: Any, negative_slope: float = 0.2) -> torch.Tensor:
    """``x`` for x > 0, ``negative_slope * x`` below."""
    return F.leaky_relu(_float(x), negative_slope=negative_slope)


@op()
def softmax(x: Any, axis: Any = -1) -> torch.Tensor:
    """Exponentials of ``x`` normalised to sum to 1 along ``axis``."""
    x = _float(x)
    if isinstance(axis, (list, tuple)):
        return torch.exp(log_softmax(x, axis))
    return F.softmax(x, dim=axis)


@op()
def log_softmax(x: Any, axis: Any = -1) -> torch.Tensor:
    """The logarithm of :func:`softmax`, computed stably."""
    x = _float(x)
    if isinstance(axis, (list, tuple)):
        return x - torch.logsumexp(x, dim=tuple(axis), keepdim=True)
    return F.log_softmax(x, dim=axis)


def _tuple(value: Any, rank: int, name: str, what: str) -> tuple[int, ...]:
    values = (value,) * rank if isinstance(value, int) else tuple(value)
    if len(values) != rank or not all(isinstance(v, int) and v >= 1 for v in values):
        raise ValueError(
            f"ops.{name}: {what} must be a positive int or a tuple of {rank}. "
            f"Received: {what}={value!r}"
        )
    return values


def _channels_first(name: str, x: Any, data_format: Any, padding: str) -> tuple[torch.Tensor, bool]:
    """``x`` as (N, C, ...) for torch, and whether it came channels-last."""
    x = _float(x)
    if data_format not in (None, "channels_last", "channels_first"):
        raise ValueError(
            f"ops.{name}: data_format must be 'channels_last' or 'channels_first'. "
            f"Received: data_format={data_format!r}"
        )
    if str(padding).lower() not in ("valid", "same"):
        raise ValueError(
            f"ops.{name}: padding must be 'valid' or 'same'. Received: padding={padding!r}"
        )
    if x.ndim not in (3, 4, 5):
        raise ValueError(
            f"ops.{name}: inputs must have rank 3, 4 or 5 (batch, spatial axes, channels). "
            f"Received shape {tuple(x.shape)}"
        )
    last = data_format in (None, "channels_last")
    return (torch.movedim(x, -1, 1) if last else x), last


def _same_pads(sizes: tuple, kernel: tuple, strides: tuple, dilation: tuple) -> list[int]:
    """F.pad's flat (last axis first) padding for Keras' 'same'."""
    pairs = [same_padding(int(n), k, s, d) for n, k, s, d in zip(sizes, kernel, strides, dilation)]
    return [size for pair in reversed(pairs) for size in pair]


@op()
def conv(
    inputs: Any,
    kernel: Any,
    strides: Any = 1,
    padding: str = "valid",
    data_format: Any = None,
    dilation_rate: Any = 1,
) -> torch.Tensor:
    """An N-D convolution (1-3 spatial axes) of ``inputs`` with ``kernel`` of shape
    (*kernel_size, in_channels / groups, out_channels)."""
    x, last = _channels_first("conv", inputs, data_format, padding)
    rank = x.ndim - 2
    weight = to_tensor(kernel, device=x.device).to(x.dtype)
    if weight.ndim != rank + 2 or x.shape[1] % weight.shape[-2]:
        raise ValueError(
            f"ops.conv: kernel must have shape (*kernel_size, in_channels, out_channels) for "
            f"inputs of shape {tuple(inputs.shape)}. Received: kernel of shape {tuple(weight.shape)}"
        )
    strides = _tuple(strides, rank, "conv", "strides")
    dilation = _tuple(dilation_rate, rank, "conv", "dilation_rate")
    if padding.lower() == "same":
        x = F.pad(x, _same_pads(x.shape[2:], weight.shape[:rank], strides, dilation))
    weight = torch.movedim(torch.movedim(weight, -1, 0), -1, 1)  # (out, in, *kernel_size)
    x, strides = pointwise_at_unit_stride(x, tuple(weight.shape[2:]), strides)
    function = (F.conv1d, F.conv2d, F.conv3d)[rank - 1]
    y = function(x, weight, None, strides, 0, dilation, x.shape[1] // weight.shape[1])
    return torch.movedim(y, 1, -1) if last else y


def _pool(
    name: str, inputs: Any, pool_size: Any, strides: Any, padding: str, data_format: Any
) -> torch.Tensor:
    x, last = _channels_first(name, inputs, data_format, padding)
    rank = x.ndim - 2
    kernel = _tuple(pool_size, rank, name, "pool_size")
    strides = kernel if strides is None else _tuple(strides, rank, name, "strides")
    pads = [0] * (2 * rank)
    if padding.lower() == "same":
        pads = _same_pads(x.shape[2:], kernel, strides, (1,) * rank)
    if name == "max_pool":
        padded = F.pad(x, pads, value=-math.inf)
        y = (F.max_pool1d, F.max_pool2d, F.max_pool3d)[rank - 1](padded, kernel, strides)
    else:
        average = (F.avg_pool1d, F.avg_pool2d, F.avg_pool3d)[rank - 1]
        total = average(F.pad(x, pads), kernel, strides)
        counted = average(F.pad(torch.ones_like(x[:1, :1]), pads), kernel, strides)
        y = total / counted  # Keras averages over the real pixels only, not the padding
    return torch.movedim(y, 1, -1) if last else y


@op()
def max_pool(
    inputs: Any,
    pool_size: Any,
    strides: Any = None,
    padding: str = "valid",
    data_format: Any = None,
) -> torch.Tensor:
    """The largest value of each ``pool_size`` window (strides default to ``pool_size``)."""
    return _pool("max_pool", inputs, pool_size, strides, padding, data_format)


@op()
def average_pool(
    inputs: Any,
    pool_size: Any,
    strides: Any = None,
    padding: str = "valid",
    data_format: Any = None,
) -> torch.Tensor:
    """The mean of each ``pool_size`` window (strides default to ``pool_size``); with 'same'
    padding, border windows average their real values only, as in Keras."""
    return _pool("average_pool", inputs, pool_size, strides, padding, data_format)
