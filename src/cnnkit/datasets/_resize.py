"""Resize uint8 images the way Keras' loaders do by default: bilinear, half-pixel centres.

``'bilinear'`` is ``torch.nn.functional.interpolate(mode='bilinear', align_corners=False,
antialias=False)``, the same sampling as ``tf.image.resize`` (Keras' default for
``image_dataset_from_directory``); ``'nearest'`` is torch's ``'nearest-exact'``, which also
samples at pixel centres.  Results are rounded to the nearest integer and kept in 0..255.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["INTERPOLATIONS", "check_image_size", "check_interpolation", "resize_images"]

_TORCH_MODES = {"bilinear": "bilinear", "nearest": "nearest-exact"}
INTERPOLATIONS: tuple[str, ...] = tuple(_TORCH_MODES)


def _p(owner: str) -> str:
    """``"image_folder: "`` for an owner, so messages name where the input entered."""
    return f"{owner}: " if owner else ""


def check_image_size(image_size: object, owner: str = "") -> tuple[int, int] | None:
    """Return ``image_size`` as ``(height, width)`` (or None) after checking it.

    Raises:
        TypeError: Not None and not a pair of integers.
        ValueError: A side is smaller than 1.
    """
    if image_size is None:
        return None
    if (
        not isinstance(image_size, (tuple, list))
        or len(image_size) != 2
        or not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in image_size)
    ):
        raise TypeError(
            f"{_p(owner)}image_size must be None or a pair of integers (height, width). "
            f"Received: image_size={image_size!r}"
        )
    if min(image_size) < 1:
        raise ValueError(
            f"{_p(owner)}image_size sides must be at least 1. Received: image_size={image_size!r}"
        )
    return int(image_size[0]), int(image_size[1])


def check_interpolation(interpolation: object, owner: str = "") -> str:
    """Return ``interpolation`` if it is one of ``INTERPOLATIONS``, else raise ValueError."""
    if interpolation not in INTERPOLATIONS:
        raise ValueError(
            f"{_p(owner)}interpolation must be one of {', '.join(map(repr, INTERPOLATIONS))}. "
            f"Received: interpolation={interpolation!r}"
        )
    return str(interpolation)


def resize_images(
    images: np.ndarray, size: tuple[int, int], interpolation: str = "bilinear"
) -> np.ndarray:
    """Resize a batch of uint8 images.

    Args:
        images: uint8 ``(n, h, w, c)`` channels-last.
        size: Target ``(height, width)``.
        interpolation: One of ``INTERPOLATIONS``.

    Returns:
        uint8 ``(n, height, width, c)``.
    """
    if images.shape[1:3] == tuple(size):
        return images.copy()
    batch = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float()
    mode = _TORCH_MODES[interpolation]
    extra = {"align_corners": False} if mode == "bilinear" else {}
    with torch.no_grad():
        out = F.interpolate(batch, size=tuple(size), mode=mode, **extra)
    out = out.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1)
    return out.contiguous().numpy()
