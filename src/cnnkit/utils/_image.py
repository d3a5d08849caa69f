"""Keras' image file utilities: ``load_img``, ``img_to_array``, ``array_to_img``, ``save_img``.

The same PIL images and arrays as ``keras.utils`` for the same files, read with cnnkit's
protections (regular files only; PNG, JPEG, BMP or GIF matching the file's ending; an error
over ``PIL.Image.MAX_IMAGE_PIXELS``) and written atomically.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from cnnkit._files import atomic_write_bytes
from cnnkit._validation import check_bool, check_choice, check_positive_int
from cnnkit.datasets import open_image

__all__ = ["array_to_img", "img_to_array", "load_img", "save_img"]

DATA_FORMATS = ("channels_last", "channels_first")
INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "hamming", "box", "lanczos")

#: color_mode -> the Pillow modes kept as they are (Keras keeps 16- and 32-bit grayscale).
_KEPT_MODES = {"grayscale": ("L", "I;16", "I"), "rgb": ("RGB",), "rgba": ("RGBA",)}
_CONVERSIONS = {"grayscale": "L", "rgb": "RGB", "rgba": "RGBA"}


def _pil() -> Any:
    try:
        from PIL import Image
    except ImportError as exc:  # pragma: no cover - Pillow is a dependency
        raise ImportError("the image utilities need Pillow: pip install pillow") from exc
    return Image


def load_img(
    path: str | os.PathLike | bytes | io.BytesIO,
    color_mode: str = "rgb",
    target_size: tuple[int, int] | None = None,
    interpolation: str = "nearest",
    keep_aspect_ratio: bool = False,
) -> Any:
    """Read an image file into a PIL image, as ``keras.utils.load_img`` does.

    Args:
        path: The image file (str, path, bytes) or an ``io.BytesIO`` holding one.
        color_mode: 'rgb', 'grayscale' or 'rgba'.
        target_size: ``(height, width)`` to resize to, or None for the file's size.
        interpolation: Pillow's resampling: 'nearest', 'bilinear', 'bicubic', 'hamming',
            'box' or 'lanczos'.
        keep_aspect_ratio: Crop the largest centred box of the target's aspect ratio first,
            so the image is not distorted.

    Returns:
        A ``PIL.Image.Image`` (turn it into an array with :func:`img_to_array`).

    Raises:
        ValueError: A bad argument, or a missing file, or one that is not a PNG, JPEG, BMP
            or GIF image matching its name, or over the pixel limit; the message names it.

    Example:
        >>> image = load_img("cat.jpg", target_size=(180, 180))  # doctest: +SKIP
        >>> batch = img_to_array(image)[None]  # (1, 180, 180, 3) float32
    """
    color_mode = check_choice(
        color_mode, "color_mode", "load_img", choices=_CONVERSIONS, lower=False
    )
    size = _target_size(target_size)
    interpolation = check_choice(interpolation, "interpolation", "load_img", choices=INTERPOLATIONS)
    keep_aspect_ratio = check_bool(keep_aspect_ratio, "keep_aspect_ratio", "load_img")
    source = _source(path)
    with open_image(source) as opened:  # a missing or unreadable file: a ValueError naming it
        opened.seek(0)
        opened.load()
        kept = opened.mode in _KEPT_MODES[color_mode]
        image = opened.copy() if kept else opened.convert(_CONVERSIONS[color_mode])
    if size is None or image.size == (size[1], size[0]):
        return image
    resample = getattr(_pil().Resampling, interpolation.upper())
    box = _centre_crop(image.size, size) if keep_aspect_ratio else None
    return image.resize((size[1], size[0]), resample, box=box)


def _source(path: Any) -> Any:
    """The file name (bytes decoded) or the stream ``open_image`` reads."""
    if isinstance(path, io.BytesIO):
        return path
    if isinstance(path, bytes):
        return os.fsdecode(path)
    if isinstance(path, (str, os.PathLike)) and os.fspath(path):
        return path
    raise TypeError(
        "load_img: path must be a file path (str, pathlib.Path, bytes) or an io.BytesIO. "
        f"Received: path={path!r:.100}"
    )


def _target_size(value: Any) -> tuple[int, int] | None:
    if value is None:
        return None
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError(
            "load_img: target_size must be None or (height, width). "
            f"Received: target_size={value!r}"
        )
    return tuple(check_positive_int(v, "target_size", "load_img") for v in value)


def _centre_crop(image_size: tuple[int, int], size: tuple[int, int]) -> tuple[int, int, int, int]:
    """The largest centred (left, top, right, bottom) box with the aspect ratio of ``size``."""
    width, height = image_size
    target_height, target_width = size
    crop_height = min(height, (width * target_height) // target_width)
    crop_width = min(width, (height * target_width) // target_height)
    top, left = (height - crop_height) // 2, (width - crop_width) // 2
    return (left, top, left + crop_width, top + crop_height)


def img_to_array(img: Any, data_format: str | None = None, dtype: Any = None) -> np.ndarray:
    """A PIL image as a ``(height, width, channels)`` array (``(channels, height, width)``
    with 'channels_first'), float32 unless ``dtype`` says otherwise."""
    data_format = _data_format(data_format, "img_to_array")
    x = np.asarray(img, dtype=dtype or "float32")
    if x.ndim == 2:
        x = x[None] if data_format == "channels_first" else x[..., None]
    elif x.ndim == 3:
        x = x.transpose(2, 0, 1) if data_format == "channels_first" else x
    else:
        raise ValueError(
            "img_to_array: img must be an image of shape (height, width) or "
            f"(height, width, channels). Received: shape {x.shape}"
        )
    return x


def array_to_img(
    x: Any, data_format: str | None = None, scale: bool = True, dtype: Any = None
) -> Any:
    """A ``(height, width, channels)`` array (1, 3 or 4 channels) as a PIL image; ``scale``
    stretches the values to [0, 255] first, as Keras does."""
    data_format = _data_format(data_format, "array_to_img")
    x = np.array(x, dtype=dtype or "float32")  # a copy: scaling works in place
    if x.ndim != 3:
        raise ValueError(
            "array_to_img: x must be one image of rank 3, (height, width, channels). "
            f"Received: shape {x.shape}"
        )
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)
    if x.shape[2] not in (1, 3, 4):
        raise ValueError(
            "array_to_img: the image must have 1, 3 or 4 channels. "
            f"Received: shape {x.shape} ({data_format})"
        )
    if scale:
        x = x - np.min(x)
        if np.max(x) != 0:
            x /= np.max(x)
        x *= 255
    Image = _pil()
    if x.shape[2] == 1:
        if np.max(x) > 255:  # 32-bit grayscale, Pillow's mode "I"
            return Image.fromarray(x[:, :, 0].astype("int32"), "I")
        return Image.fromarray(x[:, :, 0].astype("uint8"), "L")
    return Image.fromarray(x.astype("uint8"), "RGB" if x.shape[2] == 3 else "RGBA")


def save_img(
    path: str | os.PathLike | io.IOBase,
    x: Any,
    data_format: str | None = None,
    file_format: str | None = None,
    scale: bool = True,
) -> None:
    """Write an image array to a file, atomically (a reader never sees half an image).

    Args:
        path: The file to write, or an open binary stream (then give ``file_format``).
        x: The image, as :func:`array_to_img` takes it.
        data_format: 'channels_last' (default) or 'channels_first'.
        file_format: 'png', 'jpeg', ...; by default from the file's ending.
        scale: Stretch the values to [0, 255] first.
    """
    file_format = _file_format(path, file_format)
    image = array_to_img(x, data_format=data_format, scale=scale)
    if image.mode == "RGBA" and file_format == "JPEG":
        warnings.warn(
            "save_img: the JPEG format does not support RGBA images, converting to RGB.",
            stacklevel=2,
        )
        image = image.convert("RGB")
    if isinstance(path, io.IOBase):
        image.save(path, format=file_format)
        return
    encoded = io.BytesIO()
    image.save(encoded, format=file_format)
    atomic_write_bytes(path, encoded.getvalue())


def _file_format(path: Any, file_format: Any) -> str:
    """Pillow's name of the format to write (from the file's ending unless given)."""
    if not isinstance(path, (str, os.PathLike, io.IOBase)) or path == "":
        raise TypeError(
            "save_img: path must be a file path (str, pathlib.Path) or a binary stream. "
            f"Received: path={path!r:.100}"
        )
    if file_format is None and not isinstance(path, io.IOBase):
        file_format = Path(path).suffix[1:]
    if not isinstance(file_format, str):
        raise TypeError(f"save_img: file_format must be a string. Received: {file_format!r}")
    name = {"JPG": "JPEG", "TIF": "TIFF"}.get(file_format.upper(), file_format.upper())
    Image = _pil()
    Image.init()
    if name not in Image.SAVE:
        raise ValueError(
            f"save_img: unknown image file_format {file_format!r} (from path={str(path)!r}); "
            f"give a path ending in .png, .jpg, .bmp..., or file_format='png'"
        )
    return name


def _data_format(value: Any, owner: str) -> str:
    return (
        "channels_last"
        if value is None
        else check_choice(value, "data_format", owner, choices=DATA_FORMATS)
    )
