"""What the network looks at: explanation maps drawn over their images, one method or several
side by side."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from cnnkit._arrays import class_labels, to_numpy
from cnnkit._validation import check_int, check_number
from cnnkit.plots._figure import finish, new_figure
from cnnkit.plots._images import class_name, display_images, grid_shape, show, tile_axes

#: Colour map of the overlays: blue (unimportant) to red (important), as in the Grad-CAM paper.
OVERLAY_CMAP = "jet"


def explanation(
    images: Any,
    maps: Any,
    true: Any = None,
    predicted: Any = None,
    probabilities: Any = None,
    class_names: Sequence[str] | None = None,
    alpha: float = 0.5,
    cmap: str = OVERLAY_CMAP,
    columns: int = 6,
    title: str | None = None,
    save: str | os.PathLike | None = None,
) -> Figure:
    """Overlay each image's explanation map on it, titled with its true and predicted class.

    The image is drawn first (grayscale in gray, RGB in colour), then its map, scaled to its
    own [min, max], in ``cmap`` with transparency ``alpha``.

    Args:
        images: (n, height, width[, channels]) images, uint8 or float, grayscale or RGB.
        maps: (n, height, width) maps from a ``cnnkit.explain`` method.
        true: (n,) true labels, or None.
        predicted: (n,) predicted labels, or None (taken from ``probabilities`` when given).
        probabilities: (n, classes) model outputs; the title then gives the predicted class's
            probability.
        class_names: one name per class, for the titles.
        alpha: opacity of the map, in [0, 1].
        cmap: matplotlib colour map name of the map.
        columns: images per row.
        title: a title above all images, or None.
        save: write the figure as a PNG to this path.

    Returns:
        A Figure with one axes per image; each holds two images (the picture, then the map).
    """
    owner = "explanation"
    pictures, overlays = _checked(images, maps, owner)
    titles = _titles(len(pictures), true, predicted, probabilities, class_names, owner)
    alpha = check_number(alpha, "alpha", owner, minimum=0, maximum=1)
    columns = check_int(columns, "columns", owner, minimum=1)
    rows, cols = grid_shape(max(len(pictures), 1), columns)
    figure = new_figure(1.6 * cols + 0.2, 1.8 * rows + 0.2)
    for index, ax in enumerate(tile_axes(figure, len(pictures), cols)):
        overlay(ax, pictures[index], overlays[index], titles[index], alpha, cmap)
    if title is not None:
        figure.suptitle(str(title), fontsize=9)
    figure.tight_layout()
    return finish(figure, save)


def explanation_grid(
    images: Any,
    maps: Mapping[str, Any],
    true: Any = None,
    predicted: Any = None,
    probabilities: Any = None,
    class_names: Sequence[str] | None = None,
    alpha: float = 0.5,
    cmap: str = OVERLAY_CMAP,
    save: str | os.PathLike | None = None,
) -> Figure:
    """Several methods side by side: one row per image, the image alone then one column per
    method (``{"Grad-CAM": maps, "saliency": maps, ...}``, each (n, height, width)).

    Arguments as in :func:`explanation`; the first column's titles name the classes and the
    first row's name the methods.

    Returns:
        A Figure with ``n * (1 + len(maps))`` axes, row by row.
    """
    owner = "explanation_grid"
    if not isinstance(maps, Mapping) or not maps:
        raise TypeError(
            f"{owner}: maps must be a non-empty dict {{method name: (n, height, width) maps}}. "
            f"Received: {type(maps).__name__}"
        )
    checked = {str(name): _checked(images, value, owner)[1] for name, value in maps.items()}
    pictures = display_images(images, "images", owner)
    titles = _titles(len(pictures), true, predicted, probabilities, class_names, owner)
    alpha = check_number(alpha, "alpha", owner, minimum=0, maximum=1)
    columns = 1 + len(checked)
    figure = new_figure(1.6 * columns + 0.2, 1.7 * max(len(pictures), 1) + 0.3)
    axes = tile_axes(figure, len(pictures) * columns, columns)
    for row in range(len(pictures)):
        first = axes[row * columns]
        show(first, pictures[row], title=titles[row] or ("image" if row == 0 else None))
        for column, (name, values) in enumerate(checked.items(), start=1):
            title = name if row == 0 else None
            overlay(axes[row * columns + column], pictures[row], values[row], title, alpha, cmap)
    figure.tight_layout()
    return finish(figure, save)


def overlay(
    ax: Axes, picture: np.ndarray, values: np.ndarray, title: str | None, alpha: float, cmap: str
) -> None:
    """Draw one [0, 1] picture and its map over it, scaled to the map's own range."""
    show(ax, picture, title=title)
    low, high = float(values.min()), float(values.max())
    scaled = (values - low) / (high - low) if high > low else np.zeros_like(values)
    ax.imshow(scaled, cmap=cmap, alpha=alpha, vmin=0, vmax=1, interpolation="bilinear")


def _checked(images: Any, maps: Any, owner: str) -> tuple[np.ndarray, np.ndarray]:
    """The images as [0, 1] pictures and the maps as float (n, h, w) arrays that fit them."""
    pictures = display_images(images, "images", owner)
    values = to_numpy(maps, "maps", owner)
    if values.ndim == 4 and values.shape[-1] == 1:
        values = values[..., 0]
    if values.shape != pictures.shape[:3]:
        raise ValueError(
            f"{owner}: maps must be one (height, width) map per image, shape "
            f"{pictures.shape[:3]}; received shape {values.shape}"
        )
    if not np.issubdtype(values.dtype, np.number) or not np.isfinite(values).all():
        raise ValueError(f"{owner}: maps must hold finite numbers (no NaN or infinity)")
    return pictures, values.astype(np.float32)


def _titles(
    n: int, true: Any, predicted: Any, probabilities: Any, class_names: Any, owner: str
) -> list[str | None]:
    """``"true: A\\npred: B (0.93)"`` per image, from what is given (None when nothing is)."""
    truth = None if true is None else class_labels(true, "true", owner, n=n)
    scores = None if probabilities is None else to_numpy(probabilities, "probabilities", owner)
    if scores is not None and (scores.ndim != 2 or len(scores) != n):
        raise ValueError(
            f"{owner}: probabilities must be (n, classes) with n = {n} images; received shape "
            f"{scores.shape}"
        )
    if predicted is not None:
        guess = class_labels(predicted, "predicted", owner, n=n)
    else:
        guess = None if scores is None else scores.argmax(axis=1)
    titles: list[str | None] = []
    for i in range(n):
        lines = []
        if truth is not None:
            lines.append(f"true: {class_name(class_names, int(truth[i]))}")
        if guess is not None:
            line = f"pred: {class_name(class_names, int(guess[i]))}"
            if scores is not None and 0 <= guess[i] < scores.shape[1]:
                line += f" ({scores[i, guess[i]]:.2f})"
            lines.append(line)
        titles.append("\n".join(lines) or None)
    return titles
