"""torchrun with one process per GPU trains the same weights as one process.

Run: python3 bench/torchrun_check.py [--out DIR]
Runs tests/distributed_job.py (a small CNN, SGD with momentum, 6 epochs, early stopping) on
CUDA (CNNKIT_JOB_DEVICE=cuda) once as a plain process and once under
``torchrun --nproc_per_node=<GPUs>`` (cnnkit joins an NCCL group on CUDA), then compares the
weights, the histories and the predictions. With fewer than two GPUs an NCCL group of several
processes cannot exist (NCCL refuses two ranks on one GPU), so the one-process torchrun run is
followed by a 2-process gloo run on the CPU, labelled as such.
TF32 is turned off (NVIDIA_TF32_OVERRIDE=0) so the GPU runs compare in float32. Prints one
line per comparison, "equal" or "NOT equal" with the largest difference; exits 1 if any is not
equal.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

JOB = Path(__file__).resolve().parent.parent / "tests" / "distributed_job.py"
RTOL, ATOL = 1e-5, 1e-5


def run(out: Path, processes: int, env: dict[str, str]) -> None:
    """distributed_job.py writing into ``out``: alone (0) or under torchrun (processes)."""
    out.mkdir(parents=True)
    prefix = [sys.executable]
    if processes:
        prefix += ["-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}"]
    result = subprocess.run(
        [*prefix, str(JOB), str(out)], capture_output=True, text=True, timeout=240, env=env
    )
    if result.returncode != 0:
        raise SystemExit(f"{out.name} failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")


def largest_difference(out_one: Path, out_many: Path, size: int) -> float:
    """The largest |difference| between the two runs' weights, histories and predictions,
    beyond the tolerance rtol * |value| (0.0 when they agree within it)."""
    one = np.load(out_one / "weights-1.npz", allow_pickle=False)
    many = np.load(out_many / f"weights-{size}.npz", allow_pickle=False)
    pairs = [(many[name], one[name]) for name in one.files]
    alone = json.loads((out_one / "rank0.json").read_text())
    for rank in range(size):
        observed = json.loads((out_many / f"rank{rank}.json").read_text())
        pairs.append((np.asarray(observed["predictions"]), np.asarray(alone["predictions"])))
        for key, values in alone["history"].items():
            pairs.append((np.asarray(observed["history"][key]), np.asarray(values)))
    worst = 0.0
    for observed, expected in pairs:
        if observed.shape != expected.shape:
            return float("inf")
        excess = np.abs(observed - expected) - RTOL * np.abs(expected)
        worst = max(worst, float(excess.max(initial=0.0)))
    return worst


def compare(label: str, root: Path, processes: int, env: dict[str, str]) -> bool:
    """Run alone and under torchrun with ``processes``; print and return whether they agree."""
    run(root / f"{label}-alone", 0, env)
    run(root / f"{label}-torchrun", processes, env)
    worst = largest_difference(root / f"{label}-alone", root / f"{label}-torchrun", processes)
    equal = worst <= ATOL
    verdict = "equal" if equal else "NOT equal"
    print(
        f"{label}: torchrun with {processes} process(es) vs one process: {verdict} "
        f"(largest difference beyond rtol {RTOL:g}: {worst:.2e}, tolerance {ATOL:g})"
    )
    return equal


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="keep the runs' files here (default: temporary)")
    args = parser.parse_args()
    root = args.out or Path(tempfile.mkdtemp(prefix="torchrun-check-"))
    env = {**os.environ, "NVIDIA_TF32_OVERRIDE": "0", "OMP_NUM_THREADS": "1"}
    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    results = []
    if gpus:
        on_gpus = {**env, "CNNKIT_JOB_DEVICE": "cuda"}
        results.append(compare(f"cuda-{gpus}gpu", root, gpus, on_gpus))
    if gpus < 2:
        print("fewer than 2 GPUs: a 2-process NCCL group needs 2; checking 2 processes on gloo")
        results.append(compare("gloo-cpu", root, 2, {**env, "CNNKIT_JOB_DEVICE": "cpu"}))
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
