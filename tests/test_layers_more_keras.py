"""RepeatVector, Lambda, SpatialDropout2D, GaussianNoise, LayerNormalization,
GroupNormalization, Conv1D, the 1-D poolings and Identity against Keras 3: same weights in,
same outputs, shapes and parameter counts out; training-only noise; argument errors; models,
summaries and saving (a Lambda refuses to be saved: a file holds no code)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from keras_oracle import keras
from model_file_tools import edit_section

import cnnkit
from cnnkit import layers

LAST, FIRST = "channels_last", "channels_first"


def conv1d_cases():
    cases = []
    for strides, padding, dilation, kernel, groups, data_format in [
        (1, "valid", 1, 3, 1, LAST),
        (2, "valid", 1, 3, 1, LAST),
        (2, "same", 1, 4, 1, LAST),
        (3, "same", 1, 2, 1, FIRST),
        (1, "causal", 1, 3, 1, LAST),
        (1, "causal", 2, 3, 1, LAST),
        (2, "causal", 1, 3, 1, FIRST),
        (1, "same", 3, 3, 1, LAST),
        (1, "valid", 2, 2, 3, LAST),
        (2, "same", 1, 5, 3, FIRST),
    ]:
        arguments = dict(
            filters=6,
            kernel_size=kernel,
            strides=strides,
            padding=padding,
            dilation_rate=dilation,
            groups=groups,
            data_format=data_format,
            activation="relu",
        )
        shape = (11, 3) if data_format == LAST else (3, 11)
        cases.append(("Conv1D", arguments, shape))
    cases.append(("Conv1D", dict(filters=2, kernel_size=1, use_bias=False), (7, 4)))
    return cases


def pooling_cases():
    cases = []
    for name in ("MaxPooling1D", "AveragePooling1D"):
        for pool, strides, padding, data_format in [
            (2, None, "valid", LAST),
            (3, None, "valid", LAST),
            (3, 1, "same", LAST),
            (3, 2, "same", FIRST),
            (2, 3, "same", LAST),
            (4, 2, "valid", FIRST),
        ]:
            arguments = dict(
                pool_size=pool, strides=strides, padding=padding, data_format=data_format
            )
            cases.append((name, arguments, (9, 3) if data_format == LAST else (3, 9)))
    for name in ("GlobalAveragePooling1D", "GlobalMaxPooling1D"):
        for keepdims in (False, True):
            for data_format in (LAST, FIRST):
                arguments = dict(keepdims=keepdims, data_format=data_format)
                cases.append((name, arguments, (7, 3)))
    return cases


def normalization_cases():
    return [
        ("LayerNormalization", dict(), (6,)),
        ("LayerNormalization", dict(), (5, 6)),
        ("LayerNormalization", dict(axis=1, epsilon=1e-5), (6,)),
        ("LayerNormalization", dict(axis=[1, 2]), (4, 5)),
        ("LayerNormalization", dict(axis=[-3, -1]), (4, 5, 3)),
        ("LayerNormalization", dict(axis=(1, 2, 3), center=False), (4, 5, 3)),
        ("LayerNormalization", dict(scale=False), (4, 5, 3)),
        ("GroupNormalization", dict(groups=2), (4, 5, 6)),
        ("GroupNormalization", dict(groups=1, center=False), (4, 5, 6)),
        ("GroupNormalization", dict(groups=-1, scale=False), (4, 5, 6)),
        ("GroupNormalization", dict(groups=3, axis=1, epsilon=1e-5), (6, 4, 5)),
        ("GroupNormalization", dict(groups=4), (9, 8)),
    ]


def other_cases():
    return [
        ("RepeatVector", dict(n=3), (5,)),
        ("Identity", dict(), (4, 4, 2)),
        ("SpatialDropout2D", dict(rate=0.5), (4, 4, 2)),  # inference: unchanged
        ("SpatialDropout2D", dict(rate=0.3, data_format=FIRST, seed=1), (2, 4, 4)),
        ("GaussianNoise", dict(stddev=0.5, seed=3), (4, 3)),
    ]


CASES = conv1d_cases() + pooling_cases() + normalization_cases() + other_cases()


def case_id(case) -> str:
    name, arguments, shape = case
    return name + "-" + "-".join(f"{k}={v}" for k, v in arguments.items()) + f"-{shape}"


@pytest.mark.parametrize("name, arguments, shape", CASES, ids=[case_id(c) for c in CASES])
def test_outputs_shapes_and_parameter_counts_equal_keras(name, arguments, shape):
    theirs = getattr(keras.layers, name)(**arguments)
    ours = getattr(layers, name)(**arguments)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, *shape)).astype(np.float32)
    expected_shape = tuple(theirs.compute_output_shape((None, *shape)))
    theirs.build((None, *shape))
    theirs.set_weights([rng.normal(size=w.shape) for w in theirs.get_weights()])
    expected = np.asarray(theirs(x).detach().cpu())
    assert ours.build_for((None, *shape)) == expected_shape
    assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.weights]
    ours.set_weights(theirs.get_weights())
    ours.eval()
    got = ours(x).detach().numpy()
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=1e-5, rtol=0)
    assert ours.count_params() == theirs.count_params()


def test_lambda_computes_like_keras_with_arguments_and_output_shape():
    x = np.random.default_rng(1).normal(size=(3, 5)).astype(np.float32)
    for arguments in [
        dict(function=lambda t: t[:, :2] * 2.0),
        dict(function=lambda t, k: t * k, arguments={"k": 3.0}),
        dict(function=lambda t: t[:, :3], output_shape=(3,)),
    ]:
        theirs, ours = keras.layers.Lambda(**arguments), layers.Lambda(**arguments)
        expected = np.asarray(theirs(x).detach().cpu())
        assert ours.build_for((None, 5)) == tuple(theirs.compute_output_shape((None, 5)))
        np.testing.assert_allclose(ours(x).detach().numpy(), expected, atol=1e-6)
        assert ours.count_params() == 0


def test_lambda_gets_the_training_flag_and_a_list_of_inputs():
    seen = []
    layer = layers.Lambda(lambda t, training=None: seen.append(training) or t + 1)
    layer.build_for((None, 2))
    layer.train()
    layer(torch.zeros(1, 2))
    layer.eval()
    layer(torch.zeros(1, 2))
    assert seen[-2:] == [True, False]
    a, b = cnnkit.Input(shape=(4,)), cnnkit.Input(shape=(4,))
    joined = layers.Lambda(lambda ts: torch.cat([ts[0], ts[1] * 2], dim=-1))([a, b])
    model = cnnkit.Model([a, b], joined)
    assert model.output_shape == (None, 8)
    out = model.predict([np.ones((2, 4)), np.ones((2, 4))], verbose=0)
    np.testing.assert_array_equal(out, np.concatenate([np.ones((2, 4)), 2 * np.ones((2, 4))], 1))


def test_layer_normalization_over_inner_axes_equals_numpy():
    """Keras' PyTorch backend fails on axes that are not the trailing ones; NumPy is the oracle."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(2, 4, 5, 3)).astype(np.float32)
    layer = layers.LayerNormalization(axis=[1, 2], epsilon=1e-3)
    layer.build_for((None, 4, 5, 3))
    gamma, beta = rng.normal(size=(4, 5)), rng.normal(size=(4, 5))
    layer.set_weights([gamma, beta])
    mean, variance = x.mean(axis=(1, 2), keepdims=True), x.var(axis=(1, 2), keepdims=True)
    expected = (x - mean) / np.sqrt(variance + 1e-3) * gamma[..., None] + beta[..., None]
    np.testing.assert_allclose(layer(x).detach().numpy(), expected, atol=1e-5)


