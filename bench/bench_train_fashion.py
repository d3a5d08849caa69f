"""The main job's results target: ``cnnkit train --dataset fashion_mnist`` with its defaults.

Run: python3 bench/bench_train_fashion.py [--epochs N] [--threads T] [--seed S] [--out DIR]

Runs the command exactly as a user would (a fresh process, this checkout's cnnkit) and reports
test accuracy, wall time, CPU time and the load average sampled during the run. On a shared
machine the wall time is inflated by the other processes. With ``--threads 1`` the CPU time is
the work itself (nothing to wait for), and an upper bound of the wall time on an idle machine
with one core or more. With several threads on a loaded machine the CPU time also counts
threads spinning while they wait for each other (measured: 4x the single-thread figure at load
7), so it estimates nothing. Results: README_train.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EPOCH_LINE = re.compile(r"^\d+/\d+ - (\d+)s - .*val_accuracy: ([0-9.]+)")


def sample_load(samples: list[float], stop: threading.Event) -> None:
    """Append the 1-minute load average every 10 s until ``stop`` is set."""
    while not stop.wait(10):
        samples.append(os.getloadavg()[0])


def run_training(args: argparse.Namespace) -> tuple[float, float, list[str]]:
    """Run ``cnnkit train``, echoing its output; returns (wall s, CPU s, output lines)."""
    command = [sys.executable, "-m", "cnnkit", "train", "--dataset", "fashion_mnist"]
    command += ["--out", args.out, "--overwrite"]
    if args.epochs:
        command += ["--epochs", str(args.epochs)]
    if args.seed is not None:
        command += ["--seed", str(args.seed)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if args.threads:
        env["OMP_NUM_THREADS"] = str(args.threads)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env, bufsize=1)
    lines = []
    for line in process.stdout:
        print(line, end="", flush=True)
        lines.append(line.rstrip("\n"))
    if process.wait() != 0:
        raise SystemExit(f"cnnkit train failed with exit code {process.returncode}")
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, help="default: the dataset's recipe")
    parser.add_argument("--out", default="runs/bench-fashion_mnist")
    parser.add_argument("--threads", type=int, help="OMP_NUM_THREADS (default: all cores)")
    parser.add_argument("--seed", type=int, help="cnnkit train --seed (default: its own, 0)")
    args = parser.parse_args()
    loads, stop = [os.getloadavg()[0]], threading.Event()
    sampler = threading.Thread(target=sample_load, args=(loads, stop), daemon=True)
    sampler.start()
    wall, cpu, lines = run_training(args)
    stop.set()
    state = json.loads((Path(args.out) / "run.json").read_text())
    epochs = [int(match.group(1)) for match in map(EPOCH_LINE.match, lines) if match]
    threads = args.threads or os.cpu_count() or 1
    estimate = (
        f"idle-machine wall <= {cpu:.0f} s (one thread's work)"
        if threads == 1
        else "no idle-machine estimate with several threads (run with --threads 1)"
    )
    print("\n--- results ---")
    print(
        f"settings: {json.dumps(state['settings'])}, model {state['model']}, {state['epochs']} epochs"
    )
    print(f"test accuracy: {state['test_accuracy']:.4f}")
    print(f"wall: {wall:.0f} s; CPU: {cpu:.0f} s with {threads} thread(s); {estimate}")
    print(f"epoch wall times (s): {epochs}")
    print(
        f"load average during the run: min {min(loads):.1f}, mean {sum(loads) / len(loads):.1f}, max {max(loads):.1f}"
    )


if __name__ == "__main__":
    main()
