"""Fashion-MNIST for the benchmarks: Debian's IDX files, padded to LeNet-5's 32x32 input."""

from __future__ import annotations

import numpy as np

import cnnkit


def lenet_data(train_size: int = 20000) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x_train, y_train, x_test, y_test): float32 images (n, 32, 32, 1) in [0, 1], int labels."""
    (x_train, y_train), (x_test, y_test) = cnnkit.datasets.fashion_mnist.load_data()
    pad = ((0, 0), (2, 2), (2, 2), (0, 0))
    x_train = np.pad(x_train[:train_size, ..., None], pad).astype(np.float32) / 255
    x_test = np.pad(x_test[..., None], pad).astype(np.float32) / 255
    return x_train, y_train[:train_size].astype(np.int64), x_test, y_test.astype(np.int64)
