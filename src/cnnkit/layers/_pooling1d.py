"""1-D pooling: shorten each channel of a sequence by the max or mean of a window, or reduce
the whole sequence to one value per channel."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from cnnkit._validation import normalize_tuple
from cnnkit.arithmetic import conv_output_size
from cnnkit.layers._base import Layer
from cnnkit.layers._conv1d import padding_1d, sequence_layout, steps_and_channels
from cnnkit.layers._spatial import check_data_format, check_padding


class _Pooling1D(Layer):
    """What MaxPooling1D and AveragePooling1D share: arguments, shapes, 'same' padding."""

    def __init__(
        self,
        pool_size: int | tuple[int] = 2,
        strides: int | tuple[int] | None = None,
        padding: str = "valid",
        data_format: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.pool_size = normalize_tuple(pool_size, "pool_size", owner, n=1)
        self.strides = (
            self.pool_size if strides is None else normalize_tuple(strides, "strides", owner, n=1)
        )
        self.padding = check_padding(padding, owner)
        self.data_format = check_data_format(data_format or "channels_last", owner)

    def check_input_shape(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(
                f"{self._owner()} expects inputs of rank 3 {sequence_layout(self.data_format)}; "
                f"received shape {input_shape} (rank {len(input_shape)})"
            )
        steps, _ = steps_and_channels(input_shape, self.data_format)
        if self.padding == "valid" and steps is not None and steps < self.pool_size[0]:
            raise ValueError(
                f"{self._owner()}: pool_size {self.pool_size} is longer than the input's "
                f"{steps} steps with padding='valid'; input shape {input_shape}. Use "
                "padding='same' or a smaller pool_size."
            )

    def compute_output_shape(self, input_shape):
        steps, channels = steps_and_channels(input_shape, self.data_format)
        if steps is not None:
            steps = conv_output_size(steps, self.pool_size[0], self.strides[0], self.padding)
        if self.data_format == "channels_last":
            return (input_shape[0], steps, channels)
        return (input_shape[0], channels, steps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        channels_last = self.data_format == "channels_last"
        steps_axis = 1 if channels_last else 2
        if x.ndim != 3 or (self.padding == "valid" and x.shape[steps_axis] < self.pool_size[0]):
            self.check_input_shape((None, *x.shape[1:]))
        if channels_last:
            x = x.transpose(1, 2)
        pads = padding_1d(x.shape[2], self.pool_size[0], self.strides[0], 1, self.padding)
        y = self._pool(x, pads)
        return y.transpose(1, 2) if channels_last else y

    def _pool(self, x: torch.Tensor, pads: tuple[int, int]) -> torch.Tensor:
        raise NotImplementedError

    def extra_repr(self):
        return (
            f"name={self.name!r}, pool_size={self.pool_size}, strides={self.strides}, "
            f"padding={self.padding!r}"
        )


class MaxPooling1D(_Pooling1D):
    """Max pooling along the steps: keeps the largest value of each window per channel.

    Input (batch, steps, channels); output (batch, pooled_steps, channels). ``strides``
    defaults to ``pool_size``.

    Example:
        >>> MaxPooling1D(pool_size=2).build_for((None, 10, 4))
        (None, 5, 4)
    """

    def _pool(self, x, pads):
        if pads != (0, 0):  # padded steps never win the max
            x = F.pad(x, pads, value=float("-inf"))
        return F.max_pool1d(x, self.pool_size, self.strides)


class AveragePooling1D(_Pooling1D):
    """Average pooling along the steps; with ``padding='same'`` padded steps are left out of
    the mean, as Keras does.

    Example:
        >>> AveragePooling1D(pool_size=3, strides=1, padding="same").build_for((None, 10, 4))
        (None, 10, 4)
    """

    def _pool(self, x, pads):
        if pads == (0, 0):
            return F.avg_pool1d(x, self.pool_size, self.strides)
        sums = F.avg_pool1d(F.pad(x, pads), self.pool_size, self.strides) * self.pool_size[0]
        ones = torch.ones((1, 1, x.shape[2]), dtype=x.dtype, device=x.device)
        counts = F.avg_pool1d(F.pad(ones, pads), self.pool_size, self.strides) * self.pool_size[0]
        return sums / counts


class _GlobalPooling1D(Layer):
    """What the global 1-D poolings share: reduce the steps to one value per channel."""

    def __init__(self, data_format: str | None = None, keepdims: bool = False, **kwargs: Any):
        super().__init__(**kwargs)
        self.data_format = check_data_format(data_format or "channels_last", type(self).__name__)
        self.keepdims = bool(keepdims)
        self._axis = 1 if self.data_format == "channels_last" else 2

    def check_input_shape(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(
                f"{self._owner()} expects inputs of rank 3 {sequence_layout(self.data_format)}; "
                f"received shape {input_shape} (rank {len(input_shape)})"
            )

    def compute_output_shape(self, input_shape):
        _, channels = steps_and_channels(input_shape, self.data_format)
        if not self.keepdims:
            return (input_shape[0], channels)
        if self.data_format == "channels_last":
            return (input_shape[0], 1, channels)
        return (input_shape[0], channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 3:
            self.check_input_shape((None, *x.shape[1:]))
        return self._reduce(x)


class GlobalAveragePooling1D(_GlobalPooling1D):
    """Mean over all steps of each channel: (batch, steps, channels) -> (batch, channels)."""

    def _reduce(self, x):
        return x.mean(dim=self._axis, keepdim=self.keepdims)


class GlobalMaxPooling1D(_GlobalPooling1D):
    """Max over all steps of each channel: (batch, steps, channels) -> (batch, channels)."""

    def _reduce(self, x):
        return x.amax(dim=self._axis, keepdim=self.keepdims)
