"""model.export: ONNX Runtime and TorchScript give what cnnkit's predict gives, on real
Fashion-MNIST test images, for trained zoo models, a model with preprocessing and augmentation
layers, and a functional model. cnnkit's own predict is the oracle."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

import cnnkit
from cnnkit import layers

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

from cnnkit.export import DEFAULT_OPSET, load_onnx  # noqa: E402

FASHION = Path("/usr/share/datasets/fashion-mnist")
IMAGES = 256  # test images compared per model
BATCH_SIZES = (1, 7, 128)
NAMES = list(cnnkit.datasets.fashion_mnist.CLASS_NAMES)


@pytest.fixture(scope="module")
def fashion() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x_train[:2048], y_train[:2048], x_test[:IMAGES]): float32 (n, 28, 28, 1) in [0, 255]."""
    if not FASHION.is_dir():
        pytest.skip("needs Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist)")
    (x, y), (x_test, _) = cnnkit.datasets.fashion_mnist.load_data()
    as_float = lambda images: images[..., None].astype(np.float32)  # noqa: E731
    return as_float(x[:2048]), y[:2048].astype(np.int64), as_float(x_test[:IMAGES])


def preprocessing_model(x_train: np.ndarray) -> cnnkit.Model:
    """Raw pixels in: Rescaling, Normalization (adapted), Resizing, then augmentation layers
    that must vanish at inference, BatchNormalization and Dropout."""
    normalization = layers.Normalization()
    normalization.adapt(x_train / 255)
    return cnnkit.Sequential(
        [
            cnnkit.Input((28, 28, 1)),
            layers.Rescaling(1 / 255),
            normalization,
            layers.Resizing(32, 32),
            layers.RandomFlip("horizontal"),
            layers.RandomTranslation(0.1, 0.1),
            layers.Conv2D(8, 3, activation="relu"),
            layers.BatchNormalization(),
            layers.MaxPooling2D(),
            layers.Dropout(0.3),
            layers.Flatten(),
            layers.Dense(10, activation="softmax"),
        ],
        name="preprocessing",
    )


def functional_model() -> cnnkit.Model:
    """Two branches added together: the graph machinery, not a chain."""
    inputs = cnnkit.Input((28, 28, 1))
    scaled = layers.Rescaling(1 / 255)(inputs)
    wide = layers.Conv2D(8, 3, padding="same", activation="relu")(scaled)
    narrow = layers.Conv2D(8, 1, padding="same")(scaled)
    merged = layers.MaxPooling2D()(layers.Add()([wide, narrow]))
    outputs = layers.Dense(10, activation="softmax")(layers.GlobalAveragePooling2D()(merged))
    return cnnkit.Model(inputs, outputs, name="two_branches")


def build(name: str, x_train: np.ndarray) -> cnnkit.Model:
    """The zoo's models as they are; the other two take raw pixels (see ``model_input``)."""
    if name == "lenet5":
        return cnnkit.zoo.get("lenet5")
    if name == "small_cnn":
        return cnnkit.zoo.get("small_cnn", input_shape=(28, 28, 1))
    if name == "preprocessing":
        return preprocessing_model(x_train)
    return functional_model()


def model_input(name: str, images: np.ndarray) -> np.ndarray:
    """Raw pixels as each model takes them: the zoo's in [0, 1] (LeNet-5 padded to 32x32)."""
    if name == "lenet5":
        return np.pad(images, ((0, 0), (2, 2), (2, 2), (0, 0))) / np.float32(255)
    if name == "small_cnn":
        return images / np.float32(255)
    return images


MODELS = ("lenet5", "small_cnn", "preprocessing", "functional")


@pytest.fixture(scope="module")
def exported(fashion, tmp_path_factory) -> dict[str, tuple[cnnkit.Model, Path, Path]]:
    """Each model trained for one epoch on 2,048 images, left in training mode, then exported
    in both formats: name -> (model, .onnx path, .pt path)."""
    x_train, y_train, _ = fashion
    folder = tmp_path_factory.mktemp("exports")
    result = {}
    for name in MODELS:
        cnnkit.utils.set_random_seed(0)
        model = build(name, x_train)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(model_input(name, x_train), y_train, epochs=1, batch_size=64, verbose=0)
        model.class_names = NAMES
        model.train()  # export must trace in inference mode whatever mode the model is in
        onnx_path = model.export(folder / f"{name}.onnx")
        torchscript_path = model.export(folder / f"{name}.pt", format="torchscript")
        assert model.training  # and leave the mode as it was
        result[name] = (model, onnx_path, torchscript_path)
    return result


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("batch_size", BATCH_SIZES)
def test_onnx_runtime_matches_predict(exported, fashion, name, batch_size):
    model, onnx_path, _ = exported[name]
    x_test = model_input(name, fashion[2])
    expected = model.predict(x_test, batch_size=batch_size, verbose=0)
    got = load_onnx(onnx_path).predict(x_test, batch_size=batch_size)
    assert got.shape == expected.shape == (IMAGES, 10) and got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-4)
    assert (got.argmax(axis=1) == expected.argmax(axis=1)).all()


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("batch_size", BATCH_SIZES)
def test_torchscript_matches_predict(exported, fashion, name, batch_size):
    model, _, torchscript_path = exported[name]
    x_test = model_input(name, fashion[2])
    loaded = torch.jit.load(str(torchscript_path))
    with torch.no_grad():
        got = np.concatenate(
            [
                loaded(torch.from_numpy(x_test[start : start + batch_size])).numpy()
                for start in range(0, len(x_test), batch_size)
            ]
        )
    expected = model.predict(x_test, batch_size=batch_size, verbose=0)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)


