# Source: Keras 2 `examples/mnist_cnn.py`
#         https://github.com/keras-team/keras/blob/2.3.1/examples/mnist_cnn.py
# Licence: MIT (Keras 2.x LICENSE: Copyright (c) 2015-2019 François Chollet, Google Inc.
#          and the respective contributors)
# Changes: `import keras` / `from keras...` -> `import cnnkit as keras` / `from cnnkit...`;
#          `keras.datasets.mnist` replaced by small synthetic arrays; epochs 12 -> 1;
#          the `from __future__ import print_function` line is kept.
"""Trains a simple convnet on MNIST, Keras 2 style (backend K, Adadelta)."""

from __future__ import print_function

from _local_data import mnist_load_data

import cnnkit as keras
from cnnkit import backend as K
from cnnkit.layers import Conv2D, Dense, Dropout, Flatten, MaxPooling2D
from cnnkit.models import Sequential

batch_size = 128
num_classes = 10
epochs = 1  # was 12

# input image dimensions
img_rows, img_cols = 28, 28

# the data, shuffled and split between train and test sets
(x_train, y_train), (x_test, y_test) = mnist_load_data()  # was mnist.load_data()

if K.image_data_format() == "channels_first":
    x_train = x_train.reshape(x_train.shape[0], 1, img_rows, img_cols)
    x_test = x_test.reshape(x_test.shape[0], 1, img_rows, img_cols)
    input_shape = (1, img_rows, img_cols)
else:
    x_train = x_train.reshape(x_train.shape[0], img_rows, img_cols, 1)
    x_test = x_test.reshape(x_test.shape[0], img_rows, img_cols, 1)
    input_shape = (img_rows, img_cols, 1)

x_train = x_train.astype("float32")
x_test = x_test.astype("float32")
x_train /= 255
x_test /= 255
print("x_train shape:", x_train.shape)
print(x_train.shape[0], "train samples")
print(x_test.shape[0], "test samples")

# convert class vectors to binary class matrices
y_train = keras.utils.to_categorical(y_train, num_classes)
y_test = keras.utils.to_categorical(y_test, num_classes)

model = Sequential()
model.add(Conv2D(32, kernel_size=(3, 3), activation="relu", input_shape=input_shape))
model.add(Conv2D(64, (3, 3), activation="relu"))
model.add(MaxPooling2D(pool_size=(2, 2)))
model.add(Dropout(0.25))
model.add(Flatten())
model.add(Dense(128, activation="relu"))
model.add(Dropout(0.5))
model.add(Dense(num_classes, activation="softmax"))

model.compile(
    loss=keras.losses.categorical_crossentropy,
    optimizer=keras.optimizers.Adadelta(),
    metrics=["accuracy"],
)

model.fit(
    x_train,
    y_train,
    batch_size=batch_size,
    epochs=epochs,
    verbose=1,
    validation_data=(x_test, y_test),
)
score = model.evaluate(x_test, y_test, verbose=0)
print("Test loss:", score[0])
print("Test accuracy:", score[1])
