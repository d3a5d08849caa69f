"""Keras-style progress bar (``Progbar``) and the ``ProgbarLogger`` callback that drives it."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Iterable, Mapping
from typing import Any, TextIO

from cnnkit._validation import check_int, check_number
from cnnkit.callbacks._base import Callback, Logs

__all__ = ["Progbar", "ProgbarLogger", "resolve_verbose"]


def supports_live_updates(stream: Any) -> bool:
    """Return True if ``stream`` redraws a line on carriage return (a terminal or a notebook)."""
    isatty = getattr(stream, "isatty", None)
    try:
        if callable(isatty) and isatty():
            return True
    except ValueError:  # closed stream
        return False
    return type(stream).__module__.startswith("ipykernel")


def resolve_verbose(
    verbose: int | str, stream: TextIO | None = None, owner: str | None = None
) -> int:
    """Turn ``verbose`` into 0, 1 or 2; 'auto' is 1 (live bar) on a terminal, else 2.

    Example:
        >>> import io
        >>> resolve_verbose("auto", io.StringIO())
        2
    """
    if verbose == "auto":
        return 1 if supports_live_updates(sys.stdout if stream is None else stream) else 2
    if isinstance(verbose, bool) or verbose not in (0, 1, 2):
        prefix = f"{owner}: " if owner else ""
        raise ValueError(
            f"{prefix}verbose must be one of 0, 1, 2, 'auto'. Received: verbose={verbose!r}"
        )
    return int(verbose)


def format_eta(seconds: float) -> str:
    """Format a remaining time the Keras way: '42s', '3:07' or '1:02:03'."""
    if seconds > 3600:
        return f"{seconds // 3600:.0f}:{(seconds % 3600) // 60:02.0f}:{seconds % 60:02.0f}"
    if seconds > 60:
        return f"{seconds // 60:.0f}:{seconds % 60:02.0f}"
    return f"{seconds:.0f}s"


def format_step_time(seconds: float, unit: str) -> str:
    """Format the time per step as '2s/step', '8ms/step' or '95us/step'."""
    if seconds >= 1 or seconds == 0:
        return f"{seconds:.0f}s/{unit}"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/{unit}"
    return f"{seconds * 1e6:.0f}us/{unit}"


def format_value(value: Any) -> str:
    """Format a metric like Keras: 4 decimals, or scientific notation for tiny values."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            value = float(value)
        except (TypeError, ValueError):
            return str(value)
    return f"{value:.4f}" if abs(value) > 1e-3 else f"{value:.4e}"


class Progbar:
    """Show progress through ``target`` steps with ETA, time per step and the latest metrics.

    ``verbose=1`` redraws one line in place on a terminal or notebook, at most every
    ``interval`` seconds, so it costs nothing measurable in a fast loop; on other streams
    (a log file, a pipe) it writes only the final line, with no carriage returns.
    ``verbose=2`` writes only the final line; ``verbose=0`` writes nothing. Values are shown
    as given (the training loop already reports running means).

    Args:
        target: Total number of steps, or None if unknown.
        width: Characters in the ``[====>....]`` bar.
        verbose: 0, 1 or 2.
        interval: Minimum seconds between redraws.
        unit_name: Word after the time per step.
        stream: Where to write; defaults to ``sys.stdout`` at the time of writing.

    Example:
        >>> import io
        >>> out = io.StringIO()
        >>> bar = Progbar(2, verbose=1, stream=out)
        >>> bar.update(1, {"loss": 0.5})
        >>> bar.update(2, {"loss": 0.25})
        >>> out.getvalue().startswith("2/2 [==============================] - ")
        True
    """

    _clock = staticmethod(time.monotonic)  # replaced in tests to control time

    def __init__(
        self,
        target: int | None,
        width: int = 30,
        verbose: int = 1,
        interval: float = 0.05,
        unit_name: str = "step",
        stream: TextIO | None = None,
    ) -> None:
        self.target = check_int(target, "target", "Progbar", minimum=0, optional=True)
        self.width = check_int(width, "width", "Progbar", minimum=1)
        self.verbose = resolve_verbose(verbose, stream, "Progbar")
        self.interval = check_number(interval, "interval", "Progbar", finite=False)
        self.unit_name = unit_name
        self._stream = stream
        self._live = supports_live_updates(self.stream)
        self._start = self._clock()
        self._first: tuple[float, int] | None = None  # (time, step) of the first update
        self._last_draw = -math.inf
        self._prev_width = 0
        self._values: dict[str, Any] = {}
        self._seen = 0

    @property
    def stream(self) -> TextIO:
        """The output stream (``sys.stdout`` unless one was given)."""
        return sys.stdout if self._stream is None else self._stream

    def update(
        self,
        current: int,
        values: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None,
        finalize: bool | None = None,
    ) -> None:
        """Record progress up to step ``current`` with the latest ``values``; maybe redraw."""
        check_int(current, "current", "Progbar.update", minimum=0)
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        if values:
            self._values.update(values)
        self._seen = current
        if self.verbose == 0:
            return
        now = self._clock()
        if self._first is None and current > 0:
            self._first = (now, current)
        if self.verbose == 2:
            if finalize:
                self._write(self._summary_line(current, now) + "\n")
        elif not self._live:  # a file or pipe: no carriage returns, only the final line
            if finalize:
                self._write(self._bar_line(current, now, finalize=True) + "\n")
        elif finalize or now - self._last_draw >= self.interval:
            self._redraw(current, now, finalize)

    def add(self, n: int, values: Mapping[str, Any] | None = None) -> None:
        """Advance by ``n`` steps."""
        self.update(self._seen + n, values)

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()

    def _redraw(self, current: int, now: float, finalize: bool) -> None:
        """Overwrite the current line with the bar (carriage return, padded with spaces)."""
        line = self._bar_line(current, now, finalize)
        padding = " " * max(self._prev_width - len(line), 0)
        self._prev_width = len(line)
        self._last_draw = now
        self._write("\r" + line + padding + ("\n" if finalize else ""))

    def _step_time(self, current: int, now: float) -> float:
        """Seconds per step, ignoring the (often slow) first step once later ones exist."""
        if current <= 0:
            return 0.0
        if self._first is not None and current > self._first[1]:
            return (now - self._first[0]) / (current - self._first[1])
        return (now - self._start) / current

    def _count(self, current: int) -> str:
        if self.target is None:
            return f"{current:7d}/Unknown"
        return f"{current:{len(str(self.target))}d}/{self.target}"

    def _metrics(self) -> str:
        return "".join(f" - {k}: {format_value(v)}" for k, v in self._values.items())

    def _bar_line(self, current: int, now: float, finalize: bool) -> str:
        """The verbose=1 line: count, ``[===>...]``, ETA or total time, time/step, metrics."""
        line = self._count(current)
        if self.target:
            filled = min(int(self.width * current / self.target), self.width)
            arrow = ">" if 0 < filled and current < self.target else "=" if filled else ""
            line += " [" + "=" * (filled - 1 if filled else 0) + arrow
            line += "." * (self.width - filled) + "]"
        step_time = self._step_time(current, now)
        if self.target and not finalize:
            line += f" - ETA: {format_eta(step_time * max(self.target - current, 0))}"
        else:
            line += f" - {now - self._start:.0f}s"
        return line + f" {format_step_time(step_time, self.unit_name)}{self._metrics()}"

    def _summary_line(self, current: int, now: float) -> str:
        """The one-line form: count, total time, time per step, metrics."""
        step_time = format_step_time(self._step_time(current, now), self.unit_name)
        return f"{self._count(current)} - {now - self._start:.0f}s - {step_time}{self._metrics()}"


