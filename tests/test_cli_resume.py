"""``cnnkit train`` killed with SIGKILL at random moments and resumed with ``--resume`` ends
exactly like an uninterrupted run: the same history.csv, final weights and test accuracy."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import ROOT, checkout_env, write_stripes

from cnnkit.models import load_model

JOB = Path(__file__).with_name("cli_kill_job.py")
ENV = checkout_env(OMP_NUM_THREADS="1")
# 30 images, 21 to train on in batches of 8 (three steps an epoch), behind random flips and
# shifts drawn from torch's generator
TRAIN = ("--epochs", "4", "--batch-size", "8", "--augment", "--no-report")


def cnnkit(*args, prefix=("-m", "cnnkit")) -> subprocess.CompletedProcess:
    command = [sys.executable, *prefix, *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, env=ENV, cwd=ROOT)


@pytest.fixture(scope="module")
def stripes(tmp_path_factory) -> Path:
    """A folder dataset of horizontal or vertical stripes."""
    return write_stripes(tmp_path_factory.mktemp("stripes"))


@pytest.fixture(scope="module")
def whole(stripes, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("whole") / "run"
    result = cnnkit("train", "--dataset", stripes, "--out", out, *TRAIN)
    assert result.returncode == 0, result.stderr
    return out


def assert_same_run(run: Path, whole: Path) -> None:
    assert (run / "history.csv").read_text() == (whole / "history.csv").read_text()
    for got, expected in zip(
        load_model(run / "last.cnnkit").get_weights(),
        load_model(whole / "last.cnnkit").get_weights(),
    ):
        np.testing.assert_array_equal(got, expected)
    state, expected = (json.loads((r / "run.json").read_text()) for r in (run, whole))
    assert state["test_accuracy"] == expected["test_accuracy"]
    assert state["epochs_done"] == 4 and not (run / "backup").exists()


# a training step about to run (12 in all), or run.json just written after an epoch but the
# epoch's backup not yet (4 in all); drawn once, seeded
MOMENTS = [("batch", random.Random(3).randint(2, 12))] + [("state", random.Random(4).randint(1, 4))]


@pytest.mark.parametrize(("hook", "at"), MOMENTS)
def test_killed_at_a_random_moment_and_resumed_matches_the_uninterrupted_run(
    stripes, whole, tmp_path, hook, at
):
    run = tmp_path / "run"
    killed = cnnkit(hook, at, "train", "--dataset", stripes, "--out", run, *TRAIN, prefix=(JOB,))
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    resumed = cnnkit("train", "--resume", "--out", run)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert_same_run(run, whole)


def test_python_m_cnnkit_train_killed_after_a_random_delay_resumes_exactly(
    stripes, whole, tmp_path
):
    """The real command, killed a random time after its first epoch ended (it may have ended
    by then: resuming a finished run changes nothing either)."""
    run = tmp_path / "run"
    command = [
        sys.executable,
        "-m",
        "cnnkit",
        "train",
        "--dataset",
        str(stripes),
        "--out",
        str(run),
        *TRAIN,
    ]
    process = subprocess.Popen(
        command, env=ENV, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    history = run / "history.csv"
    deadline = time.monotonic() + 240
    while process.poll() is None and time.monotonic() < deadline:
        if history.is_file() and history.read_text().count("\n") >= 2:  # header and epoch 0
            break
        time.sleep(0.02)
    time.sleep(random.Random(5).uniform(0.0, 1.0))
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    resumed = cnnkit("train", "--resume", "--out", run)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert_same_run(run, whole)


def test_a_damaged_backup_stops_resume_with_one_line_naming_it(
    stripes, tmp_path, capsys, monkeypatch
):
    from cnnkit.cli import _run_callbacks, main

    def crash_after_first_epoch(self, epoch, logs=None):
        if epoch == 1:
            raise RuntimeError("crash")  # after epoch 0's backup, before epoch 1's

    monkeypatch.setattr(_run_callbacks.StateWriter, "on_epoch_end", crash_after_first_epoch)
    run = tmp_path / "run"
    assert main(["train", "--dataset", str(stripes), "--out", str(run), *TRAIN]) == 1
    monkeypatch.undo()
    backup = run / "backup" / "backup.cnnkit"
    backup.write_bytes(backup.read_bytes()[:200])
    capsys.readouterr()
    assert main(["train", "--resume", "--out", str(run)]) == 1
    error = capsys.readouterr().err
    assert (
        error.startswith(f"cnnkit: cannot resume from {str(backup)!r}: ") and error.count("\n") == 1
    )
    assert error.endswith("remove it to start afresh (cnnkit train: --overwrite)\n")
