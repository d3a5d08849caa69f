"""fit throughput on a GPU: cnnkit vs hand-written PyTorch for lenet5, small_cnn and resnet, in
float32, bfloat16 autocast and channels-last memory.

Run: python3 bench/bench_gpu_fit.py [--device cuda] [--repeats 5] [--json results.json]
Smoke run on a CPU: python3 bench/bench_gpu_fit.py --device cpu --quick

Fashion-MNIST (60,000 training images; padded to 32x32 for LeNet-5), batch 128, Adam, one
epoch per measurement. Both sides get the images and labels as tensors already on the device
(cnnkit NHWC as its users pass them, the hand-written loop NCHW). The hand-written loop is the
fast PyTorch idiom: a randperm on the device per epoch, one gather per batch, logits with
F.cross_entropy, ``torch.optim.Adam`` as a user writes it. cnnkit compiles with
sparse_categorical_crossentropy and the accuracy metric, as the lecture does. Modes:

- float32: both in float32 (PyTorch's default TF32 settings, the same for both).
- bfloat16: ``cnnkit.config.set_precision("bfloat16")`` against the loop under
  ``torch.autocast(dtype=torch.bfloat16)``.
- channels_last: float32, the hand-written model and images in ``torch.channels_last``
  memory. cnnkit runs as in float32: its NHWC images are channels-last memory already.

Epochs are timed with ``torch.cuda.synchronize()`` on both ends, interleaved (each round starts
with the other side), the first round is a warm-up and is dropped, and the median is reported.
Without the dataset files (a machine with no copy and no network) random images of the same
shape are used, and the output says so: throughput does not depend on the pixel values.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
import hand_models  # noqa: E402

import cnnkit  # noqa: E402

MODELS: dict[str, tuple[int, Callable[[], cnnkit.Model], Callable[[], torch.nn.Module]]] = {
    # name: (image size, cnnkit model, hand-written model)
    "lenet5": (32, lambda: cnnkit.zoo.get("lenet5"), hand_models.LeNet5),
    "small_cnn": (28, lambda: cnnkit.zoo.get("small_cnn"), hand_models.SmallCnn),
    "resnet": (
        28,
        lambda: cnnkit.zoo.get("resnet", input_shape=(28, 28, 1)),
        hand_models.ResNet,
    ),
}
MODES = ("float32", "bfloat16", "channels_last")


def fashion(train_size: int) -> tuple[np.ndarray, np.ndarray, str]:
    """(uint8 images (n, 28, 28), int64 labels, where they came from)."""
    try:
        (x, y), _ = cnnkit.datasets.fashion_mnist.load_data()
        source = "Fashion-MNIST"
    except (FileNotFoundError, OSError) as error:
        print(f"note: Fashion-MNIST not found ({str(error).splitlines()[0]}); random images")
        rng = np.random.default_rng(0)
        x = rng.integers(0, 256, (60000, 28, 28), dtype=np.uint8)
        y, source = rng.integers(0, 10, 60000), "random images of Fashion-MNIST's shape"
    return x[:train_size], y[:train_size].astype(np.int64), source


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def hand_written_epoch(model, optimizer, x, y, batch: int, mode: str) -> None:
    """One epoch of the PyTorch idiom on tensors already on the device."""
    model.train()
    autocast = torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=mode == "bfloat16")
    order = torch.randperm(len(x), device=x.device)
    for start in range(0, len(x), batch):
        index = order[start : start + batch]
        xb, yb = x[index], y[index]
        if mode == "channels_last":
            xb = xb.contiguous(memory_format=torch.channels_last)
        optimizer.zero_grad(set_to_none=True)
        with autocast:
            logits = model(xb)
        F.cross_entropy(logits.float(), yb).backward()
        optimizer.step()


def contenders(name: str, mode: str, images: torch.Tensor, labels: torch.Tensor, batch: int):
    """{'cnnkit': epoch function, 'hand-written': epoch function} for one model and mode."""
    size, make_ours, make_theirs = MODELS[name]
    device = images.device
    pad = (size - images.shape[1]) // 2
    nhwc = F.pad(images, (pad, pad, pad, pad))[..., None] if pad else images[..., None]
    nchw = nhwc.permute(0, 3, 1, 2)
    nchw = nchw.contiguous(
        memory_format=torch.channels_last if mode == "channels_last" else torch.contiguous_format
    )
    cnnkit.config.set_precision("bfloat16" if mode == "bfloat16" else "float32")
    ours = make_ours()
    ours.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    theirs = make_theirs().to(device)
    if mode == "channels_last":
        theirs = theirs.to(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(theirs.parameters(), lr=1e-3, eps=1e-7)
    return {
        "cnnkit": lambda: ours.fit(nhwc, labels, batch_size=batch, epochs=1, verbose=0),
        "hand-written": lambda: hand_written_epoch(theirs, optimizer, nchw, labels, batch, mode),
    }


def measure(jobs: dict[str, Callable[[], object]], repeats: int, device: torch.device) -> dict:
    """Median seconds per epoch of each job over ``repeats`` interleaved rounds (+1 warm-up)."""
    times: dict[str, list[float]] = {name: [] for name in jobs}
    names = list(jobs)
    for round_ in range(repeats + 1):
        for name in names[round_ % 2 :] + names[: round_ % 2]:
            synchronize(device)
            started = time.perf_counter()
            jobs[name]()
            synchronize(device)
            if round_:
                times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = "cuda" if torch.cuda.is_available() else "cpu"
    parser.add_argument("--device", default=default)
    parser.add_argument("--quick", action="store_true", help="256 images, 1 repeat (a smoke run)")
    parser.add_argument("--train-size", type=int, default=60000)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--max-seconds", type=float, default=210.0, help="skip what is left after")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    if args.quick:
        args.train_size, args.repeats = min(args.train_size, 256), 1
    device = torch.device(args.device)
    cnnkit.config.set_device(str(device))
    if device.type == "cpu":
        torch.set_num_threads(2)
    x, y, source = fashion(args.train_size)
    images = torch.from_numpy(x).to(device).float().div_(255)
    labels = torch.from_numpy(y).to(device)
    name_of_device = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(
        f"torch {torch.__version__}, {name_of_device}, {len(x)} {source}, batch "
        f"{args.batch_size}, {args.repeats} repeats (median)"
    )
    print("\n| model | mode | cnnkit img/s | hand-written img/s | cnnkit / hand-written |")
    print("|---|---|---:|---:|---:|")
    began, results = time.perf_counter(), []
    for name in args.models.split(","):
        for mode in args.modes.split(","):
            if time.perf_counter() - began > args.max_seconds:
                print(f"| {name} | {mode} | skipped: past --max-seconds | | |")
                results.append({"model": name, "mode": mode, "skipped": True})
                continue
            torch.manual_seed(0)
            jobs = contenders(name, mode, images, labels, args.batch_size)
            medians = measure(jobs, args.repeats, device)
            ours, theirs = (len(x) / medians[k] for k in ("cnnkit", "hand-written"))
            print(f"| {name} | {mode} | {ours:,.0f} | {theirs:,.0f} | {ours / theirs:.2f} |")
            results.append({"model": name, "mode": mode, "cnnkit": ours, "hand": theirs})
    cnnkit.config.set_precision("float32")
    print(f"\n{time.perf_counter() - began:.0f} s in all")
    if args.json:
        args.json.write_text(json.dumps({"device": name_of_device, "results": results}, indent=1))


if __name__ == "__main__":
    main()
