"""What on-the-fly augmentation costs a training step: LeNet-5 with and without augmentation.

Run: python3 bench/bench_augment.py  (2 threads; prints ms per step, images/s and overhead)
A training step is forward + cross-entropy on the output + backward + torch.optim.Adam step,
on float batches of 128 32x32x3 images. The augmented step puts RandomFlip and
RandomTranslation(0.1, 0.1) in front of the same network, one after the other in a
``torch.nn.Sequential`` (cnnkit's Sequential runs the pair as one pass: see
bench_augment_fit.py). Runs of both are interleaved and
the median of each is reported (wall clock, and the process's CPU time, which a shared
machine disturbs less); the augmentation alone is timed the same way.
Target: augmentation costs <= 10% more time per step.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

import torch
from torch import nn

import cnnkit
from cnnkit.layers._augment_geometric import RandomFlip, RandomTranslation


def training_step(model: nn.Module, augment: nn.Module | None, optimizer, x, y) -> None:
    inputs = augment(x) if augment is not None else x
    probabilities = model(inputs)
    loss = nn.functional.nll_loss(torch.log(probabilities.clamp_min(1e-7)), y)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()


def time_block(run: Callable[[], None], steps: int) -> tuple[float, float]:
    """Wall-clock and process CPU seconds per call of ``run``, averaged over ``steps`` calls."""
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(steps):
        run()
    return (time.perf_counter() - wall) / steps, (time.process_time() - cpu) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=40, help="interleaved rounds")
    parser.add_argument("--steps", type=int, default=3, help="steps per timed block")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    model = cnnkit.zoo.get("lenet5", input_shape=(32, 32, 3)).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    flip, translation = RandomFlip(seed=0), RandomTranslation(0.1, 0.1, seed=0)
    augment = nn.Sequential(flip, translation).train()
    x = torch.rand(args.batch, 32, 32, 3)
    y = torch.randint(0, 10, (args.batch,))

    runs: dict[str, Callable[[], None]] = {
        "train step": lambda: training_step(model, None, optimizer, x, y),
        "train step + augmentation": lambda: training_step(model, augment, optimizer, x, y),
        "RandomFlip alone": lambda: flip(x),
        "RandomTranslation alone": lambda: translation(x),
    }
    for run in runs.values():  # warm-up: allocator, Adam state, kernels
        time_block(run, 3)
    load_before = os.getloadavg()[0]
    walls: dict[str, list[float]] = {name: [] for name in runs}
    cpus: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.rounds):
        for name, run in runs.items():
            wall, cpu = time_block(run, args.steps)
            walls[name].append(wall)
            cpus[name].append(cpu)

    print(
        f"torch {torch.__version__}, threads {torch.get_num_threads()}, batch {args.batch}, ",
        end="",
    )
    print(f"{args.rounds} interleaved rounds of {args.steps} steps, load average ", end="")
    print(f"{load_before:.1f} -> {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    base_wall = statistics.median(walls["train step"])
    base_cpu = statistics.median(cpus["train step"])
    print(
        f"{'run (medians)':<28} {'ms/step':>8} {'images/s':>9} {'wall vs step':>13} {'CPU vs step':>12}"
    )
    for name in runs:
        wall, cpu = statistics.median(walls[name]), statistics.median(cpus[name])
        if name == "train step":
            wall_note = cpu_note = ""
        elif name.startswith("train"):
            wall_note = f"{100 * (wall - base_wall) / base_wall:+.1f}%"
            cpu_note = f"{100 * (cpu - base_cpu) / base_cpu:+.1f}%"
        else:
            wall_note, cpu_note = f"{100 * wall / base_wall:.1f}%", f"{100 * cpu / base_cpu:.1f}%"
        print(
            f"{name:<28} {1000 * wall:>8.2f} {args.batch / wall:>9.0f} {wall_note:>13} {cpu_note:>12}"
        )


if __name__ == "__main__":
    main()
