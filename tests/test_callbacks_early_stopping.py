"""EarlyStopping makes exactly Keras 3's decisions; the shared Monitor logic behind it."""

from __future__ import annotations

import math
import warnings

import keras
import numpy as np
import pytest
from callback_fakes import FakeModel, keras_metrics

from cnnkit.callbacks import EarlyStopping
from cnnkit.callbacks._early_stopping import StopState, decide_early_stop
from cnnkit.callbacks._monitor import Monitor, infer_direction

# Keras' torch backend reads its float32 variables with an old numpy call; not our concern.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

# (monitor, mode) pairs Keras can resolve; 'auto' with acc/accuracy needs the model's metrics.
MONITORS = [
    ("val_loss", "auto"),
    ("loss", "auto"),
    ("val_acc", "auto"),
    ("val_accuracy", "auto"),
    ("accuracy", "auto"),
    ("acc", "auto"),
    ("val_loss", "max"),
    ("val_accuracy", "min"),
    ("custom_score", "min"),
    ("custom_score", "max"),
]


KINDS = ["same", "grid", "tiny", "jump", "nan", "inf", "missing"]
KIND_P = [0.2, 0.35, 0.15, 0.1, 0.07, 0.03, 0.1]


def _values(rng: np.random.Generator, length: int) -> list[float | None]:
    """A monitored series with plateaus, grid and sub-float32 steps, NaN, inf and gaps."""
    values: list[float | None] = []
    x = round(float(rng.uniform(0.2, 0.8)), 2)
    for _ in range(length):
        kind = str(rng.choice(KINDS, p=KIND_P))
        if kind == "grid":
            x = round(x + float(rng.choice([-0.05, -0.01, 0.01, 0.05])), 2)
        elif kind == "tiny":
            x += float(rng.choice([-1e-9, 1e-9, -3e-8, 3e-8]))
        elif kind == "jump":
            x = round(float(rng.uniform(0.0, 1.0)), 2)
        special = {"nan": math.nan, "inf": float(rng.choice([-1, 1])) * math.inf, "missing": None}
        values.append(special.get(kind, x))
    return values


