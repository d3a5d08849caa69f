"""A lazy, re-iterable stream of elements with tf.data's methods (map, batch, shuffle, ...).

Elements are a tensor, or a tuple or dict of tensors. Nothing is computed until the dataset
is iterated, and each iteration starts again from the source, so a folder of images is read
batch by batch, never held whole in memory (unless ``cache()`` is asked for).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch

#: ``prefetch(AUTOTUNE)``, as ``tf.data.AUTOTUNE``: let the library choose.
AUTOTUNE = -1

Element = Any  # a tensor, or a tuple or dict of tensors


class Dataset:
    """Elements produced on demand by ``source()``, with tf.data.Dataset's common methods.

    Args:
        source: Called once per iteration; returns an iterator over the elements.
        length: Number of elements, or None when unknown (``len()`` then raises TypeError).
        batch_size: The size of the batches when the elements are batches, else None.
        samples: Number of samples in all the batches together, when known.

    Attributes:
        class_names: Label names, carried over from the dataset this one derives from.
        file_paths: The file of each sample, carried over likewise.

    Example:
        >>> ds = Dataset.from_tensor_slices((np.zeros((5, 2)), np.arange(5))).batch(2)
        >>> [tuple(x.shape) for x, y in ds]
        [(2, 2), (2, 2), (1, 2)]
    """

    def __init__(
        self,
        source: Callable[[], Iterator[Element]],
        length: int | None,
        *,
        batch_size: int | None = None,
        samples: int | None = None,
    ) -> None:
        self._source, self._length = source, length
        self._batch_size, self._samples = batch_size, samples
        self.class_names: list[str] | None = None
        self.file_paths: list[str] | None = None

    @classmethod
    def from_tensor_slices(cls, tensors: Any) -> Dataset:
        """One element per row of ``tensors`` (an array, or a tuple or dict of arrays)."""
        columns = _map_structure(torch.as_tensor, tensors)
        count = len(_leaves(columns)[0])
        return cls(lambda: unstack(columns), count)

    def __iter__(self) -> Iterator[Element]:
        return iter(self._source())

    def __len__(self) -> int:
        if self._length is None:
            raise TypeError("The dataset length is unknown.")
        return self._length

    def __repr__(self) -> str:
        kind = f"batches of {self._batch_size}" if self._batch_size else "elements"
        return (
            f"<{type(self).__name__}: {self._length if self._length is not None else '?'} {kind}>"
        )

    @property
    def samples(self) -> int:
        """Number of samples in all the batches together (TypeError when unknown)."""
        if not self.is_batched:
            return len(self)
        if self._samples is None:
            raise TypeError("The number of samples of this dataset is unknown.")
        return self._samples

    @property
    def is_batched(self) -> bool:
        """True when each element is a batch (from ``batch()``, or batch_size when loaded)."""
        return self._batch_size is not None

    def _derive(
        self, source: Callable[[], Iterator[Element]], length: int | None, **sizes
    ) -> Dataset:
        """A dataset of ``source`` keeping this one's class_names and file_paths."""
        sizes = {"batch_size": self._batch_size, "samples": self._samples, **sizes}
        derived = Dataset(source, length, **sizes)
        derived.class_names, derived.file_paths = self.class_names, self.file_paths
        return derived

    def take(self, count: int) -> Dataset:
        """The first ``count`` elements (all when ``count`` is -1)."""
        count = _check_count(count, "take", allow_all=True)
        if count == -1:
            return self._derive(self._source, self._length)
        length = count if self._length is None else min(count, self._length)
        samples = None
        if self._samples is not None and self._batch_size is not None:
            samples = min(self._samples, count * self._batch_size)
        return self._derive(
            lambda: itertools.islice(self._source(), count), length, samples=samples
        )

    def skip(self, count: int) -> Dataset:
        """All but the first ``count`` elements."""
        count = _check_count(count, "skip")
        length = None if self._length is None else max(self._length - count, 0)
        return self._derive(
            lambda: itertools.islice(self._source(), count, None), length, samples=None
        )

    def map(
        self,
        map_func: Callable[..., Any],
        num_parallel_calls: int | None = None,
        deterministic: Any = None,
    ) -> Dataset:
        """Apply ``map_func`` to every element; a tuple element is passed as separate arguments.

        ``num_parallel_calls`` and ``deterministic`` are accepted for tf.data's signature.
        """
        if not callable(map_func):
            raise TypeError(f"map: map_func must be callable. Received: {map_func!r}")

        def source() -> Iterator[Element]:
            for element in self._source():
                yield map_func(*element) if isinstance(element, tuple) else map_func(element)

        return self._derive(source, self._length, samples=None)

    def cache(self, filename: str = "") -> Dataset:
        """Keep the elements of the first complete pass in memory and replay them afterwards.

        A pass is complete at the end of the stream, or after ``len()`` elements when the
        length is known (``fit`` stops there). Only the in-memory cache exists: ``filename``
        must be empty.
        """
        if filename:
            raise ValueError(
                f"cache: only the in-memory cache is supported; pass no filename. Received: filename={filename!r}"
            )
        stored: list[Element] = []
        done: list[bool] = []

        def source() -> Iterator[Element]:
            if done:
                yield from stored
                return
            pass_elements = []
            for element in self._source():
                pass_elements.append(element)
                if len(pass_elements) == self._length:
                    # complete once len() elements are seen: fit takes exactly len() batches
                    # and never asks for the end of the stream
                    stored[:], done[:] = pass_elements, [True]
                yield element
            stored[:], done[:] = pass_elements, [True]  # only a complete pass is kept

        return self._derive(source, self._length)

    def shuffle(
        self, buffer_size: int, seed: int | None = None, reshuffle_each_iteration: bool = True
    ) -> Dataset:
        """Shuffle through a buffer of ``buffer_size`` elements, as tf.data does.

        A new order each iteration (unless ``reshuffle_each_iteration=False``), the same
        sequence of orders for the same ``seed``.
        """
        buffer_size = _check_count(buffer_size, "shuffle", name="buffer_size", minimum=1)
        base = int(np.random.randint(2**31)) if seed is None else int(seed)
        passes = itertools.count()

        def source() -> Iterator[Element]:
            epoch = next(passes) if reshuffle_each_iteration else 0
            rng = np.random.default_rng([base, epoch])
            yield from buffer_shuffle(self._source(), buffer_size, rng)

        return self._derive(source, self._length)

    def prefetch(self, buffer_size: int) -> Dataset:
        """Accepted for tf.data's pipelines; elements are produced as they are asked for."""
        _check_count(buffer_size, "prefetch", name="buffer_size", allow_all=True)
        return self

    def batch(self, batch_size: int, drop_remainder: bool = False) -> Dataset:
        """Stack consecutive elements into batches of ``batch_size`` (the last may be smaller)."""
        batch_size = _check_count(batch_size, "batch", name="batch_size", minimum=1)

        def source() -> Iterator[Element]:
            iterator = iter(self._source())
            while group := list(itertools.islice(iterator, batch_size)):
                if drop_remainder and len(group) < batch_size:
                    return
                yield stack(group)

        length = None
        if self._length is not None and self._batch_size is None:
            rounding = math.floor if drop_remainder else math.ceil
            length = rounding(self._length / batch_size)
        samples = None if self._batch_size is not None or length is None else self._length
        if drop_remainder and length is not None:
            samples = length * batch_size
        return self._derive(source, length, batch_size=batch_size, samples=samples)

    def unbatch(self) -> Dataset:
        """Split each batch back into its samples."""

        def source() -> Iterator[Element]:
            for element in self._source():
                yield from unstack(element)

        return self._derive(source, self._samples, batch_size=None, samples=None)

    def as_numpy_iterator(self) -> Iterator[Any]:
        """Iterate with every tensor as a NumPy array."""
        for element in self._source():
            yield _map_structure(lambda t: torch.as_tensor(t).numpy(), element)


