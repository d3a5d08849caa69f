"""The k-NN vote: each neighbour votes for its label, with weight 1 or 1 / distance."""

from __future__ import annotations

import numpy as np


def neighbour_weights(distances: np.ndarray, weights: str) -> np.ndarray:
    """(n, k) vote weights: ones ('uniform') or 1 / distance ('distance').

    As in scikit-learn, a query at distance 0 from some training rows gets its vote only from
    those rows (weight 1 each), instead of an infinite weight.
    """
    if weights == "uniform":
        return np.ones_like(distances, dtype=np.float64)
    with np.errstate(divide="ignore"):
        inverse = 1.0 / distances
    exact_match = np.isinf(inverse)
    rows = exact_match.any(axis=1)
    inverse[rows] = exact_match[rows]
    return inverse


def class_scores(labels: np.ndarray, weights: np.ndarray, n_classes: int) -> np.ndarray:
    """(n, n_classes) summed vote weights; ``labels`` (n, k) are class indices 0..n_classes-1.

    Votes are added neighbour by neighbour, nearest first, like scikit-learn.
    """
    scores = np.zeros((labels.shape[0], n_classes))
    rows = np.arange(labels.shape[0])
    for column in range(labels.shape[1]):
        scores[rows, labels[:, column]] += weights[:, column]
    return scores


def vote(labels: np.ndarray, distances: np.ndarray, weights: str, n_classes: int) -> np.ndarray:
    """Predicted class index per row: the largest vote, ties going to the smallest index."""
    scores = class_scores(labels, neighbour_weights(distances, weights), n_classes)
    return scores.argmax(axis=1)


def probabilities(
    labels: np.ndarray, distances: np.ndarray, weights: str, n_classes: int
) -> np.ndarray:
    """(n, n_classes) class probabilities: each row's votes divided by their total."""
    scores = class_scores(labels, neighbour_weights(distances, weights), n_classes)
    totals = scores.sum(axis=1, keepdims=True)
    totals[totals == 0] = 1.0
    return scores / totals
