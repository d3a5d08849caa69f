"""Per-class scores of a classifier: the confusion matrix and scikit-learn's classification
report, computed from labels alone."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

NORMALIZE = (None, "true", "pred", "all")


def confusion_matrix(
    y_true: np.ndarray, y_pred: np.ndarray, n_classes: int, normalize: str | None = None
) -> np.ndarray:
    """(n_classes, n_classes) matrix, row = true class, column = predicted class, as scikit-learn.

    ``normalize``: None (counts, int64), ``'true'`` (each row sums to 1: the diagonal is each
    class's recall), ``'pred'`` (each column sums to 1: precision), ``'all'`` (all cells sum to
    1). A row or column without samples stays 0, as in scikit-learn.
    """
    if normalize not in NORMALIZE:
        raise ValueError(
            f"confusion_matrix: normalize must be one of None, 'true', 'pred', 'all'. "
            f"Received: normalize={normalize!r}"
        )
    flat = np.bincount(y_true * n_classes + y_pred, minlength=n_classes * n_classes)
    counts = flat.reshape(n_classes, n_classes)
    if normalize is None:
        return counts
    totals = {
        "true": counts.sum(axis=1, keepdims=True),
        "pred": counts.sum(axis=0, keepdims=True),
        "all": counts.sum(keepdims=True),
    }[normalize]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.nan_to_num(counts / totals.astype(np.float64))


def _divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, 0 where the denominator is 0 (scikit-learn's zero_division)."""
    safe = np.where(denominator == 0, 1, denominator)
    return np.where(denominator == 0, 0.0, numerator / safe)


def classification_report(
    y_true: np.ndarray, y_pred: np.ndarray, class_names: Sequence[str]
) -> dict[str, dict[str, float] | float]:
    """Precision, recall, F1 and support per class, their macro and weighted averages and the
    accuracy: the dictionary of ``sklearn.metrics.classification_report(output_dict=True)``.

    A score whose denominator is 0 (a class never predicted, or without samples) is 0, as
    scikit-learn's default ``zero_division`` gives (without its warning).
    """
    counts = confusion_matrix(y_true, y_pred, len(class_names))
    true_positive = np.diag(counts).astype(np.float64)
    predicted = counts.sum(axis=0).astype(np.float64)
    support = counts.sum(axis=1)
    precision = _divide(true_positive, predicted)
    recall = _divide(true_positive, support.astype(np.float64))
    f1 = _divide(2 * true_positive, predicted + support)  # 2tp / (2tp + fp + fn)
    report: dict[str, dict[str, float] | float] = {}
    for index, name in enumerate(class_names):
        report[name] = _row(precision[index], recall[index], f1[index], support[index])
    report["accuracy"] = float(true_positive.sum() / max(len(y_true), 1))
    report["macro avg"] = _row(precision.mean(), recall.mean(), f1.mean(), support.sum())
    weights = support / support.sum() if support.sum() else np.zeros(len(support))
    report["weighted avg"] = _row(
        precision @ weights, recall @ weights, f1 @ weights, support.sum()
    )
    return report


def _row(precision: float, recall: float, f1: float, support: int) -> dict[str, float]:
    return {
        "precision": float(precision),
        "recall": float(recall),
        "f1-score": float(f1),
        "support": int(support),
    }
