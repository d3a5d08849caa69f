"""Callback base, CallbackList dispatch and History, checked against Keras where it applies."""

from __future__ import annotations

import keras
import pytest
from callback_fakes import FakeModel

from cnnkit.callbacks import Callback, CallbackList, EarlyStopping, History, ProgbarLogger
from cnnkit.callbacks._base import HOOKS

BATCH_HOOKS = {h for h in HOOKS if "batch" in h or "epoch" in h}


def _call(target, hook, index=3, logs=None):
    """Call ``hook`` with the arguments the loop would pass."""
    if hook in BATCH_HOOKS:
        return getattr(target, hook)(index, logs)
    return getattr(target, hook)(logs)


class Recorder(Callback):
    """Records every hook call as (name, index, logs)."""

    def __init__(self, calls, name):
        super().__init__()
        self.calls, self.name = calls, name
        for hook in HOOKS:
            setattr(self, hook, self._make(hook))

    def _make(self, hook):
        def record(*args):
            self.calls.append((self.name, hook, *args))

        return record


def test_every_hook_is_a_no_op_by_default():
    cb = Callback()
    for hook in (*HOOKS, "on_batch_begin", "on_batch_end"):
        assert _call(cb, hook, logs={"loss": 1.0}) is None
    assert cb.model is None and cb.params is None and cb.state_dict() == {}


def test_keras2_batch_hooks_still_run():
    """A callback overriding on_batch_end (Keras 2 name) is called for training batches."""
    seen = []

    class Old(Callback):
        def on_batch_end(self, batch, logs=None):
            seen.append((batch, logs["loss"]))

    CallbackList([Old()]).on_train_batch_end(4, {"loss": 0.5})
    assert seen == [(4, 0.5)]


def test_callback_list_dispatches_every_hook_in_order():
    calls = []
    cbs = CallbackList([Recorder(calls, "a"), Recorder(calls, "b")])
    for hook in HOOKS:
        _call(cbs, hook, index=7, logs={"loss": 0.25})
    expected = []
    for hook in HOOKS:
        args = (7, {"loss": 0.25}) if hook in BATCH_HOOKS else ({"loss": 0.25},)
        expected += [("a", hook, *args), ("b", hook, *args)]
    assert calls == expected


def test_logs_are_shared_between_callbacks_but_caller_dict_is_untouched():
    class AddLR(Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["learning_rate"] = 0.01

    history = History()
    cbs = CallbackList([AddLR(), history], model=FakeModel())
    logs = {"loss": 1.0}
    cbs.on_train_begin()
    cbs.on_epoch_end(0, logs)
    assert history.history == {"loss": [1.0], "learning_rate": [0.01]}
    assert logs == {"loss": 1.0}
    cbs.on_epoch_end(1, None)  # missing logs arrive as an empty dict
    assert history.epoch == [0, 1]


def test_defaults_are_added_once_and_receive_model_and_params():
    model = FakeModel()
    mine = History()
    cbs = CallbackList(
        [mine], add_history=True, add_progbar=True, model=model, epochs=3, steps=5, verbose=0
    )
    assert cbs.history is mine
    assert [type(c) for c in cbs.callbacks] == [History, ProgbarLogger]
    assert all(c.model is model for c in cbs.callbacks)
    assert all(c.params == {"epochs": 3, "steps": 5, "verbose": 0} for c in cbs.callbacks)
    bare = CallbackList(None, add_history=True)
    assert [type(c) for c in bare.callbacks] == [History]


def test_callbacks_written_for_keras_work_unchanged():
    """Keras' own callbacks only use the public model surface, so they run in our list."""
    model = FakeModel()
    seen = []
    lam = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(epoch))
    stop = keras.callbacks.EarlyStopping(monitor="loss", patience=1)
    cbs = CallbackList([lam, stop], model=model, epochs=5, steps=1, verbose=0)
    cbs.on_train_begin()
    for epoch, loss in enumerate([1.0, 0.5, 0.7, 0.8]):
        cbs.on_epoch_end(epoch, {"loss": loss})
        if model.stop_training:
            break
    assert seen == [0, 1, 2] and stop.stopped_epoch == 2


