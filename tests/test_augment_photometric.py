"""Brightness, contrast and erasing: value ranges, the drawn factors, and Keras 3's own
``transform_images`` as the oracle for a fixed transformation."""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from cnnkit.layers._augment_photometric import (  # noqa: E402
    RandomBrightness,
    RandomContrast,
    RandomErasing,
)

value_ranges = st.sampled_from([(0, 255), (0, 1), (-1, 1)])


def batch(seed, shape, value_range=(0, 255)):
    rng = np.random.default_rng(seed)
    return torch.from_numpy(rng.uniform(*value_range, shape).astype(np.float32))


def keras_transform(layer, x, transformation):
    return np.asarray(layer.transform_images(x.clone(), transformation, training=True).cpu())


# ----------------------------------------------------------------------------- RandomBrightness
@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**31), value_range=value_ranges, factor=st.floats(0.0, 1.0))
def test_brightness_stays_in_range_and_shifts_each_image_by_one_delta(seed, value_range, factor):
    x = batch(seed, (6, 4, 5, 3), value_range)
    layer = RandomBrightness(factor, value_range=value_range, seed=seed)
    drawn = layer.get_random_transformation(x)
    y = layer.transform_images(x, drawn)
    low, high = value_range
    assert y.min() >= low and y.max() <= high
    delta = drawn["rgb_delta"]
    assert delta.abs().max() <= factor * (high - low) + 1e-6
    torch.testing.assert_close(y, torch.clamp(x + delta.view(-1, 1, 1, 1), low, high))


@pytest.mark.parametrize("value_range", [(0, 255), (0, 1)])
def test_brightness_matches_keras_for_a_fixed_delta(value_range):
    x = batch(1, (4, 3, 3, 3), value_range)
    delta = torch.tensor([-0.5, -0.1, 0.2, 0.9]) * (value_range[1] - value_range[0])
    ours = RandomBrightness(0.9, value_range=value_range).transform_images(x, {"rgb_delta": delta})
    oracle = keras.layers.RandomBrightness(0.9, value_range=value_range)
    expected = keras_transform(oracle, x, {"rgb_delta": delta.view(-1, 1, 1, 1)})
    np.testing.assert_allclose(ours.numpy(), expected, atol=1e-5)


# ----------------------------------------------------------------------------- RandomContrast
@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**31), value_range=value_ranges, factor=st.floats(0.0, 1.0))
def test_contrast_stays_in_range(seed, value_range, factor):
    x = batch(seed, (6, 4, 5, 3), value_range)
    y = RandomContrast(factor, value_range=value_range, seed=seed)(x)
    assert y.min() >= value_range[0] and y.max() <= value_range[1]


def test_contrast_matches_keras_for_fixed_factors():
    x = batch(2, (3, 5, 4, 3))
    factors = torch.tensor([0.3, 1.0, 1.8])
    ours = RandomContrast(0.5).transform_images(x, {"contrast_factor": factors})
    oracle = keras.layers.RandomContrast(0.5)
    expected = keras_transform(oracle, x, {"contrast_factor": factors.view(-1, 1, 1, 1)})
    np.testing.assert_allclose(ours.numpy(), expected, atol=1e-4)


def test_contrast_keeps_channel_means_when_nothing_clips():
    x = batch(3, (4, 6, 6, 3), (100, 150))
    y = RandomContrast(0.5, seed=0)(x)
    torch.testing.assert_close(y.mean(dim=(1, 2)), x.mean(dim=(1, 2)), atol=1e-3, rtol=0)


def test_contrast_factor_f_draws_in_one_minus_f_to_one_plus_f():
    """As Keras documents (Keras 3.15's code draws in [1, 1 + f] for a single number)."""
    drawn = RandomContrast(0.5, seed=1).get_random_transformation(torch.zeros(2000, 2, 2, 1))
    factors = drawn["contrast_factor"]
    assert factors.min() >= 0.5 and factors.max() <= 1.5
    assert factors.min() < 0.55 and factors.max() > 1.45
    pair = RandomContrast((0.2, 0.3), seed=1).get_random_transformation(torch.zeros(500, 2, 2, 1))
    assert pair["contrast_factor"].min() >= 0.8 and pair["contrast_factor"].max() <= 1.3


