"""Build the same layer stack in Keras 3 (the oracle) and in cnnkit, for side-by-side tests."""

from __future__ import annotations

import os
import random
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import cnnkit  # noqa: E402

ORACLE_ACTIVATIONS = (
    "relu",
    "tanh",
    "sigmoid",
    "softmax",
    "linear",
    None,
    "elu",
    "selu",
    "softplus",
)


def build_keras(
    input_shape: tuple[int, ...], spec: list[tuple[str, dict[str, Any]]]
) -> keras.Sequential:
    """A Keras Sequential model for ``spec`` (a list of (layer class name, kwargs))."""
    model = keras.Sequential([keras.Input(shape=input_shape)])
    for class_name, kwargs in spec:
        model.add(getattr(keras.layers, class_name)(**kwargs))
    return model


def build_cnnkit(
    input_shape: tuple[int, ...], spec: list[tuple[str, dict[str, Any]]]
) -> cnnkit.Sequential:
    """The cnnkit Sequential model for the same ``spec``."""
    model = cnnkit.Sequential([cnnkit.Input(shape=input_shape)])
    for class_name, kwargs in spec:
        model.add(getattr(cnnkit.layers, class_name)(**kwargs))
    return model


def random_stack(seed: int) -> tuple[tuple[int, ...], list[tuple[str, dict[str, Any]]]]:
    """A random but reproducible CNN stack: convs and poolings, then a classifier head."""
    rng = random.Random(seed)
    data_format = rng.choice(["channels_last", "channels_last", "channels_first"])
    height, width, channels = rng.randint(4, 16), rng.randint(4, 16), rng.randint(1, 4)
    shape = (
        (height, width, channels) if data_format == "channels_last" else (channels, height, width)
    )
    spec: list[tuple[str, dict[str, Any]]] = []
    for _ in range(rng.randint(1, 3)):
        kind = rng.choice(
            ["Conv2D", "Conv2D", "MaxPooling2D", "AveragePooling2D", "BatchNormalization"]
        )
        if kind == "Conv2D":
            strides = rng.choice([1, 1, 2, 3, (1, 2)])
            dilation = rng.choice([1, 2]) if strides == 1 else 1
            spec.append(
                (
                    kind,
                    dict(
                        filters=rng.randint(1, 6),
                        kernel_size=rng.choice([1, 2, 3, 5, (2, 3)]),
                        strides=strides,
                        padding=rng.choice(["valid", "same", "SAME"]),
                        dilation_rate=dilation,
                        use_bias=rng.random() < 0.7,
                        activation=rng.choice(ORACLE_ACTIVATIONS),
                        data_format=data_format,
                    ),
                )
            )
        elif kind == "BatchNormalization":
            spec.append((kind, dict(axis=-1 if data_format == "channels_last" else 1)))
        else:
            spec.append(
                (
                    kind,
                    dict(
                        pool_size=rng.choice([1, 2, 3, (2, 3)]),
                        strides=rng.choice([None, 1, 2, 3]),
                        padding=rng.choice(["valid", "same"]),
                        data_format=data_format,
                    ),
                )
            )
    head = rng.choice(["Flatten", "GlobalAveragePooling2D", "GlobalMaxPooling2D"])
    spec.append((head, dict(data_format=data_format)))
    spec.append(
        (
            "Dense",
            dict(
                units=rng.randint(1, 8),
                activation=rng.choice(ORACLE_ACTIVATIONS),
                use_bias=rng.random() < 0.8,
            ),
        )
    )
    if rng.random() < 0.3:
        spec.append(("Dropout", dict(rate=0.5)))
    return shape, spec


def randomize_keras_weights(model: keras.Model, seed: int) -> list[np.ndarray]:
    """Give every Keras weight random values (moving variances positive) and return them."""
    rng = np.random.default_rng(seed)
    weights = []
    for weight in model.weights:
        value = rng.normal(size=tuple(weight.shape)).astype(np.float32)
        if "variance" in weight.path:
            value = np.abs(value) + 0.5
        weight.assign(value)
    for layer in model.layers:
        weights.extend(layer.get_weights())
    return weights
