"""Deterministic preprocessing layers: rescale pixel values, resize and crop images."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from cnnkit._validation import check_choice, check_number, check_positive_int
from cnnkit.layers._base import Layer
from cnnkit.layers._spatial import (
    check_data_format,
    from_channels_first,
    make_shape,
    to_channels_first,
)

RESIZE_INTERPOLATIONS = ("bilinear", "nearest", "bicubic")
_TORCH_MODES = {"bilinear": "bilinear", "nearest": "nearest-exact", "bicubic": "bicubic"}


def aspect_crop_box(height: int, width: int, target: tuple[int, int]) -> tuple[int, int, int, int]:
    """(top, left, crop_height, crop_width) of the largest centred window with the target's
    aspect ratio, computed exactly as Keras' ``smart_resize`` does."""
    crop_height = max(min(height, int(float(width * target[0]) / target[1])), 1)
    crop_width = max(min(width, int(float(height * target[1]) / target[0])), 1)
    return int((height - crop_height) / 2), int((width - crop_width) / 2), crop_height, crop_width


def resize_nchw(
    x: torch.Tensor, size: tuple[int, int], interpolation: str = "bilinear", antialias: bool = False
) -> torch.Tensor:
    """Resize (batch, channels, h, w) images to ``size`` as Keras' PyTorch backend does."""
    if tuple(x.shape[2:]) == tuple(size):
        return x
    smooth = interpolation in ("bilinear", "bicubic")
    if antialias and smooth and size[1] == 1:
        # PyTorch's antialiased kernel for contiguous NCHW input mis-resizes to width 1 (torch
        # 2.13, CPU); its channels-last kernel is right.
        x = x.contiguous(memory_format=torch.channels_last)
    return F.interpolate(
        x,
        size=size,
        mode=_TORCH_MODES[interpolation],
        align_corners=False if smooth else None,
        antialias=antialias and smooth,
    )


