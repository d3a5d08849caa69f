"""Everything the report's sections share: the checked data, the model's predictions, the
latent vectors of the sampled images, computed once and only when a section needs them."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TextIO

import numpy as np

from cnnkit import inspect
from cnnkit._arrays import class_labels, to_numpy
from cnnkit.inspect import image_batch, subsample

OWNER = "report.build"


class Progress:
    """Prints what the report is doing, with the elapsed time, when given a stream."""

    def __init__(self, stream: TextIO | None) -> None:
        self.stream = stream
        self.start = time.perf_counter()

    def __call__(self, message: str) -> None:
        if self.stream is not None:
            elapsed = time.perf_counter() - self.start
            print(f"[report {elapsed:6.1f}s] {message}", file=self.stream, flush=True)


@dataclass
class Context:
    """The report's inputs, checked, and the results several sections use."""

    model: Any
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: list[str]
    preprocess: Callable[[np.ndarray], Any] | None
    max_points: int
    batch_size: int
    seed: int
    progress: Progress
    knn_k: int = 5
    notes: dict[str, str] = field(default_factory=dict)

    def inputs(self, x: np.ndarray) -> np.ndarray:
        """Images as the model takes them: ``preprocess`` applied, batch and channel axes fixed."""
        if self.preprocess is not None:
            x = to_numpy(self.preprocess(x), "preprocess(x)", OWNER)
        return image_batch(self.model, x, OWNER)

    @cached_property
    def probabilities(self) -> np.ndarray:
        """The model's outputs for every test image."""
        self.progress(f"predicting {len(self.x_test):,} test images")
        return self.model.predict(self.inputs(self.x_test), batch_size=self.batch_size, verbose=0)

    @cached_property
    def predicted(self) -> np.ndarray:
        """Predicted class of every test image."""
        return self.probabilities.argmax(axis=1)

    @cached_property
    def test_sample(self) -> np.ndarray:
        """Indices of at most ``max_points`` test images (seeded) for the heavy sections."""
        return subsample(len(self.x_test), self.max_points, self.seed)

    @cached_property
    def train_sample(self) -> np.ndarray:
        """Indices of at most ``10 * max_points`` training images, the kNN "memory"."""
        return subsample(len(self.x_train), 10 * self.max_points, self.seed)

    @cached_property
    def test_features(self) -> np.ndarray:
        """Latent vectors of the sampled test images."""
        self.progress(f"latent vectors of {len(self.test_sample):,} test images")
        return self._features(self.x_test[self.test_sample])

    @cached_property
    def train_features(self) -> np.ndarray:
        """Latent vectors of the sampled training images."""
        self.progress(f"latent vectors of {len(self.train_sample):,} training images")
        return self._features(self.x_train[self.train_sample])

    def _features(self, x: np.ndarray) -> np.ndarray:
        chunks = [
            inspect.features(
                self.model, self.inputs(x[start : start + 4096]), batch_size=self.batch_size
            )
            for start in range(0, len(x), 4096)
        ]
        return np.concatenate(chunks)


def split_data(data: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``((x_train, y_train), (x_test, y_test))`` as arrays with integer labels, checked."""
    try:
        (x_train, y_train), (x_test, y_test) = data
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"{OWNER}: data must be ((x_train, y_train), (x_test, y_test)), as load_data() returns. "
            f"Received: {type(data).__name__}"
        ) from exc
    arrays = []
    for x, y, part in ((x_train, y_train, "train"), (x_test, y_test, "test")):
        images = to_numpy(x, f"x_{part}", OWNER)
        if images.ndim not in (3, 4) or len(images) == 0:
            raise ValueError(
                f"{OWNER}: x_{part} must be a non-empty batch of images (n, height, width[, "
                f"channels]); received shape {images.shape}"
            )
        arrays += [images, class_labels(y, f"y_{part}", OWNER, n=len(images))]
    return arrays[0], arrays[1], arrays[2], arrays[3]


def resolve_class_names(
    class_names: Sequence[str] | None, y_train: np.ndarray, y_test: np.ndarray, model: Any
) -> list[str]:
    """The given names (checked against the labels) or ``"0"``, ``"1"``, ... otherwise."""
    largest = int(max(y_train.max(), y_test.max()))
    outputs = (getattr(model, "output_shape", None) or (None, 0))[-1] or 0
    if class_names is None:
        return [str(i) for i in range(max(largest + 1, outputs))]
    if isinstance(class_names, str) or not isinstance(class_names, Sequence):
        raise TypeError(
            f"{OWNER}: class_names must be a list of names, one per class. Received: {class_names!r}"
        )
    if largest >= len(class_names):
        raise ValueError(
            f"{OWNER}: class_names has {len(class_names)} names but the labels go up to {largest}"
        )
    return [str(name) for name in class_names]
