"""Reshape, Permute, UpSampling2D, ZeroPadding2D, Cropping2D, Conv2DTranspose, DepthwiseConv2D
and SeparableConv2D against Keras 3: same weights in, same outputs, shapes and parameter
counts out; gradients; argument errors; penalties; saving and loading."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from keras_oracle import keras
from model_file_tools import edit_section

import cnnkit
from cnnkit import layers

LAST, FIRST = "channels_last", "channels_first"


def image(data_format: str, height: int, width: int, channels: int) -> tuple[int, int, int]:
    if data_format == LAST:
        return (height, width, channels)
    return (channels, height, width)


def transpose_cases():
    cases = []
    for strides, padding, output_padding, dilation, kernel, data_format in [
        (1, "valid", None, 1, 3, LAST),
        (2, "valid", None, 1, 3, LAST),
        (2, "same", None, 1, 3, LAST),
        (2, "same", None, 1, 2, FIRST),
        (3, "valid", None, 1, 2, LAST),  # stride beyond the kernel: zero rows between
        (3, "same", 2, 1, (2, 3), LAST),
        (2, "valid", 1, 1, 3, FIRST),
        (2, "same", 0, 1, 4, LAST),
        ((2, 1), "same", None, 1, (3, 1), LAST),
        (1, "valid", None, 2, 3, LAST),
        (1, "same", None, (2, 3), 3, FIRST),
        (1, "same", 0, 1, 5, LAST),
    ]:
        arguments = dict(
            filters=4,
            kernel_size=kernel,
            strides=strides,
            padding=padding,
            output_padding=output_padding,
            dilation_rate=dilation,
            data_format=data_format,
            activation="relu",
        )
        cases.append(("Conv2DTranspose", arguments, image(data_format, 5, 6, 3)))
    cases.append(("Conv2DTranspose", dict(filters=2, kernel_size=3, use_bias=False), (4, 4, 1)))
    return cases


def depthwise_cases():
    cases = []
    for strides, padding, dilation, kernel, multiplier, data_format in [
        (1, "valid", 1, 3, 1, LAST),
        (1, "same", 1, 5, 1, LAST),
        (2, "same", 1, 3, 2, LAST),
        (2, "valid", 1, (2, 3), 3, FIRST),
        (3, "same", 1, 2, 1, FIRST),
        ((1, 2), "same", 1, 3, 2, LAST),
        (1, "valid", 2, 3, 1, LAST),
        (1, "same", (2, 1), 3, 2, FIRST),
        (2, "same", 2, 3, 1, LAST),  # strides with dilation, as Keras allows here
    ]:
        window = dict(
            kernel_size=kernel,
            strides=strides,
            padding=padding,
            depth_multiplier=multiplier,
            dilation_rate=dilation,
            data_format=data_format,
        )
        shape = image(data_format, 9, 8, 3)
        cases.append(("DepthwiseConv2D", dict(window, activation="tanh"), shape))
        cases.append(("SeparableConv2D", dict(window, filters=5), shape))
    cases.append(("DepthwiseConv2D", dict(kernel_size=3, use_bias=False), (6, 6, 2)))
    cases.append(("SeparableConv2D", dict(filters=4, kernel_size=3, use_bias=False), (6, 6, 2)))
    return cases


def weightless_cases():
    cases = []
    for size in (2, 3, (2, 3)):
        for interpolation in ("nearest", "bilinear", "bicubic"):
            for data_format in (LAST, FIRST):
                arguments = dict(size=size, interpolation=interpolation, data_format=data_format)
                cases.append(("UpSampling2D", arguments, image(data_format, 4, 5, 3)))
    for borders in (0, 2, (1, 2), ((1, 2), (3, 0))):
        for data_format in (LAST, FIRST):
            shape = image(data_format, 7, 8, 3)
            cases.append(("ZeroPadding2D", dict(padding=borders, data_format=data_format), shape))
            cases.append(("Cropping2D", dict(cropping=borders, data_format=data_format), shape))
    cases += [
        ("Reshape", dict(target_shape=(4, 4, 1)), (16,)),
        ("Reshape", dict(target_shape=(-1, 3)), (4, 5, 3)),
        ("Reshape", dict(target_shape=(6, -1)), (4, 3)),
        ("Permute", dict(dims=(2, 1)), (4, 5)),
        ("Permute", dict(dims=(3, 1, 2)), (4, 5, 3)),
    ]
    return cases


CASES = transpose_cases() + depthwise_cases() + weightless_cases()


def case_id(case) -> str:
    name, arguments, shape = case
    return name + "-" + "-".join(f"{k}={v}" for k, v in arguments.items()) + f"-{shape}"


@pytest.mark.parametrize("name, arguments, shape", CASES, ids=[case_id(c) for c in CASES])
def test_outputs_shapes_and_parameter_counts_equal_keras(name, arguments, shape):
    theirs = getattr(keras.layers, name)(**arguments)
    ours = getattr(layers, name)(**arguments)
    x = np.random.default_rng(0).normal(size=(2, *shape)).astype(np.float32)
    expected = np.asarray(theirs(x).detach().cpu())
    assert ours.build_for((None, *shape)) == tuple(theirs.compute_output_shape((None, *shape)))
    assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.weights]
    ours.set_weights(theirs.get_weights())
    got = ours(x).detach().numpy()
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=1e-5, rtol=0)
    assert ours.count_params() == theirs.count_params()


@pytest.mark.parametrize(
    "layer, shape",
    [
        (layers.Conv2DTranspose(3, 3, strides=2, padding="same", output_padding=1), (5, 5, 2)),
        (layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same"), (5, 5, 2)),
        (layers.SeparableConv2D(4, 3, strides=2), (7, 7, 2)),
        (layers.UpSampling2D(2, interpolation="bilinear"), (3, 3, 2)),
        (layers.ZeroPadding2D(1), (3, 3, 2)),
        (layers.Cropping2D(1), (4, 4, 2)),
        (layers.Reshape((-1,)), (3, 3, 2)),
        (layers.Permute((3, 1, 2)), (3, 3, 2)),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, torch.nn.Module) else None,
)
def test_gradients_reach_the_input_and_every_weight(layer, shape):
    x = torch.randn(2, *shape, requires_grad=True)
    layer(x).square().sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    for weight in layer.trainable_weights:
        assert weight.grad is not None and weight.grad.abs().sum() > 0


def test_weights_are_stored_in_torch_layouts_and_shown_in_keras_layouts():
    transpose = layers.Conv2DTranspose(6, (3, 2))
    transpose.build_for((None, 5, 5, 4))
    assert transpose.weight.shape == (4, 6, 3, 2)  # torch.nn.ConvTranspose2d: (in, out, kh, kw)
    assert transpose.get_weights()[0].shape == (3, 2, 6, 4)
    separable = layers.SeparableConv2D(7, 3, depth_multiplier=2)
    separable.build_for((None, 5, 5, 4))
    assert separable.depthwise_weight.shape == (4, 2, 3, 3)
    assert separable.pointwise_weight.shape == (7, 8, 1, 1)
    assert [w.shape for w in separable.get_weights()] == [(3, 3, 4, 2), (1, 1, 8, 7), (7,)]
    kernel = np.arange(3 * 3 * 4 * 2, dtype=np.float32).reshape(3, 3, 4, 2)
    depthwise = layers.DepthwiseConv2D(3, depth_multiplier=2)
    depthwise.build_for((None, 5, 5, 4))
    depthwise.set_weights([kernel, np.zeros(8, np.float32)])
    np.testing.assert_array_equal(depthwise.get_weights()[0], kernel)


@pytest.mark.parametrize(
    "name, arguments",
    [
        ("Conv2DTranspose", dict(filters=3, kernel_size=3, kernel_regularizer="l2",
                                 bias_regularizer="l1")),
        ("DepthwiseConv2D", dict(kernel_size=3, depthwise_regularizer="l2", bias_regularizer="l1")),
        ("SeparableConv2D", dict(filters=3, kernel_size=3, depthwise_regularizer="l1",
                                 pointwise_regularizer="l2", bias_regularizer="l2")),
    ],
)  # fmt: skip
def test_weight_penalties_equal_keras(name, arguments):
    theirs = getattr(keras.layers, name)(**arguments)
    theirs.build((None, 6, 6, 2))
    weights = [np.random.default_rng(1).normal(size=w.shape) for w in theirs.get_weights()]
    theirs.set_weights(weights)
    ours = getattr(layers, name)(**arguments)
    ours.build_for((None, 6, 6, 2))
    ours.set_weights(weights)
    expected = sorted(float(loss) for loss in theirs.losses)
    got = sorted(float(loss) for loss in ours.losses)
    np.testing.assert_allclose(got, expected, rtol=1e-5)


@pytest.mark.parametrize(
    "layer",
    [
        layers.Conv2DTranspose(3, 3, kernel_constraint="non_neg", bias_constraint="non_neg"),
        layers.DepthwiseConv2D(3, depthwise_constraint="non_neg", bias_constraint="non_neg"),
        layers.SeparableConv2D(
            3, 3, depthwise_constraint="non_neg", pointwise_constraint="non_neg",
            bias_constraint="non_neg",
        ),
    ],
    ids=lambda layer: type(layer).__name__,
)  # fmt: skip
def test_constraints_project_every_weight(layer):
    layer.build_for((None, 6, 6, 2))
    layer.set_weights([w - 1 for w in layer.get_weights()])
    layer.apply_constraints()
    assert all((w >= 0).all() for w in layer.get_weights())


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda: layers.Reshape(16), TypeError,
         r"Reshape: target_shape must be a non-empty tuple of ints .* Received: target_shape=16"),
        (lambda: layers.Reshape((2, -1, -1)), ValueError, r"at most one -1.*\(2, -1, -1\)"),
        (lambda: layers.Reshape((0, 4)), ValueError, r"target_shape must hold positive sizes"),
        (lambda: layers.Reshape((5, 5)).build_for((None, 16)), ValueError,
         r"Reshape 'reshape': cannot reshape inputs of shape \(None, 16\) \(16 values per "
         r"sample\) to target_shape=\(5, 5\) \(25 values\)"),
        (lambda: layers.Reshape((-1, 5)).build_for((None, 4, 4)), ValueError,
         r"shape \(None, 4, 4\) \(16 values per sample\) to target_shape=\(-1, 5\) \(5 values "
         r"times the -1 axis\)"),
        (lambda: layers.Permute((1, 3)), ValueError,
         r"Permute: dims must be a permutation of 1..2 .* Received: dims=\(1, 3\)"),
        (lambda: layers.Permute((2, 1)).build_for((None, 4, 4, 4)), ValueError,
         r"expects inputs of rank 3; received shape \(None, 4, 4, 4\)"),
        (lambda: layers.UpSampling2D(0), ValueError, r"every value of size must be > 0"),
        (lambda: layers.UpSampling2D(interpolation="lanczos3"), ValueError,
         r"interpolation must be one of 'nearest', 'bilinear', 'bicubic'. Received: "
         r"interpolation='lanczos3'"),
        (lambda: layers.ZeroPadding2D((1, 2, 3)), TypeError,
         r"ZeroPadding2D: padding must be an int, a tuple of 2 ints"),
        (lambda: layers.ZeroPadding2D((1, -1)), ValueError,
         r"every value of padding\[1\] must be >= 0"),
        (lambda: layers.Cropping2D("2"), TypeError, r"Cropping2D: cropping must be an int"),
        (lambda: layers.Cropping2D(((2, 2), (0, 0))).build_for((None, 4, 4, 1)), ValueError,
         r"cropping \(2, 2\) leaves nothing of the input height 4"),
        (lambda: layers.Conv2DTranspose(0, 3), ValueError, r"filters must be a positive int"),
        (lambda: layers.Conv2DTranspose(4, 3, strides=2, output_padding=2), ValueError,
         r"every value of output_padding must be smaller than the stride along its axis. "
         r"Received: output_padding=2 with strides=\(2, 2\)"),
        (lambda: layers.Conv2DTranspose(4, 3, strides=2, dilation_rate=2), ValueError,
         r"strides > 1 cannot be combined with dilation_rate > 1"),
        (lambda: layers.Conv2DTranspose(4, 3, padding="full"), ValueError,
         r"padding must be one of 'valid', 'same'"),
        (lambda: layers.Conv2DTranspose(4, 3, kernel_initializer="nope"), ValueError,
         r"Conv2DTranspose: unknown kernel_initializer 'nope'. Available: constant"),
        (lambda: layers.DepthwiseConv2D(3, depth_multiplier=0), ValueError,
         r"DepthwiseConv2D: depth_multiplier must be a positive int. Received: depth_multiplier=0"),
        (lambda: layers.DepthwiseConv2D(3, depthwise_regularizer=3), TypeError,
         r"DepthwiseConv2D: depthwise_regularizer must be a name, a Regularizer, a callable or "
         r"None. Received: depthwise_regularizer=3"),
        (lambda: layers.DepthwiseConv2D(3, kernel_initializer="ones"), TypeError,
         r"unexpected keyword argument 'kernel_initializer'.*Accepted: .*depthwise_initializer"),
        (lambda: layers.DepthwiseConv2D(5).build_for((None, 4, 4, 2)), ValueError,
         r"kernel_size \(5, 5\) .* is larger than the input height 4 with padding='valid'"),
        (lambda: layers.SeparableConv2D(4, 3, data_format="nhwc"), ValueError,
         r"data_format must be one of 'channels_last', 'channels_first'"),
        (lambda: layers.SeparableConv2D(4, 3, pointwise_constraint="bogus"), ValueError,
         r"SeparableConv2D: unknown pointwise_constraint 'bogus'"),
        (lambda: layers.SeparableConv2D(4, 3).build_for((None, 8, 8)), ValueError,
         r"expects inputs of rank 4 \(batch, height, width, channels\); received shape "
         r"\(None, 8, 8\) \(rank 3\) - add a channel axis"),
    ],
)  # fmt: skip
def test_bad_arguments_are_named(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_wrong_channel_count_at_call_time_names_the_layer():
    layer = layers.DepthwiseConv2D(3)
    layer.build_for((None, 8, 8, 3))
    with pytest.raises(ValueError, match=r"'depthwise_conv2d' was built for 3 input channels"):
        layer(torch.zeros(1, 8, 8, 2))
    reshape = layers.Reshape((3, 3))
    reshape.build_for((None, 9))
    with pytest.raises(ValueError, match=r"cannot reshape inputs of shape \(2, 8\)"):
        reshape(torch.zeros(2, 8))


def autoencoder(lib):
    """The Keras functional API guide's decoder, with the other new layers in between."""
    inputs = lib.Input(shape=(16,), name="code")
    x = lib.layers.Reshape((4, 4, 1))(inputs)
    x = lib.layers.Conv2DTranspose(6, 3, activation="relu", kernel_regularizer="l2")(x)
    x = lib.layers.DepthwiseConv2D(3, padding="same", depth_multiplier=2)(x)
    x = lib.layers.UpSampling2D(2, interpolation="bilinear")(x)
    x = lib.layers.ZeroPadding2D(((1, 0), (0, 1)))(x)
    x = lib.layers.SeparableConv2D(4, 3, strides=2, padding="same")(x)
    x = lib.layers.Cropping2D(1)(x)
    x = lib.layers.Conv2DTranspose(2, 2, strides=2, padding="same", output_padding=1)(x)
    outputs = lib.layers.Permute((3, 1, 2))(x)
    return lib.Model(inputs, outputs, name="decoder")


