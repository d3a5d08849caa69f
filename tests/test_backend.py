"""cnnkit.backend against keras.backend, and cnnkit.activations on NumPy arrays and lists."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import torch

import cnnkit
from cnnkit import backend

# ---------------------------------------------------------------------------- backend


def test_the_settings_read_as_keras_defaults():
    keras.backend.clear_session()
    assert backend.image_data_format() == keras.backend.image_data_format() == "channels_last"
    assert backend.floatx() == keras.backend.floatx() == "float32"
    assert backend.epsilon() == keras.backend.epsilon() == 1e-7
    assert backend.backend() == keras.backend.backend() == "torch"


def test_import_cnnkit_as_keras_gives_the_backend():
    assert cnnkit.backend.image_data_format() == "channels_last"


def test_channels_last_and_float32_are_accepted():
    backend.set_image_data_format("channels_last")
    backend.set_floatx("float32")
    assert backend.image_data_format() == "channels_last"
    assert backend.floatx() == "float32"


def test_channels_first_is_refused_with_the_way_out():
    with pytest.raises(ValueError, match="cnnkit works channels last throughout") as info:
        backend.set_image_data_format("channels_first")
    assert "np.transpose(x, (0, 2, 3, 1))" in str(info.value)
    assert backend.image_data_format() == "channels_last"


@pytest.mark.parametrize("value", ["channels_middle", 3, None])
def test_an_unknown_image_data_format_names_the_argument(value):
    with pytest.raises(ValueError, match=f"Received: data_format={value!r}"):
        backend.set_image_data_format(value)


def test_other_float_types_are_refused_with_the_precision_setting():
    with pytest.raises(ValueError, match="set_precision\\('bfloat16'\\)"):
        backend.set_floatx("float16")
    with pytest.raises(ValueError, match="Received: value='int8'; accepted: 'float32'"):
        backend.set_floatx("int8")


def test_epsilon_changes_the_clipping_of_the_probability_losses():
    y_true = torch.tensor([[0.0, 1.0]])
    y_pred = torch.tensor([[1.0, 0.0]])  # the true class has probability 0: the log is clipped
    try:
        backend.set_epsilon(1e-3)
        keras.backend.set_epsilon(1e-3)
        assert backend.epsilon() == 1e-3
        ours = cnnkit.losses.categorical_crossentropy(y_true, y_pred)
        theirs = keras.losses.categorical_crossentropy(y_true.numpy(), y_pred.numpy())
        np.testing.assert_allclose(ours.numpy(), np.asarray(theirs), rtol=1e-5)
        assert ours.item() == pytest.approx(-np.log(1e-3), rel=1e-5)
    finally:
        backend.set_epsilon(1e-7)
        keras.backend.set_epsilon(1e-7)
    assert cnnkit.losses.categorical_crossentropy(y_true, y_pred).item() == pytest.approx(
        -np.log(1e-7), rel=1e-4
    )


@pytest.mark.parametrize("value", [0, -1e-7, 0.5, "small", True])
def test_a_bad_epsilon_names_the_argument(value):
    with pytest.raises(ValueError, match=f"Received: value={value!r}"):
        backend.set_epsilon(value)


def test_clear_session_leaves_layer_names_starting_at_dense_as_keras():
    def names(module):
        module.backend.clear_session()
        model = module.Sequential(
            [module.Input((3,)), module.layers.Dense(2), module.layers.Dense(2)]
        )
        return [layer.name for layer in model.layers]

    assert names(cnnkit) == names(keras) == ["dense", "dense_1"]
    assert names(cnnkit) == names(keras) == ["dense", "dense_1"]


# ---------------------------------------------------------------------------- activations

X = np.array([[1.0, -2.0, 3.0, 0.5], [0.0, -1.0, 5.0, -0.25]])
ACTIVATIONS = [
    ("relu", {}),
    ("leaky_relu", {"negative_slope": 0.2}),
    ("tanh", {}),
    ("sigmoid", {}),
    ("softmax", {}),
    ("softmax", {"axis": 0}),
    ("elu", {}),
    ("selu", {}),
    ("gelu", {}),
    ("silu", {}),
    ("swish", {}),
    ("softplus", {}),
    ("softsign", {}),
    ("exponential", {}),
    ("hard_sigmoid", {}),
]


@pytest.mark.parametrize(("name", "kwargs"), ACTIVATIONS)
def test_activations_take_numpy_arrays_as_keras(name, kwargs):
    ours = getattr(cnnkit.activations, name)(X, **kwargs)
    theirs = getattr(keras.activations, name)(X, **kwargs)
    assert isinstance(ours, torch.Tensor) and isinstance(theirs, torch.Tensor)
    assert ours.dtype == theirs.dtype == torch.float64
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(("name", "kwargs"), ACTIVATIONS)
def test_activations_take_python_lists_as_float32(name, kwargs):
    """Keras converts a list to float32 (its softmax fails on lists; cnnkit's does not)."""
    ours = getattr(cnnkit.activations, name)(X.tolist(), **kwargs)
    theirs = getattr(keras.activations, name)(X.astype(np.float32), **kwargs)
    assert ours.dtype == theirs.dtype == torch.float32
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-7)


def test_softmax_of_a_numpy_array_sums_to_one_per_row():
    probabilities = cnnkit.activations.softmax(np.array([[1.0, 2.0, 3.0]], dtype=np.float32))
    assert probabilities.dtype == torch.float32
    assert probabilities.sum().item() == pytest.approx(1.0)


def test_integer_arrays_become_float32():
    assert cnnkit.activations.relu(np.array([[-1, 2]])).tolist() == [[0.0, 2.0]]


def test_an_activation_of_text_is_a_clear_type_error():
    with pytest.raises(TypeError, match="x must be a tensor, a NumPy array or a list of numbers"):
        cnnkit.activations.softmax(["a", "b"])
