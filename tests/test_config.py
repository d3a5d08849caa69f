"""cnnkit.config: device and precision settings."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import cnnkit


@pytest.fixture(autouse=True)
def restore_config():
    yield
    cnnkit.config.set_device("auto")
    cnnkit.config.set_precision("float32")


def test_auto_device_picks_cuda_then_mps_then_cpu():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    if expected == "cpu" and hasattr(torch.backends, "mps") and torch.backends.mps.is_available():
        expected = "mps"
    assert cnnkit.config.get_device().type == expected


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error on a machine without CUDA")
def test_asking_for_missing_cuda_is_a_clear_error():
    with pytest.raises(ValueError, match="CUDA was asked for, but this machine has no CUDA device"):
        cnnkit.config.set_device("cuda")
    with pytest.raises(ValueError, match="unknown device 'gpu'"):
        cnnkit.config.set_device("gpu")


def test_bfloat16_autocast_trains_on_cpu():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(128, 8, 8, 1)).astype(np.float32)
    y = (x.mean(axis=(1, 2, 3)) > 0).astype(np.int64)
    cnnkit.config.set_precision("bfloat16")
    cnnkit.utils.set_random_seed(0)
    model = cnnkit.Sequential(
        [cnnkit.layers.Flatten(input_shape=(8, 8, 1)), cnnkit.layers.Dense(2, activation="softmax")]
    )
    model.compile(
        optimizer=cnnkit.optimizers.Adam(0.01),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    history = model.fit(x, y, epochs=5, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model.layers[1].weight.dtype == torch.float32  # weights stay float32 under autocast
    assert model.predict(x, verbose=0).dtype == np.float32
    with pytest.raises(
        ValueError, match="precision must be one of 'float32', 'bfloat16', 'float16'"
    ):
        cnnkit.config.set_precision("fp8")
