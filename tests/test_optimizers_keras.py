"""Keras 3's optimizers in cnnkit: the same model trained step by step in both libraries keeps
the same weights (Keras 3, torch backend, is the oracle); names, configs, the model file,
Keras 2's spellings and the errors for bad arguments."""

from __future__ import annotations

import os
import warnings

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

import cnnkit  # noqa: E402
from cnnkit import optimizers  # noqa: E402
from cnnkit.optimizers import _keras2  # noqa: E402

RNG = np.random.default_rng(0)
X = RNG.normal(size=(16, 6, 6, 2)).astype("float32")
Y = RNG.integers(0, 3, 16)
STEPS = 5


def small_model(lib):
    """A convolution and two dense layers: 4-d, 2-d and 1-d weights."""
    return lib.Sequential(
        [
            lib.Input((6, 6, 2)),
            lib.layers.Conv2D(3, 3, activation="relu"),
            lib.layers.Flatten(),
            lib.layers.Dense(5, activation="relu"),
            lib.layers.Dense(3, activation="softmax"),
        ]
    )


def assert_trains_as_keras(name: str, arguments: dict, schedule=None) -> None:
    """Train the same model in both libraries; weights agree after every step."""
    keras.utils.set_random_seed(1)
    theirs, ours = small_model(keras), small_model(cnnkit)
    ours.set_weights(theirs.get_weights())
    their_rate = ours_rate = {}
    if schedule is not None:
        their_rate = {"learning_rate": schedule(keras.optimizers.schedules)}
        ours_rate = {"learning_rate": schedule(optimizers.schedules)}
    theirs.compile(
        getattr(keras.optimizers, name)(**arguments, **their_rate),
        "sparse_categorical_crossentropy",
    )
    ours.compile(
        getattr(optimizers, name)(**arguments, **ours_rate), "sparse_categorical_crossentropy"
    )
    for step in range(STEPS):
        batch = slice(4 * (step % 4), 4 * (step % 4) + 4)
        theirs.train_on_batch(X[batch], Y[batch])
        ours.train_on_batch(X[batch], Y[batch])
        for index, (mine, keras_weight) in enumerate(zip(ours.get_weights(), theirs.get_weights())):
            np.testing.assert_allclose(
                mine,
                keras_weight,
                rtol=1e-5,
                atol=1e-6,
                err_msg=f"{name} step {step} weight {index}",
            )
    assert ours.optimizer.iterations == STEPS


CASES = [
    ("Adadelta", {"learning_rate": 1.0}),
    ("Adadelta", {"learning_rate": 1.0, "rho": 0.9, "epsilon": 1e-6, "weight_decay": 0.1}),
    ("Adamax", {}),
    ("Adamax", {"learning_rate": 0.01, "beta_1": 0.8, "beta_2": 0.9, "weight_decay": 0.05}),
    ("Nadam", {"learning_rate": 0.01}),
    ("Nadam", {"learning_rate": 0.01, "beta_1": 0.8, "epsilon": 1e-5, "weight_decay": 0.05}),
    ("Lion", {"learning_rate": 0.001}),
    ("Lion", {"learning_rate": 0.001, "beta_1": 0.8, "beta_2": 0.9, "weight_decay": 0.5}),
    ("Adagrad", {"learning_rate": 0.05}),
    ("Adagrad", {"learning_rate": 0.05, "weight_decay": 0.1}),
    ("Adagrad", {"learning_rate": 0.05, "initial_accumulator_value": 0.0, "epsilon": 1e-4}),
    ("RMSprop", {"learning_rate": 0.01, "epsilon": 1e-4}),
    ("RMSprop", {"learning_rate": 0.01, "momentum": 0.5, "centered": True, "weight_decay": 0.1}),
    ("AdamW", {"learning_rate": 0.01, "epsilon": 1e-3}),  # Keras' epsilon placement
    ("Adam", {"learning_rate": 0.01, "epsilon": 1e-3, "weight_decay": 0.1, "amsgrad": True}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9, "weight_decay": 0.1}),
    ("Adamax", {"learning_rate": 0.01, "clipnorm": 0.05}),
    ("Nadam", {"learning_rate": 0.01, "global_clipnorm": 0.05}),
    ("Adadelta", {"learning_rate": 1.0, "clipvalue": 0.01}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9, "clipnorm": 0.05}),
]


@pytest.mark.parametrize(("name", "arguments"), CASES, ids=[f"{n}-{a}" for n, a in CASES])
def test_each_step_equals_keras(name, arguments):
    assert_trains_as_keras(name, arguments)


SCHEDULED = [
    "Adadelta",
    "Adamax",
    "Nadam",
    "Lion",
    "RMSprop",
    "Adam",
    "RMSprop-momentum",
    "SGD-momentum",
]


@pytest.mark.parametrize("case", SCHEDULED)
def test_a_schedule_as_learning_rate_equals_keras(case):
    name = case.split("-")[0]
    start = 1.0 if name == "Adadelta" else 0.01
    arguments = {"momentum": 0.5} if case.endswith("momentum") else {}
    assert_trains_as_keras(name, arguments, lambda s: s.ExponentialDecay(start, 2, 0.5))


