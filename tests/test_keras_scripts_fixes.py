"""Small cnnkit fixes found by running the collected Keras scripts (tests/keras_scripts/)."""

from __future__ import annotations

import keras  # the oracle (conftest selects the torch backend)
import numpy as np
import pytest
import torch

import cnnkit


def _compute_sum_class(framework):
    """The guide's ComputeSum layer, written once for either framework."""

    class ComputeSum(framework.layers.Layer):
        def __init__(self, input_dim):
            super().__init__()
            self.total = self.add_weight(initializer="zeros", shape=(input_dim,), trainable=False)

        def call(self, inputs):
            self.total.assign_add(torch.sum(torch.as_tensor(inputs), dim=0))
            return self.total

    return ComputeSum


def test_non_trainable_added_weight_accumulates_with_assign_add_like_keras():
    x = np.array([[1.0, 2.0], [3.0, 4.0]], dtype="float32")
    ours = _compute_sum_class(cnnkit)(2)
    theirs = _compute_sum_class(keras)(2)
    for _ in range(2):
        got = ours(x)
        expected = theirs(x)
    np.testing.assert_allclose(np.asarray(got), np.asarray(expected))
    np.testing.assert_allclose(np.asarray(got), [8.0, 12.0])
    assert len(ours.weights) == 1 and len(ours.non_trainable_weights) == 1
    assert ours.trainable_weights == []


@pytest.mark.parametrize("method, expected", [("assign", 5.0), ("assign_sub", -5.0)])
def test_non_trainable_added_weight_assign_and_assign_sub(method, expected):
    layer = cnnkit.layers.Layer()
    layer.state = layer.add_weight(shape=(3,), initializer="zeros", trainable=False)
    getattr(layer.state, method)(5.0)
    np.testing.assert_allclose(layer.state.numpy(), [expected] * 3)
    assert "state" in dict(layer.named_buffers())  # still the layer's saved state


def test_non_trainable_added_weight_survives_load_state_dict_as_variable():
    layer = cnnkit.layers.Layer()
    layer.state = layer.add_weight(shape=(2,), initializer="zeros", trainable=False)
    layer.load_state_dict({"state": torch.tensor([1.0, 2.0])})
    layer.state.assign_add([1.0, 1.0])
    np.testing.assert_allclose(layer.state.numpy(), [2.0, 3.0])
