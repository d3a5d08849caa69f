"""OneCycle and fit_one_cycle: every step's learning rate and momentum against PyTorch's
OneCycleLR (the oracle) and against the written formula."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import cnnkit
from cnnkit.callbacks import Callback, OneCycle
from cnnkit.callbacks._one_cycle import one_cycle_values


def torch_schedule(total, max_lr, optimizer="sgd", pct_start=0.25, **options):
    """OneCycleLR's (lr, momentum) at each of ``total`` steps (OneCycle's pct_start)."""
    parameter = torch.nn.Parameter(torch.zeros(1))
    if optimizer == "sgd":
        opt = torch.optim.SGD([parameter], lr=0.1, momentum=0.9)
    else:
        opt = torch.optim.Adam([parameter], lr=0.1)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr, total_steps=total, pct_start=pct_start, **options
    )
    values = []
    for _ in range(total):
        group = opt.param_groups[0]
        values.append(
            (group["lr"], group["momentum"] if "momentum" in group else group["betas"][0])
        )
        opt.step()
        scheduler.step()
    return values


def formula(step, total, max_lr, pct_start=0.25, div=25.0, final_div=1e4, cos=True):
    """The policy written out: rise over the first pct_start, then fall."""
    low, top, end = max_lr / div, max_lr, max_lr / div / final_div
    rise = pct_start * total - 1
    if step <= rise:
        frac, a, b = step / rise, low, top
    else:
        frac, a, b = (step - rise) / (total - 1 - rise), top, end
    if cos:
        return b + (a - b) * (1 + math.cos(math.pi * frac)) / 2
    return a + (b - a) * frac


@pytest.mark.parametrize(
    ("total", "options"),
    [
        (100, {}),
        (37, {"pct_start": 0.3, "anneal_strategy": "linear"}),
        (12, {"div_factor": 10.0, "final_div_factor": 100.0, "pct_start": 0.5}),
        (1000, {"base_momentum": 0.8, "max_momentum": 0.9}),
    ],
)
def test_values_equal_torch_one_cycle_lr(total, options):
    ours_options = {
        "pct_start": options.get("pct_start", 0.25),
        "anneal": {"cos": "cos", "linear": "linear"}[options.get("anneal_strategy", "cos")],
        "div_factor": options.get("div_factor", 25.0),
        "final_div_factor": options.get("final_div_factor", 1e4),
        "momentum": (options.get("base_momentum", 0.85), options.get("max_momentum", 0.95)),
    }
    theirs = torch_schedule(total, 0.5, pct_start=ours_options["pct_start"], **{
        k: v for k, v in options.items() if k != "pct_start"
    })  # fmt: skip
    for step, (lr, momentum) in enumerate(theirs):
        ours = one_cycle_values(step, total, 0.5, **ours_options)
        assert ours[0] == pytest.approx(lr, rel=1e-12, abs=1e-15)
        assert ours[1] == pytest.approx(momentum, rel=1e-12)
        cos = ours_options["anneal"] == "cos"
        expected = formula(
            step, total, 0.5, ours_options["pct_start"], ours_options["div_factor"],
            ours_options["final_div_factor"], cos,
        )  # fmt: skip
        assert ours[0] == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_values_outside_the_cycle_are_refused():
    with pytest.raises(ValueError, match="step 10 is outside the cycle of total_steps=10"):
        one_cycle_values(10, 10, 1.0)


class Recorder(Callback):
    """Reads the optimizer after OneCycle set it, before each step runs."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def on_train_batch_end(self, batch, logs=None):
        group = self.model.optimizer.torch_optimizer.param_groups[0]
        momentum = group["betas"][0] if "betas" in group else group["momentum"]
        self.seen.append((float(self.model.optimizer.learning_rate), group["lr"], momentum))


