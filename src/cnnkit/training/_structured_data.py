"""Data for models with several inputs or outputs: x and y as lists or dicts of arrays (or a
DataLoader yielding them), batched together and handed over in the structure the user gave."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset

from cnnkit.training._data import all_finite, as_tensor, batched_dataset
from cnnkit.training._structures import input_names, is_structure, match, output_names


class Structure:
    """How to pack a list of tensors again: one tensor (None), a list ("list") or dict keys."""

    def __init__(self, value: Any, names: list[str]):
        if isinstance(value, dict):
            self.keys: Any = list(names)
        elif is_structure(value) and len(names) > 1:
            self.keys = "list"
        else:
            self.keys = "list" if len(names) > 1 else None

    def pack(self, values: list[Any]) -> Any:
        if self.keys is None:
            return values[0]
        if self.keys == "list":
            return list(values)
        return {key: value for key, value in zip(self.keys, values) if value is not None}


class StructuredData:
    """In-memory samples: a tensor per input, a tensor (or None) per output, sample weights.

    ``batches`` yields Keras' ``data``: ``(x, y)``, ``(x, y, sample_weight)`` or ``(x,)``.
    """

    def __init__(self, xs, ys, weight, x_structure, y_structure):
        self.xs, self.ys, self.sample_weight = xs, ys, weight
        self.x_structure, self.y_structure = x_structure, y_structure

    def __len__(self) -> int:
        return int(self.xs[0].shape[0])

    def steps(self, batch_size: int) -> int:
        return math.ceil(len(self) / batch_size)

    def _select(self, index: Any) -> tuple:
        xs = [t[index] for t in self.xs]
        ys = None if self.ys is None else [None if t is None else t[index] for t in self.ys]
        weight = None if self.sample_weight is None else self.sample_weight[index]
        return xs, ys, weight

    def batches(self, batch_size: int, shuffle: bool = False, generator=None) -> Iterator[tuple]:
        """Yield Keras' ``data`` tuples of ``batch_size`` samples (the last may be smaller)."""
        n = len(self)
        order = torch.randperm(n, generator=generator).to(self.xs[0].device) if shuffle else None
        for start in range(0, n, batch_size):
            span = slice(start, min(start + batch_size, n))
            xs, ys, weight = self._select(span if order is None else order[span])
            data = (self.x_structure.pack(xs),)
            if ys is not None:
                data += (self.y_structure.pack(ys),)
                if weight is not None:
                    data += (weight,)
            yield data

    def split(self, fraction: float) -> tuple[StructuredData, StructuredData]:
        """Keras' validation_split: the last ``fraction`` of the samples, before shuffling."""
        cut = int(len(self) * (1 - fraction))
        parts = [self._select(slice(0, cut)), self._select(slice(cut, len(self)))]
        return tuple(  # type: ignore[return-value]
            StructuredData(*part, self.x_structure, self.y_structure) for part in parts
        )


class StructuredLoader:
    """Batches of a DataLoader whose items are ``(x, y[, sample_weight])`` with x and y in
    any structure, moved to the device."""

    def __init__(self, loader: Any, device: torch.device):
        self.loader, self.device = loader, device

    def __len__(self) -> int:
        if not isinstance(self.loader, DataLoader):
            return self.loader.samples  # a batched cnnkit.utils.Dataset
        return len(self.loader.dataset)  # type: ignore[arg-type]

    def steps(self, batch_size: int) -> int:
        return len(self.loader)

    def batches(self, batch_size: int, shuffle: bool = False, generator=None) -> Iterator[tuple]:
        for item in self.loader:
            item = item if isinstance(item, (list, tuple)) else (item,)
            yield tuple(_to_device(part, self.device) for part in item)


def _to_device(value: Any, device: torch.device) -> Any:
    if isinstance(value, dict):
        return {key: _to_device(item, device) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_device(item, device) for item in value]
    tensor = torch.as_tensor(value)
    if tensor.is_floating_point():
        tensor = tensor.float()
    return tensor.to(device)


def adapt_structured(
    model,
    x: Any,
    y: Any,
    sample_weight: Any,
    batch_size: int,
    shuffle: bool,
    device: torch.device,
    what: str,
) -> StructuredData | StructuredLoader:
    """Check and wrap x (and y) given per input and per output as lists or dicts."""
    if batched_dataset(x, y, what):
        return StructuredLoader(x, device)
    if isinstance(x, (DataLoader, Dataset)):
        if y is not None:
            raise ValueError(
                f"{what}: y must be None when x is a Dataset or DataLoader (it yields (x, y) pairs)"
            )
        loader = x if isinstance(x, DataLoader) else DataLoader(x, batch_size, shuffle=shuffle)
        return StructuredLoader(loader, device)
    if x is None:
        raise ValueError(f"{what}: x is required (one array per input, as a list or a dict)")
    names = input_names(model)
    xs = [
        _checked(value, f"x[{name!r}]", device, what, images=True)
        for name, value in zip(names, match(x, names, what, "x"))
    ]
    ys = None
    if y is not None:
        targets = output_names(model)
        ys = [
            None if value is None else _checked(value, f"y[{name!r}]", device, what, images=False)
            for name, value in zip(targets, match(y, targets, what, "y", optional=True))
        ]
    weight = (
        None
        if sample_weight is None
        else _checked(sample_weight, "sample_weight", device, what, images=True)
    )
    _same_count(xs, ys, weight, names, output_names(model), what)
    return StructuredData(xs, ys, weight, Structure(x, names), Structure(y, output_names(model)))


def _checked(value: Any, name: str, device: torch.device, what: str, images: bool):
    tensor = as_tensor(value, name, device, images=images, what=what)
    if tensor.ndim == 0:
        raise ValueError(f"{what}: {name} must have a samples axis; received a scalar")
    if not all_finite(tensor):
        raise ValueError(f"{what}: {name} contains NaN or infinite values")
    return tensor


def _same_count(xs, ys, weight, names: list[str], targets: list[str], what: str) -> None:
    """Every array must have as many samples as the first input."""
    count = int(xs[0].shape[0])
    if count == 0:
        raise ValueError(f"{what}: x is empty; there is nothing to {what.split(' ')[0]}")
    named = [(f"x[{n!r}]", t) for n, t in zip(names, xs)]
    if ys is not None:
        named += [(f"y[{n!r}]", t) for n, t in zip(targets, ys) if t is not None]
    if weight is not None:
        named.append(("sample_weight", weight))
    for name, tensor in named:
        if int(tensor.shape[0]) != count:
            raise ValueError(
                f"{what}: every array must have the same number of samples; {named[0][0]} has "
                f"{count} and {name} has {int(tensor.shape[0])}"
            )
