"""Gradient maps: how much each pixel's change would move the class score (saliency), and
the same averaged over noisy copies of the image (SmoothGrad)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from cnnkit._validation import check_bool, check_int, check_number
from cnnkit.explain._model import (
    batches,
    chosen_classes,
    explaining,
    images_tensor,
    resolve_target,
    scores,
    to_host,
)


def input_gradients(model: Any, batch: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
    """d score / d image for each row of ``batch`` (n, h, w, c), inside ``explaining``."""
    inputs = batch.detach().requires_grad_(True)
    (gradients,) = torch.autograd.grad(scores(model(inputs), classes).sum(), inputs)
    return gradients


def predicted_classes(model: Any, batch: torch.Tensor, target: Any, batch_size: int) -> Any:
    """The class to explain for each image: the target's, else the model's prediction."""
    if target is not None:
        return target.to(batch.device)
    with torch.no_grad():
        parts = [model(batch[rows]).argmax(dim=1) for rows in batches(len(batch), batch_size)]
    return torch.cat(parts) if parts else torch.zeros(0, dtype=torch.long, device=batch.device)


def saliency(
    model: Any, images: Any, target: Any = None, abs: bool = True, batch_size: int = 256
) -> np.ndarray:
    """Vanilla gradient saliency: the pixels where a small change moves the score most.

    The gradient of the target's score (the model's output as is) with respect to the image,
    its absolute value when ``abs``, then the maximum over channels (Simonyan et al., 2014;
    Captum's ``Saliency`` followed by a max over the channel axis).

    Args:
        model: a built cnnkit model with one image input and one output of class scores.
        images: (n, height, width, channels) images as for ``predict``.
        target: ``None`` (predicted class), a class index, one per image, or class names.
        abs: take absolute gradients (Captum's default); False keeps their sign.
        batch_size: images per pass.

    Returns:
        (n, height, width) maps in the model's dtype.
    """
    batch = images_tensor(model, images, "saliency")
    abs = check_bool(abs, "abs", "saliency")
    batch_size = check_int(batch_size, "batch_size", "saliency", minimum=1)
    target = resolve_target(model, target, len(batch), "saliency")
    maps = []
    with explaining(model):
        for rows in batches(len(batch), batch_size):
            inputs = batch[rows].detach().requires_grad_(True)
            outputs = model(inputs)
            classes = chosen_classes(outputs, None if target is None else target[rows])
            (gradients,) = torch.autograd.grad(scores(outputs, classes).sum(), inputs)
            maps.append(to_host(_channel_max(gradients, abs)))
    return np.concatenate(maps) if maps else to_host(batch[..., 0])


def _channel_max(gradients: torch.Tensor, absolute: bool) -> torch.Tensor:
    """(n, h, w) maximum over the channel axis, of |gradients| when ``absolute``."""
    return (gradients.abs() if absolute else gradients).amax(dim=-1)


def smooth_grad(
    model: Any,
    images: Any,
    target: Any = None,
    samples: int = 25,
    noise_level: float = 0.15,
    seed: int | None = None,
    abs: bool = True,
    batch_size: int = 256,
) -> np.ndarray:
    """SmoothGrad: saliency averaged over noisy copies, which removes its speckle.

    Each image gets ``samples`` copies with Gaussian noise of standard deviation
    ``noise_level * (max - min)`` of that image (Smilkov et al., 2017); the map is the mean
    over copies of the (absolute) gradient, then the maximum over channels, as Captum's
    ``NoiseTunnel(Saliency)`` followed by a max over the channel axis. The class is the
    clean image's prediction unless ``target`` names one.

    Args:
        model: a built cnnkit model with one image input and one output of class scores.
        images: (n, height, width, channels) images as for ``predict``.
        target: ``None`` (predicted class), a class index, one per image, or class names.
        samples: noisy copies per image.
        noise_level: noise standard deviation as a fraction of each image's value range.
        seed: seeds the noise: image i's noise is the i-th draw of
            ``torch.randn((samples, h, w, c))`` from a ``torch.Generator`` on the model's
            device seeded with ``seed`` (the global RNG states are left alone); ``None`` draws
            fresh noise.
        abs: average absolute gradients (True) or signed ones.
        batch_size: forward rows per pass (noisy copies of several images).

    Returns:
        (n, height, width) maps in the model's dtype.
    """
    owner = "smooth_grad"
    batch = images_tensor(model, images, owner)
    samples = check_int(samples, "samples", owner, minimum=1)
    noise_level = check_number(noise_level, "noise_level", owner, minimum=0)
    seed = check_int(seed, "seed", owner, minimum=0, optional=True)
    abs = check_bool(abs, "abs", owner)
    batch_size = check_int(batch_size, "batch_size", owner, minimum=1)
    target = resolve_target(model, target, len(batch), owner)
    generator = torch.Generator(device=batch.device)
    generator.manual_seed(seed) if seed is not None else generator.seed()
    per_pass = max(1, batch_size // samples)
    maps = []
    with explaining(model):
        classes = predicted_classes(model, batch, target, batch_size)
        for rows in batches(len(batch), per_pass):
            clean = batch[rows]
            spread = (clean.amax(dim=(1, 2, 3)) - clean.amin(dim=(1, 2, 3))) * noise_level
            noise = torch.stack(
                [
                    torch.randn(
                        (samples, *clean.shape[1:]),
                        generator=generator,
                        device=clean.device,
                        dtype=clean.dtype,
                    )
                    for _ in range(len(clean))
                ],
                dim=1,
            )  # one draw per image in order, so batch_size does not change the noise
            noisy = (clean + noise * spread.view(1, -1, 1, 1, 1)).reshape(-1, *clean.shape[1:])
            gradients = input_gradients(model, noisy, classes[rows].repeat(samples))
            gradients = (gradients.abs() if abs else gradients).view(samples, *clean.shape)
            maps.append(to_host(gradients.mean(dim=0).amax(dim=-1)))
    return np.concatenate(maps) if maps else to_host(batch[..., 0])
