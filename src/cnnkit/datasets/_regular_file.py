"""Open data and image files only when they are regular files, so a FIFO or device never hangs.

``open()`` on a FIFO blocks until a writer appears and ``/dev/zero`` never ends; a file
named ``x.png`` or ``train-images-idx3-ubyte.gz`` may be either.  The file is opened without
blocking and checked with ``fstat`` on the descriptor itself, so what is checked is what is read.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

__all__ = ["RefusedFile", "open_regular"]

_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
_FLAGS |= getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


class RefusedFile(ValueError):
    """A file refused for what it is (not a regular file, not the format it claims, too
    large) rather than for damage found while decoding it."""


_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def open_regular(path: str | os.PathLike, what: str) -> BinaryIO:
    """Open ``path`` for binary reading if it is a regular file (links are followed).

    Args:
        path: The file.
        what: What the file should be, for the message, e.g. ``'image file'``.

    Raises:
        FileNotFoundError, PermissionError: As ``open`` does.
        RefusedFile: (a ValueError) ``path`` is a directory, FIFO, device or socket.
    """
    fd = os.open(path, _FLAGS)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
            raise RefusedFile(
                f"{what} {Path(path)} is {kind}; only regular files are read "
                "(a pipe or device could block or never end)"
            )
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
