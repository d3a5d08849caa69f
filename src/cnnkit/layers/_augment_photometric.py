"""Photometric augmentation: brightness, contrast and erased patches, batched on device.

Illumination changes and occlusion alter every pixel value or hide part of the object
without changing what the image shows; random copies teach the network to ignore them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from cnnkit._validation import check_number
from cnnkit.layers._augment_base import (
    RandomImageLayer,
    Transformation,
    check_value_range,
    factor_range,
)


class _RandomColor(RandomImageLayer):
    """Shared logic of brightness and contrast: a value range to clip to, one factor per image."""

    def __init__(
        self,
        factor: float | tuple[float, float],
        value_range: tuple[float, float] = (0, 255),
        seed: int | None = None,
        data_format: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(seed, data_format, **kwargs)
        self.value_range = check_value_range(value_range, type(self).__name__)

    def _clip(self, x: torch.Tensor) -> torch.Tensor:
        return torch.clamp(x, *self.value_range)

    def extra_repr(self) -> str:
        return (
            f"name={self.name!r}, factor={self.factor}, value_range={self.value_range}, "
            f"seed={self.seed}"
        )


class RandomBrightness(_RandomColor):
    """Randomly brighten or darken images (illumination change: the same scene in other light).

    Each image gets a random offset ``delta * (high - low)`` added to every pixel, then values
    are clipped to ``value_range``. Identity in inference. Input and output (batch, h, w, c).

    Args:
        factor: f draws delta in [-f, f]; a pair (a, b) in [a, b]. Within [-1, 1]: -1 makes
            the image black, +1 white.
        value_range: (low, high) of the input values, e.g. (0, 1) after Rescaling(1 / 255).
        seed: int for a reproducible stream of offsets.
        data_format: 'channels_last' (default) or 'channels_first'.
    """

    def __init__(
        self,
        factor: float | tuple[float, float],
        value_range: tuple[float, float] = (0, 255),
        seed: int | None = None,
        data_format: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(factor, value_range, seed, data_format, **kwargs)
        self.factor = factor_range(factor, "factor", "RandomBrightness")

    def _draw(self, x: torch.Tensor) -> Transformation:
        low, high = self.value_range
        delta = self._uniform((x.shape[0],), x, *self.factor)
        return {"rgb_delta": delta * (high - low)}

    def _transform(self, x: torch.Tensor, transformation: Transformation) -> torch.Tensor:
        delta = transformation["rgb_delta"].to(device=x.device, dtype=x.dtype)
        return self._clip(x + delta.view(-1, 1, 1, 1))


class RandomContrast(_RandomColor):
    """Randomly raise or lower image contrast (illumination change: flat or harsh lighting).

    Each channel of each image becomes ``(x - mean) * c + mean`` with its own mean over the
    pixels and one random c per image, then is clipped to ``value_range``. Identity in
    inference. Input and output (batch, height, width, channels).

    Args:
        factor: f draws c in [1 - f, 1 + f] (as Keras documents; Keras 3.15's code draws
            in [1, 1 + f]); a pair (a, b) draws c in [1 - a, 1 + b]. Within [0, 1].
        value_range: (low, high) of the input values, e.g. (0, 1) after Rescaling(1 / 255).
        seed: int for a reproducible stream of contrast factors.
        data_format: 'channels_last' (default) or 'channels_first'.
    """

    def __init__(
        self,
        factor: float | tuple[float, float],
        value_range: tuple[float, float] = (0, 255),
        seed: int | None = None,
        data_format: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(factor, value_range, seed, data_format, **kwargs)
        lower, upper = factor_range(factor, "factor", "RandomContrast", (0.0, 1.0))
        self.factor = (upper, upper) if isinstance(factor, (int, float)) else (lower, upper)

    def _draw(self, x: torch.Tensor) -> Transformation:
        lower, upper = self.factor
        return {"contrast_factor": self._uniform((x.shape[0],), x, 1.0 - lower, 1.0 + upper)}

    def _transform(self, x: torch.Tensor, transformation: Transformation) -> torch.Tensor:
        factor = transformation["contrast_factor"].to(device=x.device, dtype=x.dtype)
        spatial = (1, 2) if self.data_format == "channels_last" else (2, 3)
        mean = x.mean(dim=spatial, keepdim=True)
        return self._clip((x - mean) * factor.view(-1, 1, 1, 1) + mean)


class RandomErasing(RandomImageLayer):
    """Randomly blank out a rectangle of each image (occlusion: part of the object is hidden).

    An image is erased with a probability drawn in ``factor``; the patch spans a fraction
    sqrt(s) of the width and sqrt(s') of the height, s and s' drawn in ``scale``, at a random
    place. Identity in inference. Input and output (batch, height, width, channels).

    Args:
        factor: f draws the erasing probability in [0, f]; a pair (a, b) in [a, b]. Within
            [0, 1].
        scale: (a, b) range of s and s' above, within [0, 1].
        fill_value: the patch's value: a number, one number per channel, or None for Gaussian
            noise ``N(0, 1) * high`` clipped to ``value_range``.
        value_range: (low, high) of the input values.
        seed: int for a reproducible stream of patches.
        data_format: 'channels_last' (default) or 'channels_first'.
    """

    def __init__(
        self,
        factor: float | tuple[float, float] = 1.0,
        scale: tuple[float, float] = (0.02, 0.33),
        fill_value: float | Sequence[float] | None = None,
        value_range: tuple[float, float] = (0, 255),
        seed: int | None = None,
        data_format: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(seed, data_format, **kwargs)
        owner = "RandomErasing"
        self.factor = factor_range(factor, "factor", owner, (0.0, 1.0))
        self.scale = factor_range(scale, "scale", owner, (0.0, 1.0))
        self.fill_value = _check_fill_value(fill_value)
        self.value_range = check_value_range(value_range, owner)

    def _draw(self, x: torch.Tensor) -> Transformation:
        n = x.shape[0]
        height, width = self._height_width(x)
        sizes = torch.sqrt(self._uniform((n, 2), x, *self.scale))
        lengths = sizes * torch.tensor([width, height], device=x.device)
        starts = self._uniform((n, 2), x) * (
            torch.tensor([width, height], device=x.device) - lengths
        )
        probability = self._uniform((n,), x, *self.factor)
        apply = self._uniform((n,), x) < probability
        if self.fill_value is None:
            noise = self._normal(tuple(x.shape), x) * self.value_range[1]
            fill: Any = torch.clamp(noise, *self.value_range)
        else:
            fill = self.fill_value
        return {
            "apply_erasing": apply,
            "boxes": torch.cat([starts, starts + lengths], 1),
            "fill_value": fill,
        }

    def _transform(self, x: torch.Tensor, transformation: Transformation) -> torch.Tensor:
        height, width = self._height_width(x)
        boxes = transformation["boxes"].to(device=x.device, dtype=x.dtype)
        x0, y0, x1, y1 = (boxes[:, i].view(-1, 1, 1) for i in range(4))
        cols = torch.arange(width, device=x.device, dtype=x.dtype).view(1, 1, -1)
        rows = torch.arange(height, device=x.device, dtype=x.dtype).view(1, -1, 1)
        inside = (cols >= x0) & (cols < x1) & (rows >= y0) & (rows < y1)
        inside &= transformation["apply_erasing"].to(x.device).view(-1, 1, 1)
        inside = inside.unsqueeze(3 if self.data_format == "channels_last" else 1)
        return torch.where(inside, self._fill(transformation["fill_value"], x), x)

    def _fill(self, fill: Any, x: torch.Tensor) -> torch.Tensor:
        if isinstance(fill, torch.Tensor):
            return fill.to(device=x.device, dtype=x.dtype)
        channels = x.shape[3 if self.data_format == "channels_last" else 1]
        if isinstance(fill, list) and len(fill) not in (1, channels):
            raise ValueError(
                f"{self._owner()}: fill_value has {len(fill)} values but the images have "
                f"{channels} channels. Received: fill_value={fill!r}"
            )
        fill_tensor = torch.clamp(
            torch.as_tensor(fill, dtype=x.dtype, device=x.device), *self.value_range
        )
        if fill_tensor.ndim and self.data_format == "channels_first":
            return fill_tensor.view(-1, 1, 1)
        return fill_tensor

    def extra_repr(self) -> str:
        return f"name={self.name!r}, factor={self.factor}, scale={self.scale}, seed={self.seed}"


def _check_fill_value(value: Any) -> float | list[float] | None:
    if value is None:
        return None
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [check_number(v, "fill_value", "RandomErasing", finite=False) for v in value]
    return check_number(value, "fill_value", "RandomErasing", finite=False)
