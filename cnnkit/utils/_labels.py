"""One-hot encoding of integer class labels, as ``categorical_crossentropy`` expects them."""

from __future__ import annotations

from typing import Any

import numpy as np


def to_categorical(y: Any, num_classes: int | None = None) -> np.ndarray:
    """Turn integer labels of shape (n,) or (n, 1) into a float32 one-hot matrix (n, num_classes).

    Example:
        >>> to_categorical([0, 2], num_classes=3)
        array([[1., 0., 0.],
               [0., 0., 1.]], dtype=float32)
    """
    labels = np.asarray(y.cpu() if hasattr(y, "cpu") else y)
    if labels.ndim > 1 and labels.shape[-1] == 1:
        labels = labels.reshape(labels.shape[:-1])
    if labels.size and not np.issubdtype(labels.dtype, np.integer):
        if not np.issubdtype(labels.dtype, np.floating) or not np.all(np.mod(labels, 1) == 0):
            raise ValueError(
                f"to_categorical expects integer class labels; received dtype {labels.dtype}"
            )
        labels = labels.astype(np.int64)
    if labels.size and labels.min() < 0:
        raise ValueError(
            f"to_categorical: labels must be >= 0; received a label {int(labels.min())}"
        )
    largest = int(labels.max()) if labels.size else -1
    if num_classes is None:
        num_classes = largest + 1
    elif (
        isinstance(num_classes, bool)
        or not isinstance(num_classes, (int, np.integer))
        or num_classes < 1
    ):
        raise ValueError(
            f"to_categorical: num_classes must be a positive int. Received: num_classes={num_classes!r}"
        )
    elif largest >= num_classes:
        raise ValueError(
            f"to_categorical: label {largest} is out of range for num_classes={num_classes} "
            f"(labels must be in 0..{num_classes - 1})"
        )
    one_hot = np.zeros((*labels.shape, int(num_classes)), dtype=np.float32)
    np.put_along_axis(one_hot, labels.astype(np.int64)[..., None], 1.0, axis=-1)
    return one_hot
