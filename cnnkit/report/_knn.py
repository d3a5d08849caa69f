"""The lecture's first classifier as a baseline: k-nearest neighbours on pixels (and on the
CNN's latent vectors), from ``cnnkit.neighbors`` when installed, else scikit-learn."""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from numbers import Real
from typing import Any

import numpy as np

from cnnkit.report._context import OWNER, Context


def _classifier(k: int, metric: str) -> tuple[Any, str]:
    """A k-NN classifier with fit/score and the library it comes from."""
    if importlib.util.find_spec("cnnkit.neighbors") is not None:
        from cnnkit.neighbors import KNeighborsClassifier

        return KNeighborsClassifier(n_neighbors=k, metric=metric), "cnnkit.neighbors"
    from sklearn.neighbors import KNeighborsClassifier

    name = {"l2": "euclidean", "l1": "manhattan"}[metric]
    return KNeighborsClassifier(n_neighbors=k, metric=name, algorithm="brute"), "scikit-learn"


def _accuracy(
    train: np.ndarray,
    y_train: np.ndarray,
    test: np.ndarray,
    y_test: np.ndarray,
    k: int,
    metric: str,
) -> tuple[float, str]:
    classifier, library = _classifier(min(k, len(train)), metric)
    classifier.fit(train.reshape(len(train), -1), y_train)
    return float(classifier.score(test.reshape(len(test), -1), y_test)), library


def check_knn(knn: Any) -> None:
    """Raise unless ``knn`` is None, False, a number or a mapping of numbers."""
    if knn is None or knn is False or (isinstance(knn, Real) and not isinstance(knn, bool)):
        return
    if isinstance(knn, Mapping) and all(
        isinstance(v, Real) and not isinstance(v, bool) for v in knn.values()
    ):
        return
    raise TypeError(
        f"{OWNER}: knn must be None (compute a baseline), False (none), an accuracy or a dict "
        f"{{description: accuracy}}. Received: {knn!r}"
    )


def baseline_rows(context: Context, knn: Any) -> list[tuple[str, int | str, float]]:
    """Rows (method, test images, accuracy) for the kNN results: given, or computed here.

    ``knn`` is None (compute), False (none), a number (one accuracy) or a mapping
    ``{description: accuracy}``.
    """
    check_knn(knn)
    if knn is False:
        return []
    if isinstance(knn, Real) and not isinstance(knn, bool):
        return [("kNN baseline (given)", "-", float(knn))]
    if isinstance(knn, Mapping):
        return [(str(name), "-", float(value)) for name, value in knn.items()]
    return _computed_rows(context)


def _computed_rows(context: Context) -> list[tuple[str, int | str, float]]:
    train, test = context.train_sample, context.test_sample
    x_train, y_train = context.x_train[train], context.y_train[train]
    x_test, y_test = context.x_test[test], context.y_test[test]
    k = context.knn_k
    metrics = ["l1", "l2"] if importlib.util.find_spec("cnnkit.neighbors") is not None else ["l2"]
    rows: list[tuple[str, int | str, float]] = []
    for metric in metrics:
        context.progress(f"kNN baseline on pixels ({metric.upper()}, k={k})")
        accuracy, library = _accuracy(x_train, y_train, x_test, y_test, k, metric)
        rows.append(
            (
                f"kNN on pixels, {metric.upper()}, k={k} ({library}; {len(train):,} training images)",
                len(test),
                accuracy,
            )
        )
    context.progress(f"kNN on latent vectors (L2, k={k})")
    accuracy, library = _accuracy(
        context.train_features, y_train, context.test_features, y_test, k, "l2"
    )
    rows.append(
        (
            f"kNN on CNN latent vectors, L2, k={k} ({library}; {len(train):,} training images)",
            len(test),
            accuracy,
        )
    )
    return rows
