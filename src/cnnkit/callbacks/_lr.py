"""Learning-rate callbacks: ReduceLROnPlateau and LearningRateScheduler (Keras semantics)."""

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from cnnkit._validation import check_int, check_number
from cnnkit.callbacks._base import Callback, Logs
from cnnkit.callbacks._checks import check_state
from cnnkit.callbacks._monitor import Monitor

__all__ = ["LearningRateScheduler", "ReduceLROnPlateau"]


def get_learning_rate(model: Any, owner: str) -> float:
    """Return ``model.optimizer.learning_rate`` as a float, or explain what is missing."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or not hasattr(optimizer, "learning_rate"):
        raise ValueError(
            f"{owner} needs a model whose optimizer has a learning_rate attribute. "
            f"Received: optimizer={optimizer!r}"
        )
    return float(optimizer.learning_rate)


def _schedule_of(model: Any) -> Any:
    """The optimizer's learning-rate schedule, or None when its rate is a plain number."""
    return getattr(getattr(model, "optimizer", None), "learning_rate_schedule", None)


def set_learning_rate(model: Any, value: float, owner: str) -> None:
    """Set the optimizer's rate; refuse, as Keras does, when a schedule sets it every step."""
    schedule = _schedule_of(model)
    if schedule is not None:
        raise TypeError(
            f"{owner} cannot change the learning rate: the optimizer was compiled with the "
            f"schedule {schedule!r}, which sets the rate at every step (Keras refuses too). "
            f"Compile with a float learning_rate to use {owner}, or drop the callback."
        )
    model.optimizer.learning_rate = value


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when the monitored metric stops improving.

    Follows ``keras.callbacks.ReduceLROnPlateau``: after ``patience`` epochs without an
    improvement larger than ``min_delta`` the rate becomes ``max(lr * factor, min_lr)``,
    then ``cooldown`` epochs pass before counting again. Adds ``learning_rate`` to the logs.

    Args:
        monitor: Log key to watch.
        factor: Multiplier for the learning rate, 0 <= factor < 1.
        patience: Epochs without improvement before reducing.
        verbose: 1 prints a line at each reduction.
        mode: 'auto', 'min' or 'max'.
        min_delta: Smallest change that counts as an improvement.
        cooldown: Epochs to wait after a reduction before counting again.
        min_lr: Lower bound on the learning rate.

    Example:
        >>> plateau = ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2, min_lr=1e-5)
        >>> # model.fit(x, y, validation_split=0.2, epochs=50, callbacks=[plateau])
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        verbose: int = 0,
        mode: str = "auto",
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
    ) -> None:
        super().__init__()
        self._monitor = Monitor("ReduceLROnPlateau", monitor, mode, min_delta)
        self.factor = check_number(
            factor, "factor", "ReduceLROnPlateau", minimum=0, maximum=1, exclusive_maximum=True
        )
        self.patience = check_int(patience, "patience", "ReduceLROnPlateau", minimum=0)
        self.cooldown = check_int(cooldown, "cooldown", "ReduceLROnPlateau", minimum=0)
        self.min_lr = check_number(min_lr, "min_lr", "ReduceLROnPlateau", minimum=0)
        self.verbose = check_int(verbose, "verbose", "ReduceLROnPlateau", minimum=0)
        self._reset()

    monitor = property(lambda self: self._monitor.monitor, doc="The watched log key.")
    mode = property(lambda self: self._monitor.mode, doc="'auto', 'min' or 'max'.")
    min_delta = property(lambda self: self._monitor.min_delta, doc="Minimum improvement.")

    def _reset(self) -> None:
        self.best: float | None = None
        self.wait = 0
        self.cooldown_counter = 0

    def in_cooldown(self) -> bool:
        """Return True while epochs after a reduction are not being counted."""
        return self.cooldown_counter > 0

    def on_train_begin(self, logs: Logs | None = None) -> None:
        """Reset the counters and best value."""
        self._reset()
        if _schedule_of(self.model) is not None:
            warnings.warn(
                "ReduceLROnPlateau: the optimizer's learning rate follows a schedule, so a "
                "reduction will fail with a TypeError (as in Keras); compile with a float "
                "learning_rate to let ReduceLROnPlateau change it",
                stacklevel=2,
            )

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Count epochs without improvement and reduce the learning rate when due."""
        logs = {} if logs is None else logs
        logs["learning_rate"] = get_learning_rate(self.model, "ReduceLROnPlateau")
        current = self._monitor.get(logs, "the learning rate is left unchanged")
        if current is None:
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._monitor.is_improvement(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience and self._reduce(epoch, logs["learning_rate"]):
                self.cooldown_counter = self.cooldown
                self.wait = 0

    def _reduce(self, epoch: int, old_lr: float) -> bool:
        """Lower the rate unless it is already at ``min_lr`` (compared in float32, as Keras)."""
        if not np.float32(old_lr) > np.float32(self.min_lr):
            return False
        new_lr = max(old_lr * self.factor, self.min_lr)
        set_learning_rate(self.model, new_lr, "ReduceLROnPlateau")
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new_lr}.")
        return True

    def state_dict(self) -> dict[str, Any]:
        """Return the best value and counters for an exact resume."""
        return {"best": self.best, "wait": self.wait, "cooldown_counter": self.cooldown_counter}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore a ``state_dict()`` (after ``on_train_begin``)."""
        kinds = {"best": "number?", "wait": "int", "cooldown_counter": "int"}
        check_state("ReduceLROnPlateau", state, kinds, kinds)
        self.best = state["best"]
        self.wait = state["wait"]
        self.cooldown_counter = state["cooldown_counter"]


