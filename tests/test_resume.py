"""A run killed with SIGKILL at random moments and resumed ends exactly like an uninterrupted one."""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import cnnkit

JOB = Path(__file__).with_name("resume_job.py")


def run(out: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(JOB), str(out), *extra], capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("uninterrupted")
    result = run(out)
    assert result.returncode == 0, result.stderr[-3000:]
    return out


def assert_same_run(out: Path, reference: Path) -> None:
    expected, got = np.load(reference / "final.npz"), np.load(out / "final.npz")
    for name in expected.files:
        np.testing.assert_array_equal(got[name], expected[name])
    assert json.loads((out / "history.json").read_text()) == json.loads(
        (reference / "history.json").read_text()
    )
    assert not (out / "backup" / "backup.cnnkit").exists()  # deleted once training finished


# 72 training images in batches of 16: 5 steps per epoch, 8 epochs; kill moments drawn once, seeded
MOMENTS = random.Random(20261124).sample(range(2, 30), 3)


@pytest.mark.parametrize("batch", MOMENTS)
def test_killed_during_a_step_then_resumed(tmp_path, reference, batch):
    killed = run(tmp_path, "--kill-at-batch", str(batch))
    assert killed.returncode == -9, killed.stderr[-2000:]
    resumed = run(tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert_same_run(tmp_path, reference)


@pytest.mark.parametrize("batch", MOMENTS[:2])
def test_backups_every_three_batches_resume_inside_the_epoch(tmp_path, reference, batch):
    killed = run(tmp_path, "--kill-at-batch", str(batch), "--save-every", "3")
    assert killed.returncode == -9, killed.stderr[-2000:]
    resumed = run(tmp_path, "--save-every", "3")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert_same_run(tmp_path, reference)


@pytest.mark.parametrize("write", [2, 4])
def test_killed_while_writing_a_backup_then_resumed(tmp_path, reference, write):
    killed = run(tmp_path, "--kill-in-write", str(write))
    assert killed.returncode == -9, killed.stderr[-2000:]
    backup = tmp_path / "backup" / "backup.cnnkit"
    assert backup.exists()  # the previous backup survived the interrupted write
    cnnkit.models.load_model(backup)  # and is complete
    resumed = run(tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert_same_run(tmp_path, reference)


def test_backup_of_another_architecture_is_refused(tmp_path):
    model = cnnkit.zoo.get("lenet5")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x, y = np.zeros((8, 32, 32, 1), np.float32), np.zeros(8, np.int64)
    backup = cnnkit.callbacks.BackupAndRestore(tmp_path, delete_checkpoint=False)
    model.fit(x, y, epochs=1, callbacks=[backup], verbose=0)
    other = cnnkit.zoo.get("lenet5", num_classes=3)
    other.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="holds a different architecture"):
        other.fit(
            x, y, epochs=1, callbacks=[cnnkit.callbacks.BackupAndRestore(tmp_path)], verbose=0
        )
    with pytest.raises(ValueError, match="save_freq must be 'epoch' or a number of batches > 0"):
        cnnkit.callbacks.BackupAndRestore(tmp_path, save_freq=0)


def test_diverging_run_stops_naming_epoch_and_step_and_keeps_the_last_good_checkpoint(
    tmp_path, capsys
):
    x = np.random.default_rng(0).normal(size=(64, 8, 8, 1)).astype(np.float32)
    y = np.random.default_rng(1).integers(0, 3, 64)
    model = cnnkit.Sequential(
        [cnnkit.layers.Flatten(input_shape=(8, 8, 1)), cnnkit.layers.Dense(3, activation="softmax")]
    )
    model.compile(optimizer=cnnkit.optimizers.SGD(0.01), loss="sparse_categorical_crossentropy")
    path = tmp_path / "last.keras"
    callbacks = [
        cnnkit.callbacks.TerminateOnNaN(),
        cnnkit.callbacks.ModelCheckpoint(str(path), monitor="loss"),
    ]
    model.fit(x, y, epochs=2, batch_size=16, callbacks=callbacks, verbose=0)
    good = path.read_bytes()
    x[40:] = 1e30  # from the third batch of the next epoch on, the weights blow up
    with pytest.warns(UserWarning, match="not saving epoch 1: loss is NaN or infinite"):
        model.fit(x, y, epochs=1, batch_size=16, shuffle=False, callbacks=callbacks, verbose=0)
    assert re.search(
        r"^Epoch 1, batch [3-4]: invalid loss \((nan|inf)\), terminating training$",
        capsys.readouterr().out,
        re.M,
    )
    assert path.read_bytes() == good
    assert all(np.isfinite(w).all() for w in cnnkit.models.load_model(path).get_weights())
