# Source: https://keras.io/examples/vision/image_classification_from_scratch/
#         (keras-team/keras-io, examples/vision/image_classification_from_scratch.py; author fchollet)
# Licence: Apache-2.0
# Changes: imports swapped to cnnkit; the Kaggle Cats vs Dogs download and
#          image_dataset_from_directory replaced by small synthetic arrays (the data parts);
#          tf.data map/prefetch statements replaced by a comment (the augmentation is applied
#          to the arrays once instead); image_size 180x180 -> 48x48, epochs 25 -> 1;
#          plotting of the sample grids removed; the test image is a local JPEG; runs in a
#          temporary folder (plot_model writes model.png there).
"""Image classification from scratch (model parts)."""

import os
import tempfile

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import cnnkit as keras  # noqa: E402
from cnnkit import layers  # noqa: E402

os.chdir(tempfile.mkdtemp())  # plot_model writes model.png in the working folder

image_size = (48, 48)  # was (180, 180)
batch_size = 16  # was 128

# Data made small and local (was keras.utils.image_dataset_from_directory("PetImages", ...)).
rng = np.random.default_rng(0)
train_images = rng.uniform(0, 255, size=(32, *image_size, 3)).astype("float32")
train_labels = rng.integers(0, 2, size=(32,)).astype("int32")
val_images = rng.uniform(0, 255, size=(16, *image_size, 3)).astype("float32")
val_labels = rng.integers(0, 2, size=(16,)).astype("int32")

data_augmentation_layers = [
    layers.RandomFlip("horizontal"),
    layers.RandomRotation(0.1),
]


def data_augmentation(images):
    for layer in data_augmentation_layers:
        images = layer(images)
    return images


# tf.data statements replaced: train_ds.map(data_augmentation) and prefetch(); the
# augmentation is applied to the training arrays once instead.
train_images = np.asarray(data_augmentation(train_images))


def make_model(input_shape, num_classes):
    inputs = keras.Input(shape=input_shape)

    # Entry block
    x = layers.Rescaling(1.0 / 255)(inputs)
    x = layers.Conv2D(128, 3, strides=2, padding="same")(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)

    previous_block_activation = x  # Set aside residual

    for size in [256, 512, 728]:
        x = layers.Activation("relu")(x)
        x = layers.SeparableConv2D(size, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)

        x = layers.Activation("relu")(x)
        x = layers.SeparableConv2D(size, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)

        x = layers.MaxPooling2D(3, strides=2, padding="same")(x)

        # Project residual
        residual = layers.Conv2D(size, 1, strides=2, padding="same")(previous_block_activation)
        x = layers.add([x, residual])  # Add back residual
        previous_block_activation = x  # Set aside next residual

    x = layers.SeparableConv2D(1024, 3, padding="same")(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)

    x = layers.GlobalAveragePooling2D()(x)
    if num_classes == 2:
        units = 1
    else:
        units = num_classes

    x = layers.Dropout(0.25)(x)
    # We specify activation=None so as to return logits
    outputs = layers.Dense(units, activation=None)(x)
    return keras.Model(inputs, outputs)


model = make_model(input_shape=image_size + (3,), num_classes=2)
keras.utils.plot_model(model, show_shapes=True)

epochs = 1  # was 25

callbacks = [
    keras.callbacks.ModelCheckpoint(os.path.join(tempfile.mkdtemp(), "save_at_{epoch}.keras")),
]
model.compile(
    optimizer=keras.optimizers.Adam(3e-4),
    loss=keras.losses.BinaryCrossentropy(from_logits=True),
    metrics=[keras.metrics.BinaryAccuracy(name="acc")],
)
model.fit(
    train_images,
    train_labels,
    batch_size=batch_size,
    epochs=epochs,
    callbacks=callbacks,
    validation_data=(val_images, val_labels),
)

# A local test image (was "PetImages/Cat/6779.jpg").
from PIL import Image  # noqa: E402

image_path = os.path.join(tempfile.mkdtemp(), "6779.jpg")
Image.fromarray(rng.integers(0, 255, size=(60, 70, 3)).astype("uint8")).save(image_path)

img = keras.utils.load_img(image_path, target_size=image_size)
plt.imshow(img)

img_array = keras.utils.img_to_array(img)
img_array = keras.ops.expand_dims(img_array, 0)  # Create batch axis

predictions = model.predict(img_array)
score = float(keras.ops.sigmoid(predictions[0][0]))
print(f"This image is {100 * (1 - score):.2f}% cat and {100 * score:.2f}% dog.")
