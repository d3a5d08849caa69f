"""IDX parsing (the MNIST / Fashion-MNIST format): round trips and clear errors on bad files."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from cnnkit.datasets._idx import read_idx, read_mnist_style

_TYPE_CODES = {np.dtype(np.uint8): 0x08, np.dtype(">i4"): 0x0C, np.dtype(">f4"): 0x0D}


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode ``array`` as IDX: 00 00 type ndim, big-endian dims, big-endian values."""
    big = array.astype(array.dtype.newbyteorder(">"))
    code = _TYPE_CODES[big.dtype]
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + big.tobytes()


@pytest.mark.parametrize("compress", [False, True])
def test_uint8_images_round_trip_gzipped_or_not(tmp_path, compress):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(7, 28, 28), dtype=np.uint8)
    data = idx_bytes(images)
    path = tmp_path / "images"
    path.write_bytes(gzip.compress(data) if compress else data)

    out = read_idx(path)

    assert out.dtype == np.uint8 and out.shape == (7, 28, 28)
    np.testing.assert_array_equal(out, images)
    assert out.flags.writeable


@pytest.mark.parametrize("dtype", [">i4", ">f4"])
def test_multibyte_values_are_big_endian(tmp_path, dtype):
    values = np.array([[1, -2, 300], [70000, 5, -6]]).astype(dtype)
    path = tmp_path / "values.gz"
    path.write_bytes(gzip.compress(idx_bytes(values)))

    out = read_idx(path)

    np.testing.assert_array_equal(out, values)
    assert out.dtype.isnative


def test_bad_magic_is_rejected(tmp_path):
    path = tmp_path / "bogus"
    path.write_bytes(b"PK\x03\x04" + bytes(100))
    with pytest.raises(ValueError, match=r"not an IDX file: it starts with '504b0304'"):
        read_idx(path)


def test_truncated_payload_is_rejected(tmp_path):
    path = tmp_path / "short.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros((4, 28, 28), np.uint8))[:-10]))
    with pytest.raises(ValueError, match=r"truncated: header promises shape \(4, 28, 28\)"):
        read_idx(path)


def test_trailing_bytes_are_rejected(tmp_path):
    path = tmp_path / "long"
    path.write_bytes(idx_bytes(np.zeros(3, np.uint8)) + b"\x00")
    with pytest.raises(ValueError, match="bytes after"):
        read_idx(path)


def test_damaged_gzip_names_the_file(tmp_path):
    path = tmp_path / "labels.gz"
    labels = np.random.default_rng(0).integers(0, 10, 1000, dtype=np.uint8)
    path.write_bytes(gzip.compress(idx_bytes(labels))[:200])
    with pytest.raises(ValueError, match=r"labels\.gz is damaged"):
        read_idx(path)


def _write_pair(tmp_path, images, labels):
    (tmp_path / "x").write_bytes(idx_bytes(images))
    (tmp_path / "y").write_bytes(idx_bytes(labels))
    return tmp_path / "x", tmp_path / "y"


def test_mnist_pair_checks_counts_and_label_range(tmp_path):
    images = np.zeros((5, 28, 28), np.uint8)
    x_path, y_path = _write_pair(tmp_path, images, np.arange(4, dtype=np.uint8))
    with pytest.raises(ValueError, match="holds 5 images but .* holds 4 labels"):
        read_mnist_style(x_path, y_path)

    x_path, y_path = _write_pair(tmp_path, images, np.array([0, 1, 12, 3, 4], np.uint8))
    with pytest.raises(ValueError, match=r"holds label 12; expected 0\.\.9"):
        read_mnist_style(x_path, y_path)


def test_mnist_pair_rejects_swapped_files(tmp_path):
    x_path, y_path = _write_pair(tmp_path, np.zeros((5, 28, 28), np.uint8), np.zeros(5, np.uint8))
    with pytest.raises(ValueError, match=r"must hold uint8 images of rank 3"):
        read_mnist_style(y_path, x_path)
