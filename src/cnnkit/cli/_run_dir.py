"""The layout of a training run's folder and its small JSON state, written atomically.

A run folder holds everything ``train`` produces, so ``--resume``, ``evaluate``, ``predict``
and ``report`` need only the folder::

    run.json          what was trained on what, with which settings, and how far it got
    class_names.json  label -> name, for predict
    last.cnnkit       the model after the latest epoch (with optimizer state, for --resume)
    best.cnnkit       the model with the best validation accuracy so far
    history.csv       one row of metrics per epoch
    backup/           the whole training state after the latest epoch, while training runs:
                      ``--resume`` continues from it exactly (see BackupAndRestore)
    logs/             TensorBoard event files
    report.html       the report (when cnnkit.report is available)
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from cnnkit._files import atomic_write_bytes
from cnnkit.cli._errors import CommandError, UsageError

STATE, CLASS_NAMES = "run.json", "class_names.json"
LAST, BEST = "last.cnnkit", "best.cnnkit"
HISTORY, LOGS, BACKUP = "history.csv", "logs", "backup"
STATE_VERSION = 1


def write_json(path: Path, value: Any) -> None:
    """Write ``value`` as indented JSON, atomically (a crash leaves the old file intact)."""
    atomic_write_bytes(path, (json.dumps(value, indent=2) + "\n").encode())


def read_json(path: Path, what: str) -> Any:
    """Read a JSON file, or raise a CommandError naming ``what`` it should have been."""
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise CommandError(f"{path} not found: {what}") from None
    except (OSError, ValueError) as error:
        raise CommandError(f"{path} is not a readable JSON file ({what}): {error}") from None


def read_state(run_dir: Path) -> dict[str, Any]:
    """The state of the run in ``run_dir``, checked for the keys the commands rely on."""
    state = read_json(run_dir / STATE, f"{run_dir} is not a run folder written by cnnkit train")
    required = ("dataset", "model", "epochs", "epochs_done", "settings")
    missing = [key for key in required if key not in state] if isinstance(state, dict) else required
    if missing:
        raise CommandError(f"{run_dir / STATE} lacks {', '.join(missing)}; was it edited?")
    return state


def check_out_folder(path: Path) -> None:
    """Refuse an ``--out`` that cannot become a folder (a file, a read-only place) before any
    work starts, rather than after the training it would have held."""
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        where = "is a file" if existing == path else f"is inside {str(existing)!r}, a file"
        raise UsageError(f"--out {str(path)!r} {where}; give a folder (new or existing)")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(
            f"--out {str(path)!r} cannot be written: no write permission in {str(existing)!r}"
        )


def model_file(path: str | Path) -> Path:
    """``path`` itself when it is a file; for a run folder, its best model (else its last)."""
    path = Path(path)
    if path.is_dir():
        for name in (BEST, LAST):
            if (path / name).is_file():
                return path / name
        raise CommandError(f"{path} is a folder without a model file ({BEST} or {LAST})")
    if not path.is_file():
        raise CommandError(f"no model file at {str(path)!r}")
    return path


def class_names_beside(model_path: Path) -> list[str] | None:
    """The class names ``train`` stored next to a model file, or None when there are none."""
    path = model_path.parent / CLASS_NAMES
    return read_class_names(path) if path.is_file() else None


def read_class_names(path: Path) -> list[str]:
    """Class names from a JSON file holding a list of strings (label order)."""
    names = read_json(path, "a JSON list of class names")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise CommandError(f"{path} must hold a JSON list of class names")
    return names
