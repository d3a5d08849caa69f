"""Read IDX files, the format of MNIST and Fashion-MNIST, gzipped or not.

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of
dimensions), one big-endian uint32 per dimension, then the values in C order.

The header is checked before anything is allocated: a plain file must hold exactly the bytes
it declares, a gzipped one cannot declare more than deflate can inflate from its size, and
a caller may bound each dimension (the official datasets' sizes).  Then at most the declared
bytes plus one are inflated, so a small file never costs gigabytes.
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ._regular_file import open_regular

__all__ = ["HeaderCheck", "read_idx", "read_mnist_style", "load_mnist_style"]

# IDX type code -> NumPy dtype (multi-byte values are big-endian).
_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"
#: Deflate's largest possible expansion (258-byte matches coded in 2 bits): 1032 to 1.
DEFLATE_MAX_RATIO = 1032

#: Called with the header's dtype and shape before the data is read; raises ValueError.
HeaderCheck = Callable[[np.dtype, tuple[int, ...]], None]

#: (images, labels) counts of the official training and test files (MNIST and Fashion-MNIST).
OFFICIAL_COUNTS = (60_000, 10_000)
OFFICIAL_IMAGE_SHAPE = (28, 28)


def read_idx(path: str | Path, check_header: HeaderCheck | None = None) -> np.ndarray:
    """Return the array stored in an IDX file (gzip-compressed or plain, detected by content).

    Args:
        path: The ``*-idx?-ubyte`` file, with or without ``.gz``.
        check_header: Called with ``(dtype, shape)`` from the header before any allocation.

    Returns:
        A writable array with the file's shape and dtype (``uint8`` for MNIST files).

    Raises:
        ValueError: The file is not a regular file or not valid IDX (bad magic, a header
            declaring more or fewer bytes than the file holds, damaged gzip).
    """
    path = Path(path)
    with open_regular(path, "IDX file") as raw:
        file_size = os.fstat(raw.fileno()).st_size
        compressed = raw.read(2) == _GZIP_MAGIC
        raw.seek(0)
        try:
            stream = gzip.GzipFile(fileobj=raw, mode="rb") if compressed else raw
            dtype, shape = _read_header(stream, path)
            if check_header is not None:
                check_header(dtype, shape)
            _check_declared_size(path, dtype, shape, file_size, compressed)
            return _read_payload(stream, path, dtype, shape)
        except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
            raise ValueError(f"IDX file {path} is damaged: {exc}") from exc


def _read_header(f: BinaryIO, path: Path) -> tuple[np.dtype, tuple[int, ...]]:
    """Parse the magic number and dimension sizes."""
    magic = f.read(4)
    if len(magic) < 4 or magic[:2] != b"\0\0" or magic[2] not in _DTYPES:
        raise ValueError(
            f"{path} is not an IDX file: it starts with {magic.hex()!r}, "
            "expected 00 00 <type 08..0e> <ndim>"
        )
    dtype, ndim = _DTYPES[magic[2]], magic[3]
    header = f.read(4 * ndim)
    if len(header) < 4 * ndim:
        raise ValueError(
            f"IDX file {path} is truncated inside its header: {ndim} dimension sizes declared "
            f"({4 * ndim} bytes), {len(header)} bytes present"
        )
    return dtype, struct.unpack(f">{ndim}I", header)


def _check_declared_size(
    path: Path, dtype: np.dtype, shape: tuple[int, ...], file_size: int, compressed: bool
) -> None:
    """Refuse a header whose data size the file cannot hold, before allocating it."""
    header_bytes = 4 + 4 * len(shape)
    data_bytes = math.prod(shape) * dtype.itemsize
    if compressed:
        if header_bytes + data_bytes > file_size * DEFLATE_MAX_RATIO:
            raise ValueError(
                f"IDX file {path}: header field 'dimension sizes' declares shape {shape} "
                f"({data_bytes} data bytes), more than its {file_size}-byte gzip file can "
                f"inflate to (at most {DEFLATE_MAX_RATIO}x); the header is damaged"
            )
        return
    present = file_size - header_bytes
    if present < data_bytes:
        raise ValueError(
            f"IDX file {path} is truncated: header promises shape {shape} "
            f"({data_bytes} data bytes), file holds {present}"
        )
    if present > data_bytes:
        raise ValueError(
            f"IDX file {path} has {present - data_bytes} bytes after the {shape} array its "
            "header declares"
        )


def _read_payload(f: BinaryIO, path: Path, dtype: np.dtype, shape: tuple[int, ...]) -> np.ndarray:
    """Read exactly the declared values, then refuse a single byte more."""
    out = np.empty(shape, dtype=dtype)
    view = memoryview(out.reshape(-1).view(np.uint8))  # flat bytes; also for a 0 in the shape
    filled = 0
    while filled < len(view):
        n = f.readinto(view[filled:])
        if not n:
            raise ValueError(
                f"IDX file {path} is truncated: header promises shape {shape} "
                f"({len(view)} data bytes), file holds {filled}"
            )
        filled += n
    if f.read(1):
        raise ValueError(f"IDX file {path} has bytes after the {shape} array its header declares")
    return out.astype(dtype.newbyteorder("="), copy=False)


def _mnist_header_check(
    path: str | Path, kind: str, max_count: int | None, image_shape: Sequence[int] | None
) -> HeaderCheck:
    """A header check for MNIST-style images (rank 3) or labels (rank 1), all uint8."""
    rank = 3 if kind == "images" else 1
    layout = "(n, rows, cols)" if kind == "images" else "(n,)"

    def check(dtype: np.dtype, shape: tuple[int, ...]) -> None:
        if dtype != np.uint8 or len(shape) != rank:
            raise ValueError(
                f"{path} must hold uint8 {kind} of rank {rank} {layout}; "
                f"it holds {dtype} of shape {shape}"
            )
        if max_count is not None and shape[0] > max_count:
            raise ValueError(
                f"IDX file {path}: header field 'count' declares {shape[0]} {kind}; "
                f"the official file holds {max_count}"
            )
        if image_shape is not None and kind == "images" and shape[1:] != tuple(image_shape):
            raise ValueError(
                f"IDX file {path}: header fields 'rows, cols' declare {shape[1:]}; "
                f"expected {tuple(image_shape)}"
            )

    return check


def read_mnist_style(
    images_path: str | Path,
    labels_path: str | Path,
    num_classes: int = 10,
    *,
    max_count: int | None = None,
    image_shape: Sequence[int] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Read a matching pair of MNIST-style IDX files and check they agree.

    Args:
        images_path, labels_path: The two IDX files.
        num_classes: Labels must lie in ``0..num_classes-1``.
        max_count: Most images (and labels) a header may declare; checked before reading.
        image_shape: ``(rows, cols)`` the images header must declare.

    Returns:
        ``(x, y)``: ``x`` uint8 ``(n, rows, cols)``, ``y`` uint8 ``(n,)`` in ``0..num_classes-1``.

    Raises:
        ValueError: Wrong dtype, rank or size, different counts, or a label out of range.
    """
    x = read_idx(images_path, _mnist_header_check(images_path, "images", max_count, image_shape))
    y = read_idx(labels_path, _mnist_header_check(labels_path, "labels", max_count, None))
    if len(x) != len(y):
        raise ValueError(
            f"{images_path} holds {len(x)} images but {labels_path} holds {len(y)} labels"
        )
    if y.size and int(y.max()) >= num_classes:
        raise ValueError(f"{labels_path} holds label {int(y.max())}; expected 0..{num_classes - 1}")
    return x, y


def load_mnist_style(
    paths: Sequence[Path],
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Read the four official files (train images, labels, test images, labels), bounded by
    the official sizes: 60,000 and 10,000 images of 28x28."""
    train_x, train_y, test_x, test_y = paths
    (train_count, test_count), shape = OFFICIAL_COUNTS, OFFICIAL_IMAGE_SHAPE
    return (
        read_mnist_style(train_x, train_y, max_count=train_count, image_shape=shape),
        read_mnist_style(test_x, test_y, max_count=test_count, image_shape=shape),
    )
