"""Are near neighbours of the same class? Pixel space versus a CNN's latent space, as numbers."""

from __future__ import annotations

from typing import Any

import numpy as np

from cnnkit._arrays import class_labels, to_numpy
from cnnkit._validation import check_int


def neighbourhood_scores(
    x_pixels: Any, features: Any, labels: Any, k: int = 5
) -> dict[str, dict[str, float]]:
    """Measure the lecture's claim that distances between latent vectors mean more than
    distances between pixels.

    For every sample, its ``k`` nearest other samples (Euclidean distance, leave-one-out: a
    sample is never its own neighbour) are found once among the pixel vectors and once among
    the latent vectors.

    Args:
        x_pixels: (n, ...) images; flattened to pixel vectors.
        features: (n, d) latent vectors of the same images (e.g. from ``features``).
        labels: (n,) class labels (or one-hot rows).
        k: neighbours per sample, 1 <= k < n.

    Returns:
        ``{"pixels": scores, "latent": scores}`` where ``scores`` has ``knn_accuracy`` (how often
        the majority label of the k neighbours is the sample's own; a tie goes to the label
        whose neighbours rank nearer in total) and ``neighbour_agreement`` (the mean fraction of the k neighbours that
        share the sample's label), both in [0, 1].
    """
    pixels = to_numpy(x_pixels, "x_pixels", "neighbourhood_scores")
    latent = to_numpy(features, "features", "neighbourhood_scores")
    if pixels.ndim < 2 or latent.ndim < 2:
        raise ValueError(
            "neighbourhood_scores: x_pixels and features need one sample per row; received shapes "
            f"{pixels.shape} and {latent.shape}"
        )
    if len(pixels) != len(latent):
        raise ValueError(
            f"neighbourhood_scores: x_pixels has {len(pixels)} samples but features has "
            f"{len(latent)}; give the features of the same images"
        )
    y = class_labels(labels, "labels", "neighbourhood_scores", n=len(pixels))
    k = check_int(k, "k", "neighbourhood_scores", minimum=1)
    if k >= len(pixels):
        raise ValueError(
            f"neighbourhood_scores: k must be less than the number of samples ({len(pixels)}). "
            f"Received: k={k}"
        )
    return {
        "pixels": _scores(pixels.reshape(len(pixels), -1), y, k),
        "latent": _scores(latent.reshape(len(latent), -1), y, k),
    }


def _scores(vectors: np.ndarray, y: np.ndarray, k: int) -> dict[str, float]:
    from sklearn.neighbors import NearestNeighbors

    index = NearestNeighbors(n_neighbors=k).fit(vectors.astype(np.float32))
    neighbours = index.kneighbors(return_distance=False)  # without X: never the sample itself
    neighbour_labels = y[neighbours]
    return {
        "knn_accuracy": float(np.mean(majority(neighbour_labels) == y)),
        "neighbour_agreement": float(np.mean(neighbour_labels == y[:, None])),
    }


def majority(neighbour_labels: np.ndarray) -> np.ndarray:
    """The most frequent label of each row (nearest first); ties go to the smaller rank sum."""
    n, k = neighbour_labels.shape
    classes = int(neighbour_labels.max()) + 1 if neighbour_labels.size else 1
    votes = np.zeros((n, classes))
    # Each vote counts 1, plus a tie-breaker smaller than any whole vote that favours rank 0.
    weights = 1 + (k - np.arange(k)) / (k * (k + 1))
    np.add.at(
        votes, (np.repeat(np.arange(n), k), neighbour_labels.reshape(-1)), np.tile(weights, n)
    )
    return votes.argmax(axis=1)
