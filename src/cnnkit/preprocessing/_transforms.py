"""Keras 2's ImageDataGenerator transformations on cnnkit's warp: one affine matrix per image
(rotation, shift, shear, zoom about the image centre), then channel shift, flips, brightness.

Conventions (Keras 2's ``apply_transform`` parameters): ``theta`` degrees, positive turns the
picture counter-clockwise as displayed; ``tx``/``ty`` pixels, output pixel (row, col) samples
input (row + ty, col + tx), so a positive ``tx`` moves the content left; ``zx``/``zy`` > 1
zoom out; ``shear`` degrees.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from cnnkit.layers._image_warp import affine_warp


def affine_matrix(params: Mapping[str, Any], height: int, width: int) -> np.ndarray | None:
    """The (2, 3) map from output (col, row, 1) to the input point it samples, or None when
    the parameters move nothing (the image is then left bit for bit as it is)."""
    theta = math.radians(float(params.get("theta", 0) or 0))
    tx, ty = float(params.get("tx", 0) or 0), float(params.get("ty", 0) or 0)
    shear = math.radians(float(params.get("shear", 0) or 0))
    zx, zy = float(params.get("zx", 1)), float(params.get("zy", 1))
    if theta == 0 and tx == 0 and ty == 0 and shear == 0 and zx == 1 and zy == 1:
        return None
    # In (col, row) coordinates with rows pointing down, this rotation turns the displayed
    # picture counter-clockwise for a positive theta.
    rotation = np.array(
        [[math.cos(theta), -math.sin(theta), 0], [math.sin(theta), math.cos(theta), 0], [0, 0, 1]]
    )
    shift = np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]])
    shearing = np.array([[1, -math.sin(shear), 0], [0, math.cos(shear), 0], [0, 0, 1]])
    zoom = np.array([[zx, 0, 0], [0, zy, 0], [0, 0, 1]])
    centre_x, centre_y = (width - 1) / 2, (height - 1) / 2
    to_centre = np.array([[1, 0, -centre_x], [0, 1, -centre_y], [0, 0, 1]])
    back = np.array([[1, 0, centre_x], [0, 1, centre_y], [0, 0, 1]])
    return (back @ rotation @ shift @ shearing @ zoom @ to_centre)[:2]


def draw_transform(
    generator: Any, img_shape: Sequence[int], rng: np.random.RandomState
) -> dict[str, Any]:
    """One image's random parameters for an ImageDataGenerator, from ``rng``, in Keras 2's
    order of draws."""
    height, width = int(img_shape[0]), int(img_shape[1])
    g = generator
    theta = rng.uniform(-g.rotation_range, g.rotation_range) if g.rotation_range else 0
    ty = _shift(g.height_shift_range, height, rng)
    tx = _shift(g.width_shift_range, width, rng)
    shear = rng.uniform(-g.shear_range, g.shear_range) if g.shear_range else 0
    zx, zy = (1, 1) if g.zoom_range == (1.0, 1.0) else rng.uniform(*g.zoom_range, 2)
    flip_horizontal = bool(rng.random_sample() < 0.5) and g.horizontal_flip
    flip_vertical = bool(rng.random_sample() < 0.5) and g.vertical_flip
    channel_shift = None
    if g.channel_shift_range:
        channel_shift = rng.uniform(-g.channel_shift_range, g.channel_shift_range)
    brightness = None if g.brightness_range is None else rng.uniform(*g.brightness_range)
    return {
        "theta": theta,
        "tx": tx,
        "ty": ty,
        "shear": shear,
        "zx": zx,
        "zy": zy,
        "flip_horizontal": flip_horizontal,
        "flip_vertical": flip_vertical,
        "channel_shift_intensity": channel_shift,
        "brightness": brightness,
    }


def _shift(shift_range: Any, size: int, rng: np.random.RandomState) -> float:
    """A shift in pixels: a list's element or an int's whole number (either sign), or a
    uniform float; ranges below 1 are fractions of ``size``."""
    if not shift_range:
        return 0
    if isinstance(shift_range, (tuple, int)):
        shift = rng.choice(shift_range) * rng.choice([-1, 1])
    else:
        shift = rng.uniform(-shift_range, shift_range)
    return float(shift * size) if np.max(shift_range) < 1 else float(shift)


def warp_batch(
    images: np.ndarray, matrices: list[np.ndarray | None], fill_mode: str, cval: float
) -> np.ndarray:
    """Warp the (batch, height, width, channels) images whose matrix is not None, all in one
    call of cnnkit's affine warp (bilinear, Keras 2's interpolation order 1)."""
    moved = [i for i, matrix in enumerate(matrices) if matrix is not None]
    if not moved:
        return images
    out = np.array(images, copy=True)
    chosen = torch.from_numpy(np.ascontiguousarray(images[moved], dtype=np.float32))
    warped = affine_warp(
        chosen.permute(0, 3, 1, 2),
        torch.from_numpy(np.stack([matrices[i] for i in moved]).astype(np.float32)),
        "bilinear",
        fill_mode,
        float(cval),
    )
    out[moved] = warped.permute(0, 2, 3, 1).numpy().astype(images.dtype, copy=False)
    return out


def apply_colour_and_flips(x: np.ndarray, params: Mapping[str, Any]) -> np.ndarray:
    """Channel shift, flips and brightness of one (height, width, channels) image, in Keras 2's
    order (after the affine part)."""
    intensity = params.get("channel_shift_intensity")
    if intensity is not None:
        x = np.clip(x + intensity, np.min(x), np.max(x))  # all channels, the image's own range
    if params.get("flip_horizontal", False):
        x = x[:, ::-1]
    if params.get("flip_vertical", False):
        x = x[::-1]
    brightness = params.get("brightness")
    if brightness is not None:
        x = brighten(x, brightness)
    return np.ascontiguousarray(x)


def brighten(x: np.ndarray, brightness: float) -> np.ndarray:
    """Keras 2's brightness (Pillow's enhancer on 8-bit pixels): values are read as whole
    numbers in [0, 255], multiplied by ``brightness`` and clipped back to [0, 255]."""
    pixels = np.clip(x, 0, 255).astype(np.uint8).astype(np.float64)
    return np.clip(np.floor(pixels * brightness + 0.5), 0, 255).astype(x.dtype)
