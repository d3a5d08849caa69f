"""Small synthetic stand-ins for the downloads the collected scripts make.

Each function returns arrays with the shapes (except the sample count) and dtypes of the
Keras dataset it replaces, so a script runs offline in seconds. The images carry a faint
class-dependent pattern so that training has something to learn.
"""

import os

import numpy as np

TRAIN_SAMPLES = 96
TEST_SAMPLES = 32


def _images(count, shape, classes, seed):
    """uint8 images whose mean brightness depends on the label, plus the labels."""
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(count) % classes)  # every class appears
    noise = rng.integers(0, 128, size=(count, *shape))
    offset = (labels * (127 // max(classes - 1, 1))).reshape((count,) + (1,) * len(shape))
    return (noise + offset).astype("uint8"), labels


def _load(shape, classes, label_shape):
    x_train, y_train = _images(TRAIN_SAMPLES, shape, classes, seed=0)
    x_test, y_test = _images(TEST_SAMPLES, shape, classes, seed=1)
    return (x_train, y_train.astype("uint8").reshape(label_shape(TRAIN_SAMPLES))), (
        x_test,
        y_test.astype("uint8").reshape(label_shape(TEST_SAMPLES)),
    )


def mnist_load_data():
    """Like keras.datasets.mnist.load_data(): (n, 28, 28) uint8 images, (n,) uint8 labels."""
    return _load((28, 28), 10, lambda n: (n,))


def fashion_mnist_load_data():
    """Like keras.datasets.fashion_mnist.load_data()."""
    return _load((28, 28), 10, lambda n: (n,))


def cifar10_load_data():
    """Like keras.datasets.cifar10.load_data(): (n, 32, 32, 3) uint8, (n, 1) uint8 labels."""
    return _load((32, 32, 3), 10, lambda n: (n, 1))


def image_folder(root, class_names=("Cat", "Dog"), per_class=12, size=(40, 48)):
    """Write a few small JPEG images per class under root/<class>/ and return root."""
    from PIL import Image

    rng = np.random.default_rng(2)
    for index, name in enumerate(class_names):
        folder = os.path.join(root, name)
        os.makedirs(folder, exist_ok=True)
        for number in range(per_class):
            pixels = rng.integers(0, 128, size=(*size, 3)) + 100 * index
            path = os.path.join(folder, f"{number}.jpg")
            Image.fromarray(pixels.astype("uint8")).save(path)
    return root
