"""cnnkit.explain's contract beyond the Captum oracle: bad input named clearly, and a model
left exactly as it was (weights, gradients, training flag, requires_grad, RNG states)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from explain_helpers import build, images_for

from cnnkit import explain, zoo
from cnnkit.utils import set_random_seed


@pytest.fixture(scope="module")
def model():
    set_random_seed(0)
    return zoo.get("small_cnn", input_shape=(28, 28, 1))


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).random((4, 28, 28, 1)).astype("float32")


def test_grad_cam_unknown_layer_lists_the_spatial_layers(model, images):
    with pytest.raises(ValueError) as error:
        explain.grad_cam(model, images, layer="conv9")
    message = str(error.value)
    assert (
        "grad_cam: layer 'conv9' is not a layer of the model. Spatial layers: 'conv2d'" in message
    )
    assert "'max_pooling2d_1'" in message and "'dense'" not in message


def test_grad_cam_refuses_a_layer_without_feature_maps(model, images):
    with pytest.raises(ValueError, match=r"layer 'dense' \(Dense\) has output shape \(None, 128\)"):
        explain.grad_cam(model, images, layer="dense")


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (10, r"target 10 is out of range; the model has 10 classes \(0\.\.9\)"),
        ([1, 2], r"one class per image \(4 images\)\. Received: target=\[1, 2\]"),
        ("cat", r"target 'cat' is a class name but the model has no class_names"),
    ],
)
def test_bad_targets_are_named(model, images, target, message):
    with pytest.raises(ValueError, match=message):
        explain.grad_cam(model, images, target=target)


def test_images_of_the_wrong_shape_are_named(model):
    with pytest.raises(
        ValueError, match=r"grad_cam: images must be one image of shape \(28, 28, 1\)"
    ):
        explain.grad_cam(model, np.zeros((2, 32, 32, 1)))


def test_class_names_on_the_model_are_accepted_as_targets(model, images):
    model.class_names = [f"class {i}" for i in range(10)]
    try:
        by_name = explain.grad_cam(model, images, target="class 3")
    finally:
        del model.class_names
    np.testing.assert_array_equal(by_name, explain.grad_cam(model, images, target=3))


def test_grayscale_without_channel_axis_and_tensors_give_the_same_maps(model, images):
    expected = explain.grad_cam(model, images)
    # float32 kernels may sum in another order for another memory layout or batch size
    for same in (images[..., 0], torch.as_tensor(images)):
        np.testing.assert_allclose(explain.grad_cam(model, same), expected, rtol=1e-5)
    np.testing.assert_allclose(explain.grad_cam(model, images, batch_size=3), expected, rtol=1e-5)


def test_grad_cam_plus_plus_is_a_positive_map_of_the_image_size():
    model = build("functional")
    maps = explain.grad_cam_plus_plus(model, images_for(model, 6))
    assert maps.shape == (6, 12, 12) and (maps >= 0).all() and maps.max() > 0


METHODS = {
    "grad_cam": lambda m, x: explain.grad_cam(m, x),
    "grad_cam_plus_plus": lambda m, x: explain.grad_cam_plus_plus(m, x),
    "saliency": lambda m, x: explain.saliency(m, x),
    "smooth_grad": lambda m, x: explain.smooth_grad(m, x, samples=3),
    "integrated_gradients": lambda m, x: explain.integrated_gradients(m, x, steps=4),
    "occlusion": lambda m, x: explain.occlusion(m, x, window=7, stride=7),
}


@pytest.mark.parametrize("name", METHODS)
def test_the_model_and_random_states_are_left_as_they_were(model, images, name):
    """Weights, their gradients and requires_grad flags, the training flag and the global
    RNG states are unchanged; the maps are computed in eval mode (dropout off)."""
    first = model.layers[0]
    first.weight.requires_grad_(False)  # a frozen layer stays frozen
    model.layers[-1].weight.grad = torch.ones_like(model.layers[-1].weight)
    weights = [w.detach().clone() for w in model.parameters()]
    flags = [w.requires_grad for w in model.parameters()]
    model.train()
    torch_state, numpy_state = torch.get_rng_state(), np.random.get_state()
    try:
        maps = METHODS[name](model, images)
        assert torch.equal(torch.get_rng_state(), torch_state)
        assert np.array_equal(np.random.get_state()[1], numpy_state[1])
        assert model.training and all(layer.training for layer in model.layers)
        assert [w.requires_grad for w in model.parameters()] == flags
        assert all(torch.equal(w, v) for w, v in zip(model.parameters(), weights))
        assert torch.equal(model.layers[-1].weight.grad, torch.ones_like(model.layers[-1].weight))
        assert all(w.grad is None for w in model.parameters() if w is not model.layers[-1].weight)
        model.eval()
        in_eval = METHODS[name](model, images)
    finally:
        first.weight.requires_grad_(True)
        model.layers[-1].weight.grad = None
        model.eval()
    assert maps.shape == (4, 28, 28) and np.isfinite(maps).all() and np.abs(maps).max() > 0
    if name != "smooth_grad":  # fresh noise each call
        np.testing.assert_allclose(maps, in_eval, rtol=0, atol=1e-5 * np.abs(in_eval).max())


def test_smooth_grad_is_seeded_and_is_saliency_without_noise(model, images):
    first = explain.smooth_grad(model, images, samples=4, seed=3)
    np.testing.assert_array_equal(first, explain.smooth_grad(model, images, samples=4, seed=3))
    assert not np.allclose(first, explain.smooth_grad(model, images, samples=4, seed=4))
    quiet = explain.smooth_grad(model, images, samples=2, noise_level=0.0, seed=0)
    expected = explain.saliency(model, images)
    np.testing.assert_allclose(quiet, expected, rtol=0, atol=1e-5 * np.abs(expected).max())


def test_integrated_gradients_refuses_a_baseline_of_the_wrong_shape(model, images):
    with pytest.raises(
        ValueError, match=r"baseline must be a number, one image of shape \(28, 28, 1\)"
    ):
        explain.integrated_gradients(model, images, baseline=np.zeros((28, 28, 3)))


def test_integrated_gradients_method_is_checked(model, images):
    with pytest.raises(
        ValueError, match=r"method must be one of 'gausslegendre', 'riemann_trapezoid'"
    ):
        explain.integrated_gradients(model, images, method="riemann_left")


@pytest.mark.parametrize(
    ("window", "stride", "message"),
    [
        ((30, 4), (2, 2), r"window \(30, 4\) is larger than the images \(28, 28\) in height"),
        ((4, 4), (5, 2), r"stride \(5, 2\) is larger than window \(4, 4\) in height"),
    ],
)
def test_occlusion_windows_are_checked(model, images, window, stride, message):
    with pytest.raises(ValueError, match=message):
        explain.occlusion(model, images, window=window, stride=stride)


def test_occluding_the_whole_image_costs_the_score_of_the_baseline_image():
    model = build("lenet5")
    images = images_for(model, 3)
    ours = explain.occlusion(model, images, target=2, window=32, stride=32, baseline=0.5)
    with torch.no_grad():
        scores = (
            model(torch.as_tensor(images))[:, 2]
            - model(torch.full((3, 32, 32, 1), 0.5, dtype=torch.float64))[:, 2]
        )
    np.testing.assert_allclose(ours, np.broadcast_to(scores.numpy()[:, None, None], ours.shape))


def test_a_frozen_model_is_explained_like_a_trainable_one(model, images):
    """Gradients reach the images and the layer even when no weight requires grad."""
    expected = {
        "grad_cam": explain.grad_cam(model, images),
        "saliency": explain.saliency(model, images),
    }
    for weight in model.parameters():
        weight.requires_grad_(False)
    try:
        frozen = {
            "grad_cam": explain.grad_cam(model, images),
            "saliency": explain.saliency(model, images),
        }
    finally:
        for weight in model.parameters():
            weight.requires_grad_(True)
    for name, maps in expected.items():
        np.testing.assert_allclose(frozen[name], maps, rtol=0, atol=1e-5 * np.abs(maps).max())


def test_import_cnnkit_gives_explain():
    import cnnkit

    assert cnnkit.explain.grad_cam is explain.grad_cam
