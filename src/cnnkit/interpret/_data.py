"""The images, labels, file paths and class names of what users analyse: arrays, an image
folder dataset, or the lazy Dataset of ``image_dataset_from_directory``."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from cnnkit._arrays import to_numpy


@dataclass
class Samples:
    """Images held in memory with what is known about them."""

    images: np.ndarray
    targets: np.ndarray | None
    file_paths: Any = None
    class_names: Any = None


def gather(x: Any, y: Any, owner: str) -> Samples:
    """Arrays as given, or every (image, label) of a dataset stacked (which loads it whole:
    the images are needed to show the worst ones)."""
    if isinstance(x, (np.ndarray, torch.Tensor, list, tuple)):
        if y is None:
            raise ValueError(f"{owner}: y is needed with image arrays; received y=None")
        return Samples(to_numpy(x, "x", owner), to_numpy(y, "y", owner))
    if not hasattr(x, "__iter__") and not hasattr(x, "__getitem__"):
        raise TypeError(
            f"{owner}: x must be images (n, height, width, channels) or a dataset of (image, "
            f"label) pairs. Received: {type(x).__name__}"
        )
    if y is not None:
        raise ValueError(f"{owner}: a dataset carries its labels; pass y=None, not y")
    images, labels = _stack(x, owner)
    names = getattr(x, "class_names", None)
    paths = _matching_paths(getattr(x, "file_paths", None), labels, names, owner)
    return Samples(images, labels, paths, None if names is None else list(names))


def _stack(dataset: Any, owner: str) -> tuple[np.ndarray, np.ndarray]:
    """All images and labels of a dataset of (image, label) items or batches."""
    batched = bool(getattr(dataset, "is_batched", False))
    images, labels = [], []
    for element in _items(dataset):
        if not (isinstance(element, (tuple, list)) and len(element) == 2):
            raise ValueError(
                f"{owner}: the dataset must yield (image, label) pairs; received "
                f"{type(element).__name__}"
            )
        image, label = (to_numpy(np.asarray(part), "x", owner) for part in element)
        images.append(image if batched else image[None])
        labels.append(label if batched else np.reshape(label, (1, *np.shape(label))))
    if not images:
        raise ValueError(f"{owner}: the dataset x is empty")
    return np.concatenate(images), np.concatenate(labels)


def _items(dataset: Any):
    if hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__"):
        return (dataset[i] for i in range(len(dataset)))  # a map-style torch Dataset
    return iter(dataset)


def _matching_paths(paths: Any, labels: np.ndarray, names: Any, owner: str) -> Any:
    """The dataset's file paths when they follow the order the samples came in, else None.

    A dataset that reshuffles at every pass yields its files in another order than its
    ``file_paths``: the class folder of each path is compared with the label that came out.
    """
    if paths is None or len(paths) != len(labels):
        return None
    if names is not None and labels.ndim == 1:
        folders = [os.path.basename(os.path.dirname(str(path))) for path in paths]
        expected = [list(names).index(f) if f in names else -1 for f in folders]
        if not np.array_equal(np.asarray(expected), labels.astype(np.int64)):
            warnings.warn(
                f"{owner}: the dataset's file_paths are not in the order its images came out "
                "(a dataset shuffled at every pass?); file paths are left out. Load it with "
                "shuffle=False to keep them",
                stacklevel=3,
            )
            return None
    return list(paths)
