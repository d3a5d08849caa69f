"""fit and evaluate without labels, and NaN inputs: clear errors that name the argument and
the call, instead of an AttributeError deep in the loss or advice about the wrong call.

As in Keras, ``y=None`` is right when ``x`` is a Dataset or DataLoader that yields (x, y)
pairs; it is an error when ``x`` is an array, or when the Dataset yields images only.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from cnnkit import layers
from cnnkit.models import Sequential

IMAGES = np.random.default_rng(0).random((8, 4, 4, 1)).astype(np.float32)
LABELS = np.arange(8) % 3
MISSING_Y = (
    "y is required (the labels of x); received y=None. Pass the labels as y, or pass x as a "
    "Dataset or DataLoader that yields (x, y) pairs"
)


def compiled_model() -> Sequential:
    model = Sequential(
        [layers.Input((4, 4, 1)), layers.Flatten(), layers.Dense(3, activation="softmax")]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_fit_on_arrays_without_y_names_y():
    with pytest.raises(ValueError, match=f"^fit: {re.escape(MISSING_Y)}$"):
        compiled_model().fit(IMAGES, None, epochs=1, verbose=0)


def test_validation_data_without_y_names_y():
    with pytest.raises(ValueError, match=f"^fit \\(validation data\\): {re.escape(MISSING_Y)}$"):
        compiled_model().fit(IMAGES, LABELS, validation_data=(IMAGES, None), verbose=0)


def test_evaluate_on_arrays_without_y_names_y():
    with pytest.raises(ValueError, match=f"^evaluate: {re.escape(MISSING_Y)}$"):
        compiled_model().evaluate(IMAGES, None, verbose=0)


@pytest.mark.parametrize("call", ["fit", "evaluate"])
def test_a_dataset_of_images_only_is_refused_where_labels_are_needed(call):
    images_only = DataLoader(TensorDataset(torch.from_numpy(IMAGES)), batch_size=4)
    model = compiled_model()
    with pytest.raises(
        ValueError,
        match=f"^{call}: the Dataset or DataLoader yields images without labels; "
        r"it must yield \(x, y\) pairs$",
    ):
        getattr(model, call)(images_only, verbose=0)


def test_a_loader_of_pairs_trains_with_y_none_as_in_keras():
    pairs = DataLoader(
        TensorDataset(torch.from_numpy(IMAGES), torch.from_numpy(LABELS)), batch_size=4
    )
    model = compiled_model()
    history = model.fit(pairs, None, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert 0.0 <= model.evaluate(pairs, verbose=0, return_dict=True)["accuracy"] <= 1.0


def test_predict_needs_no_labels_from_a_loader_of_images():
    images_only = DataLoader(TensorDataset(torch.from_numpy(IMAGES)), batch_size=4)
    assert compiled_model().predict(images_only, verbose=0).shape == (8, 3)


@pytest.mark.parametrize(
    ("call", "doing"), [("fit", "training"), ("evaluate", "evaluating"), ("predict", "predicting")]
)
def test_nan_inputs_are_reported_for_the_call_that_received_them(call, doing):
    images = IMAGES.copy()
    images[0, 0, 0, 0] = np.nan
    arguments = (images,) if call == "predict" else (images, LABELS)
    expected = (
        f"{call}: x contains 1 NaN or infinite values; replace them before {doing} "
        "(the model's outputs for them would be NaN)"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(expected)}$"):
        getattr(compiled_model(), call)(*arguments, verbose=0)
