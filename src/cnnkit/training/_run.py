"""One call of fit as one typed object: what it trains on, for how long, with which step and
callbacks, and where it stands (so that a backup taken now can say where to continue)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from cnnkit import distributed
from cnnkit._fast._ahead import GroupStarts, Plan
from cnnkit._validation import check_int
from cnnkit.callbacks import CallbackList
from cnnkit.training._data import ArrayData, LoaderData

Data = ArrayData | LoaderData
#: ``step(x, y, sample_weight, scale) -> (outputs, loss)``: one optimiser step (see _step).
TrainStep = Callable[
    [torch.Tensor, torch.Tensor, torch.Tensor | None, float], tuple[torch.Tensor, torch.Tensor]
]


@dataclass(frozen=True)
class Settings:
    """fit's arguments that shape the loop, checked once."""

    batch_size: int
    epochs: int
    initial_epoch: int
    steps_per_epoch: int | None
    validation_batch_size: int | None  # None: batch_size
    validation_freq: int
    shuffle: bool

    @classmethod
    def checked(
        cls,
        batch_size: Any,
        epochs: Any,
        initial_epoch: Any,
        steps_per_epoch: Any,
        validation_batch_size: Any,
        validation_freq: Any,
        shuffle: bool,
    ) -> Settings:
        """The settings, or a ValueError naming the argument that is not a valid count."""
        return cls(
            batch_size=check_int(
                32 if batch_size is None else batch_size, "batch_size", "fit", minimum=1
            ),
            epochs=check_int(epochs, "epochs", "fit", minimum=0),
            initial_epoch=check_int(initial_epoch, "initial_epoch", "fit", minimum=0),
            steps_per_epoch=check_int(
                steps_per_epoch, "steps_per_epoch", "fit", minimum=1, optional=True
            ),
            validation_batch_size=check_int(
                validation_batch_size, "validation_batch_size", "fit", minimum=1, optional=True
            ),
            validation_freq=check_int(validation_freq, "validation_freq", "fit", minimum=1),
            shuffle=shuffle,
        )


@dataclass
class Position:
    """Where a fit starts: an epoch and, when a mid-epoch backup was taken, the batches of it
    already trained with the loss's and metrics' running totals then."""

    epoch: int = 0
    step: int = 0  # batches of ``epoch`` already trained
    totals: list[dict[str, float]] | None = None
    group_start: int | None = None  # first batch of the group augmented ahead, when inside one
    group_states: dict[str, torch.Tensor] = field(default_factory=dict)  # its random state

    def within(self, epoch: int) -> Position:
        """This position if it lies in ``epoch``, else the start of ``epoch``."""
        return self if epoch == self.epoch else Position(epoch)


@dataclass
class Trained:
    """How far the running epoch got: a backup taken between batches records it."""

    epoch: int
    step: int  # batches of ``epoch`` trained
    trackers: list[Any]  # the loss tracker, then the metrics
    groups: GroupStarts | None  # the group of batches augmented ahead, when there is one


@dataclass
class Run:
    """Everything one call of fit works with, built once by ``Trainer._new_run``."""

    epochs: int
    steps: int  # batches per epoch
    callbacks: CallbackList
    train: Data
    validation: Data | None
    settings: Settings
    step: TrainStep
    outputs_are_logits: bool  # the step returns logits (its loss fused the softmax)
    plan: Plan  # how the batches are taken (the plain path: Plan())
    world: distributed.World
    device: torch.device
    shuffle_seed: int
    position: Position  # where the first epoch starts
    trained: Trained | None = None  # set after every batch
    restored: tuple[dict[str, Any], dict[str, torch.Tensor]] | None = None  # a checked backup

    def batch_order(self, epoch: int) -> tuple[bool, torch.Generator, tuple[int, int]]:
        """(shuffle, generator, shard) for ``epoch``'s batches: the same on every process."""
        generator = torch.Generator().manual_seed(self.shuffle_seed + epoch)
        return self.settings.shuffle, generator, (self.world.rank, self.world.size)