def smart_resize(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Crop (batch, channels, h, w) images to the target aspect ratio, then resize bilinearly."""
    top, left, crop_h, crop_w = aspect_crop_box(x.shape[2], x.shape[3], size)
    return resize_nchw(x[:, :, top : top + crop_h, left : left + crop_w], size)


def _pad_to_aspect(x: torch.Tensor, size: tuple[int, int], fill_value: float) -> torch.Tensor:
    height, width = x.shape[2], x.shape[3]
    pad_h = max(height, int(float(width * size[0]) / size[1]))
    pad_w = max(width, int(float(height * size[1]) / size[0]))
    top, left = int((pad_h - height) / 2), int((pad_w - width) / 2)
    return F.pad(x, (left, left, top, top), value=fill_value)


class _ImageSizeLayer(Layer):
    """Shared logic of Resizing and CenterCrop: a target (height, width) and the image layout."""

    def __init__(self, height: int, width: int, data_format: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.height = check_positive_int(height, "height", owner)
        self.width = check_positive_int(width, "width", owner)
        self.data_format = check_data_format(data_format or "channels_last", owner)

    def check_input_shape(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(
                f"{self._owner()} expects batches of images of rank 4; received shape "
                f"{tuple(input_shape)} (rank {len(input_shape)}). For one image use x[None]."
            )

    def compute_output_shape(self, input_shape):
        channels = input_shape[3] if self.data_format == "channels_last" else input_shape[1]
        return make_shape(input_shape[0], self.height, self.width, channels, self.data_format)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._expect_rank(x, 4, f"({self.data_format} images)")
        y = self._resize(to_channels_first(x, self.data_format))
        return from_channels_first(y, self.data_format)

    def _resize(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


class Rescaling(Layer):
    """Map pixel values to the range the network trains best on: ``x * scale + offset``.

    Any input shape; the output has the same shape.

    Args:
        scale: a number, or one number per channel (last axis). ``1 / 255`` takes [0, 255]
            images to [0, 1]; with ``offset=-1``, ``1 / 127.5`` takes them to [-1, 1].
        offset: a number, or one number per channel, added after scaling.
    """

    def __init__(
        self, scale: float | Sequence[float], offset: float | Sequence[float] = 0.0, **kwargs: Any
    ):
        super().__init__(**kwargs)
        self.scale = _number_or_numbers(scale, "scale")
        self.offset = _number_or_numbers(offset, "offset")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale, offset = self.scale, self.offset
        if isinstance(scale, list):
            scale = torch.tensor(scale, dtype=x.dtype, device=x.device)
        if isinstance(offset, list):
            offset = torch.tensor(offset, dtype=x.dtype, device=x.device)
        elif offset == 0:  # the usual 1 / 255: one pass over the images, not two
            return x * scale
        return x * scale + offset

    def extra_repr(self) -> str:
        return f"name={self.name!r}, scale={self.scale}, offset={self.offset}"


def _number_or_numbers(value: Any, name: str) -> float | list[float]:
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [check_number(v, name, "Rescaling", finite=False) for v in value]
    if hasattr(value, "tolist"):  # NumPy scalars and arrays
        return _number_or_numbers(value.tolist(), name)
    return check_number(value, name, "Rescaling", finite=False)


class Resizing(_ImageSizeLayer):
    """Resize images to the (height, width) a network expects (e.g. 224x224 for a pretrained net).

    Input (batch, h, w, channels); output (batch, height, width, channels).

    Args:
        height: output height.
        width: output width.
        interpolation: 'bilinear', 'nearest' or 'bicubic'.
        crop_to_aspect_ratio: resize the largest centred window of the target aspect ratio
            instead of the whole image (no distortion).
        pad_to_aspect_ratio: first pad the short side with ``fill_value`` to the target
            aspect ratio (no distortion, nothing cut off).
        fill_mode: how padding is filled; only 'constant'.
        fill_value: the padding value.
        antialias: low-pass filter when downsampling (bilinear and bicubic).
        data_format: 'channels_last' (default) or 'channels_first'.

    Example:
        >>> Resizing(64, 64).build_for((None, 32, 48, 3))
        (None, 64, 64, 3)
    """

    def __init__(
        self,
        height: int,
        width: int,
        interpolation: str = "bilinear",
        crop_to_aspect_ratio: bool = False,
        pad_to_aspect_ratio: bool = False,
        fill_mode: str = "constant",
        fill_value: float = 0.0,
        antialias: bool = False,
        data_format: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(height, width, data_format, **kwargs)
        owner = "Resizing"
        self.interpolation = check_choice(
            interpolation, "interpolation", owner, choices=RESIZE_INTERPOLATIONS
        )
        self.crop_to_aspect_ratio = bool(crop_to_aspect_ratio)
        self.pad_to_aspect_ratio = bool(pad_to_aspect_ratio)
        if self.crop_to_aspect_ratio and self.pad_to_aspect_ratio:
            raise ValueError(
                "Resizing: only one of crop_to_aspect_ratio and pad_to_aspect_ratio can be True. "
                "Received: crop_to_aspect_ratio=True, pad_to_aspect_ratio=True"
            )
        self.fill_mode = check_choice(fill_mode, "fill_mode", owner, choices=("constant",))
        self.fill_value = check_number(fill_value, "fill_value", owner, finite=False)
        self.antialias = bool(antialias)

    def _resize(self, x: torch.Tensor) -> torch.Tensor:
        size = (self.height, self.width)
        if self.crop_to_aspect_ratio:
            top, left, crop_h, crop_w = aspect_crop_box(x.shape[2], x.shape[3], size)
            x = x[:, :, top : top + crop_h, left : left + crop_w]
        elif self.pad_to_aspect_ratio:
            x = _pad_to_aspect(x, size, self.fill_value)
        return resize_nchw(x, size, self.interpolation, self.antialias)


class CenterCrop(_ImageSizeLayer):
    """Keep the central (height, width) window, e.g. to drop a border or background clutter.

    An image smaller than the target along an axis is instead cropped to the target aspect
    ratio and resized (Keras' ``smart_resize``). Input (batch, h, w, channels); output
    (batch, height, width, channels).

    Args:
        height: output height.
        width: output width.
        data_format: 'channels_last' (default) or 'channels_first'.

    Example:
        >>> CenterCrop(24, 24).build_for((None, 32, 32, 3))
        (None, 24, 24, 3)
    """

    def _resize(self, x: torch.Tensor) -> torch.Tensor:
        height, width = x.shape[2], x.shape[3]
        if height < self.height or width < self.width:
            return smart_resize(x, (self.height, self.width))
        top, left = (height - self.height) // 2, (width - self.width) // 2
        return x[:, :, top : top + self.height, left : left + self.width]
