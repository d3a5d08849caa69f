"""Local copies are found before any download: CNNKIT_DATA, then the user cache, then the system."""

from __future__ import annotations

import gzip
import os
import struct
from pathlib import Path

import numpy as np
import pytest

from cnnkit.datasets import _locate, mnist

NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte")
NAMES += ("t10k-labels-idx1-ubyte",)


@pytest.fixture
def roots(tmp_path, monkeypatch):
    """Three empty search roots (user data, XDG cache, system) and no network."""
    user, xdg, system = tmp_path / "user", tmp_path / "xdg", tmp_path / "system"
    monkeypatch.setenv("CNNKIT_DATA", str(user))
    monkeypatch.setenv("XDG_CACHE_HOME", str(xdg))
    monkeypatch.setenv("CNNKIT_DATASETS_URL", "http://127.0.0.1:9")
    monkeypatch.setattr(_locate, "SYSTEM_DIRS", (system,))
    return user, xdg / "cnnkit" / "datasets", system


def write_mnist(directory: Path, marker: int, compress: bool = True) -> None:
    """Write tiny MNIST files whose every label is ``marker``, to tell copies apart."""
    directory.mkdir(parents=True, exist_ok=True)
    arrays = [np.zeros((2, 28, 28)), np.full(2, marker), np.zeros((1, 28, 28)), np.full(1, marker)]
    for name, array in zip(NAMES, arrays, strict=True):
        header = bytes([0, 0, 8, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
        data = header + array.astype(np.uint8).tobytes()
        if compress:
            (directory / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (directory / name).write_bytes(data)


def marker_of_loaded_copy() -> int:
    (_, y_train), (_, y_test) = mnist.load_data()
    assert set(y_train) == set(y_test)
    return int(y_train[0])


def test_search_order_is_user_then_cache_then_system(roots):
    user, cache, system = roots
    write_mnist(system / "mnist", 3)
    assert marker_of_loaded_copy() == 3
    write_mnist(cache / "mnist", 2, compress=False)
    assert marker_of_loaded_copy() == 2
    write_mnist(user / "mnist", 1)
    assert marker_of_loaded_copy() == 1


def test_several_user_directories_are_searched_in_order(roots, tmp_path, monkeypatch):
    first, second = tmp_path / "first", tmp_path / "second"
    write_mnist(second / "mnist", 5)
    monkeypatch.setenv("CNNKIT_DATA", os.pathsep.join([str(first), str(second)]))
    assert marker_of_loaded_copy() == 5
    write_mnist(first / "mnist", 4, compress=False)
    assert marker_of_loaded_copy() == 4


def test_gzipped_copy_is_preferred_within_one_directory(roots):
    user, _, _ = roots
    write_mnist(user / "mnist", 7, compress=False)
    write_mnist(user / "mnist", 6, compress=True)
    assert marker_of_loaded_copy() == 6


def test_each_dataset_has_its_own_sub_folder(roots):
    user, _, _ = roots
    write_mnist(user / "fashion-mnist", 8)
    with pytest.raises(FileNotFoundError, match="MNIST is not on this machine"):
        mnist.load_data()


def test_cache_dir_follows_xdg_cache_home(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert _locate.cache_dir() == tmp_path / "cnnkit" / "datasets"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")  # the XDG spec says: ignore it
    assert _locate.cache_dir() == Path.home() / ".cache" / "cnnkit" / "datasets"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert _locate.cache_dir() == Path.home() / ".cache" / "cnnkit" / "datasets"


def test_default_system_dirs_include_debians_location():
    assert Path("/usr/share/datasets") in _locate.SYSTEM_DIRS
