"""Keras 2's image iterators: endless batches from arrays (``flow``) or image folders
(``flow_from_directory``), also a Keras Sequence (``len``, ``gen[i]``, ``on_epoch_end``).

``next(gen)`` and ``for batch in gen`` go on for ever, epoch after epoch, as in Keras 2. Each
iterator is also a batched ``cnnkit.utils.Dataset``, so ``model.fit(gen, epochs=...)`` takes
``len(gen)`` batches per epoch (fewer with ``steps_per_epoch``) from the stream.
"""

from __future__ import annotations

import os
from collections.abc import Iterator as TypingIterator
from typing import Any

import numpy as np

from cnnkit._dataset import Dataset
from cnnkit._validation import check_bool, check_choice, check_int, check_positive_int
from cnnkit.preprocessing._transforms import draw_transform
from cnnkit.utils import img_to_array, load_img
from cnnkit.utils._directory_index import _walk

CLASS_MODES = ("categorical", "binary", "sparse", "input")
_CHANNELS = {"rgb": 3, "rgba": 4, "grayscale": 1}


class Iterator(Dataset):
    """The batch order shared by both iterators: a permutation per epoch when shuffling,
    drawn (with the transformations) from ``seed + batches seen`` when a seed is given.

    Attributes:
        n: Number of samples. batch_size: Samples per batch (the last batch may be smaller).
    """

    def __init__(self, n: int, batch_size: int, shuffle: bool, seed: int | None, owner: str):
        self.n = n
        self.batch_size = check_positive_int(batch_size, "batch_size", owner)
        self.shuffle = check_bool(shuffle, "shuffle", owner)
        self.seed = check_int(seed, "seed", owner, minimum=0, optional=True)
        self.batch_index = 0
        self.total_batches_seen = 0
        self.index_array: np.ndarray | None = None
        self._rng = np.random.RandomState(seed)
        self._stream = self._flow_index()
        length = -(-n // self.batch_size)
        super().__init__(lambda: self, length, batch_size=self.batch_size, samples=n)

    def _batch_rng(self) -> np.random.RandomState:
        """The random state of the next batch: reproducible per batch with a seed."""
        if self.seed is not None:
            self._rng = np.random.RandomState(self.seed + self.total_batches_seen)
        return self._rng

    def _set_index_array(self) -> None:
        self.index_array = self._rng.permutation(self.n) if self.shuffle else np.arange(self.n)

    def on_epoch_end(self) -> None:
        """A new order for the next epoch (Keras' Sequence hook)."""
        self._set_index_array()

    def reset(self) -> None:
        """Start the endless stream again at the first batch of an epoch."""
        self.batch_index = 0

    def __getitem__(self, index: int) -> Any:
        """Batch ``index`` of the current epoch's order (0 <= index < len(self))."""
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"index must be an int. Received: index={index!r}")
        if not 0 <= index < len(self):
            raise IndexError(
                f"index must be in [0, {len(self)}) for this iterator of {len(self)} batches. "
                f"Received: index={index}"
            )
        rng = self._batch_rng()
        self.total_batches_seen += 1
        if self.index_array is None:
            self._set_index_array()
        chosen = self.index_array[self.batch_size * index : self.batch_size * (index + 1)]
        return self._batches_of(chosen, rng)

    def _flow_index(self) -> TypingIterator[tuple[np.ndarray, np.random.RandomState]]:
        """The samples of each batch, for ever, a new epoch after the last (smaller) batch."""
        self.reset()
        while True:
            rng = self._batch_rng()
            if self.batch_index == 0:
                self._set_index_array()
            start = (self.batch_index * self.batch_size) % max(self.n, 1)
            self.batch_index = self.batch_index + 1 if self.n > start + self.batch_size else 0
            self.total_batches_seen += 1
            yield self.index_array[start : start + self.batch_size], rng

    def __iter__(self) -> Iterator:
        return self

    def __next__(self) -> Any:
        return self._batches_of(*next(self._stream))

    def next(self) -> Any:
        """The next batch (Keras 2's spelling of ``next(gen)``)."""
        return next(self)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.n} samples in batches of {self.batch_size}>"

    def _transformed(self, images: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
        """The generator's random transformation and standardisation of each image."""
        generator = self.image_data_generator
        params = [draw_transform(generator, images.shape[1:], rng) for _ in range(len(images))]
        images = generator.apply_transforms(images, params).astype(generator.dtype, copy=False)
        return np.stack([generator.standardize(x) for x in images]).astype(generator.dtype)

    def _batches_of(self, chosen: np.ndarray, rng: np.random.RandomState) -> Any:
        raise NotImplementedError


def _subset(subset: Any, split: float, owner: str) -> tuple[float, float] | None:
    """The fraction (start, stop) of the data a subset takes: Keras 2's validation subset is
    the first ``validation_split`` of the samples, training the rest."""
    if subset is None:
        return None
    subset = check_choice(subset, "subset", owner, choices=("training", "validation"), lower=False)
    if not split:
        raise ValueError(
            f"{owner}: subset={subset!r} needs the ImageDataGenerator's validation_split "
            "(e.g. ImageDataGenerator(validation_split=0.2)); it is 0"
        )
    return (0.0, split) if subset == "validation" else (split, 1.0)


class NumpyArrayIterator(Iterator):
    """Batches of an image array (``ImageDataGenerator.flow``).

    Attributes:
        x: The (samples, height, width, channels) images of the subset. y, sample_weight:
        Their labels and weights, or None.
    """

    def __init__(
        self,
        x: Any,
        y: Any,
        image_data_generator: Any,
        batch_size: int = 32,
        shuffle: bool = False,
        sample_weight: Any = None,
        seed: int | None = None,
        subset: str | None = None,
        ignore_class_split: bool = False,
    ):
        owner = "ImageDataGenerator.flow"
        self.image_data_generator = image_data_generator
        x = _array(x, "x", owner, image_data_generator.dtype)
        if x.ndim != 4:
            raise ValueError(
                f"{owner}: x must have rank 4, (samples, height, width, channels). "
                f"Received: x with shape {x.shape}"
            )
        y = None if y is None else _array(y, "y", owner)
        weights = None if sample_weight is None else _array(sample_weight, "sample_weight", owner)
        for name, values in (("y", y), ("sample_weight", weights)):
            if values is not None and len(values) != len(x):
                raise ValueError(
                    f"{owner}: x and {name} must have the same length. "
                    f"Received: x.shape={x.shape}, {name}.shape={values.shape}"
                )
        part = _subset(subset, image_data_generator._validation_split, owner)
        if part is not None:
            cut = int(len(x) * image_data_generator._validation_split)
            _check_class_split(y, cut, ignore_class_split, owner)
            chosen = slice(None, cut) if subset == "validation" else slice(cut, None)
            x, y = x[chosen], None if y is None else y[chosen]
            weights = None if weights is None else weights[chosen]
        self.x, self.y, self.sample_weight = x, y, weights
        super().__init__(len(x), batch_size, shuffle, seed, owner)

    def _batches_of(self, chosen: np.ndarray, rng: np.random.RandomState) -> Any:
        batch_x = self._transformed(self.x[chosen], rng)
        if self.y is None:
            return batch_x
        if self.sample_weight is None:
            return batch_x, self.y[chosen]
        return batch_x, self.y[chosen], self.sample_weight[chosen]


def _array(value: Any, name: str, owner: str, dtype: Any = None) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"{owner}: {name} must be a NumPy array of numbers. Received: {type(value).__name__} "
            f"({error})"
        ) from None
    if array.dtype == object:
        raise TypeError(f"{owner}: {name} must be a NumPy array of numbers; it holds objects")
    return array


