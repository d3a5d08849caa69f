# Source: Deep Learning with Python, 1st ed., notebook 5.1 (Keras 2 style imports)
#         https://github.com/fchollet/deep-learning-with-python-notebooks/blob/master/5.1-introduction-to-convnets.ipynb
#         (author François Chollet; the 1st-edition notebooks of the same repository)
# Licence: MIT (Copyright (c) 2017-present François Chollet)
# Changes: `from keras import layers, models` / `from keras.utils import to_categorical` ->
#          `from cnnkit import ...`; `from keras.datasets import mnist` replaced by small
#          synthetic arrays (reshape counts follow the arrays); epochs 5 -> 1.
"""5.1 Introduction to convnets: a Sequential convnet on MNIST, Keras 2 style."""

from _local_data import mnist_load_data

from cnnkit import layers, models
from cnnkit.utils import to_categorical

model = models.Sequential()
model.add(layers.Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)))
model.add(layers.MaxPooling2D((2, 2)))
model.add(layers.Conv2D(64, (3, 3), activation="relu"))
model.add(layers.MaxPooling2D((2, 2)))
model.add(layers.Conv2D(64, (3, 3), activation="relu"))

model.summary()

model.add(layers.Flatten())
model.add(layers.Dense(64, activation="relu"))
model.add(layers.Dense(10, activation="softmax"))

model.summary()

(train_images, train_labels), (test_images, test_labels) = mnist_load_data()  # was mnist

train_images = train_images.reshape((len(train_images), 28, 28, 1))  # was (60000, 28, 28, 1)
train_images = train_images.astype("float32") / 255

test_images = test_images.reshape((len(test_images), 28, 28, 1))  # was (10000, 28, 28, 1)
test_images = test_images.astype("float32") / 255

train_labels = to_categorical(train_labels)
test_labels = to_categorical(test_labels)

model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
model.fit(train_images, train_labels, epochs=1, batch_size=64)  # was epochs=5

test_loss, test_acc = model.evaluate(test_images, test_labels)
print(test_acc)
