"""Scratch paths and small builders for the bad-input battery (test_bad_input.py)."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cnnkit import callbacks, constraints, layers, neighbors, optimizers
from cnnkit.layers import Conv2D, Dense, Flatten, Input
from cnnkit.models import Sequential

X = np.zeros((4, 8, 8, 1), np.float32)
Y = np.array([0, 1, 2, 0])
KNN_X = np.arange(12, dtype=np.float32).reshape(6, 2)
KNN_Y = np.array([0, 0, 0, 1, 1, 1])


class Env:
    """Scratch paths for the cases: missing paths, plain files, odd folders, bad model files."""

    def __init__(self, root: Path):
        self.root = root

    def missing(self, name: str = "missing") -> Path:
        """A path that does not exist."""
        return self.root / name

    def file(self, name: str = "notes.txt", data: bytes = b"not an image folder") -> Path:
        """A plain file holding ``data``."""
        path = self.root / name
        path.write_bytes(data)
        return path

    def folder(self, name: str, files: dict[str, bytes] | None = None) -> Path:
        """A folder holding ``files`` (relative paths; sub-folders are made as needed)."""
        path = self.root / name
        path.mkdir(parents=True, exist_ok=True)
        for relative, data in (files or {}).items():
            (path / relative).parent.mkdir(parents=True, exist_ok=True)
            (path / relative).write_bytes(data)
        return path

    def garbage_images(self) -> Path:
        """A class folder whose only "image" cannot be decoded."""
        return self.folder("garbage_images", {"cat/a.png": b"certainly not a png"})

    def class_without_images(self) -> Path:
        """A class folder holding a text file only."""
        return self.folder("no_images", {"cat/readme.txt": b"no images here"})

    def weights_file(self) -> Path:
        """A file written by ``save_weights`` (so not a full model)."""
        path = self.root / "weights.keras"
        model().save_weights(path)
        return path


def case(
    case_id: str,
    error: type[Exception] | tuple[type[Exception], ...],
    pattern: str,
    call: Callable[[Env], Any],
    xfail: str | None = None,
):
    """One row of the table; ``xfail`` names what the owner of that code still has to fix."""
    marks = [pytest.mark.xfail(strict=True, reason=xfail)] if xfail else []
    return pytest.param(call, error, pattern, id=case_id, marks=marks)


def model() -> Sequential:
    """A small built CNN: 8x8x1 images, 3 classes."""
    return Sequential([Input((8, 8, 1)), Conv2D(2, 3), Flatten(), Dense(3, activation="softmax")])


def compiled(loss: str = "sparse_categorical_crossentropy") -> Sequential:
    """``model()`` compiled with Adam, ``loss`` and accuracy."""
    net = model()
    net.compile("adam", loss, metrics=["accuracy"])
    return net


def fit(x: Any = X, y: Any = Y, loss: str = "sparse_categorical_crossentropy", **kwargs: Any):
    """Fit ``compiled(loss)`` silently on ``x, y``."""
    return compiled(loss).fit(x, y, verbose=0, **kwargs)


def called(layer: layers.Layer, *inputs: Any) -> layers.Layer:
    """Call ``layer`` on each input in turn (the first one builds it); return the layer."""
    for x in inputs:
        layer(x)
    return layer


def quietly(call: Callable[[], Any]) -> Any:
    """Run ``call`` with warnings silenced (a case may warn before it raises)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return call()


def early_stop_without_model() -> None:
    callback = callbacks.EarlyStopping(monitor="loss", restore_best_weights=True)
    callback.on_train_begin()
    callback.on_epoch_end(0, {"loss": 1.0})


def checkpoint_without_model(env: Env) -> None:
    callback = callbacks.ModelCheckpoint(env.missing("ckpt.keras"))
    callback.on_train_begin()
    callback.on_epoch_end(0, {"val_loss": 1.0})


def set_learning_rate(value: Any) -> None:
    optimizers.Adam().learning_rate = value


def dense_with_max_norm_axis_5() -> None:
    net = Sequential([Input((3,)), Dense(2, kernel_constraint=constraints.MaxNorm(axis=5))])
    net.apply_constraints()


def knn() -> neighbors.KNeighborsClassifier:
    return neighbors.KNeighborsClassifier(1).fit(KNN_X, KNN_Y)
