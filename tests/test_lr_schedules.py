"""Learning-rate schedules against keras.optimizers.schedules, and optimizers that follow them."""

from __future__ import annotations

import json
import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from model_file_tools import edit_section  # noqa: E402

import cnnkit  # noqa: E402
from cnnkit.optimizers import schedules  # noqa: E402

CASES = [
    ("ExponentialDecay", dict(initial_learning_rate=0.1, decay_steps=7, decay_rate=0.9)),
    ("ExponentialDecay", dict(initial_learning_rate=0.1, decay_steps=7, decay_rate=0.9, staircase=True)),
    ("PiecewiseConstantDecay", dict(boundaries=[10, 50, 51], values=[0.1, 0.05, 0.01, 0.001])),
    ("PiecewiseConstantDecay", dict(boundaries=[2.5], values=[1.0, 0.5])),
    ("PolynomialDecay", dict(initial_learning_rate=0.1, decay_steps=30)),
    ("PolynomialDecay", dict(initial_learning_rate=0.1, decay_steps=30, power=0.5)),
    ("PolynomialDecay", dict(initial_learning_rate=0.1, decay_steps=30, power=2.0, cycle=True)),
    ("InverseTimeDecay", dict(initial_learning_rate=0.1, decay_steps=7, decay_rate=0.5)),
    ("InverseTimeDecay", dict(initial_learning_rate=0.1, decay_steps=7, decay_rate=0.5, staircase=True)),
    ("CosineDecay", dict(initial_learning_rate=0.1, decay_steps=40)),
    ("CosineDecay", dict(initial_learning_rate=0.1, decay_steps=40, alpha=0.1)),
    ("CosineDecay", dict(initial_learning_rate=0.0, decay_steps=40, warmup_target=0.2, warmup_steps=15)),
    ("CosineDecay", dict(initial_learning_rate=0.01, decay_steps=40, warmup_target=0.2)),
    ("CosineDecayRestarts", dict(initial_learning_rate=0.1, first_decay_steps=10)),
    ("CosineDecayRestarts", dict(initial_learning_rate=0.1, first_decay_steps=7, t_mul=1.5, m_mul=0.8, alpha=0.05)),
    ("CosineDecayRestarts", dict(initial_learning_rate=0.1, first_decay_steps=7, t_mul=1.0, m_mul=0.5)),
    # restarts at 3 * (3**k - 1) / 2 steps, where log(3**k) / log(3) rounds below k in float64
    ("CosineDecayRestarts", dict(initial_learning_rate=0.1, first_decay_steps=3, t_mul=3.0, m_mul=0.9)),
]  # fmt: skip
STEPS = np.arange(400)


def _keras_rates(schedule, steps):
    return np.array([float(keras.ops.convert_to_numpy(schedule(int(s)))) for s in steps])


@pytest.mark.parametrize("name, kwargs", CASES, ids=lambda c: str(c)[:40])
def test_schedules_give_keras_rates(name, kwargs):
    ours = getattr(schedules, name)(**kwargs)
    theirs = getattr(keras.optimizers.schedules, name)(**kwargs)
    expected = _keras_rates(theirs, STEPS)
    got = np.array([ours(int(s)) for s in STEPS])
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)
    assert all(isinstance(ours(int(s)), float) for s in STEPS[:3])
    np.testing.assert_allclose(ours(STEPS), got, rtol=1e-12)  # an array of steps at once
    assert ours(torch.tensor(5)) == got[5]
    assert ours.get_config() == theirs.get_config()
    rebuilt = schedules.deserialize(json.loads(json.dumps(schedules.serialize(ours))))
    assert type(rebuilt) is type(ours) and rebuilt.get_config() == ours.get_config()


@pytest.mark.parametrize(
    "build, error, message",
    [
        (lambda: schedules.ExponentialDecay(0.1, 0, 0.9), ValueError, "ExponentialDecay: decay_steps must be a finite number > 0. Received: decay_steps=0"),
        (lambda: schedules.PolynomialDecay(0.1, -3), ValueError, "PolynomialDecay: decay_steps must be"),
        (lambda: schedules.InverseTimeDecay("0.1", 10, 0.5), TypeError, "initial_learning_rate must be"),
        (lambda: schedules.CosineDecay(0.1, 10, warmup_target=-1.0), ValueError, "warmup_target must be"),
        (lambda: schedules.CosineDecayRestarts(0.1, 0), ValueError, "first_decay_steps must be"),
        (lambda: schedules.CosineDecayRestarts(0.1, 10, t_mul=0), ValueError, "t_mul must be"),
        (lambda: schedules.ExponentialDecay(0.1, 10, 0.5, staircase="yes"), TypeError, "staircase must be a bool"),
        (lambda: schedules.PiecewiseConstantDecay([10, 20], [0.1, 0.01]), ValueError, "the length of boundaries should be 1 less than the length of values"),
        (lambda: schedules.PiecewiseConstantDecay([], [0.1]), ValueError, "and at least 1"),
        (lambda: schedules.PiecewiseConstantDecay([20, 10], [0.1, 0.01, 0.001]), ValueError, "boundaries must be increasing. Received: boundaries=[20, 10]"),
        (lambda: schedules.PiecewiseConstantDecay(10, [0.1, 0.01]), TypeError, "boundaries must be a list of finite numbers"),
        (lambda: schedules.PiecewiseConstantDecay([10], [0.1, -1.0]), ValueError, "values must be a finite number >= 0"),
    ],
)  # fmt: skip
def test_bad_schedule_arguments_are_refused_by_name(build, error, message):
    with pytest.raises(error) as caught:
        build()
    assert message in str(caught.value)


