"""Flip, translation, rotation, zoom and crop: exact behaviour for fixed transformations, and
Keras 3 as the oracle where a factor range of width zero makes its layer deterministic."""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from cnnkit.layers._augment_geometric import (  # noqa: E402
    RandomCrop,
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
)
from cnnkit.layers._image_warp import FILL_MODES  # noqa: E402

sizes = st.tuples(st.integers(1, 8), st.integers(1, 8))


def batch(seed, shape):
    return torch.from_numpy(np.random.default_rng(seed).uniform(0, 1, shape).astype(np.float32))


# ----------------------------------------------------------------------------- RandomFlip
@settings(max_examples=20, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    size=sizes,
    mode=st.sampled_from(["horizontal", "vertical", "horizontal_and_vertical"]),
    data_format=st.sampled_from(["channels_last", "channels_first"]),
)
def test_flip_twice_with_the_same_mask_is_identity(seed, size, mode, data_format):
    shape = (5, *size, 2) if data_format == "channels_last" else (5, 2, *size)
    x = batch(seed, shape)
    layer = RandomFlip(mode, seed=seed, data_format=data_format)
    flips = layer.get_random_transformation(x)
    once = layer.transform_images(x, flips)
    torch.testing.assert_close(layer.transform_images(once, flips), x, atol=0, rtol=0)


def test_flip_flips_exactly_the_masked_images_along_the_mode_axes():
    x = batch(0, (4, 3, 5, 2))
    layer = RandomFlip("horizontal_and_vertical")
    fixed = {
        "horizontal": torch.tensor([True, False, True, False]),
        "vertical": torch.tensor([True, True, False, False]),
    }
    y = layer.transform_images(x, fixed)
    expected = [x[0].flip(0, 1), x[1].flip(0), x[2].flip(1), x[3]]
    for got, want in zip(y, expected):
        torch.testing.assert_close(got, want, atol=0, rtol=0)


@pytest.mark.parametrize("mode, axis", [("horizontal", 2), ("vertical", 1)])
def test_one_axis_mode_only_flips_that_axis(mode, axis):
    x = batch(1, (64, 3, 4, 1))
    y = RandomFlip(mode, seed=0)(x)
    flipped = [torch.equal(a, b.flip(axis - 1)) for a, b in zip(y, x)]
    kept = [torch.equal(a, b) for a, b in zip(y, x)]
    assert all(f or k for f, k in zip(flipped, kept))
    assert 10 < sum(flipped) < 54  # about half of them, each with probability 1/2


def test_flip_rejects_a_misspelled_mode():
    with pytest.raises(
        ValueError, match=r"RandomFlip: mode must be one of 'horizontal'.*'horizontl'"
    ):
        RandomFlip("horizontl")


# ----------------------------------------------------------------------------- RandomTranslation
def roll_and_fill(x, dy, dx, fill):
    """Shift (n, h, w, c) images down by dy and right by dx; uncovered pixels become ``fill``."""
    out = torch.full_like(x, fill)
    h, w = x.shape[1:3]
    if abs(dy) >= h or abs(dx) >= w:
        return out
    src_rows = slice(max(-dy, 0), min(h - dy, h))
    dst_rows = slice(max(dy, 0), min(h + dy, h))
    src_cols = slice(max(-dx, 0), min(w - dx, w))
    dst_cols = slice(max(dx, 0), min(w + dx, w))
    out[:, dst_rows, dst_cols] = x[:, src_rows, src_cols]
    return out


@settings(max_examples=30, deadline=None)
@given(
    size=sizes,
    shifts=st.lists(st.tuples(st.integers(-9, 9), st.integers(-9, 9)), min_size=3, max_size=3),
    fill_value=st.sampled_from([0.0, -1.5, 255.0]),
    interpolation=st.sampled_from(["bilinear", "nearest"]),
)
def test_integer_translation_with_constant_fill_is_roll_and_fill(
    size, shifts, fill_value, interpolation
):
    x = batch(2, (3, *size, 2))
    layer = RandomTranslation(
        0.5, 0.5, fill_mode="constant", fill_value=fill_value, interpolation=interpolation
    )
    translations = torch.tensor([[dx, dy] for dy, dx in shifts], dtype=torch.float32)
    y = layer.transform_images(x, {"translations": translations})
    for i, (dy, dx) in enumerate(shifts):
        expected = roll_and_fill(x[i : i + 1], dy, dx, fill_value)
        # float32 grid coordinates are off by ~1e-7: a border pixel may take ~1e-6 of the fill
        torch.testing.assert_close(
            y[i : i + 1], expected, atol=2e-6 * (1 + abs(fill_value)) + 1e-5, rtol=0
        )


@settings(max_examples=15, deadline=None)
@given(size=sizes, dy=st.integers(-20, 20), dx=st.integers(-20, 20))
def test_integer_translation_with_wrap_fill_is_torch_roll(size, dy, dx):
    x = batch(3, (1, *size, 3))
    layer = RandomTranslation(0.1, 0.1, fill_mode="wrap")
    y = layer.transform_images(x, {"translations": torch.tensor([[float(dx), float(dy)]])})
    torch.testing.assert_close(y, torch.roll(x, (dy, dx), dims=(1, 2)), atol=1e-4, rtol=0)


