"""Keras 2's fit_generator / evaluate_generator / predict_generator: a one-time deprecation
warning naming the Keras 3 method, then the same results as fit / evaluate / predict."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import cnnkit
from cnnkit.training import _keras2

RNG = np.random.default_rng(1)
X = RNG.normal(size=(16, 4)).astype("float32")
Y = RNG.integers(0, 2, size=16)


@pytest.fixture(autouse=True)
def fresh_warnings(monkeypatch):
    monkeypatch.setattr(_keras2, "_warned", set())


def model():
    cnnkit.utils.set_random_seed(5)
    net = cnnkit.Sequential([cnnkit.Input((4,)), cnnkit.layers.Dense(2, activation="softmax")])
    net.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return net


def batches():
    while True:
        for start in range(0, 16, 4):
            yield X[start : start + 4], Y[start : start + 4]


class Batches(cnnkit.utils.PyDataset):
    def __len__(self):
        return 4

    def __getitem__(self, index):
        return X[4 * index : 4 * index + 4], Y[4 * index : 4 * index + 4]


def test_fit_generator_warns_once_and_trains_as_fit():
    old = model()
    with pytest.warns(DeprecationWarning, match=r"use model\.fit\(\)") as caught:
        history = old.fit_generator(
            batches(), steps_per_epoch=4, epochs=2, validation_data=batches(), validation_steps=2
        )
        old.fit_generator(batches(), steps_per_epoch=4, verbose=0)
    assert sum("fit_generator" in str(w.message) for w in caught) == 1
    new = model()
    expected = new.fit(
        batches(), steps_per_epoch=4, epochs=2, validation_data=batches(), validation_steps=2
    )
    assert history.history == pytest.approx(expected.history)
    new.fit(batches(), steps_per_epoch=4, verbose=0)
    for a, b in zip(old.parameters(), new.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_fit_generator_takes_a_pydataset_and_validation_arrays():
    with pytest.warns(DeprecationWarning):
        history = model().fit_generator(
            Batches(), epochs=2, validation_data=(X, Y), workers=2, max_queue_size=4
        )
    expected = model().fit(X, Y, batch_size=4, epochs=2, validation_data=(X, Y), shuffle=True)
    assert sorted(history.history) == sorted(expected.history)
    assert len(history.history["val_loss"]) == 2


def test_evaluate_and_predict_generator_forward_with_steps():
    net = model()
    with pytest.warns(DeprecationWarning, match=r"use model\.evaluate\(\)"):
        scores = net.evaluate_generator(batches(), steps=4)
    assert scores == pytest.approx(net.evaluate(X, Y, batch_size=4, verbose=0), rel=1e-6)
    with pytest.warns(DeprecationWarning, match=r"use model\.predict\(\)"):
        predictions = net.predict_generator((x for x, _ in batches()), steps=4)
    np.testing.assert_array_equal(predictions, net.predict(X, batch_size=4, verbose=0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the second call is silent
        np.testing.assert_array_equal(net.predict_generator(Batches()), predictions)


def test_an_endless_generator_without_steps_is_a_clear_error():
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match="steps_per_epoch"):
        model().fit_generator(batches())
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match="steps .*required"):
        model().evaluate_generator(batches())


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"workers": -1}, ValueError, "workers"),
        ({"max_queue_size": "ten"}, TypeError, "max_queue_size"),
        ({"use_multiprocessing": 1}, TypeError, "use_multiprocessing=1"),
    ],
)
def test_bad_loader_settings_name_the_argument(kwargs, error, message):
    with pytest.warns(DeprecationWarning), pytest.raises(error, match=message):
        model().predict_generator(Batches(), **kwargs)


def test_fit_takes_a_python_generator_with_steps_per_epoch():
    history = model().fit(batches(), steps_per_epoch=4, epochs=3, verbose=0)
    assert len(history.history["loss"]) == 3


class Keras2Sequence:
    """Keras 2's ``keras.utils.Sequence`` protocol, without subclassing cnnkit's PyDataset."""

    def __init__(self):
        self.epochs_ended = 0

    def __len__(self):
        return 4

    def __getitem__(self, index):
        return X[4 * index : 4 * index + 4], Y[4 * index : 4 * index + 4]

    def on_epoch_end(self):
        self.epochs_ended += 1


class StepCounter(cnnkit.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.steps = 0

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1


def test_a_keras2_sequence_gives_len_batches_per_epoch_and_equals_the_pydataset():
    sequence, counter = Keras2Sequence(), StepCounter()
    by_sequence = model()
    by_sequence.fit(sequence, epochs=2, shuffle=False, verbose=0, callbacks=[counter])
    by_pydataset = model()
    by_pydataset.fit(Batches(), epochs=2, shuffle=False, verbose=0)
    assert counter.steps == 8 and sequence.epochs_ended == 2
    for a, b in zip(by_sequence.get_weights(), by_pydataset.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_an_image_data_generator_flow_needs_no_steps_and_ends_its_validation():
    """Keras 2 code passes a flow (endless when iterated) without steps_per_epoch or
    validation_steps: fit reads len(flow) batches by index, as Keras 2 did for a Sequence."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        datagen = cnnkit.preprocessing.image.ImageDataGenerator(horizontal_flip=False)
    images = RNG.normal(size=(10, 2, 2, 1)).astype("float32")
    labels = RNG.integers(0, 2, size=10)
    net = cnnkit.Sequential(
        [cnnkit.Input((2, 2, 1)), cnnkit.layers.Flatten(), cnnkit.layers.Dense(2)]
    )
    net.compile("sgd", cnnkit.losses.SparseCategoricalCrossentropy(from_logits=True))
    counter = StepCounter()
    history = net.fit(
        datagen.flow(images, labels, batch_size=4, seed=0),
        validation_data=datagen.flow(images, labels, batch_size=4, shuffle=False),
        epochs=2,
        verbose=0,
        callbacks=[counter],
    )
    assert counter.steps == 2 * 3  # ceil(10 / 4) batches per epoch
    assert len(history.history["val_loss"]) == 2
