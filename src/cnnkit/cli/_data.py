"""Datasets by name or folder, prepared the one way every command feeds them to a model.

Images are scaled to [0, 1] here (float32, channels last) rather than inside the model, so a
model trained by ``cnnkit train`` expects [0, 1] inputs, and ``evaluate``/``predict`` scale the
same way. Keeping the uint8 arrays until the last moment keeps memory low for the kNN baseline.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

import numpy as np

from cnnkit._validation import did_you_mean
from cnnkit.cli._errors import CommandError, UsageError

#: Built-in dataset names accepted by ``--dataset`` (besides a folder of images).
DATASET_NAMES: tuple[str, ...] = ("digits", "mnist", "fashion_mnist", "cifar10", "cifar100")
FOLDER = "folder"
#: Share of a folder's images kept aside as its test set (a folder has no official split).
FOLDER_TEST_SPLIT = 0.2


@dataclass(frozen=True)
class Data:
    """A dataset's train and test images (uint8, (n, h, w, c)), integer labels and class names."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """(height, width, channels) of one image."""
        return tuple(int(s) for s in self.x_train.shape[1:])  # type: ignore[return-value]

    @property
    def num_classes(self) -> int:
        """Number of classes (from the class names, so absent classes still count)."""
        return len(self.class_names)


def dataset_kind(spec: str) -> str:
    """The dataset name for ``spec``, ``'folder'`` for a directory, or a ValueError that lists
    what is accepted (used as argparse's ``type=``, so a bad name is a usage error)."""
    name = spec.strip().lower().replace("-", "_")
    if name in DATASET_NAMES:
        return name
    if os.path.isdir(spec):
        return FOLDER
    if os.path.exists(spec):
        raise ValueError(f"{spec!r} is a file, not a folder of images (one sub-folder per class)")
    if _looks_like_path(spec):
        raise ValueError(
            f"folder not found: {os.path.abspath(spec)!r} (a dataset folder holds one "
            "sub-folder of images per class)"
        )
    raise ValueError(
        f"unknown dataset {spec!r}: use one of {', '.join(DATASET_NAMES)} or a folder of images "
        "(one sub-folder per class)" + did_you_mean(name, DATASET_NAMES)
    )


def _looks_like_path(spec: str) -> bool:
    """True for ``data/pets``, ``./pets`` or ``~/pets``: meant as a folder, not a dataset name."""
    separators = [sep for sep in (os.sep, os.altsep) if sep]
    return any(sep in spec for sep in separators) or spec.startswith((".", "~"))


def canonical_dataset(spec: str) -> str:
    """``spec`` as stored in a run's state: a built-in name, or the folder's absolute path."""
    kind = dataset_kind(spec)
    return os.path.abspath(spec) if kind == FOLDER else kind


def load(spec: str, image_size: tuple[int, int] | None = None) -> Data:
    """Load the dataset ``spec`` (a built-in name or a folder), resized to ``image_size``."""
    kind = dataset_kind(spec)
    if kind == FOLDER:
        return _load_folder(spec, image_size)
    from cnnkit import datasets

    module = getattr(datasets, kind)
    if kind == "digits":
        (x_train, y_train), (x_test, y_test) = module.load_data(image_size=image_size)
        image_size = None
    else:
        (x_train, y_train), (x_test, y_test) = module.load_data()
    x_train, x_test = (resize(_with_channels(x), image_size) for x in (x_train, x_test))
    return Data(
        kind,
        x_train,
        _labels(y_train),
        x_test,
        _labels(y_test),
        tuple(module.CLASS_NAMES),
    )


def _load_folder(path: str, image_size: tuple[int, int] | None) -> Data:
    """A class-per-sub-folder directory, split 80/20 with a fixed seed into train and test."""
    from cnnkit.datasets import image_folder

    try:
        train, test = image_folder(
            path,
            image_size=image_size,
            validation_split=FOLDER_TEST_SPLIT,
            subset="both",
            seed=0,
        )
    except ValueError as error:
        raise CommandError(f"--dataset {path}: {_in_flags(str(error))}") from error
    return Data(
        os.path.abspath(path),
        train.x,
        _labels(train.y),
        test.x,
        _labels(test.y),
        tuple(train.class_names),
    )


