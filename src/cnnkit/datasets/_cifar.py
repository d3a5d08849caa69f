"""Read the CIFAR *binary* distribution (fixed-size records; no pickle is ever loaded).

Each record is ``label_bytes`` label bytes (CIFAR-10: the label; CIFAR-100: coarse then fine)
followed by 3072 pixel bytes: the 1024 red values of the 32x32 image in row-major order, then
the 1024 green, then the 1024 blue.

Every batch file is bounded by the size of the official one before it is read: a member
declaring more is refused from its tar header, at most the bounded bytes plus one are read,
and the whole archive may not inflate past the sum of the bounds (plus a little for the
small text files beside the batches), so a small crafted tarball never costs gigabytes.
"""

from __future__ import annotations

import gzip
import os
import tarfile
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import BinaryIO

import numpy as np

from ._regular_file import open_regular

__all__ = ["IMAGE_BYTES", "read_members", "parse_records", "load_cifar"]

IMAGE_BYTES = 3 * 32 * 32
#: Bytes an archive may inflate to beyond its batches (headers, readme, label names).
_OTHER_BYTES = 1 << 20
#: Members an archive may hold (the official ones hold 9 and 5, directories included).
_MAX_MEMBERS = 64
_GZIP_MAGIC = b"\x1f\x8b"


class _ArchiveTooLarge(ValueError):
    """The decompressed archive grew past its bound."""


def read_members(path: str | Path, limits: Mapping[str, int]) -> dict[str, bytes]:
    """Return the bytes of the named files from a CIFAR tarball or its extracted folder.

    Args:
        path: ``cifar-*-binary.tar.gz`` (or ``.tar``), or the folder it extracts to.
        limits: Member path as in the tarball (e.g. ``'cifar-10-batches-bin/test_batch.bin'``)
            -> most bytes it may hold; in a folder only the last component is used.

    Raises:
        ValueError: The archive is damaged, too large, or lacks one of the members; a member
            is larger than its limit or is not a regular file.
    """
    path = Path(path)
    if path.is_dir():
        data = _read_folder_members(path, limits)
    else:
        data = _read_tar_members(path, limits)
    missing = [n for n in limits if n not in data]
    if missing:
        raise ValueError(
            f"{path} does not contain {', '.join(missing)}; "
            "expected the CIFAR *binary* version (not the python or matlab one)"
        )
    return data


def _check_member_size(path: Path, name: str, size: int, limit: int) -> None:
    """Refuse a member declaring more bytes than the official file holds, before reading it."""
    if size > limit:
        raise ValueError(
            f"CIFAR archive {path}: member {name} declares {size} bytes in its size field; "
            f"the official file holds {limit}"
        )


def _read_folder_members(path: Path, limits: Mapping[str, int]) -> dict[str, bytes]:
    """Read the wanted files of an extracted folder, refusing non-regular or oversized ones."""
    data = {}
    for name, limit in limits.items():
        file_path = path / PurePosixPath(name).name
        if not os.path.exists(file_path):
            continue
        with open_regular(file_path, "CIFAR batch file") as f:
            size = os.fstat(f.fileno()).st_size
            _check_member_size(path, name, size, limit)
            data[name] = f.read(size + 1)
        _check_member_size(path, name, len(data[name]), limit)  # grew while being read
    return data


class _BoundedStream:
    """A read-only stream that raises once more than ``limit`` bytes have come out of it."""

    def __init__(self, stream: BinaryIO, limit: int, path: Path) -> None:
        self.stream, self.limit, self.path, self.count = stream, limit, path, 0

    def read(self, size: int = -1) -> bytes:
        """Return up to ``size`` bytes (never more than one past the limit)."""
        room = self.limit + 1 - self.count
        data = self.stream.read(room if size is None or size < 0 else min(size, room))
        self.count += len(data)
        if self.count > self.limit:
            raise _ArchiveTooLarge(
                f"CIFAR archive {self.path} inflates to more than {self.limit} bytes; the "
                "official archive's batches and text files hold less"
            )
        return data