@pytest.mark.parametrize("name", ["Adadelta", "Adamax", "Nadam", "Lion"])
def test_defaults_and_config_equal_keras(name):
    theirs = getattr(keras.optimizers, name)().get_config()
    ours = getattr(optimizers, name)().get_config()
    assert ours == {k: pytest.approx(theirs[k]) for k in ours}  # Keras keeps float32 rates
    # Keras' own config loads: its extra base arguments hold their unused defaults
    rebuilt = getattr(optimizers, name).from_config(theirs)
    assert rebuilt.get_config() == {k: pytest.approx(v) for k, v in ours.items()}
    assert optimizers.deserialize(keras.optimizers.serialize(getattr(keras.optimizers, name)()))


def test_from_config_refuses_a_keras_feature_cnnkit_lacks():
    config = keras.optimizers.Nadam(use_ema=True).get_config()
    with pytest.raises(
        ValueError, match=r"Nadam.from_config: use_ema is not supported; only use_ema=False"
    ):
        optimizers.Nadam.from_config(config)


@pytest.mark.parametrize("name", ["adadelta", "adamax", "nadam", "lion", "Nadam", "ADAMAX"])
def test_names_resolve_in_get_and_compile(name):
    optimizer = optimizers.get(name)
    assert type(optimizer).__name__.lower() == name.lower()
    model = small_model(cnnkit)
    model.compile(optimizer=name, loss="sparse_categorical_crossentropy")
    model.train_on_batch(X[:4], Y[:4])
    assert model.optimizer.iterations == 1


@pytest.mark.parametrize("name", ["Adadelta", "Adamax", "Nadam", "Lion"])
def test_save_and_load_keeps_the_optimizer_state(tmp_path, name):
    """Training on after loading gives the weights of training on without saving."""
    model = small_model(cnnkit)
    schedule = optimizers.schedules.ExponentialDecay(0.01, 2, 0.5)
    model.compile(
        getattr(optimizers, name)(learning_rate=schedule, weight_decay=0.01),
        "sparse_categorical_crossentropy",
    )
    for step in range(3):
        model.train_on_batch(X[4 * step : 4 * step + 4], Y[4 * step : 4 * step + 4])
    path = tmp_path / "model.cnnkit"
    model.save(path)
    loaded = cnnkit.saving.load_model(path)
    assert type(loaded.optimizer) is type(model.optimizer)
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert loaded.optimizer.iterations == 3
    for trained in (model, loaded):
        trained.train_on_batch(X[12:], Y[12:])
    for mine, theirs in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(mine, theirs)


# ---------------------------------------------------------------- Keras 2's spellings
@pytest.fixture
def fresh_warnings():
    """Each test sees the one-time warnings anew."""
    saved = set(_keras2._WARNED)
    _keras2._WARNED.clear()
    yield
    _keras2._WARNED.clear()
    _keras2._WARNED.update(saved)


def test_lr_is_learning_rate_with_one_warning(fresh_warnings):
    with pytest.warns(
        DeprecationWarning,
        match=r"Nadam\(lr=...\) is Keras 2's spelling; write Nadam\(learning_rate=...\)",
    ):
        first = optimizers.Nadam(lr=0.05)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        second = optimizers.Nadam(lr=0.02)  # once per process
    assert (first.learning_rate, second.learning_rate) == (0.05, 0.02)


def test_lr_and_learning_rate_together_are_refused(fresh_warnings):
    message = r"Adam: give learning_rate or its Keras 2 name lr, not both. Received: learning_rate=0.1, lr=0.2"
    with pytest.raises(ValueError, match=message):
        optimizers.Adam(learning_rate=0.1, lr=0.2)
    with pytest.raises(ValueError, match=message):
        optimizers.Adam(0.1, lr=0.2)


@pytest.mark.parametrize("name", ["SGD", "Adam", "Adadelta", "Lion"])
def test_decay_divides_the_rate_by_one_plus_decay_times_iterations(fresh_warnings, name):
    """Keras 2: lr_t = lr / (1 + decay * iterations), iterations counted before the step."""
    with pytest.warns(
        DeprecationWarning,
        match=rf"{name}\(decay=...\) is Keras 2's spelling; write learning_rate=optimizers.schedules.InverseTimeDecay",
    ):
        optimizer = getattr(optimizers, name)(learning_rate=0.1, decay=0.5)
    weight = torch.nn.Parameter(torch.zeros(3))
    seen = []
    for _ in range(4):
        optimizer.apply([torch.ones(3)], [weight])
        seen.append(optimizer.torch_optimizer.param_groups[0]["lr"])
    assert seen == pytest.approx([0.1 / (1 + 0.5 * step) for step in range(4)])
    assert optimizer.get_config()["decay"] == 0.5