#: How ``image_folder``'s messages read in Python -> the same for the command line (regexes).
_PYTHON_TO_FLAGS: tuple[tuple[str, str], ...] = (
    (r"^image_folder: ", ""),
    (r"pass image_size=\(height, width\)", "pass --image-size H,W"),
    (r"\(pass on_error='skip' to skip such files\)", "(remove or replace that file)"),
    (
        r"^validation_split=\S+ of (\d+) images leaves .*",
        rf"\1 images are too few: {FOLDER_TEST_SPLIT:.0%} of a folder's images are kept aside "
        f"as its test set, so it needs at least {round(1 / FOLDER_TEST_SPLIT)}",
    ),
)


def _in_flags(message: str) -> str:
    """``image_folder``'s message with Python arguments turned into the command's flags."""
    for python, flag in _PYTHON_TO_FLAGS:
        message = re.sub(python, flag, message)
    return message


def _with_channels(x: np.ndarray) -> np.ndarray:
    return x[..., None] if x.ndim == 3 else x


def _labels(y: np.ndarray) -> np.ndarray:
    return np.asarray(y).reshape(-1).astype(np.int64)


def resize(x: np.ndarray, image_size: tuple[int, int] | None) -> np.ndarray:
    """uint8 (n, h, w, c) images resized bilinearly to ``image_size`` (unchanged if None)."""
    if image_size is None or tuple(x.shape[1:3]) == tuple(image_size):
        return x
    from cnnkit.datasets import resize_images

    return resize_images(x, image_size)


def scaled(x: np.ndarray) -> np.ndarray:
    """uint8 images as float32 in [0, 1], what every model trained by the command line expects."""
    return x.astype(np.float32) / np.float32(255)


def fit_to_model(x: np.ndarray, model_input: tuple[int, int, int], what: str) -> np.ndarray:
    """Resize uint8 images to the model's input size (with a printed notice); a channel mismatch
    is an error naming both, since guessing colours would silently hurt accuracy."""
    height, width, channels = model_input
    if x.shape[-1] != channels:
        raise CommandError(
            f"{what} has {x.shape[-1]}-channel images but the model expects {channels} channels"
        )
    if tuple(x.shape[1:3]) != (height, width):
        print(
            f"note: {what} images are {x.shape[1]}x{x.shape[2]}; resized to the model's "
            f"{height}x{width}"
        )
        return resize(x, (height, width))
    return x


def model_input_shape(model: object) -> tuple[int, int, int]:
    """(height, width, channels) a saved model takes, or an error for non-image models."""
    shape = tuple(getattr(model, "input_shape", None) or ())
    if len(shape) != 4 or any(s is None for s in shape[1:]):
        raise CommandError(
            f"the model's input shape {shape} is not (batch, height, width, channels); "
            "the command line handles image classifiers only"
        )
    return int(shape[1]), int(shape[2]), int(shape[3])


def load_for_model(
    spec: str, model_input: tuple[int, int, int], image_size: tuple[int, int] | None = None
) -> Data:
    """The dataset with its test images fitted to ``model_input`` (size and channels).

    Digits and folders are read at the model's size directly (a folder of mixed sizes has no
    size of its own); ``image_size`` (``--image-size``) must then agree with the model.
    """
    height, width, _ = model_input
    if image_size is not None and tuple(image_size) != (height, width):
        raise UsageError(
            f"--image-size {image_size[0]},{image_size[1]} differs from the model's input size "
            f"{height}x{width}; leave --image-size out to use the model's size"
        )
    if dataset_kind(spec) in ("digits", FOLDER):
        data = load(spec, (height, width))
    else:
        data = load(spec)
    x_test = fit_to_model(data.x_test, model_input, f"{data.name} test")
    return Data(data.name, data.x_train, data.y_train, x_test, data.y_test, data.class_names)


def checked_outputs(probabilities: np.ndarray, model_path: object) -> np.ndarray:
    """The model's outputs, or an error when some are NaN or infinite: its weights are broken
    (a run that diverged), and ranking NaN scores would print meaningless classes."""
    bad = ~np.isfinite(probabilities).all(axis=tuple(range(1, probabilities.ndim)))
    if bad.any():
        raise CommandError(
            f"{model_path} outputs NaN or infinite scores for {int(bad.sum()):,} of {len(bad):,} "
            "images, so its weights are probably broken (did its training diverge?); train it "
            "again, e.g. with a lower --lr"
        )
    return probabilities
