"""Ops and KerasTensor arithmetic inside functional models: the same model in Keras with
copied weights gives the same outputs; a model using ops saves and loads; bad arguments
name the op."""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import cnnkit  # noqa: E402


def _residual_model(lib):
    """The same graph in Keras (lib=keras) or cnnkit: dense layers, ops and operators."""
    inputs = lib.Input(shape=(6,))
    x = lib.layers.Dense(6, name="first")(inputs)
    residual = x
    x = lib.ops.relu(lib.layers.Dense(6, name="second")(x))
    x += residual
    x = x * 0.5 - lib.ops.mean(x, axis=-1, keepdims=True)
    x = x / (1.0 + lib.ops.abs(x)) ** 2
    x = lib.ops.concatenate([x[:, :3], -x[:, 3:]], axis=-1)
    x = lib.ops.where(x > 0, x, lib.ops.exp(x))
    scores = lib.ops.softmax(lib.layers.Dense(4, name="head")(x))
    return lib.Model(inputs, [scores, lib.ops.sum(x @ lib.ops.transpose(x), axis=1)])


def _pair():
    ours, theirs = _residual_model(cnnkit), _residual_model(keras)
    for layer in ("first", "second", "head"):
        ours.get_layer(layer).set_weights(theirs.get_layer(layer).get_weights())
    return ours, theirs


DATA = np.random.default_rng(1).normal(size=(5, 6)).astype("float32")


def test_functional_model_with_ops_matches_keras():
    ours, theirs = _pair()
    mine, reference = ours.predict(DATA, verbose=0), theirs.predict(DATA, verbose=0)
    for a, b in zip(mine, reference):
        np.testing.assert_allclose(a, keras.ops.convert_to_numpy(b), rtol=1e-5, atol=1e-5)
    assert [tuple(t.shape) for t in ours.outputs] == [(None, 4), (None,)]


def test_symbolic_shapes_follow_keras():
    x, y = cnnkit.Input(shape=(8, 8, 3)), keras.Input(shape=(8, 8, 3))
    for op, args in [
        ("mean", {"axis": (1, 2)}),
        ("sum", {}),
        ("reshape", {"newshape": (-1, 192)}),
        ("expand_dims", {"axis": 1}),
        ("transpose", {"axes": (0, 3, 1, 2)}),
        ("max_pool", {"pool_size": 2}),
        ("argmax", {"axis": -1}),
    ]:
        mine, reference = getattr(cnnkit.ops, op)(x, **args), getattr(keras.ops, op)(y, **args)
        assert mine.shape == reference.shape, op
        assert str(mine.dtype).removeprefix("torch.") == reference.dtype, op
    assert cnnkit.ops.image.resize(x, (4, 5)).shape == (None, 4, 5, 3)
    assert cnnkit.ops.shape(x) == (None, 8, 8, 3)


def test_model_with_ops_saves_and_loads(tmp_path):
    ours, _ = _pair()
    path = tmp_path / "ops.keras"
    ours.save(path)
    loaded = cnnkit.models.load_model(path)
    for a, b in zip(loaded.predict(DATA, verbose=0), ours.predict(DATA, verbose=0)):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    again = cnnkit.models.model_from_json(ours.to_json())
    assert [layer.name for layer in again.layers] == [layer.name for layer in ours.layers]


def test_constant_arrays_and_slices_survive_a_round_trip():
    inputs = cnnkit.Input(shape=(4,))
    outputs = (inputs[..., 1:3] * np.array([2.0, 3.0], dtype="float32")) @ np.eye(
        2, dtype="float32"
    )
    model = cnnkit.Model(inputs, outputs)
    copy = cnnkit.models.model_from_config(model.get_config())
    data = np.arange(8, dtype="float32").reshape(2, 4)
    np.testing.assert_allclose(copy.predict(data, verbose=0), [[2.0, 6.0], [10.0, 18.0]])


def test_a_file_cannot_name_an_op_cnnkit_does_not_have():
    inputs = cnnkit.Input(shape=(4,))
    config = cnnkit.Model(inputs, cnnkit.ops.exp(inputs)).get_config()
    config["layers"][1]["config"]["op"] = "__import__"
    with pytest.raises(ValueError, match="op must name one of cnnkit.ops"):
        cnnkit.models.model_from_config(config)
    config["layers"][1]["config"]["op"] = "exp"
    config["layers"][1]["config"]["arguments"] = [{"__code__": "print(1)"}]
    with pytest.raises(ValueError, match="which is no op argument"):
        cnnkit.models.model_from_config(config)


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda x: cnnkit.ops.sum(x, axis=4), ValueError, "ops.sum: axis=4 is out of range"),
        (lambda x: cnnkit.ops.mean(x, axes=1), TypeError, "ops.mean: .*'axes'"),
        (lambda x: cnnkit.ops.reshape(x, (7, 7)), ValueError, "ops.reshape"),
        (lambda x: cnnkit.ops.matmul(x, np.ones((5, 2))), ValueError, "ops.matmul"),
        (lambda x: cnnkit.ops.max_pool(x, 2, padding="full"), ValueError, "ops.max_pool: padding"),
    ],
)
def test_bad_arguments_on_symbolic_tensors_name_the_op(call, error, words):
    with pytest.raises(error, match=words):
        call(cnnkit.Input(shape=(3, 3, 4)))


def test_unsaveable_constant_is_refused_on_save():
    inputs = cnnkit.Input(shape=(2,))
    model = cnnkit.Model(inputs, cnnkit.ops.add(inputs, object.__new__(_Opaque)))
    with pytest.raises(TypeError, match=r"ops.add \(position 1\).*_Opaque"):
        model.get_config()


class _Opaque:
    def __array__(self, dtype=None, copy=None):
        return np.zeros(2, dtype="float32")
