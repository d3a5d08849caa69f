"""The text of ``model.summary()``: one row per layer, then parameter totals, in plain characters."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cnnkit.layers._base import Layer

_HEADERS = ("Layer (type)", "Output Shape", "Param #")


def format_shape(shape: tuple | None) -> str:
    """``(None, 28, 28, 6)`` for a shape whose batch axis is unknown."""
    if shape is None:
        return "?"
    return (
        "("
        + ", ".join("None" if s is None else str(s) for s in shape)
        + ("," if len(shape) == 1 else "")
        + ")"
    )


def readable_size(num_bytes: float) -> str:
    """Bytes as ``241.04 KB`` (powers of 1024, as Keras prints them)."""
    for unit in ("B", "KB", "MB", "GB"):
        if num_bytes < 1024 or unit == "GB":
            return f"{num_bytes:.2f} {unit}"
        num_bytes /= 1024
    return f"{num_bytes:.2f} TB"  # unreachable; keeps type checkers content


def layer_rows(model: Layer, show_trainable: bool) -> list[tuple[str, ...]]:
    """One tuple of cell texts per layer: name (type), output shape, parameter count."""
    rows = []
    for layer in model.layers:
        row = (
            f"{layer.name} ({type(layer).__name__})",
            format_shape(layer.output_shape),
            f"{layer.count_params():,}",
        )
        if show_trainable:
            row += ("Y" if layer.trainable else "N",)
        rows.append(row)
    return rows


def totals(model: Layer) -> list[str]:
    """The Total / Trainable / Non-trainable lines, with sizes in memory."""
    trainable = sum(int(w.numel()) for w in model.trainable_weights)
    trainable_bytes = sum(int(w.numel()) * w.element_size() for w in model.trainable_weights)
    frozen = sum(int(w.numel()) for w in model.non_trainable_weights)
    frozen_bytes = sum(int(w.numel()) * w.element_size() for w in model.non_trainable_weights)
    return [
        f"Total params: {trainable + frozen:,} ({readable_size(trainable_bytes + frozen_bytes)})",
        f"Trainable params: {trainable:,} ({readable_size(trainable_bytes)})",
        f"Non-trainable params: {frozen:,} ({readable_size(frozen_bytes)})",
    ]


def table_lines(
    headers: tuple[str, ...], rows: list[tuple[str, ...]], min_width: int | None
) -> list[str]:
    """Lay out ``rows`` under ``headers``: first column left-aligned, numbers right-aligned."""
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows)]
    gap = 3
    width = sum(widths) + gap * (len(widths) - 1) + 1
    if min_width and width < min_width:
        widths[0] += min_width - width
        width = min_width

    def render(cells: tuple[str, ...]) -> str:
        parts = [cells[0].ljust(widths[0])]
        parts += [
            cell.ljust(w) if i == 1 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(cells[1:], widths[1:]), 1)
        ]
        return " " + (" " * gap).join(parts).rstrip()

    lines = ["_" * width, render(headers), "=" * width]
    lines += [render(row) for row in rows]
    lines.append("=" * width)
    return lines


def summary_lines(
    model: Layer, line_length: int | None = None, show_trainable: bool = False
) -> list[str]:
    """Every line of the summary of a Sequential ``model``."""
    headers = _HEADERS + (("Trainable",) if show_trainable else ())
    lines = [f'Model: "{model.name}"']
    table = table_lines(headers, layer_rows(model, show_trainable), line_length)
    lines += table
    lines += totals(model)
    lines.append("_" * len(table[0]))
    return lines
