"""The numbers a walkthrough page embeds: every layer's input, weights and output for one image.

Arrays are stored once each, as base64 of little-endian float32 (exact: the page computes with
the very numbers the model used, and a float32 costs 5.3 characters instead of ~10 as decimal
text). A layer names its input array (the previous layer's output, or the image) and its zero
padding; the page pads it itself, so no value is stored twice.
"""

from __future__ import annotations

import base64
import math
from typing import Any

import numpy as np

from cnnkit.arithmetic import same_padding
from cnnkit.inspect import activations
from cnnkit.layers import Conv2D, Dense, InputLayer
from cnnkit.report._walkthrough_text import annotate

#: Layer classes the page explains neuron by neuron ("kind" in the data); others show maps.
POOLING = {"MaxPooling2D": "max", "AveragePooling2D": "average"}


def encode(array: Any) -> dict[str, Any]:
    """An array as ``{"shape": [...], "b64": base64 of little-endian float32}``."""
    values = np.ascontiguousarray(np.asarray(array, dtype="<f4"))
    return {"shape": list(values.shape), "b64": base64.b64encode(values.tobytes()).decode("ascii")}


def decode(entry: dict[str, Any]) -> np.ndarray:
    """The array ``encode`` stored (float32)."""
    raw = base64.b64decode(entry["b64"])
    return np.frombuffer(raw, dtype="<f4").reshape(entry["shape"]).astype(np.float32)


def layer_chain(model: Any, owner: str) -> list[Any]:
    """The layers a walkthrough follows, each fed by the one before (InputLayers skipped)."""
    graph = getattr(model, "_graph", None)
    if graph is not None and not getattr(graph, "linear", True):
        raise ValueError(
            f"{owner}: model {model.name!r} branches or merges; a walkthrough follows one chain "
            "of layers (a Sequential model or a functional model without branches)"
        )
    return [layer for layer in model.layers if not isinstance(layer, InputLayer)]


def activation_name(layer: Any) -> str:
    """The name of a layer's activation function ('linear' when it has none)."""
    function = getattr(layer, "activation", None)
    return getattr(function, "__name__", "linear") if function is not None else "linear"


def spatial_padding(layer: Any, input_shape: tuple, kernel: tuple, dilation: tuple) -> list[int]:
    """[top, bottom, left, right] zeros around the input, as Keras pads for ``padding``."""
    if layer.padding != "same":
        return [0, 0, 0, 0]
    top, bottom = same_padding(input_shape[0], kernel[0], layer.strides[0], dilation[0])
    left, right = same_padding(input_shape[1], kernel[1], layer.strides[1], dilation[1])
    return [top, bottom, left, right]


def layer_entry(layer: Any, input_shape: tuple) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """What the page needs to explain ``layer`` beyond its input and output, and the weight
    arrays it refers to by name."""
    kind = type(layer).__name__
    entry: dict[str, Any] = {"name": layer.name, "class_name": kind, "kind": "other"}
    arrays: dict[str, np.ndarray] = {}
    if isinstance(layer, Conv2D) and kind == "Conv2D" and getattr(layer, "groups", 1) == 1:
        weights = [w.detach().cpu().numpy() for w in layer.keras_weights()]
        kernel, dilation = tuple(layer.kernel_size), tuple(layer.dilation_rate)
        entry.update(
            kind="conv",
            kernel=f"{layer.name}/kernel",
            kernel_shape=list(weights[0].shape),
            bias=f"{layer.name}/bias" if layer.use_bias else None,
            strides=list(layer.strides),
            dilation=list(dilation),
            padding_mode=layer.padding,
            padding=spatial_padding(layer, input_shape, kernel, dilation),
        )
        arrays[entry["kernel"]] = weights[0]
        if layer.use_bias:
            arrays[entry["bias"]] = weights[1]
    elif kind in POOLING and getattr(layer, "data_format", "channels_last") == "channels_last":
        pool = tuple(layer.pool_size)
        entry.update(
            kind="pool",
            mode=POOLING[kind],
            pool_size=list(pool),
            strides=list(layer.strides),
            padding_mode=layer.padding,
            padding=spatial_padding(layer, input_shape, pool, (1, 1)),
        )
    elif isinstance(layer, Dense) and len(input_shape) == 1:
        weights = [w.detach().cpu().numpy() for w in layer.keras_weights()]
        entry.update(
            kind="dense",
            kernel=f"{layer.name}/kernel",
            kernel_shape=list(weights[0].shape),
            bias=f"{layer.name}/bias" if layer.use_bias else None,
        )
        arrays[entry["kernel"]] = weights[0]
        if layer.use_bias:
            arrays[entry["bias"]] = weights[1]
    if kind == "Conv2D" and getattr(layer, "data_format", "channels_last") != "channels_last":
        entry["kind"] = "other"  # the page reads channels-last volumes only
    return entry, arrays


def collect(model: Any, image: np.ndarray, owner: str) -> dict[str, Any]:
    """The page's data: ``{"layers": [...], "arrays": {name: encoded}}`` for one image batch
    of one (n = 1) as the model takes it."""
    layers = layer_chain(model, owner)
    outputs = activations(model, image, layers=layers)
    arrays: dict[str, np.ndarray] = {"image": image[0]}
    entries, previous = [], "image"
    for index, layer in enumerate(layers):
        output = outputs[layer.name][0]
        input_shape = arrays[previous].shape
        entry, weights = layer_entry(layer, input_shape)
        key = f"output/{index}"
        arrays.update(weights)
        arrays[key] = output
        entry.update(
            input=previous,
            output=key,
            activation=activation_name(layer),
            bytes_per_image=4 * math.prod(output.shape),
            parameters=int(layer.count_params()),
        )
        annotate(entry, layer, input_shape, output.shape)
        entries.append(entry)
        previous = key
    return {"layers": entries, "arrays": {name: encode(value) for name, value in arrays.items()}}
