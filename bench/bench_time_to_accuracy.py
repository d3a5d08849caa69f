"""Time to accuracy of the command line's recipes on real data, as a user runs them.

Run: python3 bench/bench_time_to_accuracy.py [--seeds 3] [--first-seed 0] [--only ROW ...]
                                              [--threads 2] [--out DIR]

Each run is a fresh process (``python -m cnnkit ...`` from this checkout) with
``OMP_NUM_THREADS=--threads``; its wall time counts everything a user waits for: the Python and
torch start, loading the data, training, the test evaluation and the report. Test accuracy is
on the official test set (10,000 Fashion-MNIST images; the 355 held-out embedded digits).

Rows (``--only``):

- ``fashion_mnist``: ``cnnkit train --dataset fashion_mnist`` with its defaults. Target
  >= 93.0% in <= 5 minutes.
- ``fashion_mnist_long``: the longer recipe README_train.md documents,
  ``cnnkit train --dataset fashion_mnist --epochs 40 --width 48`` (the same flips, label
  smoothing, one-cycle schedule and test-time augmentation choice over a longer run of a wider
  small_cnn: 48 and 96 filters). Target >= 94.0%.
- ``demo``: ``cnnkit demo`` on the embedded digits (the small CNN's accuracy, which is fixed by
  its seed 0, so repeats measure time only). Target: keeps its accuracy, under a minute.

Resumable: each finished run is appended to ``DIR/results.json`` at once, and runs already there
(same row and seed) are skipped, so an interrupted table continues where it stopped. Delete the
file (or use another ``--out``) to measure again. Results: README_train.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = "results.json"
#: The small CNN's row of the demo's comparison table: "small_cnn   0.9859   544,810   13s".
DEMO_LINE = re.compile(r"^small_cnn\s+([0-9.]+)\s", re.MULTILINE)
#: Published references (the Fashion-MNIST benchmark table).
REFERENCES = "2-conv net < 100K parameters 92.5%; ResNet-18 94.9%"


@dataclass(frozen=True)
class Row:
    """One line of the table: the command, and the target it is held to."""

    name: str
    arguments: tuple[str, ...]
    target: float  # test accuracy, a fraction
    seconds: float | None  # wall-time limit; None: no time target
    seeded: bool  # whether the command takes --seed
    reference: str


ROWS = {
    row.name: row
    for row in (
        Row(
            "fashion_mnist",
            ("train", "--dataset", "fashion_mnist"),
            0.93,
            300.0,
            True,
            REFERENCES,
        ),
        Row(
            "fashion_mnist_long",
            ("train", "--dataset", "fashion_mnist", "--epochs", "40", "--width", "48"),
            0.94,
            None,
            True,
            REFERENCES,
        ),
        Row("demo", ("demo", "--dataset", "digits"), 0.985, 60.0, False, "small_cnn 98.6-98.9%"),
    )
}


def sample_load(samples: list[float], stop: threading.Event) -> None:
    """Append the 1-minute load average every 10 s until ``stop`` is set."""
    while not stop.wait(10):
        samples.append(os.getloadavg()[0])


def command(row: Row, seed: int, folder: Path) -> list[str]:
    """The command line of one run of ``row``, writing into ``folder``."""
    argv = [sys.executable, "-m", "cnnkit", *row.arguments, "--out", str(folder)]
    if row.arguments[0] == "train":
        argv.append("--overwrite")
    if row.seeded:
        argv += ["--seed", str(seed)]
    return argv


def accuracy_of(row: Row, folder: Path, output: str) -> dict[str, float | None]:
    """Test accuracy of a finished run (and, for ``train``, the same without TTA)."""
    if row.arguments[0] == "train":
        state = json.loads((folder / "run.json").read_text())
        tta = state.get("tta") or {}
        return {
            "accuracy": state["test_accuracy"],
            "accuracy_without_tta": state.get("test_accuracy_without_tta"),
            "tta_on": bool(tta.get("on")),
        }
    match = DEMO_LINE.search(output)
    if match is None:
        raise SystemExit(f"no small_cnn row in the output of {row.name}")
    return {"accuracy": float(match.group(1))}


def measure(row: Row, seed: int, threads: int, out: Path) -> dict[str, object]:
    """Run ``row`` once in a fresh process; its accuracy, wall and CPU seconds and the load."""
    folder = out / "runs" / f"{row.name}-seed{seed}"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "OMP_NUM_THREADS": str(threads)}
    loads, stop = [os.getloadavg()[0]], threading.Event()
    sampler = threading.Thread(target=sample_load, args=(loads, stop), daemon=True)
    sampler.start()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    argv = command(row, seed, folder)
    print("$", " ".join(argv[1:]), flush=True)
    process = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=out)
    wall = time.perf_counter() - start
    stop.set()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if process.returncode != 0:
        print(process.stdout[-3000:], process.stderr[-3000:], sep="\n", file=sys.stderr)
        raise SystemExit(f"{row.name} seed {seed} failed with exit code {process.returncode}")
    return {
        "row": row.name,
        "seed": seed,
        **accuracy_of(row, folder, process.stdout),
        "wall_s": round(wall, 1),
        "cpu_s": round((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 1),
        "threads": threads,
        "load_mean": round(statistics.fmean(loads), 2),
        "load_max": round(max(loads), 2),
        "finished": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def load_results(path: Path) -> list[dict[str, object]]:
    """The runs recorded so far (none when the file does not exist yet)."""
    return json.loads(path.read_text()) if path.is_file() else []


def save_results(path: Path, results: list[dict[str, object]]) -> None:
    """Write the results atomically: a run killed mid-write leaves the previous file."""
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(results, indent=2) + "\n")
    os.replace(temporary, path)


def _mean(values: list[float]) -> str:
    if not values:
        return "-"
    spread = f" ± {statistics.stdev(values):.2%}" if len(values) > 1 else ""
    return f"{statistics.fmean(values):.2%}{spread}"


def table(results: list[dict[str, object]], names: list[str]) -> str:
    """The Markdown table: mean test accuracy and wall time per row, against the targets."""
    lines = [
        "| row | command | runs | test accuracy (mean) | without TTA | wall (mean) | load "
        "| target | met | published |",
        "|---|---|---:|---:|---:|---:|---:|---|---|---|",
    ]
    for name in names:
        row, runs = ROWS[name], [r for r in results if r["row"] == name]
        accuracies = [float(r["accuracy"]) for r in runs]
        plain = [float(r["accuracy_without_tta"]) for r in runs if r.get("accuracy_without_tta")]
        walls = [float(r["wall_s"]) for r in runs]
        wall = f"{statistics.fmean(walls):.0f} s" if walls else "-"
        load = f"{statistics.fmean(float(r['load_mean']) for r in runs):.1f}" if runs else "-"
        limit = f" in <= {row.seconds:.0f} s" if row.seconds else ""
        met = "not measured"
        if runs:
            fast = row.seconds is None or statistics.fmean(walls) <= row.seconds
            met = "yes" if statistics.fmean(accuracies) >= row.target and fast else "no"
        lines.append(
            f"| {name} | `cnnkit {' '.join(row.arguments)}` | {len(runs)} | {_mean(accuracies)} "
            f"| {_mean(plain)} | {wall} | {load} | >= {row.target:.1%}{limit} | {met} "
            f"| {row.reference} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="runs per row, seeds 0.. (3)")
    parser.add_argument(
        "--first-seed",
        type=int,
        default=0,
        help="seeds from this one on (0): separate runs "
        "side by side, each with its own --out, cover other seeds",
    )
    parser.add_argument("--only", nargs="+", choices=list(ROWS), help="rows to run (all)")
    parser.add_argument("--threads", type=int, default=2, help="OMP_NUM_THREADS (2)")
    parser.add_argument("--out", default="runs/bench-time-to-accuracy", help="results folder")
    args = parser.parse_args()
    if args.seeds < 1 or args.threads < 1:
        parser.error(f"--seeds and --threads must be >= 1; got {args.seeds}, {args.threads}")
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    path = out / RESULTS
    results = load_results(path)
    names = args.only or list(ROWS)
    for name in names:
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            done = [r for r in results if r["row"] == name and r["seed"] == seed]
            if done:
                print(f"{name} seed {seed}: already measured ({path}), skipped")
                continue
            result = measure(ROWS[name], seed, args.threads, out)
            print(json.dumps(result), flush=True)
            results.append(result)
            save_results(path, results)
    print(f"\nuptime: {os.getloadavg()}; results: {path}\n")
    print(table(results, names))


if __name__ == "__main__":
    main()
