"""A training job for tests/test_resume.py: it may be killed at a chosen moment and rerun.

Usage: resume_job.py OUT_DIR [--kill-at-batch N | --kill-in-write N] [--save-every STEPS]
    [--augment]
--augment: a seeded RandomFlip and an unseeded RandomTranslation open the model.
--kill-at-batch N: SIGKILL itself at the N-th training batch (counted over the whole run).
--kill-in-write N: SIGKILL itself half-way through the N-th file write (a backup being written).
Writes OUT_DIR/final.npz and OUT_DIR/history.json when training completes.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import numpy as np
import torch

import cnnkit
import cnnkit._files
import cnnkit.models._model_file_write
from cnnkit.layers import (
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    MaxPooling2D,
    RandomFlip,
    RandomTranslation,
)


def option(name: str) -> int | None:
    return int(sys.argv[sys.argv.index(name) + 1]) if name in sys.argv else None


class KillAtBatch(cnnkit.callbacks.Callback):
    def __init__(self, at: int):
        super().__init__()
        self.at, self.seen = at, 0

    def on_train_batch_end(self, batch, logs=None):
        self.seen += 1
        if self.seen == self.at:
            os.kill(os.getpid(), signal.SIGKILL)


def kill_during_write(at: int) -> None:
    """Make the at-th atomic write die after writing half of its temporary file."""
    original, calls = cnnkit._files.atomic_write_bytes, [0]

    def dying(path, data):
        calls[0] += 1
        if calls[0] == at:
            target = Path(path)
            with open(target.parent / f".{target.name}.partial.tmp", "wb") as stream:
                stream.write(data[: len(data) // 2])
                stream.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        return original(path, data)

    cnnkit._files.atomic_write_bytes = dying
    cnnkit.models._model_file_write.atomic_write_bytes = dying


def main() -> None:
    out = Path(sys.argv[1])
    torch.set_num_threads(1)
    if option("--kill-in-write") is not None:
        kill_during_write(option("--kill-in-write"))
    cnnkit.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 10, 10, 1)).astype(np.float32)
    y = (x[:, :5].sum(axis=(1, 2, 3)) > 0).astype(np.int64) + 2 * (
        x[:, :, :5].sum(axis=(1, 2, 3)) > 0
    )
    augment = [RandomFlip(seed=3), RandomTranslation(0.2, 0.2)] if "--augment" in sys.argv else []
    model = cnnkit.Sequential(
        [
            cnnkit.Input((10, 10, 1)),
            *augment,
            Conv2D(4, 3, activation="relu"),
            MaxPooling2D(),
            Flatten(),
            Dropout(0.3),
            Dense(4, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    callbacks = [
        cnnkit.callbacks.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True),
        cnnkit.callbacks.ReduceLROnPlateau(monitor="val_loss", patience=1, factor=0.5),
        cnnkit.callbacks.BackupAndRestore(
            out / "backup", save_freq=option("--save-every") or "epoch"
        ),
    ]
    if option("--kill-at-batch") is not None:
        callbacks.append(KillAtBatch(option("--kill-at-batch")))
    else:
        callbacks.append(KillAtBatch(10**9))  # the same callbacks in every run
    history = model.fit(
        x, y, batch_size=16, epochs=8, validation_split=0.25, callbacks=callbacks, verbose=0
    )
    np.savez(out / "final.npz", *model.get_weights())
    (out / "history.json").write_text(
        json.dumps({"history": history.history, "epoch": history.epoch})
    )


if __name__ == "__main__":
    main()
