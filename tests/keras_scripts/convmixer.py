# Source: https://keras.io/examples/vision/convmixer/ (keras-team/keras-io,
#         examples/vision/convmixer.py; author Sayak Paul)
# Licence: Apache-2.0
# Changes: imports swapped to cnnkit; keras.datasets.cifar10.load_data() replaced by small
#          synthetic arrays (validation split 10000 -> 16); tf.data pipelines replaced by
#          NumPy arrays given to fit() (statements replaced by a comment); the model is made
#          smaller (filters 256 -> 32, depth 8 -> 2), epochs 10 -> 1; plotting removed.
"""Image classification with ConvMixer on CIFAR-10."""

import os
import tempfile

import numpy as np  # noqa: F401
from _local_data import cifar10_load_data

import cnnkit as keras
from cnnkit import layers

learning_rate = 0.001
weight_decay = 0.0001
batch_size = 32  # was 128
num_epochs = 1  # was 10

(x_train, y_train), (x_test, y_test) = cifar10_load_data()  # was keras.datasets.cifar10
val_split = 0.1

val_indices = 16  # was int(len(x_train) * val_split)
new_x_train, new_y_train = x_train[val_indices:], y_train[val_indices:]
x_val, y_val = x_train[:val_indices], y_train[:val_indices]

print(f"Training data samples: {len(new_x_train)}")
print(f"Validation data samples: {len(x_val)}")
print(f"Test data samples: {len(x_test)}")

image_size = 32
auto = None  # was tf.data.AUTOTUNE

augmentation_layers = [
    keras.layers.RandomCrop(image_size, image_size),
    keras.layers.RandomFlip("horizontal"),
]


def augment_images(images):
    for layer in augmentation_layers:
        images = layer(images, training=True)
    return images


# tf.data statements replaced: make_datasets() built tf.data.Dataset pipelines that batch,
# augment (augment_images) and prefetch; the arrays are given to fit() directly instead.


def activation_block(x):
    x = layers.Activation("gelu")(x)
    return layers.BatchNormalization()(x)


def conv_stem(x, filters: int, patch_size: int):
    x = layers.Conv2D(filters, kernel_size=patch_size, strides=patch_size)(x)
    return activation_block(x)


def conv_mixer_block(x, filters: int, kernel_size: int):
    # Depthwise convolution.
    x0 = x
    x = layers.DepthwiseConv2D(kernel_size=kernel_size, padding="same")(x)
    x = layers.Add()([activation_block(x), x0])  # Residual.

    # Pointwise convolution.
    x = layers.Conv2D(filters, kernel_size=1)(x)
    x = activation_block(x)

    return x


def get_conv_mixer_256_8(
    image_size=32, filters=256, depth=8, kernel_size=5, patch_size=2, num_classes=10
):
    """ConvMixer-256/8: https://openreview.net/pdf?id=TVHS5Y4dNvM.
    The hyperparameter values are taken from the paper.
    """
    inputs = keras.Input((image_size, image_size, 3))
    x = layers.Rescaling(scale=1.0 / 255)(inputs)

    # Extract patch embeddings.
    x = conv_stem(x, filters, patch_size)

    # ConvMixer blocks.
    for _ in range(depth):
        x = conv_mixer_block(x, filters, kernel_size)

    # Classification block.
    x = layers.GlobalAvgPool2D()(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)

    return keras.Model(inputs, outputs)


def run_experiment(model):
    optimizer = keras.optimizers.AdamW(learning_rate=learning_rate, weight_decay=weight_decay)

    model.compile(
        optimizer=optimizer,
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )

    checkpoint_filepath = os.path.join(tempfile.mkdtemp(), "checkpoint.weights.h5")
    checkpoint_callback = keras.callbacks.ModelCheckpoint(
        checkpoint_filepath,
        monitor="val_accuracy",
        save_best_only=True,
        save_weights_only=True,
    )

    history = model.fit(
        new_x_train,  # was train_dataset
        new_y_train,
        batch_size=batch_size,
        validation_data=(x_val, y_val),  # was val_dataset
        epochs=num_epochs,
        callbacks=[checkpoint_callback],
    )

    model.load_weights(checkpoint_filepath)
    _, accuracy = model.evaluate(x_test, y_test)  # was test_dataset
    print(f"Test accuracy: {round(accuracy * 100, 2)}%")

    return history, model


conv_mixer_model = get_conv_mixer_256_8(filters=32, depth=2)  # was get_conv_mixer_256_8()
history, conv_mixer_model = run_experiment(conv_mixer_model)
