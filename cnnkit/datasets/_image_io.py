"""Decode one image file with Pillow into a uint8 ``(h, w, c)`` array."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._resize import resize_images

__all__ = ["COLOR_MODES", "IMAGE_EXTENSIONS", "check_color_mode", "load_image"]

#: color_mode -> (Pillow mode, channels).
COLOR_MODES: dict[str, tuple[str, int]] = {
    "rgb": ("RGB", 3),
    "grayscale": ("L", 1),
    "rgba": ("RGBA", 4),
}

#: File name endings read as images (case-insensitive), the same list as Keras.
IMAGE_EXTENSIONS: tuple[str, ...] = (".bmp", ".gif", ".jpeg", ".jpg", ".png")


def _p(owner: str) -> str:
    """``"image_folder: "`` for an owner, so messages name where the input entered."""
    return f"{owner}: " if owner else ""


def check_color_mode(color_mode: object, owner: str = "") -> int:
    """Return the channel count of ``color_mode``, or raise ValueError naming the choices."""
    if color_mode not in COLOR_MODES:
        raise ValueError(
            f"{_p(owner)}color_mode must be one of {', '.join(map(repr, COLOR_MODES))}. "
            f"Received: color_mode={color_mode!r}"
        )
    return COLOR_MODES[color_mode][1]


def load_image(
    path: str | Path,
    color_mode: str = "rgb",
    image_size: tuple[int, int] | None = None,
    interpolation: str = "bilinear",
) -> np.ndarray:
    """Read an image file as uint8 ``(h, w, c)``, converted to ``color_mode`` and resized.

    Animated GIFs give their first frame.  EXIF orientation is not applied (as in Keras).

    Raises:
        ImportError: Pillow is not installed.
        ValueError: The file cannot be decoded as an image; the message names it.
    """
    try:
        from PIL import Image
    except ImportError as exc:
        raise ImportError("reading image files needs Pillow: pip install pillow") from exc
    pil_mode, channels = COLOR_MODES[color_mode]
    try:
        with Image.open(path) as image:
            image.seek(0)
            array = np.array(image.convert(pil_mode), dtype=np.uint8)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ValueError(f"cannot read image file {path}: {exc}") from exc
    array = array.reshape(array.shape[0], array.shape[1], channels)
    if image_size is not None:
        array = resize_images(array[None], image_size, interpolation)[0]
    return array
