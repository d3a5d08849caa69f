"""Stream the user's images from a class-per-folder directory, for folders too big for memory."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from ._folder_index import check_split_args, index_folder, split_index
from ._image_io import check_color_mode, load_image
from ._resize import check_image_size, check_interpolation

__all__ = ["ImageFolderDataset"]


class ImageFolderDataset(Dataset):
    """A ``torch.utils.data.Dataset`` reading one image file per item, for a ``DataLoader``.

    Files, labels, class order and the validation split are those of ``image_folder`` with the
    same arguments (``shuffle=True``); only the names of the files are held in memory.  Items
    come in class-then-file order (or the split's shuffled order); let the ``DataLoader``
    shuffle.  Batching with the default collate needs equal sizes: pass ``image_size``.

    Args:
        path: Directory with one sub-folder per class.
        image_size: ``(height, width)`` to resize to, or ``None`` to keep each file's size.
        color_mode: ``'rgb'``, ``'grayscale'`` or ``'rgba'``.
        validation_split: Fraction held out, in (0, 1); needs ``subset`` and ``seed``.
        subset: ``'training'`` or ``'validation'``.
        seed: Seed of the shuffle that precedes the split.
        class_names: Sub-folders to use, in label order (default: all, sorted).
        interpolation: ``'bilinear'`` (default) or ``'nearest'``.

    Attributes:
        class_names: Class names in label order.
        file_paths: The file of each item.
        labels: int64 ``(n,)`` label of each item.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        image_size: tuple[int, int] | None = None,
        color_mode: str = "rgb",
        validation_split: float | None = None,
        subset: str | None = None,
        seed: int | None = None,
        *,
        class_names: Sequence[str] | None = None,
        interpolation: str = "bilinear",
    ) -> None:
        owner = "ImageFolderDataset"
        self.image_size = check_image_size(image_size, owner)
        check_color_mode(color_mode, owner)
        self.color_mode = color_mode
        self.interpolation = check_interpolation(interpolation, owner)
        check_split_args(validation_split, subset, True, seed, allow_both=False, owner=owner)
        index = index_folder(path, class_names, owner)
        if validation_split:
            (index,) = split_index(index, validation_split, subset, True, seed)
        self.class_names: tuple[str, ...] = index.class_names
        self.file_paths: tuple[str, ...] = index.file_paths
        self.labels: np.ndarray = index.labels

    def __len__(self) -> int:
        """Return the number of image files."""
        return len(self.file_paths)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        """Return image ``i`` as uint8 ``(h, w, c)`` and its label.

        Raises:
            ValueError: The file cannot be decoded; the message names it.
        """
        image = load_image(self.file_paths[i], self.color_mode, self.image_size, self.interpolation)
        return torch.from_numpy(image), int(self.labels[i])
