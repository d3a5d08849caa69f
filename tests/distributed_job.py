"""A small training job run by tests/test_distributed.py, alone or under torchrun.

Usage: distributed_job.py OUT_DIR [--fail-rank R] [--functional]
--functional: the network written with the functional API, with a residual connection.
The job trains on the CPU (gloo), on a GPU machine too, unless CNNKIT_JOB_DEVICE names another
device ('cuda': one GPU per process, NCCL; bench/torchrun_check.py uses it).
Writes OUT_DIR/weights-<world size>.npz (rank 0), OUT_DIR/rank<r>.json (each rank: its own
observations, written by this harness), OUT_DIR/threads-at-exit<r>.json (the process's threads
once cnnkit's exit handler has run; Linux only) and cnnkit callback files under OUT_DIR/run-<rank>/.
"""

from __future__ import annotations

import atexit
import json
import os
import sys
from pathlib import Path

import numpy as np
import torch

import cnnkit
from cnnkit.layers import Conv2D, Dense, Flatten, MaxPooling2D

TASKS = Path("/proc/self/task")


def thread_names() -> list[str] | None:
    """Names of this process's native threads (None where /proc/self/task does not exist)."""
    if not TASKS.is_dir():
        return None
    return sorted((task / "comm").read_text().strip() for task in TASKS.iterdir())


def sequential_model() -> cnnkit.Sequential:
    return cnnkit.Sequential(
        [
            Conv2D(4, 3, activation="relu", input_shape=(12, 12, 1)),
            MaxPooling2D(),
            Flatten(),
            Dense(8, activation="tanh"),
            Dense(4, activation="softmax"),
        ]
    )


def functional_model() -> cnnkit.Model:
    inputs = cnnkit.Input(shape=(12, 12, 1))
    x = Flatten()(MaxPooling2D()(Conv2D(4, 3, activation="relu")(inputs)))
    hidden = Dense(8, activation="tanh")(x)
    hidden = cnnkit.layers.add([hidden, Dense(8, activation="tanh")(hidden)])  # residual
    return cnnkit.Model(inputs, Dense(4, activation="softmax")(hidden))


def main() -> cnnkit.Model:
    out = Path(sys.argv[1])
    fail_rank = (
        int(sys.argv[sys.argv.index("--fail-rank") + 1]) if "--fail-rank" in sys.argv else None
    )
    rank, size = int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))
    # registered before fit joins the process group, so it runs after cnnkit's exit handler
    atexit.register(
        lambda: (out / f"threads-at-exit{rank}.json").write_text(json.dumps(thread_names()))
    )
    torch.set_num_threads(1)
    cnnkit.config.set_device(os.environ.get("CNNKIT_JOB_DEVICE", "cpu"))
    cnnkit.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(90, 12, 12, 1)).astype(np.float32)
    y = (x[:, :6].mean(axis=(1, 2, 3)) > x[:, 6:].mean(axis=(1, 2, 3))).astype(np.int64) + 2 * (
        x[:, :, :6].mean(axis=(1, 2, 3)) > 0
    )
    model = functional_model() if "--functional" in sys.argv else sequential_model()
    model.compile(
        optimizer=cnnkit.optimizers.SGD(0.1, momentum=0.9),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    run_dir = out / f"run-{rank}"
    callbacks = [
        cnnkit.callbacks.ModelCheckpoint(str(run_dir / "ckpt-{epoch:02d}.keras")),
        cnnkit.callbacks.CSVLogger(str(run_dir / "history.csv")),
        cnnkit.callbacks.EarlyStopping(monitor="loss", min_delta=10.0, patience=1),
    ]
    if fail_rank == rank:
        raise RuntimeError(f"rank {rank} fails on purpose")
    history = model.fit(
        x, y, batch_size=16, epochs=6, callbacks=callbacks, verbose=0, validation_split=0.2
    )
    predictions = model.predict(x, batch_size=8, verbose=0)
    (out / f"rank{rank}.json").write_text(
        json.dumps(
            {
                "epochs_run": len(history.epoch),
                "history": history.history,
                "predictions": predictions.tolist(),
                "threads": thread_names(),
            }
        )
    )
    if rank == 0:
        np.savez(out / f"weights-{size}.npz", *model.get_weights())
    return model


if __name__ == "__main__":
    model = main()  # alive until the interpreter finalizes, as in a user's script
