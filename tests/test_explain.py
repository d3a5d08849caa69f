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
