"""Figures without pyplot's global state, and PNG files written atomically."""

from __future__ import annotations

import io
import os
from pathlib import Path

from matplotlib.figure import Figure

from cnnkit._files import atomic_write_bytes

#: Resolution of saved and embedded PNGs (pixels per inch of figure size).
DPI = 100


def new_figure(width: float, height: float) -> Figure:
    """A figure of ``width`` x ``height`` inches, drawn by the Agg backend (no display needed)."""
    return Figure(figsize=(width, height), dpi=DPI)


def png_bytes(figure: Figure, dpi: int = DPI) -> bytes:
    """Render ``figure`` to PNG bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, facecolor="white")
    return buffer.getvalue()


def finish(figure: Figure, save: str | os.PathLike | None) -> Figure:
    """Write ``figure`` to ``save`` as a PNG (atomically) when a path is given; return it."""
    if save is not None:
        if not isinstance(save, (str, os.PathLike)):
            raise TypeError(
                f"plots: save must be a file path (str or os.PathLike). Received: {save!r}"
            )
        atomic_write_bytes(Path(save), png_bytes(figure))
    return figure
