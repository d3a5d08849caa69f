"""Functional models against Keras 3: the same graph built in both, Keras' weights copied in,
then outputs, shapes, parameter counts, layer order and summary rows compared."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from keras_oracle import keras  # sets KERAS_BACKEND=torch before Keras loads

import cnnkit


def residual(lib):
    """A residual block: the shortcut added to two convolutions."""
    layers = lib.layers
    inputs = lib.Input(shape=(8, 8, 3), name="image")
    x = layers.Conv2D(4, 3, padding="same", activation="relu", name="stem")(inputs)
    y = layers.Conv2D(4, 3, padding="same", activation="relu", name="conv_a")(x)
    y = layers.Conv2D(4, 3, padding="same", name="conv_b")(y)
    x = layers.Activation("relu", name="relu")(layers.Add(name="add")([x, y]))
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    return lib.Model(inputs, layers.Dense(3, activation="softmax", name="head")(x), name="res")


def branches(lib):
    """Inception-like branches joined with Concatenate."""
    layers = lib.layers
    inputs = lib.Input(shape=(6, 6, 2), name="image")
    a = layers.Conv2D(3, 1, name="one_by_one")(inputs)
    b = layers.Conv2D(2, 3, padding="same", name="three_by_three")(inputs)
    c = layers.MaxPooling2D(3, strides=1, padding="same", name="pool")(inputs)
    x = layers.Concatenate(name="concat")([a, b, c])
    x = layers.BatchNormalization(name="norm")(x)
    outputs = layers.Dense(4, name="head")(layers.Flatten(name="flatten")(x))
    return lib.Model(inputs, outputs, name="branches")


def merges(lib):
    """Every element-wise merge and Dot on two dense branches."""
    layers = lib.layers
    inputs = lib.Input(shape=(5,), name="vector")
    a = layers.Dense(4, activation="tanh", name="a")(inputs)
    b = layers.Dense(4, activation="sigmoid", name="b")(inputs)
    merged = [
        layers.Subtract(name="subtract")([a, b]),
        layers.Multiply(name="multiply")([a, b]),
        layers.Average(name="average")([a, b]),
        layers.Maximum(name="maximum")([a, b]),
        layers.Minimum(name="minimum")([a, b]),
        layers.Dot(axes=1, name="dot")([a, b]),
        layers.Dot(axes=1, normalize=True, name="cosine")([a, b]),
    ]
    outputs = layers.Dense(2, name="head")(layers.Concatenate(name="concat")(merged))
    return lib.Model(inputs, outputs, name="merges")


def shared(lib):
    """One Dense layer called on two inputs (a siamese pair)."""
    layers = lib.layers
    left = lib.Input(shape=(6,), name="left")
    right = lib.Input(shape=(6,), name="right")
    encoder = layers.Dense(3, activation="relu", name="encoder")
    distance = layers.Subtract(name="difference")([encoder(left), encoder(right)])
    outputs = layers.Dense(1, activation="sigmoid", name="same")(distance)
    return lib.Model([left, right], outputs, name="siamese")


def multi_input(lib):
    """An image and a vector of metadata, joined before the classifier."""
    layers = lib.layers
    image = lib.Input(shape=(8, 8, 1), name="image")
    meta = lib.Input(shape=(3,), name="meta")
    x = layers.Conv2D(2, 3, activation="relu", name="conv")(image)
    x = layers.Flatten(name="flatten")(layers.MaxPooling2D(name="pool")(x))
    m = layers.Dense(4, activation="relu", name="meta_dense")(meta)
    x = layers.Concatenate(name="concat")([x, m])
    return lib.Model([image, meta], layers.Dense(2, name="head")(x), name="two_inputs")


def multi_output_list(lib):
    """One trunk, two heads returned as a list."""
    layers = lib.layers
    inputs = lib.Input(shape=(7,), name="features")
    x = layers.Dense(5, activation="relu", name="trunk")(inputs)
    first = layers.Dense(3, activation="softmax", name="kind")(x)
    second = layers.Dense(1, name="size")(x)
    return lib.Model(inputs, [first, second], name="two_heads")


def multi_output_dict(lib):
    """One trunk, two heads returned as a dict."""
    layers = lib.layers
    inputs = lib.Input(shape=(7,), name="features")
    x = layers.Dense(5, activation="relu", name="trunk")(inputs)
    outputs = {
        "kind": layers.Dense(3, activation="softmax", name="kind")(x),
        "size": layers.Dense(1, name="size")(x),
    }
    return lib.Model(inputs, outputs, name="dict_heads")


def nested_sequential(lib):
    """A Sequential block used inside a functional model."""
    layers = lib.layers
    block = lib.Sequential(
        [
            layers.Conv2D(3, 3, activation="relu", name="block_conv"),
            layers.MaxPooling2D(name="block_pool"),
        ],
        name="block",
    )
    inputs = lib.Input(shape=(8, 8, 2), name="image")
    x = block(inputs)
    y = layers.Conv2D(3, 1, strides=2, padding="same", name="shortcut")(
        layers.CenterCrop(6, 6, name="crop")(inputs)
    )
    x = layers.Flatten(name="flatten")(layers.Add(name="add")([x, y]))
    return lib.Model(inputs, layers.Dense(2, name="head")(x), name="outer")


def model_as_layer(lib):
    """A functional model called like a layer inside another."""
    layers = lib.layers
    inner_in = lib.Input(shape=(4,), name="inner_in")
    inner_out = layers.Dense(3, activation="relu", name="inner_dense")(inner_in)
    inner = lib.Model(inner_in, inner_out, name="inner")
    inputs = lib.Input(shape=(4,), name="outer_in")
    x = layers.Concatenate(name="concat")([inner(inputs), inputs])
    return lib.Model(inputs, layers.Dense(2, name="head")(x), name="outer")


def fixed_batch(lib):
    """Inputs with a fixed batch size: every shape in the graph carries it."""
    layers = lib.layers
    a = lib.Input(shape=(3,), batch_size=4, name="a")
    b = lib.Input(shape=(3,), batch_size=4, name="b")
    x = layers.Maximum(name="maximum")([layers.Dense(3, name="dense")(a), b])
    return lib.Model([a, b], layers.Dense(2, name="head")(x), name="fixed")


def linear_chain(lib):
    """A functional chain: summarised with the Sequential columns, as Keras does."""
    layers = lib.layers
    inputs = lib.Input(shape=(6, 6, 1), name="image")
    x = layers.Conv2D(2, 3, name="conv")(inputs)
    x = layers.Flatten(name="flatten")(x)
    return lib.Model(inputs, layers.Dense(3, name="head")(x), name="chain")


def feature_extractor(lib):
    """Every layer's output of a Sequential model, from one call."""
    layers = lib.layers
    model = lib.Sequential(
        [
            lib.Input(shape=(8, 8, 1), name="pixels"),
            layers.Conv2D(2, 3, activation="relu", name="conv"),
            layers.MaxPooling2D(name="pool"),
            layers.Flatten(name="flatten"),
            layers.Dense(3, name="head"),
        ],
        name="classifier",
    )
    outputs = [layer.output for layer in model.layers]
    return lib.Model(inputs=model.inputs, outputs=outputs, name="features")


