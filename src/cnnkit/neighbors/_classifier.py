"""The lecture's k-nearest-neighbour classifier, scikit-learn style, exact and chunked."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from cnnkit._validation import check_int

from . import _voting
from ._search import BruteForceIndex, default_batch_size
from ._validation import (
    as_labels,
    as_samples,
    check_metric,
    check_n_neighbors,
    check_weights,
    resolve_device,
)

_OWNER = "KNeighborsClassifier"


class KNeighborsClassifier:
    """Label each test image with the most frequent label among its K closest training images.

    "Training" only stores the images; all the work happens at test time, by exact brute force:
    every test image is compared with every training image (images of any shape are flattened
    to vectors). The lecture's distances are ``'l2'`` (``'euclidean'``),
    sqrt(sum (x_j - x_i)^2), and ``'l1'`` (``'manhattan'``), sum |x_j - x_i|; ``'cosine'``
    (1 - cosine similarity) ignores brightness. Results match scikit-learn's
    ``KNeighborsClassifier(algorithm='brute')``; neighbours at equal distance are ordered by
    training index and vote ties go to the smallest label.

    Speed: images on an 8-bit grid (uint8 pixels, or pixels / 255) are screened with exact
    integer kernels (int8 matrix products for L2; byte sum-of-absolute-differences for L1,
    compiled with numba when installed), other data in float32 with proven error bounds, and the
    shortlist is re-ranked in float64, so answers stay exact. Uses CUDA when present.

    Memory: the training set is kept (as given, plus an 8-bit or float32 working copy). A query
    batch adds one ``batch_size x n_train x 4``-byte block of scores; the default batch size
    keeps that block under 256 MiB (1118 test images against 60,000 training images).

    Args:
        n_neighbors: K, how many neighbours vote (1 <= K <= number of training images).
        metric: 'l2' / 'euclidean', 'l1' / 'manhattan' or 'cosine'.
        weights: 'uniform' (one vote each) or 'distance' (vote weight 1 / distance).
        batch_size: test images per batch; None picks it from the 256 MiB budget.
        device: 'auto' (CUDA when available, else CPU), 'cpu', 'cuda', 'cuda:N' or a
            torch.device.

    Example:
        >>> import numpy as np
        >>> x = np.array([[0, 0], [0, 1], [9, 9], [9, 8]], dtype=np.uint8)
        >>> knn = KNeighborsClassifier(n_neighbors=1).fit(x, ["cat", "cat", "dog", "dog"])
        >>> knn.predict(np.array([[1, 1], [8, 8]])).tolist()
        ['cat', 'dog']
    """

    def __init__(
        self,
        n_neighbors: int = 5,
        metric: str = "l2",
        weights: str = "uniform",
        batch_size: int | None = None,
        device: str | torch.device = "auto",
    ) -> None:
        self.n_neighbors = check_int(n_neighbors, "n_neighbors", _OWNER, minimum=1)
        self.metric = metric
        self.effective_metric_ = check_metric(metric, _OWNER)
        self.weights = check_weights(weights, _OWNER)
        self.batch_size = check_int(batch_size, "batch_size", _OWNER, minimum=1, optional=True)
        self.device = device
        self.device_ = resolve_device(device, _OWNER)
        self._index: BruteForceIndex | None = None

    def __repr__(self) -> str:
        return (
            f"KNeighborsClassifier(n_neighbors={self.n_neighbors}, metric={self.metric!r}, "
            f"weights={self.weights!r})"
        )

    def fit(self, x: Any, y: Any) -> KNeighborsClassifier:
        """Store the training images and labels (k-NN has no training step).

        Args:
            x: training images, (n_samples, ...) of any per-sample shape, uint8 or float,
                NumPy array or torch tensor.
            y: (n_samples,) class labels (numbers or strings).

        Returns:
            self, so that ``KNeighborsClassifier().fit(x, y).predict(x_test)`` works.
        """
        samples, sample_shape = as_samples(x, "x", _OWNER)
        labels = as_labels(y, len(samples), "y", _OWNER)
        check_n_neighbors(self.n_neighbors, len(samples), _OWNER)
        self.classes_, encoded = np.unique(labels, return_inverse=True)
        self._labels = encoded.reshape(-1)
        self.sample_shape_ = sample_shape
        self.n_features_in_ = samples.shape[1]
        self.n_samples_fit_ = len(samples)
        self._index = BruteForceIndex(samples.to(self.device_), self.effective_metric_)
        return self

    def kneighbors(
        self, x: Any, n_neighbors: int | None = None, return_distance: bool = True
    ) -> tuple[np.ndarray, np.ndarray] | np.ndarray:
        """Find the K nearest training images of each test image, nearest first.

        Args:
            x: test images, (n_queries, ...) with the training images' per-sample shape.
            n_neighbors: K for this call; defaults to the constructor's.
            return_distance: also return the distances.

        Returns:
            ``(distances, indices)``, each (n_queries, K): float64 distances and int64 row
            indices into the training set; only ``indices`` when ``return_distance`` is False.
        """
        queries = self._queries(x)
        k = self.n_neighbors if n_neighbors is None else n_neighbors
        k = check_n_neighbors(k, self.n_samples_fit_, _OWNER)
        batch = self.batch_size or default_batch_size(self.n_samples_fit_)
        distances, indices = self._index.kneighbors(queries, k, batch)
        indices = indices.cpu().numpy()
        return (distances.cpu().numpy(), indices) if return_distance else indices

    def predict_proba(self, x: Any) -> np.ndarray:
        """Return (n_queries, n_classes) vote shares, columns in the order of ``classes_``."""
        distances, indices = self.kneighbors(x)
        return _voting.probabilities(
            self._labels[indices], distances, self.weights, len(self.classes_)
        )

    def predict(self, x: Any) -> np.ndarray:
        """Return (n_queries,) predicted labels: the K neighbours' majority, smallest on ties."""
        distances, indices = self.kneighbors(x)
        winners = _voting.vote(self._labels[indices], distances, self.weights, len(self.classes_))
        return self.classes_[winners]

    def score(self, x: Any, y: Any) -> float:
        """Return the accuracy: the fraction of test images whose predicted label equals ``y``."""
        labels = as_labels(y, _n_samples(x), "y", _OWNER)
        return float(np.mean(self.predict(x) == labels))

    def _queries(self, x: Any) -> torch.Tensor:
        """Validate test images against the fitted ones and move them to the device."""
        if self._index is None:
            raise ValueError(
                f"{_OWNER}: this model is not fitted yet: call fit(x_train, y_train) "
                "before kneighbors, predict, predict_proba or score."
            )
        queries, sample_shape = as_samples(x, "x", _OWNER)
        if queries.shape[1] != self.n_features_in_:
            raise ValueError(
                f"{_OWNER}: x has {queries.shape[1]} features per sample (sample shape {sample_shape}), "
                f"but this KNeighborsClassifier was fitted on {self.n_features_in_} "
                f"(sample shape {self.sample_shape_})."
            )
        return queries.to(self.device_)


def _n_samples(x: Any) -> int:
    """Number of samples (leading axis) of an array-like, without converting it twice."""
    return len(x) if hasattr(x, "__len__") else np.asarray(x).shape[0]
