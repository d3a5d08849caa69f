"""Choosing K and the distance on validation data, the lecture's "setting K is an issue"."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from cnnkit._validation import check_int

from . import _voting
from ._classifier import KNeighborsClassifier
from ._validation import as_labels, as_samples, check_metric, check_weights


@dataclass(frozen=True)
class SelectionRow:
    """Validation accuracy of one (K, metric) pair, overall and per fold."""

    k: int
    metric: str
    accuracy: float
    fold_accuracies: tuple[float, ...]

    @property
    def std(self) -> float:
        """Standard deviation of the per-fold accuracies (0 for a single split)."""
        return float(np.std(self.fold_accuracies))


@dataclass(frozen=True)
class SelectionResult:
    """The table ``select`` returns: one row per (K, metric), plus the best pair.

    ``str(result)`` renders it as text: K down, metrics across, the best cell starred.

    Example:
        >>> import numpy as np
        >>> x = np.array([[0], [1], [2], [9], [10], [12]], dtype=np.uint8)
        >>> result = select(x, [0, 0, 0, 1, 1, 1], ks=(1, 3), metrics="l1", cv=3, shuffle=False)
        >>> result.best
        (1, 'l1')
        >>> print(result)
        Validation accuracy (3-fold cross-validation, weights='uniform')
           k                l1
           1   1.0000 ± 0.0000*
           3   0.3333 ± 0.4714
        best: k=1, metric='l1' (1.0000)
    """

    rows: tuple[SelectionRow, ...]
    ks: tuple[int, ...]
    metrics: tuple[str, ...]
    validation: str

    @property
    def best(self) -> tuple[int, str]:
        """(K, metric) with the highest accuracy; ties go to the smaller K, then the earlier
        metric."""
        order = {metric: i for i, metric in enumerate(self.metrics)}
        top = max(self.rows, key=lambda row: (row.accuracy, -row.k, -order[row.metric]))
        return top.k, top.metric

    def accuracy(self, k: int, metric: str) -> float:
        """Validation accuracy of one (K, metric) pair from the table."""
        canonical = check_metric(metric, "SelectionResult.accuracy")
        for row in self.rows:
            if row.k == k and row.metric == canonical:
                return row.accuracy
        raise ValueError(
            f"SelectionResult.accuracy: (k={k}, metric={metric!r}) is not in this table: "
            f"ks={self.ks}."
        )

    def __str__(self) -> str:
        best = self.best
        folds = len(self.rows[0].fold_accuracies)
        width = 19 if folds > 1 else 10
        lines = [f"Validation accuracy ({self.validation})"]
        header = f"{'k':>4}" + "".join(f"{metric:>{width - 1}} " for metric in self.metrics)
        lines.append(header.rstrip())
        for k in self.ks:
            cells = []
            for metric in self.metrics:
                row = next(r for r in self.rows if r.k == k and r.metric == metric)
                cell = f"{row.accuracy:.4f}" + (f" ± {row.std:.4f}" if folds > 1 else "")
                cells.append(f"{cell:>{width - 1}}" + ("*" if (k, metric) == best else " "))
            lines.append((f"{k:>4}" + "".join(cells)).rstrip())
        lines.append(f"best: k={best[0]}, metric={best[1]!r} ({self.accuracy(*best):.4f})")
        return "\n".join(lines)


def select(
    x: Any,
    y: Any,
    ks: Iterable[int] = (1, 3, 5, 7, 9),
    metrics: Iterable[str] = ("l1", "l2"),
    *,
    cv: int | None = None,
    validation_split: float | None = None,
    weights: str = "uniform",
    shuffle: bool = True,
    seed: int = 0,
    batch_size: int | None = None,
    device: str | torch.device = "auto",
) -> SelectionResult:
    """Measure validation accuracy for every (K, metric) pair, to choose K and the distance.

    Each fold's neighbours are searched once per metric, for the largest K; every smaller K
    reuses the front of that nearest-first list (ties are ordered by index, so it is exact).

    Args:
        x: images (n_samples, ...), as for ``KNeighborsClassifier.fit``.
        y: (n_samples,) labels.
        ks: candidate K values.
        metrics: candidate distances ('l1', 'l2', 'cosine' or their aliases).
        cv: number of cross-validation folds (default 5 unless ``validation_split`` is given).
        validation_split: fraction held out once for validation instead (the last samples,
            after shuffling when ``shuffle``), as in Keras' ``fit(validation_split=...)``.
        weights: 'uniform' or 'distance' voting.
        shuffle: shuffle the samples (with ``seed``) before splitting.
        seed: random seed of the shuffle.
        batch_size: test images per distance block (see ``KNeighborsClassifier``).
        device: 'auto', 'cpu', 'cuda', ...

    Returns:
        A SelectionResult: ``rows``, ``best`` (K, metric) and a text table via ``str()``.
    """
    samples, _ = as_samples(x, "x", "select")
    labels = as_labels(y, len(samples), "y", "select")
    classes, encoded = np.unique(labels, return_inverse=True)
    encoded = encoded.reshape(-1)
    ks, metrics = _check_ks(ks), _check_metrics(metrics)
    check_weights(weights, "select")
    folds, description = _splits(len(samples), cv, validation_split, shuffle, seed)
    smallest_train = min(len(train) for train, _ in folds)
    if ks[-1] > smallest_train:
        raise ValueError(
            f"select: ks must not exceed the number of training samples in a fold ({smallest_train}). "
            f"Received: ks={ks}"
        )
    hits = {(k, metric): [] for k in ks for metric in metrics}
    for train, held_out in folds:
        for metric in metrics:
            knn = KNeighborsClassifier(ks[-1], metric, weights, batch_size, device)
            knn.fit(samples[torch.from_numpy(train)], encoded[train])
            distances, indices = knn.kneighbors(samples[torch.from_numpy(held_out)])
            neighbour_labels = encoded[train][indices]
            for k in ks:
                predicted = _voting.vote(
                    neighbour_labels[:, :k], distances[:, :k], weights, len(classes)
                )
                hits[k, metric].append(float(np.mean(predicted == encoded[held_out])))
    rows = tuple(
        SelectionRow(k, metric, float(np.mean(hits[k, metric])), tuple(hits[k, metric]))
        for k in ks
        for metric in metrics
    )
    return SelectionResult(rows, ks, metrics, f"{description}, weights={weights!r}")


def _check_ks(ks: Iterable[int] | int) -> tuple[int, ...]:
    """Sorted distinct K values, each an integer >= 1."""
    values = (ks,) if isinstance(ks, (int, np.integer)) else tuple(ks)
    if not values or any(
        isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1 for k in values
    ):
        raise ValueError(f"select: ks must be one or more integers >= 1. Received: ks={ks!r}")
    return tuple(sorted({int(k) for k in values}))


def _check_metrics(metrics: Iterable[str] | str) -> tuple[str, ...]:
    """Canonical metric names in the given order, without repeats."""
    values = (metrics,) if isinstance(metrics, str) else tuple(metrics)
    if not values:
        raise ValueError("select: metrics must name at least one distance. Received: metrics=()")
    return tuple(dict.fromkeys(check_metric(metric, "select") for metric in values))


def _splits(
    n: int, cv: int | None, validation_split: float | None, shuffle: bool, seed: int
) -> tuple[list[tuple[np.ndarray, np.ndarray]], str]:
    """(train, validation) index pairs and a description, for k-fold CV or one hold-out split."""
    if cv is not None and validation_split is not None:
        raise ValueError(
            "select: pass either cv or validation_split, not both. "
            f"Received: cv={cv}, validation_split={validation_split}"
        )
    seed = check_int(seed, "seed", "select", minimum=0)
    order = np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)
    if validation_split is not None:
        if isinstance(validation_split, bool) or not isinstance(validation_split, (int, float)):
            raise TypeError(
                "select: validation_split must be a fraction between 0 and 1 (exclusive). "
                f"Received: validation_split={validation_split!r}"
            )
        if not 0 < validation_split < 1:
            raise ValueError(
                "select: validation_split must be a fraction between 0 and 1 (exclusive). "
                f"Received: validation_split={validation_split!r}"
            )
        n_val = int(round(n * validation_split))
        if not 1 <= n_val < n:
            raise ValueError(
                f"select: validation_split={validation_split} of {n} samples leaves an empty training "
                "or validation set."
            )
        return [(np.sort(order[:-n_val]), order[-n_val:])], f"{n_val} held-out samples"
    cv = 5 if cv is None else check_int(cv, "cv", "select", minimum=1)
    if not 2 <= cv <= n:
        raise ValueError(
            f"select: cv must be between 2 and the number of samples ({n}). Received: cv={cv}"
        )
    folds = []
    for held_out in np.array_split(order, cv):
        train = np.setdiff1d(order, held_out)  # sorted, like scikit-learn's KFold
        folds.append((train, held_out))
    return folds, f"{cv}-fold cross-validation"
