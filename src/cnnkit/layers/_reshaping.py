"""Reshape, Permute and RepeatVector: rearrange each sample's values without changing them (a
decoder's vector back to a small image, axes swapped, a vector repeated as a sequence)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

from cnnkit._validation import check_positive_int
from cnnkit.layers._base import Layer


def _int_sequence(value: Any, name: str, owner: str, example: str) -> tuple[int, ...]:
    """``value`` as a non-empty tuple of ints, else a TypeError naming ``name``."""
    if (
        not isinstance(value, Sequence)
        or isinstance(value, str)
        or not value
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        raise TypeError(
            f"{owner}: {name} must be a non-empty tuple of ints without the batch axis, e.g. "
            f"{example}. Received: {name}={value!r}"
        )
    return tuple(int(v) for v in value)


class Reshape(Layer):
    """Give each sample a new shape holding the same number of values, in the same order.

    One axis of ``target_shape`` may be -1: its size is whatever makes the total match.

    Input shape: (batch, ...) with as many values per sample as ``target_shape`` holds.
    Output shape: (batch, *target_shape).

    Example:
        >>> Reshape((4, 4, 1)).build_for((None, 16))
        (None, 4, 4, 1)
    """

    def __init__(self, target_shape: Sequence[int], **kwargs: Any):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.target_shape = _int_sequence(target_shape, "target_shape", owner, "(4, 4, 1)")
        if any(s < -1 or s == 0 for s in self.target_shape) or self.target_shape.count(-1) > 1:
            raise ValueError(
                f"{owner}: target_shape must hold positive sizes and at most one -1 (the size "
                f"that makes the total match). Received: target_shape={target_shape!r}"
            )

    def check_input_shape(self, input_shape):
        sizes = input_shape[1:]
        if any(s is None for s in sizes):
            return
        self._resolved(math.prod(sizes), tuple(input_shape))

    def _resolved(self, total: int, input_shape: tuple) -> tuple[int, ...]:
        """``target_shape`` with its -1 worked out for ``total`` values per sample."""
        known = math.prod(s for s in self.target_shape if s != -1)
        fits = total % known == 0 if -1 in self.target_shape else total == known
        if not fits:
            raise ValueError(
                f"{self._owner()}: cannot reshape inputs of shape {input_shape} ({total} values "
                f"per sample) to target_shape={self.target_shape} ({known} values"
                + (" times the -1 axis" if -1 in self.target_shape else "")
                + ")"
            )
        return tuple(total // known if s == -1 else s for s in self.target_shape)

    def compute_output_shape(self, input_shape):
        sizes = input_shape[1:]
        if any(s is None for s in sizes):
            return (input_shape[0], *(None if s == -1 else s for s in self.target_shape))
        return (input_shape[0], *self._resolved(math.prod(sizes), tuple(input_shape)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        total = math.prod(x.shape[1:])
        return x.reshape(x.shape[0], *self._resolved(total, tuple(x.shape)))


class Permute(Layer):
    """Reorder each sample's axes: ``dims`` lists, for each output axis, the input axis it
    takes (counted from 1, the batch axis stays first).

    Example:
        >>> Permute((2, 1)).build_for((None, 10, 64))
        (None, 64, 10)
    """

    def __init__(self, dims: Sequence[int], **kwargs: Any):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.dims = _int_sequence(dims, "dims", owner, "(2, 1)")
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(
                f"{owner}: dims must be a permutation of 1..{len(self.dims)} (axis 0 is the "
                f"batch). Received: dims={dims!r}"
            )

    def check_input_shape(self, input_shape):
        if len(input_shape) != len(self.dims) + 1:
            raise ValueError(
                f"{self._owner()} with dims={self.dims} expects inputs of rank "
                f"{len(self.dims) + 1}; received shape {input_shape} (rank {len(input_shape)})"
            )

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *(input_shape[d] for d in self.dims))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != len(self.dims) + 1:
            self.check_input_shape(tuple(x.shape))
        return x.permute(0, *self.dims)


class RepeatVector(Layer):
    """Repeat each sample's feature vector ``n`` times: (batch, features) -> (batch, n,
    features), e.g. to feed one encoding to every step of a sequence decoder.

    Example:
        >>> RepeatVector(3).build_for((None, 32))
        (None, 3, 32)
    """

    def __init__(self, n: int, **kwargs: Any):
        super().__init__(**kwargs)
        self.n = check_positive_int(n, "n", type(self).__name__)

    def check_input_shape(self, input_shape):
        if len(input_shape) != 2:
            raise ValueError(
                f"{self._owner()} expects inputs of rank 2 (batch, features); received shape "
                f"{input_shape} (rank {len(input_shape)}) - add Flatten() before it"
            )

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n, input_shape[1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 2:
            self.check_input_shape((None, *x.shape[1:]))
        return x.unsqueeze(1).expand(-1, self.n, -1)
