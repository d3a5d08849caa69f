"""cnnkit.explain against Captum 0.9 on the same float64 models: Grad-CAM, saliency,
integrated gradients and occlusion, on LeNet-5, small_cnn and a functional residual CNN."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from explain_helpers import (
    build,
    channels_first_forward,
    channels_first_probe,
    images_for,
    predicted,
)

from cnnkit import explain

captum_attr = pytest.importorskip("captum.attr")

MODELS = ["lenet5", "small_cnn", "functional"]
# The default Grad-CAM layer of each model: the output of its last convolution block.
DEFAULT_LAYER = {"lenet5": "conv2d_1", "small_cnn": "activation_1", "functional": "relu"}


def assert_close(ours, theirs, tolerance=1e-5):
    """Equal within ``tolerance`` of the map's scale (maps of probabilities are small)."""
    scale = max(float(np.abs(theirs).max()), 1e-12)
    assert np.abs(ours).max() > 0
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=tolerance * scale)


@pytest.fixture(scope="module", params=MODELS)
def case(request):
    model = build(request.param)
    return request.param, model, images_for(model)


def captum_grad_cam(model, images, layer_name, target):
    """Captum's LayerGradCam (ReLU) upsampled with LayerAttribution.interpolate, as (n, h, w)."""
    layer = model.get_layer(layer_name)
    inputs = torch.as_tensor(images).permute(0, 3, 1, 2)
    with channels_first_probe(layer) as probe:
        method = captum_attr.LayerGradCam(channels_first_forward(model), probe)
        attributions = method.attribute(inputs, target=target, relu_attributions=True)
    upsampled = captum_attr.LayerAttribution.interpolate(
        attributions, tuple(images.shape[1:3]), "bilinear"
    )
    return upsampled[:, 0].detach().numpy()


def test_grad_cam_default_layer_equals_captum(case):
    name, model, images = case
    ours = explain.grad_cam(model, images)
    theirs = captum_grad_cam(model, images, DEFAULT_LAYER[name], predicted(model, images))
    assert ours.shape == images.shape[:3] and ours.dtype == np.float64
    assert_close(ours, theirs)


def test_grad_cam_of_a_named_layer_and_given_targets_equals_captum(case):
    name, model, images = case
    layer = explain.spatial_layers(model)[0].name
    targets = np.arange(len(images)) % model.output_shape[-1]
    ours, raw = explain.grad_cam(
        model, images, layer=layer, target=targets, batch_size=24, return_raw=True
    )
    theirs = captum_grad_cam(model, images, layer, torch.as_tensor(targets))
    assert_close(ours, theirs)
    assert raw.shape == (len(images), *model.get_layer(layer).output_shape[1:3])
