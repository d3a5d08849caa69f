# Source: https://keras.io/guides/functional_api/ (keras-team/keras-io, guides/functional_api.py;
#         author fchollet), sections "Introduction" to "Save and serialize"
# Licence: Apache-2.0
# Changes: imports swapped to cnnkit; keras.datasets.mnist.load_data() replaced by small
#          synthetic arrays (reshape counts follow the arrays); keras.utils.plot_model calls
#          removed (they need pydot and graphviz, not installed here); files go to a temp folder.
"""The Functional API: a first MNIST model, trained, evaluated, saved and reloaded."""

import os
import tempfile

from _local_data import mnist_load_data

import cnnkit as keras
from cnnkit import layers

inputs = keras.Input(shape=(784,))
img_inputs = keras.Input(shape=(32, 32, 3))
print(inputs.shape)
print(inputs.dtype)

dense = layers.Dense(64, activation="relu")
x = dense(inputs)
x = layers.Dense(64, activation="relu")(x)
outputs = layers.Dense(10)(x)

model = keras.Model(inputs=inputs, outputs=outputs, name="mnist_model")
model.summary()

(x_train, y_train), (x_test, y_test) = mnist_load_data()  # was keras.datasets.mnist.load_data()

x_train = x_train.reshape(len(x_train), 784).astype("float32") / 255  # was reshape(60000, 784)
x_test = x_test.reshape(len(x_test), 784).astype("float32") / 255  # was reshape(10000, 784)

model.compile(
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    optimizer=keras.optimizers.RMSprop(),
    metrics=["accuracy"],
)

history = model.fit(x_train, y_train, batch_size=64, epochs=2, validation_split=0.2)

test_scores = model.evaluate(x_test, y_test, verbose=2)
print("Test loss:", test_scores[0])
print("Test accuracy:", test_scores[1])

path = os.path.join(tempfile.mkdtemp(), "my_model.keras")
model.save(path)
del model
# Recreate the exact same model purely from the file:
model = keras.models.load_model(path)
