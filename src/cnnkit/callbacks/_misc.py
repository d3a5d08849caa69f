"""Small callbacks: TerminateOnNaN (stop on a diverged loss) and LambdaCallback (ad-hoc hooks)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from cnnkit.callbacks._base import HOOKS, Callback, Logs

__all__ = ["LambdaCallback", "TerminateOnNaN"]


class TerminateOnNaN(Callback):
    """Stop training as soon as a batch's loss is NaN or infinite.

    By default it sets ``model.stop_training`` (other callbacks still finish cleanly) and
    prints which epoch and batch diverged; ``raise_error=True`` raises instead.

    Args:
        raise_error: Raise ``RuntimeError`` instead of stopping gracefully.

    Example:
        >>> # model.fit(x, y, epochs=10, callbacks=[TerminateOnNaN()])
    """

    def __init__(self, raise_error: bool = False) -> None:
        super().__init__()
        self.raise_error = bool(raise_error)
        self._epoch = 0

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        """Remember the epoch for the message."""
        self._epoch = epoch

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Check the batch loss; stop (or raise) if it is not finite."""
        loss = (logs or {}).get("loss")
        if loss is None or math.isfinite(float(loss)):
            return
        message = (
            f"Epoch {self._epoch + 1}, batch {batch + 1}: invalid loss ({float(loss)}), "
            "terminating training"
        )
        if self.raise_error:
            raise RuntimeError(message)
        print(message)
        self.model.stop_training = True


class LambdaCallback(Callback):
    """Build a callback from plain functions, e.g. to print or log something per epoch.

    Pass any hook by name; epoch and batch hooks get ``(index, logs)``, the begin/end
    hooks of train/test/predict get ``(logs)``. Hooks not given do nothing.

    Args:
        **hooks: Functions keyed by hook name (``on_epoch_end``, ``on_train_batch_end``, ...).

    Example:
        >>> cb = LambdaCallback(on_epoch_end=lambda epoch, logs: print(epoch, logs["loss"]))
        >>> cb.on_epoch_end(0, {"loss": 0.5})
        0 0.5
    """

    def __init__(self, **hooks: Callable[..., Any] | None) -> None:
        super().__init__()
        accepted = (*HOOKS, "on_batch_begin", "on_batch_end")
        for name, function in hooks.items():
            if name not in accepted:
                raise TypeError(
                    f"LambdaCallback: unknown hook {name!r}. Accepted: {', '.join(accepted)}"
                )
            if function is None:
                continue
            if not callable(function):
                raise TypeError(
                    f"LambdaCallback: {name} must be a function. Received: {name}={function!r}"
                )
            setattr(self, name, function)
