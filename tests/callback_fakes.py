"""A stand-in model implementing exactly the public surface cnnkit callbacks may use."""

from __future__ import annotations

import functools
import json

import numpy as np


class FakeOptimizer:
    """Holds a float ``learning_rate``, like the model's optimizer."""

    def __init__(self, learning_rate: float = 0.1) -> None:
        self.learning_rate = learning_rate


class FakeModel:
    """The callback contract: stop_training, get/set_weights, save, save_weights, optimizer.

    ``marker`` tags the current weights (the test sets it to the epoch), so a restored or
    saved model tells which epoch it came from.
    """

    def __init__(self, learning_rate: float = 0.1) -> None:
        self.stop_training = False
        self.optimizer = FakeOptimizer(learning_rate)
        self.marker = -1.0
        self.saved: list[tuple[str, float]] = []  # (kind, marker) per save call

    def get_weights(self) -> list[np.ndarray]:
        return [np.full(3, float(self.marker)), np.arange(4.0).reshape(2, 2)]

    def set_weights(self, weights: list[np.ndarray]) -> None:
        self.marker = float(weights[0][0])

    def save(self, filepath: str) -> None:
        self._write("model", filepath)

    def save_weights(self, filepath: str) -> None:
        self._write("weights", filepath)

    def _write(self, kind: str, filepath: str) -> None:
        with open(filepath, "w") as f:
            json.dump({"kind": kind, "marker": self.marker}, f)
        self.saved.append((kind, self.marker))


def read_saved(path) -> dict:
    """Return what FakeModel wrote to ``path``."""
    with open(path) as f:
        return json.load(f)


@functools.cache
def keras_metrics():
    """Metrics of a compiled, trained Keras model: Keras resolves mode='auto' through them."""
    import keras

    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(loss="mse", metrics=["acc", "accuracy"])
    model.fit(np.zeros((2, 1)), np.zeros((2, 1)), verbose=0)
    return model.metrics
