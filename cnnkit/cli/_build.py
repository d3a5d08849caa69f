"""Build and compile the model a run trains: a zoo model, optionally behind augmentation layers."""

from __future__ import annotations

from typing import Any

from cnnkit import layers, optimizers, zoo
from cnnkit.models import Sequential

#: Largest random shift, as a fraction of the height and width ("light" augmentation).
SHIFT = 0.1


def augmentation_layers(flip: bool) -> list[Any] | None:
    """Random shift (and left-right flip when ``flip``) layers, or None when this version of
    cnnkit has no augmentation layers. They only act in training, so the saved model predicts
    on plain images."""
    flip_class = getattr(layers, "RandomFlip", None)
    shift_class = getattr(layers, "RandomTranslation", None)
    if flip_class is None or shift_class is None:
        return None
    chosen = [shift_class(SHIFT, SHIFT, fill_mode="constant")]
    return ([flip_class("horizontal")] if flip else []) + chosen


def build_model(
    name: str, input_shape: tuple[int, int, int], num_classes: int, augment: bool, flip: bool
) -> Sequential:
    """The zoo model ``name`` for this input and class count; with ``augment``, augmentation
    layers go first (skipped with a notice when unavailable)."""
    model = zoo.get(name, input_shape=tuple(input_shape), num_classes=num_classes)
    if not augment:
        return model
    extra = augmentation_layers(flip)
    if extra is None:
        print("note: augmentation skipped: this cnnkit has no cnnkit.layers.RandomFlip yet")
        return model
    augmented = Sequential(name=model.name)
    augmented.add(layers.Input(shape=tuple(input_shape)))
    for layer in [*extra, *model.layers]:
        augmented.add(layer)
    return augmented


def compile_model(model: Sequential, learning_rate: float, weight_decay: float) -> None:
    """AdamW and integer-label cross-entropy, reporting accuracy (what every run uses)."""
    model.compile(
        optimizer=optimizers.AdamW(learning_rate=learning_rate, weight_decay=weight_decay),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
