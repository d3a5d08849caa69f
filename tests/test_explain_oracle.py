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


def channels_first(images):
    return torch.as_tensor(images).permute(0, 3, 1, 2)


def test_saliency_equals_captum_saliency_then_channel_max(case):
    _, model, images = case
    target = predicted(model, images)
    method = captum_attr.Saliency(channels_first_forward(model))
    theirs = method.attribute(channels_first(images), target=target, abs=True)
    assert_close(explain.saliency(model, images), theirs.amax(dim=1).detach().numpy())


@pytest.mark.parametrize(("method", "steps"), [("gausslegendre", 50), ("riemann_trapezoid", 16)])
def test_integrated_gradients_equal_captum(case, method, steps):
    _, model, images = case
    images = images[:16]
    baseline = np.full(images.shape[1:], 0.25)
    target = np.arange(len(images)) % model.output_shape[-1]
    ours = explain.integrated_gradients(
        model, images, target=target, baseline=baseline, steps=steps, method=method,
        batch_size=100, return_details=True,
    )  # fmt: skip
    ig = captum_attr.IntegratedGradients(channels_first_forward(model))
    theirs, delta = ig.attribute(
        channels_first(images), baselines=channels_first(baseline[None]), target=torch.as_tensor(target),
        n_steps=steps, method=method, return_convergence_delta=True,
    )  # fmt: skip
    theirs = theirs.permute(0, 2, 3, 1).detach().numpy()
    assert_close(ours.attributions, theirs)
    assert_close(ours.maps, theirs.sum(axis=-1))
    np.testing.assert_allclose(ours.delta, delta.numpy(), rtol=1e-5, atol=1e-9)


def test_integrated_gradients_are_complete_within_one_percent_at_64_steps(case):
    _, model, images = case
    result = explain.integrated_gradients(model, images, steps=64, return_details=True)
    assert result.maps.shape == images.shape[:3]
    assert np.abs(result.score_change).min() > 0
    assert result.relative_error.max() <= 0.01


@pytest.mark.parametrize(("window", "stride"), [((4, 4), (2, 2)), ((5, 3), (3, 2))])
def test_occlusion_equals_captum(case, window, stride):
    _, model, images = case
    images = images[:8]
    channels = images.shape[-1]
    occluder = captum_attr.Occlusion(channels_first_forward(model))
    theirs = occluder.attribute(
        channels_first(images), sliding_window_shapes=(channels, *window),
        strides=(channels, *stride), baselines=0.5, target=predicted(model, images),
    )  # fmt: skip
    theirs = theirs.detach().numpy()
    assert np.allclose(theirs, theirs[:, :1])  # the same for every channel
    ours = explain.occlusion(
        model, images, window=window, stride=stride, baseline=0.5, batch_size=70
    )
    assert_close(ours, theirs[:, 0])


def test_occlusion_skips_patches_already_at_the_baseline_and_still_equals_captum(case):
    """Images on an empty (baseline-valued) border, as Fashion-MNIST's: covering a patch of
    that border changes nothing, so occlusion runs no forward pass for it."""
    _, model, images = case
    images = images[:4].copy()
    height, width = images.shape[1:3]
    images[:, : height // 2] = 0.0  # the top half is background
    rows = []
    hook = model.register_forward_hook(lambda module, args, output: rows.append(len(output)))
    try:
        ours = explain.occlusion(model, images, window=(4, 4), stride=(2, 2), baseline=0.0)
    finally:
        hook.remove()
    occluder = captum_attr.Occlusion(channels_first_forward(model))
    theirs = occluder.attribute(
        channels_first(images), sliding_window_shapes=(images.shape[-1], 4, 4),
        strides=(images.shape[-1], 2, 2), baselines=0.0, target=predicted(model, images),
    )  # fmt: skip
    assert_close(ours, theirs.detach().numpy()[:, 0])
    patches = len(explain._occlusion.patch_boxes((height, width), (4, 4), (2, 2), "test"))
    covered_rows = sum(rows) - 2 * len(images)  # less the predicted class and clean passes
    assert 0 < covered_rows < len(images) * patches * 0.75


def test_smooth_grad_equals_captum_saliency_on_the_documented_noise(case):
    """Image i's noise is the i-th draw of randn((samples, h, w, c)) from a generator seeded
    with ``seed``, scaled by noise_level * (max - min) of that image."""
    _, model, images = case
    images = images[:6].copy()
    images[1] *= 10  # a wider range, so a larger noise
    samples, level = 5, 0.2
    generator = torch.Generator().manual_seed(7)
    noise = torch.stack([torch.randn((samples, *images.shape[1:]), generator=generator,
                                     dtype=torch.float64) for _ in images], dim=1)  # fmt: skip
    spread = torch.as_tensor(level * (images.max(axis=(1, 2, 3)) - images.min(axis=(1, 2, 3))))
    noisy = torch.as_tensor(images)[None] + noise * spread.view(1, -1, 1, 1, 1)
    target = predicted(model, images).repeat(samples)
    method = captum_attr.Saliency(channels_first_forward(model))
    flat = noisy.reshape(-1, *images.shape[1:]).permute(0, 3, 1, 2)
    gradients = method.attribute(flat, target=target, abs=True).permute(0, 2, 3, 1)
    expected = gradients.reshape(samples, *images.shape).mean(dim=0).amax(dim=-1).numpy()
    for batch_size in (64, 7):  # the noise does not depend on how images are batched
        ours = explain.smooth_grad(
            model, images, samples=samples, noise_level=level, seed=7, batch_size=batch_size
        )
        assert_close(ours, expected)