GRAPHS = [
    residual,
    branches,
    merges,
    shared,
    multi_input,
    multi_output_list,
    multi_output_dict,
    nested_sequential,
    model_as_layer,
    fixed_batch,
    linear_chain,
    feature_extractor,
]


def _kind(layer) -> str:
    """The class name Keras gives: a plain functional model is a ``Functional``."""
    functional = type(layer) is cnnkit.Model and layer._graph is not None
    return "Functional" if functional else type(layer).__name__


def _data(model, seed: int = 0) -> list[np.ndarray]:
    """Random float32 batches (of 3 unless fixed) for each of the Keras model's inputs."""
    rng = np.random.default_rng(seed)
    return [
        rng.normal(size=(t.shape[0] or 3, *t.shape[1:])).astype("float32") for t in model.inputs
    ]


def _as_list(outputs, keys) -> list[np.ndarray]:
    if isinstance(outputs, dict):
        return [np.asarray(outputs[key]) for key in keys]
    if isinstance(outputs, (list, tuple)):
        return [np.asarray(value) for value in outputs]
    return [np.asarray(outputs)]


def _pair(build):
    theirs = build(keras)
    ours = build(cnnkit)
    ours.set_weights(theirs.get_weights())
    return theirs, ours


def _call(model, batch):
    """The model's outputs on ``batch`` in inference mode, as NumPy arrays in its structure."""
    if isinstance(model, keras.Model):
        outputs = model(batch, training=False)
        return keras.tree.map_structure(keras.ops.convert_to_numpy, outputs)
    model.eval()
    with torch.no_grad():
        outputs = model(batch)
    if isinstance(outputs, dict):
        return {key: value.numpy() for key, value in outputs.items()}
    if isinstance(outputs, list):
        return [value.numpy() for value in outputs]
    return outputs.numpy()


