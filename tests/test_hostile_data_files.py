"""Crafted IDX and CIFAR files: sizes are checked against the file and the official datasets
before anything is allocated or inflated, and pipes are never opened for reading."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import os
import re
import threading

import numpy as np
import pytest
from hostile_files import (
    cifar_records,
    idx_bytes,
    idx_header,
    peak_bytes,
    tar_entry,
    tar_header,
    tarball,
    zero_bomb,
)

from cnnkit.datasets import _locate, cifar10, mnist
from cnnkit.datasets._cifar import read_members
from cnnkit.datasets._download import DownloadError, download
from cnnkit.datasets._idx import read_idx, read_mnist_style

MIB = 1 << 20
BATCH = "cifar-10-batches-bin/test_batch.bin"
CIFAR10_BATCHES = [f"cifar-10-batches-bin/data_batch_{i}.bin" for i in range(1, 6)] + [BATCH]


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """An empty CNNKIT_DATA and cache, no system dirs and no network."""
    monkeypatch.setenv("CNNKIT_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("CNNKIT_DATASETS_URL", "http://127.0.0.1:9")
    monkeypatch.setattr(_locate, "SYSTEM_DIRS", ())
    return tmp_path / "data"


def refused(call, pattern: str, limit: int = 4 * MIB) -> bool:
    """``call`` raises a ValueError matching ``pattern`` with under ``limit`` bytes allocated."""
    peak, raised = peak_bytes(call)
    assert isinstance(raised, ValueError), raised
    assert re.search(pattern, str(raised)), str(raised)
    assert peak < limit, f"{peak} bytes allocated before refusing"
    return True


# ---------------------------------------------------------------------------------- IDX


def test_billion_image_header_with_a_tiny_body_is_refused_before_allocation(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(idx_header(0x08, (10**9, 28, 28)) + bytes(100))
    assert refused(
        lambda: read_idx(path),
        r"train-images-idx3-ubyte is truncated: header promises shape \(1000000000, 28, 28\) "
        r"\(784000000000 data bytes\), file holds 100",
    )


def test_gzip_header_declaring_more_than_deflate_can_hold_is_refused(tmp_path):
    path = tmp_path / "images.gz"
    path.write_bytes(gzip.compress(idx_header(0x08, (10**9, 28, 28)) + bytes(100)))
    size = path.stat().st_size
    assert refused(
        lambda: read_idx(path),
        rf"images\.gz: header field 'dimension sizes' declares shape \(1000000000, 28, 28\) "
        rf"\(784000000000 data bytes\), more than its {size}-byte gzip file can inflate to "
        r"\(at most 1032x\)",
    )


def test_plain_file_with_extra_bytes_is_refused_before_reading(tmp_path):
    path = tmp_path / "labels"
    path.write_bytes(idx_bytes(np.zeros(3, np.uint8)) + bytes(5))
    assert refused(lambda: read_idx(path), r"labels has 5 bytes after the \(3,\) array")


def _write_mnist(folder, **replace: bytes) -> None:
    """Small valid MNIST files in ``folder``, some replaced by crafted bytes."""
    rng = np.random.default_rng(0)
    files = {
        "train-images-idx3-ubyte.gz": gzip.compress(idx_bytes(np.zeros((4, 28, 28)))),
        "train-labels-idx1-ubyte.gz": gzip.compress(idx_bytes(rng.integers(0, 10, 4))),
        "t10k-images-idx3-ubyte.gz": gzip.compress(idx_bytes(np.zeros((2, 28, 28)))),
        "t10k-labels-idx1-ubyte.gz": gzip.compress(idx_bytes(rng.integers(0, 10, 2))),
    }
    files.update({name + ".gz": data for name, data in replace.items()})
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)


def test_gigabyte_gzip_bomb_is_refused_by_the_official_count(data_dir):
    """1.4 million images inflate to 1.1 GB from a 1.1 MB file; MNIST has 60,000."""
    bomb = zero_bomb(idx_header(0x08, (1_400_000, 28, 28)), 1_400_000 * 784)
    assert len(bomb) < 2 * MIB
    _write_mnist(data_dir / "mnist", **{"train-images-idx3-ubyte": bomb})
    assert refused(
        mnist.load_data,
        r"train-images-idx3-ubyte\.gz: header field 'count' declares 1400000 images; "
        r"the official file holds 60000",
    )


def test_labels_count_and_image_size_are_bounded_too(data_dir, tmp_path):
    _write_mnist(
        data_dir / "mnist", **{"t10k-labels-idx1-ubyte": idx_bytes(np.zeros(10_001, np.uint8))}
    )
    with pytest.raises(ValueError, match=r"declares 10001 labels; the official file holds 10000"):
        mnist.load_data()
    (tmp_path / "x").write_bytes(idx_header(0x08, (2, 4000, 4000)) + bytes(100))
    (tmp_path / "y").write_bytes(idx_bytes(np.zeros(2, np.uint8)))
    read = lambda: read_mnist_style(tmp_path / "x", tmp_path / "y", image_shape=(28, 28))  # noqa: E731
    assert refused(read, r"header fields 'rows, cols' declare \(4000, 4000\); expected \(28, 28\)")


def test_bomb_after_the_declared_data_is_refused_after_one_extra_byte(tmp_path):
    path = tmp_path / "labels.gz"
    path.write_bytes(zero_bomb(idx_header(0x08, (10,)) + bytes(10), 1 << 30))
    assert refused(lambda: read_idx(path), r"labels\.gz has bytes after the \(10,\) array")


@pytest.mark.parametrize("compress", [False, True])
def test_a_zero_in_the_shape_gives_an_empty_array(tmp_path, compress):
    """Found by the fuzz test: a zero dimension broke the byte view of the array."""
    data = idx_header(0x08, (0, 28, 28))
    (tmp_path / "empty").write_bytes(gzip.compress(data) if compress else data)
    assert read_idx(tmp_path / "empty").shape == (0, 28, 28)


def test_fifo_named_like_an_idx_file_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "train-images-idx3-ubyte.gz"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match=r"IDX file .*idx3-ubyte\.gz is a FIFO \(named pipe\)"):
        read_idx(fifo)
    with pytest.raises(ValueError, match=r"IDX file .* is a directory"):
        read_idx(tmp_path)


# ---------------------------------------------------------------------------------- CIFAR


def test_member_declaring_a_gigabyte_is_refused_from_its_tar_header(data_dir):
    entries = [tar_entry(name, cifar_records(2)) for name in CIFAR10_BATCHES[:-1]]
    crafted = b"".join(entries) + tar_entry(BATCH, cifar_records(1), declared=10**9)
    (data_dir / "cifar-10").mkdir(parents=True)
    (data_dir / "cifar-10" / "cifar-10-binary.tar.gz").write_bytes(gzip.compress(crafted))
    assert refused(
        cifar10.load_data,
        r"cifar-10-binary\.tar\.gz: member cifar-10-batches-bin/test_batch\.bin declares "
        r"1000000000 bytes in its size field; the official file holds 30730000",
    )


def test_archive_inflating_past_the_official_sizes_is_refused_early(tmp_path):
    """A GNU long-name entry of 1 GiB of zeros (read whole by tarfile) in a 1 MB file."""
    path = tmp_path / "cifar-10-binary.tar.gz"
    path.write_bytes(zero_bomb(tar_header("././@LongLink", 1 << 30, b"L"), 1 << 30))
    limit = 2 * 3073
    assert refused(
        lambda: read_members(path, {BATCH: limit}),
        rf"cifar-10-binary\.tar\.gz inflates to more than {limit + MIB} bytes",
        limit=8 * MIB,
    )


def test_archive_with_too_many_members_is_refused(tmp_path):
    path = tmp_path / "cifar-10-binary.tar"
    path.write_bytes(tarball({f"junk/{i}": b"" for i in range(100)}, compress=False))
    with pytest.raises(ValueError, match=r"declares 65 members of 0 bytes so far"):
        read_members(path, {BATCH: 3073})


def test_extracted_folder_refuses_pipes_and_oversized_batches(tmp_path):
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    os.mkfifo(folder / "test_batch.bin")
    with pytest.raises(ValueError, match=r"CIFAR batch file .*test_batch\.bin is a FIFO"):
        read_members(folder, {BATCH: 3073})
    (folder / "test_batch.bin").unlink()
    with open(folder / "test_batch.bin", "wb") as sparse:
        sparse.truncate(10**9)  # a gigabyte on paper, nothing on disk
    assert refused(
        lambda: read_members(folder, {BATCH: 3073}),
        r"member cifar-10-batches-bin/test_batch\.bin declares 1000000000 bytes in its size "
        r"field; the official file holds 3073",
    )


def test_fifo_named_like_the_tarball_is_refused(tmp_path):
    fifo = tmp_path / "cifar-10-binary.tar.gz"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match=r"CIFAR archive .*\.tar\.gz is a FIFO"):
        read_members(fifo, {BATCH: 3073})


# ------------------------------------------------------------------------------- download


class _EndlessHandler(http.server.BaseHTTPRequestHandler):
    """``/endless``: zeros without a length until the client hangs up (64 MiB at most);
    ``/liar``: announces a terabyte; ``/garbled``: a length that is not a number."""

    def do_GET(self):  # noqa: N802 (http.server's naming)
        self.send_response(200)
        if self.path == "/liar":
            self.send_header("Content-Length", str(10**12))
        elif self.path == "/garbled":
            self.send_header("Content-Length", "twelve")
        self.end_headers()
        try:
            for _ in range(1024 if self.path == "/endless" else 1):
                self.wfile.write(bytes(1 << 16))
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args):
        pass


@pytest.fixture
def endless_server():
    """A local HTTP server whose files never end or lie about their length."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _EndlessHandler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


def test_download_stops_at_the_expected_size(endless_server, tmp_path):
    dest = tmp_path / "cache" / "train-images-idx3-ubyte.gz"
    with pytest.raises(
        DownloadError, match=r"/endless: the server sent more than the expected 1000 "
    ):
        download(f"{endless_server}/endless", dest, "0" * 64, size=1000)
    with pytest.raises(
        DownloadError, match=r"/liar: the server announces more than the expected 1000 bytes"
    ):
        download(f"{endless_server}/liar", dest, "0" * 64, size=1000)
    assert list(dest.parent.iterdir()) == []  # nothing half-written is left


def test_a_garbled_content_length_is_ignored_not_a_crash(endless_server, tmp_path):
    digest = hashlib.sha256(bytes(1 << 16)).hexdigest()
    dest = download(f"{endless_server}/garbled", tmp_path / "f", digest, size=1 << 16)
    assert dest.read_bytes() == bytes(1 << 16)
