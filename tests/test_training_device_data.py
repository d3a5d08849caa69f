"""fit takes NumPy training data to the model's device once: every batch the step receives is
a slice or a gather of that one copy, on the device, never a fresh copy from the host. Data
larger than ``DEVICE_DATA_FRACTION`` of a GPU's free memory stays in host memory instead, and
each batch is copied over."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import cnnkit
from cnnkit import config
from cnnkit.training import _data, _trainer

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


def recorded_fit(device: str, shuffle: bool = True) -> tuple[cnnkit.Sequential, list[tuple]]:
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


@pytest.mark.parametrize(
    ("free_bytes", "expected"), [(10_000, "cuda"), (2 * 4_000 - 1, "cpu"), (8_000, "cuda")]
)
def test_arrays_go_to_the_gpu_when_they_take_at_most_half_its_free_memory(
    free_bytes, expected, monkeypatch
):
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device: (free_bytes, 10**9))
    x = torch.zeros(10, 10, 10)  # 4,000 bytes of float32 images
    assert _data.DEVICE_DATA_FRACTION == 0.5
    assert _data.data_device((x, None, None), torch.device("cuda")).type == expected
    assert _data.data_device((x, None, None), torch.device("cpu")).type == "cpu"


def test_data_held_elsewhere_is_batched_there_and_copied_per_batch():
    """The copy to the device keeps each tensor's dtype (integer one-hot labels stay integer);
    the 'meta' device stands in for a GPU."""
    x = torch.arange(5 * 2 * 2 * 1, dtype=torch.float32).reshape(5, 2, 2, 1)
    y = torch.eye(3, dtype=torch.int64)[[0, 1, 2, 0, 1]]
    held = _data.ArrayData(x, y, torch.ones(5), torch.device("meta"))
    for shuffle in (False, True):
        batches = list(held.batches(2, shuffle=shuffle, group=2))
        assert [len(xb) for xb, _, _ in batches] == [2, 2, 1]
        for xb, yb, wb in batches:
            assert xb.device.type == yb.device.type == wb.device.type == "meta"
            assert (xb.dtype, yb.dtype, yb.shape[1:]) == (torch.float32, torch.int64, (3,))
    train, validation = held.split(0.4)
    assert train.device.type == validation.device.type == "meta"
    assert held.rows(1, 3).device.type == "meta" and len(held.rows(1, 3)) == 2


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_data_too_large_for_the_gpu_trains_from_host_memory_alike(device_restored, monkeypatch):
    reference, on_device = recorded_fit("cuda")
    places: list[torch.device] = []
    decide = _data.data_device
    monkeypatch.setattr(_data, "DEVICE_DATA_FRACTION", 0.0)  # nothing fits: held in host memory
    monkeypatch.setattr(_data, "data_device", lambda *a: places.append(decide(*a)) or places[-1])
    model, from_host = recorded_fit("cuda")
    assert [place.type for place in places] == ["cpu"]
    assert len(from_host) == len(on_device)
    assert {xb.device.type for xb, _ in from_host} == {"cuda"}
    for weight, expected in zip(model.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_allclose(weight, expected, rtol=1e-6, atol=1e-7)
