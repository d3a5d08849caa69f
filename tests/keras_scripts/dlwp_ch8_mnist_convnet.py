# Source: Deep Learning with Python, 2nd ed., chapter 8 notebook
#         https://github.com/fchollet/deep-learning-with-python-notebooks/blob/master/chapter08_intro-to-convnets.ipynb
#         (section "Introduction to convnets"; author François Chollet)
# Licence: MIT (Copyright (c) 2017-present François Chollet)
# Changes: `from tensorflow import keras` / `from tensorflow.keras import layers` ->
#          `import cnnkit as keras` / `from cnnkit import layers`; mnist.load_data() replaced by
#          small synthetic arrays (reshape counts follow the arrays); epochs 5 -> 1.
"""Instantiating, training and evaluating a small convnet on MNIST (functional API)."""

from _local_data import mnist_load_data

import cnnkit as keras
from cnnkit import layers

inputs = keras.Input(shape=(28, 28, 1))
x = layers.Conv2D(filters=32, kernel_size=3, activation="relu")(inputs)
x = layers.MaxPooling2D(pool_size=2)(x)
x = layers.Conv2D(filters=64, kernel_size=3, activation="relu")(x)
x = layers.MaxPooling2D(pool_size=2)(x)
x = layers.Conv2D(filters=128, kernel_size=3, activation="relu")(x)
x = layers.Flatten()(x)
outputs = layers.Dense(10, activation="softmax")(x)
model = keras.Model(inputs=inputs, outputs=outputs)

model.summary()

# was: from tensorflow.keras.datasets import mnist; mnist.load_data()
(train_images, train_labels), (test_images, test_labels) = mnist_load_data()
train_images = train_images.reshape((len(train_images), 28, 28, 1))  # was (60000, 28, 28, 1)
train_images = train_images.astype("float32") / 255
test_images = test_images.reshape((len(test_images), 28, 28, 1))  # was (10000, 28, 28, 1)
test_images = test_images.astype("float32") / 255
model.compile(
    optimizer="rmsprop",
    loss="sparse_categorical_crossentropy",
    metrics=["accuracy"],
)
model.fit(train_images, train_labels, epochs=1, batch_size=64)  # was epochs=5

test_loss, test_acc = model.evaluate(test_images, test_labels)
print(f"Test accuracy: {test_acc:.3f}")

inputs = keras.Input(shape=(28, 28, 1))
x = layers.Conv2D(filters=32, kernel_size=3, activation="relu")(inputs)
x = layers.Conv2D(filters=64, kernel_size=3, activation="relu")(x)
x = layers.Conv2D(filters=128, kernel_size=3, activation="relu")(x)
x = layers.Flatten()(x)
outputs = layers.Dense(10, activation="softmax")(x)
model_no_max_pool = keras.Model(inputs=inputs, outputs=outputs)

model_no_max_pool.summary()
