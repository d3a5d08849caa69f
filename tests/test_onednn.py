"""Strided 1x1 convolutions: right weight gradients on every CPU (oneDNN's AVX2 1x1 kernel
computes them wrongly for channels-last input with under 8 channels, or corrupts the heap with
one thread), checked against float64 arithmetic, which does not run through oneDNN."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

import cnnkit
from cnnkit import layers
from cnnkit._onednn import pointwise_at_unit_stride


def reference_weight_gradient(images, upstream, strides):
    """d(sum(upstream * conv(images)))/d(kernel) of a 1x1 convolution, in float64 NumPy."""
    sampled = images[:, :: strides[0], :: strides[1], :].astype(np.float64)
    return np.einsum("nhwc,nhwo->co", sampled, upstream.astype(np.float64))[None, None]


@pytest.mark.parametrize("channels", [1, 3, 4, 8])
@pytest.mark.parametrize("strides", [(2, 2), (2, 1), (3, 2)])
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_strided_pointwise_conv_layer_has_the_right_weight_gradient(channels, strides, padding):
    rng = np.random.default_rng(channels)
    images = rng.random((8, 16, 15, channels), dtype=np.float32)
    layer = layers.Conv2D(6, 1, strides=strides, padding=padding, use_bias=False)
    out = layer(torch.from_numpy(images))
    upstream = rng.standard_normal(tuple(out.shape)).astype(np.float32)
    out.backward(torch.from_numpy(upstream))
    kernel_gradient = layer.weight.grad.permute(2, 3, 1, 0).numpy()  # Keras' (1, 1, in, out)
    expected = reference_weight_gradient(images, upstream, strides)
    np.testing.assert_allclose(kernel_gradient, expected, rtol=1e-4, atol=1e-4)


def test_strided_pointwise_ops_conv_has_the_right_weight_gradient():
    rng = np.random.default_rng(0)
    images = torch.from_numpy(rng.random((8, 16, 16, 4), dtype=np.float32))
    kernel = torch.from_numpy(rng.standard_normal((1, 1, 4, 8)).astype(np.float32))
    kernel.requires_grad_()
    out = cnnkit.ops.conv(images, kernel, strides=2)
    upstream = rng.standard_normal(tuple(out.shape)).astype(np.float32)
    out.backward(torch.from_numpy(upstream))
    expected = reference_weight_gradient(images.numpy(), upstream, (2, 2))
    np.testing.assert_allclose(kernel.grad.numpy(), expected, rtol=1e-4, atol=1e-4)


def test_the_rearranged_convolution_equals_the_strided_one_in_float64():
    x = torch.rand(2, 3, 9, 8, dtype=torch.float64, requires_grad=True)
    weight = torch.randn(5, 3, 1, 1, dtype=torch.float64, requires_grad=True)
    sampled, strides = pointwise_at_unit_stride(x, (1, 1), (2, 3))
    assert strides == (1, 1) and tuple(sampled.shape) == (2, 3, 5, 3)
    ours = torch.nn.functional.conv2d(sampled, weight, stride=strides)
    theirs = torch.nn.functional.conv2d(x, weight, stride=(2, 3))
    torch.testing.assert_close(ours, theirs, rtol=0, atol=0)
    ours_grads = torch.autograd.grad(ours.sum(), (x, weight))
    theirs_grads = torch.autograd.grad(theirs.sum(), (x, weight))
    for got, expected in zip(ours_grads, theirs_grads):
        torch.testing.assert_close(got, expected, rtol=0, atol=1e-12)
    unchanged = pointwise_at_unit_stride(x, (3, 3), (2, 2))
    assert unchanged[0] is x and unchanged[1] == (2, 2)


TRAIN_ONE_THREAD = """
import numpy as np, torch, cnnkit
torch.set_num_threads(1)
model = cnnkit.zoo.get("resnet", input_shape=(8, 8, 1), num_classes=3, width=4)
model.compile("adam", "sparse_categorical_crossentropy")
rng = np.random.default_rng(1)
x, y = rng.random((24, 8, 8, 1), dtype=np.float32), rng.integers(0, 3, 24)
model.fit(x, y, epochs=3, batch_size=8, verbose=0)
print("trained")
"""


def test_a_residual_network_with_projection_shortcuts_trains_on_one_thread():
    """The crash the CI met: a narrow ResNet's 1x1 stride-2 shortcut, one torch thread."""
    done = subprocess.run(
        [sys.executable, "-c", TRAIN_ONE_THREAD], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0 and "trained" in done.stdout, done.stderr[-2000:]
