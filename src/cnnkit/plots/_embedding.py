"""Maps of a representation: a t-SNE scatter by class, and an image with its nearest images."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.offsetbox import AnnotationBbox, OffsetImage

from cnnkit._arrays import class_labels, to_numpy
from cnnkit._validation import check_int
from cnnkit.plots._figure import finish, new_figure
from cnnkit.plots._images import class_name, display_image, display_images, show, tile_axes

#: Up to this many classes the scatter has a legend.
LEGEND_UP_TO = 20


def class_colours(n_classes: int) -> np.ndarray:
    """(n_classes, 4) RGBA colours: tab10 / tab20 when they suffice, else spread over turbo."""
    if n_classes <= 10:
        return colormaps["tab10"](np.arange(n_classes))
    if n_classes <= 20:
        return colormaps["tab20"](np.arange(n_classes))
    return colormaps["turbo"](np.linspace(0.02, 0.98, n_classes))


def embedding(
    points_2d: Any,
    labels: Any,
    class_names: Sequence[str] | None = None,
    images: Any = None,
    max_images: int = 150,
    title: str | None = None,
    save: str | os.PathLike | None = None,
) -> Figure:
    """Scatter a 2-D map (e.g. from ``inspect.tsne``) coloured by class; optionally draw images.

    With ``images``, thumbnails of up to ``max_images`` points, spread over the map so that they
    barely overlap, are drawn at their positions (as the lecture's CIFAR-10 t-SNE), framed in their class colour.

    Args:
        points_2d: (n, 2) coordinates.
        labels: (n,) class labels (or one-hot rows).
        class_names: one name per class, for the legend (drawn up to 20 classes).
        images: (n, height, width[, channels]) images of the points, uint8 or float.
        max_images: thumbnails drawn at most.
        title: axes title.
        save: write the figure as a PNG to this path.

    Returns:
        A Figure with one axes: one scatter collection per class present.
    """
    points = to_numpy(points_2d, "points_2d", "embedding").astype(np.float64)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(
            f"embedding: points_2d must have shape (n, 2); received {points.shape}. Use "
            "inspect.tsne(..., n_components=2) for a 2-D map"
        )
    y = class_labels(labels, "labels", "embedding", n=len(points))
    n_classes = max(int(y.max(initial=-1)) + 1, 0 if class_names is None else len(class_names))
    colours = class_colours(n_classes)
    figure = new_figure(8.5 if n_classes <= LEGEND_UP_TO else 7.5, 7)
    ax = figure.add_subplot()
    for label in np.unique(y):
        mine = y == label
        ax.scatter(
            *points[mine].T, s=8, color=colours[label], label=class_name(class_names, int(label))
        )
    if images is not None:
        thumbnails = display_images(images, "images", "embedding")
        if len(thumbnails) != len(points):
            raise ValueError(
                f"embedding: images has {len(thumbnails)} images but points_2d has {len(points)} points"
            )
        _thumbnails(
            ax,
            points,
            thumbnails,
            colours[y],
            check_int(max_images, "max_images", "embedding", minimum=1),
        )
    if n_classes <= LEGEND_UP_TO:
        ax.legend(
            loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, markerscale=2, frameon=False
        )
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title)
    figure.tight_layout()
    return finish(figure, save)


def spread_subset(points: np.ndarray, count: int, min_gap: float = 0.0) -> list[int]:
    """Up to ``count`` point indices far from each other (greedy farthest-point order), none
    closer than ``min_gap`` to another in coordinates scaled to the unit square."""
    if not len(points) or not count:
        return []
    span = points.max(axis=0) - points.min(axis=0)
    scaled = (points - points.min(axis=0)) / np.where(span > 0, span, 1)
    chosen = [0]
    distance = np.linalg.norm(scaled - scaled[0], axis=1)
    while len(chosen) < min(count, len(points)):
        index = int(distance.argmax())
        if distance[index] <= min_gap:
            break
        chosen.append(index)
        distance = np.minimum(distance, np.linalg.norm(scaled - scaled[index], axis=1))
    return chosen


def _thumbnails(
    ax: Any, points: np.ndarray, images: np.ndarray, colours: np.ndarray, count: int
) -> None:
    zoom = 22 / max(images.shape[1:3])
    for index in spread_subset(points, count, min_gap=0.045):
        image = images[index]
        box = OffsetImage(image, zoom=zoom, cmap="gray" if image.ndim == 2 else None)
        box.get_children()[0].set_clim(0, 1)
        frame = AnnotationBbox(
            box,
            points[index],
            frameon=True,
            pad=0.1,
            bboxprops={"edgecolor": colours[index], "linewidth": 1.5},
        )
        ax.add_artist(frame)


def neighbors(
    query: Any,
    results: Any,
    distances: Any = None,
    result_labels: Any = None,
    query_label: int | None = None,
    class_names: Sequence[str] | None = None,
    title: str | None = None,
    save: str | os.PathLike | None = None,
) -> Figure:
    """Show an image next to its nearest images (e.g. from ``KNeighborsClassifier.kneighbors``).

    Args:
        query: one image (height, width[, channels]).
        results: (k, height, width[, channels]) its nearest images, nearest first.
        distances: (k,) their distances, shown in the titles.
        result_labels: (k,) their labels; with ``query_label`` a matching label is titled in
            green, a different one in red.
        query_label: the query's label.
        class_names: one name per class, for the titles.
        title: a title over the row (e.g. "pixel space").
        save: write the figure as a PNG to this path.

    Returns:
        A Figure with 1 + k axes: the query (titled "query"), then the neighbours ("#1", ...).
    """
    image = display_image(query, "query", "neighbors")
    found = display_images(results, "results", "neighbors")
    k = len(found)
    gaps = None if distances is None else to_numpy(distances, "distances", "neighbors").reshape(-1)
    if gaps is not None and len(gaps) != k:
        raise ValueError(f"neighbors: distances has {len(gaps)} values but results has {k} images")
    labels = (
        None
        if result_labels is None
        else class_labels(result_labels, "result_labels", "neighbors", n=k)
    )
    figure = new_figure(1.3 * (k + 1) + 0.2, 1.9 if title else 1.7)
    axes = tile_axes(figure, k + 1, k + 1)
    query_title = "query" + (
        "" if query_label is None else f"\n{class_name(class_names, int(query_label))}"
    )
    show(axes[0], image, title=query_title)
    for rank, ax in enumerate(axes[1:]):
        text = f"#{rank + 1}" + ("" if gaps is None else f" d={_distance(gaps[rank])}")
        if labels is not None:
            text += f"\n{class_name(class_names, int(labels[rank]))}"
        show(ax, found[rank], title=text)
        if labels is not None and query_label is not None:
            ax.title.set_color("green" if labels[rank] == query_label else "red")
    for spine in axes[0].spines.values():
        spine.set_color("black")
        spine.set_linewidth(2)
    if title:
        figure.suptitle(title, fontsize=10, x=0.01, ha="left")
    figure.tight_layout(rect=(0, 0, 1, 0.88) if title else None)
    return finish(figure, save)


def _distance(value: float) -> str:
    """A distance in at most 4 significant digits, without exponent for large values."""
    return f"{value:.0f}" if abs(value) >= 1000 else f"{value:.3g}"
