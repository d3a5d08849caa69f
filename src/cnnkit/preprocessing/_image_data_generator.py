"""Keras 2's ``ImageDataGenerator``: random augmentation and normalisation of images, one
image at a time, fed by ``flow`` (arrays) or ``flow_from_directory`` (image files).

Kept so that course notebooks written for Keras 2 run; Keras 3 spells the same as
``image_dataset_from_directory`` plus augmentation layers (RandomFlip, RandomRotation, ...).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from cnnkit._validation import check_number
from cnnkit.preprocessing import _generator_arguments as arguments
from cnnkit.preprocessing._iterators import DirectoryIterator, NumpyArrayIterator
from cnnkit.preprocessing._transforms import (
    affine_matrix,
    apply_colour_and_flips,
    draw_transform,
    warp_batch,
)

OWNER = arguments.OWNER
_warned = False  # the deprecation note is given once per process


def _deprecation_note() -> None:
    global _warned
    if not _warned:
        _warned = True
        warnings.warn(
            "ImageDataGenerator is Keras 2's API, deprecated in Keras 3: load images with "
            "keras.utils.image_dataset_from_directory and augment them with layers such as "
            "RandomFlip, RandomRotation, RandomZoom and Rescaling inside the model.",
            DeprecationWarning,
            stacklevel=3,
        )


class ImageDataGenerator:
    """Random transformations and normalisation of images, as Keras 2's ImageDataGenerator.

    Images are (height, width, channels) ('channels_last' only). Each image gets its own random
    rotation, shifts, shear, zoom (one affine warp, bilinear), channel shift, flips and
    brightness, then ``standardize`` (preprocessing_function, rescale, centring, scaling).

    Args:
        featurewise_center: Subtract the per-channel mean of the data given to ``fit``.
        samplewise_center: Subtract each image's own mean.
        featurewise_std_normalization: Divide by the per-channel std from ``fit``.
        samplewise_std_normalization: Divide each image by its own std.
        zca_whitening: Apply the ZCA whitening matrix computed by ``fit``.
        zca_epsilon: Added to the singular values in ZCA whitening.
        rotation_range: Degrees; a rotation is drawn uniformly in [-range, range].
        width_shift_range: Float (fraction of the width when < 1, pixels otherwise), int (whole
            pixels in (-range, range)) or a list of pixel shifts to choose from.
        height_shift_range: The same for vertical shifts.
        brightness_range: [lower, upper] brightness factors (pixels read as 0-255), or None.
        shear_range: Degrees (counter-clockwise shear angle), drawn in [-range, range].
        zoom_range: Float (zoom in [1 - range, 1 + range]) or [lower, upper]; > 1 zooms out.
        channel_shift_range: Offsets added to all channels, drawn in [-range, range].
        fill_mode: How points outside the image are filled: 'nearest', 'constant', 'reflect'
            or 'wrap'.
        cval: The fill value for fill_mode='constant'.
        horizontal_flip: Flip half of the images left-right.
        vertical_flip: Flip half of the images top-bottom.
        rescale: Multiply the images by this (e.g. 1/255) after the transformations.
        preprocessing_function: Called on each image (rank-3 array) first in ``standardize``.
        data_format: 'channels_last' (or None).
        validation_split: Fraction of the data ``subset='validation'`` takes.
        dtype: The floating dtype of the images produced.

    Example:
        >>> generator = ImageDataGenerator(rescale=1 / 255, horizontal_flip=True)
        >>> batches = generator.flow(np.zeros((10, 8, 8, 3)), np.arange(10), batch_size=4)
        >>> x, y = next(batches)  # x: (4, 8, 8, 3) float32
    """

    def __init__(
        self,
        featurewise_center: bool = False,
        samplewise_center: bool = False,
        featurewise_std_normalization: bool = False,
        samplewise_std_normalization: bool = False,
        zca_whitening: bool = False,
        zca_epsilon: float = 1e-6,
        rotation_range: float = 0,
        width_shift_range: float | int | Sequence[float] = 0.0,
        height_shift_range: float | int | Sequence[float] = 0.0,
        brightness_range: Sequence[float] | None = None,
        shear_range: float = 0.0,
        zoom_range: float | Sequence[float] = 0.0,
        channel_shift_range: float = 0.0,
        fill_mode: str = "nearest",
        cval: float = 0.0,
        horizontal_flip: bool = False,
        vertical_flip: bool = False,
        rescale: float | None = None,
        preprocessing_function: Callable[[np.ndarray], np.ndarray] | None = None,
        data_format: str | None = None,
        validation_split: float = 0.0,
        dtype: Any = None,
    ):
        _deprecation_note()
        switches = arguments.flags(
            {
                "featurewise_center": featurewise_center,
                "samplewise_center": samplewise_center,
                "featurewise_std_normalization": featurewise_std_normalization,
                "samplewise_std_normalization": samplewise_std_normalization,
                "zca_whitening": zca_whitening,
                "horizontal_flip": horizontal_flip,
                "vertical_flip": vertical_flip,
            }
        )
        for name, value in switches.items():
            setattr(self, name, value)
        self._check_ranges(rotation_range, shear_range, channel_shift_range, zca_epsilon)
        self.width_shift_range = arguments.shift_range(width_shift_range, "width_shift_range")
        self.height_shift_range = arguments.shift_range(height_shift_range, "height_shift_range")
        self.brightness_range = arguments.brightness_range(brightness_range)
        self.zoom_range = arguments.zoom_range(zoom_range)
        self.fill_mode = arguments.fill_mode(fill_mode)
        self.cval = check_number(cval, "cval", OWNER)
        self.rescale = check_number(rescale, "rescale", OWNER, optional=True)
        if preprocessing_function is not None and not callable(preprocessing_function):
            raise TypeError(
                f"{OWNER}: preprocessing_function must be a function of one image or None. "
                f"Received: preprocessing_function={preprocessing_function!r}"
            )
        self.preprocessing_function = preprocessing_function
        self.data_format = arguments.data_format(data_format)
        self.channel_axis, self.row_axis, self.col_axis = 3, 1, 2
        self._validation_split = arguments.validation_split(validation_split)
        self.dtype = _float_dtype(dtype)
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None
        self.zca_whitening_matrix: np.ndarray | None = None
        self._rng = np.random.RandomState()

    def _check_ranges(self, rotation: Any, shear: Any, channel_shift: Any, epsilon: Any) -> None:
        """The plain non-negative numbers."""
        self.rotation_range = check_number(rotation, "rotation_range", OWNER, minimum=0)
        self.shear_range = check_number(shear, "shear_range", OWNER, minimum=0)
        self.channel_shift_range = check_number(
            channel_shift, "channel_shift_range", OWNER, minimum=0
        )
        self.zca_epsilon = check_number(epsilon, "zca_epsilon", OWNER, minimum=0)

    def flow(
        self,
        x: Any,
        y: Any = None,
        batch_size: int = 32,
        shuffle: bool = True,
        sample_weight: Any = None,
        seed: int | None = None,
        subset: str | None = None,
        ignore_class_split: bool = False,
    ) -> NumpyArrayIterator:
        """Endless batches ``(x, y)`` (``x`` alone when y is None; ``(x, y, sample_weight)``
        with weights) of transformed, standardised images from a (samples, h, w, c) array."""
        return NumpyArrayIterator(
            x,
            y,
            self,
            batch_size=batch_size,
            shuffle=shuffle,
            sample_weight=sample_weight,
            seed=seed,
            subset=subset,
            ignore_class_split=ignore_class_split,
        )

    def flow_from_directory(
        self,
        directory: str | os.PathLike,
        target_size: tuple[int, int] = (256, 256),
        color_mode: str = "rgb",
        classes: Sequence[str] | None = None,
        class_mode: str | None = "categorical",
        batch_size: int = 32,
        shuffle: bool = True,
        seed: int | None = None,
        follow_links: bool = False,
        subset: str | None = None,
        interpolation: str = "nearest",
        keep_aspect_ratio: bool = False,
    ) -> DirectoryIterator:
        """Endless batches read from ``directory``, one sub-folder per class (sorted by name):
        ``(x, y)`` with y as class_mode says ('categorical' one-hot, 'binary' or 'sparse'
        class indices, 'input' the images), or ``x`` alone with class_mode=None."""
        return DirectoryIterator(
            directory,
            self,
            target_size=target_size,
            color_mode=color_mode,
            classes=classes,
            class_mode=class_mode,
            batch_size=batch_size,
            shuffle=shuffle,
            seed=seed,
            follow_links=follow_links,
            subset=subset,
            interpolation=interpolation,
            keep_aspect_ratio=keep_aspect_ratio,
        )

    def standardize(self, x: np.ndarray) -> np.ndarray:
        """The normalisation of ``x`` (one image or a batch), in place where it can be, as
        Keras 2: preprocessing_function, rescale, sample-wise then feature-wise statistics."""
        if self.preprocessing_function:
            x = self.preprocessing_function(x)
        if self.rescale:
            x *= self.rescale
        if self.samplewise_center:
            x -= np.mean(x, keepdims=True)
        if self.samplewise_std_normalization:
            x /= np.std(x, keepdims=True) + 1e-6
        if self.featurewise_center:
            if self._fitted("featurewise_center", self.mean):
                x -= self.mean
        if self.featurewise_std_normalization:
            if self._fitted("featurewise_std_normalization", self.std):
                x /= self.std + 1e-6
        if self.zca_whitening and self._fitted("zca_whitening", self.zca_whitening_matrix):
            flat = np.reshape(x, (-1, int(np.prod(x.shape[-3:]))))
            x = np.reshape(flat @ self.zca_whitening_matrix, x.shape)
        return x

    @staticmethod
    def _fitted(name: str, statistic: Any) -> bool:
        if statistic is None:
            warnings.warn(
                f"This ImageDataGenerator specifies `{name}`, but it has not been fit on any "
                "training data. Fit it first by calling `.fit(numpy_data)`.",
                stacklevel=3,
            )
        return statistic is not None

    def get_random_transform(self, img_shape: Sequence[int], seed: int | None = None) -> dict:
        """Random parameters for one image of ``img_shape`` (height, width, channels), the
        dictionary ``apply_transform`` takes; ``seed`` makes the draw reproducible."""
        rng = self._rng if seed is None else np.random.RandomState(seed)
        return draw_transform(self, img_shape, rng)

    def apply_transform(self, x: np.ndarray, transform_parameters: Mapping[str, Any]) -> np.ndarray:
        """``x`` (height, width, channels) transformed by the given parameters: theta, tx,
        ty, shear, zx, zy, flip_horizontal, flip_vertical, channel_shift_intensity,
        brightness (any may be left out)."""
        return self.apply_transforms(np.asarray(x)[None], [transform_parameters])[0]

    def apply_transforms(
        self, batch: np.ndarray, parameters: Sequence[Mapping[str, Any]]
    ) -> np.ndarray:
        """``apply_transform`` for each image of a batch, with one warp for the whole batch."""
        if batch.ndim != 4:
            raise ValueError(
                f"{OWNER}: the images must be (height, width, channels) arrays. "
                f"Received: shape {batch.shape[1:]}"
            )
        height, width = batch.shape[1:3]
        matrices = [affine_matrix(params, height, width) for params in parameters]
        batch = warp_batch(batch, matrices, self.fill_mode, self.cval)
        return np.stack([apply_colour_and_flips(x, p) for x, p in zip(batch, parameters)])

    def random_transform(self, x: np.ndarray, seed: int | None = None) -> np.ndarray:
        """``x`` (height, width, channels) randomly transformed."""
        return self.apply_transform(x, self.get_random_transform(np.shape(x), seed))

    def fit(self, x: Any, augment: bool = False, rounds: int = 1, seed: int | None = None) -> None:
        """Compute the statistics featurewise_center, featurewise_std_normalization and
        zca_whitening use, from images ``x`` (samples, height, width, channels), rescaled
        first (and randomly transformed ``rounds`` times when ``augment``)."""
        x = np.array(x, dtype=self.dtype)  # a copy
        if x.ndim != 4:
            raise ValueError(
                f"{OWNER}.fit: x must have rank 4, (samples, height, width, channels). "
                f"Received: shape {x.shape}"
            )
        if self.rescale:
            x *= self.rescale
        if augment:
            rng = self._rng if seed is None else np.random.RandomState(seed)
            copies = np.concatenate([x] * int(rounds))
            params = [draw_transform(self, x.shape[1:], rng) for _ in range(len(copies))]
            x = self.apply_transforms(copies, params).astype(self.dtype)
        if self.featurewise_center:
            self.mean = np.mean(x, axis=(0, 1, 2)).reshape(1, 1, -1)
            x -= self.mean
        if self.featurewise_std_normalization:
            self.std = np.std(x, axis=(0, 1, 2)).reshape(1, 1, -1)
            x /= self.std + 1e-6
        if self.zca_whitening:
            flat = np.reshape(x, (len(x), -1))
            u, s, _ = np.linalg.svd(flat.T, full_matrices=False)
            scale = np.sqrt(len(x)) / (s + self.zca_epsilon)
            self.zca_whitening_matrix = (u * scale) @ u.T


def _float_dtype(dtype: Any) -> np.dtype:
    try:
        checked = np.dtype(dtype or "float32")
    except TypeError:
        checked = None
    if checked is None or not np.issubdtype(checked, np.floating):
        raise TypeError(
            f"{OWNER}: dtype must be a floating dtype such as 'float32'. Received: dtype={dtype!r}"
        )
    return checked
