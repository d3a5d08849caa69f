"""Shared 'did the monitored metric improve?' logic for EarlyStopping, checkpoints and LR decay."""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from cnnkit._validation import check_number

__all__ = ["Monitor", "infer_direction"]

MODES = ("auto", "min", "max")

# Metric names whose direction is known, after stripping "val_" and a Keras "_1" suffix.
_MAX_NAMES = frozenset(
    {
        "acc",
        "accuracy",
        "auc",
        "precision",
        "recall",
        "f1_score",
        "fbeta_score",
        "r2_score",
        "iou",
        "mean_iou",
        "cosine_similarity",
        "pearson_correlation",
        "concordance_correlation",
    }
)
_MAX_SUFFIXES = ("_acc", "_accuracy", "_auc", "_iou", "_precision", "_recall")
_MIN_NAMES = frozenset(
    {"mae", "mse", "rmse", "mape", "msle", "logcosh", "poisson", "kld", "kl_divergence"}
)
_MIN_SUFFIXES = ("loss", "error", "crossentropy", "hinge")


def infer_direction(monitor: str) -> str | None:
    """Return 'min' or 'max' for a known metric name (``val_`` prefix allowed), else None."""
    name = re.sub(r"_\d+$", "", monitor.removeprefix("val_"))
    if name in _MAX_NAMES or name.endswith(_MAX_SUFFIXES):
        return "max"
    if name in _MIN_NAMES or name.endswith(_MIN_SUFFIXES):
        return "min"
    return None


class Monitor:
    """Decide whether a monitored value improves on a reference, exactly as Keras 3 does.

    The direction comes from ``mode`` ('min'/'max') or, for 'auto', from the metric name
    (losses and errors are minimised; accuracy, AUC, precision, recall, ... maximised).
    An improvement must beat the reference by more than ``|min_delta|``. Like Keras, the
    comparison is made in float32, so decisions agree with Keras for every input.

    Args:
        owner: Name of the callback using it, for messages.
        monitor: Log key to watch, e.g. ``'val_loss'``.
        mode: 'auto', 'min' or 'max'.
        min_delta: Smallest change that counts as an improvement.

    Example:
        >>> m = Monitor("EarlyStopping", "val_accuracy", "auto", min_delta=0.01)
        >>> m.direction, m.is_improvement(0.905, 0.9), m.is_improvement(0.92, 0.9)
        ('max', False, True)
    """

    def __init__(self, owner: str, monitor: str, mode: str, min_delta: float = 0.0) -> None:
        if not isinstance(monitor, str) or not monitor:
            raise TypeError(
                f"{owner}: monitor must be a non-empty log key such as 'val_loss'. "
                f"Received: monitor={monitor!r}"
            )
        if mode not in MODES:
            raise ValueError(
                f"{owner}: mode must be one of 'auto', 'min', 'max'. Received: mode={mode!r}"
            )
        delta = check_number(min_delta, "min_delta", owner)
        direction = infer_direction(monitor) if mode == "auto" else mode
        if direction is None:
            raise ValueError(
                f"{owner}: cannot tell whether monitor={monitor!r} should be minimised or "
                "maximised. Pass mode='min' or mode='max'."
            )
        self.owner = owner
        self.monitor = monitor
        self.mode = mode
        self.direction = direction
        self.min_delta = abs(delta)

    def is_improvement(self, current: float, reference: float | None) -> bool:
        """Return True if ``current`` beats ``reference`` by more than ``min_delta``."""
        if reference is None:
            return True
        with np.errstate(over="ignore"):  # float32 overflow is inf, as in Keras
            if self.direction == "min":
                return bool(np.float32(current + self.min_delta) < np.float32(reference))
            return bool(np.float32(current - self.min_delta) > np.float32(reference))

    def get(self, logs: Mapping[str, Any] | None, consequence: str) -> Any:
        """Return the monitored value from ``logs``; warn (saying ``consequence``) if absent."""
        logs = logs or {}
        value = logs.get(self.monitor)
        if value is None:
            warnings.warn(
                f"{self.owner}: monitor '{self.monitor}' is not in the logs, so {consequence}. "
                f"Available keys: {', '.join(logs) or '(none)'}",
                stacklevel=3,
            )
        return value
