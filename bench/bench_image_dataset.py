"""image_dataset_from_directory on a folder of small JPEGs: fit's first epoch against decoding
the same files with Pillow in a plain Python loop, cached epochs against the first, and the
memory an uncached pass holds.

Run: python3 bench/bench_image_dataset.py [--images 20000] [--classes 5] [--size 64]
                                          [--batch 32] [--threads 2] [--workers N]
                                          [--rounds 5]
Writes ``--images`` random ``--size`` x ``--size`` JPEGs in ``--classes`` class folders under
a temporary folder (removed at the end). Then, in one process, interleaved:

1. the reference: each file opened with Pillow, converted to RGB and made a float32 array,
   in a plain loop (no labels, no batches, no resize, no safety checks: a lower bound on the
   work), before and after the rest; against it ``model.fit(ds, epochs=1)`` of a tiny model
   (Rescaling, global average pooling, Dense; after a warm-up fit on arrays) with the
   default decoding (worker processes; ``--workers`` sets their number), and with
   ``num_workers=0`` (one thread), and the bare passes over the dataset (decoding alone) with
   the worker processes, with one thread, and with the same batches read in a pool of
   threads (the loader's former default, built here from its parts).
   **Target: fit's first epoch no slower than the plain loop (ratio <= 1).** The target's pair
   is timed in ``--rounds`` rounds first (a plain loop and a first epoch each, the order
   alternating), and the median of the rounds' ratios printed.
2. ``fit(ds.cache(), epochs=3)``: the later epochs against the first.
   **Target: >= 5x faster.**
3. the peak resident memory over an uncached fit epoch, above what the process held before it,
   sampled from /proc every 2 ms, against one batch of float32 images and against the whole set;
   and the peak private memory (Private_Clean + Private_Dirty of /proc/<pid>/smaps_rollup:
   what a forked worker does not share with this process) of the worker processes together.
   **Target: a few batches.**
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import statistics
import tempfile
import threading
import time

import numpy as np
import torch
from PIL import Image

import cnnkit
from cnnkit._parallel import ordered_map
from cnnkit.utils import _image_dataset


def write_images(root: str, count: int, classes: int, size: int) -> None:
    """Random smooth images (8x8 noise scaled up), JPEG quality 90, in class folders."""
    rng = np.random.default_rng(0)
    for i in range(count):
        folder = os.path.join(root, f"class_{i % classes}")
        os.makedirs(folder, exist_ok=True)
        noise = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
        Image.fromarray(noise).resize((size, size)).save(f"{folder}/{i:06d}.jpg", quality=90)


def plain_loop(files: list[str]) -> float:
    """Seconds to decode every file with Pillow into float32 arrays, one after another."""
    start = time.perf_counter()
    for path in files:
        with Image.open(path) as image:
            np.asarray(image.convert("RGB"), dtype=np.float32)
    return time.perf_counter() - start


def timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def tiny_model(size: int, classes: int) -> cnnkit.Sequential:
    """Rescaling, global average pooling and Dense: a step costs little next to decoding, so
    the epoch's time is the data pipeline's."""
    model = cnnkit.Sequential(
        [
            cnnkit.Input(shape=(size, size, 3)),
            cnnkit.layers.Rescaling(1 / 255),
            cnnkit.layers.GlobalAveragePooling2D(),
            cnnkit.layers.Dense(classes, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def warm_up(size: int, classes: int, batch: int) -> None:
    """One fit on arrays first, so that no timed epoch pays PyTorch's one-time set-up."""
    x = np.zeros((4 * batch, size, size, 3), np.float32)
    y = np.arange(4 * batch) % classes
    tiny_model(size, classes).fit(x, y, batch_size=batch, epochs=1, verbose=0)


