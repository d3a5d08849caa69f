"""Conv2D: the lecture's convolutional layer, with every argument Keras documents."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from cnnkit import constraints, initializers, regularizers
from cnnkit._onednn import pointwise_at_unit_stride
from cnnkit._validation import check_positive_int, normalize_tuple
from cnnkit.layers._base import Layer
from cnnkit.layers._spatial import (
    SamePadding,
    channels_of,
    check_data_format,
    check_padding,
    check_spatial_sizes,
    from_channels_first,
    make_shape,
    output_hw,
    spatial_dims,
)

_KERAS_FROM_TORCH = (2, 3, 1, 0)  # stored (out, in, kh, kw) -> Keras (kh, kw, in, out)
_TORCH_FROM_KERAS = (3, 2, 0, 1)  # Keras (kh, kw, in, out) -> stored (out, in, kh, kw)


class Conv2D(Layer):
    """2-D convolution layer (in CNN arithmetic there is no filter flip: it is a correlation).

    Each of the ``filters`` kernels spans ``kernel_size`` pixels and every input channel, so the
    layer has ``filters * (kh * kw * in_channels) + filters`` parameters.

    Input shape: (batch, height, width, channels) ("channels_last", default) or
    (batch, channels, height, width). Output shape: (batch, new_height, new_width, filters).
    ``padding='same'`` with strides > 1 pads like Keras/TensorFlow (the extra pixel goes
    bottom/right). ``weight`` is stored (filters, in, kh, kw) as in ``torch.nn.Conv2d``;
    ``get_weights()`` returns Keras' (kh, kw, in, filters) kernel and the bias.

    Example:
        >>> layer = Conv2D(filters=6, kernel_size=5, activation="tanh", input_shape=(32, 32, 1))
        >>> layer.build_for((None, 32, 32, 1))
        (None, 28, 28, 6)
    """

    def __init__(
        self,
        filters: int,
        kernel_size: int | tuple[int, int],
        strides: int | tuple[int, int] = (1, 1),
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: int | tuple[int, int] = (1, 1),
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
        self.kernel_size = normalize_tuple(kernel_size, "kernel_size", owner)
        self.strides = normalize_tuple(strides, "strides", owner)
        self.padding = check_padding(padding, owner)
        self.data_format = check_data_format(data_format or "channels_last", owner)
        self.dilation_rate = normalize_tuple(dilation_rate, "dilation_rate", owner)
        self.groups = check_positive_int(groups, "groups", owner)
        if self.filters % self.groups:
            raise ValueError(
                f"{owner}: filters must be a multiple of groups. Received: filters={filters}, groups={groups}"
            )
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                f"{owner}: strides > 1 cannot be combined with dilation_rate > 1. "
                f"Received: strides={self.strides} and dilation_rate={self.dilation_rate}"
            )
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
        self._same: SamePadding | None = None
        self._same_for: tuple[int, int] | None = None

    def check_input_shape(self, input_shape):
        if len(input_shape) != 4:
            layout = (
                "(batch, height, width, channels)"
                if self.data_format == "channels_last"
                else "(batch, channels, height, width)"
            )
            raise ValueError(
                f"{self._owner()} expects inputs of rank 4 {layout}; received shape {input_shape} "
                f"(rank {len(input_shape)})"
                + (" - add a channel axis, e.g. x[..., None]" if len(input_shape) == 3 else "")
            )
        channels = channels_of(input_shape, self.data_format)
        if channels is None:
            raise ValueError(
                f"{self._owner()}: the channel axis of the input must be known; received shape {input_shape}"
            )
        if channels % self.groups:
            raise ValueError(
                f"{self._owner()}: input channels ({channels}) must be a multiple of groups ({self.groups})"
            )
        if self.built and channels != self.weight.shape[1] * self.groups:
            raise ValueError(
                f"{self._owner()} was built for {self.weight.shape[1] * self.groups} input channels; "
                f"received shape {input_shape} with {channels}"
            )
        check_spatial_sizes(self._owner(), input_shape, self.data_format)
        if self.padding == "valid":
            for axis, size, k, d in zip(
                ("height", "width"),
                spatial_dims(input_shape, self.data_format),
                self.kernel_size,
                self.dilation_rate,
            ):
                if size is not None and size < (k - 1) * d + 1:
                    raise ValueError(
                        f"{self._owner()}: kernel_size {self.kernel_size} (dilation {self.dilation_rate}) is larger "
                        f"than the input {axis} {size} with padding='valid'; input shape {input_shape}. "
                        "Use padding='same', a smaller kernel or a larger input."
                    )

    def compute_output_shape(self, input_shape):
        height, width = spatial_dims(input_shape, self.data_format)
        out_h, out_w = output_hw(
            height, width, self.kernel_size, self.strides, self.padding, self.dilation_rate
        )
        return make_shape(input_shape[0], out_h, out_w, self.filters, self.data_format)

    def build(self, input_shape):
        in_channels = channels_of(input_shape, self.data_format) // self.groups
        kernel_shape = (*self.kernel_size, in_channels, self.filters)
        self.weight = self._create_weight(
            "weight", kernel_shape, self.kernel_initializer, _TORCH_FROM_KERAS
        )
        self._in_channels = in_channels * self.groups
        if self.use_bias:
            self.bias = self._create_weight("bias", (self.filters,), self.bias_initializer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Kept lean: it runs once per layer per batch (see bench/bench_forward.py).
        channels_last = self.data_format == "channels_last"
        if x.ndim != 4:
            self._raise_rank(x, 4, self._layout())
        if channels_last:
            # A view, no copy: the tensor stays in channels-last memory, which oneDNN's kernels
            # read directly, and every later layer (pooling, BatchNormalization, Flatten) gets
            # channels-last memory too. Measured side by side against copying into NCHW here:
            # LeNet-5 train step 13% faster, small_cnn 33% (bench/README.md).
            x = x.permute(0, 3, 1, 2)
        weight = self.weight
        if x.shape[1] != self._in_channels:
            self._raise_channel_mismatch(tuple(from_channels_first(x, self.data_format).shape))
        try:
            y = self._convolve(x, weight)
        except (RuntimeError, ValueError):  # too small for the kernel: say so in the layer's terms
            self.check_input_shape(tuple(from_channels_first(x, self.data_format).shape))
            raise
        if channels_last:
            y = y.permute(0, 2, 3, 1)
        return self._activate(y)

    def _convolve(self, x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        """F.conv2d of an (N, C, H, W) tensor with Keras' 'same' padding where asked."""
        padding: tuple[int, int] = (0, 0)
        if self.padding == "same":
            same = self._same_padding(x.shape[2], x.shape[3])
            x, padding = same.pad(x), same.kernel_padding
        x, strides = pointwise_at_unit_stride(x, self.kernel_size, self.strides)
        single = (False, False)
        if strides != (1, 1):
            strides, single = _strides_without_single_outputs(
                x.shape[2:], padding, self.kernel_size, strides, self.dilation_rate
            )
        y = F.conv2d(x, weight, self.bias, strides, padding, self.dilation_rate, self.groups)
        if single != (False, False):
            y = y[:, :, : 1 if single[0] else None, : 1 if single[1] else None]
        return y

    def _layout(self) -> str:
        if self.data_format == "channels_last":
            return "(batch, height, width, channels)"
        return "(batch, channels, height, width)"

    def _raise_channel_mismatch(self, shape: tuple[int, ...]) -> None:
        expected = self.weight.shape[1] * self.groups
        hint = ""
        if self.data_format == "channels_last" and shape[1] == expected and shape[3] != expected:
            hint = (
                " - the images look channels-first (batch, channels, height, width); cnnkit expects "
                "channels-last (batch, height, width, channels): use x.transpose(0, 2, 3, 1)"
            )
        raise ValueError(
            f"{self._owner()} was built for {expected} input channels; received inputs of shape {shape}{hint}"
        )

    def _same_padding(self, height: int, width: int) -> SamePadding:
        if self._same_for != (height, width):  # computed once per input size, not per call
            self._same = SamePadding(
                height, width, self.kernel_size, self.strides, self.dilation_rate
            )
            self._same_for = (height, width)
        return self._same

    def keras_weights(self):
        if not self.built:
            return []
        return [self.weight.permute(*_KERAS_FROM_TORCH)] + (
            [self.bias] if self.bias is not None else []
        )

    def _keras_view(self, attribute):
        return (
            self.weight.permute(*_KERAS_FROM_TORCH)
            if attribute == "weight"
            else getattr(self, attribute)
        )

    def _weight_regularizers(self):
        return [("weight", self.kernel_regularizer), ("bias", self.bias_regularizer)]

    def _weight_constraints(self):
        return [("weight", self.kernel_constraint), ("bias", self.bias_constraint)]

    def extra_repr(self):
        return (
            f"name={self.name!r}, filters={self.filters}, kernel_size={self.kernel_size}, "
            f"strides={self.strides}, padding={self.padding!r}, data_format={self.data_format!r}"
        )


def _strides_without_single_outputs(
    size: tuple[int, ...],
    padding: tuple[int, int],
    kernel_size: tuple[int, int],
    strides: tuple[int, int],
    dilation_rate: tuple[int, int],
) -> tuple[tuple[int, int], tuple[bool, bool]]:
    """Stride 1 along each axis whose output has a single position and a stride above 1, and
    which axes those are (their output is then the first position of a stride-1 convolution,
    the same number).

    oneDNN (PyTorch 2.13's CPU convolution) leaves that output uninitialised for one-channel
    channels-last input with a single output column and a horizontal stride above 1: the
    result is whatever the memory held before, NaN included.
    """
    new, single = [], []
    for n, pad, k, stride, dilation in zip(size, padding, kernel_size, strides, dilation_rate):
        extent = n + 2 * pad - dilation * (k - 1)  # positions a stride-1 kernel fits at
        one = stride > 1 and 0 < extent <= stride
        new.append(1 if one else stride)
        single.append(one)
    return (new[0], new[1]), (single[0], single[1])
