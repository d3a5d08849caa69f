"""Conv2DTranspose: the learned upsampling of decoders and autoencoders (a convolution's
gradient with respect to its input), with Keras' output sizes and 'same' padding."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from cnnkit import constraints, initializers, regularizers
from cnnkit._validation import check_positive_int, normalize_tuple
from cnnkit.layers._conv_base import _ConvBase
from cnnkit.layers._spatial import channels_of, make_shape, spatial_dims

_KERAS_FROM_TORCH = (2, 3, 1, 0)  # stored (in, filters, kh, kw) -> Keras (kh, kw, filters, in)
_TORCH_FROM_KERAS = (3, 2, 0, 1)  # Keras (kh, kw, filters, in) -> stored (in, filters, kh, kw)


class Conv2DTranspose(_ConvBase):
    """Transposed 2-D convolution: each input pixel adds a ``kernel_size`` patch, scaled by its
    value, to the output, ``strides`` pixels apart, so ``strides=2`` doubles height and width.

    Output size per axis (``k`` the dilated kernel size, ``s`` the stride, ``n`` the input
    size): ``padding='valid'`` gives ``(n - 1) * s + max(k, s)``, ``'same'`` gives ``n * s``;
    with ``output_padding=p``, ``(n - 1) * s + k + p`` and ``(n - 1) * s + k % 2 + p``.
    The layer has ``filters * (kh * kw * in_channels) + filters`` parameters. ``weight`` is
    stored (in, filters, kh, kw) as in ``torch.nn.ConvTranspose2d``; ``get_weights()`` returns
    Keras' (kh, kw, filters, in) kernel and the bias.

    Input shape: (batch, height, width, channels) ("channels_last", default) or
    (batch, channels, height, width). Output shape: (batch, new_height, new_width, filters).

    Example:
        >>> Conv2DTranspose(16, 3, strides=2, padding="same").build_for((None, 7, 7, 8))
        (None, 14, 14, 16)
    """

    _checks_valid_window = False

    def __init__(
        self,
        filters: int,
        kernel_size: int | tuple[int, int],
        strides: int | tuple[int, int] = (1, 1),
        padding: str = "valid",
        output_padding: int | tuple[int, int] | None = None,
        data_format: str | None = None,
        dilation_rate: int | tuple[int, int] = (1, 1),
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
        self._set_window(kernel_size, strides, padding, data_format, dilation_rate)
        self._refuse_strides_with_dilation()
        self.output_padding = _check_output_padding(output_padding, self.strides, owner)
        self._set_output(
            activation,
            use_bias,
            bias_initializer,
            bias_regularizer,
            activity_regularizer,
            bias_constraint,
        )
        self.kernel_initializer = initializers.get(kernel_initializer, owner, "kernel_initializer")
        self.kernel_regularizer = regularizers.get(kernel_regularizer, owner, "kernel_regularizer")
        self.kernel_constraint = constraints.get(kernel_constraint, owner, "kernel_constraint")

    def compute_output_shape(self, input_shape):
        sizes = [
            None if n is None else _output_size(n, *window)
            for n, window in zip(spatial_dims(input_shape, self.data_format), self._windows())
        ]
        return make_shape(input_shape[0], *sizes, self.filters, self.data_format)

    def _windows(self) -> list[tuple[int, int, str, int | None, int]]:
        """Per axis: (kernel, stride, padding, output_padding, dilation)."""
        extra = self.output_padding or (None, None)
        return list(
            zip(
                self.kernel_size,
                self.strides,
                (self.padding, self.padding),
                extra,
                self.dilation_rate,
            )
        )

    def build(self, input_shape):
        self._in_channels = channels_of(input_shape, self.data_format)
        kernel_shape = (*self.kernel_size, self.filters, self._in_channels)
        self.weight = self._create_weight(
            "weight", kernel_shape, self.kernel_initializer, _TORCH_FROM_KERAS
        )
        if self.use_bias:
            self.bias = self._create_weight("bias", (self.filters,), self.bias_initializer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self._channels_first(x)
        y = F.conv_transpose2d(x, self.weight, None, self.strides, dilation=self.dilation_rate)
        (top, bottom), (left, right) = (_crops(*window) for window in self._windows())
        height, width = y.shape[2], y.shape[3]
        y = y[:, :, max(top, 0) : height - max(bottom, 0), max(left, 0) : width - max(right, 0)]
        if min(top, bottom, left, right) < 0:  # output_padding beyond the kernel's reach: zeros
            y = F.pad(y, [max(-c, 0) for c in (left, right, top, bottom)])
        if self.bias is not None:
            y = y + self.bias.view(1, -1, 1, 1)
        return self._in_data_format(y)

    def keras_weights(self):
        if not self.built:
            return []
        return [self.weight.permute(*_KERAS_FROM_TORCH)] + (
            [self.bias] if self.bias is not None else []
        )

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
            f"strides={self.strides}, padding={self.padding!r}, data_format={self.data_format!r}"
        )


def _check_output_padding(value: Any, strides: tuple[int, int], owner: str) -> Any:
    if value is None:
        return None
    output_padding = normalize_tuple(value, "output_padding", owner, allow_zero=True)
    if any(p >= s for p, s in zip(output_padding, strides)):
        raise ValueError(
            f"{owner}: every value of output_padding must be smaller than the stride along its "
            f"axis. Received: output_padding={value!r} with strides={strides}"
        )
    return output_padding


def _pads(kernel: int, stride: int, padding: str, extra: int | None, dilation: int):
    """Keras' (left, right) padding of the stride-dilated input, for one axis."""
    span = (kernel - 1) * dilation + 1
    if padding == "valid":
        extra = max(span, stride) - span if extra is None else extra
        return span - 1, span - 1 + extra
    total = stride + span - 2 if extra is None else span + span % 2 - 2 + extra
    left = min(total // 2 + total % 2, span - 1)
    return left, total - left


def _crops(kernel: int, stride: int, padding: str, extra: int | None, dilation: int):
    """What to cut (negative: to add as zeros) from each side of the full transposed
    convolution, of size (n - 1) * stride + span, to get Keras' output, for one axis."""
    span = (kernel - 1) * dilation + 1
    left, right = _pads(kernel, stride, padding, extra, dilation)
    return span - 1 - left, span - 1 - right


def _output_size(
    size: int, kernel: int, stride: int, padding: str, extra: int | None, dilation: int
) -> int:
    """Keras' output size along one axis for an input ``size``."""
    top, bottom = _crops(kernel, stride, padding, extra, dilation)
    return (size - 1) * stride + (kernel - 1) * dilation + 1 - top - bottom
