"""The learning-rate range test's curve: the smoothed losses, and where to read a good rate.

Kept apart from the search (``_lr_find``) so the reading rules can be checked on any curve.
Drawing lives in ``cnnkit.plots.lr_find``; :meth:`LRFindResult.plot` reaches it through
:meth:`LRFindResult.use_plotter`, which ``cnnkit.plots`` calls when imported (plots rank
above training, so training names no plots module; ``plot`` loads ``cnnkit.plots`` by name when
nothing has registered yet, since ``import cnnkit`` loads it only on first use).
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from cnnkit._validation import check_choice

__all__ = ["LRFindResult", "smooth", "suggest"]

SUGGESTIONS = ("steepest", "valley")


def smooth(losses: Sequence[float], smoothing: float) -> list[float]:
    """The debiased exponential moving average of ``losses`` (as Adam debiases its moments):
    ``avg = smoothing * avg + (1 - smoothing) * loss``, divided by ``1 - smoothing ** (i + 1)``.
    """
    average, result = 0.0, []
    for index, loss in enumerate(losses):
        average = smoothing * average + (1 - smoothing) * float(loss)
        result.append(average / (1 - smoothing ** (index + 1)))
    return result


def _despiked(losses: np.ndarray) -> np.ndarray:
    """``losses`` with lone spikes removed: each point becomes the median of the five around
    it (a monotone stretch is left exactly as it is; one or two outliers in a row vanish)."""
    padded = np.pad(losses, 2, mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, 5)
    return np.median(windows, axis=1)


def _valley(curve: np.ndarray) -> int:
    """Index inside the longest decreasing run of ``curve`` (not necessarily contiguous: the
    longest decreasing subsequence), two thirds of the way down it."""
    n = len(curve)
    length, previous = [1] * n, [-1] * n
    for i in range(n):
        for j in range(i):
            if curve[j] > curve[i] and length[j] + 1 > length[i]:
                length[i], previous[i] = length[j] + 1, j
    end = int(np.argmax(length))
    start = end
    while previous[start] != -1:
        start = previous[start]
    return start + (2 * (end - start)) // 3


def suggest(
    lrs: Sequence[float], losses: Sequence[float], smoothing: float, rule: str = "steepest"
) -> float | None:
    """The suggested learning rate for a curve of raw ``losses`` (the divergent tail already
    cut off), or None when the curve is too short to read.

    'steepest': where the smoothed loss falls fastest per decade of learning rate, looking
    only between the first 10% of the points (the average is still settling there) and the
    lowest point of the curve. 'valley': two thirds down the longest descent of the smoothed
    curve. Lone spikes in the raw losses are removed first (each point is replaced by the
    median of the five around it), so one bad early batch does not fake a steep descent.
    """
    rule = check_choice(rule, "suggestion", "lr_find", choices=SUGGESTIONS)
    if len(losses) < 5:
        return None
    curve = np.asarray(smooth(_despiked(np.asarray(losses, dtype=np.float64)), smoothing))
    skip = max(3, len(curve) // 10)
    if rule == "valley":
        return float(lrs[skip + _valley(curve[skip:])])
    lowest = skip + int(np.argmin(curve[skip:]))
    if lowest - skip < 2:
        return float(lrs[lowest])
    slope = np.gradient(curve, np.log10(np.asarray(lrs, dtype=np.float64)))
    return float(lrs[skip + int(np.argmin(slope[skip : lowest + 1]))])


@dataclass
class LRFindResult:
    """What ``model.lr_find`` measured: one point per step of the exponential ramp.

    Attributes:
        lrs: The learning rate of each step.
        losses: The raw training loss of each step (the batch's).
        smoothed_losses: Their debiased moving average, as the search saw it.
        suggestion: The suggested learning rate (None when too few steps ran).
        diverged: True when the search stopped early (loss diverged or not finite); the last
            point is then the divergent one and no suggestion reads it.
        rule: The suggestion rule, 'steepest' or 'valley'.
    """

    lrs: list[float]
    losses: list[float]
    smoothed_losses: list[float]
    suggestion: float | None
    diverged: bool
    rule: str

    _plotter: ClassVar[Callable[..., Any] | None] = None

    @classmethod
    def use_plotter(cls, plotter: Callable[..., Any]) -> None:
        """Make :meth:`plot` draw with ``plotter(result, **options)`` (``cnnkit.plots`` sets it)."""
        cls._plotter = plotter

    def plot(self, **options: Any) -> Any:
        """Draw the curve with ``cnnkit.plots.lr_find(self, **options)``; returns its Figure."""
        if LRFindResult._plotter is None:  # cnnkit.plots registers it when imported
            importlib.import_module("cnnkit.plots")
        if LRFindResult._plotter is None:
            raise RuntimeError("LRFindResult.plot: import cnnkit.plots first to draw the curve")
        return LRFindResult._plotter(self, **options)

    def __repr__(self) -> str:
        best = "None" if self.suggestion is None else f"{self.suggestion:.3g}"
        low = min((v for v in self.smoothed_losses if math.isfinite(v)), default=float("nan"))
        return (
            f"LRFindResult(steps={len(self.lrs)}, suggestion={best} ({self.rule}), "
            f"lowest smoothed loss={low:.4g}, diverged={self.diverged})"
        )
