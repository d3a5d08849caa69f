"""Normalization: standardise inputs with a mean and variance given or learned by ``adapt``."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import torch

from cnnkit.layers._base import Layer

_EPSILON = 1e-7  # Keras' backend.epsilon(): floor of the standard deviation


def _check_axis(axis: Any) -> tuple[int, ...]:
    if axis is None:
        return ()
    if isinstance(axis, int) and not isinstance(axis, bool):
        return (axis,)
    if isinstance(axis, (tuple, list)) and all(
        isinstance(a, int) and not isinstance(a, bool) for a in axis
    ):
        return tuple(axis)
    raise TypeError(
        f"Normalization: axis must be an int, a tuple of ints or None. Received: axis={axis!r}"
    )


def _check_statistics(mean: Any, variance: Any, axis: tuple[int, ...]) -> tuple[Any, Any]:
    if (mean is None) != (variance is None):
        raise ValueError(
            "Normalization: give both mean and variance, or neither (then call adapt). "
            f"Received: mean={mean!r}, variance={variance!r}"
        )
    if mean is None:
        return None, None
    try:
        mean_array = np.asarray(mean, dtype=np.float64)
        variance_array = np.asarray(variance, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            "Normalization: mean and variance must be numbers or nested lists/arrays of numbers. "
            f"Received: mean={mean!r}, variance={variance!r}"
        ) from None
    if mean_array.shape != variance_array.shape or mean_array.ndim > len(axis):
        raise ValueError(
            "Normalization: mean and variance must have the same shape, of rank <= the number of "
            f"axes {axis}. Received: mean shape {mean_array.shape}, variance shape "
            f"{variance_array.shape}"
        )
    if (variance_array < 0).any():
        raise ValueError(f"Normalization: variance must be >= 0. Received: variance={variance!r}")
    return mean_array.tolist(), variance_array.tolist()


class Normalization(Layer):
    """Standardise features to zero mean and unit variance: ``(x - mean) / sqrt(variance)``.

    Centred, equally scaled inputs keep the first layers' activations in a useful range.
    Any input shape; the output has the same shape.

    Args:
        axis: the axes that keep their own statistics: -1 (default) one mean per channel,
            (1, 2, 3) one per pixel and channel, None one mean for everything.
        mean: the mean, broadcast to the kept axes; None to compute it with ``adapt(x)``.
        variance: the variance, given together with ``mean``.
        invert: map standardised values back (``mean + x * sqrt(variance)``).

    Example:
        >>> layer = Normalization()
        >>> layer.adapt(np.array([[0.0, 7.0], [2.0, 9.0]]))
        >>> layer(np.array([[0.0, 7.0]])).tolist()
        [[-1.0, -1.0]]
    """

    def __init__(
        self,
        axis: int | tuple[int, ...] | None = -1,
        mean: Any = None,
        variance: Any = None,
        invert: bool = False,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.axis = _check_axis(axis)
        self.mean, self.variance = _check_statistics(mean, variance, self.axis)
        self.invert = bool(invert)
        self._keep: tuple[int, ...] = ()
        self._reduce: tuple[int, ...] = ()
        self._broadcast: list[int] = []

    # ----------------------------------------------------------------- building
    def check_input_shape(self, input_shape):
        rank = len(input_shape)
        if any(not -rank <= a < rank for a in self.axis):
            raise ValueError(
                f"{self._owner()}: every axis must be in [-{rank}, {rank}) for inputs of shape "
                f"{tuple(input_shape)}. Received: axis={self.axis}"
            )
        keep = sorted(a % rank for a in self.axis)
        if any(input_shape[a] is None for a in keep):
            raise ValueError(
                f"{self._owner()}: the kept axes {tuple(keep)} must have known sizes; received "
                f"shape {tuple(input_shape)}"
            )
        if self.built and [input_shape[a] for a in keep] != [self._broadcast[a] for a in keep]:
            raise ValueError(
                f"{self._owner()} was built for inputs of shape {self.input_shape}; received "
                f"shape {tuple(input_shape)}"
            )

    def build(self, input_shape):
        rank = len(input_shape)
        self._keep = tuple(sorted(a % rank for a in self.axis))
        self._reduce = tuple(d for d in range(rank) if d not in self._keep)
        self._broadcast = [input_shape[d] if d in self._keep else 1 for d in range(rank)]
        kept_shape = tuple(input_shape[d] for d in self._keep)
        if self.mean is None:
            self.register_buffer("adapt_mean", torch.zeros(kept_shape, dtype=self.dtype))
            self.register_buffer("adapt_variance", torch.ones(kept_shape, dtype=self.dtype))
            self.register_buffer("count", torch.zeros((), dtype=torch.int64))
            return
        mean, variance = (self._broadcast_given(v) for v in (self.mean, self.variance))
        self.register_buffer("fixed_mean", mean, persistent=False)
        self.register_buffer("fixed_variance", variance, persistent=False)

    def _broadcast_given(self, value: Any) -> torch.Tensor:
        """Place a given mean/variance on the kept axes (trailing dimensions first), as Keras."""
        array = np.asarray(value, dtype=np.float64)
        expanded = [1] * len(self._broadcast)
        for i in range(1, array.ndim + 1):
            expanded[self._keep[-i]] = array.shape[-i]
        tensor = torch.as_tensor(array.reshape(expanded), dtype=self.dtype)
        return tensor.expand(self._broadcast).clone()

    # ----------------------------------------------------------------- weights, Keras' way
    def keras_weights(self) -> list[torch.Tensor]:
        if not self.built or self.mean is not None:
            return []
        return [self.adapt_mean, self.adapt_variance, self.count]

    @property
    def non_trainable_weights(self) -> list[torch.Tensor]:
        """The adapted mean, variance and sample count (none when the statistics were given)."""
        return self.keras_weights()

    # ----------------------------------------------------------------- statistics
    def adapt(self, data: Any) -> None:
        """Compute the mean and variance of ``data`` over every axis but ``axis`` (replacing any
        previous statistics).

        Args:
            data: a NumPy array, a torch.Tensor, or an iterable of batches (arrays, tensors, or
                (x, y) tuples such as a DataLoader yields), each of shape (batch, ...).
        """
        if self.mean is not None:
            raise ValueError(
                f"{self._owner()}: adapt() cannot replace a mean and variance given to the "
                "constructor; create the layer without them"
            )
        mean = variance = None
        total = 0
        for batch in _batches(data, self._owner()):
            if not self.built:
                self.build_for(tuple(batch.shape))
            self.check_input_shape((None, *batch.shape[1:]))
            count = math.prod(batch.shape[d] for d in self._reduce)
            if count == 0:
                continue
            batch_mean = batch.mean(dim=self._reduce)
            batch_var = batch.var(dim=self._reduce, correction=0)
            if mean is None:
                mean, variance, total = batch_mean, batch_var, count
                continue
            total += count
            weight = count / total
            new_mean = mean * (1 - weight) + batch_mean * weight
            variance = (variance + (mean - new_mean) ** 2) * (1 - weight) + (
                batch_var + (batch_mean - new_mean) ** 2
            ) * weight
            mean = new_mean
        if mean is None:
            raise ValueError(f"{self._owner()}: adapt() received no data (an empty iterable)")
        with torch.no_grad():
            self.adapt_mean.copy_(mean)
            self.adapt_variance.copy_(variance)
            self.count.fill_(total)

    # ----------------------------------------------------------------- calling
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mean is None:
            mean = self.adapt_mean.reshape(self._broadcast)
            variance = self.adapt_variance.reshape(self._broadcast)
        else:
            mean, variance = self.fixed_mean, self.fixed_variance
        std = torch.clamp(torch.sqrt(variance), min=_EPSILON).to(x.dtype)
        mean = mean.to(x.dtype)
        return mean + x * std if self.invert else (x - mean) / std

    def extra_repr(self) -> str:
        return f"name={self.name!r}, axis={self.axis}, invert={self.invert}"


def _batches(data: Any, owner: str, chunk: int = 4096) -> Iterable[torch.Tensor]:
    """Yield float64 tensors from an array or a tensor (in chunks of ``chunk`` samples, to bound
    memory), or from an iterable of batches."""
    if isinstance(data, (np.ndarray, torch.Tensor)):
        if data.ndim == 0:
            raise ValueError(f"{owner}: adapt() needs data with a batch axis. Received a scalar")
        for start in range(0, max(len(data), 1), chunk):
            yield _as_float64(data[start : start + chunk], owner)
        return
    if not isinstance(data, Iterable) or isinstance(data, (str, bytes)):
        raise TypeError(
            f"{owner}: adapt() takes a NumPy array, a torch.Tensor or an iterable of batches. "
            f"Received: {type(data).__name__}"
        )
    for batch in data:
        if isinstance(batch, (tuple, list)) and batch:
            batch = batch[0]  # (x, y) pairs: the inputs are what gets normalized
        yield _as_float64(batch, owner)


def _as_float64(batch: Any, owner: str) -> torch.Tensor:
    if isinstance(batch, torch.Tensor):
        return batch.detach().to(torch.float64)
    if isinstance(batch, np.ndarray):
        return torch.from_numpy(np.asarray(batch, dtype=np.float64))
    raise TypeError(
        f"{owner}: adapt() batches must be NumPy arrays or torch.Tensors (or (x, y) tuples of "
        f"them). Received: {type(batch).__name__}"
    )
