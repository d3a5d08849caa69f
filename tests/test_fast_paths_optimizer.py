"""PyTorch's optimizers without their dynamo wrappers (cnnkit._fast._optimizer) against the
wrapped methods they stand in for: the same steps bit for bit, and no torch._dynamo import."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from torch.optim.optimizer import register_optimizer_step_pre_hook

import cnnkit
from cnnkit import layers
from cnnkit._fast import _optimizer

OPTIMIZERS = ["adam", "adamw", "sgd", "nadam", "adadelta", "rmsprop", "adagrad", "adamax", "lion"]


def trained(optimizer, wrappers: bool, monkeypatch, steps: int = 5):
    """A small CNN after ``steps`` steps, with PyTorch's wrapped methods or without them."""
    monkeypatch.setattr(_optimizer, "_wrappers_needed", lambda: wrappers)
    cnnkit.utils.set_random_seed(0)
    model = cnnkit.Sequential(
        [
            cnnkit.Input((6, 6, 2)),
            layers.Conv2D(3, 3, activation="relu"),
            layers.BatchNormalization(),
            layers.Flatten(),
            layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x, y = rng.random((8 * steps, 6, 6, 2), dtype=np.float32), rng.integers(0, 3, 8 * steps)
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    return model


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_every_optimizer_steps_the_same_without_the_wrappers(name, monkeypatch):
    optimizer = {"sgd": cnnkit.optimizers.SGD(0.1, momentum=0.9, nesterov=True)}.get(name, name)
    fast = trained(optimizer, False, monkeypatch)
    if name == "sgd":
        optimizer = cnnkit.optimizers.SGD(0.1, momentum=0.9, nesterov=True)
    plain = trained(optimizer, True, monkeypatch)
    for got, expected in zip(fast.get_weights(), plain.get_weights(), strict=True):
        np.testing.assert_array_equal(got, expected)
    assert fast.optimizer.iterations == plain.optimizer.iterations == 5  # hooks ran once a step
    assert torch.is_grad_enabled()
    fast_state = fast.optimizer.torch_optimizer.state_dict()
    plain_state = plain.optimizer.torch_optimizer.state_dict()
    assert fast_state["param_groups"] == plain_state["param_groups"]
    assert fast_state["state"].keys() == plain_state["state"].keys()
    for index, entry in fast_state["state"].items():
        assert entry.keys() == plain_state["state"][index].keys()
        for key, value in entry.items():
            torch.testing.assert_close(value, plain_state["state"][index][key], rtol=0, atol=0)
    # a state written without the wrappers loads into an optimizer that runs with them
    plain.optimizer.torch_optimizer.load_state_dict(fast_state)
    for index, entry in plain.optimizer.torch_optimizer.state_dict()["state"].items():
        for key, value in entry.items():
            torch.testing.assert_close(value, fast_state["state"][index][key], rtol=0, atol=0)


@pytest.mark.parametrize("wrappers", [False, True])
def test_step_hooks_run_once_when_a_plain_torch_optimizer_exists(wrappers, monkeypatch):
    # a torch.optim.Adam wraps Adam.step in PyTorch's step hooks; cnnkit's subclass runs its
    # own hooks and must not run them again through the base class's step
    torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))])
    calls = []
    handle = register_optimizer_step_pre_hook(lambda *_: calls.append(1))
    try:
        model = trained("adam", wrappers, monkeypatch, steps=3)
    finally:
        handle.remove()
    assert model.optimizer.iterations == 3
    assert len(calls) == 3


SCRIPT = """
import json, sys
import numpy as np
import cnnkit
x = np.random.default_rng(0).random((64, 8, 8, 1), dtype=np.float32)
y = np.arange(64) % 3
for name in ["adam", "sgd", "rmsprop", "nadam"]:
    model = cnnkit.Sequential([cnnkit.Input((8, 8, 1)), cnnkit.layers.Conv2D(2, 3),
                               cnnkit.layers.Flatten(), cnnkit.layers.Dense(3)])
    model.compile(optimizer=name, loss="sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    model.evaluate(x, y, verbose=0)
    model.predict(x, verbose=0)
print(json.dumps("torch._dynamo" in sys.modules))
"""


@pytest.mark.parametrize(("switch", "loaded"), [("1", False), ("0", True)])
def test_fit_leaves_torch_dynamo_unloaded_unless_switched_off(switch, loaded):
    env = dict(os.environ, CNNKIT_FAST=switch)
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) is loaded
