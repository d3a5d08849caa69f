"""cnnkit.utils: one-hot labels and seeding."""

from __future__ import annotations

import random

import keras
import numpy as np
import pytest
import torch

import cnnkit


@pytest.mark.parametrize(
    "labels, num_classes", [([0, 2, 1, 2], None), (np.array([[3], [0]]), 5), (np.arange(10), 10)]
)
def test_to_categorical_equals_keras(labels, num_classes):
    expected = keras.utils.to_categorical(labels, num_classes)
    got = cnnkit.utils.to_categorical(labels, num_classes)
    np.testing.assert_array_equal(got, expected)
    assert got.dtype == np.float32


def test_to_categorical_rejects_out_of_range_labels():
    with pytest.raises(ValueError, match=r"label 3 is out of range for num_classes=3"):
        cnnkit.utils.to_categorical([0, 3], 3)
    with pytest.raises(ValueError, match="integer class labels"):
        cnnkit.utils.to_categorical([0.5, 1.0])


def test_set_random_seed_seeds_python_numpy_and_torch():
    def draw():
        return (
            random.random(),
            np.random.rand(),
            float(torch.rand(1)),
            cnnkit.zoo.get("lenet5").get_weights()[0],
        )

    cnnkit.utils.set_random_seed(7)
    first = draw()
    cnnkit.utils.set_random_seed(7)
    second = draw()
    assert first[:3] == second[:3]
    np.testing.assert_array_equal(first[3], second[3])
    with pytest.raises(ValueError, match="seed must be an int >= 0"):
        cnnkit.utils.set_random_seed(-1)
