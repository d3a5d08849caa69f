"""The worst predictions as a picture: each image with what the model said, an optional heat
map over it, and the training images nearest to it in the model's latent space."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from cnnkit import explain
from cnnkit._arrays import class_labels, to_numpy
from cnnkit._validation import check_int
from cnnkit.inspect import features
from cnnkit.neighbors import KNeighborsClassifier
from cnnkit.plots._figure import finish, new_figure
from cnnkit.plots._images import display_images, show

_OWNER = "plot_top_losses"


def top_losses_figure(
    interp: Any,
    records: list[Any],
    train: tuple[Any, Any] | None,
    neighbors: int,
    maps: Any,
    save: str | os.PathLike | None,
) -> Figure:
    """One row per record: the image (under its heat map), then its nearest training images."""
    indices = np.array([record.index for record in records])
    images = display_images(np.asarray(interp.images)[indices], "images", _OWNER)
    overlays = _maps(maps, interp, indices)
    found = _nearest(interp, indices, train, neighbors)
    columns = 1 + (0 if found is None else neighbors)
    figure = new_figure(1.6 * columns + 0.6, 1.9 * len(records) + 0.3)
    axes = np.atleast_2d(figure.subplots(len(records), columns, squeeze=False))
    for row, record in enumerate(records):
        title = (
            f"#{record.index} loss {record.loss:.2f}\ntrue {record.true} "
            f"({record.true_probability:.2f})\npred {record.predicted} "
            f"({record.predicted_probability:.2f})"
        )
        show(axes[row, 0], images[row], title=title)
        if overlays is not None:
            height, width = images[row].shape[:2]
            axes[row, 0].imshow(
                overlays[row], cmap="jet", alpha=0.4, extent=(-0.5, width - 0.5, height - 0.5, -0.5)
            )
        if found is not None:
            _show_neighbours(axes[row, 1:], found, row, interp, record)
    figure.suptitle(f"The {len(records)} largest losses", fontsize=10)
    figure.tight_layout()
    return finish(figure, save)


def _show_neighbours(axes: Any, found: tuple, row: int, interp: Any, record: Any) -> None:
    train_images, train_labels, nearest = found
    for rank, ax in enumerate(axes):
        label = int(train_labels[nearest[row, rank]])
        show(ax, train_images[nearest[row, rank]], title=f"near #{rank + 1}\n{interp.name(label)}")
        ax.title.set_color("green" if interp.name(label) == record.true else "red")


def _maps(maps: Any, interp: Any, indices: np.ndarray) -> np.ndarray | None:
    """(k, h, w) heat maps of the shown examples, scaled to [0, 1]; None without maps."""
    if maps is None:
        return None
    if isinstance(maps, str) and maps == "grad_cam":
        if interp.model is None or not explain.spatial_layers(interp.model):
            return None  # no convolution to read: the plain images
        maps = explain.grad_cam
    if isinstance(maps, str):
        raise ValueError(
            f"{_OWNER}: maps must be 'grad_cam', None, an (n, height, width) array or a "
            f"function (model, images) -> maps. Received: maps={maps!r}"
        )
    if callable(maps):
        values = to_numpy(maps(interp.model, np.asarray(interp.images)[indices]), "maps", _OWNER)
    else:
        values = to_numpy(maps, "maps", _OWNER)
        if len(values) != len(interp.labels):
            raise ValueError(
                f"{_OWNER}: maps must have one map per example ({len(interp.labels)}); received "
                f"{len(values)}"
            )
        values = values[indices]
    values = values.reshape(values.shape[:3]) if values.ndim == 4 else values
    if values.ndim != 3 or len(values) != len(indices):
        raise ValueError(
            f"{_OWNER}: maps must be (n, height, width) heat maps; received shape {values.shape}"
        )
    low = values.min(axis=(1, 2), keepdims=True)
    span = values.max(axis=(1, 2), keepdims=True) - low
    return (values - low) / np.where(span > 0, span, 1)


def _nearest(interp: Any, indices: np.ndarray, train: Any, neighbors: int) -> tuple | None:
    """(training images for display, training labels, (k, neighbors) nearest indices)."""
    if train is None:
        return None
    if interp.model is None:
        raise ValueError(
            f"{_OWNER}: train= needs the model's latent space; build the Interpretation with "
            "from_model (or pass model=)"
        )
    if not (isinstance(train, (tuple, list)) and len(train) == 2):
        raise TypeError(f"{_OWNER}: train must be (x_train, y_train). Received: {train!r:.80}")
    x_train = to_numpy(train[0], "train[0]", _OWNER)
    y_train = class_labels(train[1], "train[1]", _OWNER, n=len(x_train))
    neighbors = check_int(neighbors, "neighbors", _OWNER, minimum=1, maximum=len(x_train))
    index = KNeighborsClassifier(n_neighbors=neighbors, device="cpu")
    index.fit(features(interp.model, x_train), y_train)
    query = features(interp.model, np.asarray(interp.images)[indices])
    nearest = index.kneighbors(query, return_distance=False)
    return display_images(x_train, "train[0]", _OWNER), y_train, nearest