class Halving(schedules.LearningRateSchedule):
    """A user's own schedule: halve the rate every ``every`` steps."""

    def __init__(self, rate, every):
        self.rate, self.every = rate, every

    def __call__(self, step):
        return self.rate * 0.5 ** (int(step) // self.every)

    def get_config(self):
        return {"rate": self.rate, "every": self.every}


def test_a_subclass_is_a_schedule_and_the_base_class_says_what_to_override():
    assert Halving(0.4, 2)(5) == 0.1
    assert schedules.serialize(Halving(0.4, 2)) == {
        "class_name": "Halving",
        "config": {"rate": 0.4, "every": 2},
    }
    base = schedules.LearningRateSchedule()
    with pytest.raises(NotImplementedError, match="must override `__call__"):
        base(0)
    with pytest.raises(ValueError, match="must override `get_config"):
        schedules.serialize(base)


def test_unknown_schedule_names_are_refused():
    with pytest.raises(ValueError, match="unknown learning rate schedule 'Halving'"):
        schedules.deserialize({"class_name": "Halving", "config": {"rate": 0.4, "every": 2}})
    rebuilt = schedules.deserialize(
        {"class_name": "Halving", "config": {"rate": 0.4, "every": 2}}, {"Halving": Halving}
    )
    assert isinstance(rebuilt, Halving) and rebuilt(2) == 0.2
    with pytest.raises(TypeError, match="must be a LearningRateSchedule subclass"):
        schedules.deserialize({"class_name": "Halving", "config": {}}, {"Halving": dict})


# ---------------------------------------------------------------------- optimizers
def _data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(40, 5)).astype("float32"), rng.normal(size=(40, 2)).astype("float32")


class _Rates(keras.callbacks.Callback):
    """Records ``optimizer.learning_rate`` and ``iterations`` before each batch."""

    def on_train_batch_begin(self, batch, logs=None):
        self.seen = getattr(self, "seen", [])
        optimizer = self.model.optimizer
        self.seen.append((int(optimizer.iterations), float(optimizer.learning_rate)))


def _fit_both(optimizer_name, kwargs, make_schedule, epochs=3):
    """Fit the same Dense model in Keras and cnnkit; return both models and rates seen."""
    x, y = _data()
    theirs = keras.Sequential([keras.Input((5,)), keras.layers.Dense(2)])
    ours = cnnkit.Sequential([cnnkit.Input((5,)), cnnkit.layers.Dense(2)])
    ours.set_weights(theirs.get_weights())
    theirs.compile(getattr(keras.optimizers, optimizer_name)(make_schedule(keras), **kwargs), "mse")
    ours.compile(getattr(cnnkit.optimizers, optimizer_name)(make_schedule(cnnkit), **kwargs), "mse")
    their_rates, our_rates = _Rates(), _Rates()
    fit = dict(batch_size=8, epochs=epochs, shuffle=False, verbose=0)
    theirs.fit(x, y, callbacks=[their_rates], **fit)
    ours.fit(x, y, callbacks=[our_rates], **fit)
    return theirs, ours, their_rates.seen, our_rates.seen


def _exponential(module):
    return module.optimizers.schedules.ExponentialDecay(0.05, decay_steps=3, decay_rate=0.5)


def _piecewise(module):
    return module.optimizers.schedules.PiecewiseConstantDecay([3, 6], [0.1, 0.05, 0.01])


