"""Keras 2's ``fit_generator``, ``evaluate_generator`` and ``predict_generator``, kept so old
scripts run: each warns once that Keras 3 spells it ``fit``/``evaluate``/``predict`` (which
take generators and PyDatasets themselves) and forwards to it."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

from cnnkit._validation import check_int

_warned: set[str] = set()


def _deprecated(old: str, new: str) -> None:
    """Warn the first time ``old`` is called in this process."""
    if old in _warned:
        return
    _warned.add(old)
    warnings.warn(
        f"model.{old}() is Keras 2's spelling; in Keras 3 (and cnnkit) use model.{new}(), which "
        f"takes the same generator or PyDataset: model.{new}(generator, ...)",
        DeprecationWarning,
        stacklevel=3,
    )


def _check_worker_settings(what: str, workers: Any, use_multiprocessing: Any, queue: Any) -> None:
    """Keras 2's loader settings are accepted (set them on a PyDataset to use them)."""
    check_int(workers, "workers", what, minimum=0)
    check_int(queue, "max_queue_size", what, minimum=1)
    if not isinstance(use_multiprocessing, bool):
        raise TypeError(
            f"{what}: use_multiprocessing must be True or False. Received: "
            f"use_multiprocessing={use_multiprocessing!r}"
        )


class Keras2Methods:
    """The ``*_generator`` methods of Keras 2 models, forwarding to fit/evaluate/predict."""

    def fit_generator(
        self,
        generator: Any,
        steps_per_epoch: int | None = None,
        epochs: int = 1,
        verbose: int | str = 1,
        callbacks: Sequence[Any] | None = None,
        validation_data: Any = None,
        validation_steps: int | None = None,
        validation_freq: int = 1,
        class_weight: dict[int, float] | None = None,
        max_queue_size: int = 10,
        workers: int = 1,
        use_multiprocessing: bool = False,
        shuffle: bool = True,
        initial_epoch: int = 0,
    ):
        """Keras 2's name for ``fit(generator, steps_per_epoch=..., ...)`` (deprecated).

        ``workers``, ``use_multiprocessing`` and ``max_queue_size`` are checked and otherwise
        not used: pass them to the PyDataset's constructor to compute batches in threads.
        """
        _deprecated("fit_generator", "fit")
        _check_worker_settings("fit_generator", workers, use_multiprocessing, max_queue_size)
        return self.fit(  # type: ignore[attr-defined]
            generator,
            steps_per_epoch=steps_per_epoch,
            epochs=epochs,
            verbose=verbose,
            callbacks=callbacks,
            validation_data=validation_data,
            validation_steps=validation_steps,
            validation_freq=validation_freq,
            class_weight=class_weight,
            shuffle=shuffle,
            initial_epoch=initial_epoch,
        )

    def evaluate_generator(
        self,
        generator: Any,
        steps: int | None = None,
        callbacks: Sequence[Any] | None = None,
        max_queue_size: int = 10,
        workers: int = 1,
        use_multiprocessing: bool = False,
        verbose: int | str = 0,
    ):
        """Keras 2's name for ``evaluate(generator, steps=...)`` (deprecated)."""
        _deprecated("evaluate_generator", "evaluate")
        _check_worker_settings("evaluate_generator", workers, use_multiprocessing, max_queue_size)
        return self.evaluate(  # type: ignore[attr-defined]
            generator, steps=steps, callbacks=callbacks, verbose=verbose
        )

    def predict_generator(
        self,
        generator: Any,
        steps: int | None = None,
        callbacks: Sequence[Any] | None = None,
        max_queue_size: int = 10,
        workers: int = 1,
        use_multiprocessing: bool = False,
        verbose: int | str = 0,
    ):
        """Keras 2's name for ``predict(generator, steps=...)`` (deprecated)."""
        _deprecated("predict_generator", "predict")
        _check_worker_settings("predict_generator", workers, use_multiprocessing, max_queue_size)
        return self.predict(  # type: ignore[attr-defined]
            generator, steps=steps, callbacks=callbacks, verbose=verbose
        )