def test_a_model_of_them_counts_parameters_and_computes_like_keras():
    theirs, ours = autoencoder(keras), autoencoder(cnnkit)
    ours.set_weights(theirs.get_weights())
    assert ours.count_params() == theirs.count_params()
    lines = []
    ours.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert f"Total params: {theirs.count_params():,}" in text
    for layer in theirs.layers[1:]:
        assert f"{layer.count_params():,}" in text
    x = np.random.default_rng(2).normal(size=(3, 16)).astype(np.float32)
    np.testing.assert_allclose(
        ours.predict(x, verbose=0), np.asarray(theirs(x).detach().cpu()), atol=1e-5, rtol=0
    )


def sequential() -> cnnkit.Sequential:
    return cnnkit.Sequential(
        [
            cnnkit.Input(shape=(3, 8, 8)),
            layers.ZeroPadding2D(1, data_format=FIRST),
            layers.SeparableConv2D(4, 3, depth_multiplier=2, data_format=FIRST,
                                   pointwise_constraint="non_neg"),
            layers.DepthwiseConv2D((3, 2), strides=2, data_format=FIRST, use_bias=False),
            layers.UpSampling2D((2, 1), data_format=FIRST),
            layers.Conv2DTranspose(3, 3, strides=2, output_padding=1, data_format=FIRST,
                                   bias_regularizer="l1"),
            layers.Cropping2D(((1, 2), (0, 1)), data_format=FIRST),
            layers.Permute((2, 3, 1)),
            layers.Reshape((-1,)),
        ],
        name="everything",
    )  # fmt: skip


