"""Rescaling, Normalization, Resizing and CenterCrop against Keras 3 (the oracle)."""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from hypothesis import assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from cnnkit.layers._normalization import Normalization  # noqa: E402
from cnnkit.layers._preprocessing import CenterCrop, Rescaling, Resizing  # noqa: E402


def keras_out(layer, x):
    return np.asarray(layer(x).cpu())


def images(seed, shape, low=0.0, high=255.0):
    return np.random.default_rng(seed).uniform(low, high, shape).astype(np.float32)


# ----------------------------------------------------------------------------- Rescaling
@pytest.mark.parametrize(
    "scale, offset", [(1 / 255, 0.0), (1 / 127.5, -1.0), ([0.5, 2.0, -1.0], [1.0, 0.0, 3.0])]
)
def test_rescaling_matches_keras(scale, offset):
    x = images(0, (2, 4, 5, 3))
    got = Rescaling(scale, offset)(x).numpy()
    np.testing.assert_allclose(got, keras_out(keras.layers.Rescaling(scale, offset), x), rtol=1e-6)


def test_rescaling_rejects_text():
    with pytest.raises(
        TypeError, match=r"Rescaling: scale must be a number. Received: scale='1/255'"
    ):
        Rescaling("1/255")


# ----------------------------------------------------------------------------- Normalization
@pytest.mark.parametrize("axis", [-1, None, (1, 2), (1, 3), 2])
def test_normalization_adapt_matches_keras(axis):
    x = np.random.default_rng(1).normal(3.0, 2.0, (40, 5, 6, 3)).astype(np.float32)
    oracle = keras.layers.Normalization(axis=axis)
    oracle.adapt(x)
    layer = Normalization(axis=axis)
    layer.adapt(x)
    for ours, theirs in zip(layer.get_weights()[:2], oracle.get_weights()[:2]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer(x).numpy(), keras_out(oracle, x), rtol=1e-5, atol=1e-5)
    assert layer.count_params() == oracle.count_params()
    assert [w.shape for w in layer.get_weights()] == [w.shape for w in oracle.get_weights()]


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**31), cuts=st.lists(st.integers(1, 29), max_size=4, unique=True))
def test_normalization_adapt_batches_equals_whole_array(seed, cuts):
    """An iterable of batches (arrays, tensors or (x, y) pairs) gives Keras' statistics of
    the concatenated data (Keras' own iterable path needs TensorFlow, so the whole array is
    the oracle)."""
    x = np.random.default_rng(seed).normal(-1.0, 5.0, (30, 3, 4, 2)).astype(np.float32)
    oracle = keras.layers.Normalization()
    oracle.adapt(x)
    pieces = np.split(x, sorted(cuts))
    batches = [(torch.tensor(p), None) if i % 2 else p for i, p in enumerate(pieces)]
    layer = Normalization()
    layer.adapt(iter(batches))
    np.testing.assert_allclose(
        layer.get_weights()[0], oracle.get_weights()[0], rtol=1e-5, atol=1e-5
    )
    np.testing.assert_allclose(layer.get_weights()[1], oracle.get_weights()[1], rtol=1e-5)
    assert layer.get_weights()[2] == 30 * 3 * 4


def test_normalization_adapt_tensor_and_large_array_in_chunks():
    x = np.random.default_rng(2).uniform(0, 255, (5000, 2, 2, 3)).astype(np.float32)
    oracle = keras.layers.Normalization()
    oracle.adapt(x)
    for data in (x, torch.tensor(x)):
        layer = Normalization()
        layer.adapt(data)
        np.testing.assert_allclose(layer.get_weights()[0], oracle.get_weights()[0], rtol=1e-5)
        np.testing.assert_allclose(layer.get_weights()[1], oracle.get_weights()[1], rtol=1e-4)


@pytest.mark.parametrize("invert", [False, True])
def test_normalization_given_statistics_match_keras(invert):
    x = images(3, (2, 3, 4, 3))
    kwargs = {"mean": [100.0, 50.0, 0.0], "variance": [4.0, 1e-20, 9.0], "invert": invert}
    layer, oracle = Normalization(**kwargs), keras.layers.Normalization(**kwargs)
    np.testing.assert_allclose(layer(x).numpy(), keras_out(oracle, x), rtol=1e-5)
    assert layer.count_params() == 0 == oracle.count_params()


