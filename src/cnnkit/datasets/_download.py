"""Fetch one file over HTTP(S), verify its SHA-256 and move it into place atomically.

The bytes go to a temporary file in the destination directory, are flushed and fsync'ed, and
only a file whose SHA-256 matches is renamed (``os.replace``) to its final name.  Whatever
goes wrong (network error, the server closing early, a wrong checksum, Ctrl-C), the
temporary file is removed and the destination is never left half-written.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import BinaryIO, TextIO

__all__ = ["DownloadError", "download"]

#: Seconds a connection may stay silent before the download is abandoned.
TIMEOUT_S = 30.0
_CHUNK = 1 << 16


class DownloadError(OSError):
    """A download failed (network, early close, wrong checksum); nothing was written."""


def download(url: str, dest: Path, sha256: str, *, size: int | None = None) -> Path:
    """Download ``url`` to ``dest`` if its SHA-256 matches; show progress on stderr.

    Args:
        url: ``http://``, ``https://`` (or ``file://``) URL of the file.
        dest: Final path; its directory is created if needed.
        sha256: Expected hex SHA-256 of the whole file.
        size: Expected size in bytes: progress when the server sends no length, and a
            bound: a server announcing or sending more is cut off there (no full disk).

    Returns:
        ``dest``, now holding the verified file.

    Raises:
        DownloadError: The file could not be fetched completely or its checksum differs.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            digest = _copy_url(url, out, size)
            out.flush()
            os.fsync(out.fileno())
        if digest != sha256.lower():
            raise DownloadError(
                f"{url}: SHA-256 mismatch (expected {sha256}, got {digest}); "
                "the download was discarded"
            )
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(dest.parent)
    return dest


def _copy_url(url: str, out: BinaryIO, size: int | None) -> str:
    """Stream ``url`` into the open binary file ``out``; return the hex SHA-256 of the bytes."""
    request = urllib.request.Request(url, headers={"User-Agent": "cnnkit-datasets"})
    hasher = hashlib.sha256()
    received = 0
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            announced = _content_length(response.headers.get("Content-Length"))
            _check_not_larger(url, announced, size, "announces")
            progress = _Progress(url, announced or size or 0, sys.stderr)
            try:
                while chunk := response.read(_CHUNK):
                    out.write(chunk)
                    hasher.update(chunk)
                    received += len(chunk)
                    _check_not_larger(url, received, size, "sent")
                    progress.update(received)
            finally:
                progress.end_line()
    except DownloadError:
        raise
    except urllib.error.HTTPError as exc:
        raise DownloadError(f"{url}: HTTP {exc.code} {exc.reason}") from exc
    except urllib.error.URLError as exc:
        raise DownloadError(f"{url}: {exc.reason}") from exc
    except (http.client.HTTPException, OSError) as exc:
        raise DownloadError(
            f"{url}: connection failed after {received} bytes ({type(exc).__name__}: {exc})"
        ) from exc
    if announced and received != announced:
        raise DownloadError(f"{url}: connection closed after {received} of {announced} bytes")
    progress.finish(received)
    return hasher.hexdigest()


def _content_length(header: str | None) -> int:
    """The announced length, or 0 when the header is missing or not a number."""
    text = (header or "").strip()
    return int(text) if text.isascii() and text.isdigit() else 0


def _check_not_larger(url: str, count: int, size: int | None, verb: str) -> None:
    """Stop a download that is already larger than the known size of the file."""
    if size is not None and count > size:
        raise DownloadError(
            f"{url}: the server {verb} more than the expected {size} bytes ({count}); "
            "the download was discarded"
        )


def _fsync_dir(directory: Path) -> None:
    """Make the rename durable where the platform allows opening a directory."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class _Progress:
    """Download progress on a text stream: one updating line on a TTY, else plain lines."""

    def __init__(self, url: str, total: int, stream: TextIO | None) -> None:
        self.name = url.rsplit("/", 1)[-1] or url
        self.total = total
        self.stream = stream
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.next_step = 1  # next tenth (or next 10 MB when the size is unknown) to report
        self.last_draw = 0.0
        self._write(f"Downloading {url} ({_megabytes(total) if total else 'size unknown'})\n")

    def update(self, received: int) -> None:
        """Report ``received`` bytes so far, throttled so output stays small."""
        if self.tty:
            now = time.monotonic()
            if now - self.last_draw >= 0.1:
                self.last_draw = now
                self._write(f"\r  {self.name}: {self._status(received)}")
            return
        step = received * 10 // self.total if self.total else received // 10_000_000
        if step >= self.next_step and (not self.total or received < self.total):
            self.next_step = step + 1
            self._write(f"  {self.name}: {self._status(received)}\n")

    def end_line(self) -> None:
        """End the redrawn TTY line, so that what follows starts on a line of its own."""
        if self.tty:
            self._write("\n")

    def finish(self, received: int) -> None:
        """Report the end of a complete download."""
        self._write(f"  {self.name}: done, {_megabytes(received)}\n")

    def _status(self, received: int) -> str:
        """Return e.g. ``'40% (10.6 of 26.4 MB)'`` or ``'12.0 MB'`` when the size is unknown."""
        if not self.total:
            return _megabytes(received)
        percent = min(100, received * 100 // self.total)
        return f"{percent:3d}% ({received / 1e6:.1f} of {_megabytes(self.total)})"

    def _write(self, text: str) -> None:
        """Write and flush, so progress shows up even when stderr is buffered."""
        if self.stream is None:  # no console at all (e.g. pythonw)
            return
        self.stream.write(text)
        self.stream.flush()


def _megabytes(n: int) -> str:
    """Format a byte count in MB (10**6 bytes)."""
    return f"{n / 1e6:.1f} MB"
