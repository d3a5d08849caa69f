"""Which layer a class activation map reads, and how its output is caught during a pass."""

from __future__ import annotations

from typing import Any

import torch

from cnnkit.inspect import resolve_layers
from cnnkit.layers import (
    Activation,
    Add,
    BatchNormalization,
    Conv2D,
    Conv2DTranspose,
    DepthwiseConv2D,
    InputLayer,
    Layer,
    LeakyReLU,
    ReLU,
    SeparableConv2D,
)

CONVOLUTIONS = (Conv2D, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D)
# Layers that keep a convolution's feature maps in place: a conv block ends after them.
BLOCK_TAIL = (BatchNormalization, Activation, ReLU, LeakyReLU, Add)


def _is_spatial(layer: Layer) -> bool:
    shape = layer.output_shape
    return not isinstance(layer, InputLayer) and isinstance(shape, tuple) and len(shape) == 4


def spatial_layers(model: Any) -> list[Layer]:
    """The layers whose output is a (n, height, width, channels) volume, in model order."""
    return [layer for layer in model.layers if _is_spatial(layer)]


def cam_layer(model: Any, layer: Any, owner: str) -> Layer:
    """The layer to explain: the one named, or the output of the last convolution block.

    The default is the last convolution followed by the BatchNormalization, activation and
    Add (residual) layers right after it in model order (the block's output after its ReLU, as Keras' Grad-CAM example
    reads ``block14_sepconv2_act``).
    """
    spatial = spatial_layers(model)
    listing = ", ".join(repr(candidate.name) for candidate in spatial) or "none"
    if layer is None:
        convolutions = [i for i, c in enumerate(model.layers) if isinstance(c, CONVOLUTIONS)]
        if not convolutions:
            if not spatial:
                raise ValueError(f"{owner}: the model has no spatial layer to explain")
            return spatial[-1]
        index = convolutions[-1]
        chosen = model.layers[index]
        for follower in model.layers[index + 1 :]:
            if not isinstance(follower, BLOCK_TAIL):
                break
            if follower.output_shape != chosen.output_shape:
                break
            chosen = follower
        return chosen
    try:
        (found,) = resolve_layers(model, layer, owner)
    except ValueError as error:
        raise ValueError(
            f"{owner}: layer {layer!r} is not a layer of the model. Spatial layers: {listing}"
        ) from error
    if not _is_spatial(found):
        raise ValueError(
            f"{owner}: layer {found.name!r} ({type(found).__name__}) has output shape "
            f"{found.output_shape}, not (n, height, width, channels) feature maps. "
            f"Spatial layers: {listing}"
        )
    return found


class LayerTap:
    """Catch a layer's output on its first call and make it the leaf gradients stop at.

    The output is replaced by a detached copy that requires grad, so
    ``torch.autograd.grad(score, tap.output)`` differentiates only the layers after it,
    also for a model whose weights are frozen.
    """

    def __init__(self, layer: Layer):
        self.layer = layer
        self.output: torch.Tensor | None = None
        self._handle: Any = None

    def __enter__(self) -> LayerTap:
        self._handle = self.layer.register_forward_hook(self._hook)
        return self

    def __exit__(self, *exc: object) -> None:
        self._handle.remove()

    def reset(self) -> None:
        """Forget the last pass's output before the next one."""
        self.output = None

    def _hook(self, module: Any, inputs: Any, output: torch.Tensor) -> torch.Tensor | None:
        if self.output is not None:  # a shared layer's later calls stay as they are
            return None
        self.output = output.detach().requires_grad_(True)
        return self.output
