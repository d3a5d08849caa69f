"""CIFAR-100: 50,000 training and 10,000 test 32x32 colour images, 100 fine / 20 coarse classes."""

from __future__ import annotations

import numpy as np

from ._cifar import load_cifar
from ._obtain import obtain

__all__ = ["CLASS_NAMES", "FINE_CLASS_NAMES", "COARSE_CLASS_NAMES", "load_data"]

#: Fine label ``i`` is ``FINE_CLASS_NAMES[i]`` (the order of ``fine_label_names.txt``).
FINE_CLASS_NAMES: tuple[str, ...] = (
    "apple",
    "aquarium_fish",
    "baby",
    "bear",
    "beaver",
    "bed",
    "bee",
    "beetle",
    "bicycle",
    "bottle",
    "bowl",
    "boy",
    "bridge",
    "bus",
    "butterfly",
    "camel",
    "can",
    "castle",
    "caterpillar",
    "cattle",
    "chair",
    "chimpanzee",
    "clock",
    "cloud",
    "cockroach",
    "couch",
    "crab",
    "crocodile",
    "cup",
    "dinosaur",
    "dolphin",
    "elephant",
    "flatfish",
    "forest",
    "fox",
    "girl",
    "hamster",
    "house",
    "kangaroo",
    "keyboard",
    "lamp",
    "lawn_mower",
    "leopard",
    "lion",
    "lizard",
    "lobster",
    "man",
    "maple_tree",
    "motorcycle",
    "mountain",
    "mouse",
    "mushroom",
    "oak_tree",
    "orange",
    "orchid",
    "otter",
    "palm_tree",
    "pear",
    "pickup_truck",
    "pine_tree",
    "plain",
    "plate",
    "poppy",
    "porcupine",
    "possum",
    "rabbit",
    "raccoon",
    "ray",
    "road",
    "rocket",
    "rose",
    "sea",
    "seal",
    "shark",
    "shrew",
    "skunk",
    "skyscraper",
    "snail",
    "snake",
    "spider",
    "squirrel",
    "streetcar",
    "sunflower",
    "sweet_pepper",
    "table",
    "tank",
    "telephone",
    "television",
    "tiger",
    "tractor",
    "train",
    "trout",
    "tulip",
    "turtle",
    "wardrobe",
    "whale",
    "willow_tree",
    "wolf",
    "woman",
    "worm",
)

#: Coarse label ``i`` is ``COARSE_CLASS_NAMES[i]`` (the order of ``coarse_label_names.txt``).
COARSE_CLASS_NAMES: tuple[str, ...] = (
    "aquatic_mammals",
    "fish",
    "flowers",
    "food_containers",
    "fruit_and_vegetables",
    "household_electrical_devices",
    "household_furniture",
    "insects",
    "large_carnivores",
    "large_man-made_outdoor_things",
    "large_natural_outdoor_scenes",
    "large_omnivores_and_herbivores",
    "medium_mammals",
    "non-insect_invertebrates",
    "people",
    "reptiles",
    "small_mammals",
    "trees",
    "vehicles_1",
    "vehicles_2",
)

#: The names of the default (``label_mode='fine'``) labels.
CLASS_NAMES = FINE_CLASS_NAMES

_FOLDER = "cifar-100-binary"
_LABEL_COLUMNS = {"coarse": 0, "fine": 1}  # each record starts with the coarse, then the fine label


def load_data(
    label_mode: str = "fine",
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load CIFAR-100 from its binary distribution, like ``keras.datasets.cifar100``.

    A local ``cifar-100-binary.tar.gz`` (or ``.tar``, or the extracted ``cifar-100-binary``
    folder) is looked for in ``$CNNKIT_DATA/cifar-100/``, the user cache and
    ``/usr/share/datasets/cifar-100/``; otherwise the 169 MB tarball is downloaded from
    https://www.cs.toronto.edu/~kriz/, checked against SHA-256 and cached.

    Args:
        label_mode: ``'fine'`` (100 classes, ``FINE_CLASS_NAMES``) or ``'coarse'``
            (20 superclasses, ``COARSE_CLASS_NAMES``).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: x uint8 ``(50000, 32, 32, 3)`` and
        ``(10000, 32, 32, 3)`` channels-last RGB; y uint8 ``(50000, 1)`` and ``(10000, 1)``.

    Raises:
        ValueError: ``label_mode`` is not ``'fine'`` or ``'coarse'``; the archive is damaged
            or a file is larger than the official one (50,000 / 10,000 records of 3,074 bytes).
        FileNotFoundError: No local copy and the download failed; says where to put the file.
    """
    if not isinstance(label_mode, str) or label_mode not in _LABEL_COLUMNS:
        raise ValueError(
            "cifar100.load_data: label_mode must be 'fine' or 'coarse'. "
            f"Received: label_mode={label_mode!r}"
        )
    (path,) = obtain("cifar-100")
    return load_cifar(
        path,
        [f"{_FOLDER}/train.bin"],
        f"{_FOLDER}/test.bin",
        label_bytes=2,
        label_column=_LABEL_COLUMNS[label_mode],
        num_classes=len(FINE_CLASS_NAMES if label_mode == "fine" else COARSE_CLASS_NAMES),
        train_records=50_000,
        test_records=10_000,
    )
