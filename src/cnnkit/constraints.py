"""Weight constraints applied after each optimizer step (max_norm, non_neg, unit_norm, ...)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from cnnkit._registry import Registry
from cnnkit._validation import check_number

__all__ = [
    "Constraint",
    "MaxNorm",
    "MinMaxNorm",
    "NonNeg",
    "UnitNorm",
    "get",
    "serialize",
    "deserialize",
]

_EPSILON = 1e-7  # Keras' backend epsilon, keeps the norm division finite


class Constraint:
    """Base class: ``constraint(w)`` returns the projected weights (same Keras-layout shape)."""

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        return w

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments, for saving a model as JSON."""
        return dict(vars(self))


def _norms(w: torch.Tensor, axis: int | Sequence[int], owner: str = "Constraint") -> torch.Tensor:
    dims = [axis] if isinstance(axis, int) else list(axis)
    if not all(-w.ndim <= d < w.ndim for d in dims):
        raise ValueError(
            f"{owner}: axis {axis!r} is out of range for weights of shape {tuple(w.shape)} "
            "(Keras' layout: Dense (in, out), Conv2D (kh, kw, in, out))"
        )
    return torch.sqrt(torch.sum(w.square(), dim=dims, keepdim=True))


def _check_axis(axis: Any, owner: str) -> int | tuple[int, ...]:
    """Return ``axis`` (an int or a sequence of ints) as given, or raise a TypeError naming it."""
    if isinstance(axis, int) and not isinstance(axis, bool):
        return axis
    if isinstance(axis, Sequence) and not isinstance(axis, str) and axis:
        if all(isinstance(a, int) and not isinstance(a, bool) for a in axis):
            return axis
    raise TypeError(f"{owner}: axis must be an int or a sequence of ints. Received: axis={axis!r}")


class MaxNorm(Constraint):
    """Rescale each unit's incoming weights so their L2 norm is at most ``max_value``.

    ``axis`` refers to Keras' layout: 0 for Dense (in, out); [0, 1, 2] for Conv2D (kh, kw, in, out).
    """

    def __init__(self, max_value: float = 2.0, axis: int | Sequence[int] = 0):
        self.max_value = check_number(max_value, "max_value", "MaxNorm", minimum=0)
        self.axis = _check_axis(axis, "MaxNorm")

    def __call__(self, w):
        norms = _norms(w, self.axis, "MaxNorm")
        desired = norms.clamp(0, self.max_value)
        return w * (desired / (_EPSILON + norms))


class MinMaxNorm(Constraint):
    """Keep each unit's weight norm within [min_value, max_value], moving ``rate`` of the way."""

    def __init__(
        self,
        min_value: float = 0.0,
        max_value: float = 1.0,
        rate: float = 1.0,
        axis: int | Sequence[int] = 0,
    ):
        self.min_value = check_number(min_value, "min_value", "MinMaxNorm", minimum=0)
        self.max_value = check_number(max_value, "max_value", "MinMaxNorm", minimum=self.min_value)
        self.rate = check_number(
            rate, "rate", "MinMaxNorm", minimum=0, maximum=1, exclusive_minimum=True
        )
        self.axis = _check_axis(axis, "MinMaxNorm")

    def __call__(self, w):
        norms = _norms(w, self.axis, "MinMaxNorm")
        desired = self.rate * norms.clamp(self.min_value, self.max_value) + (1 - self.rate) * norms
        return w * (desired / (_EPSILON + norms))


class NonNeg(Constraint):
    """Set negative weights to zero."""

    def __call__(self, w):
        return w.clamp_min(0)


class UnitNorm(Constraint):
    """Scale each unit's incoming weights to unit L2 norm."""

    def __init__(self, axis: int | Sequence[int] = 0):
        self.axis = _check_axis(axis, "UnitNorm")

    def __call__(self, w):
        return w / (_EPSILON + _norms(w, self.axis, "UnitNorm"))


REGISTRY = Registry(
    "constraints",
    "constraint",
    {
        "max_norm": MaxNorm,
        "min_max_norm": MinMaxNorm,
        "non_neg": NonNeg,
        "unit_norm": UnitNorm,
    },
    base=Constraint,
    expected="a name, a Constraint, a callable or None",
    callables=True,
    none=None,
)


def get(
    identifier: Any, owner: str | None = None, argument: str = "constraint"
) -> Constraint | None:
    """Resolve None, a name ('max_norm', 'non_neg', 'unit_norm', 'min_max_norm') or a callable."""
    return REGISTRY.get(identifier, owner, argument)


def serialize(constraint: Constraint) -> dict[str, Any]:
    """Return a JSON-able description of a built-in constraint."""
    return REGISTRY.serialize(constraint)


def deserialize(config: dict[str, Any]) -> Constraint:
    """Rebuild a built-in constraint from :func:`serialize`'s output."""
    return REGISTRY.deserialize(config)
