"""Reference models by name, so ``cnnkit.zoo.get("lenet5")`` and ``--model lenet5`` agree."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from cnnkit._validation import did_you_mean
from cnnkit.layers import (
    Activation,
    AveragePooling2D,
    BatchNormalization,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    GlobalAveragePooling2D,
    MaxPooling2D,
)
from cnnkit.models import Sequential

_REGISTRY: dict[str, Callable[..., Sequential]] = {}


def register(name: str) -> Callable[[Callable[..., Sequential]], Callable[..., Sequential]]:
    """Decorator that makes a model constructor available under ``name``."""

    def decorator(constructor: Callable[..., Sequential]) -> Callable[..., Sequential]:
        if name in _REGISTRY:
            raise ValueError(f"zoo.register: a model named {name!r} is already registered")
        _REGISTRY[name] = constructor
        return constructor

    return decorator


def names() -> list[str]:
    """The names of every registered model."""
    return sorted(_REGISTRY)


def get(name: str, **kwargs: Any) -> Sequential:
    """Build the registered model ``name`` (keyword arguments go to its constructor).

    Example:
        >>> get("lenet5").count_params()
        61706
    """
    if name not in _REGISTRY:
        raise ValueError(
            f"zoo.get: unknown model {name!r}. Available: {', '.join(names())}."
            + did_you_mean(name, _REGISTRY)
        )
    return _REGISTRY[name](**kwargs)


@register("lenet5")
def lenet5(input_shape: Sequence[int] = (32, 32, 1), num_classes: int = 10) -> Sequential:
    """LeNet-5 exactly as the lecture writes it: tanh convolutions, average pooling, relu MLP.

    61,706 parameters for a 32x32 grayscale input; an RGB input only grows the first layer's
    filters (156 -> 456 parameters).
    """
    model = Sequential(name="lenet5")
    model.add(
        Conv2D(
            filters=6,
            kernel_size=(5, 5),
            activation="tanh",
            input_shape=tuple(input_shape),
            padding="valid",
        )
    )
    model.add(AveragePooling2D(pool_size=(2, 2)))
    model.add(Conv2D(filters=16, kernel_size=(5, 5), activation="tanh", padding="valid"))
    model.add(AveragePooling2D(pool_size=(2, 2)))
    model.add(Flatten())
    model.add(Dense(120, activation="relu"))
    model.add(Dense(84, activation="relu"))
    model.add(Dense(num_classes, activation="softmax"))
    return model


@register("small_cnn")
def small_cnn(
    input_shape: Sequence[int] = (28, 28, 1),
    num_classes: int = 10,
    width: int = 32,
    dropout: float = 0.2,
) -> Sequential:
    """A modern small CNN for 28x28 / 32x32 images: conv-BN-ReLU blocks, pooling, global average.

    Three stages of ``width``, ``2*width`` and ``4*width`` filters; about 290K parameters at
    width 32.
    """
    model = Sequential(name="small_cnn")
    model.add(Conv2D(width, 3, padding="same", use_bias=False, input_shape=tuple(input_shape)))
    for stage, filters in enumerate((width, 2 * width, 4 * width)):
        if stage:
            model.add(Conv2D(filters, 3, padding="same", use_bias=False))
        model.add(BatchNormalization())
        model.add(Activation("relu"))
        model.add(Conv2D(filters, 3, padding="same", use_bias=False))
        model.add(BatchNormalization())
        model.add(Activation("relu"))
        if stage < 2:
            model.add(MaxPooling2D(2))
    model.add(GlobalAveragePooling2D())
    if dropout:
        model.add(Dropout(dropout))
    model.add(Dense(num_classes, activation="softmax"))
    return model
