"""``cnnkit export``: a trained model as an ONNX or TorchScript file for serving without cnnkit."""

from __future__ import annotations

import argparse
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
    from cnnkit.export import DEFAULT_OPSET
    from cnnkit.models import load_model

    path = _run_dir.model_file(args.model)
    out = Path(args.out)
    file_format = args.format or output_format(out)
    if args.opset is not None and file_format != "onnx":
        raise UsageError("--opset applies to --format onnx only")
    model = load_model(path, compile=False)
    names = _run_dir.class_names_beside(path)
    model.export(out, format=file_format, opset_version=args.opset, class_names=names)
    opset = f", opset {args.opset or DEFAULT_OPSET}" if file_format == "onnx" else ""
    named = f", {len(names)} class names" if names else ""
    print(f"wrote {out} ({file_format}{opset}{named}) from {path}")
    if file_format == "onnx":
        print(onnx_check(model, out))
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
