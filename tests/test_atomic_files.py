"""atomic_write_bytes: temporary files of killed writes are cleaned up by the next write to the
same target, and a failed write names the file it was writing."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import time

import pytest

from cnnkit import _files
from cnnkit._files import STALE_AFTER, atomic_write_bytes


@pytest.fixture(scope="module")
def dead_pid():
    """The id of a process that has exited."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def leftover(folder, name, age):
    path = folder / name
    path.write_bytes(b"half a model")
    stamp = time.time() - age
    os.utime(path, (stamp, stamp))
    return path


def test_stale_temporaries_of_the_same_target_are_removed(tmp_path, dead_pid):
    old = STALE_AFTER + 60
    stale = [
        leftover(tmp_path, f".m.keras.{dead_pid}.abcd1234.tmp", old),  # its writer is gone
        leftover(tmp_path, ".m.keras.x1y2z3_q.tmp", old),  # the name before pids were added
    ]
    kept = [
        leftover(tmp_path, f".m.keras.{dead_pid}.fresh123.tmp", 5),  # too recent
        leftover(tmp_path, f".m.keras.{os.getpid()}.alive123.tmp", old),  # a live writer's
        leftover(tmp_path, f".other.keras.{dead_pid}.abcd1234.tmp", old),  # another target's
        leftover(tmp_path, f".m.keras.1.{dead_pid}.abcd1234.tmp", old),  # m.keras.1's
        leftover(tmp_path, ".m.keras.partial.tmp", old),  # not a name cnnkit makes
        leftover(tmp_path, "m.keras.abcd1234.tmp", old),  # not hidden: not ours
    ]
    atomic_write_bytes(tmp_path / "m.keras", b"model")
    assert (tmp_path / "m.keras").read_bytes() == b"model"
    assert not any(path.exists() for path in stale)
    assert all(path.exists() for path in kept)


def test_a_killed_write_leaves_a_temporary_that_the_next_write_removes(tmp_path, monkeypatch):
    script = (
        "import os, cnnkit._files as f\n"
        "os.replace = lambda *a: os._exit(9)\n"  # killed between write and rename
        f"f.atomic_write_bytes({str(tmp_path / 'm.keras')!r}, b'new')\n"
    )
    assert subprocess.run([sys.executable, "-c", script]).returncode == 9
    (orphan,) = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert orphan.name.startswith(".m.keras.")
    monkeypatch.setattr(_files, "STALE_AFTER", 0)
    atomic_write_bytes(tmp_path / "m.keras", b"later")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.keras"]


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_a_failed_write_names_the_file_and_keeps_the_errno(tmp_path, monkeypatch, failing):
    target = tmp_path / "m.keras"
    target.write_bytes(b"previous")

    def disk_full(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, failing, disk_full)
    with pytest.raises(OSError) as info:
        atomic_write_bytes(target, b"new")
    assert info.value.errno == errno.ENOSPC
    assert str(info.value) == (
        f"[Errno 28] could not write {str(target)!r}: No space left on device"
    )
    assert target.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.keras"]


def test_an_unwritable_folder_is_named_too(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")
    with pytest.raises(NotADirectoryError) as info:  # the OSError subclass of its errno
        atomic_write_bytes(blocker / "sub" / "m.keras", b"x")
    assert info.value.errno == errno.ENOTDIR
    assert f"could not write {str(blocker / 'sub' / 'm.keras')!r}: " in str(info.value)
