"""Data that arrives batch by batch from Python code: a ``PyDataset`` (``len`` batches, each
made by ``__getitem__``) or a Python generator or iterator (endless, so the number of steps
must be given), next to the arrays, Datasets and DataLoaders that ``_data.adapt`` takes."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import torch

from cnnkit import _pydataset
from cnnkit._pydataset import PyDataset
from cnnkit._validation import check_int
from cnnkit.training._data import ArrayData, Batch, LoaderData, _no_separate_targets, adapt


def is_stream(x: Any) -> bool:
    """Whether ``x`` is a PyDataset (or Keras 2 Sequence) or a generator/iterator of batches."""
    return _pydataset.is_sequence(x) or isinstance(x, Iterator)


class StreamData:
    """Batches of a PyDataset (its batch order shuffled per epoch when asked, as Keras) or
    the next ``steps`` batches of a generator, on the device."""

    def __init__(
        self,
        source: Any,
        steps: int,
        device: torch.device,
        needs_y: str | None,
        *,
        sequence: bool = False,
    ) -> None:
        self.source, self._steps, self.device, self.needs_y = source, steps, device, needs_y
        self._sequence = sequence  # batches by index (len of them), else the next ``steps``

    def __len__(self) -> int:
        raise TypeError("the number of samples of a PyDataset or generator is unknown")

    def steps(self, batch_size: int) -> int:
        return self._steps

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
        """One pass: as ``LoaderData.batches`` (``batch_size`` and ``group`` are the source's)."""
        if self._sequence:
            count = len(self.source)
            order = torch.randperm(count, generator=generator) if shuffle else range(count)
            items: Any = _pydataset.epoch(self.source, [int(i) for i in order])
        else:  # a generator goes on where the last pass stopped
            items = itertools.islice(self.source, self._steps)
        loader = LoaderData(items, self.device, self.needs_y)
        return loader.batches(batch_size, first=first, limit=limit, prepare=prepare)


def adapt_data(
    x: Any,
    y: Any,
    sample_weight: Any,
    batch_size: int,
    shuffle: bool,
    device: torch.device,
    what: str,
    *,
    needs_y: bool = False,
    steps: int | None = None,
    steps_name: str = "steps",
) -> ArrayData | LoaderData | StreamData:
    """``_data.adapt``, also taking a PyDataset or a generator (which needs ``steps``)."""
    if not is_stream(x):
        return adapt(x, y, sample_weight, batch_size, shuffle, device, what, needs_y=needs_y)
    _no_separate_targets(y, what)
    if sample_weight is not None:
        raise ValueError(
            f"{what}: sample_weight must be None when x is a PyDataset or generator; yield "
            "(x, y, sample_weight) batches instead"
        )
    steps = check_int(steps, steps_name, what, minimum=1, optional=True)
    if isinstance(x, PyDataset) or (_pydataset.is_sequence(x) and steps is None):
        # an endless Keras 2 flow given steps goes on where it stopped, as a generator
        count = len(x)
        if count < 1:
            raise ValueError(f"{what}: the PyDataset has no batches (len() is {count})")
        return StreamData(x, count, device, what if needs_y else None, sequence=True)
    if steps is None:
        raise ValueError(
            f"{what}: a generator may never end, so {steps_name} (the number of batches to "
            f"draw from it) is required; received {steps_name}=None. Pass e.g. "
            f"{steps_name}=len(x_train) // batch_size, or a PyDataset, whose len() says it"
        )
    return StreamData(x, steps, device, what if needs_y else None)
