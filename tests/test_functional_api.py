"""The functional API's surface: symbolic tensors, Input, layer.input/output, Sequential's
graph, model inspection, and the errors bad graphs and bad data raise."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

import cnnkit
from cnnkit import layers


def _small_model() -> cnnkit.Model:
    inputs = cnnkit.Input(shape=(4,), name="features")
    hidden = layers.Dense(3, activation="relu", name="hidden")(inputs)
    return cnnkit.Model(inputs, layers.Dense(2, name="head")(hidden), name="small")


# ----------------------------------------------------------------- symbolic tensors and Input
def test_symbolic_tensor_prints_shape_with_none_batch_dtype_and_name():
    tensor = cnnkit.Input(shape=(28, 28, 1), name="pixels")
    assert repr(tensor) == "<KerasTensor shape=(None, 28, 28, 1), dtype=float32, name=pixels>"
    assert tensor.shape == (None, 28, 28, 1) and tensor.ndim == 4
    output = layers.Conv2D(6, 5, name="c1")(tensor)
    assert repr(output) == "<KerasTensor shape=(None, 24, 24, 6), dtype=float32, name=c1>"


def test_input_takes_batch_size_dtype_and_name():
    tensor = cnnkit.Input((3,), batch_size=8, dtype="float16", name="x")
    assert tensor.shape == (8, 3)
    assert tensor.dtype == torch.float16
    assert tensor.name == "x"
    assert type(tensor.node.layer).__name__ == "InputLayer"
    assert cnnkit.Input(shape=(None, None, 3)).shape == (None, None, None, 3)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"shape": None}, "shape is required"),
        ({"shape": (-1, 3)}, "Received: shape=(-1, 3)"),
        ({"shape": (3,), "batch_size": 0}, "Received: batch_size=0"),
        ({"shape": (3,), "name": 3}, "Received: name=3"),
        ({"shape": (3,), "dtype": "int32"}, "Received: dtype='int32'"),
    ],
)
def test_input_rejects_bad_arguments(arguments, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        cnnkit.Input(**arguments)


def test_symbolic_tensor_refuses_conversion():
    tensor = cnnkit.Input((3,), name="a")
    for attempt in (
        lambda: np.asarray(tensor),
        lambda: torch.relu(tensor),
        lambda: float(tensor),
    ):
        with pytest.raises(TypeError, match="is symbolic: it holds no values"):
            attempt()


# ----------------------------------------------------------------- layers and models
def test_layer_input_output_and_shapes_after_a_call():
    inputs = cnnkit.Input((4,), name="v")
    dense = layers.Dense(3, name="d")
    output = dense(inputs)
    assert dense.input is inputs and dense.output is output
    assert dense.input_shape == (None, 4) and dense.output_shape == (None, 3)
    add = layers.Add(name="plus")
    add([output, output])
    assert add.input == [output, output]


def test_layer_output_before_any_call_says_how_to_get_one():
    with pytest.raises(ValueError, match=r"Dense 'lonely' has no output yet.*cnnkit.Input"):
        _ = layers.Dense(2, name="lonely").output


def test_sequential_exposes_inputs_outputs_input_output():
    model = cnnkit.Sequential(
        [layers.Dense(2, input_shape=(5,), name="a"), layers.Dense(1, name="b")]
    )
    assert [t.shape for t in model.inputs] == [(None, 5)]
    assert model.input is model.inputs[0]
    assert model.outputs == [model.output]
    assert model.output is model.get_layer("b").output
    assert model.output.shape == (None, 1)


def test_nested_sequential_with_input_shape_builds_the_outer_model():
    inner = cnnkit.Sequential([layers.Dense(2, input_shape=(5,), name="inner_dense")])
    outer = cnnkit.Sequential([inner, layers.Dense(1, name="out")])
    assert outer.built
    assert outer.input_shape == (None, 5) and outer.output_shape == (None, 1)
    assert outer.count_params() == 12 + 3
    result = outer.predict(np.ones((2, 5), "float32"), verbose=0)
    assert result.shape == (2, 1)


def test_model_layers_get_layer_inputs_outputs():
    model = _small_model()
    assert [layer.name for layer in model.layers] == ["features", "hidden", "head"]
    assert model.get_layer("hidden") is model.layers[1]
    assert model.get_layer(index=-1).name == "head"
    assert [t.name for t in model.inputs] == ["features"]
    assert [t.shape for t in model.outputs] == [(None, 2)]
    assert model.input_shape == (None, 4) and model.output_shape == (None, 2)
    with pytest.raises(ValueError, match=r"no layer named 'nope'\. Layer names: \['features'"):
        model.get_layer("nope")


def test_model_called_on_a_dict_with_one_input():
    inputs = cnnkit.Input((3,), name="a")
    model = cnnkit.Model({"a": inputs}, layers.Dense(2)(inputs))
    assert tuple(model({"a": np.zeros((5, 3), "float32")}).shape) == (5, 2)


def test_multi_input_model_accepts_a_list_or_a_dict():
    a, b = cnnkit.Input((3,), name="a"), cnnkit.Input((3,), name="b")
    model = cnnkit.Model([a, b], layers.Subtract()([a, b]))
    x, y = np.full((2, 3), 5.0, "float32"), np.ones((2, 3), "float32")
    assert torch.equal(model([x, y]), torch.full((2, 3), 4.0))
    assert torch.equal(model({"b": y, "a": x}), torch.full((2, 3), 4.0))


# ----------------------------------------------------------------- bad graphs
def test_layer_called_on_a_wrong_rank_names_layer_shape_and_rank():
    with pytest.raises(ValueError) as error:
        layers.Conv2D(2, 3, name="conv")(cnnkit.Input((5,)))
    assert str(error.value) == (
        "Conv2D 'conv' expects inputs of rank 4 (batch, height, width, channels); "
        "received shape (None, 5) (rank 2)"
    )


def test_built_layer_called_on_other_features_names_both():
    dense = layers.Dense(2, name="d")
    dense(cnnkit.Input((4,)))
    with pytest.raises(
        ValueError, match=r"Dense 'd' was built for 4 input features; received shape \(None, 5\)"
    ):
        dense(cnnkit.Input((5,)))


@pytest.mark.parametrize(
    ("merge", "shapes", "message"),
    [
        (
            layers.Add(name="plus"),
            [(3,), (4,)],
            "Add 'plus': inputs have incompatible shapes (None, 3) and (None, 4) (axis 1: 3 vs 4)",
        ),
        (
            layers.Concatenate(name="cat"),
            [(3, 2), (4, 3)],
            "Concatenate 'cat': inputs must match on every axis but the concatenation axis (-1); "
            "received shapes (None, 3, 2) and (None, 4, 3)",
        ),
        (
            layers.Dot(axes=1, name="dot"),
            [(3,), (4,)],
            "Dot 'dot': the dot axes must have equal sizes; received shapes (None, 3) (axis 1: 3) "
            "and (None, 4) (axis 1: 4)",
        ),
        (
            layers.Multiply(name="times"),
            [(3,), (3, 1)],
            "Multiply 'times': inputs must have the same rank; received shapes (None, 3) and "
            "(None, 3, 1)",
        ),
        (
            layers.Subtract(name="minus"),
            [(3,), (3,), (3,)],
            "Subtract 'minus' needs exactly 2 inputs; received 3",
        ),
    ],
)
def test_merge_of_incompatible_inputs_names_layer_and_shapes(merge, shapes, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        merge([cnnkit.Input(shape) for shape in shapes])


def test_merge_on_one_tensor_says_to_pass_a_list():
    with pytest.raises(ValueError, match=r"Add 'add' must be called on a list of tensors"):
        layers.Add(name="add")(cnnkit.Input((3,)))


def test_outputs_not_connected_to_inputs():
    a, b = cnnkit.Input((3,), name="a"), cnnkit.Input((3,), name="b")
    with pytest.raises(
        ValueError, match=r"outputs are not connected to the inputs.*name=b.*\['a'\]"
    ):
        cnnkit.Model(a, layers.Dense(2)(b))
    with pytest.raises(ValueError, match=r"inputs \['b'\] are not connected to the outputs"):
        cnnkit.Model([a, b], layers.Dense(2)(a))


def test_inputs_must_be_input_tensors_and_outputs_symbolic():
    a = cnnkit.Input((3,), name="a")
    hidden = layers.Dense(3, name="hidden")(a)
    with pytest.raises(ValueError, match=r"inputs must be tensors made by cnnkit.Input.*'hidden'"):
        cnnkit.Model(hidden, layers.Dense(1)(hidden))
    with pytest.raises(TypeError, match=r"outputs must be a symbolic tensor.*Received: outputs=3"):
        cnnkit.Model(a, 3)
    with pytest.raises(ValueError, match="the same input tensor is listed twice"):
        cnnkit.Model([a, a], hidden)


def test_a_cycle_is_refused_naming_the_layer():
    inputs = cnnkit.Input((3,), name="c")
    output = layers.Dense(3, name="loop")(inputs)
    output.node.inputs.append(output)  # no public call can make a cycle; forge one
    with pytest.raises(ValueError, match="the graph has a cycle through layer 'loop'"):
        cnnkit.Model(inputs, output)


def test_duplicate_layer_names_are_refused():
    inputs = cnnkit.Input((3,), name="a")
    x = layers.Dense(3, name="dup")(inputs)
    with pytest.raises(ValueError, match=r"'dup' is used twice"):
        cnnkit.Model(inputs, layers.Dense(3, name="dup")(x))


def test_symbolic_arguments_only_first_and_never_mixed_with_data():
    a, b = cnnkit.Input((3,), name="a"), cnnkit.Input((3,), name="b")
    with pytest.raises(TypeError, match=r"Dense 'd': symbolic tensors .* first argument"):
        layers.Dense(2, name="d")(a, b)
    with pytest.raises(TypeError, match=r"cannot mix in real values; received ndarray"):
        layers.Add(name="add")([a, np.zeros(3)])


# ----------------------------------------------------------------- bad data
def test_symbolic_tensor_given_as_data_is_refused():
    model = _small_model()
    model.compile(optimizer="sgd", loss="mse")
    symbolic = model.input
    with pytest.raises(TypeError, match=r"predict: x must be .*KerasTensor.*is symbolic"):
        model.predict(symbolic, verbose=0)
    with pytest.raises(TypeError, match=r"fit: x must be .*KerasTensor.*is symbolic"):
        model.fit(symbolic, np.zeros((2, 2)), verbose=0)
    with pytest.raises(ValueError, match=r"ops.add cannot be applied to symbolic inputs"):
        model(np.zeros((2, 4), "float32")) + symbolic  # a constant of the wrong shape, as in Keras


def test_model_called_on_a_wrong_input_names_the_input_and_both_shapes():
    a, b = cnnkit.Input((3,), name="a"), cnnkit.Input((3,), name="b")
    model = cnnkit.Model([a, b], layers.Add()([a, b]), name="pair")
    good, bad = np.zeros((2, 3), "float32"), np.zeros((2, 4), "float32")
    with pytest.raises(ValueError) as error:
        model([good, bad])
    assert str(error.value) == (
        "Model 'pair': input 'b' expects arrays of shape (None, 3) (batch axis first); "
        "received shape (2, 4)"
    )
    with pytest.raises(
        ValueError, match=r"the model has 2 inputs \['a', 'b'\].*Received: list of 3"
    ):
        model([good, good, good])
    with pytest.raises(ValueError, match=r"a dict of inputs must have the keys \['a', 'b'\]"):
        model({"a": good})


def test_model_called_symbolically_on_a_wrong_shape():
    model = _small_model()
    with pytest.raises(
        ValueError, match=r"Model 'small' expects inputs of shape \(None, 4\); received"
    ):
        model(cnnkit.Input((5,)))


@pytest.mark.parametrize("name", ["double", "to", "keys", "train", "update"])
def test_a_layer_may_bear_the_name_of_a_torch_method(name, tmp_path):
    """Keras takes any layer name; torch's ModuleDict refuses its own attribute names."""
    inputs = cnnkit.Input((3,))
    functional = cnnkit.Model(inputs, cnnkit.layers.Dense(2, name=name)(inputs))
    sequential = cnnkit.Sequential([cnnkit.Input((3,)), cnnkit.layers.Dense(2, name=name)])
    for model in (functional, sequential):
        assert model.get_layer(name).name == name
        model.save(tmp_path / "named.keras")
        loaded = cnnkit.models.load_model(tmp_path / "named.keras")
        x = np.ones((2, 3), dtype="float32")
        np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
