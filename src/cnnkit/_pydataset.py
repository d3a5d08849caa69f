"""Keras' ``PyDataset``: batches computed by Python code, one ``__getitem__`` call per batch,
that ``fit``, ``evaluate`` and ``predict`` take like arrays."""

from __future__ import annotations

import collections
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from cnnkit._validation import check_int

_DEFAULTS = {"_workers": 1, "_use_multiprocessing": False, "_max_queue_size": 10}


class PyDataset:
    """Base class for a dataset of batches: subclass it, define ``__len__`` (the number of
    batches) and ``__getitem__(index)`` returning ``(x, y)``, ``(x, y, sample_weight)`` or
    ``x``, and optionally ``on_epoch_end`` (called after each pass, e.g. to reshuffle).

    Args:
        workers: Threads computing batches ahead (1: in the calling thread). Batches come out
            in index order whatever the number of workers, so results do not depend on it.
        use_multiprocessing: Accepted for Keras code; batches are computed in threads
            (``__getitem__`` need not be picklable).
        max_queue_size: How many batches the workers may compute ahead.

    Example:
        >>> class Squares(PyDataset):
        ...     def __init__(self, **kwargs):
        ...         super().__init__(**kwargs)
        ...     def __len__(self):
        ...         return 2
        ...     def __getitem__(self, index):
        ...         x = np.full((4, 1), float(index), dtype="float32")
        ...         return x, x**2
    """

    def __init__(
        self, workers: int = 1, use_multiprocessing: bool = False, max_queue_size: int = 10
    ) -> None:
        owner = type(self).__name__
        self._workers = check_int(workers, "workers", owner, minimum=1)
        if not isinstance(use_multiprocessing, bool):
            raise TypeError(
                f"{owner}: use_multiprocessing must be True or False. Received: "
                f"use_multiprocessing={use_multiprocessing!r}"
            )
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = check_int(max_queue_size, "max_queue_size", owner, minimum=1)

    def __getattr__(self, name: str) -> Any:
        """The settings' defaults for subclasses whose ``__init__`` skips ``super().__init__``."""
        if name in _DEFAULTS:
            return _DEFAULTS[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @property
    def workers(self) -> int:
        return self._workers

    @property
    def use_multiprocessing(self) -> bool:
        return self._use_multiprocessing

    @property
    def max_queue_size(self) -> int:
        return self._max_queue_size

    @property
    def num_batches(self) -> int:
        """Number of batches, ``len(self)``."""
        return len(self)

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__ (its batches)")

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(index)")

    def __iter__(self) -> Iterator[Any]:
        return (self[index] for index in range(len(self)))

    def on_epoch_begin(self) -> None:
        """Called before each pass over the batches; does nothing unless overridden."""

    def on_epoch_end(self) -> None:
        """Called after each pass over the batches; does nothing unless overridden."""


def is_sequence(x: Any) -> bool:
    """Whether ``x`` is a PyDataset or follows its protocol as Keras 2's ``Sequence`` did
    (``__len__``, ``__getitem__`` and ``on_epoch_end``), e.g. an ImageDataGenerator's flow."""
    if isinstance(x, PyDataset):
        return True
    return all(callable(getattr(x, name, None)) for name in _SEQUENCE_PROTOCOL)


_SEQUENCE_PROTOCOL = ("__len__", "__getitem__", "on_epoch_end")


def epoch(dataset: Any, order: Sequence[int]) -> Iterator[Any]:
    """The batches of ``dataset`` (a PyDataset or Sequence) at ``order``, computed by its
    workers ahead and handed out in order; ``on_epoch_end`` is called once the pass ends (or
    is cut short)."""
    begin = getattr(dataset, "on_epoch_begin", None)
    if callable(begin):
        begin()
    workers = getattr(dataset, "workers", 1) if isinstance(dataset, PyDataset) else 1
    try:
        if workers == 1:
            for index in order:
                yield dataset[index]
            return
        with ThreadPoolExecutor(workers) as pool:
            pending: collections.deque = collections.deque()
            indices = iter(order)
            try:
                for index in indices:
                    pending.append(pool.submit(dataset.__getitem__, index))
                    if len(pending) >= dataset.max_queue_size:
                        yield pending.popleft().result()
                while pending:
                    yield pending.popleft().result()
            finally:
                for future in pending:
                    future.cancel()
    finally:
        dataset.on_epoch_end()
