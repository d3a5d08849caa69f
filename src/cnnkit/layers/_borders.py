"""UpSampling2D, ZeroPadding2D and Cropping2D: change an image's height and width without
weights (repeat or interpolate pixels, add zero borders, cut borders)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from cnnkit._validation import check_choice, normalize_tuple
from cnnkit.layers._base import Layer
from cnnkit.layers._spatial import (
    channels_of,
    check_data_format,
    from_channels_first,
    make_shape,
    spatial_dims,
    to_channels_first,
)

INTERPOLATIONS = ("nearest", "bilinear", "bicubic")
Borders = tuple[tuple[int, int], tuple[int, int]]


class _Spatial2D(Layer):
    """A weightless layer on (batch, height, width, channels) images (or channels-first)."""

    def _set_data_format(self, data_format: Any) -> None:
        self.data_format = check_data_format(data_format or "channels_last", type(self).__name__)

    def check_input_shape(self, input_shape):
        if len(input_shape) != 4:
            layout = (
                "(batch, height, width, channels)"
                if self.data_format == "channels_last"
                else "(batch, channels, height, width)"
            )
            raise ValueError(
                f"{self._owner()} expects inputs of rank 4 {layout}; received shape "
                f"{input_shape} (rank {len(input_shape)})"
            )

    def _shape_with(self, input_shape, height, width):
        channels = channels_of(input_shape, self.data_format)
        return make_shape(input_shape[0], height, width, channels, self.data_format)

    def _checked(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4:
            self.check_input_shape(tuple(x.shape))
        return x


class UpSampling2D(_Spatial2D):
    """Repeat each pixel ``size`` times along height and width ('nearest'), or interpolate
    ('bilinear', 'bicubic'), as decoders do after a bottleneck.

    Input shape: (batch, height, width, channels) ("channels_last", default) or
    (batch, channels, height, width). Output shape: (batch, height * size[0],
    width * size[1], channels).

    Example:
        >>> UpSampling2D(2).build_for((None, 7, 7, 16))
        (None, 14, 14, 16)
    """

    def __init__(
        self,
        size: int | tuple[int, int] = (2, 2),
        data_format: str | None = None,
        interpolation: str = "nearest",
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.size = normalize_tuple(size, "size", owner)
        self._set_data_format(data_format)
        self.interpolation = check_choice(
            interpolation, "interpolation", owner, choices=INTERPOLATIONS
        )

    def compute_output_shape(self, input_shape):
        height, width = spatial_dims(input_shape, self.data_format)
        new = [None if n is None else n * s for n, s in zip((height, width), self.size)]
        return self._shape_with(input_shape, *new)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = to_channels_first(self._checked(x), self.data_format)
        size = (x.shape[2] * self.size[0], x.shape[3] * self.size[1])
        corners = None if self.interpolation == "nearest" else False
        y = F.interpolate(x, size=size, mode=self.interpolation, align_corners=corners)
        return from_channels_first(y, self.data_format)


def _borders(value: Any, name: str, owner: str) -> Borders:
    """An int, (height, width) or ((top, bottom), (left, right)), each >= 0, as the last."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value, value)
    if not isinstance(value, Sequence) or isinstance(value, str) or len(value) != 2:
        raise TypeError(
            f"{owner}: {name} must be an int, a tuple of 2 ints (height, width) or a tuple of 2 "
            f"tuples of 2 ints ((top, bottom), (left, right)). Received: {name}={value!r}"
        )
    height = normalize_tuple(value[0], f"{name}[0]", owner, allow_zero=True)
    width = normalize_tuple(value[1], f"{name}[1]", owner, allow_zero=True)
    return (height[0], height[1]), (width[0], width[1])  # type: ignore[return-value]


class ZeroPadding2D(_Spatial2D):
    """Add rows and columns of zeros around each image.

    ``padding``: an int (the same on every side), (rows, columns) added on both sides, or
    ((top, bottom), (left, right)).

    Example:
        >>> ZeroPadding2D(((1, 2), (3, 4))).build_for((None, 8, 8, 3))
        (None, 11, 15, 3)
    """

    def __init__(
        self,
        padding: int | tuple[int, int] | Borders = (1, 1),
        data_format: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.padding = _borders(padding, "padding", type(self).__name__)
        self._set_data_format(data_format)

    def compute_output_shape(self, input_shape):
        height, width = spatial_dims(input_shape, self.data_format)
        new = [None if n is None else n + sum(p) for n, p in zip((height, width), self.padding)]
        return self._shape_with(input_shape, *new)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = to_channels_first(self._checked(x), self.data_format)
        (top, bottom), (left, right) = self.padding
        return from_channels_first(F.pad(x, (left, right, top, bottom)), self.data_format)


class Cropping2D(_Spatial2D):
    """Cut rows and columns off each image's borders.

    ``cropping``: an int (the same on every side), (rows, columns) cut on both sides, or
    ((top, bottom), (left, right)).

    Example:
        >>> Cropping2D(((2, 2), (4, 4))).build_for((None, 28, 28, 3))
        (None, 24, 20, 3)
    """

    def __init__(
        self,
        cropping: int | tuple[int, int] | Borders = ((0, 0), (0, 0)),
        data_format: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.cropping = _borders(cropping, "cropping", type(self).__name__)
        self._set_data_format(data_format)

    def check_input_shape(self, input_shape):
        super().check_input_shape(input_shape)
        sizes = spatial_dims(input_shape, self.data_format)
        for axis, size, crop in zip(("height", "width"), sizes, self.cropping):
            if size is not None and size <= sum(crop):
                raise ValueError(
                    f"{self._owner()}: cropping {crop} leaves nothing of the input {axis} {size}; "
                    f"input shape {input_shape}. Crop less than the {axis} in total."
                )

    def compute_output_shape(self, input_shape):
        height, width = spatial_dims(input_shape, self.data_format)
        new = [None if n is None else n - sum(c) for n, c in zip((height, width), self.cropping)]
        return self._shape_with(input_shape, *new)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = to_channels_first(self._checked(x), self.data_format)
        (top, bottom), (left, right) = self.cropping
        height, width = x.shape[2], x.shape[3]
        if height <= top + bottom or width <= left + right:
            self.check_input_shape(tuple(from_channels_first(x, self.data_format).shape))
        y = x[:, :, top : height - bottom, left : width - right]
        return from_channels_first(y, self.data_format)
