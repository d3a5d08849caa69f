"""Keras' model utilities around one step: compile() without a loss for models that add their
own (add_loss), train_on_batch / test_on_batch / predict_on_batch, metrics_names, and a
user's own train_step / test_step as in Keras' guide "Customizing what happens in fit()"
(torch backend). Each class body is written once for both libraries; Keras 3 is the oracle."""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

import cnnkit  # noqa: E402

RNG = np.random.default_rng(0)
X = RNG.normal(size=(32, 4)).astype("float32")
Y = RNG.integers(0, 3, 32)
Y_REG = RNG.normal(size=(32, 1)).astype("float32")


def classifier(lib, model_class=None):
    inputs = lib.Input((4,))
    hidden = lib.layers.Dense(6, activation="relu")(inputs)
    outputs = lib.layers.Dense(3, activation="softmax")(hidden)
    return (model_class or lib.Model)(inputs, outputs)


def same_weights(ours, theirs):
    ours.set_weights(theirs.get_weights())
    return ours, theirs


def both(model_class_for=None, **compile_args):
    """The same classifier in cnnkit and Keras, same weights, compiled alike with SGD(0.1)."""
    ours = classifier(cnnkit, model_class_for(cnnkit) if model_class_for else None)
    theirs = classifier(keras, model_class_for(keras) if model_class_for else None)
    same_weights(ours, theirs)
    ours.compile(cnnkit.optimizers.SGD(0.1), **compile_args)
    theirs.compile(keras.optimizers.SGD(0.1), **compile_args)
    return ours, theirs


# ---------------------------------------------------------------- add_loss without a loss
def penalty_class(lib):
    class ActivityPenalty(lib.layers.Layer):
        def call(self, inputs):
            self.add_loss(0.5 * torch.mean(torch.square(inputs - 1.0)))
            return inputs

    return ActivityPenalty


def penalised(lib):
    inputs = lib.Input((4,))
    hidden = lib.layers.Dense(3)(inputs)
    return lib.Model(inputs, lib.layers.Dense(2)(penalty_class(lib)()(hidden)))


def test_compile_without_loss_trains_on_add_loss_as_keras():
    ours, theirs = penalised(cnnkit), penalised(keras)
    same_weights(ours, theirs)
    ours.compile(cnnkit.optimizers.SGD(0.1))
    theirs.compile(keras.optimizers.SGD(0.1))
    args = dict(epochs=3, batch_size=8, shuffle=False, verbose=0)
    expected = theirs.fit(X, **args).history
    got = ours.fit(X, **args).history
    assert sorted(got) == sorted(expected) == ["loss"]
    np.testing.assert_allclose(got["loss"], expected["loss"], rtol=1e-5)
    assert got["loss"][-1] < got["loss"][0]
    assert ours.evaluate(X, verbose=0) == pytest.approx(theirs.evaluate(X, verbose=0), rel=1e-5)


def test_compiled_loss_plus_add_loss_is_the_total():
    ours, theirs = penalised(cnnkit), penalised(keras)
    same_weights(ours, theirs)
    ours.compile("sgd", loss=["mse"])  # a list: the per-output path
    theirs.compile("sgd", loss=["mse"])
    y = RNG.normal(size=(32, 2)).astype("float32")
    expected = theirs.evaluate(X, y, verbose=0, return_dict=True)
    assert ours.evaluate(X, y, verbose=0, return_dict=True) == pytest.approx(expected, rel=1e-5)


# ---------------------------------------------------------------- one batch at a time
@pytest.mark.parametrize(
    "metrics", [None, ["accuracy"], ["sparse_categorical_accuracy", "accuracy"]]
)
def test_batch_methods_return_what_keras_returns(metrics):
    compile_args = dict(loss="sparse_categorical_crossentropy", metrics=metrics)
    ours, theirs = both(**compile_args)
    for call in ("test_on_batch", "train_on_batch", "test_on_batch"):
        expected = getattr(theirs, call)(X, Y)
        got = getattr(ours, call)(X, Y)
        np.testing.assert_allclose(got, expected, rtol=1e-5, err_msg=call)
        assert isinstance(got, float) == (metrics is None)
    expected = theirs.test_on_batch(X, Y, return_dict=True)
    assert ours.test_on_batch(X, Y, return_dict=True) == pytest.approx(expected, rel=1e-5)
    np.testing.assert_allclose(ours.predict_on_batch(X), theirs.predict_on_batch(X), rtol=1e-5)
    assert isinstance(ours.predict_on_batch(X), np.ndarray)


