"""cnnkit.zoo: every registered model builds, runs and names itself."""

from __future__ import annotations

import pytest
import torch

import cnnkit


@pytest.mark.parametrize("name", cnnkit.zoo.names())
@pytest.mark.parametrize("input_shape", [(28, 28, 1), (32, 32, 3)])
def test_every_model_builds_and_predicts_probabilities(name, input_shape):
    model = cnnkit.zoo.get(name, input_shape=input_shape, num_classes=7)
    model.eval()
    with torch.no_grad():
        out = model(torch.rand(3, *input_shape))
    assert out.shape == (3, 7) == (3, model.output_shape[-1])
    torch.testing.assert_close(out.sum(dim=1), torch.ones(3))


def test_lenet5_is_the_lectures_model():
    model = cnnkit.zoo.get("lenet5")
    assert model.count_params() == 61_706
    assert [type(layer).__name__ for layer in model.layers] == [
        "Conv2D",
        "AveragePooling2D",
        "Conv2D",
        "AveragePooling2D",
        "Flatten",
        "Dense",
        "Dense",
        "Dense",
    ]
    assert model.layers[0].activation is cnnkit.activations.tanh


def test_unknown_model_lists_the_available_ones():
    with pytest.raises(
        ValueError,
        match=r"unknown model 'lenet'. Available: lenet5, resnet, small_cnn. Did you mean 'lenet5'\?",
    ):
        cnnkit.zoo.get("lenet")
    with pytest.raises(ValueError, match="already registered"):
        cnnkit.zoo.register("lenet5")(lambda: None)
