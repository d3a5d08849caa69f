"""DepthwiseConv2D and SeparableConv2D: convolutions that filter each channel on its own
(ConvMixer, MobileNet, Xception), far fewer parameters than a Conv2D of the same window."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from cnnkit import constraints, initializers, regularizers
from cnnkit._validation import check_positive_int
from cnnkit.layers._conv_base import _ConvBase, keep_single_outputs
from cnnkit.layers._spatial import channels_of, make_shape, output_hw, spatial_dims

# Keras' depthwise kernel (kh, kw, in, multiplier) is stored (in, multiplier, kh, kw): viewed as
# (in * multiplier, 1, kh, kw) it is the weight of torch's grouped convolution, channel
# c * multiplier + m in both libraries. The permutation is its own inverse.
_DEPTHWISE_LAYOUT = (2, 3, 0, 1)
_POINTWISE_FROM_KERAS = (3, 2, 0, 1)  # Keras (1, 1, in, filters) -> stored (filters, in, 1, 1)
_POINTWISE_TO_KERAS = (2, 3, 1, 0)


class _Depthwise(_ConvBase):
    """The per-channel convolution both layers start with."""

    def _set_depthwise(self, depth_multiplier, initializer, regularizer, constraint) -> None:
        owner = type(self).__name__
        self.depth_multiplier = check_positive_int(depth_multiplier, "depth_multiplier", owner)
        self.depthwise_initializer = initializers.get(initializer, owner, "depthwise_initializer")
        self.depthwise_regularizer = regularizers.get(regularizer, owner, "depthwise_regularizer")
        self.depthwise_constraint = constraints.get(constraint, owner, "depthwise_constraint")

    def _spatial_output(self, input_shape) -> tuple[int | None, int | None]:
        height, width = spatial_dims(input_shape, self.data_format)
        return output_hw(
            height, width, self.kernel_size, self.strides, self.padding, self.dilation_rate
        )

    def _build_depthwise(self, input_shape, name: str) -> torch.Tensor:
        self._in_channels = channels_of(input_shape, self.data_format)
        shape = (*self.kernel_size, self._in_channels, self.depth_multiplier)
        return self._create_weight(name, shape, self.depthwise_initializer, _DEPTHWISE_LAYOUT)

    def _depthwise(self, x: torch.Tensor, kernel: torch.Tensor, bias: Any) -> torch.Tensor:
        """Each of the (N, C, H, W) input's channels convolved with its own kernels."""
        x, arguments, single = self._window_arguments(x)
        weight = kernel.reshape(-1, 1, *self.kernel_size)
        y = F.conv2d(x, weight, bias, groups=self._in_channels, **arguments)
        return keep_single_outputs(y, single)

    def _depthwise_extra_repr(self) -> str:
        return (
            f"name={self.name!r}, kernel_size={self.kernel_size}, strides={self.strides}, "
            f"padding={self.padding!r}, depth_multiplier={self.depth_multiplier}, "
            f"data_format={self.data_format!r}"
        )


