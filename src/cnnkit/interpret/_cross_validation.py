"""Out-of-fold class probabilities: every example judged by a model that never saw it, the
input confident learning needs to find wrong labels."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from cnnkit._arrays import to_numpy
from cnnkit._validation import check_int
from cnnkit.interpret._checks import check_labels, to_probabilities
from cnnkit.interpret._label_issues import LabelIssues, label_issues_from_probabilities
from cnnkit.utils import set_random_seed

_OWNER = "find_label_issues"
#: fit arguments find_label_issues sets itself.
_OWN_FIT_ARGUMENTS = {"x", "y", "epochs", "batch_size", "verbose", "validation_split"}


def stratified_folds(labels: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """(n,) fold number of each example: each class shuffled and dealt round-robin, so every
    fold holds about 1/folds of every class."""
    rng = np.random.default_rng(seed)
    assignment = np.empty(len(labels), dtype=np.int64)
    start = 0  # continue dealing where the previous class stopped, to balance fold sizes
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        assignment[members] = (start + np.arange(len(members))) % folds
        start = (start + len(members)) % folds
    return assignment


def out_of_fold_probabilities(
    model_fn: Callable[[], Any],
    x: Any,
    y: Any,
    folds: int = 5,
    epochs: int = 5,
    batch_size: int = 128,
    seed: int = 0,
    fit_kwargs: Mapping[str, Any] | None = None,
) -> np.ndarray:
    """(n, classes) probabilities of each example from the model of the fold that held it out.

    Arguments as :func:`find_label_issues`.
    """
    images = to_numpy(x, "x", _OWNER)
    targets = to_numpy(y, "y", _OWNER)
    labels = _integer_labels(targets, len(images))
    folds = check_int(folds, "folds", _OWNER, minimum=2)
    if folds > len(images):
        raise ValueError(
            f"{_OWNER}: folds must be between 2 and the number of examples ({len(images)}). "
            f"Received: folds={folds}"
        )
    extra = _check_fit_kwargs(fit_kwargs)
    fold_of = stratified_folds(labels, folds, seed)
    probabilities: np.ndarray | None = None
    for fold in range(folds):
        held_out = fold_of == fold
        set_random_seed(seed + fold)
        model = _new_model(model_fn)
        train = ~held_out
        model.fit(
            images[train], targets[train], epochs=epochs, batch_size=batch_size, verbose=0, **extra
        )
        outputs = model.predict(images[held_out], batch_size=batch_size, verbose=0)
        fold_probs = to_probabilities(outputs, None, _OWNER)
        if probabilities is None:
            probabilities = np.zeros((len(images), fold_probs.shape[1]))
        probabilities[held_out] = fold_probs
    return probabilities


def find_label_issues(
    model_fn: Callable[[], Any],
    x: Any,
    y: Any,
    folds: int = 5,
    epochs: int = 5,
    batch_size: int = 128,
    seed: int = 0,
    fit_kwargs: Mapping[str, Any] | None = None,
) -> LabelIssues:
    """Find training examples whose label is probably wrong, by cross-validated confident
    learning.

    The data is split into ``folds`` stratified folds; for each, a fresh model from
    ``model_fn()`` trains on the other folds (``fit``, seeded with ``seed + fold`` by
    ``cnnkit.utils.set_random_seed``) and predicts the held-out fold. The out-of-fold
    probabilities then go to :func:`label_issues_from_probabilities`. Costs ``folds`` trainings.

    Args:
        model_fn: called with no arguments, returns a new compiled classifier (softmax output,
            or logits) whose ``fit`` takes ``y`` as given.
        x: (n, height, width, channels) images, as the model takes them.
        y: (n,) integer labels, or one-hot rows (for a categorical_crossentropy model).
        folds: number of folds, 2 <= folds <= n.
        epochs: training epochs per fold.
        batch_size: images per training and prediction batch.
        seed: seed of the folds and of each fold's model and shuffling.
        fit_kwargs: further ``fit`` arguments (e.g. ``callbacks``), not x, y, epochs,
            batch_size, verbose or validation_split.

    Returns:
        A :class:`LabelIssues`: flagged indices (most suspicious first), given and suggested
        labels, scores, and the out-of-fold probabilities of every example.

    Example:
        >>> issues = find_label_issues(make_model, x_train, y_train, folds=5, epochs=3)
        >>> issues.indices[:10]  # the ten labels to check first
    """
    probabilities = out_of_fold_probabilities(
        model_fn, x, y, folds, epochs, batch_size, seed, fit_kwargs
    )
    return label_issues_from_probabilities(probabilities, _integer_labels(y, len(probabilities)))


find_label_issues.from_probabilities = label_issues_from_probabilities  # type: ignore[attr-defined]


def _integer_labels(y: Any, n: int) -> np.ndarray:
    """(n,) integer labels from labels or one-hot rows (the class count is not known yet)."""
    labels = to_numpy(y, "y", _OWNER)
    classes = labels.shape[1] if labels.ndim == 2 else int(labels.max(initial=0)) + 1
    return check_labels(labels, "y", _OWNER, n=n, n_classes=max(classes, 1))


def _check_fit_kwargs(fit_kwargs: Mapping[str, Any] | None) -> dict[str, Any]:
    if fit_kwargs is None:
        return {}
    if not isinstance(fit_kwargs, Mapping):
        raise TypeError(
            f"{_OWNER}: fit_kwargs must be a dict of fit arguments. Received: "
            f"{type(fit_kwargs).__name__}"
        )
    taken = sorted(_OWN_FIT_ARGUMENTS & set(fit_kwargs))
    if taken:
        raise ValueError(
            f"{_OWNER}: fit_kwargs may not set {', '.join(taken)}; {_OWNER} sets them (use its "
            "own arguments)"
        )
    return dict(fit_kwargs)


def _new_model(model_fn: Callable[[], Any]) -> Any:
    if not callable(model_fn):
        raise TypeError(
            f"{_OWNER}: model_fn must be a function returning a new compiled model. Received: "
            f"{type(model_fn).__name__}"
        )
    model = model_fn()
    if not (hasattr(model, "fit") and hasattr(model, "predict")):
        raise TypeError(
            f"{_OWNER}: model_fn must return a compiled model with fit and predict. Received: "
            f"{type(model).__name__}"
        )
    return model
