"""The checks of ImageDataGenerator's constructor arguments, each naming what it got and what
it accepts, and Keras 2's implied settings (std normalization implies centering)."""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np

from cnnkit._validation import check_bool, check_choice, check_number
from cnnkit.layers._image_warp import FILL_MODES

OWNER = "ImageDataGenerator"


def shift_range(value: Any, name: str) -> float | int | tuple[float, ...]:
    """A float (a fraction of the size when < 1, else pixels), an int (whole pixels drawn from
    (-value, value)) or a list of pixel shifts to choose from."""
    if isinstance(value, (list, tuple, np.ndarray)):
        values = tuple(value)
        if not values or not all(_real(v) for v in values):
            raise TypeError(
                f"{OWNER}: {name} must be a float, an int or a non-empty list of numbers. "
                f"Received: {name}={value!r}"
            )
        return tuple(float(v) for v in values)
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(check_number(value, name, OWNER, minimum=0))
    return check_number(value, name, OWNER, minimum=0)


def zoom_range(value: Any) -> tuple[float, float]:
    """``[1 - value, 1 + value]`` for a float, or ``[lower, upper]`` as given."""
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(_real(v) for v in value):
        return float(value[0]), float(value[1])
    if _real(value):
        return 1.0 - float(value), 1.0 + float(value)
    raise ValueError(
        f"{OWNER}: zoom_range must be a float or a list of two floats [lower, upper]. "
        f"Received: zoom_range={value!r}"
    )


def brightness_range(value: Any) -> tuple[float, float] | None:
    """None, or the (lower, upper) brightness factors drawn from."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(_real(v) for v in value):
        return float(value[0]), float(value[1])
    raise ValueError(
        f"{OWNER}: brightness_range must be None or a list of two floats [lower, upper], "
        f"e.g. [0.8, 1.2]. Received: brightness_range={value!r}"
    )


def data_format(value: Any) -> str:
    """Only 'channels_last' (None means it): cnnkit's images are (height, width, channels)."""
    if value is None or value == "channels_last":
        return "channels_last"
    raise ValueError(
        f"{OWNER}: data_format must be 'channels_last' (or None); cnnkit's images are "
        f"(height, width, channels). Received: data_format={value!r}"
    )


def validation_split(value: Any) -> float:
    """A float in [0, 1)."""
    return check_number(
        value, "validation_split", OWNER, minimum=0, maximum=1, exclusive_maximum=True
    )


def fill_mode(value: Any) -> str:
    """One of scipy's fill modes Keras 2 offers: 'constant', 'nearest', 'reflect', 'wrap'."""
    return check_choice(value, "fill_mode", OWNER, choices=FILL_MODES)


def flags(values: dict[str, Any]) -> dict[str, bool]:
    """Every boolean switch checked, with Keras 2's implications (and its warnings)."""
    checked = {name: check_bool(value, name, OWNER) for name, value in values.items()}
    if checked["zca_whitening"]:
        if not checked["featurewise_center"]:
            checked["featurewise_center"] = True
            _implied("zca_whitening", "featurewise_center")
        if checked["featurewise_std_normalization"]:
            checked["featurewise_std_normalization"] = False
            _implied("zca_whitening", "featurewise_std_normalization")
    if checked["featurewise_std_normalization"] and not checked["featurewise_center"]:
        checked["featurewise_center"] = True
        _implied("featurewise_std_normalization", "featurewise_center")
    if checked["samplewise_std_normalization"] and not checked["samplewise_center"]:
        checked["samplewise_center"] = True
        _implied("samplewise_std_normalization", "samplewise_center")
    return checked


def _implied(given: str, overridden: str) -> None:
    warnings.warn(
        f"This ImageDataGenerator specifies `{given}`, which overrides the setting of "
        f"`{overridden}`.",
        stacklevel=4,
    )


def _real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)
