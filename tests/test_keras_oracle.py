"""Keras 3 is the oracle: generated stacks give the same shapes, parameter counts and outputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from keras_oracle import build_cnnkit, build_keras, random_stack, randomize_keras_weights

from cnnkit.layers import AveragePooling2D
from cnnkit.layers._spatial import SamePadding, spatial_dims

SEEDS = range(60)


@pytest.mark.parametrize("seed", SEEDS)
def test_generated_stack_matches_keras(seed):
    input_shape, spec = random_stack(seed)
    try:
        keras_model = build_keras(input_shape, spec)
    except ValueError:
        with pytest.raises(ValueError):
            build_cnnkit(input_shape, spec)
        return
    model = build_cnnkit(input_shape, spec)

    assert [layer.output_shape for layer in model.layers] == [
        tuple(layer.output.shape) for layer in keras_model.layers
    ]
    assert [layer.count_params() for layer in model.layers] == [
        layer.count_params() for layer in keras_model.layers
    ]
    assert model.count_params() == keras_model.count_params()

    if _has_uneven_same_average_pooling(model):
        # Keras' PyTorch backend pads such windows with zeros and then counts them in the mean;
        # TensorFlow (and Keras' documentation) exclude padded pixels, and so does cnnkit.
        # test_average_pooling_same_excludes_padding checks those cases against NumPy.
        return
    weights = randomize_keras_weights(keras_model, seed)
    model.set_weights(weights)
    for ours, theirs in zip(model.get_weights(), weights):
        np.testing.assert_array_equal(ours, theirs)

    x = np.random.default_rng(seed).normal(size=(3, *input_shape)).astype(np.float32)
    # Without oneDNN: it leaves some strided outputs of one-channel channels-last convolutions
    # unwritten (PyTorch 2.13), which cnnkit avoids (test_layers.py) and Keras does not.
    with torch.backends.mkldnn.flags(enabled=False):
        expected = np.asarray(keras_model(x, training=False).detach().cpu())
    model.eval()
    with torch.no_grad():
        got = model(x).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def _has_uneven_same_average_pooling(model) -> bool:
    for layer in model.layers:
        if isinstance(layer, AveragePooling2D) and layer.padding == "same":
            height, width = spatial_dims(layer.input_shape, layer.data_format)
            if not SamePadding(height, width, layer.pool_size, layer.strides).symmetric:
                return True
    return False


def test_generated_stacks_include_refusals_and_every_layer_kind():
    """The generator is worth its name: it covers refusals and every layer type and option."""
    kinds, refused, formats = set(), 0, set()
    for seed in SEEDS:
        input_shape, spec = random_stack(seed)
        kinds |= {name for name, _ in spec}
        formats |= {kw.get("data_format") for _, kw in spec}
        try:
            build_keras(input_shape, spec)
        except ValueError:
            refused += 1
    assert {
        "Conv2D",
        "MaxPooling2D",
        "AveragePooling2D",
        "BatchNormalization",
        "Flatten",
        "Dense",
    } <= kinds
    assert {"channels_last", "channels_first"} <= formats
    assert refused >= 3
