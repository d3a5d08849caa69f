"""Fashion-MNIST (Zalando): 60,000 training and 10,000 test 28x28 grayscale clothing images."""

from __future__ import annotations

import numpy as np

from ._idx import load_mnist_style
from ._obtain import obtain

__all__ = ["CLASS_NAMES", "load_data"]

#: Label ``i`` is the article ``CLASS_NAMES[i]`` (names as in Zalando's README).
CLASS_NAMES: tuple[str, ...] = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


def load_data() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load Fashion-MNIST from a local copy or a verified download, like Keras' loader.

    Local copies of the four IDX files (gzipped or not) are looked for in
    ``$CNNKIT_DATA/fashion-mnist/``, the user cache and ``/usr/share/datasets/fashion-mnist/``
    (where Debian's ``dataset-fashion-mnist`` package puts them); otherwise they are downloaded
    from Zalando's GitHub repository or S3 bucket, checked against SHA-256 and cached.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: x uint8 ``(60000, 28, 28)`` and
        ``(10000, 28, 28)`` with values 0..255; y uint8 ``(60000,)`` and ``(10000,)``, 0..9.

    Raises:
        ValueError: A file is damaged, or declares more than 60,000 / 10,000 images of 28x28.
        FileNotFoundError: No local copy and the download failed; says where to put the files.
    """
    return load_mnist_style(obtain("fashion-mnist"))
