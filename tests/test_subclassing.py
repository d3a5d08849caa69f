"""A Keras user's own layers, models, losses and metrics run on cnnkit unchanged.

Each class body is written once and instantiated against both libraries (Keras 3 on its
torch backend, where tensors inside ``call`` are torch tensors too), so Keras is the oracle.
"""

import numpy as np
import pytest
import torch

import cnnkit

keras = pytest.importorskip("keras")


def linear_class(lib):
    class Linear(lib.layers.Layer):
        def __init__(self, units=4, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(
                shape=(input_shape[-1], self.units), initializer="random_normal", name="w"
            )
            self.b = self.add_weight(shape=(self.units,), initializer="zeros", name="b")
            self.seen = self.add_weight(shape=(), initializer="zeros", trainable=False, name="n")

        def call(self, inputs):
            self.add_loss(0.01 * torch.sum(torch.square(inputs @ self.w)))
            return torch.relu(inputs @ self.w + self.b)

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    return Linear


def functional_with_linear(lib, Linear):
    inputs = lib.Input(shape=(5,))
    hidden = Linear(6)(inputs)
    return lib.Model(inputs, lib.layers.Dense(3, activation="softmax")(hidden))


def random_weights(model, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(0, 0.5, w.shape).astype("float32") for w in model.get_weights()]


def test_user_layer_weights_outputs_and_losses_equal_keras():
    ours = functional_with_linear(cnnkit, linear_class(cnnkit))
    theirs = functional_with_linear(keras, linear_class(keras))
    assert [w.shape for w in ours.get_weights()] == [w.shape for w in theirs.get_weights()]
    assert ours.count_params() == theirs.count_params() == 5 * 6 + 6 + 1 + 6 * 3 + 3
    weights = random_weights(theirs)
    ours.set_weights(weights)
    theirs.set_weights(weights)
    x = np.random.default_rng(1).random((4, 5), dtype=np.float32)
    expected = theirs(x)
    np.testing.assert_allclose(
        ours(torch.as_tensor(x)).detach().numpy(), expected.detach().cpu().numpy(), atol=1e-5
    )
    assert len(ours.losses) == len(theirs.losses) == 1
    np.testing.assert_allclose(float(ours.losses[0]), float(theirs.losses[0]), rtol=1e-5)


def test_user_layer_keeps_keras_names_config_and_shape_inference():
    Linear = linear_class(cnnkit)
    layer = Linear(7, name="mine")
    output = layer(cnnkit.Input((3,)))
    assert output.shape == (None, 7)
    assert sorted(name for name, _ in layer.named_parameters()) == ["b", "w"]
    assert [name for name, _ in layer.named_buffers()] == ["seen"]
    config = layer.get_config()
    assert config["units"] == 7 and config["name"] == "mine"
    assert Linear(**config).units == 7


def test_add_loss_is_added_to_the_training_loss():
    Linear = linear_class(cnnkit)
    torch.manual_seed(0)
    model = functional_with_linear(cnnkit, Linear)
    model.compile("sgd", "sparse_categorical_crossentropy")
    x = np.random.default_rng(2).random((8, 5), dtype=np.float32)
    y = np.arange(8) % 3
    with_penalty = model.evaluate(x, y, verbose=0)
    plain = cnnkit.losses.get("sparse_categorical_crossentropy")(
        torch.as_tensor(y), model(torch.as_tensor(x))
    )
    assert with_penalty == pytest.approx(float(plain) + float(model.losses[0]), rel=1e-5)


def dense_model_class(lib):
    class TwoLayers(lib.Model):
        def __init__(self, classes=3, **kwargs):
            super().__init__(**kwargs)
            self.hidden = lib.layers.Dense(8, activation="relu")
            self.head = lib.layers.Dense(classes, activation="softmax")

        def call(self, inputs, training=None):
            return self.head(self.hidden(inputs))

    return TwoLayers


def test_subclassed_model_equals_keras_and_trains():
    ours, theirs = dense_model_class(cnnkit)(), dense_model_class(keras)()
    x = np.random.default_rng(3).random((6, 4), dtype=np.float32)
    theirs(x)
    ours.build((None, 4))
    assert ours.count_params() == theirs.count_params()
    assert [layer.name for layer in ours.layers] == ["dense", "dense_1"]
    weights = random_weights(theirs)
    ours.set_weights(weights)
    theirs.set_weights(weights)
    np.testing.assert_allclose(
        ours.predict(x, verbose=0), np.asarray(theirs.predict(x, verbose=0)), atol=1e-5
    )
    ours.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = ours.fit(x, np.arange(6) % 3, epochs=5, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def loss_class(lib):
    class HalfSquares(lib.losses.Loss):
        def __init__(self, name="half_squares", **kwargs):
            super().__init__(name=name, **kwargs)

        def call(self, y_true, y_pred):
            return 0.5 * torch.mean(torch.square(y_true - y_pred), dim=-1)

    return HalfSquares


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none"])
def test_user_loss_equals_keras(reduction):
    y_true = torch.rand(5, 3, generator=torch.Generator().manual_seed(4))
    y_pred = torch.rand(5, 3, generator=torch.Generator().manual_seed(5))
    weight = torch.rand(5, generator=torch.Generator().manual_seed(6))
    ours = loss_class(cnnkit)(reduction=reduction)
    theirs = loss_class(keras)(reduction=reduction)
    assert ours.name == "half_squares"
    expected = theirs(y_true, y_pred, sample_weight=weight)
    got = ours(y_true, y_pred, weight)
    np.testing.assert_allclose(got.numpy(), np.asarray(expected.cpu()), rtol=1e-6)


def metric_class(lib):
    class TruePositives(lib.metrics.Metric):
        def __init__(self, name="true_positives", **kwargs):
            super().__init__(name=name, **kwargs)
            self.count = self.add_variable(shape=(), initializer="zeros", name="count")

        def update_state(self, y_true, y_pred, sample_weight=None):
            hits = (torch.argmax(y_pred, dim=1) == y_true.reshape(-1).long()).float()
            self.count.assign_add(torch.sum(hits))

        def result(self):
            return self.count

        def reset_state(self):
            self.count.assign(0.0)

    return TruePositives


def test_user_metric_equals_keras_and_is_logged_by_fit():
    y_true = torch.tensor([0, 1, 2, 1])
    y_pred = torch.eye(3)[torch.tensor([0, 2, 2, 1])]
    ours, theirs = metric_class(cnnkit)(), metric_class(keras)()
    for metric in (ours, theirs):
        metric.update_state(y_true, y_pred)
        metric.update_state(y_true, y_pred)
    assert float(ours.result()) == float(theirs.result()) == 6.0
    ours.reset_state()
    assert float(ours.result()) == 0.0
    model = dense_model_class(cnnkit)()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=[metric_class(cnnkit)()])
    x = np.random.default_rng(7).random((10, 4), dtype=np.float32)
    history = model.fit(x, np.arange(10) % 3, epochs=1, batch_size=5, verbose=0)
    predicted = model.predict(x, verbose=0).argmax(1)
    assert isinstance(history.history["true_positives"][0], float)
    logged = model.evaluate(x, np.arange(10) % 3, verbose=0, return_dict=True)["true_positives"]
    assert logged == float((predicted == np.arange(10) % 3).sum())


def test_add_weight_refuses_a_positional_name_and_bad_shapes():
    layer = cnnkit.layers.Layer()
    with pytest.raises(
        ValueError,
        match=r"add_weight's name must be a keyword argument.*add_weight\(shape=\.\.\., name='w'\)",
    ):
        layer.add_weight("w", (3,))
    with pytest.raises(
        ValueError,
        match=r"add_weight's shape must be a tuple of non-negative ints \(no None\). Received: shape=\(None, 3\)",
    ):
        layer.add_weight(shape=(None, 3))


def test_a_layer_without_call_or_forward_says_what_to_define():
    class Empty(cnnkit.layers.Layer):
        pass

    with pytest.raises(NotImplementedError, match=r"define one of them"):
        Empty().forward(torch.zeros(1, 2))


def test_weights_have_keras_variable_surface_and_match_keras_gradients():
    """``v.value.grad`` as Keras' torch backend writes it in a custom train_step."""
    import keras

    ours = cnnkit.layers.Dense(3)
    theirs = keras.layers.Dense(3)
    x = np.random.default_rng(0).random((4, 5), dtype=np.float32)
    ours(torch.as_tensor(x)), theirs(x)
    ours.set_weights(theirs.get_weights())
    for layer in (ours, theirs):
        out = layer(torch.as_tensor(x)) if layer is ours else layer(torch.as_tensor(x))
        (out**2).sum().backward()
    ours_grads = [w.value.grad.detach().numpy() for w in ours.trainable_weights]
    theirs_grads = [w.value.grad.detach().cpu().numpy() for w in theirs.trainable_weights]
    # cnnkit stores the kernel as (out, in); Keras as (in, out)
    np.testing.assert_allclose(ours_grads[0].T, theirs_grads[0], rtol=1e-5)
    np.testing.assert_allclose(ours_grads[1], theirs_grads[1], rtol=1e-5)
    bias = ours.trainable_weights[1]
    bias.assign([1.0, 2.0, 3.0])
    bias.assign_add(np.ones(3))
    np.testing.assert_array_equal(bias.numpy(), [2.0, 3.0, 4.0])
    assert isinstance(bias, torch.nn.Parameter) and bias.value is bias


def test_a_user_layer_called_on_a_tuple_gets_the_tensors_as_keras_passes_them():
    """The VAE guide's Sampling layer: ``z_mean, z_log_var = inputs``."""

    class Join(cnnkit.layers.Layer):
        def call(self, inputs):
            first, second = inputs
            return first * 2 + second

    inputs = cnnkit.Input(shape=(4,))
    a, b = cnnkit.layers.Dense(3)(inputs), cnnkit.layers.Dense(3)(inputs)
    joined = Join()((a, b))
    assert joined.shape == (None, 3)
    model = cnnkit.Model(inputs, [a, b, joined])
    x = np.random.default_rng(1).random((5, 4), dtype=np.float32)
    first, second, both = model.predict(x, verbose=0)
    np.testing.assert_allclose(both, first * 2 + second, rtol=1e-6)
    eager = Join()([torch.ones(2, 3), torch.zeros(2, 3)])
    np.testing.assert_array_equal(eager.numpy(), np.full((2, 3), 2.0))


def test_a_model_without_trainable_weights_fits_as_in_keras():
    import keras

    x = np.random.default_rng(2).random((8, 4), dtype=np.float32)
    y = np.random.default_rng(3).random((8, 2), dtype=np.float32)
    theirs_dense = keras.layers.Dense(2)
    theirs = keras.Sequential([keras.Input(shape=(4,)), theirs_dense])
    theirs_dense.trainable = False
    ours_dense = cnnkit.layers.Dense(2)
    ours = cnnkit.Sequential([cnnkit.Input(shape=(4,)), ours_dense])
    ours.set_weights(theirs.get_weights())
    ours_dense.trainable = False
    for model in (ours, theirs):
        model.compile(optimizer="sgd", loss="mse")
    ours_loss = ours.fit(x, y, epochs=2, batch_size=8, verbose=0).history["loss"]
    theirs_loss = theirs.fit(x, y, epochs=2, batch_size=8, verbose=0).history["loss"]
    np.testing.assert_allclose(ours_loss, theirs_loss, rtol=1e-5)
    for mine, keras_weight in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(mine, keras_weight, rtol=1e-6)
