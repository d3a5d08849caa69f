"""ReduceLROnPlateau and LearningRateScheduler, driven side by side with Keras' own."""

from __future__ import annotations

import math
import warnings

import keras
import numpy as np
import pytest
from callback_fakes import FakeModel, keras_metrics

from cnnkit.callbacks import LearningRateScheduler, ReduceLROnPlateau

# Keras' torch backend reads its float32 variables with an old numpy call; not our concern.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


class KerasSideModel(FakeModel):
    """What Keras' callbacks see: a real Keras optimizer (float32 learning rate)."""

    def __init__(self, learning_rate):
        super().__init__()
        self.optimizer = keras.optimizers.SGD(learning_rate=learning_rate)
        self.metrics = keras_metrics()


def _same(a, b) -> bool:
    """Equal, counting NaN equal to NaN."""
    return a == b or (isinstance(a, float) and isinstance(b, float) and a != a and b != b)


def _plateau_scenarios(count, seed=1):
    rng = np.random.default_rng(seed)
    monitors = [("val_loss", "auto"), ("val_accuracy", "auto"), ("loss", "max"), ("acc", "min")]
    for _ in range(count):
        monitor, mode = monitors[rng.integers(len(monitors))]
        kwargs = {
            "monitor": monitor,
            "mode": mode,
            "factor": float(rng.choice([0.1, 0.5, 0.2])),
            "patience": int(rng.integers(0, 4)),
            "cooldown": int(rng.integers(0, 3)),
            "min_delta": float(rng.choice([1e-4, 0.0, 0.05])),
            "min_lr": float(rng.choice([0.0, 1e-3, 0.01])),
        }
        steps = rng.choice([0.0, 0.0, -0.01, 0.01, -0.1, 0.1, 1e-5], size=int(rng.integers(1, 25)))
        values = [round(0.5 + float(v), 5) for v in np.cumsum(steps)]
        values = [math.nan if rng.random() < 0.05 else v for v in values]
        yield kwargs, float(rng.choice([0.1, 0.01, 1.0])), values


def test_reduce_lr_on_plateau_matches_keras_on_generated_sequences():
    reductions = 0
    for kwargs, lr0, values in _plateau_scenarios(300):
        theirs, ours = keras.callbacks.ReduceLROnPlateau(**kwargs), ReduceLROnPlateau(**kwargs)
        theirs_model, our_model = KerasSideModel(lr0), FakeModel(learning_rate=lr0)
        theirs.set_model(theirs_model)
        ours.set_model(our_model)
        theirs.on_train_begin()
        ours.on_train_begin()
        for epoch, value in enumerate(values):
            their_logs, our_logs = {kwargs["monitor"]: value}, {kwargs["monitor"]: value}
            theirs.on_epoch_end(epoch, their_logs)
            ours.on_epoch_end(epoch, our_logs)
            assert (ours.wait, ours.cooldown_counter) == (theirs.wait, theirs.cooldown_counter)
            assert _same(ours.best, theirs.best)
            their_lr = float(theirs_model.optimizer.learning_rate)
            assert our_model.optimizer.learning_rate == pytest.approx(their_lr, rel=1e-6)
            assert our_logs["learning_rate"] == pytest.approx(their_logs["learning_rate"], rel=1e-6)
        reductions += our_model.optimizer.learning_rate < lr0
    assert 50 < reductions < 290  # the generator exercises both outcomes


def _plateau(lr=0.1, **kwargs):
    cb, model = ReduceLROnPlateau(**kwargs), FakeModel(learning_rate=lr)
    cb.set_model(model)
    cb.on_train_begin()
    return cb, model


def test_reduces_after_patience_then_waits_for_cooldown_and_stops_at_min_lr():
    cb, model = _plateau(lr=0.1, factor=0.5, patience=2, cooldown=1, min_lr=0.03)
    lrs = []
    for epoch in range(8):
        cb.on_epoch_end(epoch, {"val_loss": 1.0})
        lrs.append(model.optimizer.learning_rate)
    # Keras semantics: the cooldown epoch also resets wait, so the next reduction comes
    # patience epochs after the first one, then min_lr stops further reductions.
    assert lrs == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.03, 0.03, 0.03, 0.03])


def test_missing_monitor_warns_and_keeps_the_rate():
    cb, model = _plateau(patience=0)
    with pytest.warns(UserWarning, match=r"ReduceLROnPlateau: monitor 'val_loss' is not in"):
        cb.on_epoch_end(0, {"loss": 1.0})
    assert model.optimizer.learning_rate == 0.1


