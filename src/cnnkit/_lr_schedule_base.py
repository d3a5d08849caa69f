"""What every learning-rate schedule shares: the base class and the argument checks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from cnnkit._validation import check_number

__all__ = [
    "LearningRateSchedule",
    "as_result",
    "as_steps",
    "check_decay_steps",
    "check_name",
    "check_rate",
]


class LearningRateSchedule:
    """Base class of schedules: subclass it and define ``__call__(step)`` and ``get_config()``.

    Example:
        >>> class Halving(LearningRateSchedule):
        ...     def __init__(self, initial_learning_rate):
        ...         self.initial_learning_rate = initial_learning_rate
        ...     def __call__(self, step):
        ...         return self.initial_learning_rate * 0.5 ** (step // 100)
        ...     def get_config(self):
        ...         return {"initial_learning_rate": self.initial_learning_rate}
        >>> Halving(0.1)(250)
        0.025
    """

    def __call__(self, step: Any) -> Any:
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override `__call__(self, step)`."
        )

    def get_config(self) -> dict[str, Any]:
        """The constructor's arguments, for saving the schedule as JSON."""
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override `get_config()` "
            "in order to be serializable."
        )

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> LearningRateSchedule:
        """Rebuild a schedule from :meth:`get_config`'s output."""
        return cls(**config)

    def __repr__(self) -> str:
        try:
            arguments = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        except NotImplementedError:
            arguments = "..."
        return f"{type(self).__name__}({arguments})"


def as_steps(step: Any) -> np.ndarray:
    """The step (int, float, 0-d or n-d array or tensor) as float64."""
    if hasattr(step, "detach"):  # a torch tensor
        step = step.detach().cpu().numpy()
    return np.asarray(step, dtype=np.float64)


def as_result(value: np.ndarray) -> Any:
    """A float for one step, an array for many."""
    return float(value) if np.ndim(value) == 0 else value


def check_rate(value: Any, name: str, owner: str) -> float:
    """A learning rate: a finite number >= 0."""
    return check_number(value, name, owner, minimum=0)


def check_decay_steps(value: Any, name: str, owner: str) -> float | int:
    """A number of steps > 0, kept an int when given one (as Keras' configs show it)."""
    number = check_number(value, name, owner, minimum=0, exclusive_minimum=True)
    return value if isinstance(value, int) else number


def check_name(value: Any, owner: str) -> str:
    """The schedule's ``name`` (Keras keeps it in the config), a string."""
    if not isinstance(value, str):
        raise TypeError(f"{owner}: name must be a string. Received: name={value!r}")
    return value
