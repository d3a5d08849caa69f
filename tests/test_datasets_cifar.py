"""CIFAR binary distribution: record layout, tarball or folder, label modes, damaged input."""

from __future__ import annotations

import io
import tarfile

import numpy as np
import pytest

from cnnkit.datasets import _locate, cifar10, cifar100
from cnnkit.datasets._cifar import parse_records, read_members


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """Point the search at an empty CNNKIT_DATA and an empty cache; no system dirs, no network."""
    monkeypatch.setenv("CNNKIT_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("CNNKIT_DATASETS_URL", "http://127.0.0.1:9")  # discard port: refused
    monkeypatch.setattr(_locate, "SYSTEM_DIRS", ())
    return tmp_path / "data"


def records(images: np.ndarray, labels: np.ndarray) -> bytes:
    """Encode (n, 32, 32, 3) images as CIFAR records: label bytes, then R, G, B planes."""
    planes = images.transpose(0, 3, 1, 2).reshape(len(images), -1)
    return np.concatenate([labels.reshape(len(images), -1), planes], axis=1).tobytes()


def make_tarball(path, members: dict[str, bytes], mode: str = "w:gz") -> None:
    with tarfile.open(path, mode) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def random_split(rng, n, label_bytes, high):
    x = rng.integers(0, 256, size=(n, 32, 32, 3), dtype=np.uint8)
    labels = rng.integers(0, high, size=(n, label_bytes), dtype=np.uint8)
    return x, labels


def test_record_layout_is_label_then_red_green_blue_planes():
    record = bytearray([7]) + bytes([10] * 1024) + bytes([20] * 1024) + bytes([30] * 1024)
    record[1 + 1] = 99  # red plane, row 0, column 1
    record[1 + 1024 + 32] = 77  # green plane, row 1, column 0

    x, labels = parse_records(bytes(record), label_bytes=1, origin="hand-made")

    assert x.shape == (1, 32, 32, 3) and labels.tolist() == [[7]]
    assert x[0, 0, 1].tolist() == [99, 20, 30]
    assert x[0, 1, 0].tolist() == [10, 77, 30]
    assert x[0, 31, 31].tolist() == [10, 20, 30]


def test_partial_record_is_rejected():
    with pytest.raises(
        ValueError, match=r"batch\.bin holds 3074 bytes, not a whole number of 3073"
    ):
        parse_records(bytes(3074), label_bytes=1, origin="batch.bin")


def _cifar10_members(rng):
    parts = [random_split(rng, 3, 1, 10) for _ in range(6)]
    members = {f"cifar-10-batches-bin/data_batch_{i + 1}.bin": records(*parts[i]) for i in range(5)}
    members["cifar-10-batches-bin/test_batch.bin"] = records(*parts[5])
    members["cifar-10-batches-bin/batches.meta.txt"] = "\n".join(cifar10.CLASS_NAMES).encode()
    return parts, members


def _check_cifar10(parts, loaded):
    (x_train, y_train), (x_test, y_test) = loaded
    assert x_train.shape == (15, 32, 32, 3) and y_train.shape == (15, 1)
    assert x_test.shape == (3, 32, 32, 3) and y_test.shape == (3, 1)
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.uint8)}
    np.testing.assert_array_equal(x_train, np.concatenate([p[0] for p in parts[:5]]))
    np.testing.assert_array_equal(y_train, np.concatenate([p[1] for p in parts[:5]]))
    np.testing.assert_array_equal(x_test, parts[5][0])
    np.testing.assert_array_equal(y_test, parts[5][1])


@pytest.mark.parametrize(
    "mode, name", [("w:gz", "cifar-10-binary.tar.gz"), ("w", "cifar-10-binary.tar")]
)
def test_cifar10_from_local_tarball(data_dir, mode, name):
    parts, members = _cifar10_members(np.random.default_rng(1))
    (data_dir / "cifar-10").mkdir(parents=True)
    make_tarball(data_dir / "cifar-10" / name, members, mode)

    _check_cifar10(parts, cifar10.load_data())


