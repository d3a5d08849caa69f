"""fit takes a few batches of in-memory data at once and runs a model's first random
augmentation layers on them ahead of their steps: one gather and one augmentation call per
group of batches (their Python work spread over more images) instead of one per batch, with
the same batches, the same draws and the same images."""

from __future__ import annotations

from collections.abc import Callable

import torch

from cnnkit.layers._augment_base import RandomImageLayer
from cnnkit.training._data import ArrayData, LoaderData
from cnnkit.training._resume import GROUP, random_states, set_random_states

GROUP_BYTES = 8 * 2**20  # the images of a group: a few MiB, well within the last-level cache
MAX_GROUP = 4  # more batches of 32x32x3 images gained nothing more (bench/README_augment.md)


def augmentation_prefix(model) -> int:
    """How many of the model's first layers fit runs ahead of the step: random augmentation
    layers (each image transformed on its own, with no weights to train) called plainly (no
    activity penalty); the last layer always stays in the step."""
    if not hasattr(model, "run_layers"):
        return 0
    count = 0
    for layer in model.layers[:-1]:
        if not (isinstance(layer, RandomImageLayer) and layer.plain_call):
            break
        count += 1
    return count


def group_size(data: ArrayData | LoaderData, batch_size: int) -> int:
    """How many batches of ``data`` to take at once: as many as fit in GROUP_BYTES, at most
    MAX_GROUP, at least one."""
    if not isinstance(data, ArrayData):
        return 1
    batch_bytes = data.x[:1].nbytes * batch_size
    return max(1, min(MAX_GROUP, GROUP_BYTES // max(batch_bytes, 1)))


def run_ahead(model, prefix: int) -> Callable[[torch.Tensor], torch.Tensor] | None:
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
        self, prepare: Callable[[torch.Tensor], torch.Tensor], model, size: int, limit: int
    ):
        self._prepare, self._model, self._size, self._limit = prepare, model, size, limit
        self._pending: dict[str, torch.Tensor] | None = None
        self.current: tuple[int, int, dict[str, torch.Tensor]] | None = None

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        self._pending = random_states(self._model)
        return self._prepare(images)

    def received(self, index: int) -> None:
        """Batch ``index`` came out: the first of a new group when one was just augmented."""
        if self._pending is not None:
            end = min(index + self._size, self._limit)
            self.current, self._pending = (index, end, self._pending), None


def _replaying(prepare, model, saved: dict[str, torch.Tensor]):
    """``prepare`` whose first call augments from the random state saved at the start of a
    backed-up group (``GROUP`` tensors), then puts the generators back as they were."""
    replayed = False

    def replay(images: torch.Tensor) -> torch.Tensor:
        nonlocal replayed
        if replayed:
            return prepare(images)
        replayed, now = True, random_states(model)
        set_random_states(model, saved, GROUP)
        try:
            return prepare(images)
        finally:
            set_random_states(model, now)

    return replay


def epoch_batches(model, train, batch_size, order, steps, start, resume=None):
    """One epoch's (index, batch) pairs, and the GroupStarts following its groups (None
    when no augmentation runs ahead of the steps).

    ``order`` = (shuffle, generator, shard) as ``ArrayData.batches`` takes them; ``resume``
    (a mid-epoch backup's ``Position``) continues a backed-up epoch: a group begun before the
    backup is augmented again from the random state saved at its start, and its batches
    already trained are passed over."""
    skip, group_start = (resume.step, resume.group_start) if resume else (0, None)
    prepare, starts = run_ahead(model, start), None
    size = group_size(train, batch_size)
    if prepare is not None:
        prepare = starts = GroupStarts(prepare, model, size, steps)
        if group_start is not None:
            prepare = _replaying(prepare, model, resume.tensors)
    first = skip if group_start is None else group_start
    batches = train.batches(
        batch_size, *order, first=first, limit=steps, group=size, prepare=prepare
    )

    def numbered():
        for index, batch in enumerate(batches, start=first):
            if starts is not None:
                starts.received(index)
            if index >= skip:
                yield index, batch

    return numbered(), starts
