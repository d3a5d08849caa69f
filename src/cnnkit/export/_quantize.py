"""Static int8 quantization of an exported ONNX graph with ONNX Runtime, calibrated on images,
so convolutions and Dense layers both run as int8 kernels on the CPU.

ONNX Runtime's ``quantize_static`` rewrites the float graph: weights become int8 (one scale
per output channel), activations uint8 with scales fixed from the ranges the calibration
images produce (min-max), written as QuantizeLinear/DequantizeLinear pairs (QDQ) that the
runtime fuses into int8 kernels. QDQ and the older QOperator format ran within a few percent
of each other on small_cnn (bench/README_int8.md); QDQ is ONNX Runtime's recommended format.
Whether int8 is faster depends on the model and the CPU: ``cnnkit export --quantize int8``
measures it.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from cnnkit.export._formats import INPUT_NAME
from cnnkit.export._runtime import require

#: The ``quantize`` values export accepts (None: float, the default).
QUANTIZE_CHOICES = ("int8",)
#: Most calibration images used (an evenly spaced subset of larger sets): min-max ranges settle
#: within a few hundred images, and calibration time grows with the count.
MAX_CALIBRATION_IMAGES = 512
#: Images per calibration batch fed to the float graph.
CALIBRATION_BATCH = 64
#: The ONNX metadata key saying how the weights and activations are stored.
PRECISION_KEY = "precision"


def checked_calibration(images: Any, input_shape: tuple[int, ...]) -> np.ndarray:
    """``images`` as float32 (n, *input_shape), or a ValueError naming calibration_data."""
    expected = "(n, " + ", ".join(map(str, input_shape)) + ")"
    if images is None:
        raise ValueError(
            "export: quantize='int8' needs calibration_data: a few hundred inputs as the model "
            f"takes them, shape {expected}. Received: calibration_data=None"
        )
    x = np.asarray(images)
    if x.ndim != len(input_shape) + 1 or len(x) == 0 or tuple(x.shape[1:]) != input_shape:
        raise ValueError(
            f"export: calibration_data must have shape {expected} with n >= 1, as the model "
            f"takes them. Received: calibration_data with shape {x.shape}"
        )
    if not np.issubdtype(x.dtype, np.floating) or not np.isfinite(x).all():
        raise ValueError(
            "export: calibration_data must be finite floats, scaled as the model takes them. "
            f"Received: calibration_data with dtype {x.dtype}"
            + ("" if np.issubdtype(x.dtype, np.floating) else " (scale uint8 images first)")
        )
    if len(x) > MAX_CALIBRATION_IMAGES:
        x = x[np.linspace(0, len(x) - 1, MAX_CALIBRATION_IMAGES).astype(int)]
    return x.astype(np.float32)


def int8_bytes(float_onnx: bytes, calibration: np.ndarray) -> bytes:
    """The float ONNX model ``float_onnx`` quantized to int8 (QDQ, per-channel weights), with
    ``precision: int8`` and the calibration count added to its metadata."""
    onnx = require("onnx")
    quantization = require("onnxruntime.quantization")
    with tempfile.TemporaryDirectory(prefix="cnnkit-int8-") as folder:
        float_path, prepared, quantized = (
            Path(folder) / name for name in ("float.onnx", "prepared.onnx", "int8.onnx")
        )
        float_path.write_bytes(float_onnx)
        # shape inference and graph clean-up, so that every tensor has the type the
        # quantizer needs to place its int8 conversions
        quantization.quant_pre_process(str(float_path), str(prepared))
        quantization.quantize_static(
            str(prepared),
            str(quantized),
            _calibration_reader(quantization.CalibrationDataReader, calibration),
            quant_format=quantization.QuantFormat.QDQ,
            per_channel=True,
            activation_type=quantization.QuantType.QUInt8,
            weight_type=quantization.QuantType.QInt8,
        )
        proto = onnx.load(str(quantized))
    _set_metadata(proto, {PRECISION_KEY: "int8", "calibration_images": str(len(calibration))})
    return proto.SerializeToString()


def _calibration_reader(base: type, images: np.ndarray) -> Any:
    """A CalibrationDataReader (ONNX Runtime's class, imported late) over ``images``."""

    class CalibrationImages(base):
        def __init__(self) -> None:
            self._batches = iter(
                {INPUT_NAME: images[start : start + CALIBRATION_BATCH]}
                for start in range(0, len(images), CALIBRATION_BATCH)
            )

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self._batches, None)

    return CalibrationImages()


def _set_metadata(proto: Any, entries: dict[str, str]) -> None:
    """Set ``entries`` in ``proto.metadata_props``, replacing entries of the same key."""
    kept = [(p.key, p.value) for p in proto.metadata_props if p.key not in entries]
    del proto.metadata_props[:]
    for key, value in [*kept, *entries.items()]:
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
