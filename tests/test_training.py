"""compile / fit / evaluate / predict: behaviour, logs, data forms and errors."""

from __future__ import annotations

import inspect

import keras
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

import cnnkit
from cnnkit.layers import BatchNormalization, Conv2D, Dense, Dropout, Flatten, MaxPooling2D


def square_images(n: int, size: int = 16, classes: int = 4, seed: int = 0):
    """Images with a bright square in one of ``classes`` quadrant-like places: learnable fast."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    x = rng.normal(0, 0.3, (n, size, size, 1)).astype(np.float32)
    half = size // 2
    for i, label in enumerate(y):
        r, c = divmod(int(label), 2)
        x[i, r * half + 2 : r * half + half - 2, c * half + 2 : c * half + half - 2, 0] += 2.0
    return x, y


def tiny_cnn(classes: int = 4, size: int = 16) -> cnnkit.Sequential:
    return cnnkit.Sequential(
        [
            Conv2D(8, 3, activation="relu", input_shape=(size, size, 1)),
            MaxPooling2D(),
            Flatten(),
            Dense(classes, activation="softmax"),
        ]
    )


def test_lenet5_learns_loss_falls_accuracy_rises():
    cnnkit.utils.set_random_seed(0)
    x, y = square_images(600, size=32)
    model = cnnkit.zoo.get("lenet5", num_classes=4)
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, cnnkit.utils.to_categorical(y, 4), epochs=3, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0] * 0.5
    assert history.history["accuracy"][-1] > 0.9
    assert history.epoch == [0, 1, 2]
    assert history.params["epochs"] == 3 and history.params["steps"] == 19


def test_fit_with_validation_data_logs_val_metrics_and_predict_returns_probabilities():
    cnnkit.utils.set_random_seed(1)
    x, y = square_images(300)
    model = tiny_cnn()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["acc"])
    history = model.fit(x[:200], y[:200], validation_data=(x[200:], y[200:]), epochs=2, verbose=0)
    assert set(history.history) == {"loss", "acc", "val_loss", "val_acc"}
    loss, accuracy = model.evaluate(x[200:], y[200:], verbose=0)
    assert loss == pytest.approx(history.history["val_loss"][-1], rel=1e-5)
    assert accuracy == pytest.approx(history.history["val_acc"][-1])
    scores = model.predict(x[200:], verbose=0)
    assert isinstance(scores, np.ndarray) and scores.shape == (100, 4)
    np.testing.assert_allclose(scores.sum(axis=1), 1.0, rtol=1e-5)
    assert (np.argmax(scores, axis=1) == y[200:]).mean() == pytest.approx(accuracy)
    assert model.evaluate(x, y, verbose=0, return_dict=True).keys() == {"loss", "acc"}


def test_validation_split_takes_the_last_fraction_before_shuffling():
    x, y = square_images(100)
    model = tiny_cnn()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    history = model.fit(x, y, validation_split=0.25, epochs=1, batch_size=10, verbose=0)
    assert history.params["steps"] == 8  # 75 training samples
    assert history.history["val_loss"][0] == pytest.approx(
        model.evaluate(x[75:], y[75:], verbose=0), rel=1e-5
    )


@pytest.mark.parametrize("form", ["tensor", "dataset", "loader"])
def test_fit_accepts_tensors_datasets_and_loaders(form):
    x, y = square_images(64)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    model = tiny_cnn()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    if form == "tensor":
        history = model.fit(xt, yt, batch_size=16, verbose=0)
    elif form == "dataset":
        history = model.fit(TensorDataset(xt, yt), batch_size=16, verbose=0)
    else:
        history = model.fit(DataLoader(TensorDataset(xt, yt), batch_size=16), verbose=0)
    assert history.params["steps"] == 4 and np.isfinite(history.history["loss"][0])
    assert model.predict(TensorDataset(xt), verbose=0).shape == (64, 4)


def test_callbacks_see_keras_hooks_in_order_and_can_stop_training():
    events = []

    class Recorder(cnnkit.callbacks.Callback):
        def on_train_begin(self, logs=None):
            events.append("train_begin")

        def on_epoch_begin(self, epoch, logs=None):
            events.append(f"epoch_begin {epoch}")

        def on_train_batch_end(self, batch, logs=None):
            events.append(f"batch_end {batch} {sorted(logs)}")
            if batch == 1:
                self.model.stop_training = True

        def on_epoch_end(self, epoch, logs=None):
            events.append(f"epoch_end {epoch} {sorted(logs)}")

        def on_train_end(self, logs=None):
            events.append("train_end")

    x, y = square_images(64)
    model = tiny_cnn()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=5, batch_size=16, callbacks=[Recorder()], verbose=0)
    assert events == [
        "train_begin",
        "epoch_begin 0",
        "batch_end 0 ['accuracy', 'loss']",
        "batch_end 1 ['accuracy', 'loss']",
        "epoch_end 0 ['accuracy', 'loss']",
        "train_end",
    ]


def test_lecture_callbacks_checkpoint_early_stopping_tensorboard(tmp_path):
    x, y = square_images(120)
    model = tiny_cnn()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    filepath = str(tmp_path / "ckpt-{epoch:02d}-{val_loss:.2f}.keras")
    cp = cnnkit.callbacks.ModelCheckpoint(
        filepath,
        monitor="val_loss",
        verbose=0,
        save_best_only=False,
        save_weights_only=False,
        mode="auto",
        period=1,
    )
    es = cnnkit.callbacks.EarlyStopping(
        monitor="val_loss",
        min_delta=0,
        patience=0,
        verbose=0,
        mode="auto",
        baseline=None,
        restore_best_weights=False,
    )
    tb = cnnkit.callbacks.TensorBoard(log_dir=str(tmp_path / "logs"))
    history = model.fit(
        x[:80],
        y[:80],
        validation_data=(x[80:], y[80:]),
        epochs=3,
        callbacks=[cp, es, tb],
        verbose=0,
    )
    saved = sorted(p.name for p in tmp_path.glob("ckpt-*.keras"))
    assert len(saved) == len(history.epoch) and saved[0].startswith("ckpt-01-")
    restored = cnnkit.models.load_model(tmp_path / saved[-1])
    np.testing.assert_allclose(
        restored.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6
    )
    assert (tmp_path / "logs" / "train").is_dir() and (tmp_path / "logs" / "validation").is_dir()


def test_progress_output_per_verbose_level(capsys):
    x, y = square_images(64)
    model = tiny_cnn()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=2, batch_size=16, verbose=2, validation_split=0.25)
    out = capsys.readouterr().out
    assert "\r" not in out and "\b" not in out
    lines = out.splitlines()
    assert lines[0] == "Epoch 1/2"
    assert lines[1].startswith("3/3 - ") and "loss: " in lines[1] and "val_accuracy: " in lines[1]
    model.fit(x, y, epochs=1, verbose=0)
    model.predict(x, verbose=0)
    assert capsys.readouterr().out == ""


def test_dropout_and_batchnorm_train_in_fit_and_infer_in_predict():
    x, y = square_images(64)
    model = cnnkit.Sequential(
        [
            Conv2D(4, 3, input_shape=(16, 16, 1)),
            BatchNormalization(),
            Flatten(),
            Dropout(0.5),
            Dense(4, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    before = model.layers[1].moving_mean.clone()
    model.fit(x, y, epochs=1, verbose=0)
    assert not torch.equal(before, model.layers[1].moving_mean)  # updated in training mode
    first, second = model.predict(x, verbose=0), model.predict(x, verbose=0)
    np.testing.assert_array_equal(first, second)  # no dropout at inference
    assert model.training  # predict restores the mode it found


def test_regularization_penalty_is_part_of_the_loss_and_constraints_hold():
    x, y = square_images(32)
    model = cnnkit.Sequential(
        [
            Flatten(input_shape=(16, 16, 1)),
            Dense(
                4,
                activation="softmax",
                kernel_regularizer=cnnkit.regularizers.L2(1.0),
                kernel_constraint=cnnkit.constraints.NonNeg(),
            ),
        ]
    )
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    loss = model.evaluate(x, y, verbose=0, batch_size=32)
    probabilities = model.predict(x, verbose=0)
    cross_entropy = -np.log(np.clip(probabilities[np.arange(32), y], 1e-7, 1)).mean()
    kernel = model.layers[1].get_weights()[0]
    assert loss == pytest.approx(cross_entropy + (kernel**2).sum(), rel=1e-4)
    model.fit(x, y, epochs=2, verbose=0)
    assert (model.layers[1].get_weights()[0] >= 0).all()


def test_class_weight_and_sample_weight_change_the_loss():
    x, y = square_images(64)
    model = tiny_cnn()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    unweighted = model.evaluate(x, y, verbose=0)
    weights = np.where(y == 0, 2.0, 0.0).astype(np.float32)
    weighted = model.evaluate(x, y, sample_weight=weights, verbose=0)
    per_sample = -np.log(model.predict(x, verbose=0)[np.arange(64), y])
    assert weighted == pytest.approx((per_sample * weights).mean(), rel=1e-4)
    assert weighted != pytest.approx(unweighted)
    history = model.fit(
        x,
        y,
        class_weight={0: 1.0, 1: 0.0, 2: 0.0, 3: 0.0},
        epochs=1,
        verbose=0,
        shuffle=False,
        batch_size=64,
    )
    only_zero = -np.log(
        model.predict(x, verbose=0)[np.arange(64), y]
    )  # after the step, so just a sanity check
    assert np.isfinite(history.history["loss"][0]) and np.isfinite(only_zero).all()


@pytest.mark.parametrize(
    "name, keras_name, from_logits",
    [
        ("categorical_crossentropy", "categorical_crossentropy", False),
        ("categorical_crossentropy", "categorical_crossentropy", True),
        ("sparse_categorical_crossentropy", "sparse_categorical_crossentropy", False),
        ("binary_crossentropy", "binary_crossentropy", False),
        ("mse", "mean_squared_error", None),
        ("mae", "mean_absolute_error", None),
    ],
)
def test_losses_equal_keras(name, keras_name, from_logits):
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(6, 5)).astype(np.float32)
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    labels = rng.integers(0, 5, 6)
    y_true = {"sparse_categorical_crossentropy": labels}.get(
        name, np.eye(5, dtype=np.float32)[labels]
    )
    if name == "binary_crossentropy":
        y_true, probabilities = (
            (rng.random((6, 5)) > 0.5).astype(np.float32),
            1 / (1 + np.exp(-logits)),
        )
    y_pred = logits if from_logits else probabilities
    kwargs = {} if from_logits is None else {"from_logits": from_logits}
    keras_loss = getattr(keras.losses, keras_name)(y_true, y_pred, **kwargs)
    expected = float(np.mean(np.asarray(keras_loss.detach().cpu())))
    ours = cnnkit.losses.get(name)
    if from_logits:
        ours = cnnkit.losses.CategoricalCrossentropy(from_logits=True)
    got = float(ours(torch.as_tensor(y_true), torch.as_tensor(y_pred)))
    assert got == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("from_logits", [False, True])
def test_sparse_label_smoothing_equals_keras_categorical_smoothing_on_one_hot_labels(from_logits):
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(7, 4)).astype(np.float32)
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    labels = rng.integers(0, 4, 7)
    y_pred = logits if from_logits else probabilities
    keras_loss = keras.losses.CategoricalCrossentropy(from_logits=from_logits, label_smoothing=0.2)
    expected = float(keras_loss(np.eye(4, dtype=np.float32)[labels], y_pred))
    ours = cnnkit.losses.SparseCategoricalCrossentropy(from_logits=from_logits, label_smoothing=0.2)
    assert float(ours(torch.as_tensor(labels), torch.as_tensor(y_pred))) == pytest.approx(
        expected, rel=1e-5
    )
    assert ours.get_config()["label_smoothing"] == 0.2
    assert "label_smoothing" not in cnnkit.losses.SparseCategoricalCrossentropy().get_config()


def test_fit_with_sparse_label_smoothing_takes_the_same_steps_as_one_hot_smoothing():
    # fit computes a softmax model's loss from logits (F.cross_entropy); both label forms must
    # give the same training, step for step
    rng = np.random.default_rng(2)
    x = rng.normal(size=(64, 6)).astype(np.float32)
    labels = rng.integers(0, 3, 64)
    weights = []
    for loss, y in [
        (cnnkit.losses.SparseCategoricalCrossentropy(label_smoothing=0.1), labels),
        (cnnkit.losses.CategoricalCrossentropy(label_smoothing=0.1), np.eye(3)[labels]),
    ]:
        cnnkit.utils.set_random_seed(0)
        model = cnnkit.Sequential([cnnkit.Input((6,)), Dense(3, activation="softmax")])
        model.compile(optimizer="sgd", loss=loss)
        history = model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
        weights.append((model.get_weights(), history.history["loss"]))
    np.testing.assert_allclose(weights[0][0][0], weights[1][0][0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(weights[0][1], weights[1][1], rtol=1e-5)


def test_sparse_label_smoothing_is_checked():
    with pytest.raises(ValueError, match=r"SparseCategoricalCrossentropy: label_smoothing .*1.5"):
        cnnkit.losses.SparseCategoricalCrossentropy(label_smoothing=1.5)


@pytest.mark.parametrize(
    "loss, labels, expected",
    [
        ("categorical_crossentropy", "one_hot", "CategoricalAccuracy"),
        ("sparse_categorical_crossentropy", "sparse", "SparseCategoricalAccuracy"),
        ("binary_crossentropy", "binary", "BinaryAccuracy"),
    ],
)
def test_accuracy_resolves_like_keras(loss, labels, expected):
    y_pred = torch.softmax(torch.randn(8, 3), dim=1) if labels != "binary" else torch.rand(8, 1)
    y_true = {
        "one_hot": torch.eye(3)[torch.arange(8) % 3],
        "sparse": torch.arange(8) % 3,
        "binary": (torch.rand(8, 1) > 0.5).float(),
    }[labels]
    cls = cnnkit.metrics.resolve_accuracy(loss, y_true, y_pred)
    assert cls.__name__ == expected
    metric = cls(name="accuracy")
    metric.update_state(y_true, y_pred)
    keras_metric = getattr(keras.metrics, expected)()
    keras_metric.update_state(y_true.numpy(), y_pred.numpy())
    assert metric.result() == pytest.approx(float(keras_metric.result()))


def test_top_k_accuracy_equals_keras():
    y_pred = torch.softmax(torch.randn(50, 10), dim=1)
    labels = torch.randint(0, 10, (50,))
    metric = cnnkit.metrics.TopKCategoricalAccuracy(k=3)
    metric.update_state(torch.eye(10)[labels], y_pred)
    keras_metric = keras.metrics.TopKCategoricalAccuracy(k=3)
    keras_metric.update_state(np.eye(10)[labels.numpy()], y_pred.numpy())
    assert metric.result() == pytest.approx(float(keras_metric.result()))


def test_optimizers_by_name_with_keras_defaults():
    model = tiny_cnn()
    model.compile(optimizer="adam", loss="mse")
    assert isinstance(model.optimizer, cnnkit.optimizers.Adam)
    torch_optimizer = model.optimizer.build(model.parameters())
    assert torch_optimizer.defaults["eps"] == 1e-7 and torch_optimizer.defaults["lr"] == 0.001
    for name, cls in [
        ("sgd", torch.optim.SGD),
        ("rmsprop", cnnkit.optimizers._kernels.KerasRMSprop),  # Keras' sqrt(v + epsilon)
        ("adamw", torch.optim.AdamW),
    ]:
        model.compile(optimizer=name, loss="mse")
        assert isinstance(model.optimizer.build(model.parameters()), cls)
    model.compile(optimizer=torch.optim.SGD(model.parameters(), lr=0.5), loss="mse")
    model.optimizer.learning_rate = 0.25
    assert model.optimizer.torch_optimizer.param_groups[0]["lr"] == 0.25


@pytest.mark.slow
def test_jit_compile_trains_the_same_model():
    x, y = square_images(64)
    cnnkit.utils.set_random_seed(3)
    eager = tiny_cnn()
    cnnkit.utils.set_random_seed(3)
    compiled = tiny_cnn()
    for model, jit in ((eager, False), (compiled, True)):
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", jit_compile=jit)
        model.fit(x, y, epochs=1, batch_size=32, verbose=0, shuffle=False)
    for a, b in zip(eager.get_weights(), compiled.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


# ------------------------------------------------------------------ bad input -> clear errors
@pytest.fixture
def compiled_model():
    model = tiny_cnn()
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def test_fit_before_compile():
    with pytest.raises(
        ValueError, match=r"fit: the model must be compiled first, e.g. model.compile\("
    ):
        tiny_cnn().fit(*square_images(8))


@pytest.mark.parametrize(
    "x, y, message",
    [
        (
            np.zeros((10, 16, 16, 1)),
            np.zeros((9, 4)),
            r"x and y must have the same number of samples; received x with 10 and y with 9",
        ),
        (
            np.zeros((10, 16, 16, 1)),
            np.arange(10) % 4,
            r"expects one-hot labels of shape \(samples, 4\).*to_categorical\(y, 4\).*sparse_categorical_crossentropy",
        ),
        (
            np.zeros((10, 16, 16, 1)),
            np.zeros((10, 3)),
            r"the model has 4 outputs but the one-hot labels have 3 columns",
        ),
        (
            np.zeros((10, 16, 16)),
            np.zeros((10, 4)),
            r"expects inputs of shape \(16, 16, 1\).*received x of shape \(10, 16, 16\) - the channel axis is missing",
        ),
        (
            np.zeros((10, 1, 16, 16)),
            np.zeros((10, 4)),
            r"received x of shape \(10, 1, 16, 16\) - the images look channels-first",
        ),
        (
            np.full((10, 16, 16, 1), np.nan),
            np.zeros((10, 4)),
            r"x contains 2560 NaN or infinite values",
        ),
        (np.zeros((0, 16, 16, 1)), np.zeros((0, 4)), r"x is empty"),
    ],
)
def test_fit_bad_data(compiled_model, x, y, message):
    with pytest.raises(ValueError, match=message):
        compiled_model.fit(x, y, verbose=0)


def test_sparse_loss_errors():
    model = tiny_cnn()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = np.zeros((10, 16, 16, 1))
    with pytest.raises(
        ValueError,
        match=r"labels must be class indices 0..3 for a model with 4 outputs; received labels from 0 to 9",
    ):
        model.fit(x, np.arange(10), verbose=0)
    with pytest.raises(
        ValueError, match=r"which looks one-hot - use loss='categorical_crossentropy'"
    ):
        model.fit(x, np.eye(4)[np.arange(10) % 4], verbose=0)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (
            dict(optimizer="adamm", loss="mse"),
            ValueError,
            r"unknown optimizer 'adamm'.*Did you mean 'adam'",
        ),
        (
            dict(optimizer="adam", loss="categorical_crossentropyy"),
            ValueError,
            r"unknown loss 'categorical_crossentropyy'",
        ),
        (
            dict(optimizer="adam", loss="mse", metrics=["acuracy"]),
            ValueError,
            r"unknown metric 'acuracy'.*Did you mean 'accuracy'",
        ),
        (
            dict(optimizer="adam", loss="mse", metrics="accuracy"),
            TypeError,
            r"metrics must be a list",
        ),
    ],
)
def test_compile_errors(kwargs, error, message):
    with pytest.raises(error, match=message):
        tiny_cnn().compile(**kwargs)


def test_compile_without_a_loss_fails_in_fit_when_the_model_adds_none():
    model = tiny_cnn()
    model.compile(optimizer="adam")  # valid, as in Keras: the model may add_loss its own
    x, y = square_images(8)
    with pytest.raises(ValueError, match=r"compute_loss: there is no loss to compute"):
        model.fit(x, y, verbose=0)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(batch_size=0), r"fit: batch_size must be an int >= 1. Received: batch_size=0"),
        (dict(epochs=-1), r"fit: epochs must be an int >= 0"),
        (dict(validation_split=1.5), r"validation_split must be a float in \(0, 1\)"),
        (dict(verbose=3), r"verbose must be one of 0, 1, 2, 'auto'"),
        (dict(validation_data=(1, 2, 3, 4)), r"validation_data must be \(x_val, y_val\)"),
    ],
)
def test_fit_bad_arguments(compiled_model, kwargs, message):
    x, y = square_images(8)
    with pytest.raises(ValueError, match=message):
        compiled_model.fit(x, cnnkit.utils.to_categorical(y, 4), **kwargs)


def test_verbose_auto_is_two_when_not_a_terminal(compiled_model, capsys):
    x, y = square_images(16)
    compiled_model.fit(x, cnnkit.utils.to_categorical(y, 4), epochs=1)
    out = capsys.readouterr().out
    assert out.startswith("Epoch 1/1\n1/1 - ") and "\r" not in out


@pytest.mark.parametrize(
    ("value", "finite"),
    [(0.5, True), (float("nan"), False), (float("inf"), False), (float("-inf"), False)],
)
def test_all_finite_finds_one_bad_value_among_many(value, finite):
    from cnnkit.training._data import all_finite

    x = torch.rand(64, 8, 8, 3)
    x[17, 3, 5, 1] = value
    assert all_finite(x) is finite
    assert all_finite(x.to(torch.float16)) is finite


def test_all_finite_accepts_huge_finite_values_whose_sum_overflows():
    from cnnkit.training._data import all_finite

    x = torch.full((4, 4), 3e38)
    assert not torch.isfinite(x.sum())
    assert all_finite(x)
    assert all_finite(torch.zeros(0, 3)) and all_finite(torch.arange(10))


# rmsprop and adagrad run cnnkit's multi-tensor kernels with Keras' arithmetic: their numbers
# are checked against Keras in test_optimizers_keras.py
@pytest.mark.parametrize("name", ["adam", "adamw", "sgd"])
def test_optimizers_use_fused_or_multi_tensor_kernels_with_the_same_numbers(name):
    torch.manual_seed(0)
    weights = [torch.nn.Parameter(torch.randn(5, 3)), torch.nn.Parameter(torch.randn(3))]
    optimizer = cnnkit.optimizers.get(name).build(weights)
    assert optimizer.defaults["fused"] is True
    copies = [torch.nn.Parameter(w.detach().clone()) for w in weights]
    accepted = inspect.signature(type(optimizer)).parameters
    options = {k: v for k, v in optimizer.defaults.items() if k in accepted}
    options.update(foreach=False, **({"fused": None} if "fused" in accepted else {}))
    reference = type(optimizer)(copies, **options)  # PyTorch's default per-tensor loop
    for step in range(5):
        for w, c in zip(weights, copies):
            w.grad = torch.full_like(w, 0.1 * (step + 1)) + w.detach()
            c.grad = w.grad.clone()
        optimizer.step()
        reference.step()
    for w, c in zip(weights, copies):
        torch.testing.assert_close(w, c, rtol=1e-6, atol=1e-7)


def test_optimizer_falls_back_to_multi_tensor_kernels_where_fused_ones_are_refused():
    class AdamWithoutFused(torch.optim.Adam):
        def __init__(self, params, fused=None, foreach=None, **options):
            if fused:
                raise RuntimeError(
                    "`fused=True` requires all the params to be on a supported device"
                )
            super().__init__(params, foreach=foreach, **options)

    optimizer = cnnkit.optimizers.Adam(learning_rate=0.01)
    optimizer.torch_class = AdamWithoutFused
    built = optimizer.build([torch.nn.Parameter(torch.randn(4))])
    assert type(built) is AdamWithoutFused
    assert built.defaults["foreach"] is True and built.defaults["lr"] == 0.01