@pytest.mark.parametrize("build", GRAPHS, ids=lambda build: build.__name__)
def test_outputs_equal_keras_with_its_weights(build):
    theirs, ours = _pair(build)
    data = _data(theirs)
    batch = data[0] if len(data) == 1 else data
    expected = _call(theirs, batch)
    received = _call(ours, batch)
    keys = list(expected) if isinstance(expected, dict) else None
    if keys is not None:
        assert isinstance(received, dict) and sorted(received) == sorted(keys)
    expected, received = _as_list(expected, keys), _as_list(received, keys)
    assert [r.shape for r in received] == [e.shape for e in expected]
    for e, r in zip(expected, received):
        np.testing.assert_allclose(r, e, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "build", [residual, branches, merges, linear_chain], ids=lambda b: b.__name__
)
def test_predict_equals_a_call_in_inference_mode(build):
    model = build(cnnkit)
    batch = _data(model)[0]
    np.testing.assert_allclose(model.predict(batch, verbose=0), _call(model, batch), atol=1e-6)


@pytest.mark.parametrize("build", GRAPHS, ids=lambda build: build.__name__)
def test_structure_equals_keras(build):
    theirs, ours = _pair(build)
    assert ours.count_params() == theirs.count_params()
    assert [layer.name for layer in ours.layers] == [layer.name for layer in theirs.layers]
    assert [_kind(layer) for layer in ours.layers] == [
        type(layer).__name__ for layer in theirs.layers
    ]
    assert [tuple(t.shape) for t in ours.inputs] == [tuple(t.shape) for t in theirs.inputs]
    assert [tuple(t.shape) for t in ours.outputs] == [tuple(t.shape) for t in theirs.outputs]
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_array_equal(a, b)


def _keras_rows(model, monkeypatch) -> list[list[str]]:
    """The cells of each row of Keras' summary, the header first; a cell wrapped over several
    lines is joined with spaces."""
    monkeypatch.setenv("COLUMNS", "260")
    lines: list[str] = []
    model.summary(line_length=250, print_fn=lambda text, **_: lines.append(text))
    rows: list[list[str]] = []
    starts_row = True
    for line in "\n".join(lines).splitlines():
        if line[:1] not in ("│", "┃"):
            starts_row = True
            continue
        cells = [cell.strip() for cell in re.split("[│┃]", line)[1:-1]]
        if starts_row:
            rows.append(cells)
        else:
            rows[-1] = [f"{a} {b}".strip() for a, b in zip(rows[-1], cells)]
        starts_row = False
    return rows


def _our_rows(model) -> tuple[list[str], list[list[str]]]:
    """The header and cells of each row of our summary; continuation lines (a second
    connection) are joined to their row with a space, as Keras wraps them."""
    lines = model.summary_text().splitlines()
    header = re.split(r"\s{3,}", lines[2].strip())
    rows: list[list[str]] = []
    for line in lines[4 : lines.index(lines[3], 4)]:
        cells = re.split(r"\s{3,}", line.strip())
        if line.startswith("  "):
            rows[-1][-1] += " " + cells[0]
        else:
            rows.append(cells)
    return header, rows


@pytest.mark.parametrize("build", GRAPHS, ids=lambda build: build.__name__)
def test_summary_rows_equal_keras(build, monkeypatch):
    theirs, ours = _pair(build)
    header, rows = _our_rows(ours)
    expected = _keras_rows(theirs, monkeypatch)
    assert header == expected[0]
    assert rows == expected[1:]


def test_summary_says_what_each_layer_is_connected_to():
    model = residual(cnnkit)
    lines = model.summary_text().splitlines()
    assert lines[2].split() == [
        "Layer",
        "(type)",
        "Output",
        "Shape",
        "Param",
        "#",
        "Connected",
        "to",
    ]
    add_row = next(i for i, line in enumerate(lines) if line.startswith(" add (Add)"))
    assert lines[add_row].split()[-2:] == ["0", "stem[0][0],"]
    assert lines[add_row + 1].strip() == "conv_b[0][0]"
    assert lines[4].split()[-1] == "-"  # the input is connected to nothing


def test_linear_functional_summary_keeps_the_sequential_columns():
    header, rows = _our_rows(linear_chain(cnnkit))
    assert header == ["Layer (type)", "Output Shape", "Param #"]
    assert rows[1] == ["conv (Conv2D)", "(None, 4, 4, 2)", "20"]


def test_connected_summary_with_trainable_column_and_print_fn():
    model = shared(cnnkit)
    model.get_layer("encoder").trainable = False
    printed: list[str] = []
    model.summary(print_fn=printed.append, show_trainable=True)
    assert "\n".join(printed) == model.summary_text(show_trainable=True)
    header = re.split(r"\s{3,}", printed[2].strip())
    assert header == ["Layer (type)", "Output Shape", "Param #", "Connected to", "Trainable"]
    encoder = next(line for line in printed if line.startswith(" encoder (Dense)"))
    assert re.split(r"\s{3,}", encoder.strip()) == [
        "encoder (Dense)",
        "(None, 3)",
        "21",
        "left[0][0],",
        "N",
    ]
    second = printed[printed.index(encoder) + 1]
    assert second.strip() == "right[0][0]"
