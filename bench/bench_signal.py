"""Benchmark cnnkit.signal.correlate2d against scipy.signal.correlate2d; calibrate the crossover.

    python3 bench/bench_signal.py              # 512x512 float32, kernels 3/5/15/31, 'same'+'valid'
    python3 bench/bench_signal.py --calibrate  # time direct vs FFT per kernel size, fit constants

Runs are interleaved (cnnkit, scipy, cnnkit, ...) so that load on a shared machine hits both
sides alike; each cell is the median of --repeats runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from functools import partial

import numpy as np
import scipy.signal
import torch

from cnnkit.signal import correlate2d
from cnnkit.signal._direct import shift_and_add
from cnnkit.signal._fft import correlate_valid_fft, fast_length


def _seconds(fn, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def compare(size: int, kernels: list[int], modes: list[str], repeats: int) -> None:
    """Print cnnkit vs SciPy times (ms, median) and the speed-up for each kernel and mode."""
    rng = np.random.default_rng(0)
    image = rng.standard_normal((size, size)).astype(np.float32)
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(
        f"image {size}x{size} float32, torch threads={torch.get_num_threads()}, "
        f"median of {repeats} interleaved runs"
    )
    print(f"{'mode':<6} {'kernel':>6} {'cnnkit ms':>10} {'scipy ms':>10} {'speed-up':>9}")
    for mode in modes:
        for k in kernels:
            kernel = rng.standard_normal((k, k)).astype(np.float32)
            ours, theirs = [], []
            correlate2d(image, kernel, mode)  # warm-up (FFT plans, allocator)
            for _ in range(repeats):
                ours += _seconds(partial(correlate2d, image, kernel, mode), 1)
                theirs += _seconds(partial(scipy.signal.correlate2d, image, kernel, mode), 1)
            a, b = statistics.median(ours) * 1e3, statistics.median(theirs) * 1e3
            print(f"{mode:<6} {k:>3}x{k:<2} {a:>10.2f} {b:>10.2f} {b / a:>8.1f}x")


def _best_times(cases, repeats: int) -> list[dict[str, float]]:
    """Best-of-``repeats`` seconds of each method on each case; repeats are interleaved."""
    best = [dict.fromkeys(("shift", "conv2d", "fft"), float("inf")) for _ in cases]
    for _ in range(repeats):
        for (x, w), times in zip(cases, best, strict=True):
            for name, fn in (
                ("shift", shift_and_add),
                ("conv2d", torch.nn.functional.conv2d),
                ("fft", correlate_valid_fft),
            ):
                if name == "shift" and x.shape[1] * w.shape[0] > 1:
                    continue
                times[name] = min(times[name], _seconds(partial(fn, x, w), 1)[0])
    return best


def calibrate(size: int, kernels: list[int], repeats: int) -> None:
    """Time shift-and-add, conv2d and FFT valid correlation and fit the cost-model constants.

    Single-channel cases on a small and a large image separate shift-and-add's fixed cost per
    tap from its cost per pixel; 8-in/8-out channel cases measure conv2d and the spectra mixing.
    """
    single = [
        (torch.randn(1, 1, s, s), torch.randn(1, 1, k, k)) for s in (64, size) for k in kernels
    ]
    multi = [(torch.randn(1, 8, 128, 128), torch.randn(8, 8, k, k)) for k in kernels]
    best = _best_times(single + multi, repeats)
    print(f"valid correlation, float32, best of {repeats} interleaved runs (ms)")
    print(f"{'b,c,h,w':>14} {'n,kh,kw':>8} {'shift':>8} {'conv2d':>8} {'fft':>8}")
    for (x, w), t in zip(single + multi, best, strict=True):
        cells = " ".join(f"{t[m] * 1e3:>8.2f}" for m in ("shift", "conv2d", "fft"))
        print(f"{str(tuple(x.shape)):>14} {w.shape[0]:>2},{w.shape[2]:>2},{w.shape[3]:<2} {cells}")

    def work(x, w):  # (taps, output pixels x taps x channel pairs, FFT points, log2 points)
        (b, c, h, wd), (n, _, kh, kw) = x.shape, w.shape
        pixels = b * (h - kh + 1) * (wd - kw + 1)
        points = fast_length(h) * fast_length(wd)
        return kh * kw, pixels * kh * kw * c * n, points, np.log2(points), b * c + n * c + b * n

    rows = [work(x, w) for x, w in single]
    shift_t = [t["shift"] for t in best[: len(single)]]
    tap, pixel = np.linalg.lstsq(np.array([r[:2] for r in rows], float), shift_t, rcond=None)[0]
    fft_work = np.array([[1.0, r[4] * r[2] * r[3]] for r in rows])
    call, point = np.linalg.lstsq(fft_work, [t["fft"] for t in best[: len(single)]], rcond=None)[0]
    multi_rows, multi_best = [work(x, w) for x, w in multi], best[len(single) :]
    mac = np.median([t["conv2d"] / r[1] for r, t in zip(multi_rows, multi_best, strict=True)])
    mix = np.median(
        [
            (t["fft"] - call - point * r[4] * r[2] * r[3]) / (64 * r[2])
            for r, t in zip(multi_rows, multi_best, strict=True)
        ]
    )
    print(
        f"SHIFT_TAP={tap:.2g} SHIFT_PIXEL={pixel:.2g} CONV2D_MAC={mac:.2g} "
        f"FFT_CALL={call:.2g} FFT_POINT={point:.2g} FFT_MIX={mix:.2g}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--kernels", type=int, nargs="+", default=[3, 5, 15, 31])
    parser.add_argument("--modes", nargs="+", default=["same", "valid"])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--calibrate", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.calibrate:
        kernels = args.kernels if args.kernels != [3, 5, 15, 31] else [3, 5, 7, 9, 11, 15, 21, 31]
        calibrate(args.size, kernels, args.repeats)
    else:
        compare(args.size, args.kernels, args.modes, args.repeats)


if __name__ == "__main__":
    main()
