"""Keras' built-in schedules: exponential, piecewise-constant, polynomial, inverse-time and
cosine (with warmup, or with warm restarts) decay, computed in float64 with NumPy."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from cnnkit._lr_schedule_base import (
    LearningRateSchedule,
    as_result,
    as_steps,
    check_decay_steps,
    check_name,
    check_rate,
)
from cnnkit._validation import check_bool, check_number

__all__ = [
    "ExponentialDecay",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
    "InverseTimeDecay",
    "CosineDecay",
    "CosineDecayRestarts",
]


class _StepDecay(LearningRateSchedule):
    """What ExponentialDecay and InverseTimeDecay share: their arguments and the progress
    ``step / decay_steps`` (floored when ``staircase``); each gives its own ``_decay``."""

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: float,
        decay_rate: float,
        staircase: bool = False,
        name: str | None = None,
    ):
        owner = type(self).__name__
        self.initial_learning_rate = check_rate(
            initial_learning_rate, "initial_learning_rate", owner
        )
        self.decay_steps = check_decay_steps(decay_steps, "decay_steps", owner)
        self.decay_rate = check_number(decay_rate, "decay_rate", owner, minimum=0)
        self.staircase = check_bool(staircase, "staircase", owner)
        self.name = check_name(owner if name is None else name, owner)

    def __call__(self, step: Any) -> Any:
        progress = as_steps(step) / self.decay_steps
        return as_result(self._decay(np.floor(progress) if self.staircase else progress))

    def _decay(self, progress: Any) -> Any:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        """The constructor's arguments."""
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


class ExponentialDecay(_StepDecay):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)`` (the exponent floored
    when ``staircase``).

    Example:
        >>> schedule = ExponentialDecay(0.1, decay_steps=1000, decay_rate=0.5)
        >>> schedule(2000)
        0.025
    """

    def _decay(self, progress: Any) -> Any:
        return self.initial_learning_rate * np.power(self.decay_rate, progress)


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` while ``step <= boundaries[0]``, ``values[i]`` while
    ``boundaries[i-1] < step <= boundaries[i]``, ``values[-1]`` after the last boundary.

    Example:
        >>> schedule = PiecewiseConstantDecay([100, 200], [0.1, 0.01, 0.001])
        >>> schedule(100), schedule(101), schedule(500)
        (0.1, 0.01, 0.001)
    """

    def __init__(
        self, boundaries: Sequence[float], values: Sequence[float], name: str = "PiecewiseConstant"
    ):
        owner = type(self).__name__
        boundaries, values = _number_list(boundaries, "boundaries"), _number_list(values, "values")
        if not boundaries or len(boundaries) != len(values) - 1:
            raise ValueError(
                f"{owner}: the length of boundaries should be 1 less than the length of values, "
                f"and at least 1. Received: boundaries={boundaries} of length {len(boundaries)}, "
                f"and values={values} of length {len(values)}."
            )
        if any(b >= c for b, c in zip(boundaries, boundaries[1:])):
            raise ValueError(
                f"{owner}: boundaries must be increasing. Received: boundaries={boundaries}"
            )
        for value in values:
            check_rate(value, "values", owner)
        self.boundaries, self.values, self.name = boundaries, values, check_name(name, owner)

    def __call__(self, step: Any) -> Any:
        index = np.searchsorted(np.asarray(self.boundaries, np.float64), as_steps(step), "left")
        return as_result(np.asarray(self.values, np.float64)[index])

    def get_config(self) -> dict[str, Any]:
        """The constructor's arguments."""
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


def _number_list(value: Any, name: str) -> list:
    if not isinstance(value, (list, tuple)) or not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value
    ):
        raise TypeError(
            f"PiecewiseConstantDecay: {name} must be a list of finite numbers. "
            f"Received: {name}={value!r:.200}"
        )
    return list(value)


class PolynomialDecay(LearningRateSchedule):
    """From ``initial_learning_rate`` to ``end_learning_rate`` over ``decay_steps`` along
    ``(1 - step / decay_steps) ** power``; then constant, or restarting when ``cycle``.

    Example:
        >>> PolynomialDecay(0.1, decay_steps=100, end_learning_rate=0.0)(50)
        0.05
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: float,
        end_learning_rate: float = 0.0001,
        power: float = 1.0,
        cycle: bool = False,
        name: str = "PolynomialDecay",
    ):
        owner = type(self).__name__
        self.initial_learning_rate = check_rate(
            initial_learning_rate, "initial_learning_rate", owner
        )
        self.decay_steps = check_decay_steps(decay_steps, "decay_steps", owner)
        self.end_learning_rate = check_rate(end_learning_rate, "end_learning_rate", owner)
        self.power = check_number(power, "power", owner, minimum=0)
        self.cycle = check_bool(cycle, "cycle", owner)
        self.name = check_name(name, owner)

    def __call__(self, step: Any) -> Any:
        step = as_steps(step)
        if self.cycle:  # the first multiple of decay_steps above step (1 at step 0)
            decay_steps = self.decay_steps * np.where(
                step == 0, 1.0, np.ceil(step / self.decay_steps)
            )
        else:
            decay_steps, step = self.decay_steps, np.minimum(step, self.decay_steps)
        fraction = np.power(1 - step / decay_steps, self.power)
        start, end = self.initial_learning_rate, self.end_learning_rate
        return as_result((start - end) * fraction + end)

    def get_config(self) -> dict[str, Any]:
        """The constructor's arguments."""
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "end_learning_rate": self.end_learning_rate,
            "power": self.power,
            "cycle": self.cycle,
            "name": self.name,
        }


