"""Keras' small data helpers: ``split_dataset`` (two parts of arrays, for a validation set)
and ``normalize`` (unit-norm rows)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset, Subset, TensorDataset

from cnnkit import backend


def split_dataset(
    dataset: Any,
    left_size: int | float | None = None,
    right_size: int | float | None = None,
    shuffle: bool = False,
    seed: int | None = None,
) -> tuple[Subset, Subset]:
    """Split arrays (one, or a tuple/list of arrays with one row per sample) or a
    ``torch.utils.data.Dataset`` into two datasets, as Keras does with its torch backend.

    Sizes are a count of samples (int) or a fraction in (0, 1) (float); one of them may be
    None (the rest of the samples). Each part is a ``torch.utils.data.Subset`` whose items
    are tuples of tensors; iterate it, or pass it to ``fit`` (batched by ``batch_size``).
    ``shuffle`` draws the order from ``seed``; with ``shuffle=False`` the order is kept.

    Example:
        >>> train, val = split_dataset((x, y), left_size=0.8)
        >>> model.fit(train, validation_data=val, batch_size=32)
    """
    data = _as_torch_dataset(dataset)
    total = len(data)  # type: ignore[arg-type]
    left, right = _split_sizes(left_size, right_size, total)
    if not isinstance(shuffle, bool):
        raise TypeError(f"split_dataset: shuffle must be True or False. Received: {shuffle!r}")
    if shuffle:
        generator = torch.Generator()
        if seed is None:
            generator.seed()
        else:
            generator.manual_seed(int(seed))
        order = torch.randperm(total, generator=generator).tolist()
    else:
        order = list(range(total))
    return Subset(data, order[:left]), Subset(data, order[left : left + right])


def _as_torch_dataset(dataset: Any) -> Dataset:
    if isinstance(dataset, Dataset):
        return dataset
    arrays = list(dataset) if isinstance(dataset, (tuple, list)) else [dataset]
    if not arrays or not all(isinstance(a, (np.ndarray, torch.Tensor)) for a in arrays):
        raise TypeError(
            "split_dataset: dataset must be a NumPy array, a tuple or list of arrays, or a "
            f"torch.utils.data.Dataset. Received: {type(dataset).__name__}"
        )
    lengths = [len(a) for a in arrays]
    if len(set(lengths)) != 1:
        raise ValueError(
            "split_dataset: the arrays of dataset must have one row per sample, the same "
            f"number each. Received lengths {lengths}"
        )
    return TensorDataset(*(torch.as_tensor(a) for a in arrays))


def _split_sizes(left: Any, right: Any, total: int) -> tuple[int, int]:
    """The sizes in samples, checked as Keras does (each in (0, total), together <= total)."""
    if left is None and right is None:
        raise ValueError(
            "split_dataset: at least one of left_size and right_size must be given. "
            "Received: left_size=None and right_size=None"
        )
    sizes = []
    for name, size in (("left_size", left), ("right_size", right)):
        if size is None:
            sizes.append(None)
        elif isinstance(size, bool) or not isinstance(size, (int, float)):
            raise TypeError(
                f"split_dataset: {name} must be an int, a float or None. Received: {name}={size!r}"
            )
        elif isinstance(size, int) and not 0 < size < total:
            raise ValueError(
                f"split_dataset: {name} must be an int in (0, {total}) or a float in (0, 1). "
                f"Received: {name}={size}"
            )
        elif isinstance(size, float) and not 0 < size < 1:
            raise ValueError(
                f"split_dataset: {name} must be an int in (0, {total}) or a float in (0, 1). "
                f"Received: {name}={size}"
            )
        else:
            sizes.append(round(size * total) if isinstance(size, float) else size)
    left_count = total - sizes[1] if sizes[0] is None else sizes[0]
    right_count = total - left_count if sizes[1] is None else sizes[1]
    if left_count + right_count > total or min(left_count, right_count) == 0:
        raise ValueError(
            f"split_dataset: with {total} samples, left_size={left!r} and right_size={right!r} "
            f"give parts of {left_count} and {right_count}; each must be at least 1 and "
            f"together at most {total}"
        )
    return left_count, right_count


def normalize(x: Any, axis: int = -1, order: int | float = 2) -> Any:
    """``x`` divided by its ``order``-norm along ``axis`` (rows of norm 0 stay 0): a NumPy
    array for a NumPy array, else a tensor, as Keras."""
    if isinstance(x, np.ndarray):
        norm = np.atleast_1d(np.linalg.norm(x, order, axis))
        norm[norm == 0] = 1
        return x / np.expand_dims(norm, axis if axis is not None else -1)
    tensor = x if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x, np.float32))
    norm = torch.linalg.vector_norm(tensor, ord=order, dim=axis, keepdim=True)
    return tensor / norm.clamp_min(backend.epsilon())