@pytest.mark.parametrize("make", [sequential, lambda: autoencoder(cnnkit)], ids=["seq", "func"])
def test_models_of_them_save_and_load_with_equal_outputs(make, tmp_path):
    cnnkit.utils.set_random_seed(0)
    model = make()
    model.compile(optimizer="adam", loss="mse")
    x = np.random.default_rng(0).normal(size=(4, *model.input_shape[1:])).astype(np.float32)
    model.fit(x, model.predict(x, verbose=0) * 0.5, epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = cnnkit.models.load_model(tmp_path / "m.keras")
    assert loaded.get_config() == model.get_config()
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.count_params() == model.count_params()


@pytest.mark.parametrize(
    "index, changes, message",
    [
        (2, dict(depth_multiplier=10**9), r"depth_multiplier must be an int in \[1, 65536\]"),
        (3, dict(size=[2, 10**6]), r"size must be an int in \[1, 4096\]"),
        (0, dict(padding=[[1, 10**7], [0, 0]]), r"padding must be a string, an int in \[0, 4096\]"),
        (5, dict(cropping=[[-1, 0], 0]), r"cropping must be a string, an int in \[0, 4096\]"),
        (4, dict(output_padding=[1, "1"]), r"output_padding must be a string, an int"),
        (7, dict(target_shape=[60000, 60000, 3]), r"target_shape must be a shape of at most"),
        (7, dict(target_shape=[-2]), r"target_shape must be an int in \[1, 65536\]; found -2"),
        (6, dict(dims=[1, 2, 9]), r"dims must be an int in \[1, 4\]; found 9"),
        (6, dict(dims=[1, 1, 2]), r"invalid configuration for layer Permute: .*permutation"),
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


def test_rescaling_scale_is_a_number_in_a_file_and_batchnorm_scale_a_flag(tmp_path):
    """ConvMixer's Rescaling(1 / 255) next to a BatchNormalization(scale=False): both load."""
    model = cnnkit.Sequential(
        [
            cnnkit.Input(shape=(6, 6, 3)),
            layers.Rescaling(1.0 / 255, offset=[0.0, 0.5, 1.0]),
            layers.DepthwiseConv2D(3),
            layers.BatchNormalization(scale=False),
        ]
    )
    model.save(tmp_path / "m.keras")
    loaded = cnnkit.models.load_model(tmp_path / "m.keras")
    assert loaded.layers[0].scale == pytest.approx(1 / 255)
    assert loaded.layers[2].scale is False

    def change(config):
        config["layers"][0]["config"]["scale"] = "big"
        return config

    edit_section(tmp_path / "m.keras", "config", change)
    with pytest.raises(ValueError, match=r"scale must be true, false, a number or a list of"):
        cnnkit.models.load_model(tmp_path / "m.keras")
