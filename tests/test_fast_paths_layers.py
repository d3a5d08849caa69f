"""The augmentation layers' fast paths (``cnnkit._fast._warp``) against their plain
references (``cnnkit.layers._image_warp``): the same numbers over a table of image sizes,
dtypes, fill modes, interpolations, shifts and flips, and the same layer outputs with the
switch on and off."""

from __future__ import annotations

import itertools
import zlib

import numpy as np
import pytest
import torch

import cnnkit
from cnnkit._fast import _warp
from cnnkit.layers import _image_warp as plain
from cnnkit.layers._augment_geometric import RandomFlip, RandomTranslation

# (batch, height, width, channels): batch 1, one and three channels, one-pixel and odd sizes.
SHAPES = [(1, 1, 1, 1), (1, 6, 5, 3), (4, 7, 9, 1), (3, 2, 8, 3), (5, 32, 32, 3)]
DTYPES = [torch.float32, torch.float64, torch.bfloat16]
SHIFT_KINDS = ["fractional", "integer", "beyond the image"]


def shifts_of(kind: str, rng: np.random.Generator, n: int, height: int, width: int):
    """(n, 2) shifts (dx, dy) in pixels: fractions within the image, whole pixels, or up to
    three image sizes either way (where the fill modes repeat or clip)."""
    scale = np.array([width, height]) * (3.0 if kind == "beyond the image" else 0.6)
    shifts = rng.uniform(-1, 1, (n, 2)) * scale
    if kind == "integer":
        shifts = np.round(shifts)
    return torch.tensor(shifts, dtype=torch.float32)


def flips_of(rng: np.random.Generator, n: int, which: str):
    """(mirrored, upside_down): None (no flips), or random (batch,) masks."""
    if which == "none":
        return None, None
    return torch.tensor(rng.random(n) < 0.5), torch.tensor(rng.random(n) < 0.5)


def assert_same_numbers(fast, reference, interpolation, message):
    """Exactly equal where both only pick pixels (nearest); bilinear blends add in another
    order, so within float32 rounding (1e-6 on values in [-1, 1]) or one bfloat16 step."""
    assert fast.shape == reference.shape and fast.dtype == reference.dtype, message
    if interpolation == "nearest":
        assert torch.equal(fast, reference), message
        return
    atol = 2.0**-7 if fast.dtype == torch.bfloat16 else 1e-6
    torch.testing.assert_close(fast, reference, atol=atol, rtol=0, msg=message)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("interpolation", plain.INTERPOLATIONS)
@pytest.mark.parametrize("fill_mode", plain.FILL_MODES)
def test_fast_translate_equals_the_plain_translate(fill_mode, interpolation, dtype):
    rng = np.random.default_rng(zlib.crc32(f"{fill_mode} {interpolation} {dtype}".encode()))
    options = dict(interpolation=interpolation, fill_mode=fill_mode, fill_value=-0.5)
    for shape, kind, which in itertools.product(SHAPES, SHIFT_KINDS, ["none", "random"]):
        n, height, width, _ = shape
        x = torch.tensor(rng.uniform(-1, 1, shape)).to(dtype)
        shifts = shifts_of(kind, rng, n, height, width)
        mirrored, upside_down = flips_of(rng, n, which)
        reference = plain.translate(x, shifts, mirrored, upside_down, **options)
        fast = _warp.translate(x, shifts, mirrored, upside_down, **options)
        assert_same_numbers(fast, reference, interpolation, f"{shape} {kind} {which} flips")


def test_shifts_at_half_pixels_round_to_even_in_both():
    x = torch.arange(2 * 1 * 8 * 1, dtype=torch.float32).view(2, 1, 8, 1)
    shifts = torch.tensor([[0.5, 0.0], [-2.5, 0.0]])
    options = dict(interpolation="nearest", fill_mode="constant", fill_value=-1.0)
    reference = plain.translate(x, shifts, **options)
    assert torch.equal(_warp.translate(x, shifts, **options), reference)
    # -0.5 rounds to -0 (no move); 2.5 rounds to 2 (two pixels left, then the fill)
    assert reference[0, 0, :, 0].tolist() == list(range(8))
    assert reference[1, 0, :, 0].tolist() == [10, 11, 12, 13, 14, 15, -1, -1]


def test_the_workspace_changes_nothing():
    x, shifts = torch.rand(3, 6, 5, 3), torch.tensor([[0.4, -1.3], [2.0, 0.7], [-0.2, 0.1]])
    memory = torch.full((10_000,), float("nan"))
    for fill_mode in plain.FILL_MODES:
        options = dict(fill_mode=fill_mode, fill_value=0.25)
        expected = plain.translate(x, shifts, **options)
        got = _warp.translate(x, shifts, **options, workspace=lambda numel: memory[:numel])
        assert_same_numbers(got, expected, "bilinear", fill_mode)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.uint8], ids=str)
