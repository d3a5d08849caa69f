"""Turn what users pass to fit/evaluate/predict (arrays, tensors, Datasets, DataLoaders) into
batches on the model's device, checking it once where it enters."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

Batch = tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]


class ArrayData:
    """In-memory samples held as tensors on the device, batched by slicing or by a permutation.

    Images are converted to float32 once, not per batch; shuffling gathers each batch with one
    ``index_select`` per tensor.
    """

    def __init__(
        self,
        x: torch.Tensor,
        y: torch.Tensor | None = None,
        sample_weight: torch.Tensor | None = None,
    ):
        self.x, self.y, self.sample_weight = x, y, sample_weight

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def steps(self, batch_size: int) -> int:
        """Number of batches of ``batch_size`` (the last one may be smaller)."""
        return math.ceil(len(self) / batch_size)

    def batches(
        self,
        batch_size: int,
        shuffle: bool = False,
        generator: torch.Generator | None = None,
        shard: tuple[int, int] = (0, 1),
    ) -> Iterator[Batch]:
        """Yield (x, y, sample_weight) batches of ``batch_size`` samples (the global batch).

        ``shuffle`` draws the order from ``generator`` (torch's global RNG if None). With
        ``shard=(rank, size)`` each process gets its contiguous part of every global batch, so
        the processes together see exactly what one process would.
        """
        n = len(self)
        rank, size = shard
        order = torch.randperm(n, generator=generator).to(self.x.device) if shuffle else None
        for start in range(0, n, batch_size):
            stop = min(start + batch_size, n)
            if size > 1:
                per_rank = -(-(stop - start) // size)
                start, stop = (
                    min(start + rank * per_rank, stop),
                    min(start + (rank + 1) * per_rank, stop),
                )
            if order is None:
                yield tuple(
                    t[start:stop] if t is not None else None
                    for t in (self.x, self.y, self.sample_weight)
                )  # type: ignore[misc]
            else:
                index = order[start:stop]
                yield tuple(
                    t.index_select(0, index) if t is not None else None
                    for t in (self.x, self.y, self.sample_weight)
                )  # type: ignore[misc]

    def split(self, fraction: float) -> tuple[ArrayData, ArrayData]:
        """Keras' validation_split: the last ``fraction`` of the samples, taken before shuffling."""
        cut = int(len(self) * (1 - fraction))
        head = ArrayData(
            *(t[:cut] if t is not None else None for t in (self.x, self.y, self.sample_weight))
        )
        tail = ArrayData(
            *(t[cut:] if t is not None else None for t in (self.x, self.y, self.sample_weight))
        )
        return head, tail


class LoaderData:
    """Batches from a ``torch.utils.data.DataLoader`` (or a Dataset wrapped in one)."""

    def __init__(self, loader: DataLoader, device: torch.device):
        self.loader, self.device = loader, device

    def __len__(self) -> int:
        return len(self.loader.dataset)  # type: ignore[arg-type]

    def steps(self, batch_size: int) -> int:
        return len(self.loader)

    def batches(
        self, batch_size: int, shuffle: bool = False, generator=None, shard=(0, 1)
    ) -> Iterator[Batch]:
        for item in self.loader:
            if isinstance(item, (list, tuple)):
                x, y, w = (*item, None, None)[:3]
            else:
                x, y, w = item, None, None
            yield (
                _to_device(x, self.device),
                _to_device(y, self.device),
                _to_device(w, self.device),
            )


def _to_device(value: Any, device: torch.device) -> torch.Tensor | None:
    if value is None:
        return None
    tensor = torch.as_tensor(value)
    if not tensor.is_floating_point() and tensor.ndim > 1:
        tensor = tensor.float()  # images (uint8) -> float32; integer labels stay integers
    elif tensor.dtype == torch.float64:
        tensor = tensor.float()
    return tensor.to(device, non_blocking=True)


def as_tensor(
    value: Any, name: str, device: torch.device, *, images: bool, what: str = "cnnkit"
) -> torch.Tensor:
    """Convert a NumPy array, list or tensor to a tensor on ``device``; images become float32."""
    if isinstance(value, torch.Tensor):
        tensor = value
    else:
        try:
            array = np.asarray(value)
        except Exception as error:  # ragged lists and other oddities
            raise TypeError(
                f"{what}: {name} must be a NumPy array or a tensor; could not convert "
                f"{type(value).__name__}: {error}"
            ) from None
        if array.dtype == object or not (
            np.issubdtype(array.dtype, np.number) or array.dtype == bool
        ):
            raise TypeError(
                f"{what}: {name} must hold numbers; received an array of dtype {array.dtype}"
            )
        tensor = torch.from_numpy(np.ascontiguousarray(array))
    if images or tensor.is_floating_point():
        tensor = tensor.to(torch.float32)
    return tensor.to(device)


def adapt(
    x: Any,
    y: Any,
    sample_weight: Any,
    batch_size: int,
    shuffle: bool,
    device: torch.device,
    what: str,
) -> ArrayData | LoaderData:
    """Wrap ``x`` (and ``y``) for batching; raise clear errors for mismatched or empty inputs."""
    if isinstance(x, DataLoader):
        _no_separate_targets(y, what)
        return LoaderData(x, device)
    if isinstance(x, Dataset):
        _no_separate_targets(y, what)
        return LoaderData(DataLoader(x, batch_size=batch_size, shuffle=shuffle), device)
    if x is None:
        raise ValueError(
            f"{what}: x is required (images as a (samples, height, width, channels) array)"
        )
    xt = as_tensor(x, "x", device, images=True, what=what)
    if xt.ndim == 0 or xt.shape[0] == 0:
        raise ValueError(
            f"{what}: x is empty (shape {tuple(xt.shape)}); there is nothing to {what.split('.')[-1]}"
        )
    if not torch.isfinite(xt).all():
        bad = int((~torch.isfinite(xt)).sum())
        raise ValueError(
            f"{what}: x contains {bad} NaN or infinite values; clean or impute them before training"
        )
    yt = None if y is None else as_tensor(y, "y", device, images=False, what=what)
    if yt is not None and yt.is_floating_point() and not torch.isfinite(yt).all():
        raise ValueError(f"{what}: y contains NaN or infinite values; labels must be finite")
    if yt is not None and yt.shape[0] != xt.shape[0]:
        raise ValueError(
            f"{what}: x and y must have the same number of samples; received x with {xt.shape[0]} and y with "
            f"{yt.shape[0]}"
        )
    wt = (
        None
        if sample_weight is None
        else as_tensor(sample_weight, "sample_weight", device, images=True, what=what)
    )
    if wt is not None and (not torch.isfinite(wt).all() or (wt < 0).any()):
        raise ValueError(f"{what}: sample_weight must hold finite values >= 0")
    if wt is not None and (wt.ndim != 1 or wt.shape[0] != xt.shape[0]):
        raise ValueError(
            f"{what}: sample_weight must have shape ({xt.shape[0]},), one weight per sample; received {tuple(wt.shape)}"
        )
    return ArrayData(xt, yt, wt)


def _no_separate_targets(y: Any, what: str) -> None:
    if y is not None:
        raise ValueError(
            f"{what}: y must be None when x is a Dataset or DataLoader (it yields (x, y) pairs)"
        )
