"""The fast paths of RandomTranslation and RandomFlip against their references: the general
affine warp (grid_sample, which the Keras comparisons in test_augment_warp.py and
test_augment_geometric.py pin down) and torch.flip image by image."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
import torch

from cnnkit import Sequential
from cnnkit.layers._augment_geometric import RandomFlip, RandomTranslation, _RandomAffine
from cnnkit.layers._image_warp import FILL_MODES, INTERPOLATIONS

SIZES = [(1, 1), (1, 5), (4, 1), (2, 3), (5, 7), (8, 8)]


def random_shifts(rng, n, height, width, integer):
    """(n, 2) shifts (dx, dy) up to three image sizes either way, away from the .5 ties where
    nearest interpolation may round either way."""
    scale = np.array([width, height]) * 3.0
    shifts = rng.uniform(-1, 1, (n, 2)) * scale
    if integer:
        return torch.tensor(np.round(shifts), dtype=torch.float32)
    fraction = shifts - np.floor(shifts)
    shifts = np.where(np.abs(fraction - 0.5) < 0.01, shifts + 0.1, shifts)
    shifts[:2] = [[0.3, -0.7], [-0.25, 0.6]]  # small shifts too: the common case
    return torch.tensor(shifts, dtype=torch.float32)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
@pytest.mark.parametrize("fill_mode", FILL_MODES)
def test_fast_translation_matches_the_affine_warp(fill_mode, interpolation, data_format):
    rng = np.random.default_rng(zlib.crc32(f"{fill_mode} {interpolation} {data_format}".encode()))
    layer = RandomTranslation(
        0.5,
        0.5,
        fill_mode=fill_mode,
        interpolation=interpolation,
        fill_value=-0.75,
        data_format=data_format,
    )
    for height, width in SIZES:
        for integer in (False, True):
            shape = (
                (6, height, width, 3) if data_format == "channels_last" else (6, 3, height, width)
            )
            x = torch.tensor(rng.uniform(0, 1, shape), dtype=torch.float32)
            shifts = {"translations": random_shifts(rng, 6, height, width, integer)}
            expected = _RandomAffine._transform(layer, x, shifts)  # the grid_sample path
            got = layer.transform_images(x, shifts)
            assert got.shape == x.shape and got.dtype == x.dtype
            torch.testing.assert_close(
                got, expected, atol=1e-5, rtol=0, msg=f"{(height, width)} {shifts}"
            )


def test_fast_translation_takes_channels_first_data_in_channels_last_memory():
    x = torch.rand(4, 3, 6, 5).to(memory_format=torch.channels_last)
    layer = RandomTranslation(0.3, 0.3, data_format="channels_first", seed=1)
    shifts = layer.get_random_transformation(x)
    torch.testing.assert_close(
        layer.transform_images(x, shifts),
        _RandomAffine._transform(layer, x.contiguous(), shifts),
        atol=1e-5,
        rtol=0,
    )


def test_translation_of_an_input_that_needs_a_gradient_still_backpropagates():
    x = torch.rand(2, 5, 5, 1, requires_grad=True)
    layer = RandomTranslation(0.4, 0.4, seed=0)
    layer(x).sum().backward()
    assert x.grad is not None and x.grad.shape == x.shape


# ----------------------------------------------------------------------------- RandomFlip
def flipped_one_by_one(x, horizontal, vertical, data_format):
    """The reference: torch.flip on each image, along the axes its masks select."""
    row_axis, column_axis = (0, 1) if data_format == "channels_last" else (1, 2)
    images = []
    for image, h, v in zip(x, horizontal, vertical):
        axes = [axis for axis, flip in ((column_axis, h), (row_axis, v)) if flip]
        images.append(image.flip(axes) if axes else image)
    return torch.stack(images)


@pytest.mark.parametrize("memory", ["contiguous", "channels_last_memory", "needs_grad"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("mode", ["horizontal", "vertical", "horizontal_and_vertical"])
def test_flip_matches_torch_flip_per_image(mode, data_format, memory):
    layer = RandomFlip(mode, data_format=data_format)
    for n, height, width in [(1, 1, 1), (5, 2, 7), (9, 6, 5)]:
        for trial in range(3):
            shape = (
                (n, height, width, 3) if data_format == "channels_last" else (n, 3, height, width)
            )
            x = torch.rand(shape)
            if memory == "channels_last_memory":
                x = x.to(memory_format=torch.channels_last)
            x.requires_grad_(memory == "needs_grad")
            masks = {
                "horizontal": torch.rand(n) < 0.5 if mode != "vertical" else None,
                "vertical": torch.rand(n) < 0.5 if mode != "horizontal" else None,
            }
            if trial and masks["horizontal"] is not None:
                masks["horizontal"][:] = trial == 1  # every image mirrored, then none
            no = torch.zeros(n, dtype=torch.bool)
            expected = flipped_one_by_one(
                x,
                no if masks["horizontal"] is None else masks["horizontal"],
                no if masks["vertical"] is None else masks["vertical"],
                data_format,
            )
            got = layer.transform_images(x, masks)
            assert torch.equal(got, expected)
            if memory == "needs_grad":
                got.sum().backward()
                assert torch.equal(x.grad, torch.ones_like(x))


@pytest.mark.parametrize(
    "make",
    [
        lambda: RandomFlip("horizontal", seed=1),
        lambda: RandomFlip(seed=1),
        lambda: RandomTranslation(0.3, 0.3, seed=1),
        lambda: RandomTranslation(0.3, 0.3, fill_mode="constant", seed=1),
        lambda: RandomTranslation(0.3, 0.3, interpolation="nearest", seed=1),
        lambda: Sequential([RandomFlip(seed=1), RandomTranslation(0.3, 0.3, seed=1)]),
    ],
)
def test_outputs_are_new_memory_that_later_calls_leave_alone(make):
    layer = make()
    layer.train()
    x = torch.rand(5, 6, 7, 3)
    original = x.clone()
    first = layer(x)
    kept = first.clone()
    second = layer(x)
    assert torch.equal(x, original)  # the input is only read
    assert torch.equal(first, kept)  # the second call wrote neither into it nor the first output
    assert first.untyped_storage().data_ptr() != second.untyped_storage().data_ptr()
    assert first.untyped_storage().data_ptr() != x.untyped_storage().data_ptr()


def test_workspace_is_reused_and_not_copied_with_the_layer():
    import copy
    import pickle

    layer = RandomTranslation(0.2, 0.2, seed=3)
    x = torch.rand(4, 8, 8, 3)
    first = layer(x)
    kept = first.clone()
    second = layer(x)
    assert torch.equal(first, kept)  # the second call did not write into the first output
    assert not torch.equal(first, second)
    for twin in (copy.deepcopy(layer), pickle.loads(pickle.dumps(layer))):
        assert twin._workspace._buffers == {}
        assert twin(x).shape == x.shape
