"""Augmentation layers are ordinary torch modules: .to(), .cpu(), .double() move them.

PyTorch moves a module through ``Module._apply(fn)``; a layer method of that name would hide it
and break ``model.to("cuda")`` (and so ``fit`` on a GPU) for any model that augments.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import cnnkit
from cnnkit import layers

AUGMENTATIONS = [
    layers.RandomFlip(seed=1),
    layers.RandomTranslation(0.1, 0.1, seed=1),
    layers.RandomRotation(0.1, seed=1),
    layers.RandomZoom(0.1, seed=1),
    layers.RandomCrop(6, 6, seed=1),
    layers.RandomBrightness(0.1, seed=1),
    layers.RandomContrast(0.1, seed=1),
    layers.RandomErasing(seed=1),
]


@pytest.mark.parametrize("layer", AUGMENTATIONS, ids=lambda layer: type(layer).__name__)
def test_an_augmentation_layer_moves_like_any_module(layer):
    assert layer.to(torch.device("cpu")) is layer
    assert layer.cpu() is layer
    assert layer.double() is layer
    layer.float()


def test_a_model_that_augments_moves_then_trains():
    model = cnnkit.Sequential(
        [
            cnnkit.Input((8, 8, 1)),
            layers.RandomFlip(seed=0),
            layers.RandomTranslation(0.1, 0.1, seed=0),
            layers.Flatten(),
            layers.Dense(3, activation="softmax"),
        ]
    )
    model.to(torch.device("cpu"))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    history = model.fit(
        rng.random((16, 8, 8, 1), dtype=np.float32), rng.integers(0, 3, 16), epochs=1, verbose=0
    )
    assert np.isfinite(history.history["loss"][0])
