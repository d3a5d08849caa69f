"""``cnnkit export``: a trained model as an ONNX or TorchScript file for serving without cnnkit;
``--quantize int8`` writes ONNX Runtime's static int8 graph and compares it with float32."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from cnnkit.cli import _run_dir
from cnnkit.cli._errors import UsageError

#: File endings that choose TorchScript when --format is not given (anything else: ONNX).
_TORCHSCRIPT_SUFFIXES = (".pt", ".pth", ".torchscript")
#: Random images the written ONNX file is checked on against the model itself.
_CHECK_IMAGES = 8


def run(args: argparse.Namespace) -> int:
    """Export the model (class names saved beside it go into the file), then check the ONNX
    file against the model when ONNX Runtime is installed."""
    from cnnkit.models import load_model

    path = _run_dir.model_file(args.model)
    out = Path(args.out)
    file_format = args.format or output_format(out)
    if args.opset is not None and file_format != "onnx":
        raise UsageError("--opset applies to --format onnx only")
    _check_quantize_flags(args, file_format)
    model = load_model(path, compile=False)
    names = _run_dir.class_names_beside(path)
    if args.quantize:
        return _export_int8(args, model, path, out, names)
    model.export(out, format=file_format, opset_version=args.opset, class_names=names)
    print(f"wrote {out} ({_described(file_format, args.opset, names)}) from {path}")
    if file_format == "onnx":
        print(onnx_check(model, out))
    return 0


def _described(file_format: str, opset: int | None, names: list[str] | None) -> str:
    from cnnkit.export import DEFAULT_OPSET

    described = (
        f"{file_format}, opset {opset or DEFAULT_OPSET}" if file_format == "onnx" else (file_format)
    )
    return described + (f", {len(names)} class names" if names else "")


def _check_quantize_flags(args: argparse.Namespace, file_format: str) -> None:
    """The int8 flags go together, and with ONNX only."""
    if args.quantize is None:
        for flag, value in (("--calibration-data", args.calibration_data),
                            ("--validation-data", args.validation_data)):  # fmt: skip
            if value is not None:
                raise UsageError(f"{flag} applies to --quantize int8 only")
        return
    if file_format != "onnx":
        raise UsageError(
            f"--quantize {args.quantize} applies to --format onnx only (got {file_format})"
        )
    if args.calibration_data is None:
        raise UsageError(
            f"--quantize {args.quantize} needs --calibration-data: a folder of images, an .npy/"
            ".npz array or a dataset name (a few hundred training images)"
        )


def _export_int8(args: argparse.Namespace, model, path: Path, out: Path, names) -> int:
    """Write the int8 file, then time it against a float32 export of the same model, and
    score both when --validation-data is given."""
    from cnnkit.cli import _calibration, _data, _int8_report
    from cnnkit.export import load_onnx

    model_input = _data.model_input_shape(model)
    calibration = _calibration.read(args.calibration_data, model_input)
    validation = None
    if args.validation_data is not None:
        validation = _data.load_for_model(args.validation_data, model_input)
    model.export(
        out,
        opset_version=args.opset,
        class_names=names,
        quantize=args.quantize,
        calibration_data=calibration,
    )
    print(
        f"wrote {out} ({_described('onnx', args.opset, names)}, int8: ONNX Runtime static "
        f"quantization calibrated on {len(calibration):,} images) from {path}"
    )
    with tempfile.TemporaryDirectory(prefix="cnnkit-float-") as folder:
        float_path = model.export(Path(folder) / "float32.onnx", opset_version=args.opset)
        float_model, int8_model = load_onnx(float_path), load_onnx(out)
        print(_int8_report.agreement_line(float_model, int8_model, calibration))
        if validation is not None:
            x_test = _data.scaled(validation.x_test)
            print(
                _int8_report.accuracy_line(
                    float_model, int8_model, x_test, validation.y_test, validation.name
                )
            )
        print("\n".join(_int8_report.latency_lines(float_model, int8_model, calibration)))
    return 0


def output_format(out: Path) -> str:
    """The format an output file's ending asks for: TorchScript for .pt/.pth, else ONNX."""
    return "torchscript" if out.suffix.lower() in _TORCHSCRIPT_SUFFIXES else "onnx"


def onnx_check(model, out: Path) -> str:
    """One line comparing ONNX Runtime's outputs with the model's on random images."""
    try:
        from cnnkit.export import load_onnx

        exported = load_onnx(out)
    except ImportError:
        return "not checked: ONNX Runtime is not installed (pip install cnnkit[onnx])"
    images = np.random.default_rng(0).random((_CHECK_IMAGES, *model.input_shape[1:]))
    images = images.astype(np.float32)
    difference = np.abs(exported.predict(images) - model.predict(images, verbose=0)).max()
    return (
        f"checked with ONNX Runtime on {_CHECK_IMAGES} random images: outputs within "
        f"{difference:.1e} of the model's"
    )