@pytest.mark.parametrize("optimizer_name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_every_optimizer_follows_a_schedule_step_by_step_as_keras(optimizer_name):
    theirs, ours, their_rates, our_rates = _fit_both(optimizer_name, {}, _exponential)
    assert [i for i, _ in our_rates] == [i for i, _ in their_rates] == list(range(15))
    np.testing.assert_allclose(
        [r for _, r in our_rates], [r for _, r in their_rates], rtol=0, atol=1e-8
    )
    assert ours.optimizer.iterations == int(theirs.optimizer.iterations) == 15
    assert ours.optimizer.learning_rate == pytest.approx(float(theirs.optimizer.learning_rate))


@pytest.mark.parametrize(
    "optimizer_name, kwargs, make_schedule",
    [
        ("SGD", {}, _piecewise),
        ("SGD", {"momentum": 0.9}, _exponential),
        ("SGD", {"momentum": 0.7, "nesterov": True}, _piecewise),
        ("Adagrad", {}, _exponential),
    ],
)
def test_training_with_a_schedule_gives_keras_weights(optimizer_name, kwargs, make_schedule):
    theirs, ours, _, _ = _fit_both(optimizer_name, kwargs, make_schedule)
    for their_weight, our_weight in zip(theirs.get_weights(), ours.get_weights()):
        np.testing.assert_allclose(our_weight, their_weight, rtol=0, atol=1e-6)


def test_a_scheduled_rate_cannot_be_set_and_iterations_count_apply_calls():
    optimizer = cnnkit.optimizers.SGD(_piecewise(cnnkit))
    with pytest.raises(TypeError, match="created with a `LearningRateSchedule`.*not settable"):
        optimizer.learning_rate = 0.1
    weight = torch.nn.Parameter(torch.zeros(3))
    for _ in range(5):
        optimizer.apply([torch.ones(3)], [weight])
    assert optimizer.iterations == 5
    np.testing.assert_allclose(weight.detach().numpy(), -(4 * 0.1 + 0.05))  # steps 0-3, then 4
    assert optimizer.learning_rate == 0.05  # the next step's (step 5 <= 6)
    assert "PiecewiseConstantDecay" in repr(optimizer)


def test_a_float_rate_optimizer_counts_iterations_without_momentum():
    optimizer = cnnkit.optimizers.SGD(0.1)
    weight = torch.nn.Parameter(torch.zeros(2))
    optimizer.apply([torch.ones(2)], [weight])
    optimizer.apply([torch.ones(2)], [weight])
    assert optimizer.iterations == 2


def test_learning_rate_must_be_a_number_or_a_schedule():
    with pytest.raises(TypeError, match="SGD: learning_rate must be a finite number > 0"):
        cnnkit.optimizers.SGD(learning_rate="fast")


# ---------------------------------------------------------------------- saving
def _compiled(optimizer):
    model = cnnkit.Sequential([cnnkit.Input((5,)), cnnkit.layers.Dense(2)])
    model.compile(optimizer, "mse")
    return model


def test_a_scheduled_model_saves_and_resumes_on_the_schedule(tmp_path):
    x, y = _data()
    cnnkit.utils.set_random_seed(1)
    straight = _compiled(cnnkit.optimizers.SGD(_exponential(cnnkit), momentum=0.9))
    interrupted = _compiled(cnnkit.optimizers.SGD(_exponential(cnnkit), momentum=0.9))
    interrupted.set_weights(straight.get_weights())
    fit = dict(batch_size=8, shuffle=False, verbose=0)
    straight.fit(x, y, epochs=2, **fit)
    interrupted.fit(x, y, epochs=1, **fit)
    interrupted.save(tmp_path / "model.keras")
    loaded = cnnkit.saving.load_model(tmp_path / "model.keras")
    assert loaded.optimizer.iterations == 5
    assert loaded.optimizer.get_config() == interrupted.optimizer.get_config()
    assert isinstance(loaded.optimizer.learning_rate_schedule, schedules.ExponentialDecay)
    loaded.fit(x, y, epochs=1, **fit)
    for a, b in zip(loaded.get_weights(), straight.get_weights()):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-7)


def test_a_users_schedule_loads_only_through_custom_objects(tmp_path):
    model = _compiled(cnnkit.optimizers.Adam(Halving(0.01, 3)))
    x, y = _data()
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    model.save(tmp_path / "model.keras")
    with pytest.raises(
        ValueError, match="invalid compile settings.*unknown learning rate schedule 'Halving'"
    ):
        cnnkit.saving.load_model(tmp_path / "model.keras")
    loaded = cnnkit.saving.load_model(tmp_path / "model.keras", custom_objects={"Halving": Halving})
    assert isinstance(loaded.optimizer.learning_rate_schedule, Halving)
    assert loaded.optimizer.iterations == 5 and loaded.optimizer.learning_rate == 0.005