def _takes_lr(schedule: Callable[..., Any]) -> bool:
    """Return True if ``schedule`` accepts ``(epoch, lr)``; False if only ``(epoch)``."""
    try:
        signature = inspect.signature(schedule)
    except (TypeError, ValueError):  # some builtins have no signature: assume the new API
        return True
    try:
        signature.bind(0, 0.1)
    except TypeError:
        return False
    return True


def _as_rate(value: Any) -> float | None:
    """Return ``value`` as a learning rate (a finite float >= 0, 0-d arrays allowed), or None."""
    if isinstance(value, (bool, str, bytes)):
        return None
    try:
        rate = float(value)
    except (TypeError, ValueError):
        return None
    return rate if math.isfinite(rate) and rate >= 0 else None


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of each epoch from ``schedule(epoch, lr)``.

    ``epoch`` is 0-based and ``lr`` the current rate; a one-argument ``schedule(epoch)`` also
    works. Adds ``learning_rate`` to each epoch's logs.

    Args:
        schedule: Function returning the new learning rate (a non-negative float).
        verbose: 1 prints the rate set at each epoch.

    Example:
        >>> def halve_every_10(epoch, lr):
        ...     return lr * 0.5 if epoch and epoch % 10 == 0 else lr
        >>> scheduler = LearningRateScheduler(halve_every_10)
    """

    def __init__(self, schedule: Callable[..., float], verbose: int = 0) -> None:
        super().__init__()
        if not callable(schedule):
            raise TypeError(
                "LearningRateScheduler: schedule must be a function (epoch, lr) -> lr. "
                f"Received: schedule={schedule!r}"
            )
        self.schedule = schedule
        self.verbose = check_int(verbose, "verbose", "LearningRateScheduler", minimum=0)
        self._takes_lr = _takes_lr(schedule)

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        """Ask the schedule for this epoch's rate and set it on the optimizer."""
        lr = get_learning_rate(self.model, "LearningRateScheduler")
        if _schedule_of(self.model) is not None:
            set_learning_rate(self.model, lr, "LearningRateScheduler")  # refuses
        value = self.schedule(epoch, lr) if self._takes_lr else self.schedule(epoch)
        new_lr = _as_rate(value)
        if new_lr is None:
            raise ValueError(
                "LearningRateScheduler: schedule must return a finite float >= 0. "
                f"Received: {value!r} at epoch {epoch}"
            )
        set_learning_rate(self.model, new_lr, "LearningRateScheduler")
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {new_lr}.")

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Record the rate used this epoch as ``learning_rate`` in the logs."""
        if logs is not None:
            logs["learning_rate"] = get_learning_rate(self.model, "LearningRateScheduler")
