"""Which given labels are probably wrong, judged from out-of-sample class probabilities:
confident learning (Northcutt et al., 2021) pruned by noise rate, as cleanlab's default."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cnnkit.interpret._checks import check_labels, check_probabilities

#: Probabilities this close count as equal (a threshold reached, a prediction tied).
TOLERANCE = 1e-6


@dataclass(frozen=True)
class LabelIssues:
    """Examples whose given label is probably wrong, the most likely first.

    Attributes:
        indices: (m,) positions of the flagged examples in the data, lowest ``scores`` first.
        given_labels: (m,) their labels as given.
        suggested_labels: (m,) the most probable class of each (argmax of ``probabilities``).
        scores: (m,) self-confidence, the probability of the given label: lower is more
            suspicious.
        probabilities: (n, classes) the class probabilities of every example (out of fold
            when they come from ``find_label_issues``).
        confident_joint: (classes, classes) calibrated counts, row = given label, column =
            estimated true label.
    """

    indices: np.ndarray
    given_labels: np.ndarray
    suggested_labels: np.ndarray
    scores: np.ndarray
    probabilities: np.ndarray
    confident_joint: np.ndarray

    def __len__(self) -> int:
        return len(self.indices)


def label_issues_from_probabilities(probabilities: Any, y: Any) -> LabelIssues:
    """Flag the examples whose given label their held-out probabilities contradict.

    Each class's threshold is the mean probability the model gives that class on the examples
    labelled with it. An example counts confidently as class j when its probability of j reaches
    j's threshold (the most probable such class when several do). These counts, calibrated to
    the label counts, estimate how many examples of each given label truly belong to each
    other class; that many are flagged per (given, other) pair, those with the largest margin
    p(other) - p(given). An example whose given label is also its most probable class is never
    flagged.

    Args:
        probabilities: (n, classes) class probabilities, each row summing to 1, best computed
            by a model that did not train on the example (out of fold).
        y: (n,) given integer labels (or one-hot rows).

    Returns:
        A :class:`LabelIssues`, most suspicious (lowest probability of the given label) first.
    """
    owner = "label_issues_from_probabilities"
    probs = check_probabilities(probabilities, "probabilities", owner)
    labels = check_labels(y, "y", owner, n=len(probs), n_classes=probs.shape[1])
    joint = confident_joint(probs, labels)
    flagged = _prune_by_noise_rate(probs, labels, joint)
    flagged &= ~_given_is_predicted(probs, labels)
    indices = np.flatnonzero(flagged)
    scores = probs[indices, labels[indices]]
    order = indices[np.argsort(scores, kind="stable")]
    return LabelIssues(
        indices=order,
        given_labels=labels[order],
        suggested_labels=probs[order].argmax(axis=1),
        scores=probs[order, labels[order]],
        probabilities=probs,
        confident_joint=joint,
    )


def confident_joint(probs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(classes, classes) calibrated counts of (given label, confidently estimated true label)."""
    n_classes = probs.shape[1]
    counts = np.bincount(labels, minlength=n_classes).astype(np.float64)
    sums = np.bincount(labels, weights=probs[np.arange(len(labels)), labels], minlength=n_classes)
    # A class nobody is labelled with gets a threshold no probability reaches.
    thresholds = np.where(counts > 0, sums / np.maximum(counts, 1), 2.0)
    thresholds = np.maximum(thresholds, 2 * TOLERANCE)
    confident = probs >= thresholds - TOLERANCE
    several = confident.sum(axis=1) > 1
    guess = np.where(several, probs.argmax(axis=1), confident.argmax(axis=1))
    any_confident = confident.any(axis=1)
    joint = np.zeros((n_classes, n_classes))
    np.add.at(joint, (labels[any_confident], guess[any_confident]), 1)
    np.fill_diagonal(joint, np.maximum(joint.diagonal(), 1))
    # Calibrate: each row sums to its label count, the whole to the number of examples.
    joint = joint / joint.sum(axis=1, keepdims=True) * counts[:, None]
    return joint / max(joint.sum(), 1e-100) * counts.sum()


def _prune_by_noise_rate(probs: np.ndarray, labels: np.ndarray, joint: np.ndarray) -> np.ndarray:
    """Mask of the examples flagged: per (given k, true j), the round(joint[k, j]) examples
    labelled k with the largest p(j) - p(k), keeping at least one example of each class."""
    prune = _prune_counts(joint)
    flagged = np.zeros(len(labels), dtype=bool)
    for given in range(probs.shape[1]):
        members = np.flatnonzero(labels == given)
        if len(members) <= 1:
            continue
        for true in range(probs.shape[1]):
            count = prune[given, true]
            if true != given and count > 0:
                margin = probs[members, true] - probs[members, given]
                flagged[members[np.argsort(-margin, kind="stable")[:count]]] = True
    return flagged


def _prune_counts(joint: np.ndarray) -> np.ndarray:
    """Whole numbers of examples to flag per (given, true) pair; row totals preserved."""
    diagonal = joint.diagonal()
    raised = np.maximum(diagonal, 1)  # leave at least one example of each class
    off_diagonal_nonzero = np.maximum(np.count_nonzero(joint, axis=1) - 1.0, 1.0)
    counts = joint - ((raised - diagonal) / off_diagonal_nonzero)[:, None]
    counts[counts < 0] = 0
    np.fill_diagonal(counts, raised)
    # Rounded per estimated true class (column), as cleanlab rounds its transposed matrix.
    return np.stack([_round_keeping_sum(column) for column in counts.T], axis=1)


def _round_keeping_sum(values: np.ndarray) -> np.ndarray:
    """Round to integers whose sum is the rounded sum of ``values`` (largest remainders)."""
    rounded = values.round()
    missing = int(round(values.sum()) - rounded.sum())
    if missing:
        step = 1 if missing > 0 else -1
        order = np.argsort(values - rounded)[::-step][: abs(missing)]
        rounded[order] += step
    return rounded.astype(np.int64)


def _given_is_predicted(probs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Mask of the examples whose given label is (within ``TOLERANCE``) their top class."""
    nudged = probs.copy()
    nudged[np.arange(len(labels)), labels] += TOLERANCE
    return nudged.argmax(axis=1) == labels
