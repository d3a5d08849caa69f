"""CNN arithmetic from the lecture: output sizes, 'same' padding splits and parameter counts."""

from __future__ import annotations

import math
from numbers import Integral
from typing import Any

import torch

from cnnkit._validation import check_choice, check_int
from cnnkit.memory import max_batch_size

_PADDINGS = ("valid", "same", "full")

__all__ = [
    "conv_output_size",
    "pool_output_size",
    "same_padding",
    "conv_params",
    "receptive_fields",
    "multiply_adds",
    "max_batch_size",
]


def same_padding(
    input_size: int, kernel: int, stride: int = 1, dilation: int = 1
) -> tuple[int, int]:
    """Return the (before, after) zero padding Keras/TensorFlow use for ``padding='same'``.

    The output has ``ceil(input_size / stride)`` elements; when the total padding is odd the
    extra pixel goes after (bottom/right), which ``torch.nn.Conv2d(padding='same')`` cannot do.

    Example:
        >>> same_padding(5, 2, stride=2)
        (0, 1)
    """
    check_int(input_size, "input_size", "same_padding", minimum=1)
    check_int(kernel, "kernel", "same_padding", minimum=1)
    check_int(stride, "stride", "same_padding", minimum=1)
    check_int(dilation, "dilation", "same_padding", minimum=1)
    effective = (kernel - 1) * dilation + 1
    output = math.ceil(input_size / stride)
    total = max((output - 1) * stride + effective - input_size, 0)
    return total // 2, total - total // 2


def conv_output_size(
    input_size: int, kernel: int, stride: int = 1, padding: str = "valid", dilation: int = 1
) -> int:
    """Return the spatial output size of a convolution along one axis.

    ``padding`` is 'valid' (no padding), 'same' (output = ceil(input / stride)) or 'full'
    (every partial overlap, as in the lecture's padding animation).
    """
    check_int(input_size, "input_size", "conv_output_size", minimum=1)
    check_int(kernel, "kernel", "conv_output_size", minimum=1)
    check_int(stride, "stride", "conv_output_size", minimum=1)
    check_int(dilation, "dilation", "conv_output_size", minimum=1)
    padding = check_choice(padding, "padding", "conv_output_size", choices=_PADDINGS)
    effective = (kernel - 1) * dilation + 1
    if padding == "same":
        return math.ceil(input_size / stride)
    if padding == "valid":
        return (input_size - effective) // stride + 1 if input_size >= effective else 0
    return (input_size + effective - 2) // stride + 1


def pool_output_size(
    input_size: int, pool: int, stride: int | None = None, padding: str = "valid"
) -> int:
    """Return the spatial output size of a pooling window along one axis (stride defaults to pool)."""
    check_int(input_size, "input_size", "pool_output_size", minimum=1)
    check_int(pool, "pool", "pool_output_size", minimum=1)
    if stride is not None:
        check_int(stride, "stride", "pool_output_size", minimum=1)
    padding = check_choice(padding, "padding", "pool_output_size", choices=_PADDINGS)
    return conv_output_size(input_size, pool, stride or pool, padding)


def conv_params(
    in_channels: int, filters: int, kernel: int | tuple[int, int], use_bias: bool = True
) -> int:
    """Count a Conv2D layer's parameters: filters x (kh x kw x in_channels) weights plus one bias each.

    Example (the lecture's quiz: 3 input maps, two 5x5 filters):
        >>> conv_params(3, 2, 5)
        152
    """
    check_int(in_channels, "in_channels", "conv_params", minimum=1)
    check_int(filters, "filters", "conv_params", minimum=1)
    kh, kw = _kernel_pair(kernel)
    return filters * kh * kw * in_channels + (filters if use_bias else 0)


