"""Where cnnkit looks for dataset files on this machine, in order, before downloading anything.

Search order, first hit wins:

1. every directory in ``$CNNKIT_DATA`` (several may be joined with ``os.pathsep``);
2. the per-user cache, ``$XDG_CACHE_HOME/cnnkit/datasets`` or ``~/.cache/cnnkit/datasets``,
   which is also where downloads are written;
3. the system locations in ``SYSTEM_DIRS`` (Debian's ``dataset-*`` packages install into
   ``/usr/share/datasets``).

Inside each directory a dataset has its own sub-folder (``fashion-mnist/``, ``mnist/``,
``cifar-10/``, ``cifar-100/``), as in Debian's layout.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

__all__ = ["DATA_ENV", "SYSTEM_DIRS", "cache_dir", "search_dirs", "find_local"]

#: Environment variable naming directories that hold user-provided dataset copies.
DATA_ENV = "CNNKIT_DATA"

#: System-wide directories searched last (module constant, so it may be changed or emptied).
SYSTEM_DIRS: tuple[Path, ...] = (Path("/usr/share/datasets"), Path("/usr/local/share/datasets"))


def cache_dir() -> Path:
    """Return the per-user cache directory that downloads go to (it need not exist yet)."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "cnnkit" / "datasets"


def search_dirs() -> list[Path]:
    """Return the directories searched for local copies, in priority order."""
    user = [Path(p) for p in os.environ.get(DATA_ENV, "").split(os.pathsep) if p]
    return [*user, cache_dir(), *SYSTEM_DIRS]


def find_local(folder: str, names: Sequence[str]) -> Path | None:
    """Return the first existing ``<dir>/<folder>/<name>`` over the search dirs, else None.

    Args:
        folder: The dataset's sub-folder, e.g. ``'fashion-mnist'``.
        names: Accepted file (or extracted folder) names, most preferred first.
    """
    for directory in search_dirs():
        for name in names:
            candidate = directory / folder / name
            if candidate.exists():
                return candidate
    return None
