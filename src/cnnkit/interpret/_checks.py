"""Checks shared by the error-analysis tools: class probabilities, labels, class names."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from cnnkit._arrays import to_numpy

#: How far a row of probabilities may sum from 1 (float32 softmax outputs drift by ~1e-6).
SUM_TOLERANCE = 1e-3


def check_probabilities(probabilities: Any, name: str, owner: str) -> np.ndarray:
    """(n, classes) float64 class probabilities, each row in [0, 1] and summing to 1."""
    probs = to_numpy(probabilities, name, owner).astype(np.float64)
    if probs.ndim != 2 or probs.shape[1] < 2:
        raise ValueError(
            f"{owner}: {name} must be class probabilities of shape (n, classes) with at least 2 "
            f"classes. Received: shape {probs.shape}"
        )
    if not np.isfinite(probs).all() or probs.min(initial=0) < 0 or probs.max(initial=0) > 1:
        raise ValueError(
            f"{owner}: {name} must hold probabilities in [0, 1]; received values from "
            f"{np.nanmin(probs)} to {np.nanmax(probs)} (apply a softmax to logits first)"
        )
    sums = probs.sum(axis=1)
    worst = int(np.abs(sums - 1).argmax()) if len(sums) else 0
    if len(sums) and abs(sums[worst] - 1) > SUM_TOLERANCE:
        raise ValueError(
            f"{owner}: each row of {name} must sum to 1 (within {SUM_TOLERANCE}); row {worst} "
            f"sums to {sums[worst]:.6g}"
        )
    return probs


def check_labels(y: Any, name: str, owner: str, n: int, n_classes: int) -> np.ndarray:
    """(n,) int64 labels in 0..n_classes-1: integers, (n, 1) columns or one-hot rows."""
    labels = to_numpy(y, name, owner)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    elif labels.ndim == 2 and labels.shape[1] == n_classes:
        labels = labels.argmax(axis=1)
    if labels.ndim != 1:
        raise ValueError(
            f"{owner}: {name} must be class labels of shape (n,) or one-hot rows (n, {n_classes}); "
            f"received shape {labels.shape}"
        )
    if labels.dtype.kind not in "iub" and not (
        labels.dtype.kind == "f" and np.all(np.mod(labels, 1) == 0)
    ):
        raise ValueError(
            f"{owner}: {name} must hold integer class indices; received dtype {labels.dtype}"
        )
    if len(labels) != n:
        raise ValueError(
            f"{owner}: {name} has {len(labels)} labels but there are {n} samples; give one label "
            "per sample"
        )
    if len(labels) and (labels.min() < 0 or labels.max() >= n_classes):
        bad = labels.min() if labels.min() < 0 else labels.max()
        raise ValueError(
            f"{owner}: {name} must be class indices in 0..{n_classes - 1} ({n_classes} classes); "
            f"received {int(bad)}"
        )
    return labels.astype(np.int64)


def check_class_names(names: Any, n_classes: int, owner: str) -> tuple[str, ...] | None:
    """``names`` as a tuple of ``n_classes`` strings, or None."""
    if names is None:
        return None
    if isinstance(names, str) or not isinstance(names, Sequence):
        raise TypeError(
            f"{owner}: class_names must be a list of names, one per class. Received: {names!r}"
        )
    if len(names) != n_classes:
        raise ValueError(
            f"{owner}: class_names has {len(names)} names but there are {n_classes} classes; "
            "give one name per class"
        )
    return tuple(str(name) for name in names)


def check_file_paths(paths: Any, n: int, owner: str) -> tuple[str, ...] | None:
    """``paths`` as a tuple of ``n`` strings, or None."""
    if paths is None:
        return None
    if isinstance(paths, str) or not isinstance(paths, Sequence):
        raise TypeError(
            f"{owner}: file_paths must be a list of paths, one per sample. Received: "
            f"{type(paths).__name__}"
        )
    if len(paths) != n:
        raise ValueError(
            f"{owner}: file_paths has {len(paths)} paths but there are {n} samples; give one "
            "path per sample"
        )
    return tuple(str(path) for path in paths)


def to_probabilities(outputs: Any, from_logits: bool | None, owner: str) -> np.ndarray:
    """A model's (n, classes) outputs as probabilities: softmax of logits.

    ``from_logits=None`` decides from the numbers: rows already in [0, 1] summing to 1 are
    probabilities (a softmax output layer, as cnnkit's classifiers end), anything else logits.
    """
    values = to_numpy(outputs, "model outputs", owner).astype(np.float64)
    if values.ndim != 2 or values.shape[1] < 2:
        raise ValueError(
            f"{owner}: the model must output one score per class, shape (n, classes) with at "
            f"least 2 classes. Received: shape {values.shape}"
        )
    if from_logits is None:
        from_logits = not _look_like_probabilities(values)
    if not from_logits:
        return check_probabilities(values, "model outputs", owner)
    shifted = values - values.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def _look_like_probabilities(values: np.ndarray) -> bool:
    return bool(
        np.isfinite(values).all()
        and values.min(initial=0) >= 0
        and values.max(initial=0) <= 1
        and np.allclose(values.sum(axis=1), 1, atol=SUM_TOLERANCE)
    )
