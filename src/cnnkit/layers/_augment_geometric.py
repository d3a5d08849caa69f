"""Geometric augmentation: flips, translations, rotations, zooms and crops, batched on device.

Each stands for one of the lecture's nuisance transformations that change an image a lot but
not its label; training on randomly transformed copies teaches the network to ignore them.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from cnnkit._fast import _warp
from cnnkit._validation import check_choice, check_number, check_positive_int
from cnnkit.layers._augment_base import (
    RandomImageLayer,
    Transformation,
    factor_range,
)
from cnnkit.layers._image_warp import FILL_MODES, INTERPOLATIONS, affine_warp, flip, translate
from cnnkit.layers._preprocessing import smart_resize
from cnnkit.layers._spatial import from_channels_first, make_shape, to_channels_first

FLIP_MODES = ("horizontal", "vertical", "horizontal_and_vertical")


class RandomFlip(RandomImageLayer):
    """Randomly mirror images left-right and/or top-bottom (viewpoint: a mirrored view).

    Each image is flipped with probability 1/2 per flipped axis, the two axes drawn
    independently (Keras 3 uses one draw for both, so its images are either unchanged or
    turned by 180 degrees). Identity in inference. Input and output (batch, h, w, channels).
    In a Sequential model, a RandomFlip directly followed by a RandomTranslation runs as one
    pass over the batch, with the same draws and the same result as the two layers.

    Args:
        mode: 'horizontal' (left-right), 'vertical' (top-bottom) or 'horizontal_and_vertical'.
        seed: int for a reproducible stream of flips; None draws from PyTorch's generator.
        data_format: 'channels_last' (default) or 'channels_first'.
    """

    def __init__(
        self,
        mode: str = "horizontal_and_vertical",
        seed: int | None = None,
        data_format: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(seed, data_format, **kwargs)
        self.mode = check_choice(mode, "mode", "RandomFlip", choices=FLIP_MODES, lower=False)

    def _draw(self, x: torch.Tensor) -> Transformation:
        flips = self._uniform((x.shape[0], 2), x) < 0.5
        return {
            "horizontal": flips[:, 0] if self.mode != "vertical" else None,
            "vertical": flips[:, 1] if self.mode != "horizontal" else None,
        }

    def _transform(self, x: torch.Tensor, transformation: Transformation) -> torch.Tensor:
        masks = [transformation.get(axis) for axis in ("horizontal", "vertical")]
        masks = [None if mask is None else mask.to(x.device) for mask in masks]
        fast = _warp.try_flip(x, self.data_format, *masks, self._scratch(x))
        if fast is not None:  # the fast path took it
            return fast
        return _on_images(x, self.data_format, flip, *masks)

    def _fused_with(self, following):
        if type(self) is RandomFlip and type(following) is RandomTranslation:
            return _warp.fused_flip_translation(self, following)  # None: the layers one by one
        return None

    def extra_repr(self) -> str:
        return f"name={self.name!r}, mode={self.mode!r}, seed={self.seed}"


def _on_images(x: torch.Tensor, data_format: str, function, *args, **kwargs) -> torch.Tensor:
    """``function(images, *args, **kwargs)`` of (batch, height, width, channels) images, on
    ``x`` in ``data_format`` (channels-first data seen through permuted views)."""
    if data_format == "channels_last":
        return function(x, *args, **kwargs)
    return function(x.permute(0, 2, 3, 1), *args, **kwargs).permute(0, 3, 1, 2)


class _RandomAffine(RandomImageLayer):
    """Shared logic of translation, rotation and zoom: one affine matrix per image, applied to
    the whole batch by a single grid_sample, with Keras' fill modes and interpolations."""

    def __init__(
        self,
        fill_mode: str = "reflect",
        interpolation: str = "bilinear",
        seed: int | None = None,
        fill_value: float = 0.0,
        data_format: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(seed, data_format, **kwargs)
        owner = type(self).__name__
        self.fill_mode = check_choice(fill_mode, "fill_mode", owner, choices=FILL_MODES)
        self.interpolation = check_choice(
            interpolation, "interpolation", owner, choices=INTERPOLATIONS
        )
        self.fill_value = check_number(fill_value, "fill_value", owner, finite=False)

    def _transform(self, x: torch.Tensor, transformation: Transformation) -> torch.Tensor:
        height, width = self._height_width(x)
        matrices = self._matrices(transformation, height, width).to(x.device)
        y = affine_warp(
            to_channels_first(x, self.data_format),
            matrices,
            self.interpolation,
            self.fill_mode,
            self.fill_value,
        )
        # grid_sample writes (N, C, H, W); hand channels-last data back in channels-last memory,
        # as it came: the convolutions after it run their faster channels-last kernels.
        return from_channels_first(y, self.data_format).contiguous()

    def _matrices(self, transformation: Transformation, height: int, width: int) -> torch.Tensor:
        """(batch, 2, 3) matrices mapping output pixels to the input points they sample."""
        raise NotImplementedError

    def extra_repr(self) -> str:
        return (
            f"name={self.name!r}, fill_mode={self.fill_mode!r}, "
            f"interpolation={self.interpolation!r}, seed={self.seed}"
        )


def _rows(*columns: torch.Tensor) -> torch.Tensor:
    """(batch, 2, 3) from six (batch,) tensors a0, a1, a2, b0, b1, b2."""
    return torch.stack(columns, dim=1).view(-1, 2, 3)


class RandomTranslation(_RandomAffine):
    """Randomly shift images (viewpoint change: the object is not always centred).

    Each image moves by a random fraction of its height and width; uncovered pixels are
    filled per ``fill_mode``. Identity in inference. Input and output (batch, h, w, channels).

    Args:
        height_factor: f shifts by up to ±f·height (positive moves down); a pair (a, b) by a
            fraction in [a, b]. Within [-1, 1].
        width_factor: the same for the width (positive moves right).
        fill_mode: 'reflect' (d c b a | a b c d), 'wrap', 'nearest' or 'constant'.
        interpolation: 'bilinear' or 'nearest'.
        seed: int for a reproducible stream of shifts.
        fill_value: value of uncovered pixels with fill_mode='constant'.
        data_format: 'channels_last' (default) or 'channels_first'.
    """

    def __init__(
        self,
        height_factor: float | tuple[float, float],
        width_factor: float | tuple[float, float],
        fill_mode: str = "reflect",
        interpolation: str = "bilinear",
        seed: int | None = None,
        fill_value: float = 0.0,
        data_format: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self._height_range = factor_range(height_factor, "height_factor", "RandomTranslation")
        self._width_range = factor_range(width_factor, "width_factor", "RandomTranslation")
        self.height_factor, self.width_factor = height_factor, width_factor

    def _draw(self, x: torch.Tensor) -> Transformation:
        height, width = self._height_width(x)
        (left, right), (top, bottom) = self._width_range, self._height_range
        low = (left * width, top * height)
        span = ((right - left) * width, (bottom - top) * height)
        u = self._uniform((x.shape[0], 2), x)  # one draw per image and axis: dx, dy
        return {"translations": torch.addcmul(u.new_tensor(low), u, u.new_tensor(span))}

    def _transform(self, x: torch.Tensor, transformation: Transformation) -> torch.Tensor:
        if not x.is_floating_point():  # integer images: the general warp
            return super()._transform(x, transformation)
        shifts = transformation["translations"].to(x.device)
        options = self.shift_options()
        workspace = self._scratch(x)
        fast = _warp.try_translate(x, self.data_format, shifts, **options, workspace=workspace)
        if fast is not None:  # the fast path took it
            return fast
        return _on_images(x, self.data_format, translate, shifts, **options)

    def shift_options(self) -> dict[str, Any]:
        """The keyword arguments of ``translate`` that this layer sets."""
        return dict(
            interpolation=self.interpolation, fill_mode=self.fill_mode, fill_value=self.fill_value
        )

    def _matrices(self, transformation, height, width):
        dx, dy = transformation["translations"].unbind(dim=1)
        one, zero = torch.ones_like(dx), torch.zeros_like(dx)
        return _rows(one, zero, -dx, zero, one, -dy)


class RandomRotation(_RandomAffine):
    """Randomly rotate images about their centre (viewpoint change: a tilted camera or object).

    Identity in inference. Input and output (batch, height, width, channels).

    Args:
        factor: a fraction of a full turn: f rotates by an angle in [-f·360°, f·360°], a pair
            (a, b) by one in [a·360°, b·360°]; positive is counter-clockwise. Within [-1, 1].
        fill_mode: 'reflect' (d c b a | a b c d), 'wrap', 'nearest' or 'constant'.
        interpolation: 'bilinear' or 'nearest'.
        seed: int for a reproducible stream of angles.
        fill_value: value of uncovered pixels with fill_mode='constant'.
        data_format: 'channels_last' (default) or 'channels_first'.
    """

    def __init__(
        self,
        factor: float | tuple[float, float],
        fill_mode: str = "reflect",
        interpolation: str = "bilinear",
        seed: int | None = None,
        fill_value: float = 0.0,
        data_format: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.factor = factor_range(factor, "factor", "RandomRotation")

    def _draw(self, x: torch.Tensor) -> Transformation:
        lower, upper = self.factor
        return {"angle": self._uniform((x.shape[0],), x, lower * 360.0, upper * 360.0)}

    def _matrices(self, transformation, height, width):
        angle = transformation["angle"] * (math.pi / 180.0)
        cos, sin = torch.cos(angle), torch.sin(angle)
        cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
        return _rows(cos, -sin, cx - cx * cos + cy * sin, sin, cos, cy - cx * sin - cy * cos)


class RandomZoom(_RandomAffine):
    """Randomly zoom images in or out about their centre (scale variation: near and far objects).

    Identity in inference. Input and output (batch, height, width, channels).

    Args:
        height_factor: f zooms the height by a factor in [1 - f, 1 + f] of the field of view
            (positive zooms out, negative zooms in); a pair (a, b) by one in [1 + a, 1 + b].
            Within (-1, 1].
        width_factor: the same for the width; None keeps the aspect ratio (same zoom).
        fill_mode: 'reflect' (d c b a | a b c d), 'wrap', 'nearest' or 'constant'.
        interpolation: 'bilinear' or 'nearest'.
        seed: int for a reproducible stream of zooms.
        fill_value: value of uncovered pixels with fill_mode='constant'.
        data_format: 'channels_last' (default) or 'channels_first'.
    """

    def __init__(
        self,
        height_factor: float | tuple[float, float],
        width_factor: float | tuple[float, float] | None = None,
        fill_mode: str = "reflect",
        interpolation: str = "bilinear",
        seed: int | None = None,
        fill_value: float = 0.0,
        data_format: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self._height_range = factor_range(
            height_factor, "height_factor", "RandomZoom", open_low=True
        )
        self._width_range = (
            None
            if width_factor is None
            else factor_range(width_factor, "width_factor", "RandomZoom", open_low=True)
        )
        self.height_factor, self.width_factor = height_factor, width_factor

    def _draw(self, x: torch.Tensor) -> Transformation:
        lower, upper = self._height_range
        height_zoom = self._uniform((x.shape[0],), x, 1.0 + lower, 1.0 + upper)
        if self._width_range is None:
            return {"height_zoom": height_zoom, "width_zoom": height_zoom}
        lower, upper = self._width_range
        return {
            "height_zoom": height_zoom,
            "width_zoom": self._uniform((x.shape[0],), x, 1.0 + lower, 1.0 + upper),
        }

    def _matrices(self, transformation, height, width):
        zx, zy = transformation["width_zoom"], transformation["height_zoom"]
        zero = torch.zeros_like(zx)
        return _rows(
            zx, zero, (width - 1) / 2.0 * (1.0 - zx), zero, zy, (height - 1) / 2.0 * (1.0 - zy)
        )


class RandomCrop(RandomImageLayer):
    """Cut a random (height, width) window from each image (viewpoint and scale: the object
    appears at different places of the frame; occlusion: parts of it are cut off).

    In inference, and for images smaller than the window, the largest centred window of the
    target aspect ratio is resized to (height, width) instead, so the output shape is always
    (batch, height, width, channels) and a model after it builds once. This is what Keras
    documents; Keras 3.15's code returns inference inputs unchanged, draws one window
    position for the whole batch (here: one per image) and centres the window when an image
    is exactly as tall or as wide as it (here: random along the other axis).

    Args:
        height: output height.
        width: output width.
        seed: int for a reproducible stream of crop positions.
        data_format: 'channels_last' (default) or 'channels_first'.
    """

    def __init__(
        self,
        height: int,
        width: int,
        seed: int | None = None,
        data_format: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(seed, data_format, **kwargs)
        self.height = check_positive_int(height, "height", "RandomCrop")
        self.width = check_positive_int(width, "width", "RandomCrop")

    def compute_output_shape(self, input_shape):
        channels = input_shape[3] if self.data_format == "channels_last" else input_shape[1]
        return make_shape(input_shape[0], self.height, self.width, channels, self.data_format)

    def _inference(self, x: torch.Tensor) -> torch.Tensor:
        y = smart_resize(to_channels_first(x, self.data_format), (self.height, self.width))
        return from_channels_first(y, self.data_format)

    def _draw(self, x: torch.Tensor) -> Transformation:
        height, width = self._height_width(x)
        if height < self.height or width < self.width:
            return {"offsets": None}
        room = torch.tensor([height - self.height + 1, width - self.width + 1], device=x.device)
        offsets = (self._uniform((x.shape[0], 2), x) * room).long()
        return {"offsets": torch.minimum(offsets, room - 1)}

    def _transform(self, x: torch.Tensor, transformation: Transformation) -> torch.Tensor:
        offsets = transformation["offsets"]
        if offsets is None:
            return self._inference(x)
        images = x if self.data_format == "channels_last" else x.permute(0, 2, 3, 1)
        offsets = offsets.to(x.device)
        rows = offsets[:, :1] + torch.arange(self.height, device=x.device)
        cols = offsets[:, 1:] + torch.arange(self.width, device=x.device)
        batch = torch.arange(x.shape[0], device=x.device).view(-1, 1, 1)
        crops = images[batch, rows[:, :, None], cols[:, None, :]]
        return crops if self.data_format == "channels_last" else crops.permute(0, 3, 1, 2)

    def extra_repr(self) -> str:
        return f"name={self.name!r}, height={self.height}, width={self.width}, seed={self.seed}"
