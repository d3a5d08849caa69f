"""Conv1D: a convolution along one axis (sequences, signals, text embeddings), Keras' arguments
with 'valid', 'same' and 'causal' padding."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from cnnkit import constraints, initializers, regularizers
from cnnkit._validation import check_choice, check_positive_int, normalize_tuple
from cnnkit.arithmetic import conv_output_size, same_padding
from cnnkit.layers._base import Layer
from cnnkit.layers._spatial import check_data_format

_KERAS_FROM_TORCH = (2, 1, 0)  # stored (out, in, k) <-> Keras (k, in, out): its own inverse
PADDINGS_1D = ("valid", "same", "causal")


def sequence_layout(data_format: str) -> str:
    """How a 1-D layer's input is laid out, for messages."""
    if data_format == "channels_last":
        return "(batch, steps, channels)"
    return "(batch, channels, steps)"


def steps_and_channels(shape: tuple, data_format: str) -> tuple[Any, Any]:
    """(steps, channels) of a rank-3 shape in ``data_format``."""
    return (shape[1], shape[2]) if data_format == "channels_last" else (shape[2], shape[1])


def padding_1d(steps: int, kernel: int, stride: int, dilation: int, padding: str) -> tuple:
    """(before, after) zeros for 'same' (Keras/TensorFlow's split) or 'causal' (all before)."""
    if padding == "causal":
        return ((kernel - 1) * dilation, 0)
    if padding == "same":
        return same_padding(steps, kernel, stride, dilation)
    return (0, 0)


class Conv1D(Layer):
    """1-D convolution: ``filters`` kernels of ``kernel_size`` steps slide along the sequence.

    ``padding='causal'`` pads only the start, so output step t sees inputs up to t (WaveNet).
    The layer has ``filters * kernel_size * in_channels / groups + filters`` parameters.

    Input shape: (batch, steps, channels) ("channels_last", default) or (batch, channels,
    steps). Output shape: (batch, new_steps, filters). ``weight`` is stored (filters,
    in / groups, kernel_size) as in ``torch.nn.Conv1d``; ``get_weights()`` returns Keras'
    (kernel_size, in / groups, filters) kernel and the bias.

    Example:
        >>> Conv1D(filters=8, kernel_size=3, padding="causal").build_for((None, 100, 4))
        (None, 100, 8)
    """

    def __init__(
        self,
        filters: int,
        kernel_size: int | tuple[int],
        strides: int | tuple[int] = 1,
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: int | tuple[int] = 1,
        groups: int = 1,
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
        self.filters = check_positive_int(filters, "filters", owner)
        self.kernel_size = normalize_tuple(kernel_size, "kernel_size", owner, n=1)
        self.strides = normalize_tuple(strides, "strides", owner, n=1)
        self.padding = check_choice(padding, "padding", owner, choices=PADDINGS_1D)
        self.data_format = check_data_format(data_format or "channels_last", owner)
        self.dilation_rate = normalize_tuple(dilation_rate, "dilation_rate", owner, n=1)
        self.groups = check_positive_int(groups, "groups", owner)
        self._check_combinations(owner)
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
        self._in_channels: int | None = None

    def _check_combinations(self, owner: str) -> None:
        if self.filters % self.groups:
            raise ValueError(
                f"{owner}: filters must be a multiple of groups. Received: "
                f"filters={self.filters}, groups={self.groups}"
            )
        if self.strides[0] > 1 and self.dilation_rate[0] > 1:
            raise ValueError(
                f"{owner}: strides > 1 cannot be combined with dilation_rate > 1. "
                f"Received: strides={self.strides} and dilation_rate={self.dilation_rate}"
            )

    def check_input_shape(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(
                f"{self._owner()} expects inputs of rank 3 {sequence_layout(self.data_format)}; "
                f"received shape {input_shape} (rank {len(input_shape)})"
                + (" - add a channel axis, e.g. x[..., None]" if len(input_shape) == 2 else "")
            )
        steps, channels = steps_and_channels(input_shape, self.data_format)
        if channels is None or channels % self.groups:
            raise ValueError(
                f"{self._owner()}: the input channels must be known and a multiple of groups "
                f"({self.groups}); received shape {input_shape}"
            )
        if self.built and channels != self._in_channels:
            raise ValueError(
                f"{self._owner()} was built for {self._in_channels} input channels; received "
                f"shape {input_shape} with {channels}"
            )
        span = (self.kernel_size[0] - 1) * self.dilation_rate[0] + 1
        if self.padding == "valid" and steps is not None and steps < span:
            raise ValueError(
                f"{self._owner()}: kernel_size {self.kernel_size} (dilation "
                f"{self.dilation_rate}) is longer than the input's {steps} steps with "
                f"padding='valid'; input shape {input_shape}. Use padding='same' or 'causal', "
                "a smaller kernel or a longer input."
            )

    def compute_output_shape(self, input_shape):
        steps, _ = steps_and_channels(input_shape, self.data_format)
        if steps is not None:
            padding = "valid" if self.padding == "valid" else "same"  # causal keeps ceil(n/s)
            steps = conv_output_size(
                steps, self.kernel_size[0], self.strides[0], padding, self.dilation_rate[0]
            )
        if self.data_format == "channels_last":
            return (input_shape[0], steps, self.filters)
        return (input_shape[0], self.filters, steps)

    def build(self, input_shape):
        _, channels = steps_and_channels(input_shape, self.data_format)
        kernel_shape = (self.kernel_size[0], channels // self.groups, self.filters)
        self.weight = self._create_weight(
            "weight", kernel_shape, self.kernel_initializer, _KERAS_FROM_TORCH
        )
        self._in_channels = channels
        if self.use_bias:
            self.bias = self._create_weight("bias", (self.filters,), self.bias_initializer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        channels_last = self.data_format == "channels_last"
        if x.ndim != 3 or x.shape[2 if channels_last else 1] != self._in_channels:
            self.check_input_shape((None, *x.shape[1:]))
        if channels_last:
            x = x.transpose(1, 2)
        pads = padding_1d(
            x.shape[2], self.kernel_size[0], self.strides[0], self.dilation_rate[0], self.padding
        )
        if pads != (0, 0):
            x = F.pad(x, pads)
        y = F.conv1d(x, self.weight, self.bias, self.strides, 0, self.dilation_rate, self.groups)
        return self._activate(y.transpose(1, 2) if channels_last else y)

    def keras_weights(self):
        if not self.built:
            return []
        kernel = [self.weight.permute(*_KERAS_FROM_TORCH)]
        return kernel + ([self.bias] if self.bias is not None else [])

    def _keras_view(self, attribute):
        if attribute == "weight":
            return self.weight.permute(*_KERAS_FROM_TORCH)
        return getattr(self, attribute)

    def _weight_regularizers(self):
        return [("weight", self.kernel_regularizer), ("bias", self.bias_regularizer)]

    def _weight_constraints(self):
        return [("weight", self.kernel_constraint), ("bias", self.bias_constraint)]

    def extra_repr(self):
        return (
            f"name={self.name!r}, filters={self.filters}, kernel_size={self.kernel_size}, "
            f"strides={self.strides}, padding={self.padding!r}"
        )
