"""fit takes a few batches of in-memory data at once and runs a model's first random
augmentation layers on them ahead of their steps: one gather and one augmentation call per
group of batches (their Python work spread over more images) instead of one per batch, with
the same batches, the same draws and the same images.

The plain reference (``cnnkit.training._epoch``): every batch taken on its own, the whole model
run inside the training step. :func:`plan` chooses between the two once per fit; the step then
runs the model from layer ``Plan.start`` on (:class:`LayersFrom`), and :func:`epoch_batches`
hands out the batches with those layers already applied.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import torch
from torch import nn

from cnnkit import _fast

GROUP_BYTES = 8 * 2**20  # the images of a group: a few MiB, well within the last-level cache
MAX_GROUP = 4  # more batches of 32x32x3 images gained nothing more (bench/README_augment.md)


@dataclass(frozen=True)
class Plan:
    """How fit takes its batches: ``group`` at once, with the model's first ``start`` layers
    run on them ahead of the step. ``Plan()`` is the plain path."""

    start: int = 0
    group: int = 1


class Generators(Protocol):
    """The random state a step draws from (torch's and the augmentation layers' own)."""

    def save(self) -> dict[str, torch.Tensor]: ...

    def load(self, tensors: dict[str, torch.Tensor]) -> None: ...


def plan(model: Any, data: Any, batch_size: int) -> Plan:
    """The fast plan for ``model`` on ``data``, or the plain ``Plan()`` when this fast path is
    switched off (``CNNKIT_FAST``)."""
    if not _fast.enabled("ahead"):
        return Plan()
    return Plan(augmentation_prefix(model), group_size(data, batch_size))


def _runs_ahead(layer: nn.Module) -> bool:
    """A random augmentation layer (each image transformed on its own, with no weights to
    train) called plainly (no activity penalty)."""
    return hasattr(layer, "get_random_transformation") and getattr(layer, "plain_call", False)


def augmentation_prefix(model: Any) -> int:
    """How many of the model's first layers fit runs ahead of the step: its leading random
    augmentation layers; the last layer always stays in the step."""
    if not hasattr(model, "run_layers"):
        return 0
    count = 0
    for layer in model.layers[:-1]:
        if not _runs_ahead(layer):
            break
        count += 1
    return count


def group_size(data: Any, batch_size: int) -> int:
    """How many batches of ``data`` to take at once: as many as fit in GROUP_BYTES, at most
    MAX_GROUP, at least one; one for data not held in memory (no tensor ``data.x``)."""
    images = getattr(data, "x", None)
    if not isinstance(images, torch.Tensor):
        return 1
    batch_bytes = images[:1].nbytes * batch_size
    return max(1, min(MAX_GROUP, GROUP_BYTES // max(batch_bytes, 1)))


class LayersFrom(nn.Module):
    """The model's forward pass from layer ``start`` on, as a Module (so that
    DistributedDataParallel can wrap it): the layers before it ran ahead of the step."""

    def __init__(self, model: nn.Module, start: int):
        super().__init__()
        self.model, self.start = model, start

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model.run_layers(x, start=self.start)


def run_ahead(model: Any, prefix: int) -> Callable[[torch.Tensor], torch.Tensor] | None:
    """The function that runs the model's first ``prefix`` layers on a group of images (in
    training mode, outside autograd: the augmentation layers have nothing to learn); None
    when ``prefix`` is 0."""
    if not prefix:
        return None

    def prepare(images: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return model.run_layers(images, stop=prefix)

    return prepare


class GroupStarts:
    """Wraps ``prepare`` to remember, for the group of batches being trained, its first
    batch, its end and the random state before it was augmented. A backup taken inside the
    group keeps them: the draws of the group's later batches were made at its start."""

    def __init__(
        self,
        prepare: Callable[[torch.Tensor], torch.Tensor],
        generators: Generators,
        size: int,
        limit: int,
    ):
        self._prepare, self._generators = prepare, generators
        self._size, self._limit = size, limit
        self._pending: dict[str, torch.Tensor] | None = None
        self.current: tuple[int, int, dict[str, torch.Tensor]] | None = None

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        self._pending = self._generators.save()
        return self._prepare(images)

    def received(self, index: int) -> None:
        """Batch ``index`` came out: the first of a new group when one was just augmented."""
        if self._pending is not None:
            end = min(index + self._size, self._limit)
            self.current, self._pending = (index, end, self._pending), None


def _replaying(prepare, generators: Generators, saved: dict[str, torch.Tensor]):
    """``prepare`` whose first call augments from the random state ``saved`` at the start of
    a backed-up group, then puts the generators back as they were."""
    replayed = False

    def replay(images: torch.Tensor) -> torch.Tensor:
        nonlocal replayed
        if replayed:
            return prepare(images)
        replayed, now = True, generators.save()
        generators.load(saved)
        try:
            return prepare(images)
        finally:
            generators.load(now)

    return replay


def epoch_batches(
    model: Any,
    train: Any,
    batch_size: int,
    order: tuple,
    steps: int,
    chosen: Plan,
    generators: Generators,
    resume: Any,
) -> tuple[Iterator[tuple[int, tuple]], GroupStarts | None]:
    """One epoch's (index, batch) pairs under ``chosen``, and the GroupStarts following its
    groups (None when no augmentation runs ahead of the steps).

    ``order`` = (shuffle, generator, shard) as ``ArrayData.batches`` takes them; ``resume``
    (a ``Position`` in this epoch) continues a backed-up epoch: a group begun before the
    backup is augmented again from the random state saved at its start, and its batches
    already trained are passed over."""
    skip, group_start = resume.step, resume.group_start
    prepare, starts = run_ahead(model, chosen.start), None
    if prepare is not None:
        prepare = starts = GroupStarts(prepare, generators, chosen.group, steps)
        if group_start is not None:
            prepare = _replaying(prepare, generators, resume.group_states)
    first = skip if group_start is None else group_start
    batches = train.batches(
        batch_size, *order, first=first, limit=steps, group=chosen.group, prepare=prepare
    )

    def numbered():
        for index, batch in enumerate(batches, start=first):
            if starts is not None:
                starts.received(index)
            if index >= skip:
                yield index, batch

    return numbered(), starts
