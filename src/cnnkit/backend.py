"""Keras' ``keras.backend`` settings, for code written against Keras: the image layout, the
float type, the fuzz factor epsilon, ``clear_session`` and the backend's name.

cnnkit has one backend (PyTorch), one image layout (channels last, as Keras' default) and
computes in float32 (mixed precision is ``cnnkit.config.set_precision``), so the setters accept
the values cnnkit works with and refuse the others with a clear error instead of ignoring them.
"""

from __future__ import annotations

import gc

import torch

__all__ = [
    "backend",
    "clear_session",
    "epsilon",
    "floatx",
    "image_data_format",
    "set_epsilon",
    "set_floatx",
    "set_image_data_format",
]

_IMAGE_DATA_FORMATS = ("channels_last", "channels_first")
_FLOATX = ("float32", "float16", "bfloat16", "float64")  # what Keras accepts
_DEFAULT_EPSILON = 1e-7  # Keras' default fuzz factor
_state: dict[str, float] = {"epsilon": _DEFAULT_EPSILON}


def backend() -> str:
    """The name of the backend doing the computation: always ``'torch'``."""
    return "torch"


def image_data_format() -> str:
    """How images are laid out: ``'channels_last'`` (batch, height, width, channels)."""
    return "channels_last"


def set_image_data_format(data_format: str) -> None:
    """Accept ``'channels_last'``; ``'channels_first'`` is refused, since every cnnkit layer,
    dataset and plot works channels last (transpose the images instead)."""
    if not isinstance(data_format, str) or data_format not in _IMAGE_DATA_FORMATS:
        raise ValueError(
            "set_image_data_format: data_format must be one of 'channels_last', "
            f"'channels_first'. Received: data_format={data_format!r}"
        )
    if data_format == "channels_first":
        raise ValueError(
            "set_image_data_format: cnnkit works channels last throughout (images as "
            "(batch, height, width, channels)); received data_format='channels_first'. Keep "
            "'channels_last' and transpose channels-first images, e.g. "
            "np.transpose(x, (0, 2, 3, 1))"
        )


def floatx() -> str:
    """The float type of weights and computations: ``'float32'``."""
    return "float32"


def set_floatx(value: str) -> None:
    """Accept ``'float32'``; other float types are refused with the way to get them in cnnkit."""
    if not isinstance(value, str) or value not in _FLOATX:
        raise ValueError(
            f"set_floatx: unknown float type. Received: value={value!r}; accepted: 'float32'"
        )
    if value != "float32":
        raise ValueError(
            f"set_floatx: cnnkit keeps weights in float32; received value={value!r}. Accepted: "
            "'float32'. For mixed-precision training use "
            "cnnkit.config.set_precision('bfloat16') or set_precision('float16')"
        )


def epsilon() -> float:
    """The fuzz factor that keeps logs and divisions finite (1e-7 unless set)."""
    return _state["epsilon"]


def set_epsilon(value: float) -> None:
    """Set the fuzz factor used by the probability losses (clipped to [eps, 1 - eps])."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 0.5:
        raise ValueError(
            f"set_epsilon: value must be a number in (0, 0.5). Received: value={value!r}"
        )
    _state["epsilon"] = float(value)


def clear_session(free_memory: bool = True) -> None:
    """Start afresh as Keras does: free the memory of models no longer referenced.

    Layer names need no reset: cnnkit numbers them per model, so a new model's first Dense
    layer is ``dense`` and the next ``dense_1``, with or without this call.
    """
    if free_memory:
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
