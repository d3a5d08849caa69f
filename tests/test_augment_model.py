"""Augmentation and preprocessing inside a Sequential CNN: build, summary, train/eval modes."""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

import cnnkit  # noqa: E402
from cnnkit.layers._augment_geometric import RandomCrop, RandomFlip, RandomTranslation  # noqa: E402
from cnnkit.layers._augment_photometric import RandomBrightness  # noqa: E402
from cnnkit.layers._normalization import Normalization  # noqa: E402
from cnnkit.layers._preprocessing import Rescaling  # noqa: E402


def augmented_model():
    return cnnkit.Sequential(
        [
            cnnkit.Input((32, 32, 3)),
            RandomFlip(seed=1),
            RandomTranslation(0.1, 0.1, seed=2),
            cnnkit.layers.Conv2D(4, 3),
            cnnkit.layers.MaxPooling2D(),
            cnnkit.layers.Flatten(),
            cnnkit.layers.Dense(10, activation="softmax"),
        ]
    )


def test_model_builds_and_summary_lists_the_augmentation_layers():
    model = augmented_model()
    text = model.summary_text()
    assert "random_flip (RandomFlip)" in text and "(None, 32, 32, 3)" in text
    assert "random_translation (RandomTranslation)" in text
    oracle = keras.Sequential(
        [
            keras.Input((32, 32, 3)),
            keras.layers.RandomFlip(),
            keras.layers.RandomTranslation(0.1, 0.1),
            keras.layers.Conv2D(4, 3),
            keras.layers.MaxPooling2D(),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    assert model.count_params() == oracle.count_params()
    assert [layer.output_shape for layer in model.layers] == [
        layer.output.shape for layer in oracle.layers
    ]


def test_eval_makes_the_augmentation_the_identity():
    model = augmented_model()
    x = torch.rand(8, 32, 32, 3)
    head = model.layers[2:]

    def without_augmentation(inputs):
        for layer in head:
            inputs = layer(inputs)
        return inputs

    model.eval()
    with torch.no_grad():
        assert torch.equal(model(x), without_augmentation(x))
        model.train()
        trained = model(x)
    assert not torch.allclose(trained, without_augmentation(x))


def test_training_step_through_augmentation_updates_the_network():
    model = augmented_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    x, y = torch.rand(16, 32, 32, 3), torch.randint(0, 10, (16,))
    before = model.layers[2].weight.detach().clone()
    loss = torch.nn.functional.nll_loss(torch.log(model(x) + 1e-7), y)
    loss.backward()
    optimizer.step()
    assert not torch.equal(before, model.layers[2].weight)


def test_preprocessing_and_crop_in_a_model_keep_inference_shapes():
    """Rescaling + an adapted Normalization in front; RandomCrop gives the same shape in
    training and inference, so the Dense layer after it builds once."""
    data = np.random.default_rng(0).uniform(0, 255, (64, 32, 32, 3)).astype(np.float32)
    normalization = Normalization()
    normalization.adapt(data / 255.0)
    model = cnnkit.Sequential(
        [
            cnnkit.Input((32, 32, 3)),
            Rescaling(1 / 255),
            normalization,
            RandomBrightness(0.2, value_range=(-5, 5)),
            RandomCrop(28, 28),
            cnnkit.layers.Flatten(),
            cnnkit.layers.Dense(2),
        ]
    )
    assert model.output_shape == (None, 2)
    assert model.count_params() == 3 + 3 + 1 + 28 * 28 * 3 * 2 + 2  # mean, variance, count
    x = torch.from_numpy(data[:4])
    assert model.train()(x).shape == (4, 2) == model.eval()(x).shape
    standardized = model.layers[1](model.layers[0](x))
    torch.testing.assert_close(standardized.mean(dim=(0, 1, 2)), torch.zeros(3), atol=0.2, rtol=0)
