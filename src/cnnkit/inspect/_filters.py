"""The learned convolution kernels ("filters") of a layer, in Keras' layout."""

from __future__ import annotations

from typing import Any

import numpy as np

from cnnkit.inspect._model import check_model, resolve_layer
from cnnkit.layers import Conv2D
from cnnkit.layers._base import Layer


def filters(layer_or_model: Any, name: Any = None) -> np.ndarray:
    """Return a convolution layer's kernels, to look at what the first layers learned to detect.

    Args:
        layer_or_model: a built ``Conv2D`` layer, or a built model.
        name: with a model, the layer's name or index; ``None`` picks the first Conv2D layer.

    Returns:
        float32 array (kernel_height, kernel_width, in_channels, filters), the same as
        ``layer.get_weights()[0]`` (in_channels is per group when ``groups > 1``).
    """
    layer = conv_layer(layer_or_model, name)
    if not layer.built:
        raise ValueError(
            f"filters: layer {layer.name!r} is not built yet, so it has no kernels; build the "
            "model (input_shape= on the first layer) first"
        )
    return layer.get_weights()[0]


def conv_layers(model: Any) -> list[Conv2D]:
    """The model's convolution layers, in order."""
    return [layer for layer in model.layers if isinstance(layer, Conv2D)]


def conv_layer(layer_or_model: Any, name: Any = None) -> Conv2D:
    """The Conv2D layer that ``filters`` would read (validated)."""
    if isinstance(layer_or_model, Layer) and not hasattr(layer_or_model, "stack"):
        if name is not None:
            raise ValueError(
                f"filters: name is only used with a model; received a layer and name={name!r}"
            )
        layer = layer_or_model
    else:
        if not isinstance(getattr(layer_or_model, "layers", None), list):
            raise TypeError(
                "filters: layer_or_model must be a Conv2D layer or a cnnkit model. "
                f"Received: {type(layer_or_model).__name__}"
            )
        check_model(layer_or_model, "filters")
        convs = conv_layers(layer_or_model)
        if name is None:
            if not convs:
                raise ValueError("filters: the model has no Conv2D layer, so it has no filters")
            return convs[0]
        layer = resolve_layer(layer_or_model, name, "filters", "name")
        convs_text = ", ".join(conv.name for conv in convs) or "none"
        if not isinstance(layer, Conv2D):
            raise ValueError(
                f"filters: layer {layer.name!r} ({type(layer).__name__}) has no convolution "
                f"kernels. Conv2D layers: {convs_text}"
            )
    if not isinstance(layer, Conv2D):
        raise TypeError(
            "filters: layer_or_model must be a Conv2D layer or a cnnkit model. "
            f"Received: {type(layer).__name__}"
        )
    return layer
