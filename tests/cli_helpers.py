"""Running the command line in tests: ``python -m cnnkit`` from this checkout, ``main`` in
process, and a small folder dataset of stripes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from cnnkit.cli import main

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "src"  # this checkout's package, ahead of whichever cnnkit is installed


def checkout_env(**extra: str) -> dict[str, str]:
    """The environment of a child process that imports this checkout's cnnkit."""
    return {**os.environ, "PYTHONPATH": str(SOURCE), "KERAS_BACKEND": "torch", **extra}


def cnnkit(
    *args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """``python -m cnnkit`` from this checkout, in a fresh process (for commands that train)."""
    return subprocess.run(
        [sys.executable, "-m", "cnnkit", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd or ROOT,
        env=env or checkout_env(),
    )


def run_here(capsys, *args: str | Path) -> subprocess.CompletedProcess:
    """``main(args)`` in this process (no second torch import): for checks that train nothing."""
    code = main([str(arg) for arg in args])
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(args, code, out, err)


def write_stripes(root: Path) -> Path:
    """A folder dataset in ``root``: 16x16 RGB images of horizontal or vertical stripes, 15 in
    each class folder."""
    rng = np.random.default_rng(0)
    for name, axis in (("horizontal", 0), ("vertical", 1)):
        (root / name).mkdir()
        for index in range(15):
            lines = np.tile((np.arange(16) // 2 % 2 * 200)[:, None], (1, 16)).astype(np.uint8)
            image = np.stack([lines if axis == 0 else lines.T] * 3, axis=-1)
            noise = rng.integers(0, 40, image.shape, dtype=np.uint8)
            Image.fromarray(image + noise).save(root / name / f"{index}.png")
    return root