def small_model(optimizer):
    model = cnnkit.Sequential(
        [
            cnnkit.Input(shape=(6, 6, 1)),
            cnnkit.layers.Flatten(),
            cnnkit.layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
    return model


def data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 6, 6, 1)).astype("float32"), rng.integers(0, 3, n)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_fit_sets_every_step_as_torch_does(optimizer):
    x, y = data()
    model, recorder = small_model(optimizer), Recorder()
    model.fit(x, y, batch_size=8, epochs=3, verbose=0, callbacks=[OneCycle(0.05), recorder])
    theirs = torch_schedule(15, 0.05, "sgd" if optimizer == "sgd" else "adam")
    assert len(recorder.seen) == 15
    for (rate, group_rate, momentum), (lr, their_momentum) in zip(recorder.seen, theirs):
        assert rate == pytest.approx(lr, rel=1e-12)
        assert group_rate == pytest.approx(lr, rel=1e-12)
        assert momentum == pytest.approx(their_momentum, rel=1e-12)


def test_fit_one_cycle_trains_like_fit_with_the_callback():
    x, y = data()
    torch.manual_seed(3)
    a = small_model("sgd")
    torch.manual_seed(4)
    history_a = a.fit_one_cycle(x, y, epochs=2, max_lr=0.1, batch_size=10, verbose=0)
    torch.manual_seed(3)
    b = small_model("sgd")
    torch.manual_seed(4)
    history_b = b.fit(x, y, epochs=2, batch_size=10, verbose=0, callbacks=[OneCycle(0.1)])
    assert history_a.history == history_b.history
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    assert history_a.history["learning_rate"][-1] == pytest.approx(0.1 / 25 / 1e4)


def test_explicit_length_and_resume_continue_the_curve():
    x, y = data()
    model, recorder = small_model("adam"), Recorder()
    schedule = OneCycle(0.05, epochs=4, steps_per_epoch=5)
    model.fit(
        x, y, batch_size=8, epochs=4, initial_epoch=2, verbose=0, callbacks=[schedule, recorder]
    )
    theirs = torch_schedule(20, 0.05, "adam")[10:]
    assert [s[0] for s in recorder.seen] == pytest.approx([lr for lr, _ in theirs], rel=1e-12)


def test_cycle_momentum_needs_a_momentum():
    x, y = data()
    model = small_model("adagrad")
    with pytest.raises(ValueError, match="cycle_momentum=True needs an optimizer with momentum"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[OneCycle(0.1)])
    model.fit(x, y, epochs=1, verbose=0, callbacks=[OneCycle(0.1, cycle_momentum=False)])


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"max_lr": 0}, "OneCycle: max_lr must be a finite number > 0. Received: max_lr=0"),
        ({"max_lr": 1, "anneal": "cosine"}, "OneCycle: anneal must be one of 'cos', 'linear'"),
        ({"max_lr": 1, "pct_start": 1.0}, "OneCycle: pct_start must be"),
        ({"max_lr": 1, "total_steps": 5, "epochs": 2}, "give total_steps or epochs"),
    ],
)
def test_bad_arguments(arguments, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        OneCycle(**arguments)


def test_a_linear_warmup_rises_as_linear_one_cycle_and_falls_as_cosine_one_cycle():
    """warmup='linear' (the command line's recipe): the rise is OneCycleLR's linear one, the
    fall its cosine one."""
    total, rise = 50, int(0.2 * 50)  # steps 0..rise-1 rise
    linear = torch_schedule(total, 0.1, pct_start=0.2, anneal_strategy="linear")
    cosine = torch_schedule(total, 0.1, pct_start=0.2, anneal_strategy="cos")
    ours = [
        one_cycle_values(step, total, 0.1, pct_start=0.2, warmup="linear") for step in range(total)
    ]
    np.testing.assert_allclose(ours[:rise], linear[:rise], rtol=1e-12)
    np.testing.assert_allclose(ours[rise:], cosine[rise:], rtol=1e-12)
    with pytest.raises(ValueError, match="warmup must be one of"):
        OneCycle(0.1, warmup="step")