class ProgbarLogger(Callback):
    """Print ``Epoch i/N`` and a progress bar per epoch, like Keras' ``fit`` output.

    ``verbose`` comes from the run parameters: 1 a live bar (``val_`` metrics appended at
    the end of each epoch), 2 one line per epoch, 0 silent, 'auto' 1 on a terminal and 2
    otherwise. Outside ``fit``, evaluation and prediction get a bar of their own.

    Args:
        stream: Where to write; defaults to ``sys.stdout``.

    Example:
        >>> import io
        >>> out = io.StringIO()
        >>> logger = ProgbarLogger(stream=out)
        >>> logger.set_params({"epochs": 2, "steps": 4, "verbose": 2})
        >>> logger.on_train_begin()
        >>> logger.on_epoch_begin(0)
        >>> logger.on_epoch_end(0, {"loss": 0.5})
        >>> out.getvalue().splitlines()[0]
        'Epoch 1/2'
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__()
        self._stream = stream
        self.verbose = 1
        self.epochs = 1
        self.target: int | None = None
        self.progbar: Progbar | None = None
        self._seen = 0
        self._in_fit = False

    def set_params(self, params: dict[str, Any]) -> None:
        """Read ``verbose``, ``epochs`` and ``steps`` (the bar's target)."""
        super().set_params(params)
        self.verbose = resolve_verbose(params.get("verbose", 1), self._stream)
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    def _new_bar(self) -> None:
        self._seen = 0
        self.progbar = Progbar(self.target, verbose=self.verbose, stream=self._stream)

    def _update(self, batch: int, logs: Logs | None) -> None:
        self._seen = batch + 1
        if self.verbose == 1 and self.progbar is not None:
            self.progbar.update(self._seen, logs, finalize=False)

    def _finish(self, logs: Logs | None) -> None:
        if self.progbar is None:
            return
        if self.progbar.target is None:
            self.progbar.target = self._seen
        self.progbar.update(self.progbar.target, logs, finalize=True)
        self.progbar = None

    def on_train_begin(self, logs: Logs | None = None) -> None:
        """Inside ``fit`` the validation pass stays silent."""
        self._in_fit = True

    def on_train_end(self, logs: Logs | None = None) -> None:
        """Later evaluations get their own bar again."""
        self._in_fit = False

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        """Print the ``Epoch i/N`` header (``Epoch 1/1`` too, as Keras 2 did: a log of a
        one-epoch run still says which epoch its line belongs to) and start a new bar."""
        if self.verbose:
            stream = sys.stdout if self._stream is None else self._stream
            stream.write(f"Epoch {epoch + 1}/{self.epochs}\n")
            stream.flush()
        self._new_bar()

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Advance the bar with the running metrics."""
        self._update(batch, logs)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Finish the bar with the epoch's metrics, ``val_`` ones included."""
        self._finish(logs)

    def on_test_begin(self, logs: Logs | None = None) -> None:
        """Start a bar for ``evaluate`` (not for validation inside ``fit``)."""
        if not self._in_fit:
            self._new_bar()

    def on_test_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Advance the evaluation bar."""
        if not self._in_fit:
            self._update(batch, logs)

    def on_test_end(self, logs: Logs | None = None) -> None:
        """Finish the evaluation bar with the final metrics."""
        if not self._in_fit:
            self._finish(logs)

    def on_predict_begin(self, logs: Logs | None = None) -> None:
        """Start a bar for ``predict``."""
        self._new_bar()

    def on_predict_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Advance the prediction bar."""
        self._update(batch, None)  # prediction outputs are not metrics

    def on_predict_end(self, logs: Logs | None = None) -> None:
        """Finish the prediction bar."""
        self._finish(None)
