"""Pooling layers against NumPy references written from the definitions (TensorFlow's 'same')."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from cnnkit.arithmetic import same_padding
from cnnkit.layers import AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D, MaxPooling2D


def reference_pool(x: np.ndarray, pool, strides, padding: str, reduce) -> np.ndarray:
    """Pool (n, h, w, c) windows with TensorFlow's rules: 'same' windows cover only real pixels."""
    n, h, w, c = x.shape
    (top, _), (left, _) = ((0, 0), (0, 0))
    if padding == "same":
        out_h, out_w = -(-h // strides[0]), -(-w // strides[1])
        top, left = same_padding(h, pool[0], strides[0])[0], same_padding(w, pool[1], strides[1])[0]
    else:
        out_h, out_w = (h - pool[0]) // strides[0] + 1, (w - pool[1]) // strides[1] + 1
    out = np.empty((n, out_h, out_w, c), dtype=np.float64)
    for i, j in itertools.product(range(out_h), range(out_w)):
        r0, c0 = i * strides[0] - top, j * strides[1] - left
        window = x[:, max(r0, 0) : r0 + pool[0], max(c0, 0) : c0 + pool[1], :]
        out[:, i, j, :] = reduce(window.reshape(n, -1, c), axis=1)
    return out


CASES = [
    ((2, 2), (2, 2), "valid", (7, 9)),
    ((2, 3), (2, 2), "same", (16, 10)),  # the extra column of padding sits on the right
    ((3, 3), (1, 1), "same", (5, 5)),
    ((2, 2), (1, 1), "same", (4, 6)),  # even window, stride 1: one extra pixel bottom/right
    ((3, 3), (3, 3), "same", (8, 9)),
    ((3, 2), (2, 3), "valid", (9, 11)),
    ((4, 4), (2, 2), "same", (7, 7)),  # padding larger than half the window
]


@pytest.mark.parametrize("pool, strides, padding, size", CASES)
@pytest.mark.parametrize("layer_cls, reduce", [(AveragePooling2D, np.mean), (MaxPooling2D, np.max)])
def test_pooling_matches_reference(layer_cls, reduce, pool, strides, padding, size):
    x = (
        np.random.default_rng(0).normal(size=(2, *size, 3)).astype(np.float32) - 1.0
    )  # mostly negative
    layer = layer_cls(pool_size=pool, strides=strides, padding=padding)
    got = layer(torch.from_numpy(x)).numpy()
    expected = reference_pool(x.astype(np.float64), pool, strides, padding, reduce)
    assert got.shape == expected.shape
    assert layer.build_for((None, *size, 3)) == (None, *expected.shape[1:])
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_average_pooling_same_excludes_padding():
    """A constant image stays constant under 'same' average pooling: padding is not averaged in."""
    x = torch.full((1, 5, 4, 2), 3.0)
    out = AveragePooling2D(pool_size=(2, 3), strides=2, padding="same")(x)
    torch.testing.assert_close(out, torch.full_like(out, 3.0))


def test_channels_first_pooling_equals_channels_last():
    x = torch.randn(2, 9, 7, 3)
    last = MaxPooling2D(3, 2, padding="same")(x)
    first = MaxPooling2D(3, 2, padding="same", data_format="channels_first")(x.permute(0, 3, 1, 2))
    torch.testing.assert_close(first.permute(0, 2, 3, 1), last)


def test_strides_default_to_pool_size():
    assert MaxPooling2D(pool_size=3).strides == (3, 3)
    assert AveragePooling2D(pool_size=(2, 3), strides=1).strides == (1, 1)


@pytest.mark.parametrize("keepdims, shape", [(False, (2, 4)), (True, (2, 1, 1, 4))])
def test_global_pooling(keepdims, shape):
    x = torch.randn(2, 5, 6, 4)
    mean = GlobalAveragePooling2D(keepdims=keepdims)(x)
    peak = GlobalMaxPooling2D(keepdims=keepdims)(x)
    assert mean.shape == peak.shape == shape
    torch.testing.assert_close(mean.reshape(2, 4), x.mean(dim=(1, 2)))
    torch.testing.assert_close(peak.reshape(2, 4), x.amax(dim=(1, 2)))
