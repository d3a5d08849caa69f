"""CSVLogger resumed by BackupAndRestore: the rows written after the backup are dropped and
written again, so the file ends exactly like an uninterrupted run's."""

from __future__ import annotations

import numpy as np
import pytest

import cnnkit


class Stop(Exception):
    pass


class StopAtEpochEnd(cnnkit.callbacks.Callback):
    """Raise at the end of epoch ``at`` (0-based): after CSVLogger's row, before the backup."""

    def __init__(self, at: int | None = None):
        super().__init__()
        self.at = at

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.at:
            raise Stop


def fit(folder, at=None, append=True):
    cnnkit.utils.set_random_seed(0)
    model = cnnkit.Sequential(
        [cnnkit.layers.Flatten(input_shape=(4, 4, 1)), cnnkit.layers.Dense(2, activation="softmax")]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x, y = rng.random((16, 4, 4, 1), dtype=np.float32), rng.integers(0, 2, 16)
    callbacks = [
        cnnkit.callbacks.CSVLogger(folder / "history.csv", append=append),
        StopAtEpochEnd(at),
        cnnkit.callbacks.BackupAndRestore(folder / "backup"),
    ]
    model.fit(x, y, batch_size=4, epochs=3, callbacks=callbacks, verbose=0)


@pytest.fixture(autouse=True)
def on_the_cpu():
    cnnkit.config.set_device("cpu")
    yield
    cnnkit.config.set_device("auto")


def test_rows_written_after_the_backup_are_written_once(tmp_path):
    fit(tmp_path / "whole")
    with pytest.raises(Stop):
        fit(tmp_path / "run", at=1)  # epoch 1's row is written, its backup is not
    assert (tmp_path / "run" / "history.csv").read_text().count("\n") == 3  # header, 0, 1
    fit(tmp_path / "run")
    expected = (tmp_path / "whole" / "history.csv").read_text()
    assert (tmp_path / "run" / "history.csv").read_text() == expected
    assert expected.count("\n") == 4


def test_a_logger_that_overwrites_its_file_warns_on_resume(tmp_path):
    with pytest.raises(Stop):
        fit(tmp_path, at=1, append=False)
    with pytest.warns(
        UserWarning, match="shorter than when the run was backed up; pass append=True"
    ):
        fit(tmp_path, append=False)
    lines = (tmp_path / "history.csv").read_text().splitlines()
    assert lines[0].startswith("epoch,") and [line[0] for line in lines[1:]] == ["1", "2"]
