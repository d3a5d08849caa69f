"""Image ops (Keras' ``ops.image``): resizing batches of images."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from cnnkit.ops._dispatch import op, to_tensor

_MODES = {"bilinear": "bilinear", "nearest": "nearest-exact", "bicubic": "bicubic", "area": "area"}


@op("image.resize")
def resize(
    images: Any,
    size: Any,
    interpolation: str = "bilinear",
    antialias: bool = False,
    crop_to_aspect_ratio: bool = False,
    pad_to_aspect_ratio: bool = False,
    fill_mode: str = "constant",
    fill_value: float = 0.0,
    data_format: Any = None,
) -> torch.Tensor:
    """``images`` ((N,) H, W, C, or channels-first) resized to ``size`` = (height, width)."""
    if interpolation not in _MODES:
        raise ValueError(
            f"ops.image.resize: interpolation must be one of {sorted(_MODES)}. "
            f"Received: interpolation={interpolation!r}"
        )
    if (
        not isinstance(size, (list, tuple))
        or len(size) != 2
        or not all(isinstance(s, int) and s >= 1 for s in size)
    ):
        raise ValueError(
            f"ops.image.resize: size must be (height, width) of positive ints. Received: size={size!r}"
        )
    if crop_to_aspect_ratio or pad_to_aspect_ratio:
        raise ValueError(
            "ops.image.resize: crop_to_aspect_ratio and pad_to_aspect_ratio are not supported; "
            "use cnnkit.layers.Resizing"
        )
    x = to_tensor(images)
    if x.ndim not in (3, 4):
        raise ValueError(
            f"ops.image.resize: images must have rank 3 or 4. Received shape {tuple(x.shape)}"
        )
    single = x.ndim == 3
    x = x[None] if single else x
    last = data_format in (None, "channels_last")
    x = torch.movedim(x, -1, 1) if last else x
    dtype = x.dtype if x.is_floating_point() else torch.float32
    mode = _MODES[interpolation]
    smooth = mode in ("bilinear", "bicubic")
    y = F.interpolate(
        x.to(dtype),
        size=tuple(size),
        mode=mode,
        align_corners=False if smooth else None,
        antialias=antialias and smooth,
    )
    y = torch.movedim(y, 1, -1) if last else y
    return y[0] if single else y