def test_the_onnx_file_describes_itself(exported):
    model, onnx_path, torchscript_path = exported["preprocessing"]
    proto = onnx.load(str(onnx_path))
    onnx.checker.check_model(proto)
    metadata = {entry.key: entry.value for entry in proto.metadata_props}
    assert json.loads(metadata["class_names"]) == NAMES
    assert metadata["model_name"] == "preprocessing"
    assert metadata["input_layout"] == "channels_last"
    assert [(entry.domain, entry.version) for entry in proto.opset_import if not entry.domain] == [
        ("", DEFAULT_OPSET)
    ]
    dims = [
        [dim.dim_param or dim.dim_value for dim in value.type.tensor_type.shape.dim]
        for value in (proto.graph.input[0], proto.graph.output[0])
    ]
    assert dims == [["batch", 28, 28, 1], ["batch", 10]]
    # inference mode: no random numbers are drawn anywhere in the graph
    assert not {node.op_type for node in proto.graph.node} & {"RandomUniform", "RandomNormal",
                                                              "RandomUniformLike", "Dropout"}  # fmt: skip
    loaded = load_onnx(onnx_path)
    assert loaded.class_names == NAMES and loaded.name == "preprocessing"
    assert loaded.input_shape == (None, 28, 28, 1) and loaded.output_shape == (None, 10)
    extra = {"cnnkit_metadata.json": ""}
    torch.jit.load(str(torchscript_path), _extra_files=extra)
    assert json.loads(json.loads(extra["cnnkit_metadata.json"])["class_names"]) == NAMES


def test_opset_version_is_honoured_and_the_write_is_atomic(exported, tmp_path):
    model = exported["small_cnn"][0]
    target = tmp_path / "model.onnx"
    target.write_bytes(b"an older export")
    model.export(target, opset_version=20, class_names=None)
    proto = onnx.load(str(target))
    assert [entry.version for entry in proto.opset_import if not entry.domain] == [20]
    assert sorted(os.listdir(tmp_path)) == ["model.onnx"]  # no temporary file left behind


def test_an_ordinary_keras_style_call_works_without_class_names(tmp_path):
    model = cnnkit.zoo.get("lenet5")
    path = model.export(tmp_path / "lenet5.onnx")
    assert path == tmp_path / "lenet5.onnx"
    proto = onnx.load(str(path))
    assert "class_names" not in {entry.key for entry in proto.metadata_props}
    assert load_onnx(path).class_names is None


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda m, p: m.export(p, format="tflite"), ValueError,
         "export: format must be one of 'onnx', 'torchscript'. Received: format='tflite'"),
        (lambda m, p: m.export(p / "missing" / "m.onnx"), ValueError,
         "export: the folder of filepath does not exist."),
        (lambda m, p: m.export(p), ValueError, "export: filepath must be a file name, not a folder."),
        (lambda m, p: m.export(3), TypeError,
         "export: filepath must be a str or a path. Received: filepath=3"),
        (lambda m, p: m.export(p / "m.onnx", opset_version=13), ValueError,
         "export: opset_version must be an int in [18, "),
        (lambda m, p: m.export(p / "m.pt", format="torchscript", opset_version=18), ValueError,
         "export: opset_version applies to format='onnx' only."),
        (lambda m, p: m.export(p / "m.onnx", class_names="abc"), TypeError,
         "export: class_names must be a list of str. Received: class_names='abc'"),
    ],
)  # fmt: skip
def test_bad_arguments_are_named(tmp_path, call, error, message):
    model = cnnkit.zoo.get("lenet5")
    with pytest.raises(error) as caught:
        call(model, tmp_path)
    assert str(caught.value).startswith(message)
    assert os.listdir(tmp_path) == []


def test_an_unbuilt_model_is_refused(tmp_path):
    model = cnnkit.Sequential([layers.Dense(3)])
    with pytest.raises(ValueError, match="export needs a built model"):
        model.export(tmp_path / "m.onnx")


def test_load_onnx_refuses_other_files_and_wrong_shapes(exported, fashion, tmp_path):
    fake = tmp_path / "fake.onnx"
    fake.write_bytes(b"not a protobuf")
    with pytest.raises(ValueError, match="is not a readable ONNX model"):
        load_onnx(fake)
    loaded = load_onnx(exported["lenet5"][1])
    with pytest.raises(ValueError, match=r"expects inputs of shape \(None, 32, 32, 1\)"):
        loaded.predict(np.zeros((2, 28, 28, 1), np.float32))


def test_without_onnx_runtime_the_error_says_what_to_install(exported, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "onnxruntime", None)
    with pytest.raises(ImportError, match=r"pip install cnnkit\[onnx\]"):
        load_onnx(exported["lenet5"][1])
