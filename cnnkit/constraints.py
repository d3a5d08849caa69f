"""Weight constraints applied after each optimizer step (max_norm, non_neg, unit_norm, ...)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from cnnkit._validation import did_you_mean

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


def _norms(w: torch.Tensor, axis: int | Sequence[int]) -> torch.Tensor:
    dims = [axis] if isinstance(axis, int) else list(axis)
    return torch.sqrt(torch.sum(w.square(), dim=dims, keepdim=True))


class MaxNorm(Constraint):
    """Rescale each unit's incoming weights so their L2 norm is at most ``max_value``.

    ``axis`` refers to Keras' layout: 0 for Dense (in, out); [0, 1, 2] for Conv2D (kh, kw, in, out).
    """

    def __init__(self, max_value: float = 2.0, axis: int | Sequence[int] = 0):
        self.max_value, self.axis = float(max_value), axis

    def __call__(self, w):
        norms = _norms(w, self.axis)
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
        self.min_value, self.max_value, self.rate, self.axis = (
            float(min_value),
            float(max_value),
            float(rate),
            axis,
        )

    def __call__(self, w):
        norms = _norms(w, self.axis)
        desired = self.rate * norms.clamp(self.min_value, self.max_value) + (1 - self.rate) * norms
        return w * (desired / (_EPSILON + norms))


class NonNeg(Constraint):
    """Set negative weights to zero."""

    def __call__(self, w):
        return w.clamp_min(0)


class UnitNorm(Constraint):
    """Scale each unit's incoming weights to unit L2 norm."""

    def __init__(self, axis: int | Sequence[int] = 0):
        self.axis = axis

    def __call__(self, w):
        return w / (_EPSILON + _norms(w, self.axis))


_BY_NAME = {
    "max_norm": MaxNorm,
    "min_max_norm": MinMaxNorm,
    "non_neg": NonNeg,
    "unit_norm": UnitNorm,
}


def get(
    identifier: Any, owner: str | None = None, argument: str = "constraint"
) -> Constraint | None:
    """Resolve None, a name ('max_norm', 'non_neg', 'unit_norm', 'min_max_norm') or a callable."""
    if identifier is None:
        return None
    if isinstance(identifier, str):
        key = identifier.lower()
        if key in _BY_NAME:
            return _BY_NAME[key]()
        prefix = f"{owner}: " if owner else ""
        raise ValueError(
            f"{prefix}unknown {argument} {identifier!r}. Accepted: "
            + ", ".join(repr(n) for n in _BY_NAME)
            + ", None, a Constraint or a callable."
            + did_you_mean(key, _BY_NAME)
        )
    if callable(identifier):
        return identifier
    prefix = f"{owner}: " if owner else ""
    raise TypeError(
        f"{prefix}{argument} must be a name, a Constraint, a callable or None. Received: {argument}={identifier!r}"
    )


def serialize(constraint: Constraint) -> dict[str, Any]:
    """Return a JSON-able description of a built-in constraint."""
    for name, cls in _BY_NAME.items():
        if type(constraint) is cls:
            config = {
                k: list(v) if isinstance(v, tuple) else v
                for k, v in constraint.get_config().items()
            }
            return {"class_name": name, "config": config}
    raise ValueError(f"constraint {constraint!r} is not built in, so it cannot be saved by name")


def deserialize(config: dict[str, Any]) -> Constraint:
    """Rebuild a built-in constraint from :func:`serialize`'s output."""
    name = config.get("class_name")
    if name not in _BY_NAME:
        raise ValueError(
            f"unknown constraint {name!r} in saved config; accepted: {sorted(_BY_NAME)}"
        )
    return _BY_NAME[name](**config.get("config", {}))
