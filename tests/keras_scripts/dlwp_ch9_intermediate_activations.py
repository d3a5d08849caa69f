# Source: Deep Learning with Python, 2nd ed., chapter 9 notebook
#         https://github.com/fchollet/deep-learning-with-python-notebooks/blob/master/chapter09_part03_interpreting-what-convnets-learn.ipynb
#         (section "Visualizing intermediate activations"; author François Chollet), with the
#         augmented cats-vs-dogs convnet it loads defined as in chapter08_intro-to-convnets.ipynb
# Licence: MIT (Copyright (c) 2017-present François Chollet)
# Changes: tensorflow imports -> `import cnnkit as keras` / `from cnnkit import layers`; the
#          model file the chapter loads is made here by defining the chapter-8 model and
#          saving it untrained (was trained for 100 epochs); keras.utils.get_file(cat.jpg)
#          replaced by a local JPEG; image size 180 -> 90; only the first two layers' grids
#          are drawn; matplotlib draws off screen.
"""Visualizing intermediate activations of a convnet with a multi-output activation model."""

import os
import tempfile

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

import cnnkit as keras  # noqa: E402
from cnnkit import layers  # noqa: E402

# --- chapter 8: the model the chapter-9 notebook loads (saved here instead of trained) ---
data_augmentation = keras.Sequential(
    [
        layers.RandomFlip("horizontal"),
        layers.RandomRotation(0.1),
        layers.RandomZoom(0.2),
    ]
)

inputs = keras.Input(shape=(90, 90, 3))  # was (180, 180, 3)
x = data_augmentation(inputs)
x = layers.Rescaling(1.0 / 255)(x)
x = layers.Conv2D(filters=32, kernel_size=3, activation="relu")(x)
x = layers.MaxPooling2D(pool_size=2)(x)
x = layers.Conv2D(filters=64, kernel_size=3, activation="relu")(x)
x = layers.MaxPooling2D(pool_size=2)(x)
x = layers.Conv2D(filters=128, kernel_size=3, activation="relu")(x)
x = layers.MaxPooling2D(pool_size=2)(x)
x = layers.Conv2D(filters=256, kernel_size=3, activation="relu")(x)
x = layers.MaxPooling2D(pool_size=2)(x)
x = layers.Conv2D(filters=256, kernel_size=3, activation="relu")(x)
x = layers.Flatten()(x)
x = layers.Dropout(0.5)(x)
outputs = layers.Dense(1, activation="sigmoid")(x)
model = keras.Model(inputs=inputs, outputs=outputs)

model.compile(loss="binary_crossentropy", optimizer="rmsprop", metrics=["accuracy"])
os.chdir(tempfile.mkdtemp())
model.save("convnet_from_scratch_with_augmentation.keras")

# --- chapter 9 ---
model = keras.models.load_model("convnet_from_scratch_with_augmentation.keras")
model.summary()

# was keras.utils.get_file(fname="cat.jpg", origin="https://img-datasets.s3.amazonaws.com/cat.jpg")
img_path = "cat.jpg"
Image.fromarray(np.random.default_rng(0).integers(0, 255, (120, 100, 3)).astype("uint8")).save(
    img_path
)


def get_img_array(img_path, target_size):
    img = keras.utils.load_img(img_path, target_size=target_size)
    array = keras.utils.img_to_array(img)
    array = np.expand_dims(array, axis=0)
    return array


img_tensor = get_img_array(img_path, target_size=(90, 90))  # was (180, 180)

plt.axis("off")
plt.imshow(img_tensor[0].astype("uint8"))
plt.show()

layer_outputs = []
layer_names = []
for layer in model.layers:
    if isinstance(layer, (layers.Conv2D, layers.MaxPooling2D)):
        layer_outputs.append(layer.output)
        layer_names.append(layer.name)
activation_model = keras.Model(inputs=model.input, outputs=layer_outputs)

activations = activation_model.predict(img_tensor)

first_layer_activation = activations[0]
print(first_layer_activation.shape)

plt.matshow(first_layer_activation[0, :, :, 5], cmap="viridis")

images_per_row = 16
for layer_name, layer_activation in list(zip(layer_names, activations))[:2]:  # was all layers
    n_features = layer_activation.shape[-1]
    size = layer_activation.shape[1]
    n_cols = n_features // images_per_row
    display_grid = np.zeros(((size + 1) * n_cols - 1, images_per_row * (size + 1) - 1))
    for col in range(n_cols):
        for row in range(images_per_row):
            channel_index = col * images_per_row + row
            channel_image = layer_activation[0, :, :, channel_index].copy()
            if channel_image.sum() != 0:
                channel_image -= channel_image.mean()
                channel_image /= channel_image.std()
                channel_image *= 64
                channel_image += 128
            channel_image = np.clip(channel_image, 0, 255).astype("uint8")
            display_grid[
                col * (size + 1) : (col + 1) * size + col,
                row * (size + 1) : (row + 1) * size + row,
            ] = channel_image
    scale = 1.0 / size
    plt.figure(figsize=(scale * display_grid.shape[1], scale * display_grid.shape[0]))
    plt.title(layer_name)
    plt.grid(False)
    plt.axis("off")
    plt.imshow(display_grid, aspect="auto", cmap="viridis")