def test_cifar10_from_extracted_folder(data_dir):
    parts, members = _cifar10_members(np.random.default_rng(2))
    for name, data in members.items():
        (data_dir / "cifar-10" / name).parent.mkdir(parents=True, exist_ok=True)
        (data_dir / "cifar-10" / name).write_bytes(data)

    _check_cifar10(parts, cifar10.load_data())


def test_cifar100_label_modes_pick_coarse_or_fine_byte(data_dir):
    rng = np.random.default_rng(3)
    x_train, _ = random_split(rng, 4, 2, 20)
    x_test, _ = random_split(rng, 2, 2, 20)
    y_train = np.stack([rng.integers(0, 20, 4), rng.integers(0, 100, 4)], axis=1).astype(np.uint8)
    y_test = np.array([[19, 99], [0, 42]], np.uint8)
    (data_dir / "cifar-100").mkdir(parents=True)
    make_tarball(
        data_dir / "cifar-100" / "cifar-100-binary.tar.gz",
        {
            "cifar-100-binary/train.bin": records(x_train, y_train),
            "cifar-100-binary/test.bin": records(x_test, y_test),
        },
    )

    (xf, yf), (xtf, ytf) = cifar100.load_data()
    (xc, yc), (_, ytc) = cifar100.load_data(label_mode="coarse")

    np.testing.assert_array_equal(xf, x_train)
    np.testing.assert_array_equal(xc, x_train)
    np.testing.assert_array_equal(xtf, x_test)
    np.testing.assert_array_equal(yf, y_train[:, 1:])
    np.testing.assert_array_equal(yc, y_train[:, :1])
    assert ytf.tolist() == [[99], [42]] and ytc.tolist() == [[19], [0]]
    assert len(cifar100.FINE_CLASS_NAMES) == 100 and len(cifar100.COARSE_CLASS_NAMES) == 20
    assert cifar100.CLASS_NAMES[99] == "worm" and cifar100.COARSE_CLASS_NAMES[19] == "vehicles_2"


@pytest.mark.parametrize("label_mode", ["Fine", "superclass", None, ["fine"]])
def test_cifar100_rejects_unknown_label_mode(label_mode):
    with pytest.raises(ValueError, match=r"label_mode must be 'fine' or 'coarse'\. Received"):
        cifar100.load_data(label_mode=label_mode)


def test_python_version_tarball_is_rejected_with_a_hint(data_dir):
    (data_dir / "cifar-10").mkdir(parents=True)
    path = data_dir / "cifar-10" / "cifar-10-binary.tar.gz"
    make_tarball(path, {"cifar-10-batches-py/data_batch_1": b"\x80\x02}q\x00."})
    with pytest.raises(ValueError, match=r"does not contain .*data_batch_1\.bin.*binary"):
        cifar10.load_data()


def test_damaged_tarball_names_the_file(tmp_path):
    path = tmp_path / "cifar-10-binary.tar.gz"
    path.write_bytes(b"\x1f\x8b\x08\x00" + bytes(50))
    with pytest.raises(ValueError, match=r"cifar-10-binary\.tar\.gz is damaged"):
        read_members(path, {"cifar-10-batches-bin/test_batch.bin": 3073})


def test_label_out_of_range_is_rejected(data_dir):
    parts, members = _cifar10_members(np.random.default_rng(4))
    bad = bytearray(members["cifar-10-batches-bin/test_batch.bin"])
    bad[0] = 10
    members["cifar-10-batches-bin/test_batch.bin"] = bytes(bad)
    (data_dir / "cifar-10").mkdir(parents=True)
    make_tarball(data_dir / "cifar-10" / "cifar-10-binary.tar.gz", members)
    with pytest.raises(ValueError, match=r"holds label 10; expected 0\.\.9"):
        cifar10.load_data()
