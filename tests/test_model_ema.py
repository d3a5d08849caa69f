"""ModelEMA: the average follows its recurrence, validation and epoch-end callbacks see it,
and training itself is untouched by it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import cnnkit
from cnnkit.callbacks import Callback, ModelEMA


def classifier(seed=0):
    torch.manual_seed(seed)
    model = cnnkit.Sequential(
        [
            cnnkit.Input(shape=(6, 6, 1)),
            cnnkit.layers.Conv2D(3, 3, activation="relu"),
            cnnkit.layers.Flatten(),
            cnnkit.layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def data(n=40, seed=1):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 6, 6, 1)).astype("float32"), rng.integers(0, 3, n)


class Recorder(Callback):
    """The trained weights after every step, and what the model holds at each epoch's end."""

    def __init__(self):
        super().__init__()
        self.steps, self.epoch_ends = [], []

    def on_train_begin(self, logs=None):
        self.start = [w.detach().clone().double() for w in self.model.trainable_weights]

    def on_train_batch_end(self, batch, logs=None):
        self.steps.append([w.detach().clone().double() for w in self.model.trainable_weights])

    def on_epoch_end(self, epoch, logs=None):
        held = [w.detach().clone().double() for w in self.model.trainable_weights]
        self.epoch_ends.append((self.model.get_weights(), held))


def test_the_average_follows_the_recurrence_and_validation_scores_it():
    x, y = data()
    model, ema, recorder = classifier(), ModelEMA(decay=0.9), Recorder()
    history = model.fit(
        x, y, batch_size=8, epochs=3, verbose=0, validation_split=0.25, callbacks=[ema, recorder]
    )
    expected = recorder.start
    averages = []
    for step in recorder.steps:
        expected = [0.9 * e + 0.1 * w for e, w in zip(expected, step)]
        averages.append(expected)
    for ours, theirs in zip(ema.average, averages[-1]):
        np.testing.assert_allclose(ours.double().numpy(), theirs.numpy(), rtol=1e-6, atol=1e-7)
    steps_per_epoch = len(recorder.steps) // 3
    x_val, y_val = x[30:], y[30:]
    for epoch, (keras_weights, held) in enumerate(recorder.epoch_ends):
        average = averages[(epoch + 1) * steps_per_epoch - 1]
        for weight, expected_weight in zip(held, average):
            np.testing.assert_allclose(
                weight.numpy(), expected_weight.numpy(), rtol=1e-6, atol=1e-7
            )
        judge = classifier()
        judge.set_weights(keras_weights)
        loss = judge.evaluate(x_val, y_val, verbose=0, return_dict=True)["loss"]
        assert history.history["val_loss"][epoch] == pytest.approx(loss, rel=1e-6)
    for weight, expected_weight in zip(model.trainable_weights, averages[-1]):  # kept at the end
        np.testing.assert_allclose(
            weight.detach().double().numpy(), expected_weight.numpy(), rtol=1e-6, atol=1e-7
        )


def test_training_itself_is_unchanged():
    x, y = data()
    plain = classifier()
    torch.manual_seed(9)
    plain_history = plain.fit(x, y, batch_size=8, epochs=3, verbose=0, validation_split=0.25)
    averaged = classifier()
    torch.manual_seed(9)
    ema = ModelEMA(decay=0.99, apply_at_end=False)
    history = averaged.fit(
        x, y, batch_size=8, epochs=3, verbose=0, validation_split=0.25, callbacks=[ema]
    )
    for a, b in zip(averaged.get_weights(), plain.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert history.history["loss"] == plain_history.history["loss"]
    assert history.history["val_loss"] != plain_history.history["val_loss"]


def test_state_round_trip_and_checks():
    x, y = data()
    model, ema = classifier(), ModelEMA(decay=0.5)
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, callbacks=[ema])
    state = ema.state_dict()
    other = ModelEMA(decay=0.5)
    other.set_model(model)
    other.on_train_begin()
    other.load_state_dict(state)
    for a, b in zip(other.average, ema.average):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    with pytest.raises(ValueError, match="ModelEMA.load_state_dict: average must be None or"):
        other.load_state_dict({"average": [np.zeros(2)], "trained": None})
    with pytest.raises(ValueError, match=r"ModelEMA: decay must be .* Received: decay=1.0"):
        ModelEMA(decay=1.0)


def test_a_checkpoint_listed_after_it_saves_the_average(tmp_path):
    x, y = data()
    model, ema = classifier(), ModelEMA(decay=0.8, apply_at_end=False)
    checkpoint = cnnkit.callbacks.ModelCheckpoint(tmp_path / "last.keras")
    model.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=[ema, checkpoint])
    saved = cnnkit.saving.load_model(tmp_path / "last.keras")
    for weight, average in zip(saved.trainable_weights, ema.average):
        torch.testing.assert_close(weight.detach(), average, rtol=0, atol=0)
    trained = [w.detach() for w in model.trainable_weights]  # apply_at_end=False
    assert not all(torch.equal(a, b) for a, b in zip(trained, ema.average))
