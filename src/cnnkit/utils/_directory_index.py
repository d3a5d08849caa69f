"""List a directory's image files with their labels in the order Keras lists them, and split.

With ``labels='inferred'`` the classes are the non-hidden sub-folders (sorted, or in the
order of ``class_names``) and each is walked recursively, folders sorted by path and files by
name; otherwise the directory itself is walked the same way. A shuffle uses
``numpy.random.RandomState(seed)`` on the whole list, and the validation subset is its last
``int(validation_split * n)`` files, so the files equal Keras' for the same seed. Hidden files
(``.name``, such as macOS' ``._photo.jpg``) are skipped, where Keras would fail to decode them.
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Sequence

import numpy as np

#: File name endings read as images (case-insensitive), Keras' list.
IMAGE_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")

_OWNER = "image_dataset_from_directory"


def index_directory(
    directory: str | os.PathLike,
    labels: str | Sequence[int] | None,
    class_names: Sequence[str] | None,
    follow_links: bool,
) -> tuple[list[str], np.ndarray | None, list[str] | None]:
    """The image files under ``directory``, their int32 labels, and the class names.

    Raises:
        FileNotFoundError: ``directory`` is not a directory.
        ValueError: ``class_names`` names missing sub-folders, or ``labels`` is a list whose
            length differs from the number of files found.
    """
    if not os.path.isdir(directory):
        raise FileNotFoundError(
            f"{_OWNER}: directory {str(directory)!r} does not exist or is not a directory"
        )
    if labels == "inferred":
        found = sorted(
            name
            for name in os.listdir(directory)
            if os.path.isdir(os.path.join(directory, name)) and not name.startswith(".")
        )
        names = _check_class_names(class_names, found)
    else:
        names = [""]  # labels given or none: the whole directory, whatever its folders
    files: list[str] = []
    inferred: list[int] = []
    for label, name in enumerate(names):
        found_files = _walk(os.path.join(directory, name), follow_links)
        files += [os.path.join(directory, name, relative) for relative in found_files]
        inferred += [label] * len(found_files)
    if labels == "inferred":
        return files, np.asarray(inferred, dtype=np.int32), list(names)
    if labels is None:
        return files, None, None
    given = np.asarray(labels, dtype=np.int32)
    if len(given) != len(files):
        raise ValueError(
            f"{_OWNER}: labels must have one label per image file: len(labels) is {len(given)} "
            f"while {len(files)} files were found in directory {str(directory)!r}"
        )
    return files, given, [str(label) for label in sorted(set(given.tolist()))]


def _check_class_names(class_names: object, found: list[str]) -> list[str]:
    """All sub-folders sorted, or ``class_names`` (a subset of them) in its own order."""
    if class_names is None:
        return found
    if isinstance(class_names, str) or not all(isinstance(n, str) for n in class_names):  # type: ignore[union-attr]
        raise TypeError(
            f"{_OWNER}: class_names must be a list of sub-folder names. Received: class_names={class_names!r}"
        )
    names = list(class_names)  # type: ignore[call-overload]
    if not set(names).issubset(found):
        raise ValueError(
            f"{_OWNER}: class_names must name sub-folders of the directory. Expected: {found} "
            f"(or a subset of it), but received: class_names={names}"
        )
    return names


def _walk(folder: str, follow_links: bool) -> list[str]:
    """Paths relative to ``folder`` of its image files, Keras' order."""
    out = []
    for root, _, filenames in sorted(os.walk(folder, followlinks=follow_links), key=lambda e: e[0]):
        relative = os.path.relpath(root, folder)
        for name in sorted(filenames):
            if name.lower().endswith(IMAGE_FORMATS) and not name.startswith("."):
                out.append(name if relative == os.curdir else os.path.join(relative, name))
    return out


def shuffle_files(
    files: list[str], labels: np.ndarray | None, seed: int
) -> tuple[list[str], np.ndarray | None]:
    """Keras' shuffle of the whole list: one RandomState(seed) permutation for both."""
    order = np.arange(len(files))
    np.random.RandomState(seed).shuffle(order)
    return [files[i] for i in order], None if labels is None else labels[order]


def check_split(validation_split: object, subset: object, shuffle: bool, seed: object) -> None:
    """Keras' rules for ``validation_split``, ``subset`` and ``seed``."""
    if validation_split is not None and (
        isinstance(validation_split, bool) or not isinstance(validation_split, numbers.Real)
    ):
        raise TypeError(
            f"{_OWNER}: validation_split must be a float in (0, 1). Received: validation_split={validation_split!r}"
        )
    if validation_split and not 0 < validation_split < 1:
        raise ValueError(
            f"{_OWNER}: validation_split must be between 0 and 1. Received: validation_split={validation_split}"
        )
    if subset not in ("training", "validation", "both", None):
        raise ValueError(
            f"{_OWNER}: subset must be 'training', 'validation', 'both' or None. Received: subset={subset!r}"
        )
    if bool(validation_split) != (subset is not None):
        raise ValueError(
            f"{_OWNER}: subset and validation_split go together: if subset is set, validation_split "
            f"must be set, and inversely. Received: validation_split={validation_split!r}, subset={subset!r}"
        )
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
        raise TypeError(f"{_OWNER}: seed must be an integer or None. Received: seed={seed!r}")
    if validation_split and shuffle and seed is None:
        raise ValueError(
            f"{_OWNER}: validation_split with shuffle=True needs a seed (e.g. seed=1337), so that the "
            "training and validation subsets do not overlap"
        )


def split(
    files: list[str], labels: np.ndarray | None, validation_split: float | None, subset: str | None
) -> tuple[list[str], np.ndarray | None]:
    """The ``subset`` ('training' or 'validation') of the files: validation is the tail."""
    if not validation_split:
        return files, labels
    cut = len(files) - int(validation_split * len(files))
    part = slice(None, cut) if subset == "training" else slice(cut, None)
    return files[part], None if labels is None else labels[part]
