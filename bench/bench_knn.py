"""k-NN on Fashion-MNIST: cnnkit.neighbors against scikit-learn's brute force, side by side.

60,000 training images; L2 on 10,000 test images and L1 on 2,000 (sklearn's L1 is slow), with
k=5, uniform weights. Both libraries get the same thread budget (default 2: torch/numba via
torch.set_num_threads, sklearn via threadpoolctl, which caps its OpenMP and BLAS pools).

Each measurement runs in a fresh child process so its peak memory (Linux VmHWM, reset after
the data is loaded) belongs to it alone; runs are interleaved (cnnkit, sklearn, cnnkit) so
load from other processes on a shared machine hits both sides alike. Also reported: cnnkit on
float32 pixels standardised per pixel (off the 8-bit grid: float32 screening path).

    python bench/bench_knn.py                  # full run, about 5 minutes on 2 cores
    python bench/bench_knn.py --l2-test 2000 --l1-test 500   # quicker
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

DATA = Path("/usr/share/datasets/fashion-mnist")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # this checkout's cnnkit


def read_idx(name: str, offset: int) -> np.ndarray:
    """Read a gzipped IDX file: images have a 16-byte header, labels an 8-byte one."""
    with gzip.open(DATA / name) as stream:
        return np.frombuffer(stream.read(), dtype=np.uint8, offset=offset)


def load(n_test: int, standardise: bool) -> tuple[np.ndarray, ...]:
    """Fashion-MNIST as (x_train (60000, 28, 28), y_train, x_test, y_test)."""
    x_train = read_idx("train-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28)
    y_train = read_idx("train-labels-idx1-ubyte.gz", 8)
    x_test = read_idx("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28)[:n_test]
    y_test = read_idx("t10k-labels-idx1-ubyte.gz", 8)[:n_test]
    if standardise:
        mean, std = x_train.mean(0), x_train.std(0) + 1.0
        x_train = ((x_train - mean) / std).astype(np.float32)
        x_test = ((x_test - mean) / std).astype(np.float32)
    return x_train, y_train, x_test, y_test


def peak_rss_reset() -> None:
    """Reset the kernel's peak-RSS counter (VmHWM) of this process."""
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")


def rss_mib(field: str) -> float:
    """VmRSS (now) or VmHWM (peak since the last reset) of this process, in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child(library: str, metric: str, n_test: int, threads: int, data: str, out: str) -> None:
    """One measurement: fit + predict, printing a JSON line with time, accuracy and memory."""
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(threads)
    x_train, y_train, x_test, y_test = load(n_test, standardise=data == "standardised")
    if library == "cnnkit":
        from cnnkit.neighbors import KNeighborsClassifier

        model = KNeighborsClassifier(5, metric=metric)
    else:
        from sklearn.neighbors import KNeighborsClassifier

        sk_metric = {"l2": "euclidean", "l1": "manhattan"}[metric]
        model = KNeighborsClassifier(5, metric=sk_metric, algorithm="brute", n_jobs=1)
        x_train, x_test = x_train.reshape(len(x_train), -1), x_test.reshape(len(x_test), -1)
    before = rss_mib("VmRSS")
    peak_rss_reset()
    with threadpool_limits(limits=threads):
        start = time.perf_counter()
        predicted = model.fit(x_train, y_train).predict(x_test)
        seconds = time.perf_counter() - start
    np.save(out, predicted)
    result = {
        "seconds": seconds,
        "accuracy": float(np.mean(predicted == y_test)),
        "peak_mib": rss_mib("VmHWM"),
        "extra_mib": rss_mib("VmHWM") - before,
    }
    print(json.dumps(result))


def measure(library: str, metric: str, n_test: int, threads: int, data: str = "uint8") -> dict:
    """Run one measurement in a fresh interpreter and return its results."""
    with tempfile.TemporaryDirectory() as folder:
        out = os.path.join(folder, "predicted.npy")
        args = [library, metric, str(n_test), str(threads), data, out]
        command = [sys.executable, __file__, "--child", *args]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        result = json.loads(done.stdout.strip().splitlines()[-1])
        result["predicted"] = np.load(out)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--l2-test", type=int, default=10_000, help="test images for L2")
    parser.add_argument("--l1-test", type=int, default=2_000, help="test images for L1")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--child", nargs=6, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        library, metric, n_test, threads, data, out = args.child
        child(library, metric, int(n_test), int(threads), data, out)
        return
    measure("cnnkit", "l1", 20, args.threads)  # warm-up: numba compiles into its cache once
    rows = []
    for metric, n_test in (("l2", args.l2_test), ("l1", args.l1_test)):
        first = measure("cnnkit", metric, n_test, args.threads)
        sklearn = measure("sklearn", metric, n_test, args.threads)
        second = measure("cnnkit", metric, n_test, args.threads)
        floats = measure("cnnkit", metric, n_test, args.threads, data="standardised")
        best = min(first, second, key=lambda r: r["seconds"])
        agreement = float(np.mean(best["predicted"] == sklearn["predicted"]))
        for name, result in (
            ("sklearn brute", sklearn),
            ("cnnkit (1st)", first),
            ("cnnkit (2nd)", second),
            ("cnnkit float32*", floats),
        ):
            ratio = sklearn["seconds"] / result["seconds"]
            rows.append((metric, n_test, name, result, ratio, agreement))
    print(f"Fashion-MNIST, 60000 train images, k=5, {args.threads} threads; fit + predict")
    header = f"{'metric':<7}{'test':>6}  {'library':<16}{'seconds':>9}{'speed-up':>9}"
    print(header + f"{'accuracy':>10}{'peak MiB':>10}{'+MiB':>7}{'agree':>8}")
    for metric, n_test, name, result, ratio, agreement in rows:
        agree = f"{agreement:.4f}" if name.startswith("cnnkit (") else "-"
        print(
            f"{metric:<7}{n_test:>6}  {name:<16}{result['seconds']:>9.2f}{ratio:>8.1f}x"
            f"{result['accuracy']:>10.4f}{result['peak_mib']:>10.0f}{result['extra_mib']:>7.0f}"
            f"{agree:>8}"
        )
    print("* float32 pixels standardised per pixel: off the 8-bit grid, float32 screening path.")
    print("speed-up = sklearn seconds / these seconds; agree = share of equal predictions;")
    print("+MiB = peak RSS growth during fit + predict over the loaded data (VmHWM).")


if __name__ == "__main__":
    main()
