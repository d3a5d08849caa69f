"""The lecture's first classifier as a baseline: k-nearest neighbours on pixels (and on the
CNN's latent vectors), from ``cnnkit.neighbors`` when installed, else scikit-learn."""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from numbers import Real
from typing import Any

import numpy as np

from cnnkit.report._comparison import Row
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


def _is_accuracy(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def check_knn(knn: Any) -> None:
    """Raise unless ``knn`` is None, False, an accuracy or a mapping of accuracies."""
    if knn is None or knn is False or _is_accuracy(knn):
        return
    if isinstance(knn, Mapping) and all(_is_accuracy(v) for v in knn.values()):
        return
    raise TypeError(
        f"{OWNER}: knn must be None (compute a baseline), False (none), an accuracy or a dict "
        f"{{description: accuracy}}. Received: {knn!r}"
    )


def check_models(models: Any) -> None:
    """Raise unless ``models`` is None or a mapping ``{name: test accuracy}``."""
    if models is None or (
        isinstance(models, Mapping) and all(_is_accuracy(v) for v in models.values())
    ):
        return
    raise TypeError(
        f"{OWNER}: models must be None or a dict {{name: test accuracy}} of other "
        f"models scored on the same test images. Received: {models!r}"
    )


def baseline_rows(context: Context, knn: Any) -> list[Row]:
    """The kNN results: given (scored on the report's test images), or computed here.

    ``knn`` is None (compute), False (none), a number (one accuracy) or a mapping
    ``{description: accuracy}``.
    """
    check_knn(knn)
    if knn is False:
        return []
    tested = len(context.y_test)
    if _is_accuracy(knn):
        return [Row("kNN baseline (given)", tested, float(knn), "pixel knn")]
    if isinstance(knn, Mapping):
        return [Row(str(name), tested, float(value), "pixel knn") for name, value in knn.items()]
    return _computed_rows(context)


def _computed_rows(context: Context) -> list[Row]:
    train, test = context.train_sample, context.test_sample
    x_train, y_train = context.x_train[train], context.y_train[train]
    x_test, y_test = context.x_test[test], context.y_test[test]
    k = context.knn_k
    metrics = ["l1", "l2"] if importlib.util.find_spec("cnnkit.neighbors") is not None else ["l2"]
    rows: list[Row] = []
    for metric in metrics:
        context.progress(f"kNN baseline on pixels ({metric.upper()}, k={k})")
        accuracy, library = _accuracy(x_train, y_train, x_test, y_test, k, metric)
        rows.append(
            Row(
                f"kNN on pixels, {metric.upper()}, k={k} ({library}; {len(train):,} training images)",
                len(test),
                accuracy,
                "pixel knn",
                short=f"kNN on pixels, {metric.upper()}, k={k}",
            )
        )
    context.progress(f"kNN on latent vectors (L2, k={k})")
    accuracy, library = _accuracy(
        context.train_features, y_train, context.test_features, y_test, k, "l2"
    )
    rows.append(
        Row(
            f"kNN on CNN latent vectors, L2, k={k} ({library}; {len(train):,} training images)",
            len(test),
            accuracy,
            "latent knn",
        )
    )
    return rows
