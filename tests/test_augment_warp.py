"""The batched affine warp against Keras' own affine_transform (the oracle), every fill mode."""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from cnnkit.layers._image_warp import FILL_MODES, INTERPOLATIONS, affine_warp  # noqa: E402


def keras_warp(x_nhwc, matrices, interpolation, fill_mode, fill_value):
    """Keras' ops.image.affine_transform with the same (batch, 2, 3) matrices."""
    flat = np.concatenate(
        [matrices.reshape(len(matrices), 6), np.zeros((len(matrices), 2))], axis=1
    ).astype(np.float32)
    out = keras.ops.image.affine_transform(
        torch.tensor(x_nhwc),
        torch.tensor(flat),  # a fresh tensor: Keras' torch backend edits it in place
        interpolation=interpolation,
        fill_mode=fill_mode,
        fill_value=fill_value,
    )
    return np.asarray(out.cpu())


def ours(x_nhwc, matrices, interpolation, fill_mode, fill_value):
    y = affine_warp(
        torch.tensor(x_nhwc).permute(0, 3, 1, 2),
        torch.tensor(matrices, dtype=torch.float32),
        interpolation,
        fill_mode,
        fill_value,
    )
    return y.permute(0, 2, 3, 1).numpy()


def random_matrices(rng, n, shift):
    angle, scale = rng.uniform(-np.pi, np.pi, n), rng.uniform(0.5, 2.0, n)
    cos, sin = scale * np.cos(angle), scale * np.sin(angle)
    tx, ty = rng.uniform(-shift, shift, n), rng.uniform(-shift, shift, n)
    return np.stack([np.stack([cos, -sin, tx], 1), np.stack([sin, cos, ty], 1)], 1)


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    height=st.integers(1, 9),
    width=st.integers(1, 9),
    fill_mode=st.sampled_from(FILL_MODES),
    fill_value=st.sampled_from([0.0, 0.7, -2.0]),
)
def test_bilinear_warp_matches_keras(seed, height, width, fill_mode, fill_value):
    """Rotations, scalings and shifts far outside the image (several reflections/wraps)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (3, height, width, 2)).astype(np.float32)
    matrices = random_matrices(rng, 3, shift=3 * max(height, width))
    np.testing.assert_allclose(
        ours(x, matrices, "bilinear", fill_mode, fill_value),
        keras_warp(x, matrices, "bilinear", fill_mode, fill_value),
        atol=2e-5,
    )


@pytest.mark.parametrize("fill_mode", FILL_MODES)
def test_nearest_warp_matches_keras(fill_mode):
    """Nearest interpolation agrees pixel for pixel (away from exact .5 ties, which have
    probability zero for random matrices)."""
    rng = np.random.default_rng(7)
    x = rng.uniform(0, 1, (6, 7, 10, 3)).astype(np.float32)
    matrices = random_matrices(rng, 6, shift=12)
    np.testing.assert_array_equal(
        ours(x, matrices, "nearest", fill_mode, 0.5),
        keras_warp(x, matrices, "nearest", fill_mode, 0.5),
    )


@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
def test_identity_matrix_returns_the_images(interpolation):
    x = torch.rand(2, 3, 5, 6)
    eye = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]).expand(2, 2, 3)
    torch.testing.assert_close(affine_warp(x, eye, interpolation), x, atol=1e-5, rtol=0)


def test_fill_modes_on_a_shifted_row():
    """The four modes on the row a b c d shifted right by 2, as Keras documents them."""
    row = torch.tensor([1.0, 2.0, 3.0, 4.0]).view(1, 1, 1, 4)
    shift = torch.tensor([[[1.0, 0.0, -2.0], [0.0, 1.0, 0.0]]])
    expected = {
        "reflect": [2.0, 1.0, 1.0, 2.0],  # (d c b a | a b c d): b a | a b
        "wrap": [3.0, 4.0, 1.0, 2.0],
        "nearest": [1.0, 1.0, 1.0, 2.0],
        "constant": [9.0, 9.0, 1.0, 2.0],
    }
    for mode, values in expected.items():
        got = affine_warp(row, shift, "bilinear", mode, fill_value=9.0).flatten()
        torch.testing.assert_close(got, torch.tensor(values), atol=1e-5, rtol=0, msg=mode)
