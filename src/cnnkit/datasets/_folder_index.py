"""List a class-per-folder image directory and split it, with the rules and order of Keras.

Classes are the non-hidden sub-folders of the directory, sorted alphabetically (or in the
order of an explicit ``class_names``); each class folder is walked recursively, directories
sorted by path and files by name, keeping files ending in ``IMAGE_EXTENSIONS``.  Hidden files
(names starting with ``'.'``, such as macOS ``._photo.jpg``) are ignored.  A shuffle with
``seed`` and a validation split take the same files as ``keras.utils.image_dataset_from_directory``
(``numpy.random.RandomState(seed)``; the last ``int(validation_split * n)`` files validate).
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._image_io import IMAGE_EXTENSIONS

__all__ = ["FolderIndex", "index_folder", "check_split_args", "split_index"]


def _p(owner: str) -> str:
    """``"image_folder: "`` for an owner, so messages name where the input entered."""
    return f"{owner}: " if owner else ""


@dataclass(frozen=True, eq=False)
class FolderIndex:
    """Image files of a directory with their integer labels."""

    file_paths: tuple[str, ...]
    labels: np.ndarray  # int64 (n,)
    class_names: tuple[str, ...]

    def take(self, order: np.ndarray) -> FolderIndex:
        """Return the files at positions ``order``, in that order."""
        return FolderIndex(
            tuple(self.file_paths[i] for i in order), self.labels[order], self.class_names
        )


def index_folder(
    path: str | os.PathLike, class_names: Sequence[str] | None = None, owner: str = ""
) -> FolderIndex:
    """List the image files under ``path/<class>/`` with labels in class order.

    Raises:
        TypeError: ``path`` is not a path or ``class_names`` not a sequence of strings.
        FileNotFoundError: ``path`` does not exist.
        ValueError: ``path`` is not a directory, has no class folders, a class folder holds no
            image, or ``class_names`` names a missing folder.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{_p(owner)}path must be a directory path. Received: path={path!r}")
    root = Path(path)
    if not root.exists():
        raise FileNotFoundError(f"{_p(owner)}image folder {str(path)!r} does not exist")
    if not root.is_dir():
        raise ValueError(
            f"{_p(owner)}path must be a directory with one sub-folder per class; {str(path)!r} is a file"
        )
    found = sorted(e.name for e in os.scandir(root) if e.is_dir() and not e.name.startswith("."))
    if not found:
        raise ValueError(
            f"{_p(owner)}{str(path)!r} has no class sub-folders: expected {os.path.join(path, '<class name>')}"
            f"{os.sep}<image files>, one sub-folder per class"
        )
    names = _check_class_names(class_names, found, path, owner)
    files, labels, empty = [], [], []
    for label, name in enumerate(names):
        class_files = _list_images(root / name, os.path.join(path, name))
        files += class_files
        labels += [label] * len(class_files)
        if not class_files:
            empty.append(name)
    if empty:
        raise ValueError(
            f"{_p(owner)}class folder(s) {', '.join(map(repr, empty))} in {str(path)!r} hold no image "
            f"files ({', '.join(IMAGE_EXTENSIONS)}); remove them or add images"
        )
    return FolderIndex(tuple(files), np.asarray(labels, dtype=np.int64), tuple(names))


def _check_class_names(
    class_names: object, found: list[str], path: object, owner: str = ""
) -> list[str]:
    """Return the class folders to use: all sorted, or ``class_names`` in its own order."""
    if class_names is None:
        return found
    if isinstance(class_names, str) or not all(isinstance(n, str) for n in class_names):
        raise TypeError(
            f"{_p(owner)}class_names must be a list of folder names. Received: class_names={class_names!r}"
        )
    names = list(class_names)
    unknown = [n for n in names if n not in found]
    if unknown or len(set(names)) != len(names) or not names:
        raise ValueError(
            f"{_p(owner)}class_names must name distinct sub-folders of {str(path)!r} ({found}). "
            f"Received: class_names={names!r}"
        )
    return names


def _list_images(folder: Path, prefix: str) -> list[str]:
    """Return ``prefix``-joined paths of the image files under ``folder``, Keras' order."""
    out = []
    for dirpath, _, filenames in sorted(os.walk(folder), key=lambda entry: entry[0]):
        relative = os.path.relpath(dirpath, folder)
        for fname in sorted(filenames):
            if fname.lower().endswith(IMAGE_EXTENSIONS) and not fname.startswith("."):
                parts = (prefix, fname) if relative == os.curdir else (prefix, relative, fname)
                out.append(os.path.join(*parts))
    return out


def check_split_args(
    validation_split: object,
    subset: object,
    shuffle: bool,
    seed: object,
    *,
    allow_both: bool,
    owner: str = "",
) -> None:
    """Apply Keras' rules to ``validation_split``, ``subset`` and ``seed``.

    Raises:
        TypeError: ``validation_split`` is not a number or ``seed`` not an integer.
        ValueError: The combination is invalid (see the message).
    """
    if validation_split is not None and (
        not isinstance(validation_split, numbers.Real) or isinstance(validation_split, bool)
    ):
        raise TypeError(
            f"{_p(owner)}validation_split must be a float in (0, 1). Received: validation_split={validation_split!r}"
        )
    if validation_split and not 0 < validation_split < 1:
        raise ValueError(
            f"{_p(owner)}validation_split must be between 0 and 1. "
            f"Received: validation_split={validation_split}"
        )
    subsets = ("training", "validation", "both") if allow_both else ("training", "validation")
    if subset is not None and subset not in subsets:
        raise ValueError(
            f"{_p(owner)}subset must be one of {subsets} or None. Received: subset={subset!r}"
        )
    if bool(validation_split) != (subset is not None):
        raise ValueError(
            f"{_p(owner)}If subset is set, validation_split must be set, and inversely. "
            f"Received: validation_split={validation_split!r}, subset={subset!r}"
        )
    if seed is not None and (not isinstance(seed, numbers.Integral) or isinstance(seed, bool)):
        raise TypeError(f"{_p(owner)}seed must be an integer or None. Received: seed={seed!r}")
    if validation_split and shuffle and seed is None:
        raise ValueError(
            f"{_p(owner)}validation_split with shuffling needs a seed (e.g. seed=1337), so that the training "
            "and validation subsets do not overlap between calls"
        )


def split_index(
    index: FolderIndex,
    validation_split: float | None,
    subset: str | None,
    shuffle: bool,
    seed: int | None,
) -> list[FolderIndex]:
    """Shuffle with ``seed`` (if ``shuffle``) and cut off the validation files.

    Returns:
        One index, or two (training, validation) when ``subset == 'both'``.
    """
    n = len(index.file_paths)
    order = np.arange(n)
    if shuffle:
        rng_seed = seed if seed is not None else int(np.random.default_rng().integers(1_000_000))
        np.random.RandomState(rng_seed).shuffle(order)
    index = index.take(order)
    if not validation_split:
        return [index]
    num_val = int(validation_split * n)
    if not 0 < num_val < n:
        raise ValueError(
            f"validation_split={validation_split} of {n} images leaves "
            f"{num_val} for validation and {n - num_val} for training; both need at least one"
        )
    training, validation = index.take(np.arange(n - num_val)), index.take(np.arange(n - num_val, n))
    return {"training": [training], "validation": [validation]}.get(subset, [training, validation])
