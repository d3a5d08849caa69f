"""The lecture's remark "in CNN arithmetic there is no flip": a Conv2D layer computes correlate2d."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal
import torch

import cnnkit


@pytest.mark.parametrize("padding, mode", [("valid", "valid"), ("same", "same")])
def test_conv2d_layer_equals_multichannel_correlation_without_flip(padding, mode):
    rng = np.random.default_rng(0)
    image = rng.normal(size=(9, 11, 3))
    kernel = rng.normal(size=(3, 3, 3, 2))  # Keras layout (kh, kw, in, out)
    layer = cnnkit.layers.Conv2D(2, 3, padding=padding, use_bias=False, dtype="float64")
    layer.build_for((None, 9, 11, 3))
    layer.set_weights([kernel])
    with torch.no_grad():
        from_layer = layer(torch.from_numpy(image[None])).numpy()[0]
    correlated = cnnkit.signal.correlate2d(image, kernel, mode=mode)
    np.testing.assert_allclose(from_layer, correlated, rtol=1e-10, atol=1e-12)
    per_channel = sum(
        scipy.signal.correlate2d(image[..., c], kernel[..., c, 1], mode=mode) for c in range(3)
    )
    np.testing.assert_allclose(from_layer[..., 1], per_channel, rtol=1e-10, atol=1e-12)
    flipped = cnnkit.signal.convolve2d(image, kernel[::-1, ::-1], mode=mode)
    np.testing.assert_allclose(
        from_layer, flipped, rtol=1e-10, atol=1e-12
    )  # convolution = flipped correlation
