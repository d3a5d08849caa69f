"""Learning-rate schedules with Keras' names, arguments and values (``cnnkit.optimizers.schedules``).

A schedule maps the optimizer's step count (``optimizer.iterations``, 0 for the first step) to
the learning rate of that step. It takes a number or an array of steps (to plot a schedule:
``schedule(np.arange(1000))``) and returns a float or an array. Values are computed in float64;
Keras computes in float32, so the two agree to about 1e-7 relative.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cnnkit._lr_schedule_base import LearningRateSchedule as LearningRateSchedule
from cnnkit._lr_schedule_decays import CosineDecay as CosineDecay
from cnnkit._lr_schedule_decays import CosineDecayRestarts as CosineDecayRestarts
from cnnkit._lr_schedule_decays import ExponentialDecay as ExponentialDecay
from cnnkit._lr_schedule_decays import InverseTimeDecay as InverseTimeDecay
from cnnkit._lr_schedule_decays import PiecewiseConstantDecay as PiecewiseConstantDecay
from cnnkit._lr_schedule_decays import PolynomialDecay as PolynomialDecay
from cnnkit._registry import Registry

__all__ = [
    "LearningRateSchedule",
    "ExponentialDecay",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
    "InverseTimeDecay",
    "CosineDecay",
    "CosineDecayRestarts",
    "serialize",
    "deserialize",
]


REGISTRY = Registry(
    "schedules",
    "learning rate schedule",
    {
        "ExponentialDecay": ExponentialDecay,
        "PiecewiseConstantDecay": PiecewiseConstantDecay,
        "PolynomialDecay": PolynomialDecay,
        "InverseTimeDecay": InverseTimeDecay,
        "CosineDecay": CosineDecay,
        "CosineDecayRestarts": CosineDecayRestarts,
    },
    base=LearningRateSchedule,
    expected="a schedule name, config or LearningRateSchedule",
)


def serialize(schedule: LearningRateSchedule) -> dict[str, Any]:
    """``{"class_name": ..., "config": ...}`` of a schedule (a user's own under its class name)."""
    if not isinstance(schedule, LearningRateSchedule):
        raise TypeError(
            f"schedules.serialize: expected a LearningRateSchedule. Received: {schedule!r:.100}"
        )
    if REGISTRY.name_of(schedule) is not None:
        return REGISTRY.serialize(schedule)
    try:
        config = schedule.get_config()
    except NotImplementedError as error:
        raise ValueError(f"schedules.serialize: {error}") from None
    return {"class_name": type(schedule).__name__, "config": config}


def deserialize(
    config: Any, custom_objects: Mapping[str, type] | None = None
) -> LearningRateSchedule:
    """Rebuild a schedule from :func:`serialize`'s output; a user's own schedule class only
    when ``custom_objects`` maps its name to it (nothing else is ever imported or run)."""
    custom = dict(custom_objects or {})
    if isinstance(config, dict) and config.get("class_name") in custom:
        cls = custom[config["class_name"]]
        arguments = config.get("config") or {}
        if not (isinstance(cls, type) and issubclass(cls, LearningRateSchedule)):
            raise TypeError(
                f"schedules.deserialize: custom_objects[{config['class_name']!r}] must be a "
                f"LearningRateSchedule subclass. Received: {cls!r}"
            )
        if not isinstance(arguments, dict):
            raise TypeError(
                f"schedules.deserialize: config['config'] must be a dict. Received: {arguments!r:.100}"
            )
        return cls.from_config(arguments)
    return REGISTRY.deserialize(config)
