"""ModelCheckpoint: save the model (or its weights) during training, optionally only the best."""

from __future__ import annotations

import math
import os
import string
import warnings
from collections.abc import Mapping
from typing import Any

from cnnkit._validation import check_int, check_number
from cnnkit.callbacks._base import Callback, Logs
from cnnkit.callbacks._checks import check_state, require_model
from cnnkit.callbacks._monitor import Monitor

__all__ = ["ModelCheckpoint"]

_STATE_KEYS = ("best", "epochs_since_save", "batches_since_save", "last_batch", "current_epoch")


def _check_filepath(filepath: Any) -> str:
    """Return ``filepath`` as a str after checking its ``{...}`` placeholders parse."""
    if not isinstance(filepath, (str, os.PathLike)):
        raise TypeError(
            "ModelCheckpoint: filepath must be a str or path. "
            f"Received: filepath of type {type(filepath).__name__}"
        )
    path = os.fspath(filepath)
    if not path or path.endswith(("/", os.sep)):
        raise ValueError(f"ModelCheckpoint: filepath must name a file. Received: {path!r}")
    if os.path.isdir(path):
        raise ValueError(
            "ModelCheckpoint: filepath must name a file, not an existing folder. "
            f"Received: filepath={path!r}; use e.g. {os.path.join(path, 'model.keras')!r}"
        )
    try:
        list(string.Formatter().parse(path))
    except ValueError as err:
        raise ValueError(
            f"ModelCheckpoint: filepath is not a valid format string ({err}). Received: {path!r}"
        ) from None
    return path


def _atomic_save(save: Any, filepath: str) -> None:
    """Write via ``save(tmp)`` then rename, so a crash never destroys an earlier checkpoint.

    The temporary file sits next to the target and keeps its name's ending, so a save
    function that picks the format from the extension still sees the right one.
    """
    folder, name = os.path.split(os.path.abspath(filepath))
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f".tmp-{os.getpid()}-{name}")
    try:
        save(tmp)
        os.replace(tmp, filepath)
    finally:
        if os.path.lexists(tmp):
            os.remove(tmp)


