"""Single images as small embedded PNGs (data URIs), for tables that show one image per row."""

from __future__ import annotations

import base64
import io
import math

import numpy as np
from PIL import Image

from cnnkit.report._html import escape

#: Shortest side of a thumbnail in pixels: tiny images (8x8 digits) are enlarged, pixel by pixel.
THUMBNAIL_SIDE = 64


def as_uint8(image: np.ndarray) -> np.ndarray:
    """One image (h, w[, channels]) as uint8 (h, w) or (h, w, 3) for display: uint8 kept, [0, 1]
    floats times 255, [0, 255] floats kept, anything else stretched from its minimum to maximum."""
    pixels = np.asarray(image)
    if pixels.ndim == 3 and pixels.shape[-1] == 1:
        pixels = pixels[..., 0]
    if pixels.dtype == np.uint8:
        return pixels
    values = pixels.astype(np.float64)
    low, high = float(values.min(initial=0)), float(values.max(initial=0))
    if low >= 0 and high <= 1:
        values = values * 255
    elif low < 0 or high > 255:
        values = (values - low) / (high - low or 1) * 255
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


def thumbnail(image: np.ndarray, alt: str) -> str:
    """An ``<img>`` holding ``image`` as an embedded PNG, enlarged to at least
    ``THUMBNAIL_SIDE`` pixels on its shortest side without blurring."""
    picture = Image.fromarray(as_uint8(image))
    scale = max(1, math.ceil(THUMBNAIL_SIDE / max(1, min(picture.size))))
    if scale > 1:
        picture = picture.resize(
            (picture.width * scale, picture.height * scale), Image.Resampling.NEAREST
        )
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{escape(alt)}">'


def image_table(headers: list[str], rows: list[list[str]]) -> str:
    """A table whose cells are ready-made HTML (thumbnails, escaped text), one row each."""
    head = "".join(f"<th>{escape(header)}</th>" for header in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
