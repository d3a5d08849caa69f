"""Downloads from a local HTTP server: parsing, caching, checksums, interruptions, progress, errors.

Nothing here touches the internet: a ``http.server`` on 127.0.0.1 serves small files written in
the original formats, and the checksum table is pointed at their SHA-256.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import http.server
import io
import struct
import threading

import numpy as np
import pytest

from cnnkit.datasets import _download, _locate, _registry, cifar10, fashion_mnist, mnist
from cnnkit.datasets._download import DownloadError, download

REFUSED = "http://127.0.0.1:9"  # the discard port: nothing listens, connections are refused


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serve ``server.files``; send half of a file once, then hang up, if it is in ``cut``."""

    def do_GET(self):  # noqa: N802 (http.server's naming)
        server = self.server
        server.requests.append(self.path)
        data = server.files.get(self.path)
        if data is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.path in server.cut:
            server.cut.discard(self.path)
            self.wfile.write(data[: len(data) // 2])
            self.close_connection = True
            return
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    """A threaded HTTP server on 127.0.0.1, shut down after the test."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.files, httpd.cut, httpd.requests = {}, set(), []
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


@pytest.fixture
def env(tmp_path, monkeypatch):
    """Empty search dirs, an empty cache, no system dirs, short timeouts; returns the cache."""
    monkeypatch.setenv("CNNKIT_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("CNNKIT_DATASETS_URL", REFUSED)
    monkeypatch.setattr(_locate, "SYSTEM_DIRS", ())
    monkeypatch.setattr(_download, "TIMEOUT_S", 5.0)
    return tmp_path / "xdg" / "cnnkit" / "datasets"


def idx_gz(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return gzip.compress(header + array.astype(np.uint8).tobytes())


def fake_mnist_files(seed: int) -> dict[str, bytes]:
    """Small train/test IDX files in MNIST's file names."""
    rng = np.random.default_rng(seed)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (12, 28, 28)),
        "train-labels-idx1-ubyte.gz": rng.integers(0, 10, 12),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (4, 28, 28)),
        "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, 4),
    }
    return {name: idx_gz(a) for name, a in arrays.items()}


def register(monkeypatch, key: str, files: dict[str, bytes], base_urls=None) -> None:
    """Make the checksum table expect ``files`` (their real SHA-256) for dataset ``key``."""
    source = _registry.SOURCES[key]
    remote = tuple(
        dataclasses.replace(
            f, size=len(files[f.name]), sha256=hashlib.sha256(files[f.name]).hexdigest()
        )
        for f in source.files
    )
    changes = {"files": remote} if base_urls is None else {"files": remote, "base_urls": base_urls}
    monkeypatch.setitem(_registry.SOURCES, key, dataclasses.replace(source, **changes))