def test_drawn_translations_stay_within_the_factors():
    x = torch.zeros(500, 10, 20, 1)
    drawn = RandomTranslation((-0.2, 0.1), 0.3, seed=4).get_random_transformation(x)
    dx, dy = drawn["translations"].unbind(1)
    assert dy.min() >= -2.0 and dy.max() <= 1.0 and dy.min() < -1.5 and dy.max() > 0.5
    assert dx.abs().max() <= 6.0 and dx.min() < -5.0 and dx.max() > 5.0


# ----------------------------------------------------------------------------- Keras oracle
@settings(max_examples=20, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    size=sizes,
    layer_name=st.sampled_from(["RandomTranslation", "RandomRotation", "RandomZoom"]),
    a=st.floats(-0.9, 0.9),
    b=st.floats(-0.9, 0.9),
    fill_mode=st.sampled_from(FILL_MODES),
    data_format=st.sampled_from(["channels_last", "channels_first"]),
)
def test_fixed_factor_matches_keras_layer(seed, size, layer_name, a, b, fill_mode, data_format):
    """With factor ranges (a, a) Keras' layer is deterministic in training: same image out."""
    shape = (2, *size, 3) if data_format == "channels_last" else (2, 3, *size)
    x = batch(seed, shape)
    factors = [(a, a)] if layer_name == "RandomRotation" else [(a, a), (b, b)]
    kwargs = {"fill_mode": fill_mode, "fill_value": 0.25, "data_format": data_format}
    ours = globals()[layer_name](*factors, **kwargs)
    oracle = getattr(keras.layers, layer_name)(*factors, **kwargs)
    expected = np.asarray(oracle(x.numpy(), training=True).cpu())
    np.testing.assert_allclose(ours(x).numpy(), expected, atol=5e-5)


def test_rotation_by_a_quarter_turn_is_rot90():
    x = batch(5, (2, 6, 6, 1))
    y = RandomRotation((0.25, 0.25))(x)
    torch.testing.assert_close(y, torch.rot90(x, 1, dims=(1, 2)), atol=1e-5, rtol=0)


def test_zoom_of_zero_and_rotation_of_zero_are_identity_in_training():
    x = batch(6, (3, 7, 5, 2))
    for layer in (RandomZoom(0.0), RandomRotation(0.0), RandomTranslation(0.0, 0.0)):
        torch.testing.assert_close(layer(x), x, atol=1e-5, rtol=0)


def test_geometric_factor_errors():
    with pytest.raises(
        ValueError, match=r"RandomTranslation: height_factor must be .* \[-1.0, 1.0\]"
    ):
        RandomTranslation(1.5, 0.1)
    with pytest.raises(ValueError, match=r"RandomZoom: height_factor must be .* \(-1.0, 1.0\]"):
        RandomZoom(-1.0)
    with pytest.raises(TypeError, match="RandomRotation: factor must be a number"):
        RandomRotation("a lot")
    with pytest.raises(ValueError, match="RandomRotation: fill_mode must be one of"):
        RandomRotation(0.1, fill_mode="mirror")
    with pytest.raises(ValueError, match="RandomZoom: interpolation must be one of"):
        RandomZoom(0.1, interpolation="bicubic")
    with pytest.raises(ValueError, match="RandomZoom: seed must be an int >= 0 or None"):
        RandomZoom(0.1, seed=-3)


# ----------------------------------------------------------------------------- RandomCrop
@settings(max_examples=20, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    size_in=st.tuples(st.integers(4, 10), st.integers(4, 10)),
    size_out=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    data_format=st.sampled_from(["channels_last", "channels_first"]),
)
def test_random_crop_cuts_windows_at_the_drawn_offsets(seed, size_in, size_out, data_format):
    shape = (6, *size_in, 2) if data_format == "channels_last" else (6, 2, *size_in)
    x = batch(seed, shape)
    layer = RandomCrop(*size_out, seed=seed, data_format=data_format)
    drawn = layer.get_random_transformation(x)
    y = layer.transform_images(x, drawn)
    (h, w), nhwc = size_out, x if data_format == "channels_last" else x.permute(0, 2, 3, 1)
    for i, (top, left) in enumerate(drawn["offsets"].tolist()):
        assert 0 <= top <= size_in[0] - h and 0 <= left <= size_in[1] - w
        window = nhwc[i, top : top + h, left : left + w]
        got = y[i] if data_format == "channels_last" else y[i].permute(1, 2, 0)
        torch.testing.assert_close(got, window, atol=0, rtol=0)


@pytest.mark.parametrize("size_in", [(10, 12), (6, 8), (4, 20), (3, 3)])
def test_random_crop_inference_is_keras_smart_resize(size_in):
    """In inference (and for too small images in training) the largest centred window of the
    target aspect ratio is resized, as Keras documents; Keras' Resizing(crop_to_aspect_ratio)
    computes exactly that."""
    x = batch(7, (2, *size_in, 3))
    oracle = keras.layers.Resizing(6, 8, crop_to_aspect_ratio=True)
    expected = np.asarray(oracle(x.numpy()).cpu())
    layer = RandomCrop(6, 8).eval()
    np.testing.assert_allclose(layer(x).numpy(), expected, atol=1e-5)
    if size_in[0] < 6 or size_in[1] < 8:
        np.testing.assert_allclose(layer.train()(x).numpy(), expected, atol=1e-5)
    shape = (None, *size_in, 3)
    assert layer.build_for(shape) == keras.layers.RandomCrop(6, 8).compute_output_shape(shape)