def test_decay_steps_equal_the_formula_with_plain_sgd(fresh_warnings):
    with pytest.warns(DeprecationWarning):
        optimizer = optimizers.SGD(lr=0.1, decay=0.25)
    weight = torch.nn.Parameter(torch.zeros(1))
    expected = 0.0
    for step in range(5):
        optimizer.apply([torch.ones(1)], [weight])
        expected -= 0.1 / (1 + 0.25 * step)
        assert float(weight) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize(
    ("alias", "cls"),
    [
        ("sgd", "SGD"),
        ("rmsprop", "RMSprop"),
        ("adagrad", "Adagrad"),
        ("adadelta", "Adadelta"),
        ("adam", "Adam"),
        ("adamax", "Adamax"),
        ("nadam", "Nadam"),
    ],
)
def test_keras2_lower_case_names_build_the_classes(fresh_warnings, alias, cls):
    with pytest.warns(
        DeprecationWarning,
        match=rf"optimizers.{alias} is Keras 2's spelling; write optimizers.{cls}",
    ):
        optimizer = getattr(optimizers, alias)(learning_rate=0.01)
    assert type(optimizer) is getattr(optimizers, cls)
    assert optimizer.learning_rate == 0.01


# ---------------------------------------------------------------- bad input
BAD = [
    (
        lambda: optimizers.Adadelta(learning_rate=-1),
        ValueError,
        r"Adadelta: learning_rate must be a finite number > 0\. Received: learning_rate=-1",
    ),
    (
        lambda: optimizers.Adadelta(rho=1.0),
        ValueError,
        r"Adadelta: rho must be a finite number in \[0, 1\)\. Received: rho=1\.0",
    ),
    (lambda: optimizers.Adadelta(rho=-0.1), ValueError, r"Adadelta: rho .*Received: rho=-0\.1"),
    (
        lambda: optimizers.Adamax(beta_2=1.5),
        ValueError,
        r"Adamax: beta_2 must be a finite number in \[0, 1\)\. Received: beta_2=1\.5",
    ),
    (
        lambda: optimizers.Adamax(epsilon=-1e-7),
        ValueError,
        r"Adamax: epsilon must be a finite number >= 0\. Received: epsilon=-1e-07",
    ),
    (
        lambda: optimizers.Nadam(beta_1="0.9"),
        TypeError,
        r"Nadam: beta_1 must be a finite number in \[0, 1\)\. Received: beta_1='0\.9'",
    ),
    (
        lambda: optimizers.Lion(weight_decay=-1),
        ValueError,
        r"Lion: weight_decay must be a finite number >= 0\. Received: weight_decay=-1",
    ),
    (lambda: optimizers.Lion(epsilon=1e-7), TypeError, r"unexpected keyword argument 'epsilon'"),
    (
        lambda: optimizers.Nadam(clipnorm=0),
        ValueError,
        r"Nadam: clipnorm must be a finite number > 0 or None\. Received: clipnorm=0",
    ),
    (
        lambda: optimizers.Adam(clipnorm=1, clipvalue=1),
        ValueError,
        r"Adam: only one of clipnorm, clipvalue and global_clipnorm can be set\. Received: clipnorm=1.0, clipvalue=1.0, global_clipnorm=None",
    ),
    (
        lambda: optimizers.SGD(lr=0.1, decay=-1),
        ValueError,
        r"SGD: decay must be a finite number >= 0\. Received: decay=-1",
    ),
    (
        lambda: optimizers.get("nadamm"),
        ValueError,
        r"compile: unknown optimizer 'nadamm'\. Available: .*Did you mean 'nadam'\?",
    ),
]


@pytest.mark.parametrize(("build", "error", "message"), BAD, ids=[b[2][:40] for b in BAD])
def test_bad_arguments_name_the_optimizer_and_argument(fresh_warnings, build, error, message):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(error, match=message):
            build()


def test_decay_survives_the_model_file(tmp_path, fresh_warnings):
    """The loaded optimizer keeps the undecayed rate and goes on decaying from its step."""
    with pytest.warns(DeprecationWarning):
        optimizer = optimizers.SGD(lr=0.1, momentum=0.9, decay=0.5)
    model = small_model(cnnkit)
    model.compile(optimizer, "sparse_categorical_crossentropy")
    for step in range(2):
        model.train_on_batch(X[4 * step : 4 * step + 4], Y[4 * step : 4 * step + 4])
    model.save(tmp_path / "model.cnnkit")
    loaded = cnnkit.saving.load_model(tmp_path / "model.cnnkit")
    assert (loaded.optimizer.learning_rate, loaded.optimizer.decay) == (0.1, 0.5)
    for trained in (model, loaded):
        trained.train_on_batch(X[8:12], Y[8:12])
        assert trained.optimizer.torch_optimizer.param_groups[0]["lr"] == pytest.approx(0.1 / 2)
    for mine, theirs in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(mine, theirs)


def test_clipping_leaves_the_callers_gradients_alone():
    weight = torch.nn.Parameter(torch.zeros(2))
    gradient = torch.tensor([3.0, 4.0])
    optimizers.SGD(learning_rate=1.0, clipnorm=1.0).apply([gradient], [weight])
    assert gradient.tolist() == [3.0, 4.0]
    assert weight.tolist() == pytest.approx([-0.6, -0.8])
