"""Models with several inputs and outputs, trained as in Keras: per-output losses, loss
weights and metrics, list and dict data; Keras 3 (torch backend) is the oracle."""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import cnnkit  # noqa: E402

RNG = np.random.default_rng(0)
X1 = RNG.normal(size=(40, 4)).astype("float32")
X2 = RNG.normal(size=(40, 2)).astype("float32")
Y1 = RNG.integers(0, 3, 40)
Y2 = RNG.normal(size=(40, 1)).astype("float32")


def build(lib, dict_io: bool):
    """The same two-input, two-output graph in Keras or cnnkit."""
    image = lib.Input((4,), name="image")
    meta = lib.Input((2,), name="meta")
    joined = lib.layers.Concatenate()([image, meta])
    hidden = lib.layers.Dense(5, activation="relu", name="hidden")(joined)
    cls = lib.layers.Dense(3, activation="softmax", name="cls")(hidden)
    reg = lib.layers.Dense(1, name="reg")(hidden)
    if dict_io:
        return lib.Model({"image": image, "meta": meta}, {"cls": cls, "reg": reg})
    return lib.Model([image, meta], [cls, reg])


def pair(dict_io: bool = True, **compile_args):
    """A Keras model and a cnnkit model with the same weights, compiled the same way."""
    theirs, ours = build(keras, dict_io), build(cnnkit, dict_io)
    ours.set_weights(theirs.get_weights())
    theirs.compile(keras.optimizers.SGD(0.1), **compile_args)
    ours.compile(cnnkit.optimizers.SGD(0.1), **compile_args)
    return theirs, ours


DICT_COMPILE = dict(
    loss={"cls": "sparse_categorical_crossentropy", "reg": "mse"},
    metrics={"cls": ["accuracy"], "reg": ["mae"]},
    loss_weights={"cls": 1.0, "reg": 0.5},
)
LIST_COMPILE = dict(
    loss=["sparse_categorical_crossentropy", "mse"],
    metrics=[["accuracy"], ["mae"]],
    loss_weights=[0.3, 2.0],
)
X_DICT, Y_DICT = {"image": X1, "meta": X2}, {"cls": Y1, "reg": Y2}


@pytest.mark.parametrize(
    "dict_io, compile_args, x, y",
    [
        (True, DICT_COMPILE, X_DICT, Y_DICT),
        (False, LIST_COMPILE, [X1, X2], [Y1, Y2]),
        (False, LIST_COMPILE, X_DICT, Y_DICT),  # a list model takes dicts keyed by name
        (True, dict(loss="mse"), X_DICT, {"cls": np.eye(3)[Y1], "reg": Y2}),
    ],
)
def test_evaluate_equals_keras(dict_io, compile_args, x, y):
    theirs, ours = pair(dict_io, **compile_args)
    expected = theirs.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
    got = ours.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
    assert sorted(got) == sorted(expected)
    for name in expected:
        assert got[name] == pytest.approx(expected[name], rel=1e-5, abs=1e-6), name
    listed = theirs.evaluate(x, y, batch_size=16, verbose=0)
    np.testing.assert_allclose(ours.evaluate(x, y, batch_size=16, verbose=0), listed, rtol=1e-5)


@pytest.mark.parametrize(
    "dict_io, compile_args, x, y",
    [(True, DICT_COMPILE, X_DICT, Y_DICT), (False, LIST_COMPILE, [X1, X2], [Y1, Y2])],
)
def test_fit_matches_keras_logs_and_values(dict_io, compile_args, x, y):
    theirs, ours = pair(dict_io, **compile_args)
    args = dict(epochs=3, batch_size=8, shuffle=False, verbose=0, validation_split=0.25)
    expected = theirs.fit(x, y, **args).history
    got = ours.fit(x, y, **args).history
    assert sorted(got) == sorted(expected)
    for name in expected:
        np.testing.assert_allclose(got[name], expected[name], rtol=2e-4, atol=1e-6, err_msg=name)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_validation_data_with_lists_names_val_logs_as_keras():
    theirs, ours = pair(False, **LIST_COMPILE)
    args = dict(
        epochs=1, batch_size=16, shuffle=False, verbose=0, validation_data=([X1, X2], [Y1, Y2])
    )
    expected = theirs.fit([X1, X2], [Y1, Y2], **args).history
    got = ours.fit([X1, X2], [Y1, Y2], **args).history
    assert sorted(got) == sorted(expected)
    np.testing.assert_allclose(got["val_loss"], expected["val_loss"], rtol=1e-3)


def test_one_loss_for_every_output_and_unweighted_total():
    theirs, ours = pair(False, loss=["mse", "mse"])
    y = [np.eye(3, dtype="float32")[Y1], Y2]
    expected = theirs.evaluate([X1, X2], y, verbose=0, return_dict=True)
    got = ours.evaluate([X1, X2], y, verbose=0, return_dict=True)
    assert got == pytest.approx(expected, rel=1e-5)
    assert got["loss"] == pytest.approx(got["cls_loss"] + got["reg_loss"], rel=1e-6)


