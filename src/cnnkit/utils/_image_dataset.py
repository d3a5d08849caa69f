"""Keras' ``image_dataset_from_directory``: a folder of images as a lazy dataset of batches."""

from __future__ import annotations

import contextlib
import functools
import itertools
import math
import os
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch

from cnnkit._dataset import Dataset
from cnnkit._parallel import (
    can_fork,
    check_workers,
    ordered_process_map,
    threads_beside,
    workers_from_environment,
)
from cnnkit.datasets import load_image
from cnnkit.datasets._image_io import check_color_mode, quiet_pixel_warnings
from cnnkit.datasets._resize import check_image_size
from cnnkit.layers import Resizing
from cnnkit.utils._directory_index import (
    IMAGE_FORMATS,
    check_split,
    index_directory,
    shuffle_files,
    split,
)

_OWNER = "image_dataset_from_directory"
_LABEL_MODES = ("int", "categorical", "binary", None)
_INTERPOLATIONS = ("bilinear", "nearest", "bicubic")

#: Fewer files than this are decoded in-process by default: starting worker processes
#: (forked, tens of milliseconds) costs more than they save on a small set.
_PROCESSES_FROM_FILES = 1000
#: Files a worker process reads per task when the dataset gives single images
#: (``batch_size=None``): one file per task would cost more in messages than in decoding.
_SINGLES_PER_TASK = 32
#: At most this many worker processes by default: two to four decode small images as fast
#: as the training step takes them.
_MAX_DEFAULT_PROCESSES = 4


