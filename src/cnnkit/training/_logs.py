"""Small pieces the loops share: reading metrics into logs, argument checks, batch arithmetic."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from cnnkit import distributed
from cnnkit import metrics as metrics_module
from cnnkit.training._data import ArrayData


def read_logs(
    loss_tracker: metrics_module.Mean,
    trackers: list[metrics_module.Metric],
    across_processes: bool = False,
) -> dict[str, float]:
    """The logs: each metric's running mean (over all processes when asked)."""
    if across_processes:
        for tracker in (loss_tracker, *trackers):
            tracker.synchronize()
    logs = {"loss": loss_tracker.result()}
    for tracker in trackers:
        logs[tracker.name] = float(tracker.result())  # a user's metric may return a tensor
    return logs


def callbacks_for_rank(
    callbacks: Sequence[Any] | None, world: distributed.World
) -> list[Any] | None:
    """All callbacks on rank 0; elsewhere only those that write no files (EarlyStopping, ...)."""
    if callbacks is None or world.is_main:
        return callbacks
    return [c for c in callbacks if not getattr(c, "writes_files", False)]


def global_batch_sizes(n: int, batch_size: int) -> list[int]:
    """The size of each global batch of an epoch over ``n`` samples."""
    return [min(batch_size, n - start) for start in range(0, n, batch_size)]


def chunk_sizes(n: int, size: int) -> list[int]:
    """Split ``n`` rows into ``size`` contiguous chunks as evenly as possible."""
    base, extra = divmod(n, size)
    return [base + (1 if rank < extra else 0) for rank in range(size)]


def class_weights_to_samples(data: ArrayData, class_weight: dict[int, float]) -> torch.Tensor:
    """Per-sample weights from Keras' ``class_weight`` dict (times any ``sample_weight``)."""
    if not isinstance(class_weight, dict):
        raise TypeError(
            f"fit: class_weight must be a dict {{class index: weight}}. Received: {class_weight!r}"
        )
    for label, weight in class_weight.items():
        if isinstance(label, bool) or not isinstance(label, (int, np.integer)):
            raise TypeError(
                f"fit: class_weight keys must be int class indices. Received key {label!r}"
            )
        if label < 0:
            raise ValueError(
                f"fit: class_weight keys must be class indices >= 0. Received key {label!r}"
            )
        if (
            isinstance(weight, bool)
            or not isinstance(weight, (int, float))
            or not np.isfinite(weight)
            or weight < 0
        ):
            raise ValueError(
                f"fit: class_weight values must be finite weights >= 0. Received {label}: {weight!r}"
            )
    one_hot = data.y.ndim > 1 and data.y.shape[-1] > 1
    labels = data.y.argmax(dim=-1) if one_hot else data.y.reshape(-1).long()
    table = torch.ones(int(max(max(class_weight), int(labels.max()))) + 1, device=labels.device)
    for label, weight in class_weight.items():
        table[int(label)] = float(weight)
    weights = table[labels]
    return weights if data.sample_weight is None else weights * data.sample_weight
