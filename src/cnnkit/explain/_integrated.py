"""Integrated gradients: each pixel's share of the score's change from a baseline image to
the image, gradients summed along the straight path between them (Sundararajan et al.)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from cnnkit._validation import check_bool, check_choice, check_int
from cnnkit.explain._gradients import input_gradients, predicted_classes
from cnnkit.explain._model import (
    batches,
    explaining,
    images_tensor,
    resolve_target,
    scores,
    to_host,
)

METHODS = ("gausslegendre", "riemann_trapezoid")


@dataclass(frozen=True)
class IntegratedGradientsResult:
    """Integrated gradients with what checks them.

    Attributes:
        maps: (n, height, width) attributions summed over channels.
        attributions: (n, height, width, channels) attributions per pixel and channel.
        delta: (n,) completeness error ``sum(attributions) - (score(image) - score(baseline))``
            (Captum's convergence delta); it shrinks as ``steps`` grows.
        score_change: (n,) ``score(image) - score(baseline)``, what the attributions share.
    """

    maps: np.ndarray
    attributions: np.ndarray
    delta: np.ndarray
    score_change: np.ndarray

    @property
    def relative_error(self) -> np.ndarray:
        """(n,) ``|delta| / |score_change|``: the completeness error as a fraction."""
        return np.abs(self.delta) / np.maximum(np.abs(self.score_change), 1e-12)


def integrated_gradients(
    model: Any,
    images: Any,
    target: Any = None,
    baseline: Any = 0.0,
    steps: int = 50,
    method: str = "gausslegendre",
    batch_size: int = 256,
    return_details: bool = False,
) -> np.ndarray | IntegratedGradientsResult:
    """Integrated gradients: which pixels account for the score, relative to a baseline.

    ``attributions = (image - baseline) * sum_k w_k * grad score(baseline + a_k (image -
    baseline))`` with Captum's nodes ``a_k`` and weights ``w_k``: Gauss-Legendre (default) or
    the trapezoid rule on ``steps`` evenly spaced points. The attributions add up to
    ``score(image) - score(baseline)`` (completeness) up to the quadrature error.

    Args:
        model: a built cnnkit model with one image input and one output of class scores.
        images: (n, height, width, channels) images as for ``predict``.
        target: ``None`` (predicted class), a class index, one per image, or class names.
        baseline: a number, or an array (height, width, channels) or (n, height, width,
            channels): the "absence" the images are compared with (black by default).
        steps: points along the path.
        method: ``"gausslegendre"`` or ``"riemann_trapezoid"``.
        batch_size: forward rows per pass (``steps`` rows per image).
        return_details: return an ``IntegratedGradientsResult`` (maps, per-channel
            attributions, completeness error) instead of the maps alone.

    Returns:
        (n, height, width) maps (attributions summed over channels, signed), or the result.
    """
    owner = "integrated_gradients"
    batch = images_tensor(model, images, owner)
    steps = check_int(steps, "steps", owner, minimum=2)
    method = check_choice(method, "method", owner, choices=METHODS)
    batch_size = check_int(batch_size, "batch_size", owner, minimum=1)
    return_details = check_bool(return_details, "return_details", owner)
    target = resolve_target(model, target, len(batch), owner)
    start = _baseline(baseline, batch, owner)
    alphas, weights = (torch.as_tensor(v, dtype=batch.dtype) for v in path_nodes(method, steps))
    parts = []
    with explaining(model):
        classes = predicted_classes(model, batch, target, batch_size)
        for rows in batches(len(batch), max(1, batch_size // steps)):
            parts.append(
                _attribute(model, batch[rows], start[rows], classes[rows], alphas, weights)
            )
        attributions = torch.cat(parts) if parts else torch.zeros_like(batch)
        if not return_details:
            return to_host(attributions.sum(dim=-1))
    with explaining(model, gradients=False):
        change = _score(model, batch, classes, batch_size) - _score(
            model, start, classes, batch_size
        )
    delta = attributions.sum(dim=(1, 2, 3)) - change
    return IntegratedGradientsResult(
        to_host(attributions.sum(dim=-1)), to_host(attributions), to_host(delta), to_host(change)
    )


def path_nodes(method: str, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Points ``a_k`` in [0, 1] and weights ``w_k`` of Captum's quadrature rules."""
    if method == "gausslegendre":
        nodes, weights = np.polynomial.legendre.leggauss(steps)
        return 0.5 * (1 + nodes), 0.5 * weights
    weights = np.full(steps, 1 / steps)
    weights[[0, -1]] /= 2
    return np.linspace(0, 1, steps), weights


def _attribute(model, images, start, classes, alphas, weights) -> torch.Tensor:
    """Integrated gradients of a few images (n, h, w, c): all their path points in one pass."""
    device = images.device
    alphas, weights = alphas.to(device), weights.to(device)
    difference = images - start
    shape = (-1, 1, 1, 1, 1)
    points = (start[None] + alphas.view(shape) * difference[None]).reshape(-1, *images.shape[1:])
    gradients = input_gradients(model, points, classes.repeat(len(alphas)))
    gradients = gradients.view(len(alphas), *images.shape)
    return difference * (weights.view(shape) * gradients).sum(dim=0)


def _score(model, batch, classes, batch_size) -> torch.Tensor:
    """Each image's score for its class, without gradients."""
    parts = [scores(model(batch[r]), classes[r]) for r in batches(len(batch), batch_size)]
    return torch.cat(parts) if parts else torch.zeros(0, dtype=batch.dtype, device=batch.device)


def _baseline(baseline: Any, batch: torch.Tensor, owner: str) -> torch.Tensor:
    """The baseline as a tensor like ``batch``, from a number or an image (batch)."""
    if isinstance(baseline, (int, float)) and not isinstance(baseline, bool):
        return torch.full_like(batch, float(baseline))
    array = baseline if isinstance(baseline, torch.Tensor) else np.asarray(baseline)
    tensor = torch.as_tensor(array, device=batch.device).to(batch.dtype)
    if tuple(tensor.shape) == tuple(batch.shape[1:]):
        tensor = tensor.expand_as(batch)
    if tuple(tensor.shape) != tuple(batch.shape):
        raise ValueError(
            f"{owner}: baseline must be a number, one image of shape {tuple(batch.shape[1:])} "
            f"or one per image {tuple(batch.shape)}; received shape {tuple(tensor.shape)}"
        )
    return tensor
