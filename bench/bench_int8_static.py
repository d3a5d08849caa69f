"""Static int8 (ONNX Runtime, convolutions included) versus float32: accuracy and CPU latency.

Run: python3 bench/bench_int8_static.py  (2 threads each; a few minutes; needs the onnx extra
and Debian's dataset-fashion-mnist). LeNet-5 (Fashion-MNIST padded to 32x32) and the zoo's
small_cnn (28x28), each trained for 2 epochs on 20,000 training images, seeded, are exported
as float32 ONNX and as int8 with ``model.export(..., quantize="int8", calibration_data=...)``
(QDQ, per-channel weights) calibrated on 512 training images; the QOperator format is timed
beside it for comparison. Test accuracy of each on the 10,000 test images; per-call latency at
batch 1 and 128 of ``model.predict`` and ONNX Runtime float32/int8, medians of interleaved
rounds.
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
TRAIN_SIZE, EPOCHS, CALIBRATION = 20000, 2, 512
CALLS = {1: 200, 128: 10}  # calls per round at each batch size


def fashion(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x_train, y_train, x_test, y_test) as the model takes them (float32 in [0, 1])."""
    (x, y), (x_test, y_test) = cnnkit.datasets.fashion_mnist.load_data()
    pad = ((0, 0), (2, 2), (2, 2), (0, 0)) if name == "lenet5" else ((0, 0),) * 4
    scale = lambda images: np.pad(images[..., None], pad).astype(np.float32) / 255  # noqa: E731
    return scale(x[:TRAIN_SIZE]), y[:TRAIN_SIZE].astype(np.int64), scale(x_test), y_test


def trained(name: str, x: np.ndarray, y: np.ndarray) -> cnnkit.Model:
    cnnkit.utils.set_random_seed(0)
    kwargs = {} if name == "lenet5" else {"input_shape": (28, 28, 1)}
    model = cnnkit.zoo.get(name, **kwargs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=EPOCHS, batch_size=128, verbose=0)
    return model


def qoperator(float_path: Path, out: Path, calibration: np.ndarray) -> Path:
    """The same quantization in ONNX Runtime's older QOperator format (QLinearConv...)."""
    from onnxruntime import quantization as q

    prepared = out.with_suffix(".prepared.onnx")
    q.quant_pre_process(str(float_path), str(prepared))

    class Reader(q.CalibrationDataReader):
        def __init__(self) -> None:
            self.batches = iter({"input": calibration[i : i + 64]} for i in range(0, 512, 64))

        def get_next(self):
            return next(self.batches, None)

    q.quantize_static(
        str(prepared), str(out), Reader(), quant_format=q.QuantFormat.QOperator,
        per_channel=True, activation_type=q.QuantType.QUInt8, weight_type=q.QuantType.QInt8,
    )  # fmt: skip
    return out


def per_call_ms(run, x: np.ndarray, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        run(x)
    return (time.perf_counter() - start) / calls * 1000


def bench(name: str, folder: Path) -> None:
    x, y, x_test, y_test = fashion(name)
    started = time.perf_counter()
    model = trained(name, x, y)
    calibration = x[np.linspace(0, len(x) - 1, CALIBRATION).astype(int)]
    float_path = model.export(folder / f"{name}.onnx")
    int8_path = model.export(
        folder / f"{name}.int8.onnx", quantize="int8", calibration_data=calibration
    )
    qop_path = qoperator(float_path, folder / f"{name}.qop.onnx", calibration)
    files = {
        "ORT float32": load_onnx(float_path, threads=THREADS),
        "ORT int8 QDQ": load_onnx(int8_path, threads=THREADS),
        "ORT int8 QOperator": load_onnx(qop_path, threads=THREADS),
    }
    print(f"{name}: trained and exported in {time.perf_counter() - started:.0f} s")
    predictions = {"cnnkit predict": model.predict(x_test, batch_size=256, verbose=0)}
    predictions |= {label: f.predict(x_test, batch_size=256) for label, f in files.items()}
    reference = predictions["ORT float32"]
    for label, p in predictions.items():
        accuracy = (p.argmax(1) == y_test).mean()
        agree = (p.argmax(1) == reference.argmax(1)).mean()
        print(
            f"  {label:<20} test accuracy {accuracy:.4f} on 10,000 images; top-1 agreement with "
            f"float32 {agree:.2%}, largest probability difference {np.abs(p - reference).max():.3f}"
        )
    runs = {"cnnkit predict": lambda b: model.predict(b, batch_size=len(b), verbose=0)}
    runs |= {label: (lambda b, f=f: f.predict(b, batch_size=len(b))) for label, f in files.items()}
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
        ratio = medians["ORT float32"] / medians["ORT int8 QDQ"]
        print(f"  batch {batch:>3}: {cells}; ORT float32 / int8 QDQ = {ratio:.2f}")


def main() -> None:
    torch.set_num_threads(THREADS)
    print(f"load average before: {os.getloadavg()[0]:.2f}, torch {torch.__version__}")
    with tempfile.TemporaryDirectory() as folder:
        for name in ("small_cnn", "lenet5"):
            bench(name, Path(folder))
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
