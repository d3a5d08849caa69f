"""Read the CIFAR *binary* distribution (fixed-size records; no pickle is ever loaded).

Each record is ``label_bytes`` label bytes (CIFAR-10: the label; CIFAR-100: coarse then fine)
followed by 3072 pixel bytes: the 1024 red values of the 32x32 image in row-major order, then
the 1024 green, then the 1024 blue.
"""

from __future__ import annotations

import tarfile
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

import numpy as np

__all__ = ["IMAGE_BYTES", "read_members", "parse_records", "load_cifar"]

IMAGE_BYTES = 3 * 32 * 32


def read_members(path: str | Path, names: Sequence[str]) -> dict[str, bytes]:
    """Return the bytes of the named files from a CIFAR tarball or its extracted folder.

    Args:
        path: ``cifar-*-binary.tar.gz`` (or ``.tar``), or the folder it extracts to.
        names: Member paths as in the tarball, e.g. ``'cifar-10-batches-bin/test_batch.bin'``;
            in a folder only the last component is used.

    Raises:
        ValueError: The archive is damaged or lacks one of ``names``.
    """
    path = Path(path)
    if path.is_dir():
        found = {n: (path / PurePosixPath(n).name) for n in names}
        data = {n: p.read_bytes() for n, p in found.items() if p.is_file()}
    else:
        data = _read_tar_members(path, set(names))
    missing = [n for n in names if n not in data]
    if missing:
        raise ValueError(
            f"{path} does not contain {', '.join(missing)}; "
            "expected the CIFAR *binary* version (not the python or matlab one)"
        )
    return data


def _read_tar_members(path: Path, wanted: set[str]) -> dict[str, bytes]:
    """Stream through a (possibly gzipped) tarball once, keeping the wanted regular files."""
    data = {}
    try:
        with tarfile.open(path, "r|*") as tar:
            for member in tar:
                name = member.name.removeprefix("./")
                if name in wanted and member.isfile():
                    data[name] = tar.extractfile(member).read()
    except (tarfile.TarError, OSError, EOFError) as exc:
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
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load a CIFAR binary distribution as Keras does: x ``(n, 32, 32, 3)``, y ``(n, 1)`` uint8.

    Args:
        path: Tarball or extracted folder.
        train: Member names of the training batches, concatenated in this order.
        test: Member name of the test batch.
        label_bytes: Label bytes per record.
        label_column: Which label byte is returned (CIFAR-100: 0 coarse, 1 fine).
        num_classes: Labels must lie in ``0..num_classes-1``.
    """
    members = read_members(path, [*train, test])
    splits = []
    for names in (train, [test]):
        parts = [parse_records(members[n], label_bytes, f"{path}:{n}") for n in names]
        x = np.concatenate([p[0] for p in parts])
        y = np.concatenate([p[1] for p in parts])[:, label_column : label_column + 1]
        if int(y.max()) >= num_classes:
            raise ValueError(f"{path} holds label {int(y.max())}; expected 0..{num_classes - 1}")
        splits.append((x, np.ascontiguousarray(y)))
    return splits[0], splits[1]