def _scenarios(count: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        monitor, mode = MONITORS[rng.integers(len(MONITORS))]
        yield (
            {
                "monitor": monitor,
                "mode": mode,
                "min_delta": float(rng.choice([0, 0, 0.01, 0.05, -0.05, 1e-8])),
                "patience": int(rng.integers(0, 5)),
                "baseline": None if rng.random() < 0.6 else round(float(rng.uniform(0.2, 0.8)), 2),
                "restore_best_weights": bool(rng.random() < 0.6),
                "start_from_epoch": int(rng.choice([0, 0, 0, 1, 3])),
            },
            _values(rng, int(rng.integers(1, 20))),
        )


def _same(a, b) -> bool:
    """Equal, counting NaN equal to NaN."""
    return a == b or (isinstance(a, float) and isinstance(b, float) and a != a and b != b)


def _drive(keras_cb, ours, values, keras_metrics=()):
    """Feed both callbacks the same epochs; assert identical state after every epoch."""
    theirs_model, our_model = FakeModel(), FakeModel()
    theirs_model.metrics = keras_metrics  # Keras resolves mode='auto' through these
    for cb, model in ((keras_cb, theirs_model), (ours, our_model)):
        cb.set_model(model)
        cb.on_train_begin()
    for epoch, value in enumerate(values):
        logs = {} if value is None else {keras_cb.monitor: value}
        for cb, model in ((keras_cb, theirs_model), (ours, our_model)):
            model.marker = epoch
            cb.on_epoch_begin(epoch, dict(logs))
            cb.on_epoch_end(epoch, dict(logs))
        assert our_model.stop_training == theirs_model.stop_training, epoch
        assert (ours.wait, ours.stopped_epoch) == (keras_cb.wait, keras_cb.stopped_epoch), epoch
        assert _same(ours.best, keras_cb.best), (epoch, ours.best, keras_cb.best)
        if theirs_model.stop_training:
            break
    for cb, model in ((keras_cb, theirs_model), (ours, our_model)):
        model.marker = 99
        cb.on_train_end()
    assert our_model.marker == theirs_model.marker  # the restored epoch, or 99 if none
    assert ours.best_epoch == keras_cb.best_epoch


def test_decisions_match_keras_on_generated_sequences():
    checked = stopped = restored = 0
    for kwargs, values in _scenarios(500):
        keras_cb = keras.callbacks.EarlyStopping(**kwargs)
        ours = EarlyStopping(**kwargs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # missing values warn in both
            _drive(keras_cb, ours, values, keras_metrics())
        checked += 1
        stopped += ours.stopped_epoch > 0
        restored += ours.best_weights is not None
    # The generator must exercise both outcomes, not only one.
    assert checked == 500 and 50 < stopped < 450 and restored > 50


@pytest.mark.parametrize(
    ("values", "kwargs", "stop_epoch", "restored"),
    [
        ([1.0, 0.9, 0.95, 0.96, 0.97], {"patience": 2}, 3, None),
        # improvement smaller than min_delta does not reset wait
        ([1.0, 0.99, 0.98, 0.97], {"patience": 2, "min_delta": 0.05}, 2, None),
        # best weights are those of epoch 1, restored at the end
        ([1.0, 0.5, 0.7, 0.8], {"patience": 2, "restore_best_weights": True}, 3, 1),
        # never beating the baseline: wait never resets, so it stops once wait reaches
        # patience, and the best epoch seen is restored
        ([0.9, 0.8, 0.85], {"patience": 2, "baseline": 0.5, "restore_best_weights": True}, 2, 1),
        # warm-up epochs are ignored
        ([5.0, 6.0, 7.0, 1.0, 2.0], {"patience": 0, "start_from_epoch": 3}, 4, None),
        # NaN never improves on a number
        ([1.0, math.nan, math.nan], {"patience": 1}, 1, None),
    ],
)
def test_hand_checked_cases_agree_with_keras(values, kwargs, stop_epoch, restored):
    keras_cb = keras.callbacks.EarlyStopping(monitor="val_loss", **kwargs)
    ours = EarlyStopping(monitor="val_loss", **kwargs)
    _drive(keras_cb, ours, values)
    assert ours.stopped_epoch == stop_epoch
    if restored is not None:
        assert ours.model.marker == restored


def test_restored_weights_are_a_snapshot_not_a_view():
    class AliasingModel(FakeModel):
        """get_weights returns views of live arrays, as tensor.numpy() does."""

        def __init__(self):
            super().__init__()
            self.live = [np.zeros(3)]

        def get_weights(self):
            return self.live

        def set_weights(self, weights):
            self.live[0][...] = weights[0]

    model = AliasingModel()
    cb = EarlyStopping(monitor="loss", patience=1, restore_best_weights=True)
    cb.set_model(model)
    cb.on_train_begin()
    for epoch, loss in enumerate([1.0, 0.5, 0.6, 0.7]):
        model.live[0][...] = epoch  # training updates the weights in place
        cb.on_epoch_end(epoch, {"loss": loss})
    cb.on_train_end()
    np.testing.assert_array_equal(model.live[0], [1.0, 1.0, 1.0])


def test_state_dict_resume_gives_the_uninterrupted_decisions():
    values = [1.0, 0.8, 0.85, 0.7, 0.75, 0.76, 0.77, 0.78]
    kwargs = {"monitor": "val_loss", "patience": 3, "restore_best_weights": True}
    straight, model = EarlyStopping(**kwargs), FakeModel()
    straight.set_model(model)
    straight.on_train_begin()
    resumed, model2 = EarlyStopping(**kwargs), FakeModel()
    resumed.set_model(model2)
    resumed.on_train_begin()
    for epoch, value in enumerate(values):
        if epoch == 4:  # interrupt: a fresh callback continues from the saved state
            state = resumed.state_dict()
            resumed = EarlyStopping(**kwargs)
            resumed.set_model(model2)
            resumed.on_train_begin()
            resumed.load_state_dict(state)
        for cb, m in ((straight, model), (resumed, model2)):
            m.marker = epoch
            cb.on_epoch_end(epoch, {"val_loss": value})
        assert (resumed.wait, resumed.best, model2.stop_training) == (
            straight.wait,
            straight.best,
            model.stop_training,
        )
        if model.stop_training:
            break
    assert straight.stopped_epoch == resumed.stopped_epoch == 6
    straight.on_train_end()
    resumed.on_train_end()
    assert model.marker == model2.marker == 3


def test_decide_early_stop_is_pure():
    monitor = Monitor("EarlyStopping", "loss", "auto")
    state = StopState(best=1.0, best_epoch=0, wait=0)
    decision = decide_early_stop(state, 1, 2.0, monitor, patience=1)
    assert decision.stop and decision.state.stopped_epoch == 1 and decision.state.wait == 1
    assert state == StopState(best=1.0, best_epoch=0, wait=0)  # input untouched


def test_instance_is_reset_by_on_train_begin():
    cb, model = EarlyStopping(monitor="loss", patience=0), FakeModel()
    cb.set_model(model)
    cb.on_train_begin()
    cb.on_epoch_end(0, {"loss": 1.0})
    cb.on_epoch_end(1, {"loss": 2.0})
    assert cb.stopped_epoch == 1
    cb.on_train_begin()
    assert (cb.best, cb.wait, cb.stopped_epoch) == (None, 0, 0)


def test_missing_monitor_warns_and_does_not_stop():
    cb, model = EarlyStopping(monitor="val_loss"), FakeModel()
    cb.set_model(model)
    cb.on_train_begin()
    with pytest.warns(UserWarning, match=r"monitor 'val_loss' is not in the logs.*loss"):
        cb.on_epoch_end(0, {"loss": 1.0})
    assert not model.stop_training


def test_verbose_messages(capsys):
    cb, model = EarlyStopping(monitor="loss", verbose=1, restore_best_weights=True), FakeModel()
    cb.set_model(model)
    cb.on_train_begin()
    for epoch, loss in enumerate([1.0, 2.0]):
        cb.on_epoch_end(epoch, {"loss": loss})
    cb.on_train_end()
    out = capsys.readouterr().out
    assert "Epoch 2: early stopping" in out
    assert "Restoring model weights from the end of the best epoch: 1." in out


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (
            {"mode": "mn"},
            ValueError,
            r"EarlyStopping: mode must be one of 'auto', 'min', 'max'\. "
            r"Received: mode='mn'",
        ),
        ({"monitor": "val_f2"}, ValueError, r"monitor='val_f2'.*Pass mode='min' or mode='max'"),
        ({"patience": -1}, ValueError, r"patience must be an int >= 0\. Received: patience=-1"),
        ({"patience": 1.5}, TypeError, r"patience must be an int >= 0\. Received: patience=1\.5"),
        ({"min_delta": "0.1"}, TypeError, r"min_delta must be a finite number"),
        ({"baseline": "low"}, TypeError, r"baseline must be a number or None"),
        ({"start_from_epoch": -2}, ValueError, r"start_from_epoch must be an int >= 0"),
        ({"monitor": ""}, TypeError, r"monitor must be a non-empty log key"),
    ],
)
def test_bad_arguments_are_rejected_in_the_constructor(kwargs, error, match):
    with pytest.raises(error, match=match):
        EarlyStopping(**kwargs)


