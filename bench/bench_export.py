"""Latency of an exported model: cnnkit's predict versus ONNX Runtime on the same ONNX export.

Run: python3 bench/bench_export.py  (2 threads each; needs the onnx extra and Debian's
dataset-fashion-mnist). LeNet-5 (Fashion-MNIST padded to 32x32) and the zoo's small_cnn
(28x28), each trained for one epoch on 5,000 images, are exported with ``model.export``; the
export is checked on 1,000 test images (largest difference, top-1 agreement), then per-call
latency at batch 1 and 128 is timed for ``model.predict``, the bare forward ``model(x)`` under
``torch.inference_mode`` and ONNX Runtime (float32), in interleaved rounds; medians reported.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

import cnnkit
from cnnkit.export import load_onnx

THREADS = 2
ROUNDS = 7
CALLS = {1: 200, 128: 10}  # calls per round at each batch size


def fashion(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x_train[:5000], y_train[:5000], x_test[:1000], y_test[:1000]) as the model takes them."""
    (x, y), (x_test, y_test) = cnnkit.datasets.fashion_mnist.load_data()
    pad = ((0, 0), (2, 2), (2, 2), (0, 0)) if name == "lenet5" else ((0, 0),) * 4
    scale = lambda images: np.pad(images[..., None], pad).astype(np.float32) / 255  # noqa: E731
    return scale(x[:5000]), y[:5000].astype(np.int64), scale(x_test[:1000]), y_test[:1000]


def trained(name: str, x: np.ndarray, y: np.ndarray) -> cnnkit.Model:
    cnnkit.utils.set_random_seed(0)
    kwargs = {} if name == "lenet5" else {"input_shape": (28, 28, 1)}
    model = cnnkit.zoo.get(name, **kwargs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=1, batch_size=128, verbose=0)
    return model


def per_call_ms(run, x: np.ndarray, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        run(x)
    return (time.perf_counter() - start) / calls * 1000


def contenders(model: cnnkit.Model, exported) -> dict[str, object]:
    def forward(x):
        with torch.inference_mode():
            return model(torch.from_numpy(x))

    return {
        "cnnkit predict": lambda x: model.predict(x, batch_size=len(x), verbose=0),
        "cnnkit model(x)": forward,
        "ONNX Runtime": lambda x: exported.predict(x, batch_size=len(x)),
    }


def bench(name: str, folder: Path) -> None:
    x, y, x_test, y_test = fashion(name)
    model = trained(name, x, y)
    path = model.export(folder / f"{name}.onnx")
    exported = load_onnx(path, threads=THREADS)
    ours, theirs = model.predict(x_test, verbose=0), exported.predict(x_test)
    agree = (ours.argmax(1) == theirs.argmax(1)).mean()
    print(
        f"{name}: test accuracy {(ours.argmax(1) == y_test).mean():.3f} on 1,000 images; "
        f"ONNX Runtime within {np.abs(ours - theirs).max():.1e}, top-1 agreement {agree:.1%}"
    )
    runs = contenders(model, exported)
    for batch, calls in CALLS.items():
        batch_x = x_test[:batch]
        times: dict[str, list[float]] = {label: [] for label in runs}
        for run in runs.values():  # warm up
            per_call_ms(run, batch_x, 3)
        for round_index in range(ROUNDS):
            labels = list(runs)
            labels = labels[round_index % len(labels) :] + labels[: round_index % len(labels)]
            for label in labels:
                times[label].append(per_call_ms(runs[label], batch_x, calls))
        medians = {label: statistics.median(values) for label, values in times.items()}
        cells = ", ".join(f"{label} {ms:.3f} ms" for label, ms in medians.items())
        speedup = medians["cnnkit predict"] / medians["ONNX Runtime"]
        print(f"  batch {batch:>3}: {cells}; predict / ONNX Runtime = {speedup:.2f}")


def main() -> None:
    torch.set_num_threads(THREADS)
    print(f"load average before: {os.getloadavg()[0]:.2f}, torch {torch.__version__}")
    with tempfile.TemporaryDirectory() as folder:
        for name in ("lenet5", "small_cnn"):
            bench(name, Path(folder))
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