class EpochTimes(cnnkit.callbacks.Callback):
    """Wall time of each epoch."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self._start)


def thread_pass(files: list[str], size: int, batch: int, workers: int) -> float:
    """Seconds to read the batches of ``files`` in ``workers`` threads and make them float32
    batches, as the loader did before it used processes."""
    loader = _image_dataset._ImageLoader("rgb", (size, size), "bilinear", False, False)
    read = functools.partial(_image_dataset.read_pixels, "rgb")

    def one_batch(paths):
        return loader(read(paths))

    chunks = [files[i : i + batch] for i in range(0, len(files), batch)]
    return timed(lambda: [None for _ in ordered_map(one_batch, chunks, workers)])


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def children_private_bytes() -> int:
    """Memory the child processes hold alone (not shared with this one), from /proc."""
    total = 0
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/children") as file:
                pids = file.read().split()
        except OSError:
            continue
        for pid in pids:
            try:
                with open(f"/proc/{pid}/smaps_rollup") as file:
                    for line in file:
                        if line.startswith(("Private_Clean:", "Private_Dirty:")):
                            total += int(line.split()[1]) * 1024
            except OSError:
                continue  # ended in between
    return total


def peak_memory(function) -> tuple[int, int, float]:
    """(peak RSS above the start, peak private memory of the children, seconds) while
    ``function`` runs; RSS sampled every 2 ms, the children every 20 ms."""
    base, peak, children, done = rss_bytes(), [0], [0], threading.Event()

    def sample():
        count = 0
        while not done.is_set():
            peak[0] = max(peak[0], rss_bytes())
            if count % 10 == 0:
                children[0] = max(children[0], children_private_bytes())
            count += 1
            time.sleep(0.002)

    sampler = threading.Thread(target=sample)
    sampler.start()
    seconds = timed(function)
    done.set()
    sampler.join()
    return max(peak[0], rss_bytes()) - base, children[0], seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=20000)
    parser.add_argument("--classes", type=int, default=5)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    root = tempfile.mkdtemp(prefix="cnnkit_bench_images_")
    try:
        run(root, args)
    finally:
        shutil.rmtree(root)


def run(root: str, args: argparse.Namespace) -> None:
    size, batch, classes = args.size, args.batch, args.classes
    start = time.perf_counter()
    write_images(root, args.images, classes, size)
    print(f"wrote {args.images} JPEGs of {size}x{size} in {time.perf_counter() - start:.1f} s")

    def dataset(**options):
        return cnnkit.utils.image_dataset_from_directory(
            root, image_size=(size, size), batch_size=batch, seed=0, verbose=False, **options
        )

    ds = dataset(num_workers=args.workers) if args.workers is not None else dataset()
    serial = dataset(num_workers=0)
    files = ds.file_paths
    workers = _image_dataset._default_processes(len(files))
    workers = args.workers if args.workers is not None else workers
    print(
        f"load average {os.getloadavg()[0]:.1f}; torch threads {args.threads}; "
        f"{workers} worker processes"
    )
    warm_up(size, classes, batch)

    def fit_epoch(data):
        return timed(lambda: tiny_model(size, classes).fit(data, epochs=1, verbose=0))

    # the target's pair, several rounds, each with its own plain loop and the order alternating,
    # so that the machine's drift (the plain loop alone varies by 20% here) falls on both sides
    ratios = []
    for round_ in range(args.rounds):
        if round_ % 2 == 0:
            pair = plain_loop(files), fit_epoch(ds)
        else:
            fitted = fit_epoch(ds)
            pair = plain_loop(files), fitted
        ratios.append(pair[1] / pair[0])
        print(
            f"round {round_ + 1}: plain loop {pair[0]:.2f} s, fit first epoch {pair[1]:.2f} s, {ratios[-1]:.2f}x"
        )
    print(
        f"fit's first epoch against the plain loop, median of {args.rounds} rounds: {statistics.median(ratios):.2f}x"
    )
    plain = [plain_loop(files)]
    fit_processes = fit_epoch(ds)
    fit_serial = fit_epoch(serial)
    pass_processes = timed(lambda: [None for _ in ds])
    pass_serial = timed(lambda: [None for _ in serial])
    pass_threads = thread_pass(files, size, batch, 2)
    plain.append(plain_loop(files))
    reference = statistics.mean(plain)
    print(f"plain Pillow loop: {plain[0]:.2f} s, {plain[1]:.2f} s (mean {reference:.2f} s)")
    for name, seconds in [
        (f"fit first epoch, {workers} worker processes (default)", fit_processes),
        ("fit first epoch, num_workers=0", fit_serial),
        (f"pass over the dataset, {workers} worker processes", pass_processes),
        ("pass over the dataset, num_workers=0", pass_serial),
        ("the same batches read in 2 threads", pass_threads),
    ]:
        print(f"{name}: {seconds:.2f} s, {seconds / reference:.2f}x the plain loop's time")

    timer = EpochTimes()
    tiny_model(size, classes).fit(ds.cache(), epochs=3, verbose=0, callbacks=[timer])
    first, later = timer.times[0], statistics.mean(timer.times[1:])
    print(
        f"cache(): first epoch {first:.2f} s, later epochs {later:.2f} s: {first / later:.1f}x faster"
    )

    model = tiny_model(size, classes)
    model.fit(ds.take(2), epochs=1, verbose=0)  # allocations of a step made once, before
    growth, children, seconds = peak_memory(lambda: model.fit(ds, epochs=1, verbose=0))
    one_batch = batch * size * size * 3 * 4
    print(
        f"uncached epoch ({seconds:.2f} s): peak RSS +{growth / 2**20:.1f} MiB = "
        f"{growth / one_batch:.1f} batches of float32 images "
        f"({one_batch / 2**20:.2f} MiB each; the whole set {len(files) * one_batch / batch / 2**20:.0f} MiB); "
        f"worker processes' private memory at most {children / 2**20:.1f} MiB together"
    )


if __name__ == "__main__":
    main()
