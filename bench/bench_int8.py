"""int8 (Dense layers, dynamic quantization) versus float32: accuracy and CPU latency.

Run: python3 bench/bench_int8.py  (2 threads; about a minute)
Trains the zoo's small_cnn briefly on Fashion-MNIST (Debian's IDX files), quantizes it with
``cnnkit.serve.quantize_int8`` calibrated on 512 training images, then reports test accuracy
of both and the median forward time at batch 1 and 128 (runs interleaved, 2 threads). Why
Dense only: PyTorch's FX graph-mode static quantization cannot trace cnnkit models (see
``cnnkit/serve/_quantize.py``), so the convolutions stay float32.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import torch

import cnnkit
from cnnkit.serve import quantize_int8

TRAIN_SIZE, EPOCHS, ROUNDS = 20000, 2, 7


def data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    (x_train, y_train), (x_test, y_test) = cnnkit.datasets.fashion_mnist.load_data()
    scale = np.float32(255)
    return (
        x_train[:TRAIN_SIZE, ..., None].astype(np.float32) / scale,
        y_train[:TRAIN_SIZE].astype(np.int64),
        x_test[..., None].astype(np.float32) / scale,
        y_test.astype(np.int64),
    )


def median_ms(model, x: torch.Tensor, calls: int) -> float:
    """Median over ``calls`` of one no-grad forward, in milliseconds."""
    times = []
    with torch.no_grad():
        model(x)  # warm-up
        for _ in range(calls):
            start = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def main() -> None:
    torch.set_num_threads(2)
    cnnkit.utils.set_random_seed(0)
    x_train, y_train, x_test, y_test = data()
    model = cnnkit.zoo.get("small_cnn")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=128, epochs=EPOCHS, verbose=0)
    model.eval()
    int8 = quantize_int8(model, x_train[:512])
    accuracy = {
        name: float(np.mean(np.argmax(m.predict(x_test, verbose=0), 1) == y_test))
        for name, m in (("float32", model), ("int8", int8))
    }
    print(
        f"small_cnn, {EPOCHS} epochs on {TRAIN_SIZE} Fashion-MNIST images, torch {torch.__version__}"
    )
    print(
        f"engine {torch.backends.quantized.engine}; calibration agreement {int8.int8_agreement:.2%}"
    )
    loss = (accuracy["float32"] - accuracy["int8"]) * 100
    print(
        f"test accuracy: float32 {accuracy['float32']:.2%}, int8 {accuracy['int8']:.2%} "
        f"(loss {loss:+.2f} points; limit 0.5)"
    )
    for batch, calls in ((1, 200), (128, 20)):
        x = torch.from_numpy(x_test[:batch])
        rounds = {"float32": [], "int8": []}
        for _ in range(ROUNDS):  # interleaved, so load from other jobs hits both alike
            rounds["float32"].append(median_ms(model, x, calls))
            rounds["int8"].append(median_ms(int8, x, calls))
        f32, i8 = statistics.median(rounds["float32"]), statistics.median(rounds["int8"])
        verdict = "faster" if i8 < f32 * 0.97 else "NOT faster"
        print(
            f"batch {batch:>3}: float32 {f32:.3f} ms, int8 {i8:.3f} ms, "
            f"int8/float32 {i8 / f32:.2f} -> int8 is {verdict}"
        )
    print("float32 stays the default for cnnkit serve; int8 is opt-in (quantize_int8).")


if __name__ == "__main__":
    main()
