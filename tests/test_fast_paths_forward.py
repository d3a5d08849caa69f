"""The direct-forward fast path (cnnkit._fast._forward) gives the numbers of calling each layer."""

from __future__ import annotations

import pytest
import torch

import cnnkit
from cnnkit import _fast
from cnnkit.layers import RandomFlip, RandomTranslation


@pytest.fixture
def forward_off():
    def run(model, x):
        _fast.set_enabled(False, "forward")
        try:
            return model(x)
        finally:
            _fast.set_enabled(True, "forward")

    return run


def _augmented() -> cnnkit.Sequential:
    """RandomFlip then RandomTranslation: the pair the fast path fuses into one call."""
    return cnnkit.Sequential(
        [
            cnnkit.Input(shape=(32, 32, 1)),
            RandomFlip("horizontal", seed=1),
            RandomTranslation(0.1, 0.1, seed=2),
            *cnnkit.zoo.get("lenet5").layers,
        ]
    )


@pytest.mark.parametrize(
    "build",
    [
        lambda: cnnkit.zoo.get("lenet5"),
        lambda: cnnkit.zoo.get("small_cnn", input_shape=(32, 32, 1)),
        _augmented,
    ],
)
@pytest.mark.parametrize("training", [False, True])
def test_fast_and_plain_forward_give_the_same_numbers(build, training, forward_off):
    model, twin = build(), build()  # twins: seeded random layers start from the same state
    twin.set_weights(model.get_weights())
    model.train(training), twin.train(training)
    x = torch.rand(8, 32, 32, 1)
    with torch.no_grad():
        torch.manual_seed(3)
        fast = model(x)
        torch.manual_seed(3)
        plain = forward_off(twin, x)
    torch.testing.assert_close(fast, plain, rtol=0, atol=0)


def test_the_switch_really_takes_the_plain_path(forward_off):
    model = cnnkit.zoo.get("lenet5")
    calls = []
    original = type(model.layers[0]).__call__

    def counting(self, *args, **kwargs):
        calls.append(self.name)
        return original(self, *args, **kwargs)

    type(model.layers[0]).__call__ = counting
    try:
        model(torch.rand(2, 32, 32, 1))
        fast_calls = len(calls)
        forward_off(model, torch.rand(2, 32, 32, 1))
    finally:
        type(model.layers[0]).__call__ = original
    assert fast_calls == 0 and len(calls) > 0
