"""One training epoch of fit: the batches through the step, the loss and metrics tracked, the
batch hooks called, and how far it got kept on the run for a backup."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch

from cnnkit import metrics as metrics_module
from cnnkit._fast import _ahead
from cnnkit.training import _resume
from cnnkit.training._logs import global_batch_sizes, read_logs
from cnnkit.training._run import Position, Run, Trained


def epoch_batches(
    model: Any, run: Run, epoch: int, position: Position
) -> tuple[Iterator[tuple[int, tuple]], _ahead.GroupStarts | None]:
    """``epoch``'s (index, batch) pairs from ``position.step`` on, and the group of batches
    augmented ahead (None on the plain path)."""
    order = run.batch_order(epoch)
    if run.plan == _ahead.Plan():  # the plain path: each batch on its own, all layers in the step
        batches = run.train.batches(
            run.settings.batch_size, *order, first=position.step, limit=run.steps
        )
        return enumerate(batches, start=position.step), None
    generators = _resume.ModelGenerators(model)
    return _ahead.epoch_batches(  # the fast path: see cnnkit._fast._ahead
        model, run.train, run.settings.batch_size, order, run.steps, run.plan, generators, position
    )


def _new_trackers(
    model: Any, y: torch.Tensor | None, shape: torch.Size, position: Position
) -> list[metrics_module.Metric]:
    """The loss tracker and fresh metrics, with a backed-up epoch's running totals put back."""
    trackers = [metrics_module.Mean(name="loss"), *model._new_trackers(y, shape)]
    if position.totals is not None:
        _resume.restore_totals(trackers, position.totals)
    return trackers


def train_epoch(model: Any, run: Run, epoch: int) -> dict[str, float]:
    """One pass over the training data (continuing a backed-up one where ``run.position``
    lies in ``epoch``); returns the epoch's logs over all processes."""
    model.train()
    position = run.position.within(epoch)
    world, callbacks = run.world, run.callbacks
    sizes = global_batch_sizes(len(run.train), run.settings.batch_size) if world.active else None
    trackers: list[metrics_module.Metric] = []  # the loss's, then the metrics'
    probabilities = False
    batch_hooks = callbacks.needs_train_batch_hooks()
    batches, groups = epoch_batches(model, run, epoch, position)
    for index, (xb, yb, wb) in batches:
        if batch_hooks:
            callbacks.on_train_batch_begin(index)
        scale = len(xb) * world.size / sizes[index] if sizes else 1.0
        outputs, loss = run.step(xb, yb, wb, scale)
        if not trackers:
            trackers = _new_trackers(model, yb, outputs.shape, position)
            probabilities = run.outputs_are_logits and not all(t.ranks_only for t in trackers[1:])
        if probabilities:
            outputs = torch.softmax(outputs, dim=-1)  # a metric needs probabilities, not logits
        trackers[0].update_state(loss, len(xb))
        for tracker in trackers[1:]:
            tracker.update_state(yb, outputs, wb)
        run.trained = Trained(epoch, index + 1, trackers, groups)
        if batch_hooks:
            callbacks.on_train_batch_end(index, read_logs(trackers[0], trackers[1:]))
        if model.stop_training:
            break
    if not trackers and position.totals is not None:  # the backup was taken after the last batch
        empty = torch.Size([0, *model.output_shape[1:]])
        trackers = _new_trackers(model, None, empty, position)
    loss, metrics = (
        (trackers[0], trackers[1:]) if trackers else (metrics_module.Mean(name="loss"), [])
    )
    return read_logs(loss, metrics, across_processes=world.active)
