"""Where a classifier goes wrong: the confusion matrix and the misclassified images."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from cnnkit._arrays import class_labels, to_numpy
from cnnkit._validation import check_int
from cnnkit.plots._figure import finish, new_figure
from cnnkit.plots._images import class_name, display_images, grid_shape, show, tile_axes

#: Up to this many classes the matrix shows each cell's value and every class name.
ANNOTATE_UP_TO = 20


def confusion_counts(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """(n_classes, n_classes) counts: row = true class, column = predicted class."""
    flat = np.bincount(y_true * n_classes + y_pred, minlength=n_classes * n_classes)
    return flat.reshape(n_classes, n_classes)


def confusion_matrix(
    y_true: Any,
    y_pred: Any,
    class_names: Sequence[str] | None = None,
    normalize: bool = False,
    annotate: bool | None = None,
    save: str | os.PathLike | None = None,
) -> Figure:
    """Show which classes the model confuses with which: rows are true, columns predicted.

    Args:
        y_true: (n,) true labels (or one-hot rows).
        y_pred: (n,) predicted labels, or (n, classes) probabilities from ``predict``.
        class_names: one name per class; their number sets the matrix size.
        normalize: divide each row by its class's sample count (the diagonal is then each
            class's recall); otherwise show counts.
        annotate: write each cell's value; ``None`` does so up to 20 classes (at 100 classes
            the cells are too small for text).
        save: write the figure as a PNG to this path.

    Returns:
        A Figure with the matrix axes (``figure.axes[0]``) and its colour bar.
    """
    truth = class_labels(y_true, "y_true", "confusion_matrix")
    predicted = class_labels(y_pred, "y_pred", "confusion_matrix", n=len(truth))
    n_classes = _class_count(truth, predicted, class_names, "confusion_matrix")
    matrix = confusion_counts(truth, predicted, n_classes).astype(np.float64)
    if normalize:
        matrix = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    size = min(max(4.5, 0.45 * n_classes + 2.5), 12)
    figure = new_figure(size + 1.2, size)
    ax = figure.add_subplot()
    image = ax.imshow(matrix, cmap="Blues", vmin=0, interpolation="nearest")
    figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    _ticks(ax, n_classes, class_names)
    if annotate is None:
        annotate = n_classes <= ANNOTATE_UP_TO
    if annotate:
        _annotate(ax, matrix, normalize)
    accuracy = float(np.mean(truth == predicted)) if len(truth) else 0.0
    kind = "normalised by true class" if normalize else "counts"
    ax.set_title(f"Confusion matrix ({kind}), accuracy {accuracy:.3f}")
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    figure.tight_layout()
    return finish(figure, save)


def _class_count(truth: np.ndarray, predicted: np.ndarray, class_names: Any, owner: str) -> int:
    largest = int(max(truth.max(initial=-1), predicted.max(initial=-1)))
    if class_names is None:
        return largest + 1
    if isinstance(class_names, str) or not isinstance(class_names, Sequence):
        raise TypeError(
            f"{owner}: class_names must be a list of names, one per class. Received: {class_names!r}"
        )
    if largest >= len(class_names):
        raise ValueError(
            f"{owner}: label {largest} has no name; class_names has {len(class_names)} entries "
            f"(labels 0..{len(class_names) - 1})"
        )
    return len(class_names)


def _ticks(ax: Any, n_classes: int, class_names: Any) -> None:
    step = 1 if n_classes <= ANNOTATE_UP_TO else int(np.ceil(n_classes / 20))
    ticks = np.arange(0, n_classes, step)
    labels = [class_name(class_names, int(i)) for i in ticks]
    size = 10 if n_classes <= 10 else 8
    ax.set_xticks(ticks, labels, rotation=90, fontsize=size)
    ax.set_yticks(ticks, labels, fontsize=size)


def _annotate(ax: Any, matrix: np.ndarray, normalize: bool) -> None:
    threshold = matrix.max() / 2 if matrix.size else 0
    size = 9 if len(matrix) <= 10 else 7
    for (row, column), value in np.ndenumerate(matrix):
        text = f"{value:.2f}" if normalize else f"{int(value)}"
        colour = "white" if value > threshold else "black"
        ax.text(column, row, text, ha="center", va="center", fontsize=size, color=colour)


def misclassified(
    x: Any,
    y_true: Any,
    y_pred: Any,
    class_names: Sequence[str] | None = None,
    max_images: int = 16,
    columns: int = 8,
    save: str | os.PathLike | None = None,
) -> Figure:
    """Show test images the model got wrong, with the true and the predicted class.

    Args:
        x: (n, height, width[, channels]) images, uint8 or float.
        y_true: (n,) true labels (or one-hot rows).
        y_pred: (n,) predicted labels, or (n, classes) probabilities (the title then also
            gives the predicted class's probability).
        class_names: one name per class, for the titles.
        max_images: images shown at most (the first misclassified ones, in order).
        columns: images per row.
        save: write the figure as a PNG to this path.

    Returns:
        A Figure with one axes per image shown, titled ``"true: <name>\\npred: <name>"``; one
        axes with a note when nothing is misclassified.
    """
    images = display_images(x, "x", "misclassified")
    truth = class_labels(y_true, "y_true", "misclassified", n=len(images))
    scores = to_numpy(y_pred, "y_pred", "misclassified")
    predicted = class_labels(scores, "y_pred", "misclassified", n=len(images))
    max_images = check_int(max_images, "max_images", "misclassified", minimum=1)
    columns = check_int(columns, "columns", "misclassified", minimum=1)
    wrong = np.flatnonzero(truth != predicted)
    shown = wrong[:max_images]
    if not len(shown):
        figure = new_figure(4, 1.2)
        ax = figure.add_subplot()
        ax.axis("off")
        ax.text(0.5, 0.5, f"No misclassified images (of {len(images)})", ha="center", va="center")
        return finish(figure, save)
    rows, cols = grid_shape(len(shown), columns)
    figure = new_figure(1.35 * cols + 0.2, 1.6 * rows + 0.5)
    for index, ax in zip(shown, tile_axes(figure, len(shown), cols)):
        title = f"true: {class_name(class_names, truth[index])}\npred: {class_name(class_names, predicted[index])}"
        if scores.ndim == 2 and scores.shape[1] > 1:
            title += f" ({scores[index, predicted[index]]:.2f})"
        show(ax, images[index], title=title)
    figure.suptitle(
        f"{len(wrong)} of {len(images)} images misclassified"
        + (f"; the first {len(shown)}" if len(shown) < len(wrong) else ""),
        fontsize=10,
    )
    figure.tight_layout()
    return finish(figure, save)
