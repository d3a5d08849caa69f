"""Models and Captum adapters shared by the explanation tests: float64 cnnkit models and a
channels-first forward (Captum's layout) around a channels-last cnnkit model."""

from __future__ import annotations

import contextlib

import numpy as np
import torch
from torch import nn

import cnnkit
from cnnkit import zoo
from cnnkit.utils import set_random_seed


def in_float64(model):
    """The model computing in float64 (weights and every layer's expected dtype)."""
    model.double()
    for module in model.modules():
        if hasattr(module, "dtype"):
            module.dtype = torch.float64
    return model


def functional_cnn():
    """A small residual functional model: stem, one residual block, global pooling, softmax."""
    layers = cnnkit.layers
    inputs = cnnkit.Input(shape=(12, 12, 3), name="image")
    x = layers.Conv2D(6, 3, padding="same", activation="relu", name="stem")(inputs)
    y = layers.Conv2D(6, 3, padding="same", name="conv")(x)
    x = layers.Activation("relu", name="relu")(layers.Add(name="add")([x, y]))
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = layers.Dense(5, activation="softmax", name="classes")(x)
    return cnnkit.Model(inputs, outputs, name="tiny_resnet")


def build(name: str):
    """A seeded float64 model by name: lenet5, small_cnn or the functional residual CNN."""
    set_random_seed(0)
    if name == "functional":
        model = functional_cnn()
    elif name == "lenet5":
        model = zoo.get("lenet5", input_shape=(32, 32, 1))
    else:
        model = zoo.get("small_cnn", input_shape=(28, 28, 1))
    return in_float64(model).eval()


def images_for(model, n: int = 64, seed: int = 1) -> np.ndarray:
    """Seeded random float64 images (n, h, w, c) the model takes."""
    shape = tuple(model.input_shape[1:])
    return np.random.default_rng(seed).random((n, *shape))


def channels_first_forward(model):
    """Captum's forward: (n, c, h, w) in, the cnnkit model's output out."""
    return lambda x: model(x.permute(0, 2, 3, 1))


@contextlib.contextmanager
def channels_first_probe(layer):
    """An ``nn.Identity`` that sees ``layer``'s output channels-first, for Captum's layer
    methods (which average over dims 2.. and sum over dim 1)."""
    probe = nn.Identity()

    def hook(module, inputs, output):
        return probe(output.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)

    handle = layer.register_forward_hook(hook)
    try:
        yield probe
    finally:
        handle.remove()


def predicted(model, images: np.ndarray) -> torch.Tensor:
    """The predicted class of each image, as Captum's target tensor."""
    with torch.no_grad():
        return model(torch.as_tensor(images)).argmax(dim=1)
