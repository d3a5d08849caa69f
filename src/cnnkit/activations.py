"""Activation functions by Keras name, so ``activation='relu'`` and callables both work."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from cnnkit._registry import Registry

__all__ = [
    "relu",
    "leaky_relu",
    "tanh",
    "sigmoid",
    "softmax",
    "linear",
    "elu",
    "selu",
    "gelu",
    "silu",
    "swish",
    "softplus",
    "softsign",
    "exponential",
    "hard_sigmoid",
    "get",
    "serialize",
    "deserialize",
]

ArrayLike = Any  # a tensor, a NumPy array, or (nested) Python lists of numbers


def _as_tensor(x: ArrayLike) -> torch.Tensor:
    """``x`` as a tensor, as Keras converts it: NumPy float arrays keep their dtype, Python
    lists and integer or boolean arrays become float32."""
    if isinstance(x, torch.Tensor):
        return x
    if isinstance(x, np.ndarray) and np.issubdtype(x.dtype, np.floating):
        return torch.from_numpy(np.ascontiguousarray(x))
    try:
        return torch.as_tensor(np.asarray(x, dtype=np.float32))
    except (TypeError, ValueError) as error:
        raise TypeError(
            "activations: x must be a tensor, a NumPy array or a list of numbers. Received: "
            f"{type(x).__name__} ({error})"
        ) from None


LEAKY_RELU_SLOPE = 0.01  # the lecture's T(x) = 0.01 x for x < 0 (Keras' default is 0.2)


def relu(x: ArrayLike) -> torch.Tensor:
    """max(0, x): the lecture's thresholding of feature maps."""
    x = _as_tensor(x)
    return F.relu(x)


def leaky_relu(x: ArrayLike, negative_slope: float = LEAKY_RELU_SLOPE) -> torch.Tensor:
    """x for x >= 0, ``negative_slope * x`` otherwise (slope 0.01, as the lecture defines it)."""
    x = _as_tensor(x)
    return F.leaky_relu(x, negative_slope)


class _SigmoidTanh(torch.autograd.Function):
    """tanh(x) = 2 sigmoid(2x) - 1: on CPU (torch 2.13, x86), PyTorch's float32 sigmoid kernel
    is about six times faster than its tanh kernel, and LeNet-5 spent a tenth of a training
    step in tanh."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        y = _sigmoid_tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        (y,) = ctx.saved_tensors
        return torch.ops.aten.tanh_backward(grad, y)  # grad * (1 - y**2), as torch.tanh's


# Below this many values torch.tanh's one kernel call costs less than the route's four.
_SIGMOID_TANH_FROM = 8192


def _sigmoid_tanh(x: torch.Tensor) -> torch.Tensor:
    return torch.mul(x, 2).sigmoid_().mul_(2).sub_(1)


def tanh(x: ArrayLike) -> torch.Tensor:
    """Hyperbolic tangent, range (-1, 1).

    For float32 tensors of 8192 values or more on CPU it is computed as 2 sigmoid(2x) - 1,
    within 2e-7 of the exact value (absolute error; near 0 that is not a small relative error)
    and about three times faster than ``torch.tanh``, forward and backward; the gradient is
    tanh's own, 1 - tanh(x)**2. Elsewhere it is ``torch.tanh``. Pass ``activation=torch.tanh``
    for the exact kernel. Traced graphs (``torch.export``, ``torch.compile``) use ``torch.tanh``.
    """
    x = _as_tensor(x)
    if torch.compiler.is_compiling():  # a traced graph (export, compile) must not depend on size
        return torch.tanh(x)
    if x.numel() < _SIGMOID_TANH_FROM or x.dtype is not torch.float32 or not x.is_cpu:
        return torch.tanh(x)
    if x.requires_grad and torch.is_grad_enabled():
        return _SigmoidTanh.apply(x)
    return _sigmoid_tanh(x)


def sigmoid(x: ArrayLike) -> torch.Tensor:
    """1 / (1 + exp(-x)), range (0, 1)."""
    x = _as_tensor(x)
    return torch.sigmoid(x)


def softmax(x: ArrayLike, axis: int = -1) -> torch.Tensor:
    """Class probabilities along ``axis`` (the last one, as in Keras)."""
    x = _as_tensor(x)
    return torch.softmax(x, dim=axis)


def linear(x: torch.Tensor) -> torch.Tensor:
    """The identity: what ``activation=None`` means."""
    return x


def elu(x: ArrayLike, alpha: float = 1.0) -> torch.Tensor:
    """Exponential linear unit."""
    x = _as_tensor(x)
    return F.elu(x, alpha)


def selu(x: ArrayLike) -> torch.Tensor:
    """Scaled exponential linear unit."""
    x = _as_tensor(x)
    return F.selu(x)


def gelu(x: ArrayLike, approximate: bool = False) -> torch.Tensor:
    """Gaussian error linear unit (exact erf form by default, as Keras)."""
    x = _as_tensor(x)
    return F.gelu(x, approximate="tanh" if approximate else "none")


def silu(x: ArrayLike) -> torch.Tensor:
    """x * sigmoid(x)."""
    x = _as_tensor(x)
    return F.silu(x)


swish = silu


def softplus(x: ArrayLike) -> torch.Tensor:
    """log(1 + exp(x))."""
    x = _as_tensor(x)
    return F.softplus(x)


def softsign(x: ArrayLike) -> torch.Tensor:
    """x / (1 + |x|)."""
    x = _as_tensor(x)
    return F.softsign(x)


def exponential(x: ArrayLike) -> torch.Tensor:
    """exp(x)."""
    x = _as_tensor(x)
    return torch.exp(x)


def hard_sigmoid(x: ArrayLike) -> torch.Tensor:
    """Piecewise-linear sigmoid, relu6(x + 3) / 6 as Keras 3."""
    x = _as_tensor(x)
    return F.relu6(x + 3.0) / 6.0


REGISTRY = Registry(
    "activations",
    "activation",
    {
        "relu": relu,
        "leaky_relu": leaky_relu,
        "tanh": tanh,
        "sigmoid": sigmoid,
        "softmax": softmax,
        "linear": linear,
        "elu": elu,
        "selu": selu,
        "gelu": gelu,
        "silu": silu,
        "softplus": softplus,
        "softsign": softsign,
        "exponential": exponential,
        "hard_sigmoid": hard_sigmoid,
    },
    aliases={"swish": "silu"},
    expected="a name, a callable or None",
    instantiate=False,
    callables=True,
    none=linear,
)


def get(
    identifier: str | Callable | None, owner: str | None = None
) -> Callable[[torch.Tensor], torch.Tensor]:
    """Resolve ``None``, a Keras activation name or a callable into a function of a tensor.

    Example:
        >>> get("relu") is relu
        True
    """
    return REGISTRY.get(identifier, owner)


_KERNELS = {relu: torch.relu, sigmoid: torch.sigmoid, exponential: torch.exp}


def kernel_of(function: Callable) -> Callable | None:
    """The cheapest callable equal to ``function`` (a torch builtin, or None for linear).

    Layers call this once, not per batch, to skip a Python frame in the hot path.
    """
    if function is linear:
        return None
    return _KERNELS.get(function, function)


def serialize(function: Callable) -> str:
    """Return the Keras name of a built-in activation (for saving a model as JSON)."""
    return REGISTRY.serialize(function)


def deserialize(name: str) -> Callable[[torch.Tensor], torch.Tensor]:
    """The built-in activation :func:`serialize` named."""
    return REGISTRY.deserialize(name)
