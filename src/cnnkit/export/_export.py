"""``model.export(filepath, format=...)``: a trained model as one file other programs can run."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from torch import nn

from cnnkit._files import atomic_write_bytes
from cnnkit._validation import check_choice, check_int
from cnnkit.export import _formats, _graph, _quantize
from cnnkit.export._runtime import require

#: The formats ``export`` writes.
FORMATS = ("onnx", "torchscript")
#: The ONNX operator set written unless asked otherwise. 18 is the oldest the exporter
#: implements natively (older ones go through a converter that may fail) and ONNX Runtime
#: has run it since 1.14, as do most other runtimes; newer opsets add nothing a CNN needs.
DEFAULT_OPSET = 18
#: The oldest opset accepted (see DEFAULT_OPSET).
OLDEST_OPSET = 18


def export_model(
    model: nn.Module,
    filepath: str | os.PathLike,
    format: str = "onnx",
    verbose: bool | None = None,
    opset_version: int | None = None,
    class_names: list[str] | None = None,
    quantize: str | None = None,
    calibration_data: Any = None,
) -> Path:
    """Write ``model``'s inference graph to ``filepath`` (atomically) as ONNX or TorchScript.

    The file takes what ``model.predict`` takes, channels-last images (batch, height, width,
    channels) of any batch size, and returns what it returns (class probabilities for a
    softmax classifier; no softmax is added or removed). Preprocessing layers are part of the
    graph; augmentation layers and Dropout are left out (inference mode).

    Args:
        model: A built cnnkit model with one input and one output.
        filepath: The file to write; its folder must exist.
        format: ``"onnx"`` (run with ONNX Runtime and others) or ``"torchscript"``
            (``torch.jit.load``, no cnnkit needed).
        verbose: Print where the file was written.
        opset_version: ONNX operator set (default 18); ONNX only.
        class_names: Label names stored in the file (ONNX ``metadata_props["class_names"]``,
            TorchScript extra file ``cnnkit_metadata.json``), as JSON; by default the model's
            ``class_names`` attribute when it has one.
        quantize: None (float, the default) or ``"int8"``: ONNX Runtime's static
            quantization of the ONNX graph (convolutions and Dense layers; per-channel int8
            weights, uint8 activations calibrated on ``calibration_data``); ONNX only.
            Metadata ``precision`` says ``int8``. Faster on some models and CPUs, slower on
            others: ``cnnkit export --quantize int8`` measures both (bench/README_int8.md).
        calibration_data: With ``quantize="int8"``: inputs as ``predict`` takes them,
            float (n, *input_shape[1:]); a few hundred training images (at most 512 are
            used, evenly spaced).

    Returns:
        The path written.
    """
    format = check_choice(format, "format", "export", choices=FORMATS)
    target = _checked_path(filepath)
    opset = _checked_opset(opset_version, format)
    _check_model(model)
    calibration = _checked_quantize(model, format, quantize, calibration_data)
    if format == "onnx":
        quantizer = ("onnxruntime",) if calibration is not None else ()
        for module in ("onnx", "onnxscript", *quantizer):  # the exporter needs the first two
            require(module)
    metadata = _metadata(model, class_names)
    program = _graph.inference_program(model)
    if format == "onnx":
        data = _formats.onnx_bytes(program, opset, metadata)
        if calibration is not None:
            data = _quantize.int8_bytes(data, calibration)
    else:
        data = _formats.torchscript_bytes(program, metadata)
    written = atomic_write_bytes(target, data)
    if verbose:
        print(f"Saved the {format} export of {getattr(model, 'name', 'the model')} at {written}")
    return written


def _checked_path(filepath: Any) -> Path:
    if not isinstance(filepath, (str, os.PathLike)):
        raise TypeError(
            f"export: filepath must be a str or a path. Received: filepath={filepath!r}"
        )
    target = Path(filepath)
    if target.is_dir():
        raise ValueError(
            f"export: filepath must be a file name, not a folder. Received: filepath={str(target)!r}"
        )
    if not target.parent.is_dir():
        raise ValueError(
            f"export: the folder of filepath does not exist. Received: filepath={str(target)!r}; "
            f"create {str(target.parent)!r} first"
        )
    return target


def _checked_opset(opset_version: Any, format: str) -> int:
    if format != "onnx":
        if opset_version is not None:
            raise ValueError(
                "export: opset_version applies to format='onnx' only. Received: "
                f"opset_version={opset_version!r} with format={format!r}"
            )
        return DEFAULT_OPSET
    if opset_version is None:
        return DEFAULT_OPSET
    newest = require("onnx").defs.onnx_opset_version()
    return check_int(opset_version, "opset_version", "export", minimum=OLDEST_OPSET, maximum=newest)


def _checked_quantize(model: Any, format: str, quantize: Any, calibration_data: Any) -> Any:
    """The calibration images as float32 when int8 is asked for, else None."""
    if quantize is None:
        if calibration_data is not None:
            raise ValueError(
                "export: calibration_data applies to quantize='int8' only. Received: "
                "calibration_data with quantize=None"
            )
        return None
    quantize = check_choice(quantize, "quantize", "export", choices=_quantize.QUANTIZE_CHOICES)
    if format != "onnx":
        raise ValueError(
            f"export: quantize={quantize!r} applies to format='onnx' only. Received: "
            f"format={format!r}"
        )
    shape = tuple(int(size) for size in tuple(model.input_shape)[1:])
    return _quantize.checked_calibration(calibration_data, shape)


def _check_model(model: Any) -> None:
    if not isinstance(model, nn.Module) or not hasattr(model, "predict"):
        raise TypeError(f"export: model must be a cnnkit model. Received: model={model!r}")
    owner = f"{type(model).__name__} {getattr(model, 'name', '')!r}"
    if not getattr(model, "built", False):
        raise ValueError(
            f"{owner}: export needs a built model. Give input_shape= to the first layer, start "
            "with cnnkit.Input(shape=...), call model.build((None, *shape)) or call the model "
            "on a batch of data first."
        )
    shape = model.input_shape
    if isinstance(shape, list) or isinstance(model.output_shape, list):
        raise ValueError(
            f"{owner}: export handles models with one input and one output. Received: "
            f"input_shape={shape!r}, output_shape={model.output_shape!r}"
        )
    if any(size is None for size in tuple(shape)[1:]):
        raise ValueError(
            f"{owner}: export needs every input size but the batch known. Received: "
            f"input_shape={tuple(shape)!r}; give the model a fixed input size, e.g. "
            "cnnkit.Input(shape=(28, 28, 1))"
        )


def _metadata(model: Any, class_names: Any) -> dict[str, str]:
    """What the file says about itself: the model's name, the input layout, class names."""
    names = getattr(model, "class_names", None) if class_names is None else class_names
    metadata = {
        "model_name": str(getattr(model, "name", "")),
        "input_layout": "channels_last",  # (batch, height, width, channels), as predict takes
    }
    if names is not None:
        if isinstance(names, str) or not all(isinstance(name, str) for name in names):
            raise TypeError(
                f"export: class_names must be a list of str. Received: class_names={class_names!r}"
            )
        metadata["class_names"] = json.dumps(list(names))
    return metadata