def test_fast_flip_equals_the_plain_flip(dtype):
    rng = np.random.default_rng(7)
    for shape, which in itertools.product(SHAPES, ["mirrored", "upside_down", "both"]):
        x = torch.tensor(rng.uniform(0, 100, shape)).to(dtype)
        mirrored, upside_down = flips_of(rng, shape[0], "random")
        mirrored = None if which == "upside_down" else mirrored
        upside_down = None if which == "mirrored" else upside_down
        expected = plain.flip(x, mirrored, upside_down)
        assert torch.equal(_warp.flip(x, mirrored, upside_down), expected), (shape, which)


def test_the_plain_flip_does_what_it_says():
    x = torch.arange(2 * 2 * 3 * 1).view(2, 2, 3, 1)
    got = plain.flip(x, torch.tensor([True, False]), torch.tensor([True, True]))
    assert torch.equal(got[0], x[0].flip(0, 1)) and torch.equal(got[1], x[1].flip(0))


# ----------------------------------------------------------------------------- the switch
def run_layers(make, x, enabled, monkeypatch, calls=3):
    """The outputs of ``calls`` training calls of a fresh ``make()`` on ``x``, with the fast
    paths switched on or off."""
    monkeypatch.setattr(_warp, "ENABLED", enabled)
    layer = make()
    layer.train()
    return [layer(x) for _ in range(calls)]


LAYERS = {
    "flip": lambda fmt: RandomFlip(seed=1, data_format=fmt),
    "translation": lambda fmt: RandomTranslation(0.4, 0.3, seed=2, data_format=fmt),
    "constant nearest translation": lambda fmt: RandomTranslation(
        0.4, 0.3, "constant", "nearest", seed=2, fill_value=0.5, data_format=fmt
    ),
    "flip then translation": lambda fmt: cnnkit.Sequential(
        [
            cnnkit.Input((9, 7, 3) if fmt == "channels_last" else (3, 9, 7)),
            RandomFlip(seed=1, data_format=fmt),
            RandomTranslation(0.4, 0.3, seed=2, data_format=fmt),
        ]
    ),
}


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("name", LAYERS)
def test_layers_give_the_same_numbers_with_the_fast_paths_off(name, data_format, monkeypatch):
    shape = (6, 9, 7, 3) if data_format == "channels_last" else (6, 3, 9, 7)
    x = torch.rand(shape)

    def make():
        return LAYERS[name](data_format)

    fast = run_layers(make, x, True, monkeypatch)
    slow = run_layers(make, x, False, monkeypatch)
    for got, expected in zip(fast, slow):
        assert_same_numbers(got, expected, "bilinear", name)
    assert not torch.equal(fast[0], x)  # the layers did change the images


def test_switched_off_the_layers_never_reach_the_fast_functions(monkeypatch):
    def not_expected(*args, **kwargs):
        raise AssertionError("a fast path ran although switched off")

    for name in ("translate", "flip", "FlipThenTranslation", "on_pixel_rows"):
        monkeypatch.setattr(_warp, name, not_expected)
    monkeypatch.setattr(_warp, "ENABLED", False)
    model = LAYERS["flip then translation"]("channels_last")
    model.train()
    assert model(torch.rand(4, 9, 7, 3)).shape == (4, 9, 7, 3)


def test_switched_on_the_layers_run_the_fast_functions(monkeypatch):
    ran = []
    fast_translate = _warp.translate
    monkeypatch.setattr(
        _warp, "translate", lambda *a, **k: ran.append(1) or fast_translate(*a, **k)
    )
    model = LAYERS["flip then translation"]("channels_last")
    model.train()
    model(torch.rand(4, 9, 7, 3))
    assert ran == [1]  # one call for both layers


def test_an_input_that_needs_a_gradient_takes_the_plain_path_with_the_same_numbers():
    x = torch.rand(3, 8, 6, 1)
    layer = RandomTranslation(0.3, 0.3, seed=4)
    transformation = layer.get_random_transformation(x)
    fast = layer.transform_images(x, transformation)
    x.requires_grad_(True)
    reference = layer.transform_images(x, transformation)
    assert_same_numbers(fast, reference.detach(), "bilinear", "needs a gradient")
    reference.sum().backward()
    assert x.grad is not None and x.grad.shape == x.shape
