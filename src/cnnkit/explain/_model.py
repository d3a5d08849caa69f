"""What every explanation shares: the images as a model batch, the target classes and a
forward pass that leaves the model as it found it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from cnnkit.inspect import check_model, image_batch


def images_tensor(model: Any, images: Any, owner: str) -> torch.Tensor:
    """The images as a (n, height, width, channels) tensor on the model's device and dtype.

    Accepts what ``predict`` accepts: a batch, one image, or grayscale without a channel axis.
    """
    check_model(model, owner)
    try:
        batch = image_batch(model, images, owner)
    except ValueError as error:  # name the argument as this function calls it
        raise ValueError(str(error).replace(": x must", ": images must", 1)) from None
    if batch.ndim != 4:
        raise ValueError(
            f"{owner}: images must be (n, height, width, channels) images for a model with "
            f"input shape {tuple(model.input_shape)}; received shape {batch.shape}"
        )
    parameter = next((p for p in model.parameters() if p.is_floating_point()), None)
    device = torch.device("cpu") if parameter is None else parameter.device
    dtype = torch.float32 if parameter is None else parameter.dtype
    return torch.as_tensor(np.ascontiguousarray(batch), device=device).to(dtype)


def class_count(model: Any, owner: str) -> int:
    """The number of classes the model scores: its single output's last axis."""
    shape = model.output_shape
    if isinstance(shape, list) or len(shape) != 2 or shape[-1] is None:
        raise ValueError(
            f"{owner}: the model must output one score per class, shape (n, classes); "
            f"its output shape is {shape}"
        )
    return int(shape[-1])


def resolve_target(model: Any, target: Any, n: int, owner: str) -> torch.Tensor | None:
    """Class indices (n,) for ``target``; ``None`` keeps the predicted class (decided later).

    An int is used for every image, a sequence gives one class per image, and class names
    are accepted when the model carries ``class_names``.
    """
    if target is None:
        return None
    classes = class_count(model, owner)
    names = getattr(model, "class_names", None)
    given = target.tolist() if isinstance(target, (np.ndarray, torch.Tensor)) else target
    if isinstance(given, (str, int, np.integer)) and not isinstance(given, bool):
        given = [given] * n
    if not isinstance(given, Sequence) or isinstance(given, str) or len(given) != n:
        raise ValueError(
            f"{owner}: target must be None (the predicted class), a class index, or one class "
            f"per image ({n} images). Received: target={target!r}"
        )
    indices = [_class_index(value, classes, names, owner) for value in given]
    return torch.as_tensor(indices, dtype=torch.long)


def _class_index(value: Any, classes: int, names: Any, owner: str) -> int:
    """One class given as an index or (when the model has ``class_names``) a name."""
    if isinstance(value, str):
        if names is None:
            raise ValueError(
                f"{owner}: target {value!r} is a class name but the model has no class_names; "
                f"give class indices 0..{classes - 1}"
            )
        if value not in list(names):
            raise ValueError(
                f"{owner}: target {value!r} is not a class of the model. "
                f"Classes: {', '.join(map(str, names))}"
            )
        return list(names).index(value)
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        if 0 <= value < classes:
            return int(value)
        raise ValueError(
            f"{owner}: target {int(value)} is out of range; the model has {classes} classes "
            f"(0..{classes - 1})"
        )
    raise TypeError(
        f"{owner}: target must hold class indices (int) or class names (str). Received: {value!r}"
    )


def chosen_classes(outputs: torch.Tensor, target: torch.Tensor | None) -> torch.Tensor:
    """The class each row is explained for: the given target, else the predicted class."""
    if target is None:
        return outputs.detach().argmax(dim=1)
    return target.to(outputs.device)


def scores(outputs: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
    """Each row's output for its class (n,): the quantity whose gradient explains it."""
    return outputs.gather(1, classes.view(-1, 1)).squeeze(1)


@contextlib.contextmanager
def explaining(model: nn.Module, gradients: bool = True) -> Iterator[None]:
    """Eval mode, autograd on (or off without ``gradients``), restoring the model's training
    flag afterwards.

    Gradients are taken with ``torch.autograd.grad``, so the weights' ``.grad`` and
    ``requires_grad`` flags are never touched.
    """
    was_training = model.training
    model.eval()
    try:
        with torch.set_grad_enabled(gradients):
            yield
    finally:
        model.train(was_training)


def batches(n: int, batch_size: int) -> Iterator[slice]:
    """Consecutive slices of ``batch_size`` rows covering ``range(n)``."""
    for start in range(0, n, batch_size):
        yield slice(start, min(start + batch_size, n))


def to_host(tensor: torch.Tensor) -> np.ndarray:
    """A NumPy copy of a result tensor, in the model's floating dtype."""
    return tensor.detach().cpu().numpy().copy()
