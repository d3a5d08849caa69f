"""Activation layers: apply a scalar function to every value; the volume keeps its size."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

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
        for name, value in (
            ("max_value", max_value),
            ("negative_slope", negative_slope),
            ("threshold", threshold),
        ):
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0
            ):
                raise ValueError(f"ReLU: {name} must be a float >= 0. Received: {name}={value!r}")
        self.max_value = None if max_value is None else float(max_value)
        self.negative_slope, self.threshold = float(negative_slope), float(threshold)

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
        if (
            isinstance(negative_slope, bool)
            or not isinstance(negative_slope, (int, float))
            or negative_slope < 0
        ):
            raise ValueError(
                f"LeakyReLU: negative_slope must be a float >= 0. Received: negative_slope={negative_slope!r}"
            )
        self.negative_slope = float(negative_slope)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.leaky_relu(x, self.negative_slope)


class Softmax(Layer):
    """Turn scores into class probabilities along ``axis`` (the last one by default)."""

    def __init__(self, axis: int = -1, **kwargs: Any):
        super().__init__(**kwargs)
        self.axis = int(axis)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(x, dim=self.axis)