def image_dataset_from_directory(
    directory: str | os.PathLike,
    labels: str | Sequence[int] | None = "inferred",
    label_mode: str | None = "int",
    class_names: Sequence[str] | None = None,
    color_mode: str = "rgb",
    batch_size: int | None = 32,
    image_size: int | tuple[int, int] = (256, 256),
    shuffle: bool = True,
    seed: int | None = None,
    validation_split: float | None = None,
    subset: str | None = None,
    interpolation: str = "bilinear",
    follow_links: bool = False,
    crop_to_aspect_ratio: bool = False,
    pad_to_aspect_ratio: bool = False,
    data_format: str | None = None,
    verbose: bool = True,
    *,
    num_workers: int | None = None,
) -> Dataset | list[Dataset]:
    """Read ``directory/<class name>/<images>`` as batches for ``fit``, lazily, as Keras does.

    Files, labels, class order, the shuffle and the validation split equal Keras' for the
    same ``seed``. Each image is decoded when its batch is asked for (PNG, JPEG, BMP, GIF,
    read safely by ``cnnkit.datasets.load_image``), converted to ``color_mode`` and resized to
    ``image_size`` in float32, as ``keras.ops.image.resize`` does, so values are 0..255 and
    not rounded. Batches are decoded in worker processes a few batches ahead (``num_workers``,
    as PyTorch's ``DataLoader``); the whole set is never held in memory. A shuffled dataset is
    shuffled again at every pass (a buffer of ``8 * batch_size`` files), as Keras' is.

    Args:
        directory: With ``labels='inferred'``, one sub-folder per class (searched
            recursively); otherwise any folder of images.
        labels: ``'inferred'`` (from the sub-folders), a list of integer labels, one per
            image file in the sorted order of the paths, or None (images only).
        label_mode: ``'int'`` (int32 ``(batch,)``), ``'categorical'`` (float32 one-hot
            ``(batch, classes)``), ``'binary'`` (float32 ``(batch, 1)``; two classes) or
            None (images only).
        class_names: With ``labels='inferred'``: the sub-folders to use, in label order.
        color_mode: ``'grayscale'``, ``'rgb'`` or ``'rgba'`` (1, 3 or 4 channels).
        batch_size: Images per batch, or None for single images.
        image_size: ``(height, width)`` (or one int for both) every image is resized to.
        shuffle: Shuffle the files (else: sorted order).
        seed: Seed of the shuffle; needed with ``validation_split`` when shuffling.
        validation_split: Fraction in (0, 1) of the files kept for validation.
        subset: ``'training'``, ``'validation'`` or ``'both'`` (a ``[training, validation]``
            list), only with ``validation_split``.
        interpolation: ``'bilinear'``, ``'nearest'`` or ``'bicubic'``.
        follow_links: Also walk sub-folders that are symbolic links.
        crop_to_aspect_ratio: Crop the centre to the target's aspect ratio before resizing.
        pad_to_aspect_ratio: Pad with zeros to the target's aspect ratio before resizing.
        data_format: ``'channels_last'`` (default) or ``'channels_first'``.
        verbose: Print how many files and classes were found.
        num_workers: Worker processes decoding the files of whole batches (to uint8; the
            float32 conversion and resize stay in the calling process), at most
            ``2 * num_workers`` batches ahead of the one asked for; 0 decodes in the calling
            thread, one batch at a time. Default: ``$CNNKIT_DATA_WORKERS``; else min(4, CPU
            cores) processes for 1,000 files or more on Linux with several cores (forked
            workers start in milliseconds), and 0 otherwise, where starting them would cost
            more than they save. While a pass's workers run, PyTorch's intra-op threads
            (``torch.set_num_threads``) are lowered to the cores they leave, at least one,
            and put back when the pass ends: threads that outnumber the free cores wait for
            each other (on 2 cores, fit's first epoch took 9-11x a plain Pillow loop with 2
            PyTorch threads beside 2 workers, 1.1-1.2x with the threads lowered to 1, and
            1.4-1.8x with no workers). Processes, not threads: for small images the Python work around
            each decode holds the GIL, and threads were slower than one (on 2 cores, 20,000
            64x64 JPEGs: threads 1.6x a plain Pillow loop's time, one thread 1.2x, two
            processes 1.0x). The batches are the same whatever the number; the processes
            start and end with each pass over the dataset (``take``, ``break`` and garbage
            collection end them too).

    Returns:
        A ``cnnkit.utils.Dataset`` yielding ``(images, labels)`` (images alone without labels)
        with ``class_names`` and ``file_paths``; two of them when ``subset='both'``.

    Example:
        >>> train = image_dataset_from_directory("pets", image_size=(180, 180))  # doctest: +SKIP
        >>> model.fit(train, epochs=3)  # doctest: +SKIP
    """
    labels, label_mode = _check_labels(labels, label_mode, class_names)
    check_color_mode(color_mode, _OWNER)
    size = _check_size(image_size)
    _check_options(
        batch_size, interpolation, crop_to_aspect_ratio, pad_to_aspect_ratio, data_format
    )
    check_split(validation_split, subset, shuffle, seed)
    if seed is None:
        seed = int(np.random.randint(1e6))  # Keras draws it from NumPy's global generator
    files, file_labels, names = index_directory(directory, labels, class_names, follow_links)
    if verbose:
        classes = f" belonging to {len(names)} classes" if names is not None else ""
        print(f"Found {len(files)} files{classes}.")
    if label_mode == "binary" and len(names or ()) != 2:
        raise ValueError(
            f"{_OWNER}: label_mode='binary' needs exactly 2 classes. Received: class_names={names}"
        )
    if shuffle:
        files, file_labels = shuffle_files(files, file_labels, seed)
    if validation_split and int(validation_split * len(files)) == 0 and files:
        raise ValueError(
            f"{_OWNER}: validation_split={validation_split} of {len(files)} files leaves none for "
            "validation; use a larger split or more files"
        )
    loader = _ImageLoader(
        color_mode, size, interpolation, crop_to_aspect_ratio, pad_to_aspect_ratio
    )
    if num_workers is None:
        workers = _default_processes(len(files))
    else:
        workers = check_workers(num_workers, _OWNER)
    decode = _Decode(loader, label_mode, len(names or ()), data_format == "channels_first", workers)
    subsets = ["training", "validation"] if subset == "both" else [subset]
    datasets = []
    for part in subsets:
        part_files, part_labels = split(files, file_labels, validation_split, part)
        if not part_files:
            which = f"{part} " if part else ""
            raise ValueError(
                f"{_OWNER}: no {which}images found in directory {str(directory)!r}. "
                f"Allowed formats: {IMAGE_FORMATS}"
            )
        if verbose and part:
            print(f"Using {len(part_files)} files for {part}.")
        reshuffle = shuffle and part != "validation" if subset == "both" else shuffle
        datasets.append(
            _dataset(part_files, part_labels, decode, batch_size, reshuffle, seed, names)
        )
    return datasets if subset == "both" else datasets[0]


def _dataset(
    files: list[str],
    labels: np.ndarray | None,
    decode: _Decode,
    batch_size: int | None,
    shuffle: bool,
    seed: int,
    class_names: list[str] | None,
) -> Dataset:
    """The lazy dataset of ``files``: indices shuffled here, then read and made elements by
    :func:`_elements`."""
    indices = Dataset(lambda: iter(range(len(files))), len(files))
    if shuffle:
        indices = indices.shuffle(8 * batch_size if batch_size else 1024, seed=seed)

    def source() -> Iterator[Any]:
        return _elements(files, labels, decode, iter(indices), batch_size)

    if batch_size is None:
        dataset = Dataset(source, len(files))
    else:
        length = math.ceil(len(files) / batch_size)
        dataset = Dataset(source, length, batch_size=batch_size, samples=len(files))
    dataset.class_names, dataset.file_paths = class_names, list(files)
    return dataset


