"""Uploaded image bytes -> the uint8 ``(h, w, c)`` array a model takes, with cnnkit's file checks.

The bytes go through ``cnnkit.datasets.load_image`` (PNG, JPEG, BMP or GIF only, the pixel
limit checked before decoding, so a decompression bomb is refused) and are resized to the
model's input size bilinearly, as ``cnnkit predict`` reads image files.
"""

from __future__ import annotations

import io

import numpy as np

from cnnkit.datasets import load_image, resize_images

#: Channels a model takes -> the colour mode ``load_image`` converts to.
COLOR_MODES = {1: "grayscale", 3: "rgb", 4: "rgba"}


def model_input_shape(model: object) -> tuple[int, int, int]:
    """(height, width, channels) a model takes, or ValueError for a model not fed images."""
    shape = tuple(getattr(model, "input_shape", None) or ())
    if len(shape) != 4 or any(s is None for s in shape[1:]) or shape[3] not in COLOR_MODES:
        raise ValueError(
            "serving needs an image classifier taking (batch, height, width, channels) inputs "
            f"with 1, 3 or 4 channels. Received: input_shape={shape}"
        )
    return int(shape[1]), int(shape[2]), int(shape[3])


def decode_image(
    data: bytes, model_input: tuple[int, int, int], name: str = "upload"
) -> np.ndarray:
    """``data`` (an image file's bytes) as uint8 ``(h, w, c)`` in the model's size and channels.

    Raises:
        ValueError: The bytes are empty, not a PNG, JPEG, BMP or GIF image, over Pillow's
            pixel limit, or cannot be decoded (a truncated file); the message names ``name``.
    """
    if not data:
        raise ValueError(f"{name} is empty: send the bytes of a PNG, JPEG, BMP or GIF image")
    height, width, channels = model_input
    try:
        image = load_image(io.BytesIO(data), COLOR_MODES[channels])
    except ValueError as exc:
        raise ValueError(_named(str(exc), name)) from exc
    if image.shape[:2] != (height, width):
        image = resize_images(image[None], (height, width))[0]
    return image


def _named(message: str, name: str) -> str:
    """``load_image``'s message with the stream's repr replaced by the upload's name."""
    start = message.find("<_io.BytesIO")
    end = message.find(">", start)
    return message[:start] + name + message[end + 1 :] if start >= 0 and end >= 0 else message