# ----------------------------------------------------------------------------- RandomErasing
def box_masks(boxes, height, width):
    cols, rows = torch.arange(width).view(1, 1, -1), torch.arange(height).view(1, -1, 1)
    x0, y0, x1, y1 = (boxes[:, i].view(-1, 1, 1) for i in range(4))
    return (cols >= x0) & (cols < x1) & (rows >= y0) & (rows < y1)


@settings(max_examples=20, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    size=st.tuples(st.integers(2, 12), st.integers(2, 12)),
    fill_value=st.sampled_from([None, 0.0, 17.0, [1.0, 2.0, 300.0]]),
)
def test_erasing_fills_one_rectangle_per_erased_image(seed, size, fill_value):
    x = batch(seed, (8, *size, 3))
    layer = RandomErasing(factor=(0.5, 0.5), scale=(0.1, 0.4), fill_value=fill_value, seed=seed)
    drawn = layer.get_random_transformation(x)
    y = layer.transform_images(x, drawn)
    inside = box_masks(drawn["boxes"], *size) & drawn["apply_erasing"].view(-1, 1, 1)
    torch.testing.assert_close(y[~inside], x[~inside], atol=0, rtol=0)
    widths = (drawn["boxes"][:, 2] - drawn["boxes"][:, 0]) / size[1]
    heights = (drawn["boxes"][:, 3] - drawn["boxes"][:, 1]) / size[0]
    for side in (widths, heights):
        assert side.min() >= 0.1**0.5 - 1e-6 and side.max() <= 0.4**0.5 + 1e-6
    assert drawn["boxes"][:, :2].min() >= 0
    assert (drawn["boxes"][:, 2] <= size[1] + 1e-4).all()
    assert y.min() >= 0 and y.max() <= 255
    if fill_value is not None:
        expected = torch.clamp(torch.tensor(fill_value), 0, 255).expand(*y.shape)
        torch.testing.assert_close(y[inside], expected[inside], atol=0, rtol=0)


def test_erasing_matches_keras_for_a_fixed_transformation():
    x = batch(4, (3, 6, 7, 3))
    layer = RandomErasing(fill_value=[10.0, 20.0, 30.0])
    fixed = {
        "apply_erasing": torch.tensor([True, False, True]),
        "boxes": torch.tensor([[1.0, 0.5, 4.2, 3.0], [0.0, 0.0, 7.0, 6.0], [5.5, 2.0, 7.0, 6.0]]),
        "fill_value": [10.0, 20.0, 30.0],
    }
    oracle = keras.layers.RandomErasing(fill_value=[10.0, 20.0, 30.0])
    keras_fixed = {
        "apply_erasing": fixed["apply_erasing"],
        "batch_masks": box_masks(fixed["boxes"], 6, 7)[..., None].expand(3, 6, 7, 3),
        "fill_value": torch.tensor([10.0, 20.0, 30.0]).expand(3, 6, 7, 3),
    }
    expected = keras_transform(oracle, x, keras_fixed)
    np.testing.assert_allclose(layer.transform_images(x, fixed).numpy(), expected)


def test_erasing_probability_follows_factor():
    x = torch.zeros(400, 4, 4, 1)
    never = RandomErasing(factor=0.0, seed=0).get_random_transformation(x)
    always = RandomErasing(factor=(1.0, 1.0), seed=0).get_random_transformation(x)
    default = RandomErasing(seed=0).get_random_transformation(x)  # probability ~ U[0, 1]
    assert not never["apply_erasing"].any() and always["apply_erasing"].all()
    assert 150 < int(default["apply_erasing"].sum()) < 250


def test_photometric_errors_name_layer_and_argument():
    with pytest.raises(ValueError, match=r"RandomBrightness: factor must be .* \[-1.0, 1.0\]"):
        RandomBrightness(2.0)
    with pytest.raises(ValueError, match=r"RandomContrast: factor must be .* \[0.0, 1.0\]"):
        RandomContrast(-0.2)
    with pytest.raises(TypeError, match="RandomContrast: value_range must be a pair"):
        RandomContrast(0.2, value_range=255)
    with pytest.raises(ValueError, match="RandomBrightness: value_range must satisfy low < high"):
        RandomBrightness(0.2, value_range=(1, 0))
    with pytest.raises(TypeError, match="RandomErasing: fill_value must be a number"):
        RandomErasing(fill_value="black")
    with pytest.raises(ValueError, match="RandomErasing 'random_erasing': fill_value has 2 values"):
        RandomErasing(fill_value=[0.0, 1.0])(torch.zeros(1, 4, 4, 3))