def test_verbose_message(capsys):
    cb, _ = _plateau(lr=0.1, patience=0, verbose=1, factor=0.5)
    cb.on_epoch_end(0, {"val_loss": 1.0})
    cb.on_epoch_end(1, {"val_loss": 1.0})
    assert "Epoch 2: ReduceLROnPlateau reducing learning rate to 0.05." in capsys.readouterr().out


def test_plateau_state_round_trip():
    cb, _ = _plateau(patience=5, cooldown=2)
    for epoch, value in enumerate([1.0, 1.0, 1.0]):
        cb.on_epoch_end(epoch, {"val_loss": value})
    state = cb.state_dict()
    fresh, _ = _plateau(patience=5, cooldown=2)
    fresh.load_state_dict(state)
    assert (fresh.best, fresh.wait, fresh.cooldown_counter) == (1.0, 2, 0)


def test_optimizer_without_learning_rate_is_explained():
    cb, model = _plateau()
    model.optimizer = object()
    with pytest.raises(ValueError, match=r"needs a model whose optimizer has a learning_rate"):
        cb.on_epoch_end(0, {"val_loss": 1.0})


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (
            {"factor": 1.0},
            ValueError,
            r"factor must be a finite number in \[0, 1\)\. Received: factor=1\.0",
        ),
        ({"factor": -0.5}, ValueError, r"factor must be a finite number in \[0, 1\)"),
        ({"mode": "mx"}, ValueError, r"ReduceLROnPlateau: mode must be one of .* mode='mx'"),
        ({"patience": -1}, ValueError, r"patience must be an int >= 0"),
        ({"cooldown": 0.5}, TypeError, r"cooldown must be an int"),
        ({"min_lr": -1e-3}, ValueError, r"min_lr must be a finite number >= 0"),
        ({"min_lr": None}, TypeError, r"min_lr must be a finite number"),
    ],
)
def test_plateau_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        ReduceLROnPlateau(**kwargs)


def _schedule_run(callback, model, epochs):
    callback.set_model(model)
    callback.on_train_begin()
    rates, logged = [], []
    for epoch in range(epochs):
        callback.on_epoch_begin(epoch)
        rates.append(float(model.optimizer.learning_rate))
        logs = {"loss": 1.0}
        callback.on_epoch_end(epoch, logs)
        logged.append(logs["learning_rate"])
    return rates, logged


@pytest.mark.parametrize(
    "schedule",
    [
        lambda epoch, lr: lr if epoch < 2 else lr * 0.5,
        lambda epoch: 0.1 / (1 + epoch),  # Keras' older one-argument form
        lambda epoch, lr: np.float32(lr * 0.9),
    ],
)
def test_scheduler_sets_the_same_rates_as_keras(schedule):
    theirs = _schedule_run(keras.callbacks.LearningRateScheduler(schedule), KerasSideModel(0.1), 5)
    ours = _schedule_run(LearningRateScheduler(schedule), FakeModel(learning_rate=0.1), 5)
    for their_values, our_values in zip(theirs, ours, strict=True):
        assert our_values == pytest.approx(their_values, rel=1e-6)


def test_scheduler_does_not_hide_a_type_error_inside_the_schedule():
    def buggy(epoch, lr):
        return lr + "0.1"

    cb = LearningRateScheduler(buggy)
    cb.set_model(FakeModel())
    with pytest.raises(TypeError, match="unsupported operand"):
        cb.on_epoch_begin(0)


@pytest.mark.parametrize("returned", ["0.1", None, math.nan, -0.01, True])
def test_scheduler_rejects_a_bad_rate(returned):
    cb = LearningRateScheduler(lambda epoch, lr: returned)
    cb.set_model(FakeModel())
    with pytest.raises(ValueError, match=r"schedule must return a finite float >= 0\. Received"):
        cb.on_epoch_begin(3)


def test_scheduler_verbose_and_bad_schedule(capsys):
    cb = LearningRateScheduler(lambda epoch, lr: 0.5, verbose=1)
    cb.set_model(FakeModel())
    cb.on_epoch_begin(0)
    assert "Epoch 1: LearningRateScheduler setting learning rate to 0.5." in capsys.readouterr().out
    with pytest.raises(TypeError, match=r"schedule must be a function .* Received: schedule=0\.1"):
        LearningRateScheduler(0.1)


def test_learning_rate_appears_in_the_logs_history_sees():
    from cnnkit.callbacks import CallbackList, History

    history = History()
    model = FakeModel(learning_rate=0.2)
    cbs = CallbackList([ReduceLROnPlateau(patience=0, factor=0.5), history], model=model)
    cbs.on_train_begin()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for epoch in range(3):
            cbs.on_epoch_end(epoch, {"val_loss": 1.0})
    # the rate used during each epoch, logged before that epoch's reduction (as Keras)
    assert history.history["learning_rate"] == [0.2, 0.2, 0.1]