def _read_tar_members(path: Path, limits: Mapping[str, int]) -> dict[str, bytes]:
    """Stream through a (possibly gzipped) tarball once, keeping the wanted regular files."""
    bound = sum(limits.values()) + _OTHER_BYTES
    data, declared = {}, 0
    with open_regular(path, "CIFAR archive") as raw:
        try:
            compressed = raw.read(2) == _GZIP_MAGIC
            raw.seek(0)
            stream = gzip.GzipFile(fileobj=raw, mode="rb") if compressed else raw
            with tarfile.open(fileobj=_BoundedStream(stream, bound, path), mode="r|") as tar:
                for count, member in enumerate(tar, start=1):
                    name = member.name.removeprefix("./")
                    wanted = name in limits and member.isfile()
                    if wanted:
                        _check_member_size(path, name, member.size, limits[name])
                    declared += member.size
                    if count > _MAX_MEMBERS or declared > bound:
                        raise _ArchiveTooLarge(
                            f"CIFAR archive {path} declares {count} members of {declared} "
                            f"bytes so far; the official archive holds fewer than 10 members "
                            f"of at most {bound} bytes"
                        )
                    if wanted:
                        data[name] = tar.extractfile(member).read(member.size)  # <= limit
        except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
            raise ValueError(f"CIFAR archive {path} is damaged or not a tarball: {exc}") from exc
    return data


def parse_records(raw: bytes, label_bytes: int, origin: str) -> tuple[np.ndarray, np.ndarray]:
    """Split binary records into images and label bytes.

    Args:
        raw: Concatenated records.
        label_bytes: Label bytes per record (1 for CIFAR-10, 2 for CIFAR-100).
        origin: Name of the data's file, for error messages.

    Returns:
        ``(x, labels)``: ``x`` uint8 ``(n, 32, 32, 3)`` channels-last, ``labels`` uint8
        ``(n, label_bytes)``.
    """
    record = label_bytes + IMAGE_BYTES
    if not raw or len(raw) % record:
        raise ValueError(
            f"{origin} holds {len(raw)} bytes, not a whole number of {record}-byte records"
        )
    records = np.frombuffer(raw, dtype=np.uint8).reshape(-1, record)
    labels = records[:, :label_bytes].copy()
    planes = records[:, label_bytes:].reshape(-1, 3, 32, 32)
    return np.ascontiguousarray(planes.transpose(0, 2, 3, 1)), labels


def load_cifar(
    path: str | Path,
    train: Sequence[str],
    test: str,
    *,
    label_bytes: int,
    label_column: int,
    num_classes: int,
    train_records: int,
    test_records: int,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load a CIFAR binary distribution as Keras does: x ``(n, 32, 32, 3)``, y ``(n, 1)`` uint8.

    Args:
        path: Tarball or extracted folder.
        train: Member names of the training batches, concatenated in this order.
        test: Member name of the test batch.
        label_bytes: Label bytes per record.
        label_column: Which label byte is returned (CIFAR-100: 0 coarse, 1 fine).
        num_classes: Labels must lie in ``0..num_classes-1``.
        train_records: Records in each official training batch (no member may hold more).
        test_records: Records in the official test batch.
    """
    record = label_bytes + IMAGE_BYTES
    limits = {name: train_records * record for name in train}
    limits[test] = test_records * record
    members = read_members(path, limits)
    splits = []
    for names in (train, [test]):
        parts = [parse_records(members[n], label_bytes, f"{path}:{n}") for n in names]
        x = np.concatenate([p[0] for p in parts])
        y = np.concatenate([p[1] for p in parts])[:, label_column : label_column + 1]
        if int(y.max()) >= num_classes:
            raise ValueError(f"{path} holds label {int(y.max())}; expected 0..{num_classes - 1}")
        splits.append((x, np.ascontiguousarray(y)))
    return splits[0], splits[1]
