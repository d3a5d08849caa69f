"""BackupAndRestore: a killed training run resumes exactly where its last epoch ended."""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cnnkit._files import atomic_write_bytes
from cnnkit._validation import check_int
from cnnkit.callbacks._base import Callback, Logs
from cnnkit.callbacks._checks import check_state


class BackupAndRestore(Callback):
    """Back up the whole training state at the end of every epoch; restore it when ``fit``
    starts again with the same callback, so an interrupted run continues from there.

    The backup holds weights, optimizer state, the epoch, the shuffling order, every random
    number generator (also seeded augmentation layers' own) and every other callback's state
    (EarlyStopping's patience counter, ReduceLROnPlateau's cooldown, the History so far), all
    in one file written atomically; the backup before it is kept as ``backup.prev.cnnkit``.
    A kill at any moment leaves a complete backup. On CPU a resumed run ends with the same
    weights and History as an uninterrupted one (bit for bit, given the same thread count).
    It runs after every other callback, so it records their end-of-epoch state.

    A backup is checked whole before use; one that is damaged or edited is refused with a
    ValueError naming it, or, when the previous backup is sound, skipped with a warning.

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
        self._latest_refused = False

    @property
    def backup_path(self) -> Path:
        """The file that holds the latest backup."""
        return self.backup_dir / "backup.cnnkit"

    @property
    def previous_path(self) -> Path:
        """The backup before the latest: the fallback when the latest cannot be used."""
        return self.backup_dir / "backup.prev.cnnkit"

    def on_train_begin(self, logs: Logs | None = None) -> None:
        """Ask the model to continue from the latest sound backup, if there is one."""
        self._batches, self._latest_refused = 0, False
        if not self.backup_path.exists():
            return
        try:
            self.model.resume_from(self.backup_path)
        except ValueError as latest:
            if not self.previous_path.exists():
                raise
            try:
                self.model.resume_from(self.previous_path)
            except ValueError:
                raise latest from None
            self._latest_refused = True  # the next backup replaces it, the previous one stays
            warnings.warn(
                f"{latest}\nBackupAndRestore: resuming from the previous backup "
                f"{str(self.previous_path)!r} instead",
                stacklevel=2,
            )

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
            self._write(self._epoch, mid_epoch=True)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Write the state after this epoch (rank 0 only under torchrun)."""
        from cnnkit import distributed

        if distributed.world().is_main:
            self._write(epoch, mid_epoch=False)

    def _write(self, epoch: int, mid_epoch: bool) -> None:
        """Keep the latest backup as the previous one, then write the new one atomically
        (each step leaves a complete latest backup)."""
        if self.backup_path.exists() and not self._latest_refused:
            self._keep_previous()
        self._latest_refused = False
        self.model.save_training_state(self.backup_path, epoch, mid_epoch=mid_epoch)

    def _keep_previous(self) -> None:
        """Make ``previous_path`` the latest backup: a hard link renamed into place (a copy
        where the file system has no links)."""
        temporary = self.backup_dir / ".backup.prev.cnnkit.link"
        temporary.unlink(missing_ok=True)
        try:
            os.link(self.backup_path, temporary)
        except OSError:
            atomic_write_bytes(self.previous_path, self.backup_path.read_bytes())
            return
        os.replace(temporary, self.previous_path)

    def on_train_end(self, logs: Logs | None = None) -> None:
        """Training finished: the backup is no longer needed."""
        from cnnkit import distributed

        if self.delete_checkpoint and distributed.world().is_main:
            self.backup_path.unlink(missing_ok=True)
            self.previous_path.unlink(missing_ok=True)

    def state_dict(self) -> dict[str, Any]:
        """The batches trained so far, which decide when the next batch backup is due."""
        return {"batches": self._batches}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore a ``state_dict()``."""
        check_state("BackupAndRestore", state, ("batches",))
        batches = check_int(
            state["batches"], "batches", "BackupAndRestore.load_state_dict", minimum=0
        )
        self._batches = batches
