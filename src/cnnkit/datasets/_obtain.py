"""Get a dataset's files: a local copy if there is one, else a verified download into the cache.

The mirror can be replaced with the ``CNNKIT_DATASETS_URL`` environment variable: files are
then fetched from ``$CNNKIT_DATASETS_URL/<dataset key>/<file name>`` and from nowhere else
(useful for an institute mirror, a ``file://`` directory, or a test server).
"""

from __future__ import annotations

import os
from pathlib import Path

from . import _locate
from ._download import DownloadError, download
from ._locate import DATA_ENV, cache_dir, find_local
from ._registry import SOURCES, DatasetSource, RemoteFile

__all__ = ["MIRROR_ENV", "obtain"]

#: Environment variable holding a mirror base URL that replaces the canonical sources.
MIRROR_ENV = "CNNKIT_DATASETS_URL"


def obtain(key: str) -> list[Path]:
    """Return local paths of every file of dataset ``key``, downloading the missing ones.

    Args:
        key: A key of ``SOURCES``, e.g. ``'fashion-mnist'``.

    Returns:
        One path per ``SOURCES[key].files`` entry, in that order.

    Raises:
        FileNotFoundError: A file is neither on this machine nor downloadable; the message
            names the missing files, the directories searched and the expected checksums.
    """
    source = SOURCES[key]
    paths: list[Path | None] = [
        find_local(source.key, (f.name, *f.local_names)) for f in source.files
    ]
    for i, remote in enumerate(source.files):
        if paths[i] is not None:
            continue
        try:
            paths[i] = _download_any(source, remote)
        except DownloadError as exc:
            missing = [f for f, p in zip(source.files, paths, strict=True) if p is None]
            raise FileNotFoundError(_not_found_message(source, missing, str(exc))) from exc
    return [p for p in paths if p is not None]


def _mirror_urls(source: DatasetSource, remote: RemoteFile) -> list[str]:
    """Return the URLs to try for ``remote``, honouring ``$CNNKIT_DATASETS_URL``."""
    mirror = os.environ.get(MIRROR_ENV, "").strip()
    if mirror:
        return [f"{mirror.rstrip('/')}/{source.key}/{remote.name}"]
    return [base + remote.name for base in source.base_urls]


def _download_any(source: DatasetSource, remote: RemoteFile) -> Path:
    """Try each mirror in turn; raise one DownloadError listing every failure."""
    dest = cache_dir() / source.key / remote.name
    failures = []
    for url in _mirror_urls(source, remote):
        try:
            return download(url, dest, remote.sha256, size=remote.size)
        except DownloadError as exc:
            failures.append(str(exc))
    raise DownloadError("\n    ".join(failures))


def _not_found_message(source: DatasetSource, missing: list[RemoteFile], reason: str) -> str:
    """Explain what is missing, where to put it and how to recognise the right file."""
    user_dirs = os.environ.get(DATA_ENV, "")
    dirs = [f"${DATA_ENV}/{source.key}/  (set {DATA_ENV} to a directory of your choice)"]
    if user_dirs:
        dirs = [str(Path(d) / source.key) + "/" for d in user_dirs.split(os.pathsep) if d]
    dirs += [str(cache_dir() / source.key) + "/"]
    dirs += [str(d / source.key) + "/" for d in _locate.SYSTEM_DIRS]
    lines = [
        f"{source.title} is not on this machine and could not be downloaded.",
        f"  Download failed: {reason}",
        "  Missing files (gzipped or not; a tarball or its extracted folder):",
    ]
    for f in missing:
        lines.append(f"    {f.name}  ({f.size} bytes, SHA-256 {f.sha256}, MD5 {f.md5})")
    lines.append("  Put them in one of these directories (searched in this order):")
    lines += [f"    {d}" for d in dirs]
    if source.debian_package:
        lines.append(
            f"  On Debian/Ubuntu: sudo apt install {source.debian_package} "
            f"(installs into /usr/share/datasets/{source.key}/)"
        )
    lines.append(f"  Or set {MIRROR_ENV} to a mirror serving <url>/{source.key}/<file name>.")
    return "\n".join(lines)
