"""What Conv2DTranspose, DepthwiseConv2D and SeparableConv2D share with Conv2D: the window
arguments (kernel_size, strides, padding, data_format, dilation_rate), the bias and
activation arguments, input checks and Keras' 'same' padding."""

from __future__ import annotations

from typing import Any

import torch

from cnnkit import constraints, initializers, regularizers
from cnnkit._onednn import pointwise_at_unit_stride
from cnnkit._validation import normalize_tuple
from cnnkit.layers._base import Layer
from cnnkit.layers._conv import _strides_without_single_outputs
from cnnkit.layers._spatial import (
    SamePadding,
    channels_of,
    check_data_format,
    check_padding,
    check_spatial_sizes,
    spatial_dims,
)


class _ConvBase(Layer):
    """A convolution-like layer's shared arguments and checks; subclasses create the weights
    (``build``), say how many input channels they were built for (``_in_channels``) and compute
    (``forward``)."""

    _in_channels: int | None = None
    _checks_valid_window = True  # a transposed convolution grows its input: no size limit

    def _set_window(
        self,
        kernel_size: Any,
        strides: Any,
        padding: Any,
        data_format: Any,
        dilation_rate: Any,
    ) -> None:
        """Validate and keep the arguments that describe the sliding window."""
        owner = type(self).__name__
        self.kernel_size = normalize_tuple(kernel_size, "kernel_size", owner)
        self.strides = normalize_tuple(strides, "strides", owner)
        self.padding = check_padding(padding, owner)
        self.data_format = check_data_format(data_format or "channels_last", owner)
        self.dilation_rate = normalize_tuple(dilation_rate, "dilation_rate", owner)
        self._same: SamePadding | None = None
        self._same_for: tuple[int, int] | None = None

    def _set_output(
        self,
        activation: Any,
        use_bias: Any,
        bias_initializer: Any,
        bias_regularizer: Any,
        activity_regularizer: Any,
        bias_constraint: Any,
    ) -> None:
        """Validate and keep the bias and activation arguments."""
        owner = type(self).__name__
        self.activation = activation
        self.use_bias = bool(use_bias)
        self.bias_initializer = initializers.get(bias_initializer, owner, "bias_initializer")
        self.bias_regularizer = regularizers.get(bias_regularizer, owner, "bias_regularizer")
        self.activity_regularizer = regularizers.get(
            activity_regularizer, owner, "activity_regularizer"
        )
        self.bias_constraint = constraints.get(bias_constraint, owner, "bias_constraint")
        self.register_parameter("bias", None)

    def _refuse_strides_with_dilation(self) -> None:
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                f"{type(self).__name__}: strides > 1 cannot be combined with dilation_rate > 1. "
                f"Received: strides={self.strides} and dilation_rate={self.dilation_rate}"
            )

    def _layout(self) -> str:
        if self.data_format == "channels_last":
            return "(batch, height, width, channels)"
        return "(batch, channels, height, width)"

    def check_input_shape(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(
                f"{self._owner()} expects inputs of rank 4 {self._layout()}; received shape "
                f"{input_shape} (rank {len(input_shape)})"
                + (" - add a channel axis, e.g. x[..., None]" if len(input_shape) == 3 else "")
            )
        channels = channels_of(input_shape, self.data_format)
        if channels is None:
            raise ValueError(
                f"{self._owner()}: the channel axis of the input must be known; received shape "
                f"{input_shape}"
            )
        if self.built and channels != self._in_channels:
            raise ValueError(
                f"{self._owner()} was built for {self._in_channels} input channels; received "
                f"shape {input_shape} with {channels}"
            )
        check_spatial_sizes(self._owner(), input_shape, self.data_format)
        if self.padding == "valid" and self._checks_valid_window:
            self._check_window_fits(input_shape)

    def _check_window_fits(self, input_shape: tuple) -> None:
        sizes = spatial_dims(input_shape, self.data_format)
        for axis, size, k, d in zip(
            ("height", "width"), sizes, self.kernel_size, self.dilation_rate
        ):
            if size is not None and size < (k - 1) * d + 1:
                raise ValueError(
                    f"{self._owner()}: kernel_size {self.kernel_size} (dilation "
                    f"{self.dilation_rate}) is larger than the input {axis} {size} with "
                    f"padding='valid'; input shape {input_shape}. Use padding='same', a smaller "
                    "kernel or a larger input."
                )

    def _channels_first(self, x: torch.Tensor) -> torch.Tensor:
        """The input as (N, C, H, W) (a view for channels-last data), its channels checked."""
        if x.ndim != 4:
            self._raise_rank(x, 4, self._layout())
        if self.data_format == "channels_last":
            x = x.permute(0, 3, 1, 2)
        if x.shape[1] != self._in_channels:
            shape = x.permute(0, 2, 3, 1) if self.data_format == "channels_last" else x
            raise ValueError(
                f"{self._owner()} was built for {self._in_channels} input channels; received "
                f"inputs of shape {tuple(shape.shape)}"
            )
        return x

    def _in_data_format(self, y: torch.Tensor) -> torch.Tensor:
        """An (N, C, H, W) result in the layer's data format, activated."""
        if self.data_format == "channels_last":
            y = y.permute(0, 2, 3, 1)
        return self._activate(y)

    def _window_arguments(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, Any], tuple]:
        """``x`` padded for 'same' and the F.conv2d arguments (stride, padding, dilation), with
        the axes where a stride is replaced by 1 (see ``_strides_without_single_outputs``)."""
        padding: tuple[int, int] = (0, 0)
        if self.padding == "same":
            height, width = x.shape[2], x.shape[3]
            if self._same_for != (height, width):  # computed once per input size
                self._same = SamePadding(
                    height, width, self.kernel_size, self.strides, self.dilation_rate
                )
                self._same_for = (height, width)
            x, padding = self._same.pad(x), self._same.kernel_padding
        x, strides = pointwise_at_unit_stride(x, self.kernel_size, self.strides)
        single = (False, False)
        if strides != (1, 1):
            strides, single = _strides_without_single_outputs(
                x.shape[2:], padding, self.kernel_size, strides, self.dilation_rate
            )
        arguments = {"stride": strides, "padding": padding, "dilation": self.dilation_rate}
        return x, arguments, single


def keep_single_outputs(y: torch.Tensor, single: tuple[bool, bool]) -> torch.Tensor:
    """Keep the first position along the axes computed with stride 1 in place of a larger one."""
    if single == (False, False):
        return y
    return y[:, :, : 1 if single[0] else None, : 1 if single[1] else None]
