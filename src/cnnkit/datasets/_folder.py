"""Load the user's own images, one sub-folder per class, into NumPy arrays."""

from __future__ import annotations

import os
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ._folder_index import FolderIndex, check_split_args, index_folder, split_index
from ._image_io import check_color_mode, load_image
from ._resize import check_image_size, check_interpolation

__all__ = ["ImageFolderData", "image_folder"]

_ON_ERROR = ("raise", "skip")
_OWNER = "image_folder"


@dataclass(frozen=True, eq=False)
class ImageFolderData:
    """Images of one subset of a class-per-folder directory, ready for ``model.fit(x, y)``.

    Attributes:
        x: uint8 ``(n, height, width, channels)`` channels-last images.
        y: int64 ``(n,)`` labels; ``y[i]`` indexes ``class_names``.
        class_names: Class folder names, label order (alphabetical unless given).
        file_paths: The file each image came from (to inspect misclassified images).
    """

    x: np.ndarray
    y: np.ndarray
    class_names: tuple[str, ...]
    file_paths: tuple[str, ...]

    def __len__(self) -> int:
        """Return the number of images."""
        return len(self.y)


def image_folder(
    path: str | os.PathLike,
    image_size: tuple[int, int] | None = None,
    color_mode: str = "rgb",
    validation_split: float | None = None,
    subset: str | None = None,
    seed: int | None = None,
    *,
    shuffle: bool = True,
    class_names: Sequence[str] | None = None,
    interpolation: str = "bilinear",
    on_error: str = "raise",
) -> ImageFolderData | tuple[ImageFolderData, ImageFolderData]:
    """Load ``path/<class name>/<images>`` into arrays, like Keras' image_dataset_from_directory.

    PNG, JPEG, BMP and GIF files are read with Pillow (other files are ignored); a file must be
    a regular file whose content is the format its ending names, within Pillow's pixel limit
    (``PIL.Image.MAX_IMAGE_PIXELS``), and 16-bit grayscale keeps its high byte.  Labels follow
    the alphabetical order of the class folders; shuffling and the validation split pick the
    same files as Keras for the same ``seed``.

    Args:
        path: Directory with one sub-folder per class (sub-folders of those are included).
        image_size: ``(height, width)`` to resize every image to, or ``None`` to keep the
            files' own size, which must then be the same for all of them.
        color_mode: ``'rgb'`` (3 channels), ``'grayscale'`` (1) or ``'rgba'`` (4).
        validation_split: Fraction of the images held out, in (0, 1); needs ``subset``.
        subset: ``'training'``, ``'validation'`` or ``'both'`` (returns both, in that order).
        seed: Shuffling seed; required with ``validation_split`` when ``shuffle``.
        shuffle: Shuffle the images (else: class order, then file order).
        class_names: Sub-folders to use, in label order (default: all, sorted).
        interpolation: ``'bilinear'`` (default, as Keras) or ``'nearest'``.
        on_error: ``'raise'`` on an unreadable image, or ``'skip'`` it with a warning.

    Returns:
        An ``ImageFolderData`` (``x``, ``y``, ``class_names``, ``file_paths``), or a
        ``(training, validation)`` pair of them when ``subset='both'``.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: No class folders, an empty class folder, an unreadable, disguised or
            oversized image, a pipe or device named like an image (with
            ``on_error='raise'``), differing sizes without ``image_size``, or invalid arguments.
        TypeError: An argument has the wrong type.
    """
    size = check_image_size(image_size, _OWNER)
    check_color_mode(color_mode, _OWNER)
    interpolation = check_interpolation(interpolation, _OWNER)
    if on_error not in _ON_ERROR:
        raise ValueError(
            f"{_OWNER}: on_error must be 'raise' or 'skip'. Received: on_error={on_error!r}"
        )
    check_split_args(validation_split, subset, shuffle, seed, allow_both=True, owner=_OWNER)
    index = index_folder(path, class_names, _OWNER)
    subsets = split_index(index, validation_split, subset, shuffle, seed)
    loaded = [_load(s, size, color_mode, interpolation, on_error) for s in subsets]
    return loaded[0] if len(loaded) == 1 else (loaded[0], loaded[1])


def _load(
    index: FolderIndex,
    size: tuple[int, int] | None,
    color_mode: str,
    interpolation: str,
    on_error: str,
) -> ImageFolderData:
    """Decode every file of ``index``; skip or raise on unreadable ones; check sizes."""
    images, kept, skipped = [], [], []
    for i, file_path in enumerate(index.file_paths):
        try:
            images.append(load_image(file_path, color_mode, size, interpolation))
        except ValueError as exc:
            if on_error == "raise":
                raise ValueError(
                    f"{_OWNER}: {exc} (pass on_error='skip' to skip such files)"
                ) from exc
            skipped.append(file_path)
            continue
        kept.append(i)
    if skipped:
        warnings.warn(
            f"image_folder skipped {len(skipped)} unreadable file(s):\n  " + "\n  ".join(skipped),
            stacklevel=3,
        )
    if not images:
        raise ValueError(f"{_OWNER}: none of the {len(index.file_paths)} image files could be read")
    _check_same_size(images, [index.file_paths[i] for i in kept])
    return ImageFolderData(
        x=np.stack(images),
        y=index.labels[kept],
        class_names=index.class_names,
        file_paths=tuple(index.file_paths[i] for i in kept),
    )


def _check_same_size(images: list[np.ndarray], file_paths: list[str]) -> None:
    """Raise a ValueError naming example files when the images differ in height/width."""
    sizes = Counter(image.shape[:2] for image in images)
    if len(sizes) == 1:
        return
    examples = {}
    for image, file_path in zip(images, file_paths, strict=True):
        examples.setdefault(image.shape[:2], file_path)
    listing = "; ".join(f"{n} of {h}x{w} (e.g. {examples[(h, w)]})" for (h, w), n in sizes.items())
    raise ValueError(
        f"{_OWNER}: images differ in size ({listing}); pass image_size=(height, width) to resize them"
    )
