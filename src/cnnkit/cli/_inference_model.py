"""The model file a command predicts with: a cnnkit model, or an exported ``.onnx`` file run by
ONNX Runtime behind the same ``predict``, ``input_shape`` and ``output_shape``."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def load_for_inference(path: Path) -> Any:
    """``path`` loaded for prediction: ONNX Runtime for ``.onnx`` files, else cnnkit's loader."""
    if path.suffix.lower() == ".onnx":
        from cnnkit.export import load_onnx

        return load_onnx(path)
    from cnnkit.models import load_model

    return load_model(path, compile=False)
