"""Layer behaviour beyond shapes: weights in Keras' layouts, names, penalties, constraints, errors."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import torch

import cnnkit
from cnnkit.layers import (
    Activation,
    AveragePooling2D,
    BatchNormalization,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    LeakyReLU,
    MaxPooling2D,
    ReLU,
)


def test_conv_weights_round_trip_in_keras_layout():
    layer = Conv2D(4, (3, 2), input_shape=(8, 8, 3))
    layer.build_for((None, 8, 8, 3))
    kernel, bias = layer.get_weights()
    assert kernel.shape == (3, 2, 3, 4) and bias.shape == (4,)
    assert layer.weight.shape == (4, 3, 3, 2)  # PyTorch's (out, in, kh, kw)
    new_kernel = np.arange(kernel.size, dtype=np.float32).reshape(kernel.shape)
    layer.set_weights([new_kernel, bias + 1])
    np.testing.assert_array_equal(layer.get_weights()[0], new_kernel)
    np.testing.assert_array_equal(layer.weight.detach().numpy(), new_kernel.transpose(3, 2, 0, 1))


def test_set_weights_rejects_wrong_shapes_naming_the_layer():
    layer = Dense(3)
    layer.build_for((None, 5))
    with pytest.raises(
        ValueError, match=r"Dense 'dense': weight 0 must have shape \(5, 3\); received \(3, 5\)"
    ):
        layer.set_weights([np.zeros((3, 5)), np.zeros(3)])
    with pytest.raises(ValueError, match="expects 2 arrays"):
        layer.set_weights([np.zeros((5, 3))])


def test_initializers_follow_keras_fans():
    """glorot_uniform on a (5, 5, 1, 6) kernel is bounded by sqrt(6 / (25 + 150)), as in Keras."""
    cnnkit.utils.set_random_seed(0)
    layer = Conv2D(6, 5)
    layer.build_for((None, 32, 32, 1))
    kernel = layer.get_weights()[0]
    limit = np.sqrt(6 / (25 * 1 + 25 * 6))
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.9 * limit
    assert not layer.get_weights()[1].any()  # zeros bias


@pytest.mark.parametrize(
    "name, expected_std",
    [
        ("he_normal", np.sqrt(2 / 288)),
        ("glorot_normal", np.sqrt(2 / (288 + 576))),
        ("lecun_normal", np.sqrt(1 / 288)),
        ("random_normal", 0.05),
    ],
)
def test_initializer_statistics(name, expected_std):
    values = cnnkit.initializers.get(name)((3, 3, 32, 64)).numpy()
    assert values.shape == (3, 3, 32, 64)
    assert abs(values.std() - expected_std) / expected_std < 0.05
    keras_values = keras.initializers.get(name)((3, 3, 32, 64)).detach().cpu().numpy()
    assert abs(values.std() - keras_values.std()) / keras_values.std() < 0.05


def test_seeded_initializer_is_reproducible():
    first = cnnkit.initializers.HeUniform(seed=3)((4, 4))
    again = cnnkit.initializers.HeUniform(seed=3)((4, 4))
    torch.testing.assert_close(first, again)


@pytest.mark.parametrize(
    "name",
    [
        "relu",
        "tanh",
        "sigmoid",
        "softmax",
        "elu",
        "selu",
        "softplus",
        "softsign",
        "gelu",
        "silu",
        "exponential",
        "hard_sigmoid",
        "linear",
    ],
)
def test_activations_equal_keras(name):
    x = torch.linspace(-4, 4, 24).reshape(2, 12)
    expected = keras.activations.get(name)(x).detach().cpu().numpy()
    np.testing.assert_allclose(
        cnnkit.activations.get(name)(x).numpy(), expected, rtol=1e-5, atol=1e-6
    )


def test_leaky_relu_uses_the_lectures_slope():
    x = torch.tensor([-2.0, 3.0])
    torch.testing.assert_close(cnnkit.activations.get("leaky_relu")(x), torch.tensor([-0.02, 3.0]))
    torch.testing.assert_close(LeakyReLU()(x), torch.tensor([-0.02, 3.0]))
    keras_layer = keras.layers.LeakyReLU(negative_slope=0.3)
    np.testing.assert_allclose(
        LeakyReLU(negative_slope=0.3)(x).numpy(), keras_layer(x).detach().cpu().numpy()
    )


def test_relu_layer_options_equal_keras():
    x = torch.linspace(-3, 8, 23)
    for kwargs in ({}, {"max_value": 6.0}, {"negative_slope": 0.1, "threshold": 1.0}):
        expected = keras.layers.ReLU(**kwargs)(x).detach().cpu().numpy()
        np.testing.assert_allclose(ReLU(**kwargs)(x).numpy(), expected, rtol=1e-6)


def test_flatten_channels_first_moves_channels_last_like_keras():
    x = np.random.default_rng(0).normal(size=(2, 3, 4, 5)).astype(np.float32)
    expected = keras.layers.Flatten(data_format="channels_first")(x).detach().cpu().numpy()
    np.testing.assert_array_equal(Flatten(data_format="channels_first")(x).numpy(), expected)


def test_regularizer_penalties_equal_keras():
    x = np.random.default_rng(1).normal(size=(4, 6, 6, 2)).astype(np.float32)
    kwargs = dict(
        filters=3,
        kernel_size=3,
        kernel_regularizer="l2",
        bias_regularizer="l1",
        activity_regularizer=cnnkit.regularizers.l1_l2(0.01, 0.02),
        bias_initializer="ones",
    )
    ours = Conv2D(**kwargs)
    theirs = keras.layers.Conv2D(
        **{**kwargs, "activity_regularizer": keras.regularizers.l1_l2(0.01, 0.02)}
    )
    theirs(x)
    ours.build_for((None, 6, 6, 2))
    ours.set_weights(theirs.get_weights())
    ours(x)
    theirs_losses = sorted(float(v) for v in theirs.losses)
    assert len(ours.losses) == 3
    np.testing.assert_allclose(sorted(float(v) for v in ours.losses), theirs_losses, rtol=1e-5)


def test_dense_kernel_regularizer_reaches_model_losses():
    model = cnnkit.Sequential(
        [cnnkit.Input((3,)), Dense(2, kernel_regularizer=cnnkit.regularizers.L2(0.5))]
    )
    kernel = model.layers[0].get_weights()[0]
    assert len(model.losses) == 1
    np.testing.assert_allclose(float(model.losses[0]), 0.5 * (kernel**2).sum(), rtol=1e-6)
    model.losses[0].backward()  # penalties are differentiable
    assert model.layers[0].weight.grad is not None


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (
            cnnkit.constraints.MaxNorm(1.0, axis=[0, 1, 2]),
            keras.constraints.MaxNorm(1.0, axis=[0, 1, 2]),
        ),
        (cnnkit.constraints.UnitNorm(axis=[0, 1, 2]), keras.constraints.UnitNorm(axis=[0, 1, 2])),
        (cnnkit.constraints.NonNeg(), keras.constraints.NonNeg()),
        (
            cnnkit.constraints.MinMaxNorm(0.5, 1.0, axis=[0, 1, 2]),
            keras.constraints.MinMaxNorm(0.5, 1.0, axis=[0, 1, 2]),
        ),
    ],
)
def test_constraints_applied_in_keras_layout(ours, theirs):
    layer = Conv2D(3, 2, kernel_constraint=ours)
    layer.build_for((None, 5, 5, 2))
    kernel = np.random.default_rng(2).normal(size=(2, 2, 2, 3)).astype(np.float32) * 3
    layer.set_weights([kernel, np.zeros(3, np.float32)])
    layer.apply_constraints()
    expected = theirs(torch.from_numpy(kernel)).detach().cpu().numpy()
    np.testing.assert_allclose(layer.get_weights()[0], expected, rtol=1e-5, atol=1e-6)


def test_dropout_and_batchnorm_switch_with_train_and_eval():
    x = torch.ones(64, 8)
    drop = Dropout(0.5)
    assert (drop(x) == 0).any() and torch.equal(drop.eval()(x), x)
    bn = BatchNormalization(momentum=0.9)
    y = bn(torch.randn(32, 4, 4, 3) * 5 + 2)
    assert abs(float(y.mean())) < 1e-5  # training: batch statistics
    assert bn.moving_mean.abs().sum() > 0  # moving statistics updated
    bn.eval()
    x = torch.randn(8, 4, 4, 3)
    expected = (x - bn.moving_mean) / torch.sqrt(bn.moving_variance + bn.epsilon)
    torch.testing.assert_close(bn(x), expected)


def test_batchnorm_counts_moving_statistics_as_non_trainable():
    model = cnnkit.Sequential([cnnkit.Input((4, 4, 3)), BatchNormalization()])
    keras_model = keras.Sequential([keras.Input((4, 4, 3)), keras.layers.BatchNormalization()])
    assert model.count_params() == keras_model.count_params() == 12
    assert sum(w.numel() for w in model.non_trainable_weights) == 6


def test_trainable_freezes_parameters():
    model = cnnkit.zoo.get("lenet5")
    model.layers[0].trainable = False
    assert not model.layers[0].weight.requires_grad
    assert len(model.trainable_weights) == 8
    model.trainable = False
    assert not any(p.requires_grad for p in model.parameters())
    lines = []
    model.trainable = True
    model.summary(print_fn=lines.append, show_trainable=True)
    assert any(line.rstrip().endswith("Y") for line in lines)


def test_numpy_and_integer_inputs_are_converted():
    layer = Dense(2)
    out = layer(np.ones((3, 4), dtype=np.uint8))
    assert out.dtype == torch.float32 and out.shape == (3, 2)


def test_activation_layer_and_same_conv_output():
    x = torch.randn(1, 7, 7, 2)
    conv = Conv2D(3, 4, strides=2, padding="same", activation="relu")
    assert conv(x).shape == (1, 4, 4, 3) and (conv(x) >= 0).all()
    assert Activation("tanh")(x).abs().max() < 1


# ---------------------------------------------------------------- bad input -> clear errors
@pytest.mark.parametrize(
    "make, error, message",
    [
        (
            lambda: Conv2D(8, 3, padding="full"),
            ValueError,
            r"Conv2D: padding must be one of 'valid', 'same'. Received: padding='full'",
        ),
        (
            lambda: Conv2D(8, 3, activation="rleu"),
            ValueError,
            r"Conv2D: unknown activation 'rleu'.*Did you mean 'relu'\?",
        ),
        (
            lambda: Conv2D(8, 3, kernel_initializer="he_norml"),
            ValueError,
            r"unknown kernel_initializer 'he_norml'.*'he_normal'",
        ),
        (
            lambda: Conv2D(8, 3, strides=2, dilation_rate=2),
            ValueError,
            r"strides > 1 cannot be combined with dilation_rate > 1",
        ),
        (
            lambda: Conv2D(0, 3),
            ValueError,
            r"Conv2D: filters must be a positive int. Received: filters=0",
        ),
        (lambda: Conv2D(-4, 3), ValueError, r"filters must be a positive int"),
        (lambda: Conv2D(8, (3, 0)), ValueError, r"every value of kernel_size must be > 0"),
        (lambda: Conv2D(8, "3"), TypeError, r"kernel_size must be an int or a tuple of 2 ints"),
        (
            lambda: Conv2D(filter=8, kernel_size=3),
            TypeError,
            r"Conv2D: unexpected keyword argument 'filter'. Did you mean 'filters'\?",
        ),
        (
            lambda: Conv2D(8, 3, data_format="NHWC"),
            ValueError,
            r"data_format must be one of 'channels_last', 'channels_first'",
        ),
        (
            lambda: Conv2D(kernel_size=3),
            TypeError,
            r"Conv2D: missing a required argument: 'filters'",
        ),
        (lambda: Dense(0), ValueError, r"Dense: units must be a positive int. Received: units=0"),
        (lambda: Dense(10, activaton="relu"), TypeError, r"Did you mean 'activation'\?"),
        (
            lambda: MaxPooling2D(pool_size=(2, 2, 2)),
            ValueError,
            r"MaxPooling2D: pool_size must be an int or a tuple of 2 ints",
        ),
        (
            lambda: AveragePooling2D(padding="causal"),
            ValueError,
            r"AveragePooling2D: padding must be one of",
        ),
        (
            lambda: Dropout(1.5),
            ValueError,
            r"Dropout: rate must be a float in \[0, 1\). Received: rate=1.5",
        ),
        (lambda: Dense(3, kernel_regularizer="l3"), ValueError, r"unknown kernel_regularizer 'l3'"),
        (
            lambda: Dense(3, kernel_constraint="maxnorm"),
            ValueError,
            r"unknown kernel_constraint 'maxnorm'.*'max_norm'",
        ),
        (
            lambda: Conv2D(8, 3, input_shape=(28, -28, 1)),
            ValueError,
            r"input_shape must be a tuple of positive ints",
        ),
    ],
)
def test_bad_arguments_are_named(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_kernel_larger_than_input_names_layer_and_shapes():
    model = cnnkit.Sequential([cnnkit.Input((4, 4, 1))])
    with pytest.raises(
        ValueError,
        match=r"Conv2D 'conv2d': kernel_size \(5, 5\).*larger than the input height 4.*\(None, 4, 4, 1\)",
    ):
        model.add(Conv2D(2, 5))
    assert model.layers == []  # the refused layer is not kept
    with pytest.raises(
        ValueError,
        match=r"MaxPooling2D 'max_pooling2d': pool_size \(5, 5\) is larger than the input height 4",
    ):
        model.add(MaxPooling2D(5))


def test_wrong_input_rank_at_call_time():
    model = cnnkit.zoo.get("lenet5")
    with pytest.raises(
        ValueError,
        match=r"Conv2D 'conv2d' expects inputs of rank 4 \(batch, height, width, channels\); received shape \(2, 32, 32\)",
    ):
        model(torch.zeros(2, 32, 32))


def test_channels_first_data_to_channels_last_model_hints_the_cause():
    model = cnnkit.zoo.get("lenet5", input_shape=(32, 32, 3))
    with pytest.raises(
        ValueError, match=r"built for 3 input channels.*\(2, 3, 32, 32\).*channels-first"
    ):
        model(torch.zeros(2, 3, 32, 32))


def test_dense_on_unflattened_input_suggests_flatten():
    with pytest.raises(ValueError, match="add a Flatten"):
        Dense(3).check_input_shape((None, 4, 4, None))
    model = cnnkit.Sequential([cnnkit.Input((8,)), Dense(3)])
    with pytest.raises(
        ValueError,
        match=r"Dense 'dense' expects inputs of shape \(batch, 8\); received shape \(2, 5\)",
    ):
        model(torch.zeros(2, 5))


def test_tanh_on_cpu_float32_is_within_2e7_of_the_exact_value():
    x = torch.cat(
        [
            torch.linspace(-12, 12, 100_001),
            torch.tensor([0.0, -0.0, 1e-30, float("inf"), -float("inf")]),
        ]
    )
    exact = torch.tanh(x.double())
    ours = cnnkit.activations.tanh(x)
    assert ours.dtype == torch.float32
    assert (ours.double() - exact).abs().max() < 2e-7
    assert torch.isnan(cnnkit.activations.tanh(torch.tensor([float("nan")]))).all()
    with torch.inference_mode():  # the inference path computes the same values
        torch.testing.assert_close(cnnkit.activations.tanh(x), ours, rtol=0, atol=0)


def test_tanh_gradient_is_one_minus_tanh_squared():
    x = torch.linspace(-5, 5, 10_001, requires_grad=True)  # large enough for the fast route
    cnnkit.activations.tanh(x).sum().backward()
    reference = x.detach().clone().requires_grad_()
    torch.tanh(reference).sum().backward()
    torch.testing.assert_close(x.grad, reference.grad, rtol=0, atol=5e-7)
    # backward matches forward (and second derivatives work) in double precision
    from cnnkit.activations import _SigmoidTanh

    point = torch.linspace(-3, 3, 13, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(_SigmoidTanh.apply, (point,))
    assert torch.autograd.gradgradcheck(_SigmoidTanh.apply, (point,))


def test_tanh_keeps_channels_last_memory_and_other_dtypes_use_torch_tanh():
    x = torch.randn(8, 3, 32, 32).permute(0, 2, 3, 1)
    assert cnnkit.activations.tanh(x).stride() == torch.tanh(x).stride()
    doubles = torch.randn(50_000, dtype=torch.float64)
    assert torch.equal(cnnkit.activations.tanh(doubles), torch.tanh(doubles))
    small = torch.randn(100)  # below 8192 values one torch.tanh call is cheaper
    assert torch.equal(cnnkit.activations.tanh(small), torch.tanh(small))
    assert not torch.equal(cnnkit.activations.tanh(x), torch.tanh(x))  # the fast route ran


def _stale_nan_memory() -> None:
    """Free NaN-filled blocks, so that memory a kernel forgets to write holds NaN."""
    blocks = [torch.full((n,), float("nan")) for n in (1_000, 10_000, 100_000)]
    del blocks


@pytest.mark.parametrize("strides", [(1, 2), (2, 3), (3, 1)])
def test_conv_with_one_output_position_and_a_stride_is_computed_not_left_uninitialised(strides):
    # oneDNN leaves such outputs unwritten for one-channel channels-last input (PyTorch 2.13),
    # so Keras' own result is taken without oneDNN.
    torch.manual_seed(0)
    layer = Conv2D(4, 5, strides=strides, padding="same")
    x = torch.randn(3, 3, 2, 1)
    layer(x)
    keras_layer = keras.layers.Conv2D(4, 5, strides=strides, padding="same")
    keras_layer.build((3, 3, 2, 1))
    keras_layer.set_weights(layer.get_weights())
    with torch.backends.mkldnn.flags(enabled=False):
        expected = keras_layer(x.numpy()).detach().cpu().numpy()
    for _ in range(3):
        _stale_nan_memory()
        np.testing.assert_allclose(layer(x).detach().numpy(), expected, rtol=1e-5, atol=1e-6)
