"""An exported ONNX file run by ONNX Runtime behind a model's ``predict``, so code (and the
command line) that predicts with a cnnkit model works with the exported file unchanged."""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from cnnkit._validation import check_int

#: ONNX element types -> NumPy dtypes, for the input types an export can have.
_NUMPY_TYPES = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(float16)": np.float16,
}


def require(module: str) -> ModuleType:
    """Import an optional package of the ``onnx`` extra, or say how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ImportError(
            f"{module} is not installed; ONNX export and inference need it: "
            "pip install cnnkit[onnx]"
        ) from error


def load_onnx(filepath: str | os.PathLike, threads: int | None = None) -> OnnxModel:
    """Open an exported ``.onnx`` file for inference (``threads``: ONNX Runtime's threads per
    operator; None lets it choose)."""
    return OnnxModel(filepath, threads)


class OnnxModel:
    """An ONNX file written by ``model.export``, with the model's inference surface:
    ``predict``, ``input_shape``, ``output_shape``, ``name`` and ``class_names``, plus
    ``precision`` (``"int8"`` for a quantized export).

    The file is read into memory and handed to ONNX Runtime as bytes, so it cannot refer to
    other files (external weights) on the machine.

    Example:
        >>> model = load_onnx("lenet5.onnx")  # doctest: +SKIP
        >>> model.predict(images).argmax(axis=1)  # doctest: +SKIP
    """

    def __init__(self, filepath: str | os.PathLike, threads: int | None = None) -> None:
        runtime = require("onnxruntime")
        path = Path(filepath)
        if not path.is_file():
            raise ValueError(f"load_onnx: no file at filepath={str(path)!r}")
        options = runtime.SessionOptions()
        if threads is not None:
            options.intra_op_num_threads = check_int(threads, "threads", "load_onnx", minimum=1)
            options.inter_op_num_threads = 1
        try:
            self.session = runtime.InferenceSession(
                path.read_bytes(), options, providers=["CPUExecutionProvider"]
            )
        except Exception as error:  # ONNX Runtime's own error types, one per failure
            raise ValueError(
                f"load_onnx: {str(path)!r} is not a readable ONNX model: {error}"
            ) from error
        inputs, outputs = self.session.get_inputs(), self.session.get_outputs()
        if len(inputs) != 1 or len(outputs) != 1:
            raise ValueError(
                f"load_onnx: {str(path)!r} has {len(inputs)} inputs and {len(outputs)} outputs; "
                "files written by export have one of each"
            )
        self._input, self._output = inputs[0], outputs[0]
        self._dtype = _NUMPY_TYPES.get(self._input.type, np.float32)
        metadata = self.session.get_modelmeta().custom_metadata_map
        self.name = metadata.get("model_name") or path.stem
        self.class_names = _class_names(metadata, path)
        #: "int8" for a quantized export (metadata ``precision``), else "float32".
        self.precision = metadata.get("precision", "float32")
        self.path = path

    @property
    def input_shape(self) -> tuple[int | None, ...]:
        """(None, height, width, channels): the batch size is free."""
        return _shape(self._input.shape)

    @property
    def output_shape(self) -> tuple[int | None, ...]:
        """(None, classes) for a classifier."""
        return _shape(self._output.shape)

    def predict(
        self, x: Any, batch_size: int | None = None, verbose: int | str = "auto"
    ) -> np.ndarray:
        """The outputs for ``x`` (channels-last images) in batches of ``batch_size`` (32), as
        the exported model's ``predict`` returns them. ``verbose`` is accepted for
        compatibility and ignored: no progress bar."""
        batch_size = check_int(
            32 if batch_size is None else batch_size, "batch_size", "predict", minimum=1
        )
        x = np.asarray(x)
        expected = self.input_shape[1:]
        if x.ndim != len(expected) + 1 or any(
            size is not None and size != got for size, got in zip(expected, x.shape[1:])
        ):
            raise ValueError(
                f"predict: {self.name} expects inputs of shape {(None, *expected)}. "
                f"Received: x with shape {x.shape}"
            )
        x = x.astype(self._dtype, copy=False)
        chunks = [
            self.session.run(
                [self._output.name], {self._input.name: x[start : start + batch_size]}
            )[0]
            for start in range(0, len(x), batch_size)
        ]
        if not chunks:
            return np.zeros((0, *self.output_shape[1:]), dtype=self._dtype)
        return np.concatenate(chunks)


def _shape(dims: list[Any]) -> tuple[int | None, ...]:
    return tuple(dim if isinstance(dim, int) else None for dim in dims)


def _class_names(metadata: dict[str, str], path: Path) -> list[str] | None:
    """The ``class_names`` an export stored (a JSON list of str), or None."""
    text = metadata.get("class_names")
    if text is None:
        return None
    try:
        names = json.loads(text)
    except json.JSONDecodeError:
        names = None
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise ValueError(
            f"load_onnx: {str(path)!r} has a class_names entry that is not a JSON list of "
            f"names: {text[:80]!r}"
        )
    return names
