"""Builders of crafted data files for the hostile-file tests: IDX, gzip bombs, CIFAR tarballs."""

from __future__ import annotations

import gzip
import io
import struct
import tarfile
import tracemalloc
from collections.abc import Callable

import numpy as np

_CHUNK = 1 << 20


def idx_header(code: int, shape: tuple[int, ...]) -> bytes:
    """The IDX magic number and dimension sizes for type ``code`` and ``shape``."""
    return bytes([0, 0, code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape)


def idx_bytes(array: np.ndarray) -> bytes:
    """A uint8 array as an IDX file."""
    return idx_header(0x08, array.shape) + array.astype(np.uint8).tobytes()


def zero_bomb(prefix: bytes, zeros: int) -> bytes:
    """A gzip file inflating to ``prefix`` then ``zeros`` zero bytes, built from one compressed
    1 MiB member repeated, so that a gigabyte costs about a megabyte and no time to make."""
    member = gzip.compress(bytes(_CHUNK), compresslevel=9, mtime=0)
    whole, rest = divmod(zeros, _CHUNK)
    return gzip.compress(prefix, mtime=0) + member * whole + gzip.compress(bytes(rest), mtime=0)


def tar_header(name: str, size: int, kind: bytes = tarfile.REGTYPE) -> bytes:
    """One 512-byte ustar header declaring ``size`` bytes, whatever follows it."""
    info = tarfile.TarInfo(name)
    info.size, info.type = size, kind
    return info.tobuf(format=tarfile.USTAR_FORMAT)


def with_declared_size(archive: bytes, header_at: int, size: int) -> bytes:
    """``archive`` with the tar header at ``header_at`` declaring ``size`` bytes, its checksum
    recomputed so that only the size is wrong."""
    header = bytearray(archive[header_at : header_at + tarfile.BLOCKSIZE])
    header[124:136] = f"{size:011o}\0".encode()
    header[148:156] = b" " * 8
    header[148:156] = f"{sum(header):06o}\0 ".encode()
    return archive[:header_at] + bytes(header) + archive[header_at + tarfile.BLOCKSIZE :]


def tar_entry(name: str, data: bytes, declared: int | None = None) -> bytes:
    """A header declaring ``declared`` (default: the true size) bytes, then ``data`` padded to
    whole blocks; entries concatenated form an archive without its end-of-archive blocks."""
    padding = -len(data) % tarfile.BLOCKSIZE
    return tar_header(name, len(data) if declared is None else declared) + data + bytes(padding)


def tarball(members: dict[str, bytes], compress: bool = True) -> bytes:
    """A tar (gzipped by default) holding ``members``."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz" if compress else "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def cifar_records(n: int, label_bytes: int = 1, seed: int = 0) -> bytes:
    """``n`` random CIFAR records with labels below 10."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, size=(n, label_bytes), dtype=np.uint8)
    pixels = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
    return np.concatenate([labels, pixels], axis=1).tobytes()


def peak_bytes(call: Callable[[], object]) -> tuple[int, BaseException | None]:
    """Peak traced memory (NumPy arrays included) while ``call`` runs, and what it raised."""
    tracemalloc.start()
    try:
        call()
        raised = None
    except Exception as exc:  # the callers assert on the exception
        raised = exc
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return peak, raised