class ModelCheckpoint(Callback):
    """Save the model during training: every epoch, every N epochs/batches, or only the best.

    ``filepath`` may hold placeholders filled from the 1-based ``epoch``, ``batch`` and the
    logs, e.g. ``'ckpt-{epoch:02d}-{val_loss:.2f}.keras'``; parent folders are created.
    Any extension is accepted: the file is written by ``model.save`` (or
    ``model.save_weights``) into a temporary file that then replaces the target, so an
    interrupted save never leaves a half-written or lost checkpoint. If ``monitor`` is
    missing from the logs with ``save_best_only``, a warning is issued and nothing is
    written (Keras 3 would save, possibly overwriting a better model).

    Args:
        filepath: Where to save; a format string as above.
        monitor: Log key deciding "best".
        verbose: 1 prints a line for each decision.
        save_best_only: Save only when ``monitor`` improves.
        save_weights_only: Call ``model.save_weights`` instead of ``model.save``.
        mode: 'auto', 'min' or 'max' for ``monitor``.
        save_freq: 'epoch', or an int N to save every N training batches.
        initial_value_threshold: A "best" value to beat before the first save.
        period: Keras 2 spelling: save every ``period`` epochs (``save_freq`` must be 'epoch').

    Example:
        >>> ckpt = ModelCheckpoint("ckpt/best.keras", monitor="val_accuracy", save_best_only=True)
        >>> # model.fit(x, y, validation_split=0.2, epochs=10, callbacks=[ckpt])
    """

    writes_files = True  # under torchrun only rank 0 runs it

    def __init__(
        self,
        filepath: str | os.PathLike[str],
        monitor: str = "val_loss",
        verbose: int = 0,
        save_best_only: bool = False,
        save_weights_only: bool = False,
        mode: str = "auto",
        save_freq: str | int = "epoch",
        initial_value_threshold: float | None = None,
        period: int | None = None,
    ) -> None:
        super().__init__()
        self.filepath = _check_filepath(filepath)
        self._monitor = Monitor("ModelCheckpoint", monitor, mode)
        if save_freq != "epoch":
            save_freq = check_int(save_freq, "save_freq", "ModelCheckpoint", minimum=1)
        if period is not None:
            period = check_int(period, "period", "ModelCheckpoint", minimum=1)
            if save_freq != "epoch":
                raise ValueError(
                    "ModelCheckpoint: period (every N epochs) cannot be combined with an integer "
                    f"save_freq (every N batches). Received: period={period}, save_freq={save_freq}"
                )
        self.save_freq = save_freq
        self.period = 1 if period is None else period
        self.verbose = check_int(verbose, "verbose", "ModelCheckpoint", minimum=0)
        self.save_best_only = bool(save_best_only)
        self.save_weights_only = bool(save_weights_only)
        # Like Keras, ``best`` survives across fit() calls: a second run must beat the first.
        self.best = check_number(
            initial_value_threshold,
            "initial_value_threshold",
            "ModelCheckpoint",
            finite=False,
            optional=True,
        )
        self._reset_counters()

    monitor = property(lambda self: self._monitor.monitor, doc="The watched log key.")
    mode = property(lambda self: self._monitor.mode, doc="'auto', 'min' or 'max'.")

    def _reset_counters(self) -> None:
        self._epochs_since_save = 0
        self._batches_since_save = 0
        self._last_batch: int | None = None
        self._current_epoch = 0

    def on_train_begin(self, logs: Logs | None = None) -> None:
        """Reset the epoch/batch counters (``best`` is kept, as in Keras)."""
        self._reset_counters()

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        """Remember the epoch for batch-level checkpoint names."""
        self._current_epoch = epoch

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """With an integer ``save_freq``, save every ``save_freq`` batches."""
        if self.save_freq == "epoch":
            return
        new_epoch = self._last_batch is None or batch <= self._last_batch
        self._batches_since_save += batch + 1 if new_epoch else batch - self._last_batch
        self._last_batch = batch
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            self._save(self._current_epoch, batch, logs or {})

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """With ``save_freq='epoch'``, save every ``period`` epochs."""
        if self.save_freq != "epoch":
            return
        self._epochs_since_save += 1
        if self._epochs_since_save >= self.period:
            self._epochs_since_save = 0
            self._save(epoch, None, logs or {})

    def format_filepath(self, epoch: int, batch: int | None, logs: Mapping[str, Any]) -> str:
        """Return the path for 0-based ``epoch``/``batch``: placeholders get 1-based numbers."""
        fields = {**logs, "epoch": epoch + 1}
        if batch is not None and "batch" not in logs:
            fields["batch"] = batch + 1
        try:
            return self.filepath.format(**fields)
        except KeyError as err:
            raise KeyError(
                f"ModelCheckpoint: filepath {self.filepath!r} uses {{{err.args[0]}}}, which is "
                f"not in the logs. Available: {', '.join(sorted(fields))}"
            ) from None

    def _should_save(self, epoch: int, logs: Mapping[str, Any], filepath: str) -> bool:
        if not self.save_best_only:
            self._say(f"\nEpoch {epoch + 1}: saving model to {filepath}")
            return True
        current = self._monitor.get(logs, "the model is not saved")
        if current is None:
            return False
        best = "None" if self.best is None else f"{self.best:.5f}"
        if self._monitor.is_improvement(current, self.best):
            self._say(
                f"\nEpoch {epoch + 1}: {self.monitor} improved from {best} to {current:.5f}, "
                f"saving model to {filepath}"
            )
            self.best = current
            return True
        self._say(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best}")
        return False

    def _save(self, epoch: int, batch: int | None, logs: Mapping[str, Any]) -> None:
        filepath = self.format_filepath(epoch, batch, logs)
        if os.path.isdir(filepath):
            raise IsADirectoryError(
                f"ModelCheckpoint: filepath must name a file, not an existing folder: {filepath}"
            )
        if not self._should_save(epoch, logs, filepath):
            return
        diverged = [
            k for k, v in logs.items() if isinstance(v, (int, float)) and not math.isfinite(v)
        ]
        if diverged:  # keep the last good checkpoint rather than overwrite it with a diverged model
            warnings.warn(
                f"ModelCheckpoint: not saving epoch {epoch + 1}: {', '.join(diverged)} is NaN or infinite",
                stacklevel=2,
            )
            return
        model = require_model("ModelCheckpoint", self.model)
        save = model.save_weights if self.save_weights_only else model.save
        _atomic_save(save, filepath)

    def _say(self, message: str) -> None:
        if self.verbose > 0:
            print(message)

    def state_dict(self) -> dict[str, Any]:
        """Return the best value and the save counters for an exact resume."""
        values = (
            self.best,
            self._epochs_since_save,
            self._batches_since_save,
            self._last_batch,
            self._current_epoch,
        )
        return dict(zip(_STATE_KEYS, values, strict=True))

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore a ``state_dict()`` (after ``on_train_begin``)."""
        kinds = dict(zip(_STATE_KEYS, ("number?", "int", "int", "int?", "int"), strict=True))
        check_state("ModelCheckpoint", state, _STATE_KEYS, kinds)
        self.best = state["best"]
        self._epochs_since_save = state["epochs_since_save"]
        self._batches_since_save = state["batches_since_save"]
        self._last_batch = state["last_batch"]
        self._current_epoch = state["current_epoch"]
