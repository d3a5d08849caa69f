"""fit takes NumPy training data to the model's device once: every batch the step receives is
a slice or a gather of that one copy, on the device, never a fresh copy from the host."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import cnnkit
from cnnkit import config
from cnnkit.training import _trainer

SAMPLES, BATCH = 40, 8

DEVICES = [
    "cpu",
    pytest.param(
        "cuda",
        marks=[
            pytest.mark.cuda,
            pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
        ],
    ),
]


@pytest.fixture
def device_restored():
    saved = config._state["device"]
    yield
    config.set_device(saved)


def recorded_fit(device: str, shuffle: bool) -> tuple[cnnkit.Sequential, list[tuple]]:
    """Fit a small CNN on ``device``; the (x, y) batches its training step received."""
    received: list[tuple[torch.Tensor, torch.Tensor]] = []
    original = _trainer.make_train_step

    def recording(model, optimizer, wrap, step_device, start=0):
        step = original(model, optimizer, wrap, step_device, start)

        def recorded(xb, yb, wb, scale=1.0):
            received.append((xb, yb))
            return step(xb, yb, wb, scale)

        recorded.__dict__.update(step.__dict__)  # outputs_are_logits, auto_compile
        return recorded

    config.set_device(device)
    cnnkit.utils.set_random_seed(0)
    model = cnnkit.Sequential(
        [
            cnnkit.Input((8, 8, 1)),
            cnnkit.layers.Conv2D(2, 3, activation="relu"),
            cnnkit.layers.Flatten(),
            cnnkit.layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x, y = rng.random((SAMPLES, 8, 8, 1), dtype=np.float32), rng.integers(0, 3, SAMPLES)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_trainer, "make_train_step", recording)
        model.fit(x, y, batch_size=BATCH, epochs=2, shuffle=shuffle, verbose=0)
    return model, received


@pytest.mark.parametrize("device", DEVICES)
def test_unshuffled_batches_are_views_of_one_copy_on_the_device(device, device_restored):
    model, received = recorded_fit(device, shuffle=False)
    assert len(received) == 2 * SAMPLES // BATCH
    storages = {xb.untyped_storage().data_ptr() for xb, _ in received}
    assert len(storages) == 1  # both epochs slice the same tensor: it was copied in once
    for xb, yb in received:
        assert xb.device == yb.device == next(model.parameters()).device
        assert xb.device.type == device


@pytest.mark.parametrize("device", DEVICES)
def test_shuffled_batches_are_gathered_on_the_device(device, device_restored):
    model, received = recorded_fit(device, shuffle=True)
    assert len(received) == 2 * SAMPLES // BATCH
    for xb, yb in received:
        assert xb.device.type == yb.device.type == device
        assert xb.shape == (BATCH, 8, 8, 1) and xb.dtype == torch.float32
