"""CSVLogger: stream one row of metrics per epoch to a CSV file, flushed as it goes."""

from __future__ import annotations

import csv
import io
import os
import warnings
from collections.abc import Iterable, Mapping
from typing import Any, TextIO

from cnnkit._validation import check_bool, check_int
from cnnkit.callbacks._base import Callback, Logs
from cnnkit.callbacks._checks import check_state

__all__ = ["CSVLogger"]


def _cell(value: Any) -> Any:
    """Return a CSV cell: strings and numbers as they are, sequences as '[a, b]'."""
    if isinstance(value, str) or not isinstance(value, Iterable):
        return value
    if getattr(value, "ndim", None) == 0:  # 0-d numpy array or tensor
        return value.item()
    return f"[{', '.join(map(str, value))}]"


def _read_header(filename: str, separator: str) -> list[str] | None:
    """Return the column names of an existing non-empty CSV file, or None."""
    if not os.path.isfile(filename) or os.path.getsize(filename) == 0:
        return None
    with open(filename, newline="") as f:
        return next(csv.reader(f, delimiter=separator), None)


def _ends_with_newline(filename: str) -> bool:
    with open(filename, "rb") as f:
        f.seek(-1, os.SEEK_END)
        return f.read(1) in (b"\n", b"\r")


class CSVLogger(Callback):
    """Write each epoch's metrics as one CSV row (``epoch`` is 0-based, as in Keras).

    Columns are ``epoch`` then the sorted log keys of the first epoch; if that epoch has no
    ``val_`` keys, ``val_`` columns are reserved anyway and filled with ``NA``. Each row is
    written in one piece and flushed, so the file is readable during training and never
    ends in half a row. With ``append=True`` an existing file keeps its header and columns;
    resumed by BackupAndRestore, it first drops the rows written after the backup (they are
    written again as their epochs are trained again).

    Args:
        filename: CSV file to write; parent folders are created.
        separator: One character between cells.
        append: Continue an existing file instead of overwriting it.

    Example:
        >>> logger = CSVLogger("runs/training.csv")
        >>> # model.fit(x, y, epochs=10, callbacks=[logger])
    """

    writes_files = True  # under torchrun only rank 0 runs it

    def __init__(
        self, filename: str | os.PathLike[str], separator: str = ",", append: bool = False
    ) -> None:
        super().__init__()
        if not isinstance(filename, (str, os.PathLike)) or not os.fspath(filename):
            raise TypeError(f"CSVLogger: filename must be a non-empty path. Received: {filename!r}")
        if not isinstance(separator, str) or len(separator) != 1 or separator in '\r\n"':
            raise ValueError(
                "CSVLogger: separator must be a single character other than a quote or newline. "
                f"Received: separator={separator!r}"
            )
        self.filename = os.fspath(filename)
        self.separator = separator
        self.append = bool(append)
        self.keys: list[str] | None = None
        self._file: TextIO | None = None
        self._write_header = True
        self._size = 0  # bytes in the file after the last row written

    def on_train_begin(self, logs: Logs | None = None) -> None:
        """Open the file (append or overwrite) and forget the previous run's columns."""
        self._close()
        self.keys = None
        header = _read_header(self.filename, self.separator) if self.append else None
        self._write_header = header is None
        if header is not None:
            self.keys = [k for k in header if k != "epoch"]
        folder = os.path.dirname(os.path.abspath(self.filename))
        os.makedirs(folder, exist_ok=True)
        self._file = open(self.filename, "a" if self.append else "w", newline="")
        if header is not None and not _ends_with_newline(self.filename):
            self._file.write("\n")  # an interrupted foreign writer left a partial line
        self._size = self._file.tell()

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Write this epoch's row and flush it."""
        if self._file is None:
            raise RuntimeError("CSVLogger: on_epoch_end was called before on_train_begin.")
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            if self.keys and not any(k.startswith("val_") for k in self.keys):
                self.keys += [f"val_{k}" for k in self.keys]
        rows = []
        if self._write_header:
            rows.append(["epoch", *self.keys])
            self._write_header = False
        rows.append([epoch, *(_cell(logs.get(k, "NA")) for k in self.keys)])
        buffer = io.StringIO()
        csv.writer(buffer, delimiter=self.separator, lineterminator="\n").writerows(rows)
        self._file.write(buffer.getvalue())
        self._file.flush()
        self._size = self._file.tell()

    def state_dict(self) -> dict[str, Any]:
        """The file's length after the last row and its columns, for an exact resume."""
        return {"size": self._size, "keys": self.keys, "write_header": self._write_header}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Continue the file as it was at the backup: rows written since are dropped."""
        check_state("CSVLogger", state, ("size", "keys", "write_header"))
        size = check_int(state["size"], "size", "CSVLogger.load_state_dict", minimum=0)
        keys, write_header = state["keys"], state["write_header"]
        if keys is not None and not (
            isinstance(keys, list) and all(isinstance(k, str) for k in keys)
        ):
            raise TypeError(
                f"CSVLogger.load_state_dict: keys must be a list of names. Received: {keys!r:.200}"
            )
        check_bool(write_header, "write_header", "CSVLogger.load_state_dict")
        if self._file is not None:
            self._file.flush()
            if os.path.getsize(self.filename) >= size:
                os.truncate(self.filename, size)  # the file is open for appending: rows follow
            else:
                warnings.warn(
                    f"CSVLogger: {self.filename} is shorter than when the run was backed up; "
                    "pass append=True to keep its rows across a resume",
                    stacklevel=2,
                )
                size = os.path.getsize(self.filename)
                write_header = size == 0
        self.keys, self._write_header, self._size = keys, write_header, size

    def on_train_end(self, logs: Logs | None = None) -> None:
        """Close the file."""
        self._close()

    def _close(self) -> None:
        if self._file is not None and not self._file.closed:
            self._file.close()
        self._file = None
