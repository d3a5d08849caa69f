"""model.lr_find: the ramp, the smoothing, the early stop, the suggestion rules on scripted
curves, and a model put back so exactly that a later fit is bit for bit the fit without it."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

import cnnkit
from cnnkit.training import LRFindResult
from cnnkit.training._lr_curve import smooth, suggest


def model_with_state(seed=0):
    """BatchNorm statistics, Dropout and a seeded augmentation layer: every kind of state."""
    torch.manual_seed(seed)
    model = cnnkit.Sequential(
        [
            cnnkit.Input(shape=(8, 8, 1)),
            cnnkit.layers.RandomFlip("horizontal", seed=5),
            cnnkit.layers.Conv2D(4, 3, activation="relu"),
            cnnkit.layers.BatchNormalization(),
            cnnkit.layers.Flatten(),
            cnnkit.layers.Dropout(0.3),
            cnnkit.layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def data(n=48, seed=1):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 8, 8, 1)).astype("float32"), rng.integers(0, 3, n)


def fit_after(model, warmed: bool, with_lr_find: bool):
    x, y = data()
    if warmed:  # the optimizer has state to keep
        model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    if with_lr_find:
        result = model.lr_find(x, y, steps=30, batch_size=8, end_lr=100.0)
        assert len(result.lrs) > 5
    extra = (np.random.random(), random.random(), torch.rand(1).item())
    history = model.fit(x, y, batch_size=16, epochs=2, verbose=0, validation_split=0.25)
    return history.history, model.get_weights(), extra, model.optimizer.iterations


@pytest.mark.parametrize("warmed", [False, True])
def test_fit_after_lr_find_is_bit_for_bit_the_fit_without(warmed):
    np.random.seed(7)
    random.seed(7)
    plain = fit_after(model_with_state(), warmed, with_lr_find=False)
    np.random.seed(7)
    random.seed(7)
    found = fit_after(model_with_state(), warmed, with_lr_find=True)
    assert found[0] == plain[0]
    assert found[2] == plain[2]
    assert found[3] == plain[3]
    for a, b in zip(found[1], plain[1]):
        np.testing.assert_array_equal(a, b)


def test_the_ramp_cycles_short_data_and_smooths_with_debiasing():
    x, y = data(n=16)
    model = model_with_state()
    result = model.lr_find(x, y, start_lr=1e-6, end_lr=1e-2, steps=10, batch_size=8)
    assert len(result.lrs) == 10  # two batches per pass, cycled five times
    expected = [1e-6 * (1e4) ** (i / 9) for i in range(10)]
    assert result.lrs == pytest.approx(expected, rel=1e-12)
    assert result.smoothed_losses == pytest.approx(smooth(result.losses, 0.98), rel=1e-12)
    assert result.smoothed_losses[0] == pytest.approx(result.losses[0], rel=1e-12)  # debiased
    assert not result.diverged


def test_divergence_stops_early_and_restores_the_weights():
    x, y = data()
    model = model_with_state()
    before = model.get_weights()
    result = model.lr_find(x, y, start_lr=1e-3, end_lr=1e6, steps=100, batch_size=8, diverge=2.0)
    assert result.diverged and len(result.lrs) < 100
    last = result.losses[-1]
    assert not math.isfinite(last) or result.smoothed_losses[-1] > 2.0 * min(
        result.smoothed_losses[:-1]
    )
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    assert result.suggestion is None or result.suggestion < result.lrs[-1]
    assert isinstance(result.plot(), Figure)
    assert isinstance(cnnkit.plots.lr_find(result, skip_start=2), Figure)


def scripted_curve(spike_at=None):
    """A loss that is flat, falls fastest around 1e-3, bottoms at 1e-1, then climbs."""
    lrs = np.logspace(-7, 1, 100)
    position = np.log10(lrs)
    losses = (
        2.3 - 1.5 / (1 + np.exp(-(position + 3) * 2.5)) + 0.3 * np.clip(position + 1, 0, None) ** 2
    )
    losses = list(losses)
    if spike_at is not None:
        losses[spike_at] = 40.0
    return list(lrs), losses


@pytest.mark.parametrize("smoothing", [0.0, 0.6, 0.9])
def test_steepest_reads_the_fastest_fall(smoothing):
    lrs, losses = scripted_curve()
    found = suggest(lrs, losses, smoothing, "steepest")
    assert 10**-3.8 < found < 10**-2.2


@pytest.mark.parametrize("spike_at", [1, 3, 6, 12])
def test_an_early_spike_does_not_move_the_suggestion(spike_at):
    lrs, losses = scripted_curve()
    clean = suggest(lrs, losses, 0.9, "steepest")
    lrs, spiked = scripted_curve(spike_at)
    assert suggest(lrs, spiked, 0.9, "steepest") == clean
    assert suggest(lrs, spiked, 0.9, "valley") == suggest(lrs, losses, 0.9, "valley")


def test_valley_lies_on_the_descent_before_the_minimum():
    lrs, losses = scripted_curve()
    found = suggest(lrs, losses, 0.6, "valley")
    minimum = lrs[int(np.argmin(losses))]
    assert 10**-4 < found < minimum


def test_short_curves_give_no_suggestion():
    assert suggest([1e-3, 1e-2, 1e-1], [1.0, 0.9, 0.8], 0.9) is None


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        (
            {"start_lr": 1.0, "end_lr": 0.1},
            ValueError,
            "lr_find: end_lr must be larger than start_lr",
        ),
        ({"steps": 1}, ValueError, "lr_find: steps must be"),
        (
            {"suggestion": "minimum"},
            ValueError,
            "lr_find: suggestion must be one of 'steepest', 'valley'",
        ),
        ({"smoothing": 1.0}, ValueError, "lr_find: smoothing must be"),
        ({"diverge": 1.0}, ValueError, "lr_find: diverge must be"),
    ],
)
def test_bad_arguments(arguments, error, message):
    x, y = data(n=8)
    with pytest.raises(error, match=message):
        model_with_state().lr_find(x, y, **arguments)


def test_a_result_prints_its_suggestion():
    result = LRFindResult([1e-3], [1.0], [1.0], 1e-3, False, "steepest")
    assert repr(result) == (
        "LRFindResult(steps=1, suggestion=0.001 (steepest), lowest smoothed loss=1, diverged=False)"
    )


def test_the_command_prints_a_suggestion_and_draws_the_curve(tmp_path):
    from cli_helpers import cnnkit as run_cnnkit
    from cli_helpers import write_stripes

    (tmp_path / "stripes").mkdir()
    folder = write_stripes(tmp_path / "stripes")
    plot = tmp_path / "curve.png"
    result = run_cnnkit(
        "lr-find", "--dataset", folder, "--steps", "12", "--batch-size", "8", "--plot", plot
    )
    assert result.returncode == 0, result.stderr
    assert f"small_cnn on {folder}: " in result.stdout
    assert "suggested learning rate (steepest): " in result.stdout
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_command_refuses_a_falling_range(capsys):
    from cli_helpers import run_here

    result = run_here(
        capsys, "lr-find", "--dataset", "digits", "--start-lr", "1", "--end-lr", "0.5"
    )
    assert result.returncode == 2
    assert "cnnkit lr-find: error: --end-lr (0.5) must be larger than --start-lr" in result.stderr


def test_an_optimizer_with_a_schedule_keeps_it():
    x, y = data(n=16)
    model = model_with_state()
    schedule = cnnkit.optimizers.schedules.ExponentialDecay(0.01, 10, 0.5)
    model.compile(optimizer=cnnkit.optimizers.SGD(schedule), loss="sparse_categorical_crossentropy")
    result = model.lr_find(x, y, steps=6, batch_size=8)
    assert len(result.lrs) == 6
    assert model.optimizer.learning_rate_schedule is schedule
    assert model.optimizer.iterations == 0 and model.optimizer.learning_rate == 0.01
