# Source: Deep Learning with Python, 2nd ed., chapter 8 notebook
#         https://github.com/fchollet/deep-learning-with-python-notebooks/blob/master/chapter08_intro-to-convnets.ipynb
#         (section "Training a convnet from scratch on a small dataset"; author François Chollet)
# Licence: MIT (Copyright (c) 2017-present François Chollet)
# Changes: tensorflow imports -> `import cnnkit as keras` / `from cnnkit import layers` /
#          `from cnnkit.utils import image_dataset_from_directory`; the Kaggle download and
#          the copying into cats_vs_dogs_small are replaced by a few small local JPEGs per
#          class; image size 180 -> 90 (the network still fits), epochs 30 -> 1; the
#          plotting of the curves and the augmentation variant are not included.
"""Training a convnet from scratch on a small image folder (cats vs dogs)."""

import os
import pathlib
import tempfile

from _local_data import image_folder

import cnnkit as keras
from cnnkit import layers
from cnnkit.utils import image_dataset_from_directory

new_base_dir = pathlib.Path(tempfile.mkdtemp()) / "cats_vs_dogs_small"
for subset_name in ("train", "validation", "test"):
    image_folder(str(new_base_dir / subset_name), class_names=("cat", "dog"), per_class=8)
os.chdir(new_base_dir.parent)

train_dataset = image_dataset_from_directory(
    new_base_dir / "train", image_size=(90, 90), batch_size=32  # was (180, 180)
)
validation_dataset = image_dataset_from_directory(
    new_base_dir / "validation", image_size=(90, 90), batch_size=32
)
test_dataset = image_dataset_from_directory(
    new_base_dir / "test", image_size=(90, 90), batch_size=32
)

inputs = keras.Input(shape=(90, 90, 3))  # was (180, 180, 3)
x = layers.Rescaling(1.0 / 255)(inputs)
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
outputs = layers.Dense(1, activation="sigmoid")(x)
model = keras.Model(inputs=inputs, outputs=outputs)

model.summary()

model.compile(loss="binary_crossentropy", optimizer="rmsprop", metrics=["accuracy"])

for data_batch, labels_batch in train_dataset:
    print("data batch shape:", data_batch.shape)
    print("labels batch shape:", labels_batch.shape)
    break

callbacks = [
    keras.callbacks.ModelCheckpoint(
        filepath="convnet_from_scratch.keras", save_best_only=True, monitor="val_loss"
    )
]
history = model.fit(
    train_dataset,
    epochs=1,  # was 30
    validation_data=validation_dataset,
    callbacks=callbacks,
)

test_model = keras.models.load_model("convnet_from_scratch.keras")
test_loss, test_acc = test_model.evaluate(test_dataset)
print(f"Test accuracy: {test_acc:.3f}")