def _elements(
    files: list[str],
    labels: np.ndarray | None,
    decode: _Decode,
    indices: Iterator[int],
    batch_size: int | None,
) -> Iterator[Any]:
    """The elements of one pass: the files of each group of ``indices`` read by
    :func:`read_pixels` in ``decode.workers`` processes (``ordered_process_map``), in order,
    a few groups ahead, and made batches (or single images) here."""
    size = batch_size or (_SINGLES_PER_TASK if decode.workers else 1)
    groups = iter(lambda: list(itertools.islice(indices, size)), [])
    mine, theirs = itertools.tee(groups)  # the groups in flight wait in the tee
    read = functools.partial(read_pixels, decode.loader.color_mode)
    paths = ([files[i] for i in group] for group in theirs)
    if decode.workers == 0:
        pixels: Iterator[Any] = map(read, paths)
    else:
        pixels = ordered_process_map(read, paths, decode.workers)
    beside = threads_beside(decode.workers) if decode.workers else contextlib.nullcontext()
    try:
        with beside:
            for group, group_pixels in zip(mine, pixels):
                if batch_size:
                    yield decode.batch(labels, group, group_pixels)
                    continue
                for i, index in enumerate(group):  # a group of single images
                    yield decode.one(labels, [index], group_pixels[i : i + 1])
    finally:
        if not isinstance(pixels, map):
            pixels.close()  # the worker processes end with the pass, however it ends


def _default_processes(files: int) -> int:
    """Worker processes when ``num_workers`` is not given: ``$CNNKIT_DATA_WORKERS``, else
    min(4, cores) for a set large enough to pay their start where they fork, else none (the
    pass lowers PyTorch's threads beside them: :func:`threads_beside`)."""
    from_environment = workers_from_environment()
    if from_environment is not None:
        return from_environment
    cores = os.cpu_count() or 1
    if cores < 2 or files < _PROCESSES_FROM_FILES or not can_fork():
        return 0
    return min(_MAX_DEFAULT_PROCESSES, cores)


def read_pixels(color_mode: str, paths: list[str]) -> np.ndarray | list[np.ndarray]:
    """The files at ``paths`` as uint8 ``(h, w, channels)`` arrays, stacked when they have one
    size. Runs in a worker process: NumPy and Pillow only, no PyTorch."""
    pixels = []
    with quiet_pixel_warnings():
        for path in paths:
            try:
                pixels.append(load_image(path, color_mode))
            except ValueError as error:
                raise ValueError(f"{_OWNER}: {error}") from error
    if all(p.shape == pixels[0].shape for p in pixels):
        return np.stack(pixels)
    return pixels


class _Decode:
    """Pixels read from files to elements: ``images`` or ``(images, labels)`` in the label
    mode's form."""

    def __init__(
        self,
        loader: _ImageLoader,
        label_mode: str | None,
        classes: int,
        first: bool,
        workers: int,
    ):
        self.loader, self.label_mode, self.classes, self.first = loader, label_mode, classes, first
        self.workers = workers

    def batch(
        self, labels: np.ndarray | None, group: list[int], pixels: np.ndarray | list[np.ndarray]
    ) -> Any:
        """The batch of the files at ``group``, read as ``pixels`` (:func:`read_pixels`):
        images ``(n, height, width, channels)``."""
        images = self.loader(pixels)
        if self.first:
            images = images.permute(0, 3, 1, 2).contiguous()
        if self.label_mode is None:
            return images
        values = np.asarray([labels[i] for i in group], dtype=np.int64)
        if self.label_mode == "int":
            return images, torch.from_numpy(values.astype(np.int32))
        if self.label_mode == "binary":
            return images, torch.from_numpy(values.astype(np.float32)[:, None])
        one_hot = torch.zeros(len(group), self.classes, dtype=torch.float32)
        inside = (values >= 0) & (values < self.classes)  # as tf.one_hot: out of range is zeros
        rows = torch.from_numpy(np.flatnonzero(inside))
        one_hot[rows, torch.from_numpy(values[inside])] = 1.0
        return images, one_hot

    def one(
        self, labels: np.ndarray | None, group: list[int], pixels: np.ndarray | list[np.ndarray]
    ) -> Any:
        """The single element of the one file at ``group``."""
        element = self.batch(labels, group, pixels)
        if isinstance(element, tuple):
            return tuple(part[0] for part in element)
        return element[0]