def test_history_matches_keras_history():
    logs = [{"loss": 1.0, "val_loss": 2.0}, {"loss": 0.5, "val_loss": 1.5, "lr": 0.1}]
    ours, theirs = History(), keras.callbacks.History()
    for cb in (ours, theirs):
        cb.set_model(FakeModel())
        for run in range(2):  # two fit calls: history accumulates, epoch restarts
            cb.on_train_begin()
            for epoch, epoch_logs in enumerate(logs):
                cb.on_epoch_end(epoch + 2 * run, dict(epoch_logs))
    assert ours.history == theirs.history
    assert ours.epoch == theirs.epoch == [2, 3]


def test_history_state_round_trip_and_bad_state():
    h = History()
    h.on_train_begin()
    h.on_epoch_end(0, {"loss": 1.0})
    state = h.state_dict()
    h.on_epoch_end(1, {"loss": 0.5})
    assert state == {"history": {"loss": [1.0]}, "epoch": [0]}  # a copy, not a view
    fresh = History()
    fresh.load_state_dict(state)
    assert fresh.history == {"loss": [1.0]} and fresh.epoch == [0]
    with pytest.raises(ValueError, match=r"History.load_state_dict: state must have exactly"):
        fresh.load_state_dict({"history": {}})
    with pytest.raises(TypeError, match=r"state must be a dict\. Received: list"):
        Callback().load_state_dict([])


def test_state_dict_keys_of_stateful_callbacks_are_checked():
    with pytest.raises(ValueError, match=r"EarlyStopping.load_state_dict.*Received: \['wait'\]"):
        EarlyStopping().load_state_dict({"wait": 1})


@pytest.mark.parametrize(
    ("callbacks", "match"),
    [
        ("EarlyStopping", r"callbacks must be a list or tuple.*Received: callbacks of type str"),
        ([object()], r"every callback must be a Callback"),
    ],
)
def test_callback_list_rejects_non_callbacks(callbacks, match):
    with pytest.raises(TypeError, match=match):
        CallbackList(callbacks)


class _OldStyle(Callback):
    def on_batch_end(self, batch, logs=None):  # Keras 2's name
        pass


class _Duck:
    def set_model(self, model):
        pass

    def set_params(self, params):
        pass


@pytest.mark.parametrize(
    ("callbacks", "needed"),
    [
        ([History()], False),
        ([History(), EarlyStopping()], False),
        ([History(), ProgbarLogger()], True),
        ([_OldStyle()], True),
        ([_Duck()], True),
    ],
)
def test_batch_hooks_are_needed_only_when_a_callback_has_them(callbacks, needed):
    assert CallbackList(callbacks).needs_train_batch_hooks() is needed


def test_lambda_and_terminate_on_nan_keep_their_batch_hooks():
    from cnnkit.callbacks import LambdaCallback, TerminateOnNaN

    assert CallbackList(
        [LambdaCallback(on_train_batch_end=lambda batch, logs: None)]
    ).needs_train_batch_hooks()
    assert CallbackList([TerminateOnNaN()]).needs_train_batch_hooks()
    assert not CallbackList(
        [LambdaCallback(on_epoch_end=lambda epoch, logs: None)]
    ).needs_train_batch_hooks()


def test_fit_calls_an_old_style_batch_hook_every_batch():
    import numpy as np

    import cnnkit

    calls = []

    class Counter(Callback):
        def on_batch_end(self, batch, logs=None):
            calls.append((batch, sorted(logs)))

    model = cnnkit.Sequential([cnnkit.layers.Dense(3, activation="softmax", input_shape=(4,))])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x, y = np.random.rand(10, 4).astype("float32"), np.arange(10) % 3
    model.fit(x, y, batch_size=4, epochs=1, verbose=0, callbacks=[Counter()])
    assert calls == [
        (0, ["accuracy", "loss"]),
        (1, ["accuracy", "loss"]),
        (2, ["accuracy", "loss"]),
    ]
