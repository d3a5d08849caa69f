"""Show any image users hold: grayscale or RGB, uint8 or float, with or without a channel axis."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from matplotlib.axes import Axes

from cnnkit._arrays import to_numpy


def display_images(x: Any, name: str, owner: str) -> np.ndarray:
    """Return images (n, h, w) or (n, h, w, 3) as float in [0, 1], ready for ``imshow``.

    uint8 images are divided by 255; float images already in [0, 1] are kept; values in
    [0, 255] are divided by 255; anything else (e.g. standardised pixels) is rescaled from its
    minimum and maximum. A single channel axis is dropped.
    """
    images = to_numpy(x, name, owner)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if not (images.ndim == 3 or (images.ndim == 4 and images.shape[-1] == 3)):
        hint = ""
        if images.ndim == 4 and images.shape[1] in (1, 3):
            hint = " - these look channels-first; use x.transpose(0, 2, 3, 1)"
        raise ValueError(
            f"{owner}: {name} must be images (n, height, width), (n, height, width, 1) or "
            f"(n, height, width, 3); received shape {images.shape}{hint}"
        )
    return scale_unit(images)


def display_image(x: Any, name: str, owner: str) -> np.ndarray:
    """One image (h, w), (h, w, 1) or (h, w, 3) as float in [0, 1]."""
    image = to_numpy(x, name, owner)
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[-1] not in (1, 3)):
        raise ValueError(
            f"{owner}: {name} must be one image (height, width), (height, width, 1) or "
            f"(height, width, 3); received shape {image.shape}"
        )
    return display_images(image[None], name, owner)[0]


def scale_unit(images: np.ndarray) -> np.ndarray:
    """Map pixel values to [0, 1] by the rules of :func:`display_images`."""
    if images.dtype == np.uint8:
        return images.astype(np.float32) / 255
    values = images.astype(np.float32)
    if values.size == 0:
        return values
    low, high = float(np.nanmin(values)), float(np.nanmax(values))
    if low >= 0 and high <= 1:
        return values
    if low >= 0 and high <= 255:
        return values / 255
    return (values - low) / (high - low) if high > low else np.zeros_like(values)


def show(ax: Axes, image: np.ndarray, title: str | None = None, **imshow: Any) -> None:
    """Draw one [0, 1] image without ticks (grayscale for 2-D images)."""
    if image.ndim == 2:
        imshow.setdefault("cmap", "gray")
        imshow.setdefault("vmin", 0)
        imshow.setdefault("vmax", 1)
    ax.imshow(image, interpolation="nearest", **imshow)
    ax.set_xticks([])
    ax.set_yticks([])
    if title is not None:
        ax.set_title(title, fontsize=8)


def grid_shape(count: int, columns: int) -> tuple[int, int]:
    """Rows and columns of a grid that holds ``count`` tiles at most ``columns`` wide."""
    columns = max(1, min(columns, count))
    return max(1, math.ceil(count / columns)), columns


def tile_axes(container: Any, count: int, columns: int) -> list[Axes]:
    """``count`` axes in a grid on a figure or subfigure; cells beyond ``count`` are removed."""
    rows, columns = grid_shape(count, columns)
    axes = np.atleast_1d(container.subplots(rows, columns, squeeze=False)).reshape(-1)
    for extra in axes[count:]:
        extra.remove()
    return list(axes[:count])


def class_name(names: Any, label: int) -> str:
    """``names[label]`` when names are given, else the label number."""
    if names is not None and 0 <= label < len(names):
        return str(names[label])
    return str(label)