def buffer_shuffle(
    elements: Iterator[Element], buffer_size: int, rng: np.random.Generator
) -> Iterator[Element]:
    """tf.data's shuffle: fill a buffer, hand out a random one of it, refill from the stream."""
    buffer: list[Element] = []
    for element in elements:
        if len(buffer) < buffer_size:
            buffer.append(element)
            continue
        at = int(rng.integers(buffer_size))
        yield buffer[at]
        buffer[at] = element
    for at in rng.permutation(len(buffer)):
        yield buffer[at]


def stack(group: list[Element]) -> Element:
    """One batch from a list of elements of the same structure."""
    first = group[0]
    if isinstance(first, tuple):
        return tuple(stack([e[i] for e in group]) for i in range(len(first)))
    if isinstance(first, dict):
        return {key: stack([e[key] for e in group]) for key in first}
    return torch.stack([torch.as_tensor(e) for e in group])


def unstack(element: Element) -> Iterator[Element]:
    """The samples of one batch."""
    count = len(_leaves(element)[0])
    for i in range(count):
        yield _map_structure(lambda t, at=i: t[at], element)


def _map_structure(function: Callable[[Any], Any], element: Element) -> Element:
    if isinstance(element, (tuple, list)):
        return tuple(_map_structure(function, e) for e in element)
    if isinstance(element, dict):
        return {key: _map_structure(function, value) for key, value in element.items()}
    return function(element)


def _leaves(element: Element) -> list[Any]:
    if isinstance(element, (tuple, list)):
        return [leaf for e in element for leaf in _leaves(e)]
    if isinstance(element, dict):
        return [leaf for value in element.values() for leaf in _leaves(value)]
    return [element]


def _check_count(
    value: object, method: str, *, name: str = "count", minimum: int = 0, allow_all: bool = False
) -> int:
    """An integer argument of a Dataset method: >= ``minimum``, or -1 (all) if allowed."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{method}: {name} must be an integer. Received: {name}={value!r}")
    if value < minimum and not (allow_all and value == -1):
        accepted = f">= {minimum}" + (" or -1" if allow_all else "")
        raise ValueError(f"{method}: {name} must be {accepted}. Received: {name}={value}")
    return int(value)
