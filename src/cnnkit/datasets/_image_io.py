"""Decode one image file with Pillow into a uint8 ``(h, w, c)`` array.

Only regular files are opened (a FIFO named ``x.png`` would block) and only the four
documented formats are decoded, chosen by content but required to match the file's ending:
Pillow never tries its other decoders (TIFF, or EPS, which would run Ghostscript).  An image
over ``PIL.Image.MAX_IMAGE_PIXELS`` pixels is an error, not a warning.  16-bit grayscale
keeps its high byte, as Pillow reduces 16-bit colour PNGs, instead of being clipped at 255.
"""

from __future__ import annotations

import contextlib
import io
import os
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ._regular_file import RefusedFile, open_regular
from ._resize import resize_images

__all__ = [
    "COLOR_MODES",
    "IMAGE_EXTENSIONS",
    "IMAGE_FORMATS",
    "check_color_mode",
    "load_image",
    "open_image",
]

#: color_mode -> (Pillow mode, channels).
COLOR_MODES: dict[str, tuple[str, int]] = {
    "rgb": ("RGB", 3),
    "grayscale": ("L", 1),
    "rgba": ("RGBA", 4),
}

#: File name endings read as images (case-insensitive), the same list as Keras.
IMAGE_EXTENSIONS: tuple[str, ...] = (".bmp", ".gif", ".jpeg", ".jpg", ".png")

#: The Pillow decoders ever tried (MPO, a camera JPEG, comes out of the JPEG one).
IMAGE_FORMATS: tuple[str, ...] = ("PNG", "JPEG", "BMP", "GIF")

#: File ending -> the formats its content may be.
_FORMATS_BY_EXTENSION: dict[str, tuple[str, ...]] = {
    ".bmp": ("BMP",),
    ".gif": ("GIF",),
    ".jpeg": ("JPEG", "MPO"),
    ".jpg": ("JPEG", "MPO"),
    ".png": ("PNG",),
}


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
        ValueError: The file is not a regular file, not a PNG, JPEG, BMP or GIF matching its
            name, too many pixels, or cannot be decoded; the message names it.
    """
    pil_mode, channels = COLOR_MODES[color_mode]
    with open_image(path) as image:
        image.seek(0)
        image = _to_8_bit(image)
        # convert() to the mode an image already has makes a copy for nothing
        array = np.array(image if image.mode == pil_mode else image.convert(pil_mode), np.uint8)
    array = array.reshape(array.shape[0], array.shape[1], channels)
    if image_size is not None:
        array = resize_images(array[None], image_size, interpolation)[0]
    return array


@contextlib.contextmanager
def open_image(path: str | Path | io.IOBase) -> Iterator[Any]:
    """Open ``path`` with Pillow, safely: a regular file holding PNG, JPEG, BMP or GIF data
    that matches its ending, within ``PIL.Image.MAX_IMAGE_PIXELS``. An open binary stream
    (``io.BytesIO``) is read the same way, without the check of the ending.

    Yields:
        The ``PIL.Image.Image``, not yet decoded; errors while decoding it in the ``with``
        block are reported like the others.

    Raises:
        ImportError: Pillow is not installed.
        ValueError: The file is refused or cannot be decoded; the message names it.
    """
    try:
        from PIL import Image
    except ImportError as exc:
        raise ImportError("reading image files needs Pillow: pip install pillow") from exc
    try:
        source = (
            contextlib.nullcontext(path)
            if isinstance(path, io.IOBase)
            else open_regular(path, "image file")
        )
        with source as stream, quiet_pixel_warnings():
            with Image.open(stream, formats=IMAGE_FORMATS) as image:
                _check_image(image, path)
                yield image
    except RefusedFile:
        raise
    except Image.UnidentifiedImageError as exc:
        raise ValueError(
            f"cannot read image file {path}: it is not a PNG, JPEG, BMP or GIF image "
            "(only these formats are decoded)"
        ) from exc
    except Image.DecompressionBombError as exc:  # over twice the limit: Pillow's own error
        raise ValueError(_over_pixel_limit(path, exc)) from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ValueError(f"cannot read image file {path}: {exc}") from exc


_quiet_already = [False]


@contextlib.contextmanager
def quiet_pixel_warnings() -> Iterator[None]:
    """Silence Pillow's pixel-limit warning: the limit is checked as an error in _check_image.

    Only on the main thread: ``warnings.catch_warnings`` swaps the process-wide filter list
    and is not thread-safe, so a decoding thread (``image_dataset_from_directory``) lets
    the warning show before the ValueError that refuses the image anyway. Nested uses cost
    nothing: wrapped once around many :func:`load_image` calls, it spares each its own
    silencing (about a tenth of decoding a small JPEG).
    """
    if _quiet_already[0] or threading.current_thread() is not threading.main_thread():
        yield
        return
    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        _quiet_already[0] = True
        try:
            yield
        finally:
            _quiet_already[0] = False


def _check_image(image: Any, path: str | Path) -> None:
    """Refuse content that does not match the file's ending, or too many pixels."""
    from PIL import Image

    # os.path, not pathlib: this runs once per image and a Path costs more than the check
    ending = "" if isinstance(path, io.IOBase) else os.path.splitext(os.fspath(path))[1].lower()
    allowed = _FORMATS_BY_EXTENSION.get(ending)
    if allowed is not None and image.format not in allowed:
        raise RefusedFile(
            f"image file {path} holds {image.format} data but its name ends in {ending!r}; "
            f"rename it to match its content"
        )
    width, height = image.size
    if Image.MAX_IMAGE_PIXELS is not None and width * height > Image.MAX_IMAGE_PIXELS:
        raise RefusedFile(_over_pixel_limit(path, f"{width}x{height} = {width * height} pixels"))


def _over_pixel_limit(path: str | Path, found: object) -> str:
    """The message for an image over Pillow's decompression-bomb limit."""
    from PIL import Image

    return (
        f"image file {path} is over the pixel limit of {Image.MAX_IMAGE_PIXELS} "
        f"(PIL.Image.MAX_IMAGE_PIXELS; raise it to read larger images): {found}"
    )


def _to_8_bit(image: Any) -> Any:
    """16-bit grayscale (Pillow modes ``I;16*`` and ``I``) as 8-bit ``L``: the high byte of
    each value, the reduction Pillow applies to 16-bit colour PNGs; other modes unchanged."""
    if not (image.mode.startswith("I;16") or image.mode == "I"):
        return image
    from PIL import Image

    values = np.clip(np.asarray(image, dtype=np.int64), 0, 65535)
    return Image.fromarray((values >> 8).astype(np.uint8))