def test_metrics_names_list_what_evaluate_returns():
    ours, _ = both(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    assert ours.metrics_names == ["loss", "accuracy"]
    assert len(ours.evaluate(X, Y, verbose=0)) == 2
    image = cnnkit.Input((4,), name="image")
    hidden = cnnkit.layers.Dense(5)(image)
    model = cnnkit.Model(
        image, {"cls": cnnkit.layers.Dense(3)(hidden), "reg": cnnkit.layers.Dense(1)(hidden)}
    )
    model.compile("sgd", loss={"cls": "mse", "reg": "mae"}, metrics={"reg": ["mae"]})
    assert model.metrics_names == ["loss", "cls_loss", "reg_loss", "reg_mae"]
    values = model.evaluate(X, {"cls": np.eye(3)[Y], "reg": Y_REG}, verbose=0, return_dict=True)
    assert sorted(values) == sorted(model.metrics_names)


def test_train_on_batch_with_two_outputs_equals_keras():
    def model(lib):
        image = lib.Input((4,), name="image")
        hidden = lib.layers.Dense(5, activation="relu", name="hidden")(image)
        cls = lib.layers.Dense(3, activation="softmax", name="cls")(hidden)
        return lib.Model(image, [cls, lib.layers.Dense(1, name="reg")(hidden)])

    ours, theirs = same_weights(model(cnnkit), model(keras))
    compile_args = dict(loss=["sparse_categorical_crossentropy", "mse"], metrics=[["accuracy"], []])
    ours.compile(cnnkit.optimizers.SGD(0.1), **compile_args)
    theirs.compile(keras.optimizers.SGD(0.1), **compile_args)
    for _ in range(2):
        expected = theirs.train_on_batch(X, [Y, Y_REG])
        np.testing.assert_allclose(ours.train_on_batch(X, [Y, Y_REG]), expected, rtol=1e-5)
    got, expected = ours.predict_on_batch(X), theirs.predict_on_batch(X)
    assert isinstance(got, list) and len(got) == 2
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- the user's train_step
def guide_model_class(lib):
    """The first example of the guide: compute_loss, optimizer.apply, self.metrics."""

    class CustomModel(lib.Model):
        def train_step(self, data):
            x, y = data
            self.zero_grad()
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred)
            loss.backward()
            trainable_weights = [v for v in self.trainable_weights]
            gradients = [getattr(v, "value", v).grad for v in trainable_weights]
            with torch.no_grad():
                self.optimizer.apply(gradients, trainable_weights)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

    return CustomModel


def test_a_users_train_step_is_honoured_by_fit_as_in_keras():
    compile_args = dict(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    ours, theirs = both(guide_model_class, **compile_args)
    args = dict(epochs=3, batch_size=8, shuffle=False, verbose=0)
    expected = theirs.fit(X, Y, **args).history
    got = ours.fit(X, Y, **args).history
    assert sorted(got) == sorted(expected) == ["accuracy", "loss"]
    for name in expected:
        np.testing.assert_allclose(got[name], expected[name], rtol=1e-5, err_msg=name)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def own_metrics_class(lib):
    """The guide's lower-level example: its own loss function and metrics, compiled with
    an optimizer only; and its own test_step."""

    class CustomModel(lib.Model):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.loss_tracker = lib.metrics.Mean(name="loss")
            self.mae_metric = lib.metrics.MeanAbsoluteError(name="mae")
            self.loss_fn = lib.losses.MeanSquaredError()

        def train_step(self, data):
            x, y = data
            self.zero_grad()
            y_pred = self(x, training=True)
            loss = self.loss_fn(y, y_pred)
            loss.backward()
            trainable_weights = [v for v in self.trainable_weights]
            gradients = [getattr(v, "value", v).grad for v in trainable_weights]
            with torch.no_grad():
                self.optimizer.apply(gradients, trainable_weights)
            self.loss_tracker.update_state(loss)
            self.mae_metric.update_state(y, y_pred)
            return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}

        def test_step(self, data):
            x, y = data
            y_pred = self(x, training=False)
            self.loss_tracker.update_state(self.loss_fn(y, y_pred))
            self.mae_metric.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

        @property
        def metrics(self):
            return [self.loss_tracker, self.mae_metric]

    return CustomModel