def _check_class_split(y: np.ndarray | None, cut: int, ignore: bool, owner: str) -> None:
    """Keras 2's check that both subsets hold the same classes (a sorted array would not)."""
    if y is None or ignore:
        return
    if not np.array_equal(np.unique(y[:cut]), np.unique(y[cut:])):
        raise ValueError(
            f"{owner}: the training and validation subsets hold different classes after the "
            "split (the validation subset is the first validation_split of the samples). If "
            "the arrays are sorted by label, shuffle them first, or pass ignore_class_split=True"
        )


class DirectoryIterator(Iterator):
    """Batches of the images in a folder of class sub-folders (``flow_from_directory``).

    Attributes:
        class_indices: Class name -> index (sub-folders sorted by name unless ``classes``
            orders them). classes: The index of each file. filenames: Each file relative to
            ``directory`` ('cats/cat001.jpg'), class by class. filepaths: The full paths.
        num_classes: Number of classes. samples: Number of files.
    """

    def __init__(
        self,
        directory: str | os.PathLike,
        image_data_generator: Any,
        target_size: tuple[int, int] = (256, 256),
        color_mode: str = "rgb",
        classes: Any = None,
        class_mode: str | None = "categorical",
        batch_size: int = 32,
        shuffle: bool = True,
        seed: int | None = None,
        follow_links: bool = False,
        subset: str | None = None,
        interpolation: str = "nearest",
        keep_aspect_ratio: bool = False,
    ):
        owner = "ImageDataGenerator.flow_from_directory"
        self.image_data_generator = image_data_generator
        self.directory = os.fspath(directory)
        if not os.path.isdir(self.directory):
            raise FileNotFoundError(f"{owner}: directory {self.directory!r} is not a directory")
        self.color_mode = check_choice(color_mode, "color_mode", owner, choices=_CHANNELS)
        if class_mode is not None:
            class_mode = check_choice(class_mode, "class_mode", owner, choices=CLASS_MODES)
        self.class_mode = class_mode
        self.target_size = _target_size(target_size, owner)
        self.image_shape = (*self.target_size, _CHANNELS[self.color_mode])
        self.interpolation, self.keep_aspect_ratio = interpolation, keep_aspect_ratio
        names = _class_names(self.directory, classes, owner)
        self.class_indices = {name: index for index, name in enumerate(names)}
        self.num_classes = len(names)
        part = _subset(subset, image_data_generator._validation_split, owner)
        self.filenames: list[str] = []
        labels: list[int] = []
        for index, name in enumerate(names):
            found = _walk(os.path.join(self.directory, name), follow_links)
            if part is not None:
                found = found[int(part[0] * len(found)) : int(part[1] * len(found))]
            self.filenames += [os.path.join(name, file) for file in found]
            labels += [index] * len(found)
        self.classes = np.asarray(labels, dtype=np.int32)
        self.filepaths = [os.path.join(self.directory, name) for name in self.filenames]
        print(f"Found {len(self.filenames)} images belonging to {self.num_classes} classes.")
        super().__init__(len(self.filenames), batch_size, shuffle, seed, owner)
        self.class_names, self.file_paths = list(names), self.filepaths

    @property
    def labels(self) -> np.ndarray:
        return self.classes

    def _batches_of(self, chosen: np.ndarray, rng: np.random.RandomState) -> Any:
        images = np.stack([self._read(self.filepaths[j]) for j in chosen])
        batch_x = self._transformed(images, rng)
        if self.class_mode == "input":
            return batch_x, batch_x.copy()
        if self.class_mode in ("binary", "sparse"):
            return batch_x, self.classes[chosen].astype(self.image_data_generator.dtype)
        if self.class_mode == "categorical":
            one_hot = np.zeros((len(chosen), self.num_classes), self.image_data_generator.dtype)
            one_hot[np.arange(len(chosen)), self.classes[chosen]] = 1
            return batch_x, one_hot
        return batch_x

    def _read(self, path: str) -> np.ndarray:
        image = load_img(
            path,
            color_mode=self.color_mode,
            target_size=self.target_size,
            interpolation=self.interpolation,
            keep_aspect_ratio=self.keep_aspect_ratio,
        )
        return img_to_array(image, dtype=self.image_data_generator.dtype)


def _target_size(value: Any, owner: str) -> tuple[int, int]:
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError(
            f"{owner}: target_size must be (height, width). Received: target_size={value!r}"
        )
    return tuple(check_positive_int(v, "target_size", owner) for v in value)  # type: ignore[return-value]


def _class_names(directory: str, classes: Any, owner: str) -> list[str]:
    """The sub-folders sorted by name, or ``classes`` in its own order."""
    if classes is None or (not isinstance(classes, str) and len(classes) == 0):
        return sorted(
            name for name in os.listdir(directory) if os.path.isdir(os.path.join(directory, name))
        )
    if isinstance(classes, str) or not all(isinstance(name, str) for name in classes):
        raise TypeError(
            f"{owner}: classes must be a list of sub-folder names or None. Received: classes={classes!r}"
        )
    missing = [name for name in classes if not os.path.isdir(os.path.join(directory, name))]
    if missing:
        raise ValueError(
            f"{owner}: classes must name sub-folders of {directory!r}; these are not: {missing}"
        )
    return list(classes)
