"""Test-time augmentation: predict on a few views of every image and average the probabilities.

The views of ``tta=``:

- ``'flip'``: the image and its left-right mirror (2 views).
- ``'flip+translate'``: the image, its mirror, and the image moved by ``SHIFT`` = 2 pixels
  right, left, down and up (6 views); the uncovered border is filled by reflecting the image
  at its edge (as ``RandomTranslation(fill_mode='reflect')`` does).
- a list of callables (for instance the model's own augmentation layers, called with
  ``training=True``): the image, then each callable's output (1 + len(list) views).

Images are (samples, height, width, channels). The result is the plain mean of the views'
outputs, ``np.stack(views).mean(axis=0)``: class probabilities for a softmax classifier.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

#: Pixels moved by the translated views of 'flip+translate'.
SHIFT = 2
NAMES = ("flip", "flip+translate")

View = Callable[[torch.Tensor], torch.Tensor]


def _reflect_index(size: int, shift: int) -> torch.Tensor:
    """Source index of each output position when moving by ``shift`` with a reflected border."""
    index = torch.arange(size) - shift
    index = torch.where(index < 0, -index, index)
    return torch.where(index >= size, 2 * (size - 1) - index, index)


def translate(images: torch.Tensor, down: int, right: int) -> torch.Tensor:
    """``images`` (samples, height, width, channels) moved by (down, right) pixels, the border
    filled by reflection."""
    rows = _reflect_index(images.shape[1], down).to(images.device)
    columns = _reflect_index(images.shape[2], right).to(images.device)
    return images.index_select(1, rows).index_select(2, columns)


def flip(images: torch.Tensor) -> torch.Tensor:
    """``images`` mirrored left-right."""
    return images.flip(2)


def _layer_view(layer: Any) -> View:
    """A view drawn by an augmentation layer in training mode (else by the callable itself)."""
    if isinstance(layer, torch.nn.Module):
        return lambda images: layer(images, training=True)
    return layer


def views(tta: Any, owner: str) -> list[View]:
    """The views ``tta`` names, the identity first; or a ValueError/TypeError naming it."""
    identity: View = lambda images: images  # noqa: E731
    if isinstance(tta, str):
        if tta not in NAMES:
            raise ValueError(
                f"{owner}: tta must be 'flip', 'flip+translate' or a list of callables. "
                f"Received: tta={tta!r}"
            )
        shifts = [(0, SHIFT), (0, -SHIFT), (SHIFT, 0), (-SHIFT, 0)] if "translate" in tta else []
        moved = [lambda images, s=s: translate(images, *s) for s in shifts]
        return [identity, flip, *moved]
    if isinstance(tta, Sequence) and tta and all(callable(v) for v in tta):
        return [identity, *(_layer_view(v) for v in tta)]
    raise TypeError(
        f"{owner}: tta must be 'flip', 'flip+translate' or a non-empty list of callables "
        f"(e.g. augmentation layers). Received: tta={tta!r}"
    )


def _images(x: Any, owner: str) -> torch.Tensor:
    """``x`` as a 4-d tensor of images, or a ValueError saying what tta accepts."""
    images = x if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x))
    if images.ndim != 4:
        raise ValueError(
            f"{owner}: tta needs images as an array (samples, height, width, channels). "
            f"Received: x of shape {tuple(images.shape)}"
        )
    return images


def predict(model: Any, x: Any, tta: Any, predict_options: dict[str, Any]) -> np.ndarray:
    """The mean of ``model.predict`` over the views of ``x``."""
    chosen = views(tta, "predict")
    images = _images(x, "predict")
    outputs = []
    with torch.no_grad():
        for view in chosen:
            outputs.append(model.predict(view(images), **predict_options))
    return np.stack(outputs).mean(axis=0)


def evaluate(
    model: Any, x: Any, y: Any, tta: Any, sample_weight: Any, batch_size: int | None
) -> dict[str, float]:
    """Loss and metrics of the averaged predictions (one pass, so no per-batch hooks)."""
    if getattr(model.loss, "from_logits", False):
        raise ValueError(
            "evaluate: tta averages probabilities, so the loss must take probabilities; "
            "received a loss with from_logits=True"
        )
    chosen = views(tta, "evaluate")
    probabilities = predict(model, x, chosen[1:], {"batch_size": batch_size, "verbose": 0})
    predicted = torch.as_tensor(probabilities)
    labels = torch.as_tensor(np.asarray(y))
    weights = None if sample_weight is None else torch.as_tensor(np.asarray(sample_weight))
    loss = model.loss(labels, predicted, weights)
    logs = {"loss": float(loss)}
    for tracker in model._new_trackers(labels, predicted.shape):
        tracker.update_state(labels, predicted, weights)
        logs[tracker.name] = float(tracker.result())
    return logs
