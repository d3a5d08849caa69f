"""Checks of images and labels against the model, run once when data enters fit/evaluate/predict.

Each one answers a user's mistake with what was expected, what was given, and the likely fix.
"""

from __future__ import annotations

import torch

from cnnkit.losses import Loss


def check_images(model, x: torch.Tensor, what: str) -> None:
    """Compare the images' shape (without the batch axis) with the model's input shape."""
    expected = tuple(model.input_shape[1:])
    given = tuple(x.shape[1:])
    if len(expected) == len(given) and all(e is None or e == g for e, g in zip(expected, given)):
        return
    hint = ""
    if len(given) == len(expected) - 1 and given == expected[:-1] and expected[-1] == 1:
        hint = " - the channel axis is missing: use x[..., None] (or x.reshape(-1, *shape, 1))"
    elif (
        len(given) == 3 and len(expected) == 3 and given == (expected[2], expected[0], expected[1])
    ):
        hint = (
            " - the images look channels-first (samples, channels, height, width); cnnkit expects "
            "channels-last: use x.transpose(0, 2, 3, 1)"
        )
    elif len(given) == len(expected) and given[:-1] == expected[:-1]:
        hint = f" - the images have {given[-1]} channels but the model was built for {expected[-1]}"
    raise ValueError(
        f"{what}: the model expects inputs of shape {_shape(expected)} (without the batch axis); "
        f"received x of shape {tuple(x.shape)}{hint}"
    )


def check_labels(model, loss: Loss, y: torch.Tensor, what: str) -> None:
    """Check labels against the loss (one-hot vs integer) and the model's number of outputs."""
    outputs = model.output_shape[-1] if model.output_shape else None
    if loss.expects == "sparse":
        _check_sparse(y, outputs, what)
    elif loss.expects == "one_hot":
        _check_one_hot(y, outputs, what)
    elif loss.expects == "binary" and y.numel() and (y.min() < 0 or y.max() > 1):
        raise ValueError(
            f"{what}: binary_crossentropy needs labels in [0, 1]; received values from "
            f"{float(y.min()):g} to {float(y.max()):g}"
        )


def _check_sparse(y: torch.Tensor, outputs: int | None, what: str) -> None:
    if y.ndim == 2 and y.shape[1] > 1:
        raise ValueError(
            f"{what}: sparse_categorical_crossentropy expects integer class labels of shape (samples,); "
            f"received y of shape {tuple(y.shape)}, which looks one-hot - use "
            "loss='categorical_crossentropy', or y.argmax(axis=1)"
        )
    if y.ndim > 2:
        raise ValueError(
            f"{what}: labels must have shape (samples,) or (samples, 1); received {tuple(y.shape)}"
        )
    if y.is_floating_point() and not torch.equal(y, y.round()):
        raise ValueError(
            f"{what}: sparse_categorical_crossentropy expects integer class labels; received fractional values"
        )
    if y.numel() and outputs is not None and (y.min() < 0 or y.max() >= outputs):
        raise ValueError(
            f"{what}: labels must be class indices 0..{outputs - 1} for a model with {outputs} outputs; "
            f"received labels from {int(y.min())} to {int(y.max())}"
        )


def _check_one_hot(y: torch.Tensor, outputs: int | None, what: str) -> None:
    if y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1 and outputs not in (None, 1)):
        raise ValueError(
            f"{what}: categorical_crossentropy expects one-hot labels of shape (samples, {outputs}); received y "
            f"of shape {tuple(y.shape)}, which looks like integer class labels - use "
            f"cnnkit.utils.to_categorical(y, {outputs}), or loss='sparse_categorical_crossentropy'"
        )
    if outputs is not None and y.shape[-1] != outputs:
        raise ValueError(
            f"{what}: the model has {outputs} outputs but the one-hot labels have {y.shape[-1]} columns "
            f"(y of shape {tuple(y.shape)}); the last Dense layer needs units={y.shape[-1]} or the labels "
            f"need to_categorical(..., {outputs})"
        )


def _shape(shape: tuple) -> str:
    return (
        "("
        + ", ".join("None" if s is None else str(s) for s in shape)
        + ("," if len(shape) == 1 else "")
        + ")"
    )
