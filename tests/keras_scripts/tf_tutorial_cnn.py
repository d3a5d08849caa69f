# Source: https://www.tensorflow.org/tutorials/images/cnn
#         (tensorflow/docs, site/en/tutorials/images/cnn.ipynb)
# Licence: Apache-2.0 (code samples; text CC BY 4.0)
# Changes: `import tensorflow as tf` / `from tensorflow.keras import datasets, layers, models`
#          -> `import cnnkit as keras` / `from cnnkit import datasets, layers, models`
#          (`tf.keras.` -> `keras.`); datasets.cifar10.load_data() replaced by small synthetic
#          arrays; epochs 10 -> 1; matplotlib draws off screen (Agg).
"""Convolutional Neural Network (CNN) on CIFAR-10 with a Sequential model."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from _local_data import cifar10_load_data  # noqa: E402

import cnnkit as keras  # noqa: E402
from cnnkit import datasets, layers, models  # noqa: E402, F401

# was datasets.cifar10.load_data()
(train_images, train_labels), (test_images, test_labels) = cifar10_load_data()

# Normalize pixel values to be between 0 and 1
train_images, test_images = train_images / 255.0, test_images / 255.0

class_names = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
]

plt.figure(figsize=(10, 10))
for i in range(25):
    plt.subplot(5, 5, i + 1)
    plt.xticks([])
    plt.yticks([])
    plt.grid(False)
    plt.imshow(train_images[i])
    # The CIFAR labels happen to be arrays,
    # which is why you need the extra index
    plt.xlabel(class_names[train_labels[i][0]])
plt.show()

model = models.Sequential()
model.add(layers.Conv2D(32, (3, 3), activation="relu", input_shape=(32, 32, 3)))
model.add(layers.MaxPooling2D((2, 2)))
model.add(layers.Conv2D(64, (3, 3), activation="relu"))
model.add(layers.MaxPooling2D((2, 2)))
model.add(layers.Conv2D(64, (3, 3), activation="relu"))

model.summary()

model.add(layers.Flatten())
model.add(layers.Dense(64, activation="relu"))
model.add(layers.Dense(10))

model.summary()

model.compile(
    optimizer="adam",
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    metrics=["accuracy"],
)

history = model.fit(
    train_images,
    train_labels,
    epochs=1,  # was 10
    validation_data=(test_images, test_labels),
)

plt.plot(history.history["accuracy"], label="accuracy")
plt.plot(history.history["val_accuracy"], label="val_accuracy")
plt.xlabel("Epoch")
plt.ylabel("Accuracy")
plt.ylim([0.5, 1])
plt.legend(loc="lower right")

test_loss, test_acc = model.evaluate(test_images, test_labels, verbose=2)

print(test_acc)
