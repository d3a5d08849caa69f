"""Read IDX files, the format of MNIST and Fashion-MNIST, gzipped or not.

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of
dimensions), one big-endian uint32 per dimension, then the values in C order.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

__all__ = ["read_idx", "read_mnist_style"]

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


def read_idx(path: str | Path) -> np.ndarray:
    """Return the array stored in an IDX file (gzip-compressed or plain, detected by content).

    Args:
        path: The ``*-idx?-ubyte`` file, with or without ``.gz``.

    Returns:
        A writable array with the file's shape and dtype (``uint8`` for MNIST files).

    Raises:
        ValueError: The file is not valid IDX (bad magic, truncated, trailing bytes).
    """
    path = Path(path)
    with open(path, "rb") as raw:
        compressed = raw.read(2) == _GZIP_MAGIC
    opener = gzip.open if compressed else open
    try:
        with opener(path, "rb") as f:
            return _read_idx_stream(f, path)
    except (OSError, EOFError) as exc:  # gzip.BadGzipFile is an OSError
        raise ValueError(f"IDX file {path} is damaged: {exc}") from exc


def _read_idx_stream(f, path: Path) -> np.ndarray:
    """Parse header and payload from an open binary stream."""
    magic = f.read(4)
    if len(magic) < 4 or magic[:2] != b"\0\0" or magic[2] not in _DTYPES:
        raise ValueError(
            f"{path} is not an IDX file: it starts with {magic.hex()!r}, "
            "expected 00 00 <type 08..0e> <ndim>"
        )
    dtype, ndim = _DTYPES[magic[2]], magic[3]
    header = f.read(4 * ndim)
    if len(header) < 4 * ndim:
        raise ValueError(f"IDX file {path} is truncated inside its header")
    shape = struct.unpack(f">{ndim}I", header)
    out = np.empty(shape, dtype=dtype)
    view = memoryview(out).cast("B")
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


def read_mnist_style(
    images_path: str | Path, labels_path: str | Path, num_classes: int = 10
) -> tuple[np.ndarray, np.ndarray]:
    """Read a matching pair of MNIST-style IDX files and check they agree.

    Returns:
        ``(x, y)``: ``x`` uint8 ``(n, rows, cols)``, ``y`` uint8 ``(n,)`` in ``0..num_classes-1``.

    Raises:
        ValueError: Wrong dtype or rank, different counts, or a label out of range.
    """
    x, y = read_idx(images_path), read_idx(labels_path)
    if x.dtype != np.uint8 or x.ndim != 3:
        raise ValueError(
            f"{images_path} must hold uint8 images of rank 3 (n, rows, cols); "
            f"it holds {x.dtype} of shape {x.shape}"
        )
    if y.dtype != np.uint8 or y.ndim != 1:
        raise ValueError(
            f"{labels_path} must hold uint8 labels of rank 1 (n,); "
            f"it holds {y.dtype} of shape {y.shape}"
        )
    if len(x) != len(y):
        raise ValueError(
            f"{images_path} holds {len(x)} images but {labels_path} holds {len(y)} labels"
        )
    if y.size and int(y.max()) >= num_classes:
        raise ValueError(f"{labels_path} holds label {int(y.max())}; expected 0..{num_classes - 1}")
    return x, y
