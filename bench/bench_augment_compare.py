"""Old vs new augmentation layers, interleaved in one process: RandomFlip and
RandomTranslation(0.1, 0.1) as of an older git revision against this checkout, alone and in
front of the LeNet-5 training step of bench_augment.py.

Run: python3 bench/bench_augment_compare.py [--rev 52d2086] [--threads 2] [--rounds 100]
The old layers come from ``git show REV:src/cnnkit/layers/_augment_geometric.py``, with the
warp modules it imports (``layers/_image_warp.py``, ``_fast/_warp.py``) as of the same
revision where they exist there, loaded on top of this checkout's other modules. Each round times one block of
``--steps`` calls of every run, in alternating order; an augmented step's cost is the median
over rounds of its time minus the plain step's in the same round (paired, so slow drifts of a
shared machine's load cancel). Wall-clock time, or with --cpu this process's CPU time.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

import cnnkit
from cnnkit.layers._augment_geometric import RandomFlip, RandomTranslation

sys.path.insert(0, str(Path(__file__).parent))
from bench_augment import training_step  # noqa: E402

# where the module lives at a revision: src/ since the src layout, the top folder before it
# The modules of the old layers, loaded from the old revision in this order, each seen by
# the ones after it (a module missing at that revision is this checkout's).
OLD_MODULES = (
    "cnnkit.layers._image_warp",
    "cnnkit._fast._warp",
    "cnnkit.layers._augment_geometric",
)


def source_at(rev: str, name: str) -> str | None:
    """The source of module ``name`` as of git revision ``rev`` (with or without src/), or None."""
    root = Path(__file__).resolve().parent.parent
    path = name.replace(".", "/") + ".py"
    for module_path in (f"src/{path}", path):
        shown = subprocess.run(
            ["git", "show", f"{rev}:{module_path}"], cwd=root, capture_output=True, text=True
        )
        if shown.returncode == 0:
            return shown.stdout
    return None


def load_source(name: str, source: str):
    """A module run from ``source`` under the name old_``name``."""
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as file:
        file.write(source)
    spec = importlib.util.spec_from_file_location("old_" + name.replace(".", "_"), file.name)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    finally:
        os.unlink(file.name)
    return module


def old_module(rev: str):
    """The geometric augmentation module as of git revision ``rev``, importing the warp
    modules of that revision (swapped into sys.modules while it loads, then restored)."""
    loaded, saved = {}, {}
    try:
        for name in OLD_MODULES:
            source = source_at(rev, name)
            if source is None:
                continue
            loaded[name] = load_source(name, source)
            parent, child = name.rsplit(".", 1)
            importlib.import_module(parent)
            saved[name] = (sys.modules.get(name), getattr(sys.modules[parent], child, None))
            sys.modules[name] = loaded[name]
            setattr(sys.modules[parent], child, loaded[name])  # ``from package import module``
    finally:
        for name, (module, attribute) in saved.items():
            parent, child = name.rsplit(".", 1)
            sys.modules.pop(name)
            if module is not None:
                sys.modules[name] = module
            setattr(sys.modules[parent], child, attribute)
    if "cnnkit.layers._augment_geometric" not in loaded:
        raise SystemExit(f"no geometric augmentation module at revision {rev}")
    return loaded["cnnkit.layers._augment_geometric"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", default="52d2086", help="git revision of the old layers")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=100, help="interleaved rounds")
    parser.add_argument("--steps", type=int, default=1, help="calls per timed block")
    parser.add_argument("--cpu", action="store_true", help="process CPU time, not wall clock")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    old = old_module(args.rev)

    model = cnnkit.zoo.get("lenet5", input_shape=(32, 32, 3)).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.rand(args.batch, 32, 32, 3)
    y = torch.randint(0, 10, (args.batch,))
    layers = {
        "old": (old.RandomFlip(seed=0), old.RandomTranslation(0.1, 0.1, seed=0)),
        "new": (RandomFlip(seed=0), RandomTranslation(0.1, 0.1, seed=0)),
    }
    runs: dict[str, Callable[[], object]] = {
        "train step": lambda: training_step(model, None, optimizer, x, y)
    }
    for version, (flip, translation) in layers.items():
        augment = nn.Sequential(flip, translation).train()
        runs[f"step + augmentation, {version}"] = lambda augment=augment: training_step(
            model, augment, optimizer, x, y
        )
        runs[f"RandomFlip, {version}"] = lambda flip=flip: flip(x)
        runs[f"RandomTranslation, {version}"] = lambda translation=translation: translation(x)

    clock = time.process_time if args.cpu else time.perf_counter

    def block(run: Callable[[], object]) -> float:
        start = clock()
        for _ in range(args.steps):
            run()
        return (clock() - start) / args.steps

    for run in runs.values():
        block(run)
    load = os.getloadavg()[0]
    times: dict[str, list[float]] = {name: [] for name in runs}
    for round_ in range(args.rounds):
        for name, run in list(runs.items())[:: 1 if round_ % 2 else -1]:
            times[name].append(block(run))
    median = {name: statistics.median(values) for name, values in times.items()}
    extra = {  # paired: minus the plain step of the same round
        name: statistics.median(a - b for a, b in zip(values, times["train step"]))
        for name, values in times.items()
    }
    print(
        f"torch {torch.__version__}, threads {args.threads}, batch {args.batch}, old = {args.rev}, "
        f"{args.rounds} rounds of {args.steps}, {'CPU' if args.cpu else 'wall'} time, load "
        f"average {load:.1f} -> "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    step = median["train step"]
    for name, value in median.items():
        note = ""
        if name.startswith("step +"):
            note = f"paired cost {1000 * extra[name]:.2f} ms = {100 * extra[name] / step:+.1f}%"
        print(f"{name:<32} {1000 * value:8.3f} ms  {note}")
    for what in ("RandomFlip", "RandomTranslation"):
        print(f"old/new {what}: {median[f'{what}, old'] / median[f'{what}, new']:.2f}")
    cost = extra["step + augmentation, old"] / extra["step + augmentation, new"]
    print(f"old/new augmentation cost in the step: {cost:.2f}")


if __name__ == "__main__":
    main()
