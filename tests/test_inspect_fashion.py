"""The lecture's claim measured on real data: on Fashion-MNIST, distances between a trained
CNN's latent vectors separate the classes better than distances between pixels."""

from __future__ import annotations

import os

import numpy as np
import pytest

import cnnkit

pytestmark = pytest.mark.skipif(
    not os.path.isdir("/usr/share/datasets/fashion-mnist"),
    reason="needs Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist)",
)


def test_latent_knn_beats_pixel_knn_on_fashion_mnist():
    (x_train, y_train), (x_test, y_test) = cnnkit.datasets.fashion_mnist.load_data()
    pad = ((0, 0), (2, 2), (2, 2), (0, 0))  # the lecture's LeNet-5 takes 32x32 images
    x_train = np.pad(x_train[:20000, ..., None], pad).astype("float32")
    x_test = np.pad(x_test[:2000, ..., None], pad).astype("float32")
    cnnkit.utils.set_random_seed(0)
    model = cnnkit.zoo.get("lenet5")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train[:20000], batch_size=128, epochs=3, verbose=0)
    features = cnnkit.inspect.features(model, x_test)
    scores = cnnkit.inspect.neighbourhood_scores(x_test, features, y_test[:2000], k=5)
    assert scores["latent"]["knn_accuracy"] > scores["pixels"]["knn_accuracy"] + 0.02, scores
    assert scores["latent"]["neighbour_agreement"] > scores["pixels"]["neighbour_agreement"], scores
    assert np.isfinite(features).all() and features.shape[0] == 2000
