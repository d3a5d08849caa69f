"""cnnkit.config: device and precision settings."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys

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


_FAULTS_PER_EPOCH = """
import resource, sys
import numpy as np
import cnnkit
from cnnkit import layers
rng = np.random.default_rng(0)
x = rng.random((2560, 32, 32, 3), dtype=np.float32)
y = rng.integers(0, 10, 2560)
model = cnnkit.Sequential([cnnkit.Input((32, 32, 3)), layers.Conv2D(6, 5, activation="tanh"),
    layers.AveragePooling2D(2), layers.Conv2D(16, 5, activation="tanh"),
    layers.AveragePooling2D(2), layers.Flatten(), layers.Dense(84, activation="relu"),
    layers.Dense(10, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(x, y, batch_size=128, epochs=2, verbose=0)  # warm-up
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
model.fit(x, y, batch_size=128, epochs=2, verbose=0)
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
print(cnnkit.config.apply_malloc_tuning(), faults)
"""


_HEAP_BEHAVIOUR = """
import ctypes
import cnnkit

class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]

libc = ctypes.CDLL(None)
libc.mallinfo2.restype = MallInfo2
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
tuned = cnnkit.config.apply_malloc_tuning()
size = 24 * 2**20  # below the tuned 32 MiB mmap threshold, far above glibc's default 128 KiB
block = libc.malloc(size)
mapped = libc.mallinfo2().hblkhd >= size
libc.free(block)
kept = libc.mallinfo2().fordblks >= size
print("tuned" if tuned else "untuned", "mapped" if mapped else "from the heap",
      "kept" if kept else "returned", sep=",")
"""


def _heap_behaviour(**environment: str) -> tuple[str, ...]:
    """(tuned or not, where a 24 MiB block comes from, whether its memory stays when freed),
    in a fresh process with cnnkit imported."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("GLIBC_TUNABLES", "CNNKIT_MALLOC_TUNING")
    }
    env.update(environment)
    done = subprocess.run(
        [sys.executable, "-c", _HEAP_BEHAVIOUR],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return tuple(done.stdout.strip().split(","))


def _faults_in_fresh_process(**environment: str) -> tuple[bool, int]:
    """Whether malloc was tuned in a fresh process given ``environment`` (the fault count of
    its training is printed too, for reading, not for asserting)."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("GLIBC_TUNABLES", "CNNKIT_MALLOC_TUNING")
    }
    env.update(environment)
    done = subprocess.run(
        [sys.executable, "-c", _FAULTS_PER_EPOCH],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    tuned, faults = done.stdout.split()
    return tuned == "True", int(faults)


def _glibc() -> bool:
    return sys.platform.startswith("linux") and hasattr(ctypes.CDLL(None), "gnu_get_libc_version")


@pytest.mark.skipif(not _glibc(), reason="malloc tuning is for glibc on Linux")
def test_malloc_tuning_keeps_freed_activations_in_the_heap_for_the_next_step():
    """The mechanism behind the saved page faults (figures: README, bench notes): a block the
    size of a batch's activations comes from the heap and stays there when freed, instead of
    being mapped and handed back to the OS, to be faulted in again, at every step. Counting the
    faults themselves is no test: the kernel's reclaim and glibc's dynamic threshold move the
    counts of single runs from a handful to thousands."""
    assert _heap_behaviour() == ("tuned", "from the heap", "kept")
    assert _heap_behaviour(CNNKIT_MALLOC_TUNING="0") == ("untuned", "mapped", "returned")


@pytest.mark.skipif(not _glibc(), reason="malloc tuning is for glibc on Linux")
def test_malloc_settings_chosen_by_the_user_are_left_alone():
    tuned, _ = _faults_in_fresh_process(GLIBC_TUNABLES="glibc.malloc.arena_max=2")
    assert not tuned
    assert cnnkit.config.get_malloc_tuning() is True
    with pytest.raises(TypeError, match="set_malloc_tuning: enabled must be True or False"):
        cnnkit.config.set_malloc_tuning("yes")