def regressor(lib):
    inputs = lib.Input((4,))
    return own_metrics_class(lib)(inputs, lib.layers.Dense(1)(inputs))


def test_own_metrics_and_test_step_are_reset_each_epoch_as_in_keras():
    ours, theirs = same_weights(regressor(cnnkit), regressor(keras))
    ours.compile(optimizer=cnnkit.optimizers.SGD(0.05))
    theirs.compile(optimizer=keras.optimizers.SGD(0.05))
    args = dict(epochs=3, batch_size=8, shuffle=False, verbose=0, validation_split=0.25)
    expected = theirs.fit(X, Y_REG, **args).history
    got = ours.fit(X, Y_REG, **args).history
    assert sorted(got) == sorted(expected) == ["loss", "mae", "val_loss", "val_mae"]
    for name in expected:
        np.testing.assert_allclose(got[name], expected[name], rtol=1e-5, err_msg=name)
    expected = theirs.evaluate(X, Y_REG, verbose=0, return_dict=True)
    assert ours.evaluate(X, Y_REG, verbose=0, return_dict=True) == pytest.approx(expected)


def test_optimizer_apply_checks_the_counts():
    model = classifier(cnnkit)
    model.compile("sgd", loss="mse")
    with pytest.raises(ValueError, match=r"SGD.apply: 1 gradients for 4 variables"):
        model.optimizer.apply([None], model.trainable_weights)


def test_evaluate_lists_metrics_in_keras_order_on_the_one_output_path():
    compile_args = dict(
        loss="sparse_categorical_crossentropy", metrics=["sparse_categorical_accuracy", "acc"]
    )
    ours, theirs = both(**compile_args)
    expected = theirs.evaluate(X, Y, verbose=0)
    np.testing.assert_allclose(ours.evaluate(X, Y, verbose=0), expected, rtol=1e-5)
    assert ours.metrics_names == ["loss", "acc", "sparse_categorical_accuracy"]


def keras2_style_class(lib):
    """A train_step in Keras 2's words: compiled_loss and compiled_metrics, sample weights."""

    class Keras2Model(lib.Model):
        def train_step(self, data):
            x, y, sample_weight = data
            self.zero_grad()
            y_pred = self(x, training=True)
            loss = self.compiled_loss(y, y_pred, sample_weight, regularization_losses=self.losses)
            loss.backward()
            self.optimizer.apply([v.grad for v in self.trainable_weights], self.trainable_weights)
            self.compiled_metrics.update_state(y, y_pred, sample_weight)
            return {"loss": loss, **self.compiled_metrics.result()}

    return Keras2Model


def test_keras2_style_train_step_trains_as_the_default_step():
    compile_args = dict(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    custom = classifier(cnnkit, keras2_style_class(cnnkit))
    plain = classifier(cnnkit)
    plain.set_weights(custom.get_weights())
    for model in (custom, plain):
        model.compile(cnnkit.optimizers.SGD(0.1), **compile_args)
    weights = RNG.uniform(0.5, 1.5, 32).astype("float32")
    args = dict(sample_weight=weights, epochs=2, batch_size=32, shuffle=False, verbose=0)
    got, expected = custom.fit(X, Y, **args).history, plain.fit(X, Y, **args).history
    assert sorted(got) == ["accuracy", "loss"]
    np.testing.assert_allclose(got["loss"], expected["loss"], rtol=1e-5)
    for a, b in zip(custom.get_weights(), plain.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
