"""After ``cnnkit export --quantize int8``: float32 against int8 on this machine, latency at
batch 1 and a batch, accuracy when labelled data is given, and a plain verdict, because int8 is
faster on some models and CPUs and slower on others (bench/README_int8.md)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import numpy as np

#: Batch sizes timed: one image (a request) and a batch (offline scoring).
BATCHES = (1, 64)
#: Interleaved rounds per batch size; the median per-call time of each is reported.
ROUNDS = 7
#: Seconds one round of calls aims to last (calls per round are sized from a first call).
ROUND_SECONDS = 0.1


def latency_lines(float_model, int8_model, images: np.ndarray) -> list[str]:
    """One line per batch size with both medians, then the verdict."""
    lines, slower = [], []
    for batch in BATCHES:
        x = np.resize(images, (batch, *images.shape[1:]))  # repeats images when too few
        times = _median_ms({"float32": float_model, "int8": int8_model}, x)
        ratio = times["float32"] / times["int8"]
        versus = f"{ratio:.2f}x faster" if ratio >= 1 else f"{1 / ratio:.2f}x slower"
        lines.append(
            f"  batch {batch:>3}: float32 {times['float32']:.3f} ms, int8 {times['int8']:.3f} ms "
            f"per call (int8 {versus})"
        )
        if ratio < 1:
            slower.append(f"batch {batch}")
    if slower:
        lines.append(
            f"int8 is not faster than float32 on this CPU at {' and '.join(slower)}; float32 "
            "stays the default (export without --quantize)"
        )
    else:
        lines.append("int8 is faster than float32 on this CPU at every batch size timed")
    header = (
        f"latency with ONNX Runtime on this CPU (median of {ROUNDS} interleaved rounds; "
        "timings vary with machine load):"
    )
    return [header, *lines]


def accuracy_line(float_model, int8_model, x: np.ndarray, y: np.ndarray, name: str) -> str:
    """Test accuracy of both files on labelled images, and the change in points."""
    accuracy = [
        float((model.predict(x, batch_size=256).argmax(1) == y).mean())
        for model in (float_model, int8_model)
    ]
    change = 100 * (accuracy[1] - accuracy[0])
    return (
        f"accuracy on {name} ({len(y):,} test images): float32 {accuracy[0]:.4f}, "
        f"int8 {accuracy[1]:.4f} ({change:+.2f} points)"
    )


def agreement_line(float_model, int8_model, images: np.ndarray) -> str:
    """How often int8 keeps float32's top class on the calibration images."""
    same = float_model.predict(images).argmax(1) == int8_model.predict(images).argmax(1)
    return (
        f"int8 keeps float32's top class on {same.mean():.1%} of the {len(same):,} calibration "
        "images"
    )


def _median_ms(models: dict[str, object], x: np.ndarray) -> dict[str, float]:
    """Median per-call milliseconds of each model's ``predict`` on ``x``, rounds interleaved."""
    runs: dict[str, Callable[[], object]] = {
        label: (lambda model=model: model.predict(x, batch_size=len(x)))
        for label, model in models.items()
    }
    calls = {label: _calls_per_round(run) for label, run in runs.items()}
    times: dict[str, list[float]] = {label: [] for label in runs}
    for round_index in range(ROUNDS):
        order = list(runs)[round_index % 2 :] + list(runs)[: round_index % 2]
        for label in order:
            start = time.perf_counter()
            for _ in range(calls[label]):
                runs[label]()
            times[label].append((time.perf_counter() - start) / calls[label] * 1000)
    return {label: statistics.median(values) for label, values in times.items()}


def _calls_per_round(run: Callable[[], object]) -> int:
    """Calls that fill about ROUND_SECONDS, after two warm-up calls."""
    run()
    start = time.perf_counter()
    run()
    return max(1, int(ROUND_SECONDS / max(time.perf_counter() - start, 1e-6)))
