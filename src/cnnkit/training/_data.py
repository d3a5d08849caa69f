"""Turn what users pass to fit/evaluate/predict (arrays, tensors, Datasets, DataLoaders) into
batches on the model's device, checking it once where it enters."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from cnnkit._dataset import Dataset as BatchDataset

Batch = tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]

#: Arrays go to a CUDA device in one piece, once per call, when their tensors (images as
#: float32) take at most this fraction of the device's free memory; larger ones stay in host
#: memory and each batch is copied over (``fit``'s docstring says so).
DEVICE_DATA_FRACTION = 0.5


class ArrayData:
    """In-memory samples held as tensors on the device, batched by slicing or by a permutation.

    Images are converted to float32 once, not per batch; shuffling gathers each batch with one
    ``index_select`` per tensor. Tensors held elsewhere than ``device`` (host memory, for
    arrays too large for the GPU) are batched there and each batch is copied to ``device``.
    """

    def __init__(
        self,
        x: torch.Tensor,
        y: torch.Tensor | None = None,
        sample_weight: torch.Tensor | None = None,
        device: torch.device | None = None,
    ):
        self.x, self.y, self.sample_weight = x, y, sample_weight
        self.device = x.device if device is None else device

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
        *,
        first: int = 0,
        limit: int | None = None,
        group: int = 1,
        prepare: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ) -> Iterator[Batch]:
        """Yield (x, y, sample_weight) batches of ``batch_size`` samples (the global batch).

        ``shuffle`` draws the order from ``generator`` (torch's global RNG if None). With
        ``shard=(rank, size)`` each process gets its contiguous part of every global batch, so
        the processes together see exactly what one process would. Only the batches from
        index ``first`` to before ``limit`` (the end when None) come out. ``group`` batches
        are taken from the data at once, and ``prepare`` (if given) maps their images in one
        call before they are handed out one batch at a time.
        """
        n = len(self)
        rank, size = shard
        order = torch.randperm(n, generator=generator).to(self.x.device) if shuffle else None
        spans = [
            _shard_span(start, min(start + batch_size, n), rank, size)
            for start in range(0, n, batch_size)
        ][first:limit]
        for at in range(0, len(spans), group):
            block = spans[at : at + group]
            x, y, w = self._take(block, order)
            if x.device != self.device:  # held in host memory: this group's copy to the device
                x, y, w = (t.to(self.device) if t is not None else None for t in (x, y, w))
            if prepare is not None:
                x = prepare(x)
            end = 0
            for start, stop in block:
                begin, end = end, end + stop - start
                yield tuple(t[begin:end] if t is not None else None for t in (x, y, w))  # type: ignore[misc]

    def _take(self, spans: list[tuple[int, int]], order: torch.Tensor | None) -> tuple:
        """The samples at ``spans`` of ``order`` (of the data itself when None), one after the
        other: views when they are one run of the data, else one ``index_select`` per tensor."""
        tensors = (self.x, self.y, self.sample_weight)
        contiguous = all(a[1] == b[0] for a, b in zip(spans, spans[1:]))
        first, last = spans[0][0], spans[-1][1]
        if order is None and contiguous:
            return tuple(t[first:last] if t is not None else None for t in tensors)
        if contiguous:
            index = order[first:last]
        elif order is None:
            index = torch.cat([torch.arange(a, b, device=self.x.device) for a, b in spans])
        else:
            index = torch.cat([order[a:b] for a, b in spans])
        return tuple(t.index_select(0, index) if t is not None else None for t in tensors)

    def split(self, fraction: float) -> tuple[ArrayData, ArrayData]:
        """Keras' validation_split: the last ``fraction`` of the samples, taken before shuffling."""
        cut = int(len(self) * (1 - fraction))
        tensors = (self.x, self.y, self.sample_weight)
        head = ArrayData(*(t[:cut] if t is not None else None for t in tensors), self.device)
        tail = ArrayData(*(t[cut:] if t is not None else None for t in tensors), self.device)
        return head, tail

    def rows(self, start: int, stop: int) -> ArrayData:
        """The images ``start`` to before ``stop`` (no labels), batched to the same device."""
        return ArrayData(self.x[start:stop], device=self.device)


class LoaderData:
    """Batches from a ``torch.utils.data.DataLoader`` (or a Dataset wrapped in one), or from a
    batched ``cnnkit.utils.Dataset`` (``image_dataset_from_directory``'s)."""

    def __init__(self, loader: Any, device: torch.device, needs_y: str | None = None):
        """``needs_y`` names the call (``'fit'``) when its batches must carry labels."""
        self.loader, self.device, self.needs_y = loader, device, needs_y

    def __len__(self) -> int:
        if not isinstance(self.loader, DataLoader):
            return self.loader.samples
        return len(self.loader.dataset)  # type: ignore[arg-type]

    def steps(self, batch_size: int) -> int:
        return len(self.loader)

    def batches(
        self,
        batch_size: int,
        shuffle: bool = False,
        generator=None,
        shard=(0, 1),
        *,
        first: int = 0,
        limit: int | None = None,
        group: int = 1,
        prepare: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ) -> Iterator[Batch]:
        """The loader's batches on the device, as ``ArrayData.batches`` (``prepare`` maps the
        images of each batch; the loader decides order and size, so ``group`` is ignored)."""
        for item in itertools.islice(self.loader, first, limit):
            if isinstance(item, (list, tuple)):
                x, y, w = (*item, None, None)[:3]
            else:
                x, y, w = item, None, None
            if y is None and self.needs_y:
                raise ValueError(
                    f"{self.needs_y}: the Dataset or DataLoader yields images without labels; "
                    "it must yield (x, y) pairs"
                )
            x = _to_device(x, self.device)
            yield (
                x if prepare is None else prepare(x),
                _to_device(y, self.device),
                _to_device(w, self.device),
            )


def _shard_span(start: int, stop: int, rank: int, size: int) -> tuple[int, int]:
    """Process ``rank`` of ``size``'s contiguous part of the global batch [start, stop)."""
    if size == 1:
        return start, stop
    per_rank = -(-(stop - start) // size)
    return min(start + rank * per_rank, stop), min(start + (rank + 1) * per_rank, stop)


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
    if tensor.is_complex():  # a cast to float would drop the imaginary part without a word
        raise TypeError(
            f"{what}: {name} must hold real numbers; received complex values ({tensor.dtype})"
        )
    if images or tensor.is_floating_point():
        tensor = tensor.to(torch.float32)
    return tensor.to(device)


def all_finite(tensor: torch.Tensor) -> bool:
    """True when no element is NaN or infinite: integers always; floats by their sum first.

    Summing reads the data once without a mask (about 30x faster than ``isfinite().all()`` on
    a training set); a NaN or infinity makes the sum non-finite, and only then, or when a
    float sum overflows, is every element checked.
    """
    if not tensor.is_floating_point() or tensor.numel() == 0:
        return True
    if bool(torch.isfinite(tensor.sum())):
        return True
    return bool(torch.isfinite(tensor).all())


#: The call -> what it does to ``x``, for messages ("replace them before predicting").
_GERUNDS = {"fit": "training", "evaluate": "evaluating", "predict": "predicting"}


def adapt(
    x: Any,
    y: Any,
    sample_weight: Any,
    batch_size: int,
    shuffle: bool,
    device: torch.device,
    what: str,
    *,
    needs_y: bool = False,
) -> ArrayData | LoaderData:
    """Wrap ``x`` (and ``y``) for batching; raise clear errors for mismatched or empty inputs.

    ``needs_y``: the call computes a loss, so arrays need ``y`` and a Dataset must yield labels.
    """
    labels_for = what if needs_y else None
    if batched_dataset(x, y, what):
        return LoaderData(x, device, labels_for)
    if isinstance(x, DataLoader):
        _no_separate_targets(y, what)
        return LoaderData(x, device, labels_for)
    if isinstance(x, Dataset):
        _no_separate_targets(y, what)
        return LoaderData(DataLoader(x, batch_size=batch_size, shuffle=shuffle), device, labels_for)
    if x is None:
        raise ValueError(
            f"{what}: x is required (images as a (samples, height, width, channels) array)"
        )
    xt = as_tensor(x, "x", _staging(x), images=True, what=what)
    yt = None if y is None else as_tensor(y, "y", _staging(y), images=False, what=what)
    wt = None
    if sample_weight is not None:
        wt = as_tensor(
            sample_weight, "sample_weight", _staging(sample_weight), images=True, what=what
        )
    place = data_device((xt, yt, wt), device)
    xt, yt, wt = (t.to(place) if t is not None else None for t in (xt, yt, wt))
    if xt.ndim == 0 or xt.shape[0] == 0:
        raise ValueError(
            f"{what}: x is empty (shape {tuple(xt.shape)}); there is nothing to {what.split('.')[-1]}"
        )
    if not all_finite(xt):
        bad = int((~torch.isfinite(xt)).sum())
        doing = _GERUNDS.get(what.split(" ")[0], "running the model")
        raise ValueError(
            f"{what}: x contains {bad} NaN or infinite values; replace them before {doing} "
            "(the model's outputs for them would be NaN)"
        )
    if needs_y and y is None:
        raise ValueError(
            f"{what}: y is required (the labels of x); received y=None. Pass the labels as y, "
            "or pass x as a Dataset or DataLoader that yields (x, y) pairs"
        )
    if yt is not None and not all_finite(yt):
        raise ValueError(f"{what}: y contains NaN or infinite values; labels must be finite")
    if yt is not None and yt.shape[0] != xt.shape[0]:
        raise ValueError(
            f"{what}: x and y must have the same number of samples; received x with {xt.shape[0]} and y with "
            f"{yt.shape[0]}"
        )
    if wt is not None and (not all_finite(wt) or (wt < 0).any()):
        raise ValueError(f"{what}: sample_weight must hold finite values >= 0")
    if wt is not None and (wt.ndim != 1 or wt.shape[0] != xt.shape[0]):
        raise ValueError(
            f"{what}: sample_weight must have shape ({xt.shape[0]},), one weight per sample; received {tuple(wt.shape)}"
        )
    return ArrayData(xt, yt, wt, device)


def _staging(value: Any) -> torch.device:
    """Where a value is converted: a tensor where it is, anything else in host memory."""
    return value.device if isinstance(value, torch.Tensor) else torch.device("cpu")


def data_device(tensors: tuple[torch.Tensor | None, ...], device: torch.device) -> torch.device:
    """Where arrays are held while batched: on ``device``, unless it is a GPU whose free memory
    they would take more than ``DEVICE_DATA_FRACTION`` of (then in host memory); tensors
    already on ``device`` stay there."""
    if device.type != "cuda" or tensors[0].device == device:
        return device
    size = sum(t.numel() * t.element_size() for t in tensors if t is not None)
    free, _ = torch.cuda.mem_get_info(device)
    return device if size <= DEVICE_DATA_FRACTION * free else torch.device("cpu")


def batched_dataset(x: Any, y: Any, what: str) -> bool:
    """Whether ``x`` is a ``cnnkit.utils.Dataset`` of batches (an unbatched one is an error)."""
    if not isinstance(x, BatchDataset):
        return False
    _no_separate_targets(y, what)
    if not x.is_batched:
        raise ValueError(
            f"{what}: the dataset yields single images, not batches; call .batch(batch_size) on "
            "it (or load it with a batch_size)"
        )
    return True


def _no_separate_targets(y: Any, what: str) -> None:
    if y is not None:
        raise ValueError(
            f"{what}: y must be None when x is a Dataset or DataLoader (it yields (x, y) pairs)"
        )
