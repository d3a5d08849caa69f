"""``model.export(..., quantize="int8", calibration_data=x)``: ONNX Runtime's static int8 graph
keeps the float model's top class, quantizes the convolutions, and says it is int8."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

import cnnkit
from cnnkit.cli import _data

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

from cnnkit.export import load_onnx  # noqa: E402


@pytest.fixture(scope="module")
def digits() -> _data.Data:
    return _data.load_for_model("digits", (32, 32, 1))


@pytest.fixture(scope="module")
def int8_export(digits, tmp_path_factory) -> tuple[cnnkit.Model, Path]:
    """LeNet-5 trained two epochs on the digits (seeded), exported as int8 calibrated on its
    training images (more than the 512 used)."""
    cnnkit.utils.set_random_seed(0)
    model = cnnkit.zoo.get("lenet5")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(_data.scaled(digits.x_train), digits.y_train, epochs=2, batch_size=32, verbose=0)
    path = tmp_path_factory.mktemp("int8") / "lenet5.onnx"
    written = model.export(
        path, quantize="int8", calibration_data=_data.scaled(digits.x_train), class_names=None
    )
    assert written == path
    return model, path


def test_int8_keeps_the_float_models_top_class(int8_export, digits):
    model, path = int8_export
    x_test = _data.scaled(digits.x_test)  # a few hundred images not seen in calibration
    want, got = model.predict(x_test, verbose=0), load_onnx(path).predict(x_test)
    assert len(x_test) > 300
    assert (want.argmax(1) == got.argmax(1)).mean() >= 0.95  # 99.7% when written
    assert np.abs(want - got).max() < 0.15  # 0.02 when written
    accuracy = [(p.argmax(1) == digits.y_test).mean() for p in (want, got)]
    assert accuracy[0] > 0.8 and accuracy[1] >= accuracy[0] - 0.02


def test_the_int8_file_says_so_and_its_convolutions_are_int8(int8_export):
    path = int8_export[1]
    proto = onnx.load(str(path))
    metadata = {entry.key: entry.value for entry in proto.metadata_props}
    assert metadata["precision"] == "int8" and metadata["calibration_images"] == "512"
    assert metadata["model_name"] == "lenet5" and metadata["input_layout"] == "channels_last"
    assert load_onnx(path).precision == "int8"
    int8 = {t.name for t in proto.graph.initializer if t.data_type == onnx.TensorProto.INT8}
    dequantized = {n.output[0] for n in proto.graph.node if n.op_type == "DequantizeLinear"
                   and n.input[0] in int8}  # fmt: skip
    weights = {n.op_type: n.input[1] for n in proto.graph.node if n.op_type in ("Conv", "Gemm")}
    assert set(weights) == {"Conv", "Gemm"}
    assert all(weight in dequantized for weight in weights.values())
    dims = [d.dim_param or d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim]
    assert dims == ["batch", 32, 32, 1]


def test_a_float_export_stays_float(tmp_path):
    path = cnnkit.zoo.get("small_cnn", input_shape=(28, 28, 1)).export(tmp_path / "m.onnx")
    assert load_onnx(path).precision == "float32"


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"quantize": "int4", "calibration_data": np.zeros((2, 32, 32, 1), np.float32)},
         ValueError, "export: quantize must be one of 'int8'. Received: quantize='int4'"),
        ({"quantize": "int8"}, ValueError,
         "export: quantize='int8' needs calibration_data: a few hundred inputs as the model "
         "takes them, shape (n, 32, 32, 1). Received: calibration_data=None"),
        ({"quantize": "int8", "calibration_data": np.zeros((4, 28, 28, 1), np.float32)},
         ValueError, "export: calibration_data must have shape (n, 32, 32, 1) with n >= 1, as "
         "the model takes them. Received: calibration_data with shape (4, 28, 28, 1)"),
        ({"quantize": "int8", "calibration_data": np.zeros((4, 32, 32, 1), np.uint8)},
         ValueError, "export: calibration_data must be finite floats, scaled as the model takes "
         "them. Received: calibration_data with dtype uint8 (scale uint8 images first)"),
        ({"format": "torchscript", "quantize": "int8",
          "calibration_data": np.zeros((2, 32, 32, 1), np.float32)},
         ValueError, "export: quantize='int8' applies to format='onnx' only. Received: "
         "format='torchscript'"),
        ({"calibration_data": np.zeros((2, 32, 32, 1), np.float32)}, ValueError,
         "export: calibration_data applies to quantize='int8' only."),
    ],
)  # fmt: skip
def test_bad_quantize_arguments_are_named(tmp_path, kwargs, error, message):
    model = cnnkit.zoo.get("lenet5")
    with pytest.raises(error) as caught:
        model.export(tmp_path / "m.onnx", **kwargs)
    assert str(caught.value) == message or str(caught.value).startswith(message)
    assert os.listdir(tmp_path) == []


def test_int8_without_onnx_runtime_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    model = cnnkit.zoo.get("lenet5")
    with pytest.raises(ImportError, match=r"pip install cnnkit\[onnx\]"):
        model.export(
            tmp_path / "m.onnx", quantize="int8", calibration_data=np.zeros((2, 32, 32, 1))
        )
    assert os.listdir(tmp_path) == []