def test_keras_also_refuses_a_metric_it_cannot_orient():
    """Our constructor error mirrors Keras' (which only fails at the first epoch end)."""
    cb = keras.callbacks.EarlyStopping(monitor="val_f2")
    cb.set_model(FakeModel())
    cb.on_train_begin()
    with pytest.raises(ValueError, match="automatically determine"):
        cb.on_epoch_end(0, {"val_f2": 1.0})


@pytest.mark.parametrize(
    ("name", "direction"),
    [
        ("loss", "min"),
        ("val_loss", "min"),
        ("val_sparse_categorical_crossentropy", "min"),
        ("mean_absolute_error", "min"),
        ("val_mae", "min"),
        ("acc", "max"),
        ("val_accuracy", "max"),
        ("val_sparse_categorical_accuracy", "max"),
        ("val_accuracy_1", "max"),
        ("auc", "max"),
        ("val_precision", "max"),
        ("val_f2", None),
    ],
)
def test_auto_direction_from_metric_names(name, direction):
    assert infer_direction(name) == direction


def test_monitor_compares_in_float32_like_keras():
    monitor = Monitor("EarlyStopping", "loss", "min")
    # 1e-12 below 0.1 is the same float32 number: not an improvement, in Keras either.
    assert not monitor.is_improvement(0.1 - 1e-12, 0.1)
    assert bool(keras.ops.less(0.1 - 1e-12, 0.1)) is False
    assert monitor.is_improvement(0.1 - 1e-6, 0.1)
