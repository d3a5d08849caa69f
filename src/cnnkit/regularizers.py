"""Weight penalties (L1, L2) whose values reach the training loss through ``model.losses``."""

from __future__ import annotations

import math
from typing import Any

import torch

from cnnkit._registry import Registry

__all__ = [
    "Regularizer",
    "L1",
    "L2",
    "L1L2",
    "l1",
    "l2",
    "l1_l2",
    "get",
    "serialize",
    "deserialize",
]


class Regularizer:
    """Base class: ``regularizer(weights)`` returns a scalar penalty tensor."""

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments, for saving a model as JSON."""
        return dict(vars(self))


class L1L2(Regularizer):
    """``l1 * sum(|x|) + l2 * sum(x**2)``."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0):
        for name, value in (("l1", l1), ("l2", l2)):
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not math.isfinite(value)
                or value < 0
            ):
                raise ValueError(
                    f"{type(self).__name__}: {name} must be a finite float >= 0. Received: {name}={value!r}"
                )
        self.l1, self.l2 = float(l1), float(l2)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        penalty = x.new_zeros(())
        if self.l1:
            penalty = penalty + self.l1 * x.abs().sum()
        if self.l2:
            penalty = penalty + self.l2 * x.square().sum()
        return penalty


class L1(L1L2):
    """``l1 * sum(|x|)`` (l1 = 0.01 by default, as Keras)."""

    def __init__(self, l1: float = 0.01):
        super().__init__(l1=l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(L1L2):
    """``l2 * sum(x**2)`` (l2 = 0.01 by default, as Keras)."""

    def __init__(self, l2: float = 0.01):
        super().__init__(l2=l2)

    def get_config(self):
        return {"l2": self.l2}


def l1_l2(l1: float = 0.01, l2: float = 0.01) -> L1L2:
    """Keras' ``l1_l2`` shortcut: both penalties, 0.01 each by default."""
    return L1L2(l1, l2)


l1 = L1
l2 = L2

REGISTRY = Registry(
    "regularizers",
    "regularizer",
    {"l1": L1, "l2": L2, "l1_l2": l1_l2, "L1L2": L1L2},
    base=Regularizer,
    expected="a name, a Regularizer, a callable or None",
    callables=True,
    none=None,
)


def get(
    identifier: Any, owner: str | None = None, argument: str = "regularizer"
) -> Regularizer | None:
    """Resolve None, a name ('l1', 'l2', 'l1_l2'), a Regularizer or a callable."""
    return REGISTRY.get(identifier, owner, argument)


def serialize(regularizer: Regularizer) -> dict[str, Any]:
    """Return a JSON-able description of a built-in regularizer (every L1/L2 mix as ``L1L2``)."""
    if isinstance(regularizer, L1L2):
        regularizer = L1L2(regularizer.l1, regularizer.l2)
    return REGISTRY.serialize(regularizer)


def deserialize(config: dict[str, Any]) -> Regularizer:
    """Rebuild a regularizer from :func:`serialize`'s output."""
    return REGISTRY.deserialize(config)