def serve(server, key: str, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        server.files[f"/{key}/{name}"] = data


def cache_files(cache):
    return sorted(p.relative_to(cache).as_posix() for p in cache.rglob("*") if p.is_file())


def test_download_parses_caches_and_is_not_repeated(server, env, monkeypatch, capsys):
    files = fake_mnist_files(0)
    register(monkeypatch, "fashion-mnist", files)
    serve(server, "fashion-mnist", files)
    monkeypatch.setenv("CNNKIT_DATASETS_URL", server.url + "/")

    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()

    expected = np.frombuffer(gzip.decompress(files["train-images-idx3-ubyte.gz"])[16:], np.uint8)
    np.testing.assert_array_equal(x_train.reshape(-1), expected)
    labels = np.frombuffer(gzip.decompress(files["t10k-labels-idx1-ubyte.gz"])[8:], np.uint8)
    np.testing.assert_array_equal(y_test, labels)
    assert x_train.shape == (12, 28, 28) and y_train.shape == (12,) and x_test.shape == (4, 28, 28)
    assert cache_files(env) == sorted(f"fashion-mnist/{n}" for n in files)
    for name, data in files.items():
        assert (env / "fashion-mnist" / name).read_bytes() == data
    assert len(server.requests) == 4

    err = capsys.readouterr().err
    assert f"Downloading {server.url}/fashion-mnist/train-images-idx3-ubyte.gz" in err
    assert "done" in err and "\r" not in err  # stderr is not a TTY under pytest

    fashion_mnist.load_data()
    assert len(server.requests) == 4  # served from the cache


def test_checksum_mismatch_fails_and_leaves_nothing(server, env, monkeypatch):
    files = fake_mnist_files(1)
    register(monkeypatch, "mnist", files)
    tampered = dict(files)
    tampered["train-images-idx3-ubyte.gz"] = fake_mnist_files(2)["train-images-idx3-ubyte.gz"]
    serve(server, "mnist", tampered)
    monkeypatch.setenv("CNNKIT_DATASETS_URL", server.url)

    with pytest.raises(FileNotFoundError, match=r"SHA-256 mismatch \(expected [0-9a-f]{64}, got"):
        mnist.load_data()
    assert cache_files(env) == []


def test_interrupted_download_leaves_no_partial_file_and_retry_works(server, env, monkeypatch):
    files = fake_mnist_files(3)
    register(monkeypatch, "mnist", files)
    serve(server, "mnist", files)
    server.cut.add("/mnist/train-images-idx3-ubyte.gz")
    monkeypatch.setenv("CNNKIT_DATASETS_URL", server.url)

    with pytest.raises(FileNotFoundError, match=r"train-images-idx3-ubyte\.gz: connection"):
        mnist.load_data()
    assert cache_files(env) == []

    (x_train, _), _ = mnist.load_data()
    assert x_train.shape == (12, 28, 28)
    assert cache_files(env) == sorted(f"mnist/{n}" for n in files)


def test_mirrors_are_tried_in_order(server, env, monkeypatch):
    files = fake_mnist_files(4)
    register(monkeypatch, "mnist", files, base_urls=(REFUSED + "/", server.url + "/copy/"))
    for name, data in files.items():
        server.files[f"/copy/{name}"] = data
    monkeypatch.delenv("CNNKIT_DATASETS_URL")

    (x_train, _), _ = mnist.load_data()

    assert x_train.shape == (12, 28, 28)
    assert sorted(server.requests) == sorted(f"/copy/{n}" for n in files)


def test_offline_error_names_files_directories_checksums_and_package(env, tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        fashion_mnist.load_data()
    message = str(info.value)
    source = _registry.SOURCES["fashion-mnist"]
    for remote in source.files:
        assert remote.name in message and remote.sha256 in message and remote.md5 in message
    assert str(tmp_path / "data" / "fashion-mnist") in message
    assert str(env / "fashion-mnist") in message
    assert "sudo apt install dataset-fashion-mnist" in message
    assert "refused" in message.lower()


def test_cifar10_tarball_download(server, env, monkeypatch):
    import tarfile

    rng = np.random.default_rng(5)
    x = rng.integers(0, 256, (6, 3072), dtype=np.uint8)
    labels = rng.integers(0, 10, (6, 1), dtype=np.uint8)
    batch = np.concatenate([labels, x], axis=1)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        names = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]
        for name in names:
            data = batch.tobytes()
            info = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    files = {"cifar-10-binary.tar.gz": buffer.getvalue()}
    register(monkeypatch, "cifar-10", files)
    serve(server, "cifar-10", files)
    monkeypatch.setenv("CNNKIT_DATASETS_URL", server.url)

    (x_train, y_train), (x_test, y_test) = cifar10.load_data()

    assert x_train.shape == (30, 32, 32, 3) and y_train.shape == (30, 1)
    np.testing.assert_array_equal(y_test, labels)
    np.testing.assert_array_equal(x_test[:, :, :, 2].reshape(6, -1), x[:, 2048:])
    assert cache_files(env) == ["cifar-10/cifar-10-binary.tar.gz"]


def test_download_reports_http_errors(server, tmp_path):
    with pytest.raises(DownloadError, match="HTTP 404"):
        download(server.url + "/missing.gz", tmp_path / "missing.gz", "0" * 64)
    assert list(tmp_path.iterdir()) == []


def test_progress_redraws_one_line_on_a_tty_and_prints_tenths_otherwise():
    class Stream(io.StringIO):
        def __init__(self, tty):
            super().__init__()
            self.tty = tty

        def isatty(self):
            return self.tty

    plain = Stream(tty=False)
    progress = _download._Progress("http://host/f.gz", 1000, plain)
    for received in range(0, 1001, 50):
        progress.update(received)
    progress.finish(1000)
    lines = plain.getvalue().splitlines()
    assert "\r" not in plain.getvalue()
    assert [line.split()[1] for line in lines[1:-1]] == [f"{p}%" for p in range(10, 100, 10)]
    assert lines[-1] == "  f.gz: done, 0.0 MB"

    tty = Stream(tty=True)
    progress = _download._Progress("http://host/f.gz", 1000, tty)
    progress.update(500)
    progress.end_line()
    progress.finish(1000)
    assert tty.getvalue().count("\n") == 3 and "\r  f.gz:  50%" in tty.getvalue()