def test_normalization_errors_name_the_layer():
    with pytest.raises(ValueError, match="Normalization: give both mean and variance"):
        Normalization(mean=1.0)
    with pytest.raises(TypeError, match="Normalization: axis must be an int"):
        Normalization(axis="channels")
    with pytest.raises(ValueError, match="variance must be >= 0"):
        Normalization(mean=0.0, variance=-1.0)
    with pytest.raises(TypeError, match="adapt\\(\\) takes a NumPy array"):
        Normalization().adapt(3.0)
    with pytest.raises(ValueError, match="received no data"):
        Normalization().adapt([])
    layer = Normalization()
    layer.adapt(np.zeros((2, 4, 4, 3)))
    with pytest.raises(ValueError, match="was built for inputs of shape"):
        layer.adapt(np.zeros((2, 4, 4, 1)))


# ----------------------------------------------------------------------------- Resizing
@settings(max_examples=20, deadline=None)
@given(
    size_in=st.tuples(st.integers(1, 12), st.integers(1, 12)),
    size_out=st.tuples(st.integers(1, 12), st.integers(1, 12)),
    interpolation=st.sampled_from(["bilinear", "nearest", "bicubic"]),
    aspect=st.sampled_from([{}, {"crop_to_aspect_ratio": True}, {"pad_to_aspect_ratio": True}]),
    antialias=st.booleans(),
)
def test_resizing_matches_keras(size_in, size_out, interpolation, aspect, antialias):
    # Keras pads into a contiguous NCHW tensor, where PyTorch's antialiased kernel mis-resizes
    # to width 1 (see test_antialiased_resize_to_width_one_is_right): not an oracle there.
    assume(not (antialias and size_out[1] == 1 and aspect.get("pad_to_aspect_ratio")))
    x = images(4, (2, *size_in, 3))
    kwargs = {"interpolation": interpolation, "antialias": antialias, **aspect}
    if aspect.get("pad_to_aspect_ratio"):
        kwargs["fill_value"] = 7.0
    got = Resizing(*size_out, **kwargs)(x).numpy()
    expected = keras_out(keras.layers.Resizing(*size_out, **kwargs), x)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-3)


def test_antialiased_resize_to_width_one_is_right():
    """Upsampling never needs the low-pass filter, so antialias must not change bilinear
    upsampling; PyTorch's kernel for contiguous channels-first input gets this wrong for an
    output width of 1."""
    x = images(8, (2, 3, 2, 1))  # channels_first, contiguous
    plain = Resizing(5, 1, data_format="channels_first")(x)
    smooth = Resizing(5, 1, antialias=True, data_format="channels_first")(x)
    torch.testing.assert_close(smooth, plain, rtol=1e-5, atol=1e-3)


def test_resizing_channels_first_and_shapes_match_keras():
    x = images(5, (2, 3, 9, 7))
    layer = Resizing(4, 6, data_format="channels_first")
    oracle = keras.layers.Resizing(4, 6, data_format="channels_first")
    np.testing.assert_allclose(layer(x).numpy(), keras_out(oracle, x), rtol=1e-5, atol=1e-3)
    assert layer.build_for((None, 3, 9, 7)) == oracle.compute_output_shape((None, 3, 9, 7))


def test_resizing_errors():
    with pytest.raises(ValueError, match="Resizing: interpolation must be one of"):
        Resizing(4, 4, interpolation="lanczos3")
    with pytest.raises(
        ValueError, match="only one of crop_to_aspect_ratio and pad_to_aspect_ratio"
    ):
        Resizing(4, 4, crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)
    with pytest.raises(ValueError, match="Resizing: height must be a positive int"):
        Resizing(0, 4)
    with pytest.raises(ValueError, match="expects batches of images of rank 4"):
        Resizing(4, 4).build_for((None, 8, 3))


# ----------------------------------------------------------------------------- CenterCrop
@settings(max_examples=20, deadline=None)
@given(
    size_in=st.tuples(st.integers(1, 12), st.integers(1, 12)),
    size_out=st.tuples(st.integers(1, 12), st.integers(1, 12)),
    data_format=st.sampled_from(["channels_last", "channels_first"]),
)
def test_center_crop_matches_keras(size_in, size_out, data_format):
    """Larger inputs are cropped; inputs smaller along an axis are aspect-cropped and resized."""
    shape = (2, *size_in, 3) if data_format == "channels_last" else (2, 3, *size_in)
    x = images(6, shape)
    layer = CenterCrop(*size_out, data_format=data_format)
    oracle = keras.layers.CenterCrop(*size_out, data_format=data_format)
    np.testing.assert_allclose(layer(x).numpy(), keras_out(oracle, x), rtol=1e-5, atol=1e-3)
    assert layer.build_for((None, *shape[1:])) == oracle.compute_output_shape((None, *shape[1:]))
