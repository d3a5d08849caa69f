"""Reference models by name, so ``cnnkit.zoo.get("lenet5")`` and ``--model lenet5`` agree."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

from cnnkit._registry import Registry
from cnnkit.layers import (
    Activation,
    Add,
    AveragePooling2D,
    BatchNormalization,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    GlobalAveragePooling2D,
    Input,
    MaxPooling2D,
)
from cnnkit.models import Model, Sequential

REGISTRY = Registry("zoo", "model")


def register(name: str) -> Callable[[Callable[..., Model]], Callable[..., Model]]:
    """Decorator that makes a model constructor available under ``name``."""
    return REGISTRY.register(name)


def names() -> list[str]:
    """The names of every registered model."""
    return REGISTRY.names()


def has_width(name: str) -> bool:
    """Whether the registered model ``name`` takes ``width`` (its first convolution's filters,
    the later ones scaled with it)."""
    return "width" in inspect.signature(REGISTRY.lookup(name)).parameters


def get(name: str, **kwargs: Any) -> Model:
    """Build the registered model ``name`` (keyword arguments go to its constructor).

    Example:
        >>> get("lenet5").count_params()
        61706
    """
    return REGISTRY.create(name, kwargs)


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
    units: int = 128,
    dropout: float = 0.3,
) -> Sequential:
    """A modern small CNN sized for a CPU: two conv-BN-ReLU-pool blocks and a dropout MLP head.

    ``width`` then ``2*width`` 3x3 filters, each block halving the image with 2x2 max pooling,
    then Flatten, Dropout, Dense(``units``, relu), Dropout and the softmax classifier. Pooling
    right after each convolution keeps the multiply-adds low (about 4.2M per 28x28 image; a
    three-stage network with two convolutions per stage needs about 30M), so an epoch of
    Fashion-MNIST takes about 20 s on 2 CPU cores; the flattened head keeps where features are,
    which global average pooling loses (a GAP variant trailed by about a point at equal
    epochs). 92.85% on Fashion-MNIST in 15 epochs with flips, 93.13% in 17 with label
    smoothing 0.1, 93.51% in 30, and with ``width=48`` 93.997% in 40 (mean of three seeds;
    ``bench/README_train.md``). About 422K parameters for 28x28
    grayscale images, most in the first Dense layer, which grows with the image size.

    Batch normalization uses momentum 0.9 (Keras' default is 0.99) so its moving statistics
    settle within the few hundred steps of a short run.
    """
    model = Sequential(name="small_cnn")
    model.add(Conv2D(width, 3, padding="same", use_bias=False, input_shape=tuple(input_shape)))
    model.add(BatchNormalization(momentum=0.9))
    model.add(Activation("relu"))
    model.add(MaxPooling2D(2))
    model.add(Conv2D(2 * width, 3, padding="same", use_bias=False))
    model.add(BatchNormalization(momentum=0.9))
    model.add(Activation("relu"))
    model.add(MaxPooling2D(2))
    model.add(Flatten())
    if dropout:
        model.add(Dropout(dropout))
    model.add(Dense(units, activation="relu"))
    if dropout:
        model.add(Dropout(dropout))
    model.add(Dense(num_classes, activation="softmax"))
    return model


def residual_block(x: Any, filters: int, strides: int = 1) -> Any:
    """Two 3x3 conv-BN layers whose output is added to the block's input (He et al., 2016).

    When the block changes the size or the number of channels, the shortcut is a strided 1x1
    convolution with batch normalization ("option B"), so the two branches can be added.
    ``x`` is a symbolic tensor (functional API); returns the block's output tensor.
    """
    y = Conv2D(filters, 3, strides=strides, padding="same", use_bias=False)(x)
    y = BatchNormalization(momentum=0.9)(y)
    y = Activation("relu")(y)
    y = Conv2D(filters, 3, padding="same", use_bias=False)(y)
    y = BatchNormalization(momentum=0.9)(y)
    shortcut = x
    if strides != 1 or x.shape[-1] != filters:
        shortcut = Conv2D(filters, 1, strides=strides, use_bias=False)(x)
        shortcut = BatchNormalization(momentum=0.9)(shortcut)
    return Activation("relu")(Add()([y, shortcut]))


@register("resnet")
def resnet(
    input_shape: Sequence[int] = (32, 32, 3),
    num_classes: int = 10,
    width: int = 16,
    blocks: int = 1,
) -> Model:
    """A small residual network for 32x32 images, written with the functional API.

    A 3x3 stem of ``width`` filters, then three stages of ``blocks`` residual blocks with
    ``width``, ``2*width`` and ``4*width`` filters (the second and third halve the image),
    global average pooling and the softmax classifier. ``blocks=3`` is the ResNet-20 of He et
    al. (2016) for CIFAR-10 (about 0.27M parameters, with 1x1 projection shortcuts); the
    default ``blocks=1`` (ResNet-8, about 79K parameters) trains on a CPU in minutes.
    """
    inputs = Input(shape=tuple(input_shape))
    x = Conv2D(width, 3, padding="same", use_bias=False)(inputs)
    x = BatchNormalization(momentum=0.9)(x)
    x = Activation("relu")(x)
    for stage in range(3):
        for block in range(blocks):
            strides = 2 if stage > 0 and block == 0 else 1
            x = residual_block(x, width * 2**stage, strides)
    x = GlobalAveragePooling2D()(x)
    outputs = Dense(num_classes, activation="softmax")(x)
    return Model(inputs, outputs, name="resnet")
