"""Crash-safe file writing: a reader sees the old file or the new one, never half of one."""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from pathlib import Path

# A temporary file of a killed writer is removed by the next successful write to the same
# target once it is this old and its writer's process is gone (seconds).
STALE_AFTER = 10 * 60


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` via a temporary file in the same folder, fsync, then rename.

    Parent folders are created. Returns the final path. Temporary files that killed writes to
    the same path left behind are removed afterwards. Raises:
        OSError: the write failed (disk full, no permission...); the message names the path
            and the error number is kept.
    """
    target = Path(path)
    if target.is_dir():
        raise IsADirectoryError(
            f"cannot write to {str(target)!r}: it is a folder; give a file name"
        )
    try:
        _write_then_rename(target, data)
    except OSError as error:
        raise _naming(error, target) from error
    _fsync_folder(target.parent)
    remove_stale_temporaries(target)
    return target


def _write_then_rename(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp", dir=target.parent
    )
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # mkstemp's 0600 would hide the file from others
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)
        raise


def _naming(error: OSError, target: Path) -> OSError:
    """The same kind of OSError (same errno), its message naming the file being written."""
    reason = error.strerror or str(error)
    message = f"could not write {str(target)!r}: {reason}"
    if error.errno is None:
        return OSError(message)
    return OSError(error.errno, message)


def remove_stale_temporaries(target: Path) -> list[Path]:
    """Remove this target's own temporary files (``.NAME.<pid>.<random>.tmp``, or the older
    ``.NAME.<random>.tmp``) that are older than STALE_AFTER and whose writer is gone."""
    pattern = re.compile(rf"\.{re.escape(target.name)}\.(?:([0-9]+)\.)?[a-z0-9_]{{8}}\.tmp")
    removed = []
    now = time.time()
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return removed
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        if match is None or (match[1] is not None and _running(int(match[1]))):
            continue
        with contextlib.suppress(OSError):  # vanished meanwhile, or not ours to remove
            if entry.is_file(follow_symlinks=False) and now - entry.stat().st_mtime > STALE_AFTER:
                os.remove(entry.path)
                removed.append(Path(entry.path))
    return removed


def _running(pid: int) -> bool:
    """Whether process ``pid`` exists (always assumed on Windows, where os.kill would end it)."""
    if os.name == "nt" or pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # someone else's process, or a number no process can have
    return True


def _fsync_folder(folder: Path) -> None:
    """Persist the rename itself (a no-op where folders cannot be opened, e.g. Windows)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
