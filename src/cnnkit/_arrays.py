"""Arrays as users hand them in (NumPy, tensors, nested lists; labels as ints or one-hot
rows) turned into NumPy, with errors naming the argument: shared by inspect, plots, report."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch


def to_numpy(x: Any, name: str, owner: str) -> np.ndarray:
    """Return ``x`` (NumPy array, tensor or nested list) as a NumPy array, or raise naming it."""
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    if isinstance(x, np.ndarray):
        return x
    if isinstance(x, (list, tuple)):
        try:
            array = np.asarray(x)
        except ValueError as exc:
            raise ValueError(
                f"{owner}: {name} must be a rectangular array; received a ragged {type(x).__name__}"
            ) from exc
        if array.dtype != object:
            return array
    raise TypeError(
        f"{owner}: {name} must be a NumPy array or a torch.Tensor. Received: {type(x).__name__}"
    )


def class_labels(y: Any, name: str, owner: str, n: int | None = None) -> np.ndarray:
    """Integer class labels (n,) from integer labels, (n, 1) labels or one-hot / probability rows.

    Args:
        y: labels (n,) or (n, 1) of integers, or (n, classes) one-hot vectors or probabilities
            (the largest entry of each row is the class).
        name: the argument's name, for messages.
        owner: the public function, for messages.
        n: the number of samples ``y`` must have, if known.

    Returns:
        int64 array of shape (n,).
    """
    labels = to_numpy(y, name, owner)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    elif labels.ndim == 2:
        labels = labels.argmax(axis=1)
    if labels.ndim != 1:
        raise ValueError(
            f"{owner}: {name} must be class labels of shape (n,) or one-hot rows (n, classes); "
            f"received shape {labels.shape}"
        )
    if labels.dtype.kind not in "iub":
        if labels.dtype.kind != "f" or not np.all(np.mod(labels, 1) == 0):
            raise ValueError(
                f"{owner}: {name} must hold integer class indices; received dtype {labels.dtype}"
            )
    if labels.size and labels.min() < 0:
        raise ValueError(
            f"{owner}: {name} must be class indices >= 0; received {int(labels.min())}"
        )
    if n is not None and len(labels) != n:
        raise ValueError(
            f"{owner}: {name} has {len(labels)} labels but there are {n} samples; give one label "
            "per sample"
        )
    return labels.astype(np.int64)
