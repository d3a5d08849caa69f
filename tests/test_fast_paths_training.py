"""fit's fast paths (cnnkit._fast) against the plain path they stand in for: with every fast
path switched off, fit trains the same weights and logs the same numbers, bit for bit."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

import cnnkit
from cnnkit import _fast, layers
from cnnkit._fast import _ahead
from cnnkit._fast._forward import DirectChain


@pytest.fixture
def switches(monkeypatch):
    """Lets a test switch fast paths off; every switch is put back afterwards."""
    for name in _fast.TRICKS:
        monkeypatch.setitem(_fast._switches, name, _fast.enabled(name))
    return _fast


def augmented_cnn() -> cnnkit.Sequential:
    cnnkit.utils.set_random_seed(0)
    model = cnnkit.Sequential(
        [
            cnnkit.Input((8, 8, 3)),
            layers.RandomFlip(seed=1),
            layers.RandomTranslation(0.2, 0.2),  # draws from torch's global generator
            layers.Conv2D(4, 3, activation="relu"),
            layers.Flatten(),
            layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def plain_cnn() -> cnnkit.Sequential:
    cnnkit.utils.set_random_seed(0)
    model = cnnkit.Sequential(
        [
            cnnkit.Input((8, 8, 3)),
            layers.Conv2D(4, 3, activation="tanh"),
            layers.AveragePooling2D(2),
            layers.Flatten(),
            layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def data(n: int = 100):
    rng = np.random.default_rng(0)
    return rng.random((n, 8, 8, 3), dtype=np.float32), rng.integers(0, 3, n)


def trained(build, x, y, **options):
    model = build()
    cnnkit.utils.set_random_seed(1)  # the same shuffles
    history = model.fit(x, y, batch_size=16, epochs=2, verbose=0, **options)
    return model.get_weights(), history.history


def assert_same(a, b):
    for got, expected in zip(a[0], b[0], strict=True):
        np.testing.assert_array_equal(got, expected)
    assert a[1] == b[1]


def test_augmentation_run_ahead_trains_as_the_plain_path(switches, monkeypatch):
    sizes = []
    draw = layers.RandomTranslation._draw
    monkeypatch.setattr(
        layers.RandomTranslation, "_draw", lambda self, x: sizes.append(len(x)) or draw(self, x)
    )
    x, y = data()  # six batches of 16 and one of 4
    fast = trained(augmented_cnn, x, y, validation_split=0.2)
    assert sizes[:2] == [64, 16]  # 80 samples: a group of four batches, then one
    sizes.clear()
    switches.set_enabled(False)
    plain = trained(augmented_cnn, x, y, validation_split=0.2)
    assert sizes[:5] == [16] * 5  # one batch at a time, inside the step
    assert_same(fast, plain)


def test_the_plain_case_trains_the_same_with_the_fast_paths_off(switches):
    x, labels = data()
    y = np.eye(3, dtype=np.float32)[labels]
    options = dict(class_weight={0: 1.0, 1: 2.0, 2: 0.5}, validation_data=(x[:20], y[:20]))
    fast = trained(plain_cnn, x, y, **options)
    switches.set_enabled(False, "ahead")
    without_groups = trained(plain_cnn, x, y, **options)
    switches.set_enabled(False)
    plain = trained(plain_cnn, x, y, **options)
    assert_same(fast, without_groups)
    assert_same(fast, plain)


def test_the_plan_is_plain_when_switched_off(switches):
    model = augmented_cnn()
    train = cnnkit.training._data.ArrayData(torch.zeros(32, 8, 8, 3))
    assert _ahead.plan(model, train, 8) == _ahead.Plan(start=2, group=_ahead.MAX_GROUP)
    switches.set_enabled(False, "ahead")
    assert _ahead.plan(model, train, 8) == _ahead.Plan()
    assert DirectChain(model.layers).forwards() is not None
    switches.set_enabled(False, "forward")
    assert DirectChain(model.layers).forwards() is None  # each layer is called


class Interrupt(cnnkit.callbacks.Callback):
    """Stops the run with an exception after the ``at``-th batch (counted over epochs)."""

    def __init__(self, at: int):
        super().__init__()
        self.at, self.seen = at, 0

    def on_train_batch_end(self, batch, logs=None):
        self.seen += 1
        if self.seen == self.at:
            raise KeyboardInterrupt


@pytest.mark.parametrize("at", [2, 6])  # inside a group of four; at the end of an epoch
def test_a_run_resumed_on_the_plain_path_matches_the_fast_one(switches, tmp_path, at):
    x, y = data(96)  # six batches per epoch
    whole = trained(augmented_cnn, x, y)
    switches.set_enabled(False)
    backup = cnnkit.callbacks.BackupAndRestore(tmp_path, save_freq=1)
    with pytest.raises(KeyboardInterrupt):
        trained(augmented_cnn, x, y, callbacks=[backup, Interrupt(at)])
    resumed = trained(augmented_cnn, x, y, callbacks=[backup, Interrupt(0)])
    assert_same(resumed, whole)


@pytest.mark.parametrize(
    ("value", "on"),
    [
        ("", set(_fast.TRICKS)),
        ("1", set(_fast.TRICKS)),
        ("0", set()),
        ("forward,malloc", {"forward", "malloc"}),
        (" ahead ", {"ahead"}),
    ],
)
def test_the_environment_chooses_the_fast_paths(value, on):
    assert _fast._from_environment(value) == {name: name in on for name in _fast.TRICKS}


def test_set_enabled_names_what_it_accepts(switches):
    with pytest.raises(ValueError, match="unknown fast path 'fused'; accepted"):
        switches.set_enabled(False, "fused")
    with pytest.raises(TypeError, match="on must be True or False. Received: on='no'"):
        switches.set_enabled("no")


@pytest.mark.skipif(
    not (sys.platform.startswith("linux") and hasattr(ctypes.CDLL(None), "gnu_get_libc_version")),
    reason="malloc tuning is for glibc on Linux",
)
@pytest.mark.parametrize(("value", "tuned"), [("1", "True"), ("0", "False"), ("ahead", "False")])
def test_malloc_tuning_follows_the_switch(value, tuned):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MALLOC_", "GLIBC_"))}
    env.update(CNNKIT_FAST=value, CNNKIT_MALLOC_TUNING="1")
    code = "import cnnkit; print(cnnkit.config.apply_malloc_tuning())"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == tuned
