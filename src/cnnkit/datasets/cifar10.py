"""CIFAR-10: 50,000 training and 10,000 test 32x32 colour images in 10 classes."""

from __future__ import annotations

import numpy as np

from ._cifar import load_cifar
from ._obtain import obtain

__all__ = ["CLASS_NAMES", "load_data"]

#: Label ``i`` is ``CLASS_NAMES[i]`` (the order of ``batches.meta.txt``).
CLASS_NAMES: tuple[str, ...] = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)

_FOLDER = "cifar-10-batches-bin"


def load_data() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load CIFAR-10 from its binary distribution, with the shapes of ``keras.datasets.cifar10``.

    A local ``cifar-10-binary.tar.gz`` (or ``.tar``, or the extracted ``cifar-10-batches-bin``
    folder) is looked for in ``$CNNKIT_DATA/cifar-10/``, the user cache and
    ``/usr/share/datasets/cifar-10/``; otherwise the 170 MB tarball is downloaded from
    https://www.cs.toronto.edu/~kriz/, checked against SHA-256 and cached.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: x uint8 ``(50000, 32, 32, 3)`` and
        ``(10000, 32, 32, 3)`` channels-last RGB; y uint8 ``(50000, 1)`` and ``(10000, 1)``,
        values 0..9.

    Raises:
        ValueError: The archive is damaged, or a batch is larger than the official one
            (10,000 records of 3,073 bytes).
        FileNotFoundError: No local copy and the download failed; says where to put the file.
    """
    (path,) = obtain("cifar-10")
    return load_cifar(
        path,
        [f"{_FOLDER}/data_batch_{i}.bin" for i in range(1, 6)],
        f"{_FOLDER}/test_batch.bin",
        label_bytes=1,
        label_column=0,
        num_classes=10,
        train_records=10_000,
        test_records=10_000,
    )
