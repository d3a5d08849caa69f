"""Occlusion: how much the score drops when a patch of the image is covered, patch by patch
(Zeiler and Fergus, 2014), every covered copy of a batch run in a few large passes."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from cnnkit._validation import check_int, check_number, normalize_tuple
from cnnkit.explain._gradients import predicted_classes
from cnnkit.explain._model import (
    batches,
    explaining,
    images_tensor,
    resolve_target,
    scores,
    to_host,
)


def occlusion(
    model: Any,
    images: Any,
    target: Any = None,
    window: int | tuple[int, int] = (4, 4),
    stride: int | tuple[int, int] = (2, 2),
    baseline: float = 0.0,
    batch_size: int = 256,
) -> np.ndarray:
    """Occlusion sensitivity: the score lost when each region is covered by ``baseline``.

    A ``window`` patch (all channels) slides with ``stride`` from the top-left corner; as in
    Captum's ``Occlusion`` the last position in each direction may run past the border (it is
    cut there). Each pixel's value is the mean, over the patches covering it, of
    ``score(image) - score(image with the patch covered)`` (the model's output as is).

    Args:
        model: a built cnnkit model with one image input and one output of class scores.
        images: (n, height, width, channels) images as for ``predict``.
        target: ``None`` (predicted class), a class index, one per image, or class names.
        window: patch (height, width) in pixels, or one int for both.
        stride: step (rows, columns) between patches; at most ``window`` so that every pixel
            is covered.
        baseline: the value a covered pixel takes.
        batch_size: covered copies per forward pass.

    Returns:
        (n, height, width) maps in the model's dtype.
    """
    owner = "occlusion"
    batch = images_tensor(model, images, owner)
    window = normalize_tuple(window, "window", owner)
    stride = normalize_tuple(stride, "stride", owner)
    baseline = check_number(baseline, "baseline", owner)
    batch_size = check_int(batch_size, "batch_size", owner, minimum=1)
    target = resolve_target(model, target, len(batch), owner)
    boxes = patch_boxes(tuple(batch.shape[1:3]), window, stride, owner)
    covered = torch.zeros((len(boxes), *batch.shape[1:3]), dtype=batch.dtype, device=batch.device)
    for index, (top, bottom, left, right) in enumerate(boxes):
        covered[index, top:bottom, left:right] = 1
    with explaining(model, gradients=False):
        classes = predicted_classes(model, batch, target, batch_size)
        clean = _scores(model, batch, classes, batch_size)
        drops = clean[:, None] - _covered_scores(
            model, batch, covered, baseline, classes, batch_size, clean
        )
    maps = torch.einsum("np,phw->nhw", drops, covered) / covered.sum(dim=0)
    return to_host(maps)


def _scores(model, batch, classes, batch_size) -> torch.Tensor:
    """Each image's score for its class (n,)."""
    parts = [scores(model(batch[r]), classes[r]) for r in batches(len(batch), batch_size)]
    return torch.cat(parts) if parts else torch.zeros(0, dtype=batch.dtype, device=batch.device)


def _covered_scores(model, batch, covered, baseline, classes, batch_size, clean) -> torch.Tensor:
    """Scores (n, patches) of every image with each patch covered, ``batch_size`` copies per
    pass whichever images and patches they come from.

    A patch whose pixels all equal ``baseline`` already (e.g. the empty border of a
    Fashion-MNIST image) leaves the image unchanged: its score is the clean one, with no
    forward pass, since the same input gives the same output."""
    patches = len(covered)
    differs = (batch != baseline).any(dim=-1).to(covered.dtype)  # (n, h, w)
    changes = torch.einsum("nhw,phw->np", differs, covered) > 0
    flat = clean[:, None].repeat(1, patches).reshape(-1)
    pairs = torch.nonzero(changes.reshape(-1)).reshape(-1)
    for rows in batches(len(pairs), batch_size):
        chosen = pairs[rows]
        image, patch = chosen // patches, chosen % patches
        mask = covered[patch][..., None]
        copies = batch[image] * (1 - mask) + baseline * mask
        flat[chosen] = scores(model(copies), classes[image])
    return flat.view(len(batch), patches)


def patch_boxes(
    size: tuple[int, int], window: tuple[int, int], stride: tuple[int, int], owner: str
) -> list[tuple[int, int, int, int]]:
    """(top, bottom, left, right) of every patch position, in Captum's order (the last patch
    in each direction cut at the border)."""
    for axis, (length, span, step) in enumerate(zip(size, window, stride)):
        name = ("height", "width")[axis]
        if span > length:
            raise ValueError(
                f"{owner}: window {window} is larger than the images ({size[0]}, {size[1]}) in "
                f"{name}; give a window of at most the image size"
            )
        if step > span and span < length:
            raise ValueError(
                f"{owner}: stride {stride} is larger than window {window} in {name}, which "
                "would leave pixels never covered; give a stride of at most the window"
            )
    counts = [math.ceil((n - span) / step) + 1 for n, span, step in zip(size, window, stride)]
    return [
        (top, min(top + window[0], size[0]), left, min(left + window[1], size[1]))
        for top in range(0, counts[0] * stride[0], stride[0])
        for left in range(0, counts[1] * stride[1], stride[1])
    ]
