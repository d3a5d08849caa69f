"""LayerNormalization and GroupNormalization: normalise each sample by its own statistics
(no batch statistics, so training and inference compute the same thing)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from cnnkit import constraints, initializers, regularizers
from cnnkit._validation import check_number
from cnnkit.layers._base import Layer


class _SampleNormalization(Layer):
    """The learned scale (gamma) and offset (beta) both layers share, with their arguments."""

    def _set_affine(self, epsilon, center, scale, initializers_, regularizers_, constraints_):
        """Validate and keep epsilon, center, scale and the gamma/beta objects."""
        owner = type(self).__name__
        self.epsilon = check_number(epsilon, "epsilon", owner, minimum=0, exclusive_minimum=True)
        self.center, self.scale = bool(center), bool(scale)
        names = ("beta", "gamma")
        for name, value in zip(names, initializers_):
            key = f"{name}_initializer"
            setattr(self, key, initializers.get(value, owner, key))
        for name, value in zip(names, regularizers_):
            key = f"{name}_regularizer"
            setattr(self, key, regularizers.get(value, owner, key))
        for name, value in zip(names, constraints_):
            key = f"{name}_constraint"
            setattr(self, key, constraints.get(value, owner, key))
        self.register_parameter("gamma", None)
        self.register_parameter("beta", None)

    def _create_affine(self, shape: tuple[int, ...]) -> None:
        if self.scale:
            self.gamma = self._create_weight("gamma", shape, self.gamma_initializer)
        if self.center:
            self.beta = self._create_weight("beta", shape, self.beta_initializer)

    def keras_weights(self):
        return [w for w in (self.gamma, self.beta) if w is not None]

    def _weight_regularizers(self):
        return [("gamma", self.gamma_regularizer), ("beta", self.beta_regularizer)]

    def _weight_constraints(self):
        return [("gamma", self.gamma_constraint), ("beta", self.beta_constraint)]


def _axes(axis: Any, owner: str) -> tuple[int, ...]:
    """``axis`` (an int or a list of ints) as a tuple, else a TypeError naming the layer."""
    values = list(axis) if isinstance(axis, Sequence) and not isinstance(axis, str) else [axis]
    if not values or not all(isinstance(a, int) and not isinstance(a, bool) for a in values):
        raise TypeError(
            f"{owner}: axis must be an int or a list of ints (never 0, the batch axis). "
            f"Received: axis={axis!r}"
        )
    return tuple(values)


class LayerNormalization(_SampleNormalization):
    """Normalise each sample over ``axis`` (default: the features/channels) to mean 0 and
    variance 1, then scale by gamma and shift by beta, as in Transformers and ConvNeXt.

    gamma and beta have the sizes of the normalised axes. Input and output shapes are equal.

    Example:
        >>> LayerNormalization().build_for((None, 10, 16))
        (None, 10, 16)
    """

    def __init__(
        self,
        axis: int | Sequence[int] = -1,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer: Any = "zeros",
        gamma_initializer: Any = "ones",
        beta_regularizer: Any = None,
        gamma_regularizer: Any = None,
        beta_constraint: Any = None,
        gamma_constraint: Any = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self._axes = _axes(axis, type(self).__name__)
        self.axis = list(axis) if isinstance(axis, Sequence) else axis
        self._set_affine(
            epsilon,
            center,
            scale,
            (beta_initializer, gamma_initializer),
            (beta_regularizer, gamma_regularizer),
            (beta_constraint, gamma_constraint),
        )

    def _resolved(self, input_shape: tuple) -> list[int]:
        rank = len(input_shape)
        resolved = sorted({a % rank for a in self._axes if -rank <= a < rank})
        if len(resolved) != len(self._axes) or 0 in resolved:
            raise ValueError(
                f"{self._owner()}: axis {self.axis} is not a set of feature axes of inputs of "
                f"shape {input_shape} (allowed: 1..{rank - 1} or -1..-{rank - 1})"
            )
        if any(input_shape[a] is None for a in resolved):
            raise ValueError(
                f"{self._owner()}: the sizes of axis {self.axis} must be known; received shape "
                f"{input_shape}"
            )
        return resolved

    def check_input_shape(self, input_shape):
        resolved = self._resolved(input_shape)
        if self.built and tuple(input_shape[a] for a in resolved) != self._sizes:
            raise ValueError(
                f"{self._owner()} was built for sizes {self._sizes} on axis {self.axis}; "
                f"received inputs of shape {input_shape}"
            )

    def build(self, input_shape):
        self._sizes = tuple(input_shape[a] for a in self._resolved(input_shape))
        self._create_affine(self._sizes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rank = x.ndim
        axes = sorted({a % rank for a in self._axes if -rank <= a < rank})
        if len(axes) != len(self._axes) or tuple(x.shape[a] for a in axes) != self._sizes:
            self.check_input_shape((None, *x.shape[1:]))
        if axes == list(range(rank - len(axes), rank)):  # trailing axes: PyTorch's fused kernel
            return F.layer_norm(x, self._sizes, self.gamma, self.beta, self.epsilon)
        variance, mean = torch.var_mean(x, dim=axes, keepdim=True, correction=0)
        y = (x - mean) * torch.rsqrt(variance + self.epsilon)
        shape = [x.shape[a] if a in axes else 1 for a in range(rank)]
        if self.gamma is not None:
            y = y * self.gamma.reshape(shape)
        return y if self.beta is None else y + self.beta.reshape(shape)


class GroupNormalization(_SampleNormalization):
    """Normalise each sample within ``groups`` groups of consecutive channels (Wu & He, 2018):
    batch-size independent, so it suits small batches; ``groups=1`` normalises all channels
    together, ``groups=-1`` each channel alone (instance normalization).

    gamma and beta have one value per channel. Input and output shapes are equal.

    Example:
        >>> GroupNormalization(groups=4).build_for((None, 8, 8, 16))
        (None, 8, 8, 16)
    """

    def __init__(
        self,
        groups: int = 32,
        axis: int = -1,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer: Any = "zeros",
        gamma_initializer: Any = "ones",
        beta_regularizer: Any = None,
        gamma_regularizer: Any = None,
        beta_constraint: Any = None,
        gamma_constraint: Any = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        owner = type(self).__name__
        if isinstance(groups, bool) or not isinstance(groups, int) or (groups < 1 and groups != -1):
            raise ValueError(
                f"{owner}: groups must be a positive int, or -1 for one group per channel. "
                f"Received: groups={groups!r}"
            )
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise TypeError(f"{owner}: axis must be an int. Received: axis={axis!r}")
        self.groups, self.axis = groups, axis
        self._set_affine(
            epsilon,
            center,
            scale,
            (beta_initializer, gamma_initializer),
            (beta_regularizer, gamma_regularizer),
            (beta_constraint, gamma_constraint),
        )

    def check_input_shape(self, input_shape):
        rank = len(input_shape)
        if not -rank <= self.axis < rank or self.axis % rank == 0:
            raise ValueError(
                f"{self._owner()}: axis {self.axis} is not a channel axis of inputs of shape "
                f"{input_shape}"
            )
        channels = input_shape[self.axis]
        if channels is None:
            raise ValueError(
                f"{self._owner()}: the size of axis {self.axis} must be known; received shape "
                f"{input_shape}"
            )
        if self.groups != -1 and channels % self.groups:
            raise ValueError(
                f"{self._owner()}: the {channels} channels of inputs of shape {input_shape} "
                f"cannot be split into groups={self.groups} equal groups; use a divisor of "
                f"{channels}"
            )
        if self.built and channels != self._channels:
            raise ValueError(
                f"{self._owner()} was built for {self._channels} channels on axis {self.axis}; "
                f"received inputs of shape {input_shape}"
            )

    def build(self, input_shape):
        self._channels = input_shape[self.axis]
        self._create_affine((self._channels,))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not -x.ndim < self.axis < x.ndim or x.shape[self.axis] != self._channels:
            self.check_input_shape((None, *x.shape[1:]))
        axis = self.axis % x.ndim
        moved = x if axis == 1 else x.movedim(axis, 1)
        groups = self._channels if self.groups == -1 else self.groups
        y = F.group_norm(moved, groups, self.gamma, self.beta, self.epsilon)
        return y if axis == 1 else y.movedim(1, axis)
