"""TerminateOnNaN and LambdaCallback."""

from __future__ import annotations

import math

import keras
import pytest
from callback_fakes import FakeModel

from cnnkit.callbacks import CallbackList, LambdaCallback, TerminateOnNaN


def _train(cb, losses_per_epoch, model):
    """Run batches until the model is told to stop; return (epoch, batch) of the stop."""
    cbs = CallbackList([cb], model=model)
    cbs.on_train_begin()
    for epoch, losses in enumerate(losses_per_epoch):
        cbs.on_epoch_begin(epoch)
        for batch, loss in enumerate(losses):
            cbs.on_train_batch_end(batch, {"loss": loss})
            if model.stop_training:
                return epoch, batch
        cbs.on_epoch_end(epoch, {"loss": 0.0})
    return None


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_stops_at_the_same_batch_as_keras_and_names_it(capsys, bad):
    losses = [[1.0, 0.9, 0.8], [0.7, 0.6, bad, 0.5]]
    assert _train(keras.callbacks.TerminateOnNaN(), losses, FakeModel()) == (1, 2)
    capsys.readouterr()
    assert _train(TerminateOnNaN(), losses, FakeModel()) == (1, 2)
    assert capsys.readouterr().out == (
        f"Epoch 2, batch 3: invalid loss ({bad}), terminating training\n"
    )


def test_finite_losses_never_stop():
    assert _train(TerminateOnNaN(), [[1.0, 1e30], [0.0, -5.0]], FakeModel()) is None


def test_raise_error():
    with pytest.raises(RuntimeError, match=r"Epoch 1, batch 2: invalid loss \(nan\)"):
        _train(TerminateOnNaN(raise_error=True), [[1.0, math.nan]], FakeModel())


def test_lambda_callback_calls_the_given_functions_with_loop_arguments():
    calls = []
    cb = LambdaCallback(
        on_train_begin=lambda logs: calls.append(("train_begin", logs)),
        on_epoch_end=lambda epoch, logs: calls.append(("epoch_end", epoch, logs["loss"])),
        on_train_batch_end=lambda batch, logs: calls.append(("batch_end", batch)),
        on_test_end=lambda logs: calls.append(("test_end", logs["loss"])),
        on_epoch_begin=None,  # None means "not given", as in Keras
    )
    cbs = CallbackList([cb], model=FakeModel())
    cbs.on_train_begin({"x": 1})
    cbs.on_epoch_begin(0)
    cbs.on_train_batch_end(0, {"loss": 2.0})
    cbs.on_test_end({"loss": 3.0})
    cbs.on_epoch_end(0, {"loss": 1.0})
    cbs.on_predict_end()  # not given: a no-op
    assert calls == [
        ("train_begin", {"x": 1}),
        ("batch_end", 0),
        ("test_end", 3.0),
        ("epoch_end", 0, 1.0),
    ]


def test_lambda_callback_rejects_unknown_hooks_and_non_functions():
    with pytest.raises(TypeError, match=r"unknown hook 'on_epoch_ends'\. Accepted: on_train_begin"):
        LambdaCallback(on_epoch_ends=print)
    with pytest.raises(TypeError, match=r"on_epoch_end must be a function\. Received: "):
        LambdaCallback(on_epoch_end=3)
