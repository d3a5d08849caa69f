"""Learning curves: loss and each metric per epoch, training next to validation."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from cnnkit.plots._figure import finish, new_figure


def history(history: Any, columns: int = 3, save: str | os.PathLike | None = None) -> Figure:
    """Plot the curves of ``fit`` to see whether the model learns, and whether it overfits.

    Args:
        history: the ``History`` returned by ``model.fit`` or its ``.history`` dict
            ``{"loss": [...], "val_loss": [...], ...}``.
        columns: plots per row.
        save: write the figure as a PNG to this path.

    Returns:
        A Figure with one axes per quantity (``loss``, then each metric), titled with its name;
        the training curve is labelled ``train`` and ``val_<name>`` is labelled ``validation``
        (with a legend only where there is a validation curve). One epoch is drawn as markers
        with their values, on an axis from 0.5 to 1.5 with one tick and values from 0.
    """
    logs = _logs(history)
    names = _quantities(logs)
    rows = math.ceil(len(names) / columns)
    figure = new_figure(4.2 * min(columns, len(names)), 3.2 * rows)
    for index, name in enumerate(names):
        ax = figure.add_subplot(rows, min(columns, len(names)), index + 1)
        _plot_quantity(ax, logs, name)
    figure.tight_layout()
    return finish(figure, save)


def _plot_quantity(ax: Any, logs: dict[str, list[float]], name: str) -> None:
    """One quantity's training and validation values; one epoch is a marker at epoch 1."""
    curves = ((name, "train", "o-"), (f"val_{name}", "validation", "s--"))
    drawn = [(key, label, style) for key, label, style in curves if logs.get(key)]
    epochs = max(len(logs[key]) for key, _, _ in drawn)
    for key, label, style in drawn:
        values = logs[key]
        marker = style[0] if epochs == 1 else style  # one point: no line to draw
        ax.plot(
            range(1, len(values) + 1), values, marker, label=label, markersize=3 + 3 * (epochs == 1)
        )
    ax.set_title(name)
    ax.set_xlabel("epoch")
    if epochs == 1:
        _one_epoch_axes(ax, [logs[key][0] for key, _, _ in drawn])
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    if any(label == "validation" for _, label, _ in drawn):
        ax.legend(fontsize=8)  # a lone "train" legend (e.g. learning_rate) says nothing


def _one_epoch_axes(ax: Any, values: list[float]) -> None:
    """Axes for single points: one tick at epoch 1, values from 0 and printed beside their
    markers (not matplotlib's 0.945 to 1.05 around each point, which hides the magnitude)."""
    ax.set_xlim(0.5, 1.5)
    ax.set_xticks([1])
    finite = [value for value in values if math.isfinite(value)]
    low, high = min([0.0, *finite]), max([0.0, *finite])
    if high > low:
        ax.set_ylim(low - 0.05 * (high - low), high + 0.2 * (high - low))
    for value in finite:
        ax.annotate(
            f"{value:.4g}", (1, value), xytext=(8, 0), textcoords="offset points", va="center"
        )


def _logs(history: Any) -> dict[str, list[float]]:
    logs = getattr(history, "history", history)
    if not isinstance(logs, Mapping):
        raise TypeError(
            "history: expected the History returned by model.fit or its .history dict. "
            f"Received: {type(history).__name__}"
        )
    clean: dict[str, list[float]] = {}
    for key, values in logs.items():
        try:
            clean[str(key)] = [float(v) for v in values]
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"history: {key!r} must be a list of numbers, one per epoch. Received: {values!r}"
            ) from exc
    if not any(clean.values()):
        raise ValueError("history: there is nothing to plot; the history has no epochs")
    return clean


def _quantities(logs: dict[str, list[float]]) -> list[str]:
    """``loss`` first, then the other quantities in logging order (validation-only ones too)."""
    names: list[str] = []
    for key in logs:
        name = key[4:] if key.startswith("val_") else key
        if name not in names and logs[key]:
            names.append(name)
    if "loss" in names:
        names.remove("loss")
        names.insert(0, "loss")
    return names
