"""Real Fashion-MNIST from Debian's dataset-fashion-mnist package (skipped when not installed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cnnkit.datasets import fashion_mnist

DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")


@pytest.mark.skipif(not DEBIAN_DIR.is_dir(), reason="dataset-fashion-mnist is not installed")
def test_fashion_mnist_from_debian_location(tmp_path, monkeypatch):
    monkeypatch.delenv("CNNKIT_DATA", raising=False)
    monkeypatch.setenv(
        "XDG_CACHE_HOME", str(tmp_path)
    )  # an empty cache cannot shadow Debian's copy
    monkeypatch.setenv("CNNKIT_DATASETS_URL", "http://127.0.0.1:9")  # never download

    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()

    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert y_train.shape == (60000,) and y_test.shape == (10000,)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8
    assert np.bincount(y_train, minlength=10).tolist() == [6000] * 10
    assert np.bincount(y_test, minlength=10).tolist() == [1000] * 10
    assert fashion_mnist.CLASS_NAMES[y_train[0]] == "Ankle boot"  # the dataset's famous first image
    assert x_train.max() == 255 and x_train.min() == 0
    assert list(tmp_path.iterdir()) == []  # nothing was downloaded or cached
