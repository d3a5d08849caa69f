"""ModelCheckpoint: file naming, period/save_freq, save_best_only vs Keras, safe writes."""

from __future__ import annotations

import os
import warnings

import keras
import pytest
from callback_fakes import FakeModel, read_saved

from cnnkit.callbacks import ModelCheckpoint


class KerasFacingModel(FakeModel):
    """Keras' ModelCheckpoint passes ``overwrite=True``; accept it."""

    def save(self, filepath, overwrite=True):
        super().save(filepath)


def _fit(cb, epoch_logs, steps=0, model=None):
    """Run epochs (and ``steps`` batches each); the model marker is the 0-based epoch."""
    model = model or FakeModel()
    cb.set_model(model)
    cb.on_train_begin()
    for epoch, logs in enumerate(epoch_logs):
        model.marker = epoch
        cb.on_epoch_begin(epoch)
        for batch in range(steps):
            cb.on_train_batch_begin(batch)
            cb.on_train_batch_end(batch, {"loss": 1.0})
        cb.on_epoch_end(epoch, dict(logs))
    cb.on_train_end()
    return model


def test_filepath_is_formatted_with_one_based_epoch_and_logs(tmp_path):
    path = tmp_path / "runs" / "a" / "ckpt-{epoch:02d}-{val_loss:.2f}.keras"
    _fit(ModelCheckpoint(path), [{"val_loss": 0.5}, {"val_loss": 0.25}])
    files = sorted(os.listdir(tmp_path / "runs" / "a"))  # parent folders were created
    assert files == ["ckpt-01-0.50.keras", "ckpt-02-0.25.keras"]
    saved = read_saved(tmp_path / "runs" / "a" / "ckpt-02-0.25.keras")
    assert saved == {"kind": "model", "marker": 1}


@pytest.mark.parametrize(
    ("period", "saved_epochs"),
    [(None, [0, 1, 2, 3, 4]), (1, [0, 1, 2, 3, 4]), (2, [1, 3]), (3, [2])],
)
def test_period_means_every_n_epochs(tmp_path, period, saved_epochs):
    model = _fit(ModelCheckpoint(tmp_path / "e{epoch}.pt", period=period), [{}] * 5)
    assert [marker for _, marker in model.saved] == saved_epochs
    assert sorted(os.listdir(tmp_path)) == sorted(f"e{e + 1}.pt" for e in saved_epochs)


def test_save_weights_only_calls_save_weights_with_any_extension(tmp_path):
    model = _fit(ModelCheckpoint(tmp_path / "w.safetensors", save_weights_only=True), [{}])
    assert model.saved == [("weights", 0)]
    assert read_saved(tmp_path / "w.safetensors")["kind"] == "weights"


SEQUENCES = [
    ("val_loss", "auto", [0.9, 0.8, 0.85, 0.7, 0.7, 0.95], None),
    ("val_accuracy", "max", [0.5, 0.6, 0.55, 0.6, 0.61, 0.2], None),
    ("val_loss", "min", [0.9, 0.8, 0.85, 0.7], 0.82),
    ("loss", "max", [1.0, float("nan"), 2.0, 3.0], None),
]


@pytest.mark.parametrize(("monitor", "mode", "values", "threshold"), SEQUENCES)
def test_save_best_only_saves_the_same_epochs_as_keras(tmp_path, monitor, mode, values, threshold):
    kwargs = {"monitor": monitor, "mode": mode, "save_best_only": True}
    kwargs["initial_value_threshold"] = threshold
    logs = [{monitor: v} for v in values]
    theirs = _fit(
        keras.callbacks.ModelCheckpoint(str(tmp_path / "k.keras"), **kwargs),
        logs,
        model=KerasFacingModel(),
    )
    ours = _fit(ModelCheckpoint(tmp_path / "c.keras", **kwargs), logs)
    markers = [marker for _, marker in ours.saved]
    assert markers == [marker for _, marker in theirs.saved]
    assert read_saved(tmp_path / "c.keras")["marker"] == markers[-1]


def test_best_survives_a_second_fit_like_keras(tmp_path):
    cb = ModelCheckpoint(tmp_path / "best.keras", monitor="loss", save_best_only=True)
    _fit(cb, [{"loss": 0.5}])
    model = _fit(cb, [{"loss": 0.7}, {"loss": 0.4}])
    assert [marker for _, marker in model.saved] == [1]


def test_integer_save_freq_counts_batches_like_keras(tmp_path):
    name = "e{epoch}-b{batch}.keras"
    theirs = _fit(
        keras.callbacks.ModelCheckpoint(str(tmp_path / "k" / name), save_freq=3),
        [{}] * 3,
        steps=5,
        model=KerasFacingModel(),
    )
    ours = _fit(ModelCheckpoint(tmp_path / "c" / name, save_freq=3), [{}] * 3, steps=5)
    names = sorted(os.listdir(tmp_path / "c"))
    assert names == sorted(os.listdir(tmp_path / "k"))
    assert names == ["e1-b3.keras", "e2-b1.keras", "e2-b4.keras", "e3-b2.keras", "e3-b5.keras"]
    assert [m for _, m in ours.saved] == [m for _, m in theirs.saved] == [0, 1, 1, 2, 2]