def test_noise_layers_act_only_in_training():
    x = torch.ones(64, 4, 4, 8)
    dropout = layers.SpatialDropout2D(0.5, seed=0)
    dropout.train()
    y = dropout(x)
    values = set(torch.unique(y).tolist())
    assert values <= {0.0, 2.0} and values == {0.0, 2.0}
    per_channel = y.reshape(64, 16, 8)  # every pixel of a channel shares the channel's fate
    assert torch.equal(per_channel.amin(dim=1), per_channel.amax(dim=1))
    assert 0.35 < (per_channel[:, 0] == 0).float().mean() < 0.65
    again = layers.SpatialDropout2D(0.5, seed=0)
    again.train()
    assert torch.equal(again(x), y)  # equal seeds, equal masks
    first = layers.SpatialDropout2D(0.5, data_format=FIRST, seed=0)
    first.train()
    y = first(torch.ones(64, 8, 4, 4)).reshape(64, 8, 16)
    assert torch.equal(y.amin(dim=2), y.amax(dim=2))
    noise = layers.GaussianNoise(0.2, seed=0)
    noise.train()
    drawn = noise(torch.zeros(200, 50))
    assert abs(drawn.mean().item()) < 0.01 and abs(drawn.std().item() - 0.2) < 0.01
    again = layers.GaussianNoise(0.2, seed=0)
    again.train()
    assert torch.equal(again(torch.zeros(200, 50)), drawn)
    for layer in (dropout, noise):
        assert not torch.equal(layer(x, training=True), x)
        assert torch.equal(layer(x, training=False), x)
        layer.eval()
        assert torch.equal(layer(x), x)
        assert not torch.equal(layer(x, training=True), x)


