"""Activation layers: apply a scalar function to every value; the volume keeps its size."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from cnnkit._validation import check_int, check_number
from cnnkit.activations import LEAKY_RELU_SLOPE
from cnnkit.layers._base import Layer


class Activation(Layer):
    """Apply an activation given by name ('relu', 'tanh', ...) or callable.

    Example:
        >>> Activation("relu")(torch.tensor([-1.0, 2.0]))
        tensor([0., 2.])
    """

    def __init__(self, activation: Any, **kwargs: Any):
        super().__init__(**kwargs)
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._activate(x)


class ReLU(Layer):
    """Rectified linear unit with Keras' options: ``max_value``, ``negative_slope``, ``threshold``.

    f(x) = max_value if x >= max_value; x if threshold < x < max_value;
    negative_slope * (x - threshold) otherwise.
    """

    def __init__(
        self,
        max_value: float | None = None,
        negative_slope: float = 0.0,
        threshold: float = 0.0,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.max_value = (
            None if max_value is None else check_number(max_value, "max_value", "ReLU", minimum=0)
        )
        self.negative_slope = check_number(negative_slope, "negative_slope", "ReLU", minimum=0)
        self.threshold = check_number(threshold, "threshold", "ReLU", minimum=0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.negative_slope == 0.0 and self.threshold == 0.0:
            y = F.relu(x)
        else:
            y = torch.where(x > self.threshold, x, self.negative_slope * (x - self.threshold))
        return y if self.max_value is None else y.clamp_max(self.max_value)


class LeakyReLU(Layer):
    """Leaky ReLU: x for x >= 0, ``negative_slope * x`` otherwise.

    The default slope is the lecture's 0.01 (Keras' layer defaults to 0.3: pass
    ``negative_slope=0.3`` to reproduce a Keras model that relied on it).
    """

    def __init__(self, negative_slope: float = LEAKY_RELU_SLOPE, **kwargs: Any):
        super().__init__(**kwargs)
        self.negative_slope = check_number(negative_slope, "negative_slope", "LeakyReLU", minimum=0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.leaky_relu(x, self.negative_slope)


class Softmax(Layer):
    """Turn scores into class probabilities along ``axis`` (the last one by default)."""

    def __init__(self, axis: int = -1, **kwargs: Any):
        super().__init__(**kwargs)
        self.axis = check_int(axis, "axis", "Softmax")

    def check_input_shape(self, input_shape):
        self._check_axis(len(input_shape), input_shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not -x.ndim <= self.axis < x.ndim:
            self._check_axis(x.ndim, tuple(x.shape))
        return torch.softmax(x, dim=self.axis)

    def _check_axis(self, rank: int, shape: tuple) -> None:
        if not -rank <= self.axis < rank:
            raise ValueError(
                f"{self._owner()}: axis {self.axis} is out of range for inputs of shape {shape} "
                f"(rank {rank}); use an axis from {-rank} to {rank - 1} (-1, the default, is the last)"
            )
