"""Dropout and BatchNormalization: layers that behave differently in training and inference."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from cnnkit import constraints, initializers, regularizers
from cnnkit._validation import check_fraction, check_int, check_number
from cnnkit.layers._base import Layer


class Dropout(Layer):
    """Zero a ``rate`` fraction of the inputs during training (scaling the rest by 1/(1-rate)).

    Identity in inference (``model.eval()``, ``predict``, ``evaluate``).
    """

    def __init__(
        self, rate: float, noise_shape: Any = None, seed: int | None = None, **kwargs: Any
    ):
        super().__init__(**kwargs)
        self.rate = check_fraction(rate, "rate", "Dropout")
        if noise_shape is not None:
            raise ValueError(
                "Dropout: noise_shape is not supported; use SpatialDropout-style masks in PyTorch"
            )
        self.noise_shape = noise_shape
        self.seed = check_int(seed, "seed", "Dropout", minimum=0, optional=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.dropout(x, self.rate, self.training) if self.rate else x


class BatchNormalization(Layer):
    """Normalise each channel by batch statistics in training and moving averages in inference.

    ``momentum`` follows Keras (moving = momentum * moving + (1 - momentum) * batch, default
    0.99), ``axis`` is the channel axis (-1 for channels-last). Weights in Keras' order:
    gamma, beta, moving_mean, moving_variance; the last two count as non-trainable.
    The moving variance is updated with the unbiased batch variance (PyTorch's fused kernel),
    where Keras uses the biased one: a relative difference of 1/(batch pixels), negligible.
    """

    def __init__(
        self,
        axis: int = -1,
        momentum: float = 0.99,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer: Any = "zeros",
        gamma_initializer: Any = "ones",
        moving_mean_initializer: Any = "zeros",
        moving_variance_initializer: Any = "ones",
        beta_regularizer: Any = None,
        gamma_regularizer: Any = None,
        beta_constraint: Any = None,
        gamma_constraint: Any = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        owner = "BatchNormalization"
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise TypeError(f"{owner}: axis must be an int. Received: axis={axis!r}")
        self.axis = axis
        self.momentum = check_fraction(momentum, "momentum", owner)
        self.epsilon = check_number(epsilon, "epsilon", owner, minimum=0, exclusive_minimum=True)
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer, owner, "beta_initializer")
        self.gamma_initializer = initializers.get(gamma_initializer, owner, "gamma_initializer")
        self.moving_mean_initializer = initializers.get(
            moving_mean_initializer, owner, "moving_mean_initializer"
        )
        self.moving_variance_initializer = initializers.get(
            moving_variance_initializer, owner, "moving_variance_initializer"
        )
        self.beta_regularizer = regularizers.get(beta_regularizer, owner, "beta_regularizer")
        self.gamma_regularizer = regularizers.get(gamma_regularizer, owner, "gamma_regularizer")
        self.beta_constraint = constraints.get(beta_constraint, owner, "beta_constraint")
        self.gamma_constraint = constraints.get(gamma_constraint, owner, "gamma_constraint")
        self.register_parameter("gamma", None)
        self.register_parameter("beta", None)

    def check_input_shape(self, input_shape):
        rank = len(input_shape)
        if not -rank <= self.axis < rank or self.axis % rank == 0:
            raise ValueError(
                f"{self._owner()}: axis {self.axis} is not a feature axis of inputs of shape {input_shape}"
            )
        if input_shape[self.axis] is None:
            raise ValueError(
                f"{self._owner()}: the size of axis {self.axis} must be known; received shape {input_shape}"
            )
        if self.built and input_shape[self.axis] != self.moving_mean.shape[0]:
            raise ValueError(
                f"{self._owner()} was built for {self.moving_mean.shape[0]} features on axis "
                f"{self.axis}; received inputs of shape {input_shape}"
            )

    def build(self, input_shape):
        channels = (input_shape[self.axis],)
        if self.scale:
            self.gamma = self._create_weight("gamma", channels, self.gamma_initializer)
        if self.center:
            self.beta = self._create_weight("beta", channels, self.beta_initializer)
        self.moving_mean = self._create_weight(
            "moving_mean", channels, self.moving_mean_initializer, trainable=False
        )
        self.moving_variance = self._create_weight(
            "moving_variance", channels, self.moving_variance_initializer, trainable=False
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not -x.ndim < self.axis < x.ndim or x.shape[self.axis] != self.moving_mean.shape[0]:
            self.check_input_shape((None, *x.shape[1:]))
        axis = self.axis % x.ndim
        moved = (
            x if axis == 1 else x.movedim(axis, 1)
        )  # a view: channels-last stays in its memory format
        y = F.batch_norm(
            moved,
            self.moving_mean,
            self.moving_variance,
            self.gamma,
            self.beta,
            self.training,
            1.0 - self.momentum,
            self.epsilon,
        )
        return y if axis == 1 else y.movedim(1, axis)

    def keras_weights(self):
        if not self.built:
            return []
        weights = [w for w in (self.gamma, self.beta) if w is not None]
        return weights + [self.moving_mean, self.moving_variance]

    def _weight_regularizers(self):
        return [("gamma", self.gamma_regularizer), ("beta", self.beta_regularizer)]

    def _weight_constraints(self):
        return [("gamma", self.gamma_constraint), ("beta", self.beta_constraint)]