class _ImageLoader:
    """Resize images read safely (:func:`read_pixels`) in float32, as Keras' image loader
    does."""

    def __init__(
        self, color_mode: str, size: tuple[int, int], interpolation: str, crop: bool, pad: bool
    ):
        self.color_mode, self.size = color_mode, size
        self.resize = Resizing(
            size[0],
            size[1],
            interpolation=interpolation,
            crop_to_aspect_ratio=crop,
            pad_to_aspect_ratio=pad,
        )

    def __call__(self, pixels: np.ndarray | list[np.ndarray]) -> torch.Tensor:
        """uint8 images, stacked or a list of sizes: float32 ``(n, height, width, channels)``,
        values 0..255.

        Images of one size are resized together (the same values as one by one: each image
        is resized on its own by the kernel).
        """
        if isinstance(pixels, np.ndarray):
            return self._resize(pixels)
        return torch.cat([self._resize(p[None]) for p in pixels])

    def _resize(self, pixels: np.ndarray) -> torch.Tensor:
        # NumPy converts the whole batch in one call on this thread; PyTorch would start its
        # intra-op threads, which on a busy machine wait for each other longer than the work
        images = torch.from_numpy(pixels.astype(np.float32))
        if pixels.shape[1:3] == self.size:
            return images  # resizing, cropping or padding to the image's own size changes nothing
        with torch.no_grad():
            # forward, not the layer's __call__, which records shapes on the layer
            return self.resize.forward(images)


def _check_labels(labels: Any, label_mode: Any, class_names: Any) -> tuple[Any, str | None]:
    """Keras' rules for labels, label_mode and class_names; None in either means no labels."""
    if not (labels is None or (isinstance(labels, str) and labels == "inferred")):
        if isinstance(labels, str) or not isinstance(labels, (list, tuple, np.ndarray)):
            raise ValueError(
                f"{_OWNER}: labels must be 'inferred' (from the sub-folder names), None (no "
                "labels), or a list/tuple of integer labels, one per image file in the directory. "
                f"Received: labels={labels!r}"
            )
        if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in labels):
            raise TypeError(f"{_OWNER}: labels must be integers. Received: labels={list(labels)!r}")
        if class_names is not None:
            raise ValueError(
                f"{_OWNER}: class_names can only be passed with labels='inferred'. "
                f"Received: labels={labels!r}, class_names={class_names!r}"
            )
    elif labels is None and class_names is not None:
        raise ValueError(f"{_OWNER}: class_names cannot be passed with labels=None (no labels)")
    if label_mode not in _LABEL_MODES:
        raise ValueError(
            f"{_OWNER}: label_mode must be 'int', 'categorical', 'binary' or None. "
            f"Received: label_mode={label_mode!r}"
        )
    if labels is None or label_mode is None:
        return None, None
    return labels if isinstance(labels, str) else [int(v) for v in labels], label_mode


def _check_size(image_size: object) -> tuple[int, int]:
    """``image_size`` as (height, width); one int means a square."""
    if isinstance(image_size, (int, np.integer)) and not isinstance(image_size, bool):
        image_size = (int(image_size), int(image_size))
    if image_size is None:
        raise TypeError(
            f"{_OWNER}: image_size must be a pair of integers (height, width). Received: image_size=None"
        )
    return check_image_size(image_size, _OWNER)  # type: ignore[return-value]


def _check_options(
    batch_size: object, interpolation: object, crop: object, pad: object, data_format: object
) -> None:
    """Check the arguments that shape the images and batches."""
    if batch_size is not None and (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, (int, np.integer))
        or batch_size < 1
    ):
        raise ValueError(
            f"{_OWNER}: batch_size must be a positive integer or None (single images). "
            f"Received: batch_size={batch_size!r}"
        )
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(
            f"{_OWNER}: interpolation must be one of {_INTERPOLATIONS}. Received: interpolation={interpolation!r}"
        )
    if crop and pad:
        raise ValueError(
            f"{_OWNER}: only one of crop_to_aspect_ratio and pad_to_aspect_ratio can be True"
        )
    if data_format not in (None, "channels_last", "channels_first"):
        raise ValueError(
            f"{_OWNER}: data_format must be 'channels_last', 'channels_first' or None. "
            f"Received: data_format={data_format!r}"
        )
