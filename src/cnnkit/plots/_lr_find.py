"""The learning-rate range test's curve: loss against learning rate, on a log axis."""

from __future__ import annotations

import math
import os

from matplotlib.figure import Figure

from cnnkit.plots._figure import finish, new_figure
from cnnkit.training import LRFindResult


def lr_find(
    result: LRFindResult, skip_start: int = 0, save: str | os.PathLike | None = None
) -> Figure:
    """Draw ``model.lr_find``'s curve to choose a learning rate by eye.

    Args:
        result: The ``LRFindResult`` returned by ``model.lr_find``.
        skip_start: Leave out this many first points (where the average is still settling).
        save: write the figure as a PNG to this path.

    Returns:
        A Figure with the raw losses (faint) and the smoothed losses against the learning
        rate on a log axis, and the suggestion (when there is one) as a red dot labelled
        with its value.
    """
    if not isinstance(result, LRFindResult):
        raise TypeError(
            "plots.lr_find: result must be the LRFindResult of model.lr_find. "
            f"Received: result={type(result).__name__}"
        )
    figure = new_figure(6.0, 4.0)
    ax = figure.add_subplot(1, 1, 1)
    lrs = result.lrs[skip_start:]
    ax.plot(lrs, result.losses[skip_start:], alpha=0.3, label="loss")
    ax.plot(lrs, result.smoothed_losses[skip_start:], label="smoothed loss")
    if result.suggestion is not None:
        index = min(range(len(result.lrs)), key=lambda i: abs(result.lrs[i] - result.suggestion))
        ax.plot(
            [result.suggestion],
            [result.smoothed_losses[index]],
            "o",
            color="red",
            label=f"{result.rule}: {result.suggestion:.2g}",
        )
    ax.set_xscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("loss")
    _limits(ax, result, skip_start)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    figure.tight_layout()
    return finish(figure, save)


def _limits(ax, result: LRFindResult, skip_start: int) -> None:
    """Show the smoothed curve whole and the raw losses below its top; not the divergent
    last point, which would squash the rest."""
    cut = len(result.lrs) - 1 if result.diverged else len(result.lrs)
    shown = result.smoothed_losses[skip_start:cut] + result.losses[skip_start:cut]
    finite = [v for v in shown if math.isfinite(v)]
    if not finite:
        return
    smoothed = [v for v in result.smoothed_losses[skip_start:cut] if math.isfinite(v)]
    low, high = min(finite), max(smoothed or finite)  # raw spikes above the curve are cut
    margin = 0.05 * (high - low) or 0.05 * abs(high) or 0.05
    ax.set_ylim(low - margin, high + margin)


LRFindResult.use_plotter(lr_find)