class DepthwiseConv2D(_Depthwise):
    """Depthwise 2-D convolution: each input channel is convolved with ``depth_multiplier``
    kernels of its own, with no mixing across channels (pair it with a 1x1 Conv2D for that).

    The layer has ``in_channels * depth_multiplier * (kh * kw + 1)`` parameters (with bias).
    ``weight`` is stored (in, depth_multiplier, kh, kw); ``get_weights()`` returns Keras'
    (kh, kw, in, depth_multiplier) kernel and the bias.

    Input shape: (batch, height, width, channels) ("channels_last", default) or
    (batch, channels, height, width). Output shape: (batch, new_height, new_width,
    channels * depth_multiplier), output channel ``c * depth_multiplier + m`` from channel c.

    Example:
        >>> DepthwiseConv2D(5, padding="same").build_for((None, 16, 16, 32))
        (None, 16, 16, 32)
    """

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        strides: int | tuple[int, int] = (1, 1),
        padding: str = "valid",
        depth_multiplier: int = 1,
        data_format: str | None = None,
        dilation_rate: int | tuple[int, int] = (1, 1),
        activation: Any = None,
        use_bias: bool = True,
        depthwise_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        depthwise_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        depthwise_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self._set_window(kernel_size, strides, padding, data_format, dilation_rate)
        self._set_depthwise(
            depth_multiplier, depthwise_initializer, depthwise_regularizer, depthwise_constraint
        )
        self._set_output(
            activation,
            use_bias,
            bias_initializer,
            bias_regularizer,
            activity_regularizer,
            bias_constraint,
        )

    def compute_output_shape(self, input_shape):
        channels = channels_of(input_shape, self.data_format) * self.depth_multiplier
        return make_shape(
            input_shape[0], *self._spatial_output(input_shape), channels, self.data_format
        )

    def build(self, input_shape):
        self.weight = self._build_depthwise(input_shape, "weight")
        if self.use_bias:
            units = self._in_channels * self.depth_multiplier
            self.bias = self._create_weight("bias", (units,), self.bias_initializer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._in_data_format(
            self._depthwise(self._channels_first(x), self.weight, self.bias)
        )

    def keras_weights(self):
        if not self.built:
            return []
        bias = [self.bias] if self.bias is not None else []
        return [self.weight.permute(*_DEPTHWISE_LAYOUT), *bias]

    def _keras_view(self, attribute):
        if attribute == "weight":
            return self.weight.permute(*_DEPTHWISE_LAYOUT)
        return getattr(self, attribute)

    def _weight_regularizers(self):
        return [("weight", self.depthwise_regularizer), ("bias", self.bias_regularizer)]

    def _weight_constraints(self):
        return [("weight", self.depthwise_constraint), ("bias", self.bias_constraint)]

    def extra_repr(self):
        return self._depthwise_extra_repr()


class SeparableConv2D(_Depthwise):
    """Depthwise separable 2-D convolution: a DepthwiseConv2D (no bias) followed by a 1x1
    convolution to ``filters`` channels, as in Xception.

    The layer has ``in * depth_multiplier * (kh * kw + filters) + filters`` parameters.
    ``depthwise_weight`` is stored (in, depth_multiplier, kh, kw) and ``pointwise_weight``
    (filters, in * depth_multiplier, 1, 1); ``get_weights()`` returns Keras' depthwise kernel
    (kh, kw, in, depth_multiplier), pointwise kernel (1, 1, in * depth_multiplier, filters)
    and the bias.

    Input shape: (batch, height, width, channels) ("channels_last", default) or
    (batch, channels, height, width). Output shape: (batch, new_height, new_width, filters).

    Example:
        >>> SeparableConv2D(64, 3, padding="same").build_for((None, 16, 16, 32))
        (None, 16, 16, 64)
    """

    def __init__(
        self,
        filters: int,
        kernel_size: int | tuple[int, int],
        strides: int | tuple[int, int] = (1, 1),
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: int | tuple[int, int] = (1, 1),
        depth_multiplier: int = 1,
        activation: Any = None,
        use_bias: bool = True,
        depthwise_initializer: Any = "glorot_uniform",
        pointwise_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        depthwise_regularizer: Any = None,
        pointwise_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        depthwise_constraint: Any = None,
        pointwise_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.filters = check_positive_int(filters, "filters", owner)
        self._set_window(kernel_size, strides, padding, data_format, dilation_rate)
        self._set_depthwise(
            depth_multiplier, depthwise_initializer, depthwise_regularizer, depthwise_constraint
        )
        self.pointwise_initializer = initializers.get(
            pointwise_initializer, owner, "pointwise_initializer"
        )
        self.pointwise_regularizer = regularizers.get(
            pointwise_regularizer, owner, "pointwise_regularizer"
        )
        self.pointwise_constraint = constraints.get(
            pointwise_constraint, owner, "pointwise_constraint"
        )
        self._set_output(
            activation,
            use_bias,
            bias_initializer,
            bias_regularizer,
            activity_regularizer,
            bias_constraint,
        )

    def compute_output_shape(self, input_shape):
        return make_shape(
            input_shape[0], *self._spatial_output(input_shape), self.filters, self.data_format
        )

    def build(self, input_shape):
        self.depthwise_weight = self._build_depthwise(input_shape, "depthwise_weight")
        pointwise_shape = (1, 1, self._in_channels * self.depth_multiplier, self.filters)
        self.pointwise_weight = self._create_weight(
            "pointwise_weight", pointwise_shape, self.pointwise_initializer, _POINTWISE_FROM_KERAS
        )
        if self.use_bias:
            self.bias = self._create_weight("bias", (self.filters,), self.bias_initializer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self._depthwise(self._channels_first(x), self.depthwise_weight, None)
        return self._in_data_format(F.conv2d(y, self.pointwise_weight, self.bias))

    def keras_weights(self):
        if not self.built:
            return []
        bias = [self.bias] if self.bias is not None else []
        return [
            self._keras_view("depthwise_weight"),
            self._keras_view("pointwise_weight"),
            *bias,
        ]

    def _keras_view(self, attribute):
        if attribute == "depthwise_weight":
            return self.depthwise_weight.permute(*_DEPTHWISE_LAYOUT)
        if attribute == "pointwise_weight":
            return self.pointwise_weight.permute(*_POINTWISE_TO_KERAS)
        return getattr(self, attribute)

    def _weight_regularizers(self):
        return [
            ("depthwise_weight", self.depthwise_regularizer),
            ("pointwise_weight", self.pointwise_regularizer),
            ("bias", self.bias_regularizer),
        ]

    def _weight_constraints(self):
        return [
            ("depthwise_weight", self.depthwise_constraint),
            ("pointwise_weight", self.pointwise_constraint),
            ("bias", self.bias_constraint),
        ]

    def extra_repr(self):
        return self._depthwise_extra_repr() + f", filters={self.filters}"
