"""Build and compile the model a run trains: a zoo model, optionally behind augmentation layers."""

from __future__ import annotations

from typing import Any

from cnnkit import layers, losses, optimizers, zoo
from cnnkit.models import Sequential


def augmentation_layers(flip: bool, shift: float) -> list[Any]:
    """A left-right flip (when ``flip``) and random shifts of up to ``shift`` of the size (when
    > 0). They act in training only, so the saved model predicts on plain images. Shifts fill
    with 0: black, the background of MNIST-style images."""
    chosen: list[Any] = [layers.RandomFlip("horizontal")] if flip else []
    if shift > 0:
        chosen.append(layers.RandomTranslation(shift, shift, fill_mode="constant"))
    return chosen


def build_model(
    name: str,
    input_shape: tuple[int, int, int],
    num_classes: int,
    augment: dict[str, Any] | None = None,
    width: int | None = None,
) -> Sequential:
    """The zoo model ``name`` for this input and class count (and ``width``, when given), behind
    augmentation layers when ``augment`` gives ``{"flip": bool, "shift": float}``."""
    sizes = {"width": width} if width is not None else {}
    model = zoo.get(name, input_shape=tuple(input_shape), num_classes=num_classes, **sizes)
    extra = augmentation_layers(augment["flip"], augment["shift"]) if augment else []
    if not extra:
        return model
    augmented = Sequential(name=model.name)
    augmented.add(layers.Input(shape=tuple(input_shape)))
    inner = model.layers if isinstance(model, Sequential) else [model]  # a graph stays whole
    for layer in [*extra, *inner]:
        augmented.add(layer)
    return augmented


def compile_model(
    model: Sequential, learning_rate: float, weight_decay: float, label_smoothing: float = 0.0
) -> None:
    """AdamW and integer-label cross-entropy (smoothed by ``label_smoothing``), reporting
    accuracy (what every run uses)."""
    model.compile(
        optimizer=optimizers.AdamW(learning_rate=learning_rate, weight_decay=weight_decay),
        loss=losses.SparseCategoricalCrossentropy(label_smoothing=label_smoothing),
        metrics=["accuracy"],
    )
