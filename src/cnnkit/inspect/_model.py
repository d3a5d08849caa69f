"""Shared checks for looking inside a model: which layers, which images, inference mode."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from cnnkit._arrays import to_numpy
from cnnkit._validation import did_you_mean
from cnnkit.layers._base import Layer


def check_model(model: Any, owner: str) -> None:
    """Accept a built Sequential-like model (an ``nn.Module`` with a ``layers`` list)."""
    if not isinstance(model, nn.Module) or not isinstance(getattr(model, "layers", None), list):
        raise TypeError(
            f"{owner}: model must be a cnnkit model such as cnnkit.Sequential. "
            f"Received: {type(model).__name__}"
        )
    if not getattr(model, "built", False) or getattr(model, "input_shape", None) is None:
        raise ValueError(
            f"{owner}: the model is not built yet; give input_shape= to its first layer or call "
            "model.build((None, *image_shape)) first"
        )


def layer_names(model: Any) -> list[str]:
    """The names of the model's layers, in order."""
    return [layer.name for layer in model.layers]


def resolve_layer(model: Any, key: Any, owner: str, argument: str = "layers") -> Layer:
    """Find one layer by name or index, or raise listing the model's layers."""
    names = layer_names(model)
    if isinstance(key, Layer) and key in model.layers:
        return key
    if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
        if -len(names) <= key < len(names):
            return model.layers[key]
        raise ValueError(
            f"{owner}: layer index {key} is out of range for a model of {len(names)} layers"
        )
    if isinstance(key, str):
        if key in names:
            return model.layers[names.index(key)]
        raise ValueError(
            f"{owner}: unknown layer {key!r}. Layers: {', '.join(names)}."
            + did_you_mean(key, names)
        )
    raise TypeError(
        f"{owner}: {argument} must be layer names (str), indices (int) or layers of the model. "
        f"Received: {key!r}"
    )


def resolve_layers(model: Any, layers: Any, owner: str) -> list[Layer]:
    """``None`` means every layer; a name, an index or a list of them picks some."""
    if layers is None:
        return list(model.layers)
    if isinstance(layers, (str, int, Layer)) or not isinstance(layers, Sequence):
        layers = [layers]
    chosen = [resolve_layer(model, key, owner) for key in layers]
    if not chosen:
        raise ValueError(f"{owner}: layers is empty; give at least one layer name, or None for all")
    return chosen


def _matches(expected: tuple, given: tuple) -> bool:
    return len(expected) == len(given) and all(e is None or e == g for e, g in zip(expected, given))


def image_batch(model: Any, x: Any, owner: str) -> np.ndarray:
    """Return ``x`` as a batch (n, *input_shape) for the model: one image gets a batch axis and
    grayscale images without a channel axis get one."""
    if isinstance(model.input_shape, list):
        names = [tensor.name for tensor in model.inputs]
        raise ValueError(
            f"{owner}: the model has {len(names)} inputs {names}; it takes one batch of images "
            "here. Pass a model with one image input, e.g. "
            "cnnkit.Model(image_input, model.get_layer(name).output) for one branch"
        )
    array = to_numpy(x, "x", owner)
    expected = tuple(model.input_shape[1:])
    if _matches(expected, array.shape[1:]):
        return array
    if _matches(expected, array.shape):
        return array[None]
    if expected and expected[-1] == 1:
        if _matches(expected, (*array.shape[1:], 1)):
            return array[..., None]
        if _matches(expected, (*array.shape, 1)):
            return array[None, ..., None]
    shape = "(" + ", ".join("None" if s is None else str(s) for s in expected) + ")"
    raise ValueError(
        f"{owner}: x must be one image of shape {shape} or a batch (n, *{shape}) for this model; "
        f"received shape {array.shape}"
    )


def to_model_tensor(model: Any, batch: np.ndarray) -> torch.Tensor:
    """A float tensor on the model's device (values unchanged, as ``model.predict`` does)."""
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    dtype = next((p.dtype for p in model.parameters() if p.is_floating_point()), torch.float32)
    return torch.as_tensor(np.ascontiguousarray(batch), device=device).to(dtype)


@contextlib.contextmanager
def inference(model: nn.Module) -> Iterator[None]:
    """Run in eval mode without autograd, restoring the model's training flag afterwards."""
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            yield
    finally:
        model.train(was_training)


def to_host(tensor: torch.Tensor) -> np.ndarray:
    """A float32 NumPy copy of an activation tensor."""
    return tensor.detach().to("cpu", torch.float32).numpy().copy()
