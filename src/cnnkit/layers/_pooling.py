"""Pooling layers: reduce each channel's spatial size by the max or the mean of a window."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from cnnkit._validation import normalize_tuple
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


class _Pooling2D(Layer):
    """Shared logic of MaxPooling2D and AveragePooling2D: arguments, shapes, 'same' padding."""

    def __init__(
        self,
        pool_size: int | tuple[int, int] = (2, 2),
        strides: int | tuple[int, int] | None = None,
        padding: str = "valid",
        data_format: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.pool_size = normalize_tuple(pool_size, "pool_size", owner)
        self.strides = (
            self.pool_size if strides is None else normalize_tuple(strides, "strides", owner)
        )
        self.padding = check_padding(padding, owner)
        self.data_format = check_data_format(data_format or "channels_last", owner)
        self._same: SamePadding | None = None
        self._same_for: tuple[int, int] | None = None

    def check_input_shape(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(
                f"{self._owner()} expects inputs of rank 4 {self._layout()}; received shape "
                f"{input_shape} (rank {len(input_shape)})"
            )
        check_spatial_sizes(self._owner(), input_shape, self.data_format)
        if self.padding == "valid":
            for axis, size, k in zip(
                ("height", "width"), spatial_dims(input_shape, self.data_format), self.pool_size
            ):
                if size is not None and size < k:
                    raise ValueError(
                        f"{self._owner()}: pool_size {self.pool_size} is larger than the input {axis} {size} "
                        f"with padding='valid'; input shape {input_shape}. Use padding='same' or a smaller pool_size."
                    )

    def _layout(self) -> str:
        return (
            "(batch, height, width, channels)"
            if self.data_format == "channels_last"
            else "(batch, channels, height, width)"
        )

    def compute_output_shape(self, input_shape):
        height, width = spatial_dims(input_shape, self.data_format)
        out_h, out_w = output_hw(height, width, self.pool_size, self.strides, self.padding)
        return make_shape(
            input_shape[0],
            out_h,
            out_w,
            channels_of(input_shape, self.data_format),
            self.data_format,
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        channels_last = self.data_format == "channels_last"
        if x.ndim != 4:
            self._raise_rank(x, 4, self._layout())
        if channels_last:
            x = x.permute(0, 3, 1, 2)  # a view in channels-last memory format: no copy
        try:
            if self.padding == "same":
                y = self._pool_same(x, self._same_padding(x.shape[2], x.shape[3]))
            else:
                y = self._pool(x, 0)
        except (RuntimeError, ValueError):  # too small for the window: say so in its terms
            self.check_input_shape(tuple(from_channels_first(x, self.data_format).shape))
            raise
        return y.permute(0, 2, 3, 1) if channels_last else y

    def _same_padding(self, height: int, width: int) -> SamePadding:
        if self._same_for != (height, width):
            self._same = SamePadding(height, width, self.pool_size, self.strides)
            self._same_for = (height, width)
        return self._same

    def _pool(self, x: torch.Tensor, padding: tuple[int, int]) -> torch.Tensor:
        raise NotImplementedError

    def _pool_same(self, x: torch.Tensor, same: SamePadding) -> torch.Tensor:
        raise NotImplementedError

    def extra_repr(self):
        return f"name={self.name!r}, pool_size={self.pool_size}, strides={self.strides}, padding={self.padding!r}"


class MaxPooling2D(_Pooling2D):
    """Max pooling: keeps the largest activation of each window (a 2x2 window discards 75%).

    Input (batch, height, width, channels); output (batch, pooled_height, pooled_width,
    channels). ``strides`` defaults to ``pool_size``.

    Example:
        >>> MaxPooling2D(pool_size=(2, 2)).build_for((None, 26, 26, 64))
        (None, 13, 13, 64)
    """

    def _pool(self, x, padding):
        return F.max_pool2d(x, self.pool_size, self.strides, padding)

    def _pool_same(self, x, same):
        # Padded pixels never win the max: pad with -inf where PyTorch's own padding can't.
        if same.symmetric and all(p <= k // 2 for p, k in zip(same.kernel_padding, self.pool_size)):
            return F.max_pool2d(x, self.pool_size, self.strides, same.kernel_padding)
        left, right, top, bottom = (
            same.explicit or (same.kernel_padding[1],) * 2 + (same.kernel_padding[0],) * 2
        )
        return F.max_pool2d(
            F.pad(x, (left, right, top, bottom), value=float("-inf")), self.pool_size, self.strides
        )


class AveragePooling2D(_Pooling2D):
    """Average pooling: the mean of each window, as in LeNet-5's subsampling layers.

    With ``padding='same'`` padded pixels are excluded from the mean, as Keras does.

    Example:
        >>> AveragePooling2D(pool_size=(2, 2)).build_for((None, 28, 28, 6))
        (None, 14, 14, 6)
    """

    def _pool(self, x, padding):
        return F.avg_pool2d(x, self.pool_size, self.strides, padding)

    def _pool_same(self, x, same):
        if same.symmetric and all(p <= k // 2 for p, k in zip(same.kernel_padding, self.pool_size)):
            return F.avg_pool2d(
                x, self.pool_size, self.strides, same.kernel_padding, count_include_pad=False
            )
        pads = same.explicit or (same.kernel_padding[1],) * 2 + (same.kernel_padding[0],) * 2
        sums = F.avg_pool2d(F.pad(x, pads), self.pool_size, self.strides, divisor_override=1)
        ones = torch.ones((1, 1, x.shape[2], x.shape[3]), dtype=x.dtype, device=x.device)
        counts = F.avg_pool2d(F.pad(ones, pads), self.pool_size, self.strides, divisor_override=1)
        return sums / counts


class _GlobalPooling2D(Layer):
    """Shared logic of the global poolings: reduce height and width to one value per channel."""

    def __init__(self, data_format: str | None = None, keepdims: bool = False, **kwargs: Any):
        super().__init__(**kwargs)
        self.data_format = check_data_format(data_format or "channels_last", type(self).__name__)
        self.keepdims = bool(keepdims)
        self._axes = (1, 2) if self.data_format == "channels_last" else (2, 3)

    def check_input_shape(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(
                f"{self._owner()} expects inputs of rank 4; received shape {input_shape} (rank {len(input_shape)})"
            )

    def compute_output_shape(self, input_shape):
        channels = channels_of(input_shape, self.data_format)
        if not self.keepdims:
            return (input_shape[0], channels)
        return make_shape(input_shape[0], 1, 1, channels, self.data_format)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._expect_rank(x, 4, "(batch, height, width, channels)")
        return self._reduce(x)


class GlobalAveragePooling2D(_GlobalPooling2D):
    """Mean over all pixels of each channel: (batch, h, w, c) -> (batch, c)."""

    def _reduce(self, x):
        return x.mean(dim=self._axes, keepdim=self.keepdims)


class GlobalMaxPooling2D(_GlobalPooling2D):
    """Max over all pixels of each channel: (batch, h, w, c) -> (batch, c)."""

    def _reduce(self, x):
        return x.amax(dim=self._axes, keepdim=self.keepdims)