@pytest.mark.parametrize(
    "learning_rate, message",
    [
        ({"class_name": "ExponentialDecay", "config": {"initial_learning_rate": 0.1, "decay_steps": -1, "decay_rate": 0.5}}, "decay_steps must be a finite number > 0"),
        ({"class_name": "os.system", "config": {}}, "unknown learning rate schedule 'os.system'"),
        ({"class_name": "CosineDecay", "config": {"initial_learning_rate": {"nested": 1}}}, "compile.optimizer.config.learning_rate.config.initial_learning_rate must be a number, string, list or null"),
        ({"class_name": "CosineDecay", "config": {}, "module": "keras"}, "compile.optimizer.config.learning_rate must be an object with fields among"),
    ],
)  # fmt: skip
def test_a_hostile_schedule_in_a_model_file_is_refused(tmp_path, learning_rate, message):
    path = tmp_path / "model.keras"
    _compiled(cnnkit.optimizers.SGD(_exponential(cnnkit))).save(path)

    def change(settings):
        settings["optimizer"]["config"]["learning_rate"] = learning_rate
        return settings

    edit_section(path, "compile", change)
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(".", r"\.")):
        cnnkit.saving.load_model(path)


@pytest.mark.parametrize("iterations", [-1, 1.5, "3", True])
def test_a_bad_iteration_count_in_a_model_file_is_refused(tmp_path, iterations):
    path = tmp_path / "model.keras"
    model = _compiled(cnnkit.optimizers.SGD(_exponential(cnnkit)))
    model.fit(*_data(), epochs=1, batch_size=8, verbose=0)
    model.save(path)
    edit_section(path, "optimizer", lambda section: {**section, "iterations": iterations})
    with pytest.raises(ValueError, match="optimizer.iterations must be a whole number >= 0"):
        cnnkit.saving.load_model(path)


def test_a_file_without_an_iteration_count_takes_the_optimizers_step(tmp_path):
    path = tmp_path / "model.keras"
    model = _compiled("adam")
    model.fit(*_data(), epochs=1, batch_size=8, verbose=0)
    model.save(path)
    edit_section(
        path, "optimizer", lambda section: {k: v for k, v in section.items() if k != "iterations"}
    )
    assert cnnkit.saving.load_model(path).optimizer.iterations == 5


# ---------------------------------------------------------------------- callbacks
def _fit_with_callback(module, callback):
    x, y = _data()
    model = module.Sequential([module.Input((5,)), module.layers.Dense(2)])
    model.compile(module.optimizers.SGD(_exponential(module)), "mse")
    model.fit(x, y, epochs=3, batch_size=8, verbose=0, callbacks=[callback], validation_data=(x, y))


def test_learning_rate_scheduler_refuses_a_scheduled_optimizer_as_keras_does():
    with pytest.raises(TypeError, match="not settable"):
        _fit_with_callback(keras, keras.callbacks.LearningRateScheduler(lambda epoch, lr: lr))
    with pytest.raises(
        TypeError,
        match="LearningRateScheduler cannot change the learning rate: the optimizer was compiled with the schedule ExponentialDecay",
    ):
        _fit_with_callback(cnnkit, cnnkit.callbacks.LearningRateScheduler(lambda epoch, lr: lr))


def test_reduce_lr_on_plateau_warns_then_refuses_to_reduce_a_schedule_as_keras_does():
    kwargs = dict(monitor="val_loss", patience=0, min_delta=1e9)  # reduce after the first epoch
    with pytest.raises(TypeError, match="not settable"):
        _fit_with_callback(keras, keras.callbacks.ReduceLROnPlateau(**kwargs))
    with pytest.warns(UserWarning, match="a reduction will fail"):
        with pytest.raises(TypeError, match="ReduceLROnPlateau cannot change the learning rate"):
            _fit_with_callback(cnnkit, cnnkit.callbacks.ReduceLROnPlateau(**kwargs))


def test_reduce_lr_on_plateau_that_never_reduces_works_with_a_schedule():
    with pytest.warns(UserWarning, match="a reduction will fail"):
        _fit_with_callback(cnnkit, cnnkit.callbacks.ReduceLROnPlateau(patience=100))


@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum_stays_keras_when_a_callback_changes_the_rate(nesterov):
    """Keras' momentum holds rate x gradient: a rate change must not rescale past steps
    (without the rescaling of PyTorch's buffer the weights differ by ~0.1)."""
    keras.utils.set_random_seed(0)
    x, y = _data()
    models = [
        module.Sequential([module.Input((5,)), module.layers.Dense(2)])
        for module in (keras, cnnkit)
    ]
    models[1].set_weights(models[0].get_weights())
    for module, model in zip((keras, cnnkit), models):
        model.compile(module.optimizers.SGD(0.05, momentum=0.9, nesterov=nesterov), "mse")
        scheduler = module.callbacks.LearningRateScheduler(lambda epoch, lr: 0.05 / (1 + epoch))
        model.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0, callbacks=[scheduler])
    for their_weight, our_weight in zip(models[0].get_weights(), models[1].get_weights()):
        np.testing.assert_allclose(our_weight, their_weight, rtol=0, atol=1e-6)
