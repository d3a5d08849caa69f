"""A RandomFlip followed by a RandomTranslation in a Sequential model runs as one pass
(``translate`` with flips): the same draws and the same result, bit for bit, as the two
layers one after the other, and the layer-by-layer path wherever fusing would change that."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
import torch

import cnnkit
from cnnkit._fast._warp import translate
from cnnkit.layers._augment_geometric import RandomFlip, RandomTranslation
from cnnkit.layers._image_warp import FILL_MODES, INTERPOLATIONS

MODES = ["horizontal", "vertical", "horizontal_and_vertical"]


def flipped_one_by_one(x, mirrored, upside_down):
    """The reference: torch.flip on each (height, width, channels) image its masks select."""
    images = []
    for image, h, v in zip(x, mirrored, upside_down):
        axes = [axis for axis, flip in ((1, h), (0, v)) if flip]
        images.append(image.flip(axes) if axes else image)
    return torch.stack(images)


@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
@pytest.mark.parametrize("fill_mode", FILL_MODES)
def test_translate_with_flips_equals_flipping_first(fill_mode, interpolation):
    rng = np.random.default_rng(zlib.crc32(f"{fill_mode} {interpolation}".encode()))
    for n, height, width, channels in [(1, 1, 1, 3), (5, 2, 7, 1), (9, 6, 5, 3), (16, 8, 8, 2)]:
        x = torch.tensor(rng.uniform(-1, 1, (n, height, width, channels)), dtype=torch.float32)
        shifts = torch.tensor(rng.uniform(-1.5, 1.5, (n, 2)) * [width, height], dtype=torch.float32)
        for masks in ("random", "all", "none"):
            if masks == "random":
                mirrored = torch.tensor(rng.random(n) < 0.5)
                upside_down = torch.tensor(rng.random(n) < 0.5)
            else:
                mirrored = upside_down = torch.full((n,), masks == "all")
            options = dict(interpolation=interpolation, fill_mode=fill_mode, fill_value=-0.5)
            expected = translate(flipped_one_by_one(x, mirrored, upside_down), shifts, **options)
            got = translate(x, shifts, mirrored, upside_down, **options)
            assert torch.equal(got, expected), (n, height, width, masks)


def pair_model(mode="horizontal_and_vertical", data_format=None, **translation):
    """Input, RandomFlip(mode, seed=1), RandomTranslation(seed=2) and a Flatten."""
    shape = (9, 7, 3) if data_format != "channels_first" else (3, 9, 7)
    options = dict(fill_mode="reflect", interpolation="bilinear", data_format=data_format)
    options.update(translation)
    return cnnkit.Sequential(
        [
            cnnkit.Input(shape),
            RandomFlip(mode, seed=1, data_format=data_format),
            RandomTranslation(0.4, 0.3, seed=2, **options),
            cnnkit.layers.Flatten(),
        ]
    )


def layer_by_layer(model, x):
    """The model's flip and translation called one after the other, then its last layer."""
    flip, translation, flatten = model.layers
    return flatten(translation(flip(x, training=True), training=True))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("fill_mode", FILL_MODES)
def test_model_runs_the_pair_in_one_pass_with_the_layers_result(mode, fill_mode, monkeypatch):
    fused, reference = pair_model(mode, fill_mode=fill_mode), pair_model(mode, fill_mode=fill_mode)
    fused.train()
    x = torch.rand(12, 9, 7, 3)
    expected = [layer_by_layer(reference, x) for _ in range(3)]

    def not_expected(*args, **kwargs):
        raise AssertionError("the model ran RandomFlip on its own")

    monkeypatch.setattr(RandomFlip, "_apply", not_expected)
    for step in range(3):  # the streams of both layers advance as they do layer by layer
        assert torch.equal(fused(x), expected[step])


def test_channels_first_pair_matches_layer_by_layer():
    fused, reference = (
        pair_model(data_format="channels_first"),
        pair_model(data_format="channels_first"),
    )
    fused.train()
    for x in (torch.rand(6, 3, 9, 7), torch.rand(6, 3, 9, 7).to(memory_format=torch.channels_last)):
        assert torch.equal(fused(x), layer_by_layer(reference, x))


def test_a_run_that_stops_between_the_two_layers_applies_only_the_flip():
    model, reference = pair_model(), pair_model()
    model.train()
    x = torch.rand(10, 9, 7, 3)
    flip, translation = reference.layers[:2]
    assert torch.equal(model.run_layers(x, stop=1), flip(x, training=True))
    assert torch.equal(model.run_layers(x, stop=-2), flip(x, training=True))  # the same stop
    expected = translation(flip(x, training=True), training=True)
    assert torch.equal(model.run_layers(x, stop=2), expected)  # both layers, in one pass


def test_a_run_that_starts_between_the_two_layers_applies_only_the_translation():
    model, reference = pair_model(), pair_model()
    model.train()
    x = torch.rand(10, 9, 7, 3)
    flip, translation, flatten = reference.layers
    assert torch.equal(model.run_layers(x, start=1), flatten(translation(x, training=True)))
    assert torch.equal(model.run_layers(x, start=1, stop=2), translation(x, training=True))
    assert torch.equal(model.run_layers(x, start=2), flatten(x))
    both = translation(flip(x, training=True), training=True)
    assert torch.equal(model.run_layers(x, start=0, stop=2), both)  # in one pass


@pytest.mark.parametrize("fill_mode", FILL_MODES)
def test_the_pair_takes_an_empty_batch(fill_mode):
    model = pair_model(fill_mode=fill_mode)
    model.train()
    assert model(torch.zeros(0, 9, 7, 3)).shape == (0, 9 * 7 * 3)


def test_inference_leaves_images_unchanged():
    model = pair_model()
    model.eval()
    x = torch.rand(4, 9, 7, 3)
    assert torch.equal(model(x), x.reshape(4, -1))


@pytest.mark.parametrize("case", ["needs_grad", "integer_images", "other_data_format", "hook"])
def test_the_layers_run_one_by_one_where_one_pass_does_not_apply(case):
    model = pair_model()
    reference = pair_model()
    x = torch.rand(5, 9, 7, 3)
    if case == "needs_grad":
        x.requires_grad_(True)
    elif case == "integer_images":
        x = (x * 255).to(torch.uint8)
    elif case == "other_data_format":
        for m in (model, reference):
            m.layers[1].data_format = "channels_first"  # (batch, 9 channels, 7, 3) images
    else:
        model.layers[0].register_forward_hook(lambda module, args, out: None)
    model.train()
    got = model(x)
    assert torch.equal(got, layer_by_layer(reference, x))
    if case == "needs_grad":
        got.sum().backward()
        assert x.grad is not None and x.grad.shape == x.shape


def test_fit_trains_with_the_pair_and_is_reproducible():
    def train():
        cnnkit.utils.set_random_seed(3)
        model = cnnkit.Sequential(
            [
                cnnkit.Input((8, 8, 3)),
                RandomFlip(seed=1),
                RandomTranslation(0.2, 0.2, seed=2),
                cnnkit.layers.Conv2D(4, 3, activation="relu"),
                cnnkit.layers.Flatten(),
                cnnkit.layers.Dense(3, activation="softmax"),
            ]
        )
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        rng = np.random.default_rng(0)
        x = rng.random((64, 8, 8, 3), dtype=np.float32)
        y = rng.integers(0, 3, 64)
        return model.fit(x, y, batch_size=16, epochs=2, verbose=0).history["loss"]

    first, second = train(), train()
    assert first == second and all(np.isfinite(first))
