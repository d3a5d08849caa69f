"""Datasets for image classification: the classic benchmarks, a built-in one and your own images.

- ``mnist``, ``fashion_mnist``, ``cifar10``, ``cifar100``: ``load_data()`` returns
  ``(x_train, y_train), (x_test, y_test)`` uint8 NumPy arrays with Keras' shapes, from a local
  copy or a checksum-verified, cached download.
- ``digits``: scikit-learn's bundled 8x8 digits, no download needed.
- ``image_folder`` / ``ImageFolderDataset``: your images, one sub-folder per class.
- ``open_image``, ``load_image``, ``resize_images``: one image file read safely (size limits
  checked before decoding), and batches resized as the loaders resize them;
  ``IMAGE_EXTENSIONS`` are the file endings read.
"""

from __future__ import annotations

from . import cifar10, cifar100, digits, fashion_mnist, mnist
from ._folder import ImageFolderData, image_folder
from ._folder_dataset import ImageFolderDataset
from ._image_io import IMAGE_EXTENSIONS, load_image, open_image
from ._resize import resize_images

__all__ = [
    "cifar10",
    "cifar100",
    "digits",
    "fashion_mnist",
    "mnist",
    "image_folder",
    "ImageFolderData",
    "ImageFolderDataset",
    "IMAGE_EXTENSIONS",
    "load_image",
    "open_image",
    "resize_images",
]
