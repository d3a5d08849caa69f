"""One-hot encoding of integer class labels, as ``categorical_crossentropy`` expects them."""

from __future__ import annotations

from typing import Any

import numpy as np

from cnnkit._validation import check_positive_int


def to_categorical(y: Any, num_classes: int | None = None) -> np.ndarray:
    """Turn integer labels of shape (n,) or (n, 1) into a float32 one-hot matrix (n, num_classes).

    Example:
        >>> to_categorical([0, 2], num_classes=3)
        array([[1., 0., 0.],
               [0., 0., 1.]], dtype=float32)
    """
    labels = _as_label_array(y)
    if labels.ndim > 1 and labels.shape[-1] == 1:
        labels = labels.reshape(labels.shape[:-1])
    if labels.size and not np.issubdtype(labels.dtype, np.integer):
        if not np.isfinite(labels).all():
            raise ValueError(
                "to_categorical: y must hold integer class labels; received NaN or infinite values"
            )
        if not np.all(np.mod(labels, 1) == 0):
            raise ValueError(
                "to_categorical: y must hold integer class labels; received fractional values "
                f"(dtype {labels.dtype})"
            )
        labels = labels.astype(np.int64)
    if labels.size and labels.min() < 0:
        raise ValueError(
            f"to_categorical: y must hold class labels >= 0; received a label {int(labels.min())}"
        )
    largest = int(labels.max()) if labels.size else -1
    if num_classes is None:
        num_classes = largest + 1
    else:
        num_classes = check_positive_int(num_classes, "num_classes", "to_categorical")
    if largest >= num_classes:
        raise ValueError(
            f"to_categorical: label {largest} is out of range for num_classes={num_classes} "
            f"(labels must be in 0..{num_classes - 1})"
        )
    one_hot = np.zeros((*labels.shape, int(num_classes)), dtype=np.float32)
    np.put_along_axis(one_hot, labels.astype(np.int64)[..., None], 1.0, axis=-1)
    return one_hot


def _as_label_array(y: Any) -> np.ndarray:
    """``y`` as a NumPy array of real numbers, or a TypeError naming what it holds."""
    if y is None:
        raise TypeError(
            "to_categorical: y must be an array of integer class labels. Received: None"
        )
    try:
        labels = np.asarray(y.cpu() if hasattr(y, "cpu") else y)
    except (TypeError, ValueError) as error:  # ragged nested lists
        raise TypeError(
            f"to_categorical: y must be an array of integer class labels; could not convert "
            f"{type(y).__name__}: {error}"
        ) from None
    if labels.dtype.kind not in "biuf":
        raise TypeError(
            "to_categorical: y must hold integer class labels. "
            f"Received: an array of dtype {labels.dtype}"
        )
    return labels