def test_missing_monitor_warns_and_keeps_the_existing_best(tmp_path):
    cb = ModelCheckpoint(tmp_path / "best.keras", save_best_only=True)  # monitors val_loss
    model = _fit(cb, [{"val_loss": 0.5}])
    with pytest.warns(UserWarning, match=r"monitor 'val_loss' is not in the logs, so the model"):
        _fit(cb, [{"loss": 9.0}], model=model)
    assert read_saved(tmp_path / "best.keras")["marker"] == 0


def test_an_interrupted_save_leaves_the_previous_checkpoint_intact(tmp_path):
    class Crashing(FakeModel):
        def save(self, filepath):
            with open(filepath, "w") as f:
                f.write("{half")
            raise OSError("disk full")

    target = tmp_path / "model.keras"
    _fit(ModelCheckpoint(target), [{}])
    with pytest.raises(OSError, match="disk full"):
        _fit(ModelCheckpoint(target), [{}], model=Crashing())
    assert read_saved(target)["marker"] == 0
    assert os.listdir(tmp_path) == ["model.keras"]  # no temporary file left behind


def test_missing_placeholder_names_the_key(tmp_path):
    cb = ModelCheckpoint(tmp_path / "{val_acc:.2f}.keras")
    with pytest.raises(KeyError, match=r"uses \{val_acc\}, which is not in the logs.*loss"):
        _fit(cb, [{"loss": 1.0}])


def test_existing_folder_as_filepath_is_an_error(tmp_path):
    (tmp_path / "out").mkdir()
    with pytest.raises(ValueError, match="filepath must name a file, not an existing folder"):
        ModelCheckpoint(tmp_path / "out")  # caught when the callback is made
    cb = ModelCheckpoint(tmp_path / "later")
    (tmp_path / "later").mkdir()  # a folder that appears after construction: caught at save time
    with pytest.raises(IsADirectoryError, match="not an existing folder"):
        _fit(cb, [{}])


def test_verbose_messages(tmp_path, capsys):
    cb = ModelCheckpoint(tmp_path / "b.keras", monitor="loss", save_best_only=True, verbose=1)
    _fit(cb, [{"loss": 0.5}, {"loss": 0.6}])
    out = capsys.readouterr().out
    assert "Epoch 1: loss improved from None to 0.50000, saving model to" in out
    assert "Epoch 2: loss did not improve from 0.50000" in out


def test_state_dict_resume_continues_the_counters(tmp_path):
    first = ModelCheckpoint(tmp_path / "b.keras", monitor="loss", save_best_only=True, save_freq=4)
    _fit(first, [{}], steps=3)
    state = first.state_dict()
    assert state["batches_since_save"] == 3
    second = ModelCheckpoint(tmp_path / "b.keras", monitor="loss", save_best_only=True, save_freq=4)
    second.set_model(FakeModel())
    second.on_train_begin()
    second.load_state_dict(state)
    second.on_epoch_begin(1)
    second.on_train_batch_end(0, {"loss": 1.0})  # the 4th batch overall
    assert os.path.exists(tmp_path / "b.keras") and second.best == 1.0


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (
            {"mode": "mn"},
            ValueError,
            r"ModelCheckpoint: mode must be one of 'auto', 'min', 'max'\. Received: mode='mn'",
        ),
        (
            {"save_freq": "batch"},
            TypeError,
            r"save_freq must be an int >= 1\. Received: save_freq='batch'",
        ),
        ({"save_freq": 0}, ValueError, r"save_freq must be an int >= 1\. Received: save_freq=0"),
        ({"period": 0}, ValueError, r"period must be an int >= 1\. Received: period=0"),
        ({"period": 2, "save_freq": 10}, ValueError, r"period .* cannot be combined"),
        ({"filepath": 3}, TypeError, r"filepath must be a str or path.*int"),
        ({"filepath": "ckpt-{epoch:02d"}, ValueError, r"filepath is not a valid format string"),
        ({"filepath": "ckpt/"}, ValueError, r"filepath must name a file"),
        ({"initial_value_threshold": "x"}, TypeError, r"initial_value_threshold must be a number"),
    ],
)
def test_bad_arguments_are_rejected_in_the_constructor(kwargs, error, match):
    kwargs = {"filepath": "m.keras", **kwargs}
    with pytest.raises(error, match=match):
        ModelCheckpoint(**kwargs)


def test_keras_saves_despite_a_missing_monitor_but_we_do_not(tmp_path):
    """Documents the one deliberate difference from Keras 3."""
    theirs = KerasFacingModel()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _fit(
            keras.callbacks.ModelCheckpoint(str(tmp_path / "k.keras"), save_best_only=True),
            [{"loss": 1.0}],
            model=theirs,
        )
        ours = _fit(ModelCheckpoint(tmp_path / "c.keras", save_best_only=True), [{"loss": 1.0}])
    assert len(theirs.saved) == 1 and ours.saved == []
