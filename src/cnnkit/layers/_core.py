"""Dense, Flatten and the input layer: the classifier end of a CNN and the start of a model."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from cnnkit import constraints, initializers, regularizers
from cnnkit._validation import check_positive_int
from cnnkit.layers import _symbolic
from cnnkit.layers._arguments import _check_input_shape
from cnnkit.layers._base import Layer
from cnnkit.layers._spatial import check_data_format


class Dense(Layer):
    """Fully connected layer: ``output = activation(dot(input, kernel) + bias)``.

    Every output neuron ("unit") is connected to every input neuron, so the layer has
    ``in * units + units`` parameters. Input (batch, ..., in); output (batch, ..., units).
    ``weight`` is stored (units, in) as in ``torch.nn.Linear``; ``get_weights()`` returns
    Keras' (in, units) kernel and the bias.

    Example:
        >>> Dense(10, activation="softmax").build_for((None, 84))
        (None, 10)
    """

    def __init__(
        self,
        units: int,
        activation: Any = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.units = check_positive_int(units, "units", owner)
        self.activation = activation
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer, owner, "kernel_initializer")
        self.bias_initializer = initializers.get(bias_initializer, owner, "bias_initializer")
        self.kernel_regularizer = regularizers.get(kernel_regularizer, owner, "kernel_regularizer")
        self.bias_regularizer = regularizers.get(bias_regularizer, owner, "bias_regularizer")
        self.activity_regularizer = regularizers.get(
            activity_regularizer, owner, "activity_regularizer"
        )
        self.kernel_constraint = constraints.get(kernel_constraint, owner, "kernel_constraint")
        self.bias_constraint = constraints.get(bias_constraint, owner, "bias_constraint")
        self.register_parameter("bias", None)

    def check_input_shape(self, input_shape):
        if len(input_shape) < 2 or input_shape[-1] is None:
            raise ValueError(
                f"{self._owner()} expects inputs of rank >= 2 with a known last axis; received shape "
                f"{input_shape}"
                + (" - add a Flatten() layer before it" if len(input_shape) > 2 else "")
            )
        if self.built and input_shape[-1] != self.weight.shape[1]:
            raise ValueError(
                f"{self._owner()} was built for {self.weight.shape[1]} input features; received shape "
                f"{input_shape}"
            )

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def build(self, input_shape):
        self.weight = self._create_weight(
            "weight", (input_shape[-1], self.units), self.kernel_initializer, (1, 0)
        )
        if self.use_bias:
            self.bias = self._create_weight("bias", (self.units,), self.bias_initializer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight = self.weight
        if x.ndim < 2 or x.shape[-1] != weight.shape[1]:
            raise ValueError(
                f"{self._owner()} expects inputs of shape (batch, {self.weight.shape[1]}); received shape "
                f"{tuple(x.shape)}"
            )
        return self._activate(F.linear(x, weight, self.bias))

    def keras_weights(self):
        if not self.built:
            return []
        return [self.weight.T] + ([self.bias] if self.bias is not None else [])

    def _keras_view(self, attribute):
        return self.weight.T if attribute == "weight" else getattr(self, attribute)

    def _weight_regularizers(self):
        return [("weight", self.kernel_regularizer), ("bias", self.bias_regularizer)]

    def _weight_constraints(self):
        return [("weight", self.kernel_constraint), ("bias", self.bias_constraint)]

    def extra_repr(self):
        return f"name={self.name!r}, units={self.units}"


class Flatten(Layer):
    """Unroll activation maps into a vector, in channels-last order so weights match Keras.

    With ``data_format='channels_first'`` the input is first moved to channels-last, as Keras
    does, so a Dense layer after it sees the same feature order either way.

    Example:
        >>> Flatten().build_for((None, 5, 5, 16))
        (None, 400)
    """

    def __init__(self, data_format: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.data_format = check_data_format(data_format or "channels_last", type(self).__name__)

    def check_input_shape(self, input_shape):
        if len(input_shape) < 2:
            raise ValueError(
                f"{self._owner()} expects inputs of rank >= 2; received shape {input_shape}"
            )

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        return (input_shape[0], None if any(s is None for s in rest) else math.prod(rest))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.data_format == "channels_first" and x.ndim > 2:
            x = x.movedim(1, -1)
        return x.flatten(1)


class InputLayer(Layer):
    """Declares the input shape (without the batch axis) at the start of a Sequential model."""

    def __init__(
        self,
        shape: Sequence[int | None] | None = None,
        batch_size: int | None = None,
        name: str | None = None,
        input_shape: Sequence[int | None] | None = None,
        **kwargs: Any,
    ):
        argument = "shape" if shape is not None else "input_shape"
        shape = shape if shape is not None else input_shape
        if shape is None:
            raise ValueError("InputLayer: shape is required, e.g. InputLayer(shape=(28, 28, 1))")
        super().__init__(name=name, batch_size=batch_size, **kwargs)
        self.shape = _check_input_shape(shape, "InputLayer", argument)
        self.input_shape_hint = self.shape
        self.built = True
        self.input_shape = self.output_shape = (batch_size, *self.shape)
        _symbolic.input_tensor(self, self.shape, batch_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x

    def get_config(self):
        config = {"name": self.name, "shape": list(self.shape), "batch_size": self.batch_size}
        if self.dtype != torch.float32:
            config["dtype"] = str(self.dtype).removeprefix("torch.")
        return config


def Input(  # noqa: N802 - Keras' name
    shape: Sequence[int | None],
    batch_size: int | None = None,
    dtype: Any = None,
    name: str | None = None,
) -> _symbolic.KerasTensor:
    """Keras' ``Input(shape=...)``: a symbolic tensor to call layers on (functional API), or
    the first entry of a Sequential model.

    Example:
        >>> Input(shape=(28, 28, 1)).shape
        (None, 28, 28, 1)
    """
    return InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, name=name).output