@pytest.mark.parametrize(
    "layer, shape",
    [
        (layers.Conv1D(3, 3, padding="causal", dilation_rate=2), (8, 2)),
        (layers.LayerNormalization(axis=[1, 2]), (4, 3)),
        (layers.GroupNormalization(groups=2), (5, 4)),
        (layers.AveragePooling1D(3, strides=2, padding="same"), (7, 2)),
        (layers.MaxPooling1D(2), (6, 2)),
        (layers.GlobalAveragePooling1D(), (6, 2)),
        (layers.RepeatVector(2), (3,)),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, torch.nn.Module) else None,
)
def test_gradients_reach_the_input_and_every_weight(layer, shape):
    x = torch.randn(2, *shape, requires_grad=True)
    y = layer(x)
    (y * torch.randn_like(y)).sum().backward()  # random weights: a plain sum of a norm is 0
    assert x.grad is not None and x.grad.abs().sum() > 0
    for weight in layer.trainable_weights:
        assert weight.grad is not None and weight.grad.abs().sum() > 0


def test_conv1d_stores_torch_layout_and_its_penalties_equal_keras():
    arguments = dict(filters=4, kernel_size=3, groups=2, kernel_regularizer="l2",
                     bias_regularizer="l1", kernel_constraint="non_neg")  # fmt: skip
    ours = layers.Conv1D(**arguments)
    ours.build_for((None, 9, 6))
    assert ours.weight.shape == (4, 3, 3)  # torch.nn.Conv1d: (out, in / groups, k)
    theirs = keras.layers.Conv1D(**arguments)
    theirs.build((None, 9, 6))
    weights = [np.random.default_rng(2).normal(size=w.shape) for w in theirs.get_weights()]
    theirs.set_weights(weights)
    ours.set_weights(weights)
    np.testing.assert_allclose(
        sorted(float(v) for v in ours.losses), sorted(float(v) for v in theirs.losses), rtol=1e-5
    )
    ours.apply_constraints()
    assert (ours.get_weights()[0] >= 0).all()


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda: layers.RepeatVector(0), ValueError,
         r"RepeatVector: n must be a positive int. Received: n=0"),
        (lambda: layers.RepeatVector(2).build_for((None, 3, 4)), ValueError,
         r"expects inputs of rank 2 \(batch, features\); received shape \(None, 3, 4\)"),
        (lambda: layers.Lambda("x * 2"), TypeError,
         r"Lambda: function must be callable .* Received: function='x \* 2'"),
        (lambda: layers.Lambda(abs, output_shape="4"), TypeError,
         r"Lambda: output_shape must be None, a tuple of sizes"),
        (lambda: layers.Lambda(abs, arguments=[1]), TypeError,
         r"Lambda: arguments must be a dict"),
        (lambda: layers.SpatialDropout2D(1.0), ValueError,
         r"SpatialDropout2D: rate must be a float in \[0, 1\). Received: rate=1.0"),
        (lambda: layers.SpatialDropout2D(0.5).build_for((None, 4, 4)), ValueError,
         r"expects inputs of rank 4 \(batch, height, width, channels\)"),
        (lambda: layers.SpatialDropout2D(0.5, seed=-1), ValueError, r"seed must be an int >= 0"),
        (lambda: layers.GaussianNoise(-0.1), ValueError,
         r"GaussianNoise: stddev must be a finite number in \[0, 1\]. Received: stddev=-0.1"),
        (lambda: layers.GaussianNoise("big"), TypeError, r"GaussianNoise: stddev must be"),
        (lambda: layers.LayerNormalization(axis="last"), TypeError,
         r"LayerNormalization: axis must be an int or a list of ints .* Received: axis='last'"),
        (lambda: layers.LayerNormalization(axis=3).build_for((None, 4, 4)), ValueError,
         r"axis 3 is not a set of feature axes of inputs of shape \(None, 4, 4\)"),
        (lambda: layers.LayerNormalization(epsilon=0), ValueError,
         r"LayerNormalization: epsilon must be a finite number > 0. Received: epsilon=0"),
        (lambda: layers.GroupNormalization(groups=0), ValueError,
         r"GroupNormalization: groups must be a positive int, or -1 .* Received: groups=0"),
        (lambda: layers.GroupNormalization(groups=4).build_for((None, 5, 6)), ValueError,
         r"the 6 channels of inputs of shape \(None, 5, 6\) cannot be split into groups=4"),
        (lambda: layers.GroupNormalization(axis=[1]), TypeError,
         r"GroupNormalization: axis must be an int. Received: axis=\[1\]"),
        (lambda: layers.Conv1D(4, 3, padding="full"), ValueError,
         r"Conv1D: padding must be one of 'valid', 'same', 'causal'. Received: padding='full'"),
        (lambda: layers.Conv1D(4, (3, 3)), ValueError,
         r"Conv1D: kernel_size must be an int or a tuple of 1 ints. Received: kernel_size=\(3, 3\)"),
        (lambda: layers.Conv1D(5, 3, groups=2), ValueError,
         r"filters must be a multiple of groups. Received: filters=5, groups=2"),
        (lambda: layers.Conv1D(4, 3, strides=2, dilation_rate=2), ValueError,
         r"strides > 1 cannot be combined with dilation_rate > 1"),
        (lambda: layers.Conv1D(4, 3, kernel_initializer="nope"), ValueError,
         r"Conv1D: unknown kernel_initializer 'nope'"),
        (lambda: layers.Conv1D(4, 5).build_for((None, 3, 2)), ValueError,
         r"kernel_size \(5,\) .* is longer than the input's 3 steps with padding='valid'"),
        (lambda: layers.Conv1D(4, 3).build_for((None, 8)), ValueError,
         r"expects inputs of rank 3 \(batch, steps, channels\); received shape \(None, 8\) "
         r"\(rank 2\) - add a channel axis"),
        (lambda: layers.MaxPooling1D(0), ValueError, r"every value of pool_size must be > 0"),
        (lambda: layers.AveragePooling1D(padding="causal"), ValueError,
         r"AveragePooling1D: padding must be one of 'valid', 'same'"),
        (lambda: layers.MaxPooling1D(4).build_for((None, 3, 2)), ValueError,
         r"pool_size \(4,\) is longer than the input's 3 steps"),
        (lambda: layers.GlobalMaxPooling1D().build_for((None, 3, 3, 2)), ValueError,
         r"GlobalMaxPooling1D 'global_max_pooling1d' expects inputs of rank 3"),
        (lambda: layers.Identity(foo=1), TypeError, r"Identity: unexpected keyword argument 'foo'"),
    ],
)  # fmt: skip
def test_bad_arguments_are_named(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_wrong_sizes_at_call_time_name_the_layer():
    conv = layers.Conv1D(2, 3)
    conv.build_for((None, 8, 3))
    with pytest.raises(ValueError, match=r"'conv1d' was built for 3 input channels"):
        conv(torch.zeros(1, 8, 2))
    norm = layers.GroupNormalization(groups=2)
    norm.build_for((None, 8, 4))
    with pytest.raises(ValueError, match=r"was built for 4 channels on axis -1"):
        norm(torch.zeros(1, 8, 6))


def test_keras_aliases_name_the_same_layers():
    for alias in ("MaxPool1D", "AvgPool1D", "GlobalAvgPool1D", "GlobalMaxPool1D", "Convolution1D"):
        assert getattr(layers, alias).__name__ == getattr(keras.layers, alias).__name__


def sequence_model(lib):
    """A small 1-D CNN over sequences with every new saveable layer."""
    inputs = lib.Input(shape=(16, 3), name="signal")
    x = lib.layers.GaussianNoise(0.1, seed=1)(inputs)
    x = lib.layers.Conv1D(8, 3, padding="causal", activation="relu", kernel_regularizer="l2")(x)
    x = lib.layers.GroupNormalization(groups=4)(x)
    x = lib.layers.MaxPooling1D(2)(x)
    x = lib.layers.Conv1D(8, 3, strides=2, padding="same", groups=2)(x)
    x = lib.layers.LayerNormalization(axis=[1, 2], epsilon=1e-5)(x)
    x = lib.layers.AveragePooling1D(3, strides=1, padding="same")(x)
    a = lib.layers.GlobalAveragePooling1D()(x)
    b = lib.layers.GlobalMaxPooling1D()(lib.layers.Identity()(x))
    x = lib.layers.Concatenate()([a, b])
    x = lib.layers.RepeatVector(2)(x)
    outputs = lib.layers.Reshape((4, 4, 2))(x)
    outputs = lib.layers.SpatialDropout2D(0.2, seed=2)(outputs)
    return lib.Model(inputs, outputs, name="sequences")


def test_a_model_of_them_counts_parameters_and_computes_like_keras():
    theirs, ours = sequence_model(keras), sequence_model(cnnkit)
    rng = np.random.default_rng(3)
    theirs.set_weights([rng.normal(size=w.shape) for w in theirs.get_weights()])
    ours.set_weights(theirs.get_weights())
    assert ours.count_params() == theirs.count_params()
    lines = []
    ours.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert f"Total params: {theirs.count_params():,}" in text
    for layer in theirs.layers[1:]:
        assert f"{layer.count_params():,}" in text
    x = rng.normal(size=(3, 16, 3)).astype(np.float32)
    np.testing.assert_allclose(
        ours.predict(x, verbose=0), np.asarray(theirs(x).detach().cpu()), atol=1e-5, rtol=0
    )


def sequential() -> cnnkit.Sequential:
    return cnnkit.Sequential(
        [
            cnnkit.Input(shape=(3, 12)),
            layers.Conv1D(4, 3, data_format=FIRST, padding="same", dilation_rate=2),
            layers.GroupNormalization(groups=-1, axis=1),
            layers.MaxPool1D(2, data_format=FIRST),
            layers.GlobalAvgPool1D(data_format=FIRST, keepdims=True),
            layers.Flatten(),
            layers.RepeatVector(3),
            layers.LayerNormalization(),
            layers.Identity(),
            layers.Reshape((3, 2, 2)),
            layers.SpatialDropout2D(0.1, data_format=FIRST),
        ],
        name="everything",
    )


@pytest.mark.parametrize("make", [sequential, lambda: sequence_model(cnnkit)], ids=["seq", "func"])
def test_models_of_them_train_save_and_load_with_equal_outputs(make, tmp_path):
    cnnkit.utils.set_random_seed(0)
    model = make()
    model.compile(optimizer="adam", loss="mse")
    x = np.random.default_rng(0).normal(size=(4, *model.input_shape[1:])).astype(np.float32)
    before = [w.copy() for w in model.get_weights()]
    model.fit(x, model.predict(x, verbose=0) * 0.5, epochs=1, verbose=0)
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    model.save(tmp_path / "m.keras")
    loaded = cnnkit.models.load_model(tmp_path / "m.keras")
    assert loaded.get_config() == model.get_config()
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.count_params() == model.count_params()


@pytest.mark.parametrize(
    "index, changes, message",
    [
        (0, dict(padding="full"), r"invalid configuration for layer Conv1D: .*padding"),
        (0, dict(kernel_size=[10**6]), r"kernel_size must be an int in \[1, 4096\]"),
        (1, dict(groups=0), r"groups must be an int in \[1, 65536\]; found 0"),
        (1, dict(groups=-2), r"groups must be an int in \[1, 65536\]; found -2"),
        (5, dict(n=0), r"invalid configuration for layer RepeatVector: .*n must be a positive"),
        (6, dict(axis="x"), r"invalid configuration for layer LayerNormalization: .*axis"),
        (9, dict(rate=2), r"invalid configuration for layer SpatialDropout2D: .*rate"),
    ],
)
def test_crafted_configs_of_them_are_refused(index, changes, message, tmp_path):
    path = tmp_path / "m.keras"
    sequential().save(path)

    def change(config):
        config["layers"][index]["config"].update(changes)
        return config

    edit_section(path, "config", change)
    with pytest.raises(ValueError, match=message):
        cnnkit.models.load_model(path)


def lambda_model() -> cnnkit.Model:
    inputs = cnnkit.Input(shape=(6,))
    x = layers.Dense(4)(inputs)
    x = layers.Lambda(lambda t: t * 2.0, name="twice")(x)
    return cnnkit.Model(inputs, layers.Dense(1)(x))


def test_a_model_with_a_lambda_works_but_refuses_to_be_saved(tmp_path):
    model = lambda_model()
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.default_rng(4).normal(size=(8, 6)).astype(np.float32)
    model.fit(x, np.zeros((8, 1)), epochs=1, verbose=0)
    lines = []
    model.summary(print_fn=lines.append)
    assert "twice (Lambda)" in "\n".join(lines)
    clone = cnnkit.models.clone_model(model)
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0))
    message = (
        r"save: Model 'functional' cannot be saved to a file: its Lambda layer 'twice' holds a "
        r"Python function, which a file cannot store \(a cnnkit file holds no code, so loading "
        r"never runs any\). Replace the Lambda with a Layer subclass"
    )
    with pytest.raises(ValueError, match=message):
        model.save(tmp_path / "m.keras")
    assert not (tmp_path / "m.keras").exists()
    with pytest.raises(ValueError, match=r"to_json: .*Lambda layer 'twice' holds a Python"):
        model.to_json()
    model.save_weights(tmp_path / "m.weights.safetensors")
    other = lambda_model()
    other.load_weights(tmp_path / "m.weights.safetensors")
    np.testing.assert_array_equal(other.predict(x, verbose=0), model.predict(x, verbose=0))


def test_a_lambda_in_sequential_and_nested_models_is_refused_too(tmp_path):
    inner = cnnkit.Sequential([cnnkit.Input(shape=(3,)), layers.Lambda(lambda t: t + 1)])
    outer = cnnkit.Sequential([cnnkit.Input(shape=(3,)), inner, layers.Dense(2)])
    assert outer.predict(np.zeros((1, 3)), verbose=0).shape == (1, 2)
    with pytest.raises(ValueError, match=r"its Lambda layer 'lambda' holds a Python function"):
        outer.save(tmp_path / "m.keras")
