"""What each layer computes for an image: activation maps and the latent vectors of a CNN."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from cnnkit._validation import check_int
from cnnkit.inspect._model import (
    check_model,
    image_batch,
    inference,
    layer_names,
    resolve_layer,
    resolve_layers,
    to_host,
    to_model_tensor,
)
from cnnkit.layers import Dense, InputLayer


def activations(model: Any, x: Any, layers: Any = None) -> dict[str, np.ndarray]:
    """Return every chosen layer's output for ``x``, to see the volume each layer computes.

    One forward pass in inference mode (dropout off, batch-norm statistics frozen); forward
    hooks record the outputs and are removed afterwards, also when the pass fails.

    Args:
        model: a built ``cnnkit.Sequential`` or functional ``cnnkit.Model`` with one image
            input (a layer called twice shows its first call, as ``layer.output`` does).
        x: one image (height, width, channels) or a batch (n, height, width, channels), as the
            model takes it (same scaling as for ``predict``); grayscale images may omit the
            channel axis.
        layers: a layer name, an index, or a list of them; ``None`` for every layer.

    Returns:
        ``{layer name: float32 array}`` in model order; each array has shape
        (n, *layer.output_shape[1:]), with n = 1 for a single image.
    """
    check_model(model, "activations")
    chosen = resolve_layers(model, layers, "activations")
    if layers is None:  # a functional model's InputLayer computes nothing
        chosen = [layer for layer in chosen if not isinstance(layer, InputLayer)]
    batch = to_model_tensor(model, image_batch(model, x, "activations"))
    captured: dict[str, np.ndarray] = {}

    def keep(name: str):
        def hook(module: Any, inputs: Any, output: torch.Tensor) -> None:
            if name not in captured:  # a shared layer's first call: its ``layer.output``
                captured[name] = to_host(output)

        return hook

    handles = [layer.register_forward_hook(keep(layer.name)) for layer in chosen]
    try:
        with inference(model):
            model(batch)
    finally:
        for handle in handles:
            handle.remove()
    for layer in chosen:
        if isinstance(layer, InputLayer):  # its output is the input itself (never called)
            captured[layer.name] = to_host(batch)
    return {layer.name: captured[layer.name] for layer in chosen}


class _Enough(Exception):
    """Raised by a hook once the wanted features are recorded, to skip the remaining layers."""


def features(model: Any, x: Any, layer: Any = None, batch_size: int = 256) -> np.ndarray:
    """Return the latent vector of each image: what the classifier at the end of a CNN sees.

    Runs in inference mode, ``batch_size`` images at a time, and stops each pass at the chosen
    layer.

    Args:
        model: a built ``cnnkit.Sequential`` or functional ``cnnkit.Model`` with one image
            input.
        x: images (n, height, width, channels) as the model takes them (or one image).
        layer: ``None`` for the input of the last Dense layer (the latent representation the
            lecture plots with t-SNE); otherwise a layer name or index, whose output is used.
        batch_size: images per forward pass.

    Returns:
        float32 array (n, d): each image's features, flattened.
    """
    check_model(model, "features")
    batch_size = check_int(batch_size, "batch_size", "features", minimum=1)
    target, use_input = _feature_layer(model, layer)
    images = image_batch(model, x, "features")
    captured: list[np.ndarray] = []

    def record(tensor: torch.Tensor) -> None:
        captured.append(to_host(tensor).reshape(len(tensor), -1))
        raise _Enough

    if use_input:
        handle = target.register_forward_pre_hook(lambda module, inputs: record(inputs[0]))
    else:
        handle = target.register_forward_hook(lambda module, inputs, output: record(output))
    try:
        with inference(model):
            for start in range(0, len(images), batch_size):
                try:
                    model(to_model_tensor(model, images[start : start + batch_size]))
                except _Enough:
                    pass
    finally:
        handle.remove()
    if not captured:
        return np.zeros((0, 0), dtype=np.float32)
    return np.concatenate(captured)


def _feature_layer(model: Any, layer: Any) -> tuple[Any, bool]:
    """The layer to record and whether to record its input (True) or its output."""
    if layer is not None:
        return resolve_layer(model, layer, "features", "layer"), False
    dense = [candidate for candidate in model.layers if isinstance(candidate, Dense)]
    if not dense:
        raise ValueError(
            "features: the model has no Dense layer, so there is no default latent vector; pass "
            f"layer= one of: {', '.join(layer_names(model))}"
        )
    return dense[-1], True
