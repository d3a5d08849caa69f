"""utils.PyDataset and Python generators in fit/evaluate/predict; utils.split_dataset and
utils.normalize against Keras."""

from __future__ import annotations

import threading

import keras
import numpy as np
import pytest
import torch

import cnnkit

RNG = np.random.default_rng(0)
X = RNG.normal(size=(24, 5)).astype("float32")
Y = RNG.integers(0, 3, size=24)
W = RNG.uniform(0.5, 2.0, size=24).astype("float32")


class Batches(cnnkit.utils.PyDataset):
    """X, Y (and W) in batches of 8, counting on_epoch_end calls and the threads used."""

    def __init__(self, weights: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.weights, self.ends, self.threads = weights, 0, set()

    def __len__(self):
        return 3

    def __getitem__(self, index):
        self.threads.add(threading.get_ident())
        part = slice(8 * index, 8 * index + 8)
        return (X[part], Y[part], W[part]) if self.weights else (X[part], Y[part])

    def on_epoch_end(self):
        self.ends += 1


def model():
    cnnkit.utils.set_random_seed(3)
    net = cnnkit.Sequential(
        [cnnkit.Input((5,)), cnnkit.layers.Dense(4, activation="relu"), cnnkit.layers.Dense(3)]
    )
    net.compile("sgd", cnnkit.losses.SparseCategoricalCrossentropy(from_logits=True))
    return net


def weights_after(x, **fit_kwargs):
    net = model()
    net.fit(x, epochs=2, verbose=0, shuffle=False, **fit_kwargs)
    return [p.detach().clone() for p in net.parameters()]


def assert_same(a, b):
    for left, right in zip(a, b, strict=True):
        torch.testing.assert_close(left, right, rtol=0, atol=0)


@pytest.mark.parametrize("weights", [False, True])
def test_fit_on_a_pydataset_equals_fit_on_its_arrays(weights):
    expected = weights_after(X, y=Y, batch_size=8, sample_weight=W if weights else None)
    assert_same(weights_after(Batches(weights)), expected)


def test_more_workers_give_the_same_weights():
    threaded = Batches(workers=3, use_multiprocessing=True, max_queue_size=2)
    assert_same(weights_after(threaded), weights_after(Batches()))
    assert threading.main_thread().ident not in threaded.threads  # made in the workers' threads


def test_on_epoch_end_is_called_after_each_pass():
    train, validation = Batches(), Batches()
    model().fit(train, epochs=3, validation_data=validation, verbose=0)
    assert (train.ends, validation.ends) == (3, 3)


def test_evaluate_and_predict_take_a_pydataset():
    net = model()
    assert net.evaluate(Batches(), verbose=0) == pytest.approx(
        net.evaluate(X, Y, batch_size=8, verbose=0), rel=1e-6
    )
    np.testing.assert_array_equal(
        net.predict(Batches(), verbose=0), net.predict(X, batch_size=8, verbose=0)
    )


def test_validation_data_as_a_pydataset_equals_arrays():
    as_arrays = model().fit(X, Y, batch_size=8, validation_data=(X, Y), verbose=0, shuffle=False)
    as_dataset = model().fit(Batches(), validation_data=Batches(), verbose=0, shuffle=False)
    assert as_dataset.history["val_loss"] == pytest.approx(as_arrays.history["val_loss"])


def test_a_subclass_that_skips_super_init_gets_the_defaults():
    class Bare(cnnkit.utils.PyDataset):
        def __len__(self):
            return 1

        def __getitem__(self, index):
            return X[:8], Y[:8]

    bare = Bare()
    assert (bare.workers, bare.use_multiprocessing, bare.max_queue_size) == (1, False, 10)
    model().fit(bare, verbose=0)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"workers": 0}, ValueError, "workers"),
        ({"workers": 1.5}, TypeError, "workers"),
        ({"max_queue_size": 0}, ValueError, "max_queue_size"),
        ({"use_multiprocessing": "yes"}, TypeError, "use_multiprocessing='yes'"),
    ],
)
def test_bad_settings_name_the_argument(kwargs, error, message):
    with pytest.raises(error, match=message):
        Batches(**kwargs)


def test_y_or_sample_weight_beside_a_pydataset_is_an_error():
    with pytest.raises(ValueError, match="y must be None when x is a Dataset"):
        model().fit(Batches(), Y, verbose=0)
    with pytest.raises(ValueError, match="sample_weight must be None when x is a PyDataset"):
        model().fit(Batches(), sample_weight=W, verbose=0)


# ---------------------------------------------------------------------------- generators


def batches_forever():
    while True:
        for start in range(0, 24, 8):
            yield X[start : start + 8], Y[start : start + 8]


def test_fit_on_a_generator_with_steps_per_epoch_equals_arrays():
    assert_same(
        weights_after(batches_forever(), steps_per_epoch=3), weights_after(X, y=Y, batch_size=8)
    )


