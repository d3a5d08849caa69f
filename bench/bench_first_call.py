"""First-call latency: a fresh process's first fit, evaluate and predict, cnnkit vs hand-written.

Run: python3 bench/bench_first_call.py [--rounds 5] [--contenders cnnkit,torch] [--batches 21]
[--eval-batches 10]
Each measurement is a fresh Python process (``--child NAME``) that imports its library, makes
Fashion-MNIST-shaped arrays (21 batches of 128 images of 32x32x1, random values: the data are
not the point), then times its first ``fit`` (building the model and the optimizer included,
both sides), first ``evaluate`` and first ``predict`` (10 batches each), and a second ``fit``
of the same size (the steady state, to tell one-time costs from per-step costs). The
hand-written contender is LeNet-5 in channels-last PyTorch (``torch.optim.Adam``, logits with
``F.cross_entropy``), which is what cnnkit runs underneath. Rounds interleave the contenders,
each round starting with another one; medians of wall and CPU time (``time.process_time``:
less sensitive to other jobs on a shared machine) are printed with cnnkit's excess over the
hand-written loop. The contender ``cnnkit-jit`` runs cnnkit with ``jit_compile=True``, ``cnnkit-auto`` with
``jit_compile='auto'``.
``--batches 469`` makes each fit one epoch of 60,000 images, warm-up included (the compiled
training target); with ``--eval-batches 79`` evaluate and predict see 10,000 images, and the
table's ratios are the issue's train and predict leads over channels-last PyTorch.
One thread by default (``--threads``): on a loaded machine two OpenMP threads spin-wait for
each other and a LeNet-5 step's CPU time grows from about 17 ms to 300 ms, which buries the
one-time costs this measures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

BATCH = 128
#: Batches per evaluate and predict (``--eval-batches``: 79 is the 10,000-image test set).
EVAL_BATCHES = int(os.environ.get("BENCH_EVAL_BATCHES", "10"))
#: Training batches per fit (``--batches``: 469 is one epoch of 60,000 images).
BATCHES = int(os.environ.get("BENCH_BATCHES", "21"))
PHASES = ("import", "fit", "evaluate", "predict", "fit again")
THREADS = int(os.environ.get("BENCH_THREADS", "1"))
# LeNet-5's multiply-adds per 32x32x1 image: conv 5x5x1->6 on 28x28, conv 5x5x6->16 on 10x10,
# dense 400->120->84->10 (pooling and activations are not multiply-adds).
LENET5_MACS = 28 * 28 * 6 * 25 + 10 * 10 * 16 * 150 + 400 * 120 + 120 * 84 + 84 * 10
# A training step: the forward, the input gradients and the weight gradients, each about the
# forward's multiply-adds, two floating-point operations each.
TRAIN_FLOP_PER_IMAGE = 3 * 2 * LENET5_MACS


def clocks() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def lap(marks: dict, name: str, start: tuple[float, float]) -> tuple[float, float]:
    now = clocks()
    marks[name] = (now[0] - start[0], now[1] - start[1])
    return now


def arrays(np):
    rng = np.random.default_rng(0)
    x = rng.random((BATCHES * BATCH, 32, 32, 1), dtype=np.float32)
    return x, rng.integers(0, 10, len(x)).astype(np.int64)


def run_cnnkit(jit_compile: bool | str) -> dict:
    marks, start = {}, clocks()
    import numpy as np
    import torch

    import cnnkit

    torch.set_num_threads(THREADS)
    start = lap(marks, "import", start)
    x, y = arrays(np)
    evaluated = slice(0, EVAL_BATCHES * BATCH)
    start = clocks()
    model = cnnkit.zoo.lenet5()
    model.compile(
        optimizer="adam",
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        jit_compile=jit_compile,
    )
    model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
    start = lap(marks, "fit", start)
    model.evaluate(x[evaluated], y[evaluated], batch_size=BATCH, verbose=0)
    start = lap(marks, "evaluate", start)
    model.predict(x[evaluated], batch_size=BATCH, verbose=0)
    start = lap(marks, "predict", start)
    model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
    lap(marks, "fit again", start)
    return marks


def run_torch() -> dict:
    marks, start = {}, clocks()
    import numpy as np
    import torch
    import torch.nn.functional as F
    from torch import nn

    torch.set_num_threads(THREADS)
    start = lap(marks, "import", start)
    x_numpy, y_numpy = arrays(np)
    start = clocks()

    class LeNet5(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1, self.conv2 = nn.Conv2d(1, 6, 5), nn.Conv2d(6, 16, 5)
            self.fc1, self.fc2, self.fc3 = (
                nn.Linear(400, 120),
                nn.Linear(120, 84),
                nn.Linear(84, 10),
            )

        def forward(self, x):  # x: (N, 32, 32, 1), channels-last, as cnnkit takes it
            x = x.permute(0, 3, 1, 2)
            x = F.avg_pool2d(torch.tanh(self.conv1(x)), 2)
            x = F.avg_pool2d(torch.tanh(self.conv2(x)), 2)
            x = x.permute(0, 2, 3, 1).flatten(1)
            return self.fc3(torch.relu(self.fc2(torch.relu(self.fc1(x)))))

    def epoch(model, optimizer, x, y):
        model.train()
        order = torch.randperm(len(x))
        for first in range(0, len(x), BATCH):
            index = order[first : first + BATCH]
            optimizer.zero_grad(set_to_none=True)
            F.cross_entropy(model(x[index]), y[index]).backward()
            optimizer.step()

    model = LeNet5().to(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    x, y = torch.from_numpy(x_numpy), torch.from_numpy(y_numpy)
    epoch(model, optimizer, x, y)
    start = lap(marks, "fit", start)
    model.eval()
    with torch.inference_mode():
        loss = correct = 0.0
        for first in range(0, EVAL_BATCHES * BATCH, BATCH):
            logits = model(x[first : first + BATCH])
            loss += float(F.cross_entropy(logits, y[first : first + BATCH], reduction="sum"))
            correct += float((logits.argmax(1) == y[first : first + BATCH]).sum())
    start = lap(marks, "evaluate", start)
    with torch.inference_mode():
        parts = [model(x[s : s + BATCH]).softmax(1) for s in range(0, EVAL_BATCHES * BATCH, BATCH)]
        torch.cat(parts).numpy()
    start = lap(marks, "predict", start)
    epoch(model, optimizer, x, y)
    lap(marks, "fit again", start)
    return marks


CHILDREN = {
    "cnnkit": lambda: run_cnnkit(False),
    "cnnkit-jit": lambda: run_cnnkit(True),
    "cnnkit-auto": lambda: run_cnnkit("auto"),
    "torch": run_torch,
}


def child_environment() -> dict[str, str]:
    """The environment with byte-code caching on, as in an installed package (a checkout run
    with PYTHONDONTWRITEBYTECODE=1 compiles every module of cnnkit at each import), the cache
    kept in a temporary folder rather than next to the sources."""
    environment = dict(os.environ)
    environment.pop("PYTHONDONTWRITEBYTECODE", None)
    prefix = os.path.join(tempfile.gettempdir(), "cnnkit-bench-pycache")
    environment.setdefault("PYTHONPYCACHEPREFIX", prefix)
    return environment


def fresh(name: str) -> dict:
    """One fresh process's timings for ``name``: {phase: (wall s, cpu s)}."""
    command = [sys.executable, __file__, "--child", name]
    done = subprocess.run(
        command, capture_output=True, text=True, check=True, env=child_environment()
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def peak_gflops(threads: int) -> float:
    """The machine's measured float32 peak at ``threads`` threads: the best of a few large
    matrix products (oneDNN/MKL's GEMM is as close to the cores' limit as PyTorch gets)."""
    import torch

    torch.set_num_threads(threads)
    a, b = torch.rand(2048, 2048), torch.rand(2048, 2048)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(10):
        start = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - start)
    return 2 * 2048**3 / best / 1e9


