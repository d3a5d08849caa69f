"""The label audit page: each example whose label is probably wrong, with its image, given and
suggested class, and its nearest neighbours in the model's latent space, so a person can judge."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cnnkit._arrays import class_labels, to_numpy
from cnnkit._files import atomic_write_bytes
from cnnkit._validation import check_int
from cnnkit.inspect import features
from cnnkit.interpret import LabelIssues
from cnnkit.neighbors import KNeighborsClassifier
from cnnkit.report._html import escape, page, paragraph
from cnnkit.report._thumbnails import image_table, thumbnail

_OWNER = "report.audit_page"


def audit_page(
    out_path: str | os.PathLike,
    issues: LabelIssues,
    images: Any,
    labels: Any,
    class_names: Sequence[str],
    *,
    model: Any = None,
    preprocess: Callable[[np.ndarray], Any] | None = None,
    file_paths: Sequence[str] | None = None,
    numbers: Sequence[int] | None = None,
    max_shown: int = 100,
    neighbors: int = 3,
    title: str = "Likely label issues",
    note: str = "",
) -> Path:
    """Write a self-contained HTML page listing the likely label issues, most suspicious first.

    Each row shows the image, its given and suggested class, the probability of the given
    class (lower is more suspicious), its file, and, with a model, the ``neighbors`` other
    images nearest to it in the model's latent space (``cnnkit.inspect.features``: the input
    of the last Dense layer) with their given classes.

    Args:
        out_path: the HTML file to write (atomically).
        issues: from ``cnnkit.interpret.find_label_issues`` or
            ``label_issues_from_probabilities``, on these images.
        images: (n, height, width[, channels]) the images the issues index, as shown.
        labels: (n,) the given integer label of every image (the neighbours' labels).
        class_names: one name per class.
        model: a trained model whose latent space gives the neighbours; None leaves them out.
        preprocess: turns ``images`` into model inputs (e.g. scaling to [0, 1]).
        file_paths: the file of each image, shown when given.
        numbers: the number shown for each image (e.g. its index in the whole dataset when
            ``images`` are a sample of it); default its position in ``images``.
        max_shown: rows shown at most (the page says how many are left out).
        neighbors: neighbours shown per row.
        title: the page title.
        note: a sentence under the title, e.g. how the probabilities were computed.

    Returns:
        The path written.
    """
    pictures = to_numpy(images, "images", _OWNER)
    given = class_labels(labels, "labels", _OWNER, n=len(pictures))
    _check_issues(issues, given)
    max_shown = check_int(max_shown, "max_shown", _OWNER, minimum=1)
    neighbors = check_int(neighbors, "neighbors", _OWNER, minimum=1)
    shown = issues.indices[:max_shown]
    numbers = np.arange(len(pictures)) if numbers is None else np.asarray(numbers)
    if numbers.shape != (len(pictures),):
        raise ValueError(
            f"{_OWNER}: numbers must give one number per image ({len(pictures)}). Received: "
            f"shape {numbers.shape}"
        )
    nearest = _nearest(model, pictures, preprocess, shown, neighbors)
    rows = [
        _row(rank, issues, pictures, given, numbers, class_names, file_paths, nearest)
        for rank in range(len(shown))
    ]
    headers = ["#", "image", "index", "given", "suggested", "p(given)", "file"]
    body = image_table(headers + ([] if nearest is None else ["nearest in latent space"]), rows)
    left_out = len(issues) - len(shown)
    summary = (
        f"{len(issues):,} of {len(pictures):,} examples have a label the held-out predictions "
        f"contradict, the most suspicious (lowest probability of the given class) first."
        + (f" The first {len(shown):,} are shown; the CSV lists all." if left_out else "")
    )
    sections = [("issues", "Likely label issues", paragraph(summary) + body)]
    path = Path(out_path)
    text = page(title, note or f"{len(pictures):,} examples audited.", sections)
    return atomic_write_bytes(path, text.encode("utf-8"))


def _check_issues(issues: Any, given: np.ndarray) -> None:
    """Raise unless ``issues`` were computed on these labels."""
    if not isinstance(issues, LabelIssues):
        raise TypeError(
            f"{_OWNER}: issues must be a cnnkit.interpret.LabelIssues. Received: "
            f"{type(issues).__name__}"
        )
    if len(issues.probabilities) != len(given) or not np.array_equal(
        issues.given_labels, given[issues.indices]
    ):
        raise ValueError(
            f"{_OWNER}: issues were computed on other data: they cover "
            f"{len(issues.probabilities)} examples, labels has {len(given)} (or their labels differ)"
        )


def _nearest(
    model: Any, pictures: np.ndarray, preprocess: Any, shown: np.ndarray, neighbors: int
) -> np.ndarray | None:
    """(shown, neighbors) indices of each shown example's nearest other images in the model's
    latent space, nearest first; None without a model."""
    if model is None or len(shown) == 0 or len(pictures) < 2:
        return None
    inputs = pictures if preprocess is None else to_numpy(preprocess(pictures), "inputs", _OWNER)
    latent = features(model, inputs)
    k = min(neighbors + 1, len(pictures))
    index = KNeighborsClassifier(n_neighbors=k, device="cpu").fit(latent, np.zeros(len(latent)))
    found = index.kneighbors(latent[shown], return_distance=False)
    # each image is its own nearest neighbour (distance 0): drop it, wherever ties put it
    return np.stack([[j for j in row if j != i][: k - 1] for i, row in zip(shown, found)])


def _row(
    rank: int,
    issues: LabelIssues,
    pictures: np.ndarray,
    given: np.ndarray,
    numbers: np.ndarray,
    class_names: Sequence[str],
    file_paths: Sequence[str] | None,
    nearest: np.ndarray | None,
) -> list[str]:
    """The HTML cells of the ``rank``-th issue."""
    index = int(issues.indices[rank])
    given_name = class_names[int(issues.given_labels[rank])]
    suggested_name = class_names[int(issues.suggested_labels[rank])]
    cells = [
        escape(rank + 1),
        thumbnail(pictures[index], f"image {numbers[index]}"),
        escape(int(numbers[index])),
        escape(given_name),
        escape(suggested_name),
        f"{float(issues.scores[rank]):.3f}",
        escape(file_paths[index]) if file_paths is not None else "",
    ]
    if nearest is not None:
        cells.append(
            "".join(
                f'<span style="display:inline-block;text-align:center;margin-right:0.5rem">{thumbnail(pictures[j], f"neighbour {numbers[j]}")}'
                f"<br>{escape(class_names[int(given[j])])} (#{int(numbers[j])})</span> "
                for j in nearest[rank]
            )
        )
    return cells