def test_a_generator_without_steps_is_a_clear_error():
    with pytest.raises(ValueError, match="steps_per_epoch .* is required; received"):
        model().fit(batches_forever(), verbose=0)
    with pytest.raises(ValueError, match="validation_steps .* is required"):
        model().fit(Batches(), validation_data=batches_forever(), verbose=0)
    with pytest.raises(ValueError, match="evaluate: a generator may never end, so steps"):
        model().evaluate(batches_forever(), verbose=0)


def test_evaluate_and_predict_draw_steps_batches_from_a_generator():
    net = model()
    assert net.evaluate(batches_forever(), steps=3, verbose=0) == pytest.approx(
        net.evaluate(X, Y, batch_size=8, verbose=0), rel=1e-6
    )
    images = (x for x, _ in batches_forever())
    np.testing.assert_array_equal(
        net.predict(images, steps=3, verbose=0), net.predict(X, batch_size=8, verbose=0)
    )
    assert net.predict(X, batch_size=8, steps=2, verbose=0).shape == (16, 3)


def test_validation_steps_caps_the_validation_batches():
    history = model().fit(
        X, Y, batch_size=8, validation_data=batches_forever(), validation_steps=1, verbose=0
    )
    expected = model().fit(X, Y, batch_size=8, validation_data=(X[:8], Y[:8]), verbose=0)
    assert history.history["val_loss"] == pytest.approx(expected.history["val_loss"])


# ---------------------------------------------------------------------------- split_dataset


def test_split_dataset_keeps_the_order_without_shuffle():
    left, right = cnnkit.utils.split_dataset((X, Y), left_size=0.75)
    assert (len(left), len(right)) == (18, 6)
    np.testing.assert_array_equal(np.stack([x.numpy() for x, _ in left]), X[:18])
    np.testing.assert_array_equal(np.stack([y.numpy() for _, y in right]), Y[18:])


def test_split_dataset_shuffled_with_a_seed_equals_keras():
    ours = cnnkit.utils.split_dataset(X, left_size=10, shuffle=True, seed=4)
    theirs = keras.utils.split_dataset(X, left_size=10, shuffle=True, seed=4)
    for mine, keras_part in zip(ours, theirs, strict=True):
        assert type(mine) is type(keras_part)
        np.testing.assert_array_equal(
            np.stack([item[0].numpy() for item in mine]),
            np.stack([item[0].numpy() for item in keras_part]),
        )


def test_split_dataset_parts_go_to_fit():
    train, validation = cnnkit.utils.split_dataset((X, Y), left_size=16, right_size=8)
    history = model().fit(train, validation_data=validation, batch_size=8, shuffle=False)
    expected = model().fit(
        X[:16], Y[:16], batch_size=8, validation_data=(X[16:], Y[16:]), shuffle=False
    )
    assert history.history["val_loss"] == pytest.approx(expected.history["val_loss"], rel=1e-5)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({}, ValueError, "at least one of left_size and right_size"),
        ({"left_size": 24}, ValueError, r"int in \(0, 24\).*Received: left_size=24"),
        ({"left_size": 1.5}, ValueError, "Received: left_size=1.5"),
        ({"right_size": "half"}, TypeError, "Received: right_size='half'"),
        ({"left_size": 20, "right_size": 10}, ValueError, "together at most 24"),
    ],
)
def test_split_dataset_bad_sizes(kwargs, error, message):
    with pytest.raises(error, match=message):
        cnnkit.utils.split_dataset((X, Y), **kwargs)


def test_split_dataset_refuses_arrays_of_different_lengths_and_text():
    with pytest.raises(ValueError, match=r"Received lengths \[24, 3\]"):
        cnnkit.utils.split_dataset((X, Y[:3]), left_size=0.5)
    with pytest.raises(TypeError, match="Received: str"):
        cnnkit.utils.split_dataset("data", left_size=0.5)


# ---------------------------------------------------------------------------- normalize


@pytest.mark.parametrize(("axis", "order"), [(-1, 2), (1, 1), (1, np.inf)])
def test_normalize_equals_keras_on_numpy(axis, order):
    data = np.array([[3.0, 4.0, 0.0], [0.0, 0.0, 0.0], [1.0, -2.0, 2.0]])
    ours = cnnkit.utils.normalize(data, axis=axis, order=order)
    theirs = keras.utils.normalize(data, axis=axis, order=order)
    assert isinstance(ours, np.ndarray)
    np.testing.assert_allclose(ours, theirs)


def test_normalize_along_axis_0_divides_each_column_by_its_norm():
    """Keras' NumPy path divides by the column norms along the wrong axis (it turns axis=0
    into -1); cnnkit divides each column by its own norm."""
    data = np.array([[3.0, 1.0], [4.0, 0.0]])
    np.testing.assert_allclose(
        cnnkit.utils.normalize(data, axis=0, order=2), [[0.6, 1.0], [0.8, 0.0]]
    )


def test_normalize_equals_keras_on_a_tensor():
    data = torch.tensor([[3.0, 4.0], [0.0, 0.0], [1.0, 1.0]])
    ours = cnnkit.utils.normalize(data)
    theirs = keras.utils.normalize(data)
    assert isinstance(ours, torch.Tensor)
    np.testing.assert_allclose(ours.numpy(), np.asarray(theirs.cpu()), rtol=1e-6)
