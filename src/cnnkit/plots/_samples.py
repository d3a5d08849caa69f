"""A first look at a dataset: a few images of every class."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from cnnkit._arrays import class_labels
from cnnkit._validation import check_int
from cnnkit.plots._figure import finish, new_figure
from cnnkit.plots._images import class_name, display_images, grid_shape, show, tile_axes


def samples(
    x: Any,
    y: Any,
    class_names: Sequence[str] | None = None,
    per_class: int = 8,
    max_rows: int = 20,
    columns: int = 10,
    seed: int = 0,
    save: str | os.PathLike | None = None,
) -> Figure:
    """Show example images of each class, to see what the network has to tell apart.

    Up to ``max_rows`` classes, each class gets a row of ``per_class`` random images (seeded)
    with its name on the left. With more classes (e.g. CIFAR-100) each class gets one image,
    titled with its name, in a grid ``columns`` wide.

    Args:
        x: (n, height, width[, channels]) images, uint8 or float.
        y: (n,) labels (or one-hot rows).
        class_names: one name per class; classes without images are skipped.
        per_class: images per class (one row per class).
        max_rows: the most classes drawn one row each.
        columns: grid width when there are more classes than ``max_rows``.
        seed: which random images are picked.
        save: write the figure as a PNG to this path.

    Returns:
        A Figure with one axes per image.
    """
    images = display_images(x, "x", "samples")
    labels = class_labels(y, "y", "samples", n=len(images))
    per_class = check_int(per_class, "per_class", "samples", minimum=1)
    max_rows = check_int(max_rows, "max_rows", "samples", minimum=1)
    columns = check_int(columns, "columns", "samples", minimum=1)
    rng = np.random.default_rng(check_int(seed, "seed", "samples", minimum=0))
    classes = np.unique(labels)
    if len(classes) <= max_rows:
        return finish(_rows(images, labels, classes, class_names, per_class, rng), save)
    picks = [int(rng.choice(np.flatnonzero(labels == c))) for c in classes]
    rows, cols = grid_shape(len(picks), columns)
    figure = new_figure(1.1 * cols, 1.25 * rows)
    for index, label, ax in zip(picks, classes, tile_axes(figure, len(picks), cols)):
        show(ax, images[index], title=class_name(class_names, int(label)))
    figure.tight_layout()
    return finish(figure, save)


def _rows(
    images: np.ndarray,
    labels: np.ndarray,
    classes: np.ndarray,
    class_names: Any,
    per_class: int,
    rng: np.random.Generator,
) -> Figure:
    """One row of up to ``per_class`` images for each class, its name as the row label."""
    figure = new_figure(0.95 * per_class + 1.0, 0.95 * len(classes) + 0.2)
    grid = figure.add_gridspec(
        len(classes), per_class, left=0.14, right=0.99, top=0.99, bottom=0.01
    )
    for row, label in enumerate(classes):
        members = np.flatnonzero(labels == label)
        chosen = rng.choice(members, size=min(per_class, len(members)), replace=False)
        for column, index in enumerate(np.sort(chosen)):
            ax = figure.add_subplot(grid[row, column])
            show(ax, images[index])
            if column == 0:
                ax.set_ylabel(
                    class_name(class_names, int(label)),
                    rotation=0,
                    ha="right",
                    va="center",
                    fontsize=9,
                )
    return figure
