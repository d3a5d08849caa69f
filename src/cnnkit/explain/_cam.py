"""Class activation maps: where in a layer's feature maps the evidence for a class lies
(Grad-CAM and Grad-CAM++), upsampled to the image."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from cnnkit._validation import check_bool, check_int
from cnnkit.explain._layers import LayerTap, cam_layer
from cnnkit.explain._model import (
    batches,
    chosen_classes,
    explaining,
    images_tensor,
    resolve_target,
    scores,
    to_host,
)

# Weights per channel (n, c) from activations and gradients, both (n, h, w, c).
ChannelWeights = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def grad_cam(
    model: Any,
    images: Any,
    layer: Any = None,
    target: Any = None,
    batch_size: int = 256,
    return_raw: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Grad-CAM: which regions of each image raise the target class's score.

    Each channel k of the layer's output A gets the weight
    ``w_k = mean over (i, j) of d score / d A[i, j, k]``; the map is
    ``ReLU(sum_k w_k * A[:, :, k])``, upsampled bilinearly to the image size
    (``F.interpolate(mode="bilinear", align_corners=False)``, as Captum's
    ``LayerAttribution.interpolate``). The score is the model's output as is (the
    probability for a model ending in softmax, as Captum sees the same model).

    Args:
        model: a built ``cnnkit.Sequential`` or functional ``cnnkit.Model`` with one image
            input and one output of class scores.
        images: (n, height, width, channels) images as for ``predict`` (NumPy or tensor; one
            image, or grayscale without the channel axis, are accepted).
        layer: a layer name or index whose output is (n, h, w, c); ``None`` for the output of
            the last convolution block (the last Conv2D and the BatchNormalization and
            activation layers right after it).
        target: ``None`` for each image's predicted class, one class index for all, a
            sequence with one class per image, or class names if the model has
            ``class_names``.
        batch_size: images per forward and backward pass.
        return_raw: also return the maps at the layer's resolution.

    Returns:
        (n, height, width) maps in the model's dtype; with ``return_raw``, a tuple
        ``(maps, raw)`` where raw is (n, h, w) at the layer's resolution.

    Example:
        >>> maps = grad_cam(model, x_test[:8])  # doctest: +SKIP
    """
    weights: ChannelWeights = lambda activations, gradients: gradients.mean(dim=(1, 2))  # noqa: E731
    return _class_activation_map(
        model, images, layer, target, batch_size, return_raw, weights, "grad_cam"
    )


def grad_cam_plus_plus(
    model: Any,
    images: Any,
    layer: Any = None,
    target: Any = None,
    batch_size: int = 256,
    return_raw: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Grad-CAM++: Grad-CAM with pixel-wise weights, which finds several objects of a class.

    Chattopadhyay et al. (2018) weigh each channel by
    ``w_k = sum_ij alpha_ij^k * ReLU(g_ij^k)`` with ``g = d score / d A`` and, taking the
    class score through ``exp`` (so its higher derivatives are powers of ``g``),
    ``alpha_ij^k = g^2 / (2 g^2 + sum_ab A_ab^k * g^3)`` (0 where ``g`` is 0; 1e-6 is added
    to the denominator). The ``exp(score)`` factor of the paper's ``ReLU(exp(S) g)`` only
    scales each image's map, so it is dropped, as common implementations do. The map is
    ``ReLU(sum_k w_k A^k)``, upsampled as in ``grad_cam``; arguments and returns as there.
    """
    return _class_activation_map(
        model, images, layer, target, batch_size, return_raw, _plus_plus_weights,
        "grad_cam_plus_plus",
    )  # fmt: skip


def _plus_plus_weights(activations: torch.Tensor, gradients: torch.Tensor) -> torch.Tensor:
    """Grad-CAM++ channel weights (n, c) from activations and gradients (n, h, w, c)."""
    squared = gradients**2
    cubed = squared * gradients
    totals = activations.sum(dim=(1, 2), keepdim=True)
    alpha = squared / (2 * squared + totals * cubed + 1e-6)
    alpha = torch.where(gradients != 0, alpha, torch.zeros_like(alpha))
    return (alpha * gradients.clamp(min=0)).sum(dim=(1, 2))


def _class_activation_map(
    model: Any,
    images: Any,
    layer: Any,
    target: Any,
    batch_size: int,
    return_raw: bool,
    weights: ChannelWeights,
    owner: str,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Run the passes shared by Grad-CAM and Grad-CAM++; ``weights`` is where they differ."""
    batch = images_tensor(model, images, owner)
    batch_size = check_int(batch_size, "batch_size", owner, minimum=1)
    return_raw = check_bool(return_raw, "return_raw", owner)
    targets = resolve_target(model, target, len(batch), owner)
    chosen = cam_layer(model, layer, owner)
    size = tuple(batch.shape[1:3])
    maps, raws = [], []
    with explaining(model), LayerTap(chosen) as tap:
        for rows in batches(len(batch), batch_size):
            tap.reset()
            outputs = model(batch[rows])
            classes = chosen_classes(outputs, None if targets is None else targets[rows])
            (gradients,) = torch.autograd.grad(scores(outputs, classes).sum(), tap.output)
            activations = tap.output.detach()
            channel_weights = weights(activations, gradients)[:, None, None, :]
            raw = F.relu((channel_weights * activations).sum(dim=-1))
            upsampled = F.interpolate(raw[:, None], size=size, mode="bilinear", align_corners=False)
            maps.append(to_host(upsampled[:, 0]))
            raws.append(to_host(raw))
    result = _joined(maps, (0, *size), batch.dtype)
    return (result, _joined(raws, (0, 0, 0), batch.dtype)) if return_raw else result


def _joined(parts: list[np.ndarray], empty: tuple, dtype: torch.dtype) -> np.ndarray:
    """Concatenate per-batch results (an empty batch gives an empty array)."""
    if parts:
        return np.concatenate(parts)
    return np.zeros(empty, dtype=torch.empty(0, dtype=dtype).numpy().dtype)