def receptive_fields(model) -> list[dict]:
    """Each layer's receptive field on the input image and its jump (input pixels per output step).

    Returns one dict per layer: ``{"name", "receptive_field": (h, w), "jump": (h, w)}``. After a
    Flatten or Dense layer every output sees the whole image, reported as the input's size.
    """
    _check_model(model, "receptive_fields", chain=True)
    model._require_built("receptive_fields")
    for layer in model.layers:
        if type(layer).__name__ in ("Conv2DTranspose", "UpSampling2D"):
            raise ValueError(
                f"receptive_fields: layer {layer.name!r} ({type(layer).__name__}) enlarges the "
                "feature maps; receptive fields are defined here for shrinking and same-size "
                "layers only"
            )
    height, width = _image_size(model)
    field, jump, rows = [1, 1], [1, 1], []
    whole = False
    for layer in model.layers:
        kernel, strides, dilation = _window(layer)
        if kernel is not None and not whole:
            for axis in range(2):
                field[axis] += (kernel[axis] - 1) * dilation[axis] * jump[axis]
                jump[axis] *= strides[axis]
        if type(layer).__name__ in (
            "Flatten",
            "Dense",
            "GlobalAveragePooling2D",
            "GlobalMaxPooling2D",
        ):
            whole = True
        shown = (
            (height, width)
            if whole
            else (min(field[0], height or field[0]), min(field[1], width or field[1]))
        )
        rows.append({"name": layer.name, "receptive_field": shown, "jump": tuple(jump)})
    return rows


def multiply_adds(model) -> list[dict]:
    """Multiply-accumulate operations per image for each layer (convolutions and Dense layers)."""
    _check_model(model, "multiply_adds")
    model._require_built("multiply_adds")
    return [{"name": layer.name, "multiply_adds": _multiply_adds(layer)} for layer in model.layers]


def _positions(layer: Any, shape: tuple) -> int:
    """Spatial positions (height x width) of a feature-map shape with its batch axis."""
    channels_first = getattr(layer, "data_format", "channels_last") == "channels_first"
    return math.prod(shape[2:4] if channels_first else shape[1:3])


def _multiply_adds(layer: Any) -> int:
    """Each kernel weight meets every output position once (every input position, for a
    transposed convolution); a Dense weight meets each input once."""
    kind = type(layer).__name__
    if kind in ("Conv2D", "DepthwiseConv2D"):
        return _positions(layer, layer.output_shape) * layer.weight.numel()
    if kind == "SeparableConv2D":
        weights = layer.depthwise_weight.numel() + layer.pointwise_weight.numel()
        return _positions(layer, layer.output_shape) * weights
    if kind == "Conv2DTranspose":
        return _positions(layer, layer.input_shape) * layer.weight.numel()
    if kind == "Dense":
        return math.prod(layer.input_shape[1:]) * layer.units
    return 0


def _kernel_pair(kernel: Any) -> tuple[int, int]:
    """``kernel`` as (kh, kw): an int for a square kernel or a pair of ints."""
    pair = (
        (kernel, kernel)
        if isinstance(kernel, Integral) and not isinstance(kernel, bool)
        else kernel
    )
    if not isinstance(pair, (tuple, list)) or len(pair) != 2:
        raise TypeError(
            f"conv_params: kernel must be an int or a (height, width) pair. Received: kernel={kernel!r}"
        )
    return (
        check_int(pair[0], "kernel", "conv_params", minimum=1),
        check_int(pair[1], "kernel", "conv_params", minimum=1),
    )


def _check_model(model: Any, owner: str, chain: bool = False) -> None:
    """Raise a TypeError unless ``model`` is a cnnkit Sequential or functional model; with
    ``chain``, a ValueError when its layers do not follow one another (a branching graph)."""
    if not isinstance(model, torch.nn.Module) or not hasattr(model, "_graph"):
        raise TypeError(
            f"{owner}: model must be a cnnkit Sequential or functional model. Received: model "
            f"of type {type(model).__name__}"
        )
    model._require_built(owner)
    graph = model._graph
    if graph is None:
        raise TypeError(f"{owner}: a subclassed model ({type(model).__name__}) has no graph")
    if chain and any(len(node.inputs) != 1 for node in graph.nodes):
        raise ValueError(
            f"{owner}: the receptive field follows one chain of layers; model "
            f"{model.name!r} branches or merges (a layer takes several inputs)"
        )


def _image_size(model) -> tuple[int | None, int | None]:
    shape = model.input_shape
    if len(shape) != 4:
        return None, None
    first = model.layers[0] if model.layers else None
    channels_first = getattr(first, "data_format", "channels_last") == "channels_first"
    return (shape[2], shape[3]) if channels_first else (shape[1], shape[2])


def _window(layer):
    if hasattr(layer, "kernel_size"):
        return layer.kernel_size, layer.strides, layer.dilation_rate
    if hasattr(layer, "pool_size"):
        return layer.pool_size, layer.strides, (1, 1)
    return None, None, None