class InverseTimeDecay(_StepDecay):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)`` (the ratio floored
    when ``staircase``).

    Example:
        >>> InverseTimeDecay(0.1, decay_steps=10, decay_rate=1.0)(10)
        0.05
    """

    def _decay(self, progress: Any) -> Any:
        return self.initial_learning_rate / (1 + self.decay_rate * progress)


def _cosine(fraction: Any, alpha: float) -> Any:
    """Half a cosine from 1 (fraction 0) down to ``alpha`` (fraction 1)."""
    return (1 - alpha) * 0.5 * (1 + np.cos(math.pi * fraction)) + alpha


class CosineDecay(LearningRateSchedule):
    """Optionally a linear warmup from ``initial_learning_rate`` to ``warmup_target`` over
    ``warmup_steps``, then a half cosine over ``decay_steps`` down to ``alpha`` times the
    rate it started from, constant afterwards.

    Example:
        >>> CosineDecay(0.1, decay_steps=100)(50)
        0.05
        >>> CosineDecay(0.0, decay_steps=100, warmup_target=0.1, warmup_steps=10)(5)
        0.05
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: float,
        alpha: float = 0.0,
        name: str = "CosineDecay",
        warmup_target: float | None = None,
        warmup_steps: float = 0,
    ):
        owner = type(self).__name__
        self.initial_learning_rate = check_rate(
            initial_learning_rate, "initial_learning_rate", owner
        )
        self.decay_steps = check_decay_steps(decay_steps, "decay_steps", owner)
        self.alpha = check_number(alpha, "alpha", owner, minimum=0)
        self.name = check_name(name, owner)
        self.warmup_target = check_number(
            warmup_target, "warmup_target", owner, minimum=0, optional=True
        )
        number = check_number(warmup_steps, "warmup_steps", owner, minimum=0)
        self.warmup_steps = warmup_steps if isinstance(warmup_steps, int) else number

    def __call__(self, step: Any) -> Any:
        step = as_steps(step)
        if self.warmup_target is None:
            step = np.minimum(step, self.decay_steps)
            fraction = step / self.decay_steps
            return as_result(self.initial_learning_rate * _cosine(fraction, self.alpha))
        start, target, warmup = self.initial_learning_rate, self.warmup_target, self.warmup_steps
        step = np.minimum(step, self.decay_steps + warmup)
        with np.errstate(divide="ignore", invalid="ignore"):  # warmup_steps 0: never warming
            warming = (target - start) * (step / warmup) + start
        decaying = target * _cosine((step - warmup) / self.decay_steps, self.alpha)
        return as_result(np.where(step < warmup, warming, decaying))

    def get_config(self) -> dict[str, Any]:
        """The constructor's arguments."""
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
            "name": self.name,
            "warmup_target": self.warmup_target,
            "warmup_steps": self.warmup_steps,
        }


def _begun(t_mul: float, restart: Any) -> Any:
    """Where period ``restart`` begins, in first periods: ``1 + t + ... + t**(restart - 1)``."""
    return (1.0 - np.power(t_mul, restart)) / (1.0 - t_mul)


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR): each period is ``t_mul`` times longer than the
    last and starts from ``m_mul`` times the previous initial rate.

    Example:
        >>> schedule = CosineDecayRestarts(0.1, first_decay_steps=10)
        >>> schedule(0), schedule(10)  # a restart at step 10
        (0.1, 0.1)
    """

    def __init__(
        self,
        initial_learning_rate: float,
        first_decay_steps: float,
        t_mul: float = 2.0,
        m_mul: float = 1.0,
        alpha: float = 0.0,
        name: str = "SGDRDecay",
    ):
        owner = type(self).__name__
        self.initial_learning_rate = check_rate(
            initial_learning_rate, "initial_learning_rate", owner
        )
        self.first_decay_steps = check_decay_steps(first_decay_steps, "first_decay_steps", owner)
        self.t_mul = check_number(t_mul, "t_mul", owner, minimum=0, exclusive_minimum=True)
        self.m_mul = check_number(m_mul, "m_mul", owner, minimum=0)
        self.alpha = check_number(alpha, "alpha", owner, minimum=0)
        self.name = check_name(name, owner)

    def __call__(self, step: Any) -> Any:
        fraction = as_steps(step) / self.first_decay_steps
        if self.t_mul == 1.0:
            restart = np.floor(fraction)
            fraction = fraction - restart
        else:  # periods 1, t, t**2...: restart i begins at (1 - t**i) / (1 - t)
            t = self.t_mul
            restart = np.floor(np.log(1.0 - fraction * (1.0 - t)) / math.log(t))
            # The logarithm's rounding can land just below a whole number at a restart's
            # first step (log(243) / log(3) = 4.999...): move to the period holding the step.
            restart = restart + (_begun(t, restart + 1) <= fraction)
            restart = restart - (_begun(t, restart) > fraction)
            begun = _begun(t, restart)
            fraction = (fraction - begun) / np.power(t, restart)
        scale = np.power(self.m_mul, restart)
        decayed = (1 - self.alpha) * scale * 0.5 * (1 + np.cos(math.pi * fraction)) + self.alpha
        return as_result(self.initial_learning_rate * decayed)

    def get_config(self) -> dict[str, Any]:
        """The constructor's arguments."""
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "first_decay_steps": self.first_decay_steps,
            "t_mul": self.t_mul,
            "m_mul": self.m_mul,
            "alpha": self.alpha,
            "name": self.name,
        }
