"""BackupAndRestore: a killed training run resumes exactly where its last epoch ended."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from cnnkit.callbacks._base import Callback, Logs


class BackupAndRestore(Callback):
    """Back up the whole training state at the end of every epoch; restore it when ``fit``
    starts again with the same callback, so an interrupted run continues from there.

    The backup holds weights, optimizer state, the epoch, the shuffling order, every random
    number generator and every other callback's state (EarlyStopping's patience counter,
    ReduceLROnPlateau's cooldown, the History so far), all in one file written atomically:
    a kill at any moment leaves the previous backup or the new one. On CPU a resumed run ends
    with the same weights and History as an uninterrupted one (bit for bit, given the same
    thread count). It runs after every other callback, so it records their end-of-epoch state.

    Args:
        backup_dir: folder for the backup file (created if needed).
        save_freq: 'epoch', or a number of batches: then a backup is also taken every
            ``save_freq`` batches, and a resumed run continues inside the epoch.
        delete_checkpoint: remove the backup when training finishes.

    Example:
        >>> backup = BackupAndRestore("/tmp/run-backup")
        >>> backup.backup_path.name
        'backup.cnnkit'
    """

    runs_last = True

    def __init__(
        self,
        backup_dir: str | os.PathLike,
        save_freq: str = "epoch",
        delete_checkpoint: bool = True,
    ):
        super().__init__()
        if not isinstance(backup_dir, (str, os.PathLike)) or not str(backup_dir):
            raise ValueError(
                f"BackupAndRestore: backup_dir must be a folder path. Received: backup_dir={backup_dir!r}"
            )
        valid_int = isinstance(save_freq, int) and not isinstance(save_freq, bool) and save_freq > 0
        if save_freq != "epoch" and not valid_int:
            raise ValueError(
                "BackupAndRestore: save_freq must be 'epoch' or a number of batches > 0. "
                f"Received: save_freq={save_freq!r}"
            )
        self.backup_dir = Path(backup_dir)
        self.save_freq = save_freq
        self.delete_checkpoint = bool(delete_checkpoint)
        self._epoch = 0
        self._batches = 0

    @property
    def backup_path(self) -> Path:
        """The single file that holds the backup."""
        return self.backup_dir / "backup.cnnkit"

    def on_train_begin(self, logs: Logs | None = None) -> None:
        """Ask the model to continue from the backup, if there is one."""
        if self.backup_path.exists():
            self.model.resume_from(self.backup_path)

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        """Remember the epoch for backups taken between batches."""
        self._epoch = epoch

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """With an integer ``save_freq``, back up every ``save_freq`` batches too."""
        from cnnkit import distributed

        self._batches += 1
        if (
            self.save_freq != "epoch"
            and self._batches % self.save_freq == 0
            and distributed.world().is_main
        ):
            self.model.save_training_state(self.backup_path, self._epoch, mid_epoch=True)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Write the state after this epoch (rank 0 only under torchrun)."""
        from cnnkit import distributed

        if distributed.world().is_main:
            self.model.save_training_state(self.backup_path, epoch)

    def on_train_end(self, logs: Logs | None = None) -> None:
        """Training finished: the backup is no longer needed."""
        from cnnkit import distributed

        if self.delete_checkpoint and distributed.world().is_main and self.backup_path.exists():
            self.backup_path.unlink()

    def state_dict(self) -> dict[str, Any]:
        return {}