def report(results: dict[str, list[dict]], peak: float, batches: int) -> None:
    """A markdown table: median wall / CPU seconds per phase, and cnnkit's excess over torch."""
    medians = {
        name: {p: [statistics.median(r[p][i] for r in runs) for i in (0, 1)] for p in PHASES}
        for name, runs in results.items()
    }
    print("| contender | " + " | ".join(f"{p} wall / cpu" for p in PHASES) + " |")
    print("|---|" + "---:|" * len(PHASES))
    for name, phases in medians.items():
        cells = [f"{w:.2f} / {c:.2f}" for w, c in phases.values()]
        print(f"| {name} | " + " | ".join(cells) + " |")
    if "torch" in medians:
        base = medians["torch"]
        for name in (n for n in medians if n != "torch"):
            cells = [
                f"{medians[name][p][0] - base[p][0]:+.2f} / {medians[name][p][1] - base[p][1]:+.2f}"
                for p in PHASES
            ]
            print(f"| {name} - torch | " + " | ".join(cells) + " |")
    images = batches * BATCH
    print(
        f"\nTraining arithmetic: {TRAIN_FLOP_PER_IMAGE / 1e6:.2f} MFLOP per image; the "
        f"machine's measured float32 peak (2048x2048 matrix product): {peak:.0f} GFLOP/s"
    )
    print(
        "| contender | first fit vs torch | fit again vs torch | predict vs torch "
        "| GFLOP/s first fit | GFLOP/s fit again (share of peak) |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for name, phases in medians.items():
        ratios = [
            f"{medians['torch'][p][0] / phases[p][0]:.2f}x" if "torch" in medians else "-"
            for p in ("fit", "fit again", "predict")
        ]
        first = images * TRAIN_FLOP_PER_IMAGE / phases["fit"][0] / 1e9
        again = images * TRAIN_FLOP_PER_IMAGE / phases["fit again"][0] / 1e9
        print(
            f"| {name} | "
            + " | ".join(ratios)
            + f" | {first:.1f} | {again:.1f} ({again / peak:.1%}) |"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--contenders", default="cnnkit,torch")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batches", type=int, default=21)
    parser.add_argument("--eval-batches", type=int, default=10)
    parser.add_argument("--child", choices=sorted(CHILDREN))
    args = parser.parse_args()
    if args.child:
        print(json.dumps(CHILDREN[args.child]()))
        return
    os.environ["BENCH_THREADS"] = str(args.threads)
    os.environ["BENCH_BATCHES"] = str(args.batches)
    if not 1 <= args.eval_batches <= args.batches:
        parser.error(f"--eval-batches must be 1 to --batches ({args.batches}): {args.eval_batches}")
    os.environ["BENCH_EVAL_BATCHES"] = str(args.eval_batches)
    names = args.contenders.split(",")
    results: dict[str, list[dict]] = {name: [] for name in names}
    for name in names:  # warm-up, not counted: fills the byte-code cache
        fresh(name)
    for round_ in range(args.rounds):
        order = names[round_ % len(names) :] + names[: round_ % len(names)]
        for name in order:
            results[name].append(fresh(name))
    print(
        f"{args.rounds} rounds, {args.batches} batches of {BATCH}, {args.threads} thread(s), load average {os.getloadavg()[0]:.1f} at the end"
    )
    report(results, peak_gflops(args.threads), args.batches)


if __name__ == "__main__":
    main()