def test_output_without_loss_is_not_trained_on():
    theirs, ours = pair(True, loss={"cls": "sparse_categorical_crossentropy"})
    expected = theirs.evaluate(X_DICT, {"cls": Y1}, verbose=0, return_dict=True)
    got = ours.evaluate(X_DICT, {"cls": Y1}, verbose=0, return_dict=True)
    assert got == pytest.approx(expected, rel=1e-5)
    assert sorted(got) == ["loss"]


@pytest.mark.parametrize("dict_io", [True, False])
def test_predict_returns_the_models_structure(dict_io):
    theirs, ours = pair(dict_io, **(DICT_COMPILE if dict_io else LIST_COMPILE))
    x = X_DICT if dict_io else [X1, X2]
    expected, got = theirs.predict(x, verbose=0), ours.predict(x, batch_size=7, verbose=0)
    assert type(got) is type(expected)
    pairs = [(got[k], expected[k]) for k in expected] if dict_io else zip(got, expected)
    for a, b in pairs:
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_sample_weight_with_several_outputs_equals_keras():
    theirs, ours = pair(True, **DICT_COMPILE)
    weights = RNG.uniform(0, 2, 40).astype("float32")
    expected = theirs.evaluate(X_DICT, Y_DICT, sample_weight=weights, verbose=0, return_dict=True)
    got = ours.evaluate(X_DICT, Y_DICT, sample_weight=weights, verbose=0, return_dict=True)
    assert got["loss"] == pytest.approx(expected["loss"], rel=1e-5)
    assert got["reg_loss"] == pytest.approx(expected["reg_loss"], rel=1e-5)


@pytest.mark.parametrize(
    "x, y, message",
    [
        (
            {"image": X1, "meda": X2},
            Y_DICT,
            r"fit: x has the key 'meda', which is not a name of the model's inputs; "
            r"accepted keys: \['image', 'meta'\]",
        ),
        ({"image": X1}, Y_DICT, r"fit: x is missing the key 'meta'; the model's inputs are"),
        ([X1], Y_DICT, r"fit: x has 1 entries but the model has 2 inputs \['image', 'meta'\]"),
        (X1, Y_DICT, r"fit: the model has 2 inputs \['image', 'meta'\]; pass x as a list"),
        (X_DICT, {"cls": Y1, "rag": Y2}, r"fit: y has the key 'rag', which is not a name"),
        (X_DICT, [Y1, Y2, Y2], r"fit: y has 3 entries but the model has 2 outputs"),
        (X_DICT, {"cls": Y1, "reg": Y2[:5]}, r"y\['reg'\] has 5"),
    ],
)
def test_mismatched_data_names_the_key_or_position(x, y, message):
    _, ours = pair(True, **DICT_COMPILE)
    with pytest.raises(ValueError, match=message):
        ours.fit(x, y, verbose=0)


@pytest.mark.parametrize(
    "compile_args, error, message",
    [
        (dict(loss={"cls": "mse", "rag": "mse"}), ValueError, r"loss has the key 'rag'"),
        (dict(loss=["mse"]), ValueError, r"loss has 1 entries but the model has 2 outputs"),
        (dict(loss="mse", loss_weights=[1.0]), ValueError, r"loss_weights has 1 entries"),
        (dict(loss="mse", loss_weights={"cls": "x"}), TypeError, r"loss_weights must be numbers"),
        (dict(loss="mse", metrics={"rag": ["mae"]}), ValueError, r"metrics has the key 'rag'"),
    ],
)
def test_compile_arguments_per_output_are_checked(compile_args, error, message):
    with pytest.raises(error, match=message):
        build(cnnkit, True).compile("sgd", **compile_args)


def test_fit_without_targets_for_a_compiled_loss_is_an_error():
    _, ours = pair(True, **DICT_COMPILE)
    with pytest.raises(ValueError, match=r"fit: y is required .*\['cls', 'reg'\]"):
        ours.fit(X_DICT, verbose=0)


def test_history_keys_when_trained_from_a_dataloader():
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    _, ours = pair(False, **LIST_COMPILE)
    tensors = [torch.as_tensor(a) for a in (X1, X2, Y1, Y2)]
    loader = DataLoader(TensorDataset(*tensors), batch_size=8)
    batches = [((a, b), (c, d)) for a, b, c, d in loader]
    history = ours.fit(batches_loader(batches), epochs=1, verbose=0).history
    assert sorted(history) == ["cls_accuracy", "cls_loss", "loss", "reg_loss", "reg_mae"]


def batches_loader(batches):
    """A DataLoader over ready-made batches (x structure, y structure)."""
    from torch.utils.data import DataLoader

    return DataLoader(batches, batch_size=None)
