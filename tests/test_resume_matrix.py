"""Interrupted at random moments and resumed, a run ends bit for bit like an uninterrupted
one, for every mix of seeded or unseeded augmentation, epoch or batch backups, shuffling and
batches augmented in groups ahead of their steps (or one at a time)."""

from __future__ import annotations

import itertools
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import cnnkit
from cnnkit import layers
from cnnkit._fast import _ahead

EPOCHS, SAMPLES, BATCH = 2, 24, 4  # six batches an epoch; groups of four when grouped
JOB = Path(__file__).with_name("resume_job.py")


@pytest.fixture(autouse=True)
def on_the_cpu():
    """Bit-for-bit equality is promised on the CPU (GPU kernels may sum in any order); the
    tests that set one torch thread leave the process's thread count as they found it."""
    cnnkit.config.set_device("cpu")
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)
    cnnkit.config.set_device("auto")


class Interrupted(Exception):
    """Stands in for a kill: the process's state after it is never used again."""


class InterruptAt(cnnkit.callbacks.Callback):
    """Raise at the ``at``-th call of ``hook`` (None: never), before the backup of that moment."""

    def __init__(self, hook: str | None = None, at: int | None = None):
        super().__init__()
        self.hook, self.at, self.calls = hook, at, 0

    def _tick(self, hook: str) -> None:
        if hook == self.hook:
            self.calls += 1
            if self.calls == self.at:
                raise Interrupted(f"{hook} {self.at}")

    def on_train_batch_begin(self, batch, logs=None):
        self._tick("batch_begin")

    def on_train_batch_end(self, batch, logs=None):
        self._tick("batch_end")

    def on_epoch_end(self, epoch, logs=None):
        self._tick("epoch_end")


def fresh_model(seeded: bool) -> cnnkit.Sequential:
    """What a new process builds: the same initial weights, generators not yet drawn from."""
    cnnkit.utils.set_random_seed(0)
    seeds = (5, 6) if seeded else (None, None)
    model = cnnkit.Sequential(
        [
            cnnkit.Input((6, 6, 2)),
            layers.RandomFlip(seed=seeds[0]),
            layers.RandomTranslation(0.3, 0.3, seed=seeds[1]),
            layers.Conv2D(3, 3, activation="relu"),
            layers.Dropout(0.3),  # draws from torch's generator inside the step
            layers.Flatten(),
            layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def data():
    rng = np.random.default_rng(0)
    return rng.random((SAMPLES, 6, 6, 2), dtype=np.float32), rng.integers(0, 3, SAMPLES)


def train(tmp_path, case, interrupt: InterruptAt):
    """One process's fit: its weights and History, or None when interrupted."""
    seeded, save_freq, shuffle = case
    model = fresh_model(seeded)
    x, y = data()
    callbacks = [
        cnnkit.callbacks.ReduceLROnPlateau(monitor="loss", patience=1, factor=0.5),
        interrupt,
        cnnkit.callbacks.BackupAndRestore(tmp_path / "backup", save_freq=save_freq),
    ]
    try:
        history = model.fit(
            x, y, batch_size=BATCH, epochs=EPOCHS, shuffle=shuffle, callbacks=callbacks, verbose=0
        )
    except Interrupted:
        return None
    return model.get_weights(), history.history


CASES = list(itertools.product([True, False], ["epoch", 1, 3], [True, False], [True, False]))


@pytest.mark.parametrize(("seeded", "save_freq", "shuffle", "grouped"), CASES)
def test_interrupted_at_random_moments_resumes_bit_for_bit(
    tmp_path, monkeypatch, seeded, save_freq, shuffle, grouped
):
    torch.set_num_threads(1)
    if not grouped:
        monkeypatch.setattr(_ahead, "MAX_GROUP", 1)
    case = (seeded, save_freq, shuffle)
    weights, history = train(tmp_path / "whole", case, InterruptAt())
    draw = random.Random(repr((seeded, save_freq, shuffle, grouped)))
    hooks = {"batch_begin": EPOCHS * 6, "batch_end": EPOCHS * 6, "epoch_end": EPOCHS}
    hook = draw.choice(sorted(hooks))
    assert train(tmp_path, case, InterruptAt(hook, draw.randint(1, hooks[hook]))) is None
    hook = draw.choice(sorted(hooks))  # again, at a moment the resumed run may not reach
    resumed = train(tmp_path, case, InterruptAt(hook, draw.randint(1, hooks[hook])))
    if resumed is None:
        resumed = train(tmp_path, case, InterruptAt())
    for got, expected in zip(resumed[0], weights):
        np.testing.assert_array_equal(got, expected)
    assert resumed[1] == history
    assert not (tmp_path / "backup" / "backup.cnnkit").exists()


def test_a_backup_inside_a_group_augments_the_group_again_from_its_start(tmp_path):
    """Interrupted after the second batch of a group of four, with a backup every batch."""
    case = (False, 1, True)
    weights, history = train(tmp_path / "whole", case, InterruptAt())
    assert train(tmp_path, case, InterruptAt("batch_begin", 3)) is None
    assert _ahead.group_size(cnnkit.training._data.ArrayData(torch.zeros(24, 6, 6, 2)), 4) == 4
    resumed = train(tmp_path, case, InterruptAt())
    assert resumed is not None and resumed[1] == history
    for got, expected in zip(resumed[0], weights):
        np.testing.assert_array_equal(got, expected)


def test_killed_with_sigkill_inside_a_group_of_augmented_batches(tmp_path):
    """A real kill of a process training behind seeded and unseeded augmentation layers, with a
    backup every three batches (groups of four): the resumed run matches an uninterrupted one."""

    def job(out: Path, *extra: str) -> subprocess.CompletedProcess:
        command = [sys.executable, str(JOB), str(out), "--augment", "--save-every", "3", *extra]
        return subprocess.run(command, capture_output=True, text=True, timeout=300)

    whole = job(tmp_path / "whole")
    assert whole.returncode == 0, whole.stderr[-3000:]
    at = random.Random(7).choice([5, 7, 14])  # batches that fall inside a group of four
    killed = job(tmp_path / "run", "--kill-at-batch", str(at))
    assert killed.returncode == -9, killed.stderr[-2000:]
    resumed = job(tmp_path / "run")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    expected, got = (
        np.load(tmp_path / "whole" / "final.npz"),
        np.load(tmp_path / "run" / "final.npz"),
    )
    for name in expected.files:
        np.testing.assert_array_equal(got[name], expected[name])
    assert (tmp_path / "run" / "history.json").read_text() == (
        tmp_path / "whole" / "history.json"
    ).read_text()
