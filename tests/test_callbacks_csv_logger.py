"""CSVLogger: same rows as Keras' CSVLogger, complete rows on disk after every epoch, append."""

from __future__ import annotations

import csv

import keras
import numpy as np
import pytest

from cnnkit.callbacks import CSVLogger

EPOCHS = [
    {"loss": 0.9, "accuracy": 0.5, "val_loss": 1.1, "val_accuracy": 0.4},
    {"loss": 0.7, "accuracy": 0.625, "val_loss": 1.0},  # val_accuracy missing: NA
    {"loss": 0.5, "accuracy": 0.75, "val_loss": 0.8, "val_accuracy": 0.6, "extra": 1.0},
]


def _rows(path, separator=","):
    with open(path, newline="") as f:
        return list(csv.reader(f, delimiter=separator))


def _log(cb, epochs, start=0):
    cb.on_train_begin()
    for epoch, logs in enumerate(epochs, start):
        cb.on_epoch_end(epoch, dict(logs))
    cb.on_train_end()


@pytest.mark.parametrize("separator", [",", ";", "\t"])
@pytest.mark.parametrize("epochs", [EPOCHS, [{"loss": 1.0, "acc": 0.5}, {"loss": 0.5}]])
def test_rows_match_keras(tmp_path, separator, epochs):
    _log(keras.callbacks.CSVLogger(str(tmp_path / "k.csv"), separator=separator), epochs)
    _log(CSVLogger(tmp_path / "c.csv", separator=separator), epochs)
    assert _rows(tmp_path / "c.csv", separator) == _rows(tmp_path / "k.csv", separator)


def test_append_continues_like_keras(tmp_path):
    # Same keys in both runs: with new keys Keras writes rows wider than the header, while
    # we keep the file's columns (see test_append_uses_the_existing_columns...).
    later = [{"loss": 0.5, "accuracy": 0.75, "val_loss": 0.8, "val_accuracy": 0.6}]
    for name, cls in (("k.csv", keras.callbacks.CSVLogger), ("c.csv", CSVLogger)):
        _log(cls(str(tmp_path / name)), EPOCHS[:2])
        _log(cls(str(tmp_path / name), append=True), later, start=2)
    rows = _rows(tmp_path / "c.csv")
    assert rows == _rows(tmp_path / "k.csv")
    assert [r[0] for r in rows] == ["epoch", "0", "1", "2"]  # one header only


def test_expected_content(tmp_path):
    _log(CSVLogger(tmp_path / "log.csv"), EPOCHS[:2])
    assert _rows(tmp_path / "log.csv") == [
        ["epoch", "accuracy", "loss", "val_accuracy", "val_loss"],
        ["0", "0.5", "0.9", "0.4", "1.1"],
        ["1", "0.625", "0.7", "NA", "1.0"],
    ]


def test_every_row_is_on_disk_and_complete_after_its_epoch(tmp_path):
    path = tmp_path / "sub" / "log.csv"  # the folder is created
    cb = CSVLogger(path)
    cb.on_train_begin()
    for epoch, logs in enumerate(EPOCHS):
        cb.on_epoch_end(epoch, logs)
        text = path.read_text()  # read through another handle while training runs
        assert text.endswith("\n") and len(_rows(path)) == epoch + 2
    cb.on_train_end()


def test_append_uses_the_existing_columns_and_repairs_a_cut_line(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("epoch,val_loss,loss\n0,1.5,1.0")  # other column order, no final newline
    _log(CSVLogger(path, append=True), [{"loss": 0.5, "val_loss": 0.7}], start=1)
    assert _rows(path) == [["epoch", "val_loss", "loss"], ["0", "1.5", "1.0"], ["1", "0.7", "0.5"]]


def test_sequences_are_written_as_lists(tmp_path):
    _log(CSVLogger(tmp_path / "log.csv"), [{"loss": 1.0, "per_class": np.array([0.5, 0.25])}])
    assert _rows(tmp_path / "log.csv")[1][2] == "[0.5, 0.25]"


def test_overwrite_by_default(tmp_path):
    path = tmp_path / "log.csv"
    _log(CSVLogger(path), EPOCHS)
    _log(CSVLogger(path), EPOCHS[:1])
    assert len(_rows(path)) == 2


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"separator": ";;"}, ValueError, r"separator must be a single character.*Received: "),
        ({"separator": "\n"}, ValueError, r"separator must be a single character"),
        ({"filename": 5}, TypeError, r"filename must be a non-empty path\. Received: 5"),
    ],
)
def test_bad_arguments(tmp_path, kwargs, error, match):
    kwargs = {"filename": tmp_path / "x.csv", **kwargs}
    with pytest.raises(error, match=match):
        CSVLogger(**kwargs)


def test_epoch_end_before_train_begin_is_explained(tmp_path):
    with pytest.raises(RuntimeError, match="before on_train_begin"):
        CSVLogger(tmp_path / "x.csv").on_epoch_end(0, {"loss": 1.0})
