"""The callbacks of a ``cnnkit train`` run: schedule, NaN guard, checkpoints, logs, state.

Their order matters: the checkpoints run before the state is written, so ``run.json`` never
claims an epoch whose model is not on disk; the backup runs last, so it holds every other
callback's state after the epoch.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from cnnkit.callbacks import (
    BackupAndRestore,
    Callback,
    CSVLogger,
    ModelCheckpoint,
    TensorBoard,
    TerminateOnNaN,
)
from cnnkit.cli import _run_dir
from cnnkit.cli._schedule import OneCycle


def _finite_loss(logs: dict | None) -> bool:
    return math.isfinite(float((logs or {}).get("loss", 0.0)))


class FiniteCheckpoint(ModelCheckpoint):
    """A ModelCheckpoint that skips a diverged (NaN) epoch quietly: ``train`` reports the
    divergence itself, in one line, and the last good checkpoint stays for ``--resume``."""

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        """Save as ModelCheckpoint does, unless this epoch's loss is NaN or infinite."""
        if _finite_loss(logs):
            super().on_epoch_end(epoch, logs)


class StateWriter(Callback):
    """After every good epoch, record in ``run.json`` the epochs done and the best score."""

    def __init__(self, run_dir: Path, state: dict[str, Any], best: ModelCheckpoint | None) -> None:
        super().__init__()
        self.run_dir, self.state, self.best = run_dir, state, best

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        """Write the state with ``epochs_done = epoch + 1`` (skipped for a diverged epoch)."""
        if not _finite_loss(logs):
            return
        self.state["epochs_done"] = epoch + 1
        if self.best is not None and self.best.best is not None:
            self.state["best_val_accuracy"] = float(self.best.best)
        _run_dir.write_json(self.run_dir / _run_dir.STATE, self.state)


def run_callbacks(run_dir: Path, state: dict[str, Any], resume: bool) -> list[Callback]:
    """Every callback of a run, in the order they must run; ``resume`` appends to the logs."""
    settings = state["settings"]
    best = None
    if settings["validation_split"] > 0:
        best = FiniteCheckpoint(
            run_dir / _run_dir.BEST,
            monitor="val_accuracy",
            save_best_only=True,
            initial_value_threshold=state.get("best_val_accuracy"),
        )
    callbacks: list[Callback] = [
        OneCycle(settings["learning_rate"], state["epochs"]),
        TerminateOnNaN(),
        FiniteCheckpoint(run_dir / _run_dir.LAST, save_best_only=False),
        *([best] if best is not None else []),
        CSVLogger(run_dir / _run_dir.HISTORY, append=resume),
        TensorBoard(run_dir / _run_dir.LOGS),
        StateWriter(run_dir, state, best),
        BackupAndRestore(run_dir / _run_dir.BACKUP),
    ]
    return callbacks
