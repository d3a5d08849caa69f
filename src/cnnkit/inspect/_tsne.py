"""t-SNE: a 2-D map of high-dimensional vectors where near neighbours stay near."""

from __future__ import annotations

from inspect import signature
from typing import Any

import numpy as np

from cnnkit._arrays import to_numpy
from cnnkit._validation import check_int, check_positive_int


def tsne(
    x_or_features: Any,
    n_components: int = 2,
    perplexity: float = 30,
    pca_components: int | None = 50,
    max_points: int | None = None,
    seed: int = 0,
    verbose: bool = False,
    return_indices: bool = False,
    max_iter: int = 1000,
    n_jobs: int | None = None,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Embed images or latent vectors in 2-D (or 3-D) to see which ones the space groups together.

    Each sample is flattened to a vector, reduced to ``pca_components`` dimensions by PCA (the
    usual first step: it removes noise and makes t-SNE faster), then embedded by
    scikit-learn's Barnes-Hut t-SNE started from the PCA layout. The same inputs and seed
    give the same map.

    Args:
        x_or_features: (n, ...) images or feature vectors (e.g. from ``features``).
        n_components: dimensions of the map, 1 to 3.
        perplexity: roughly the number of neighbours each point keeps close (5 to 50 is usual);
            must be less than the number of points.
        pca_components: PCA dimensions before t-SNE; ``None`` skips PCA.
        max_points: embed at most this many samples, drawn at random (seeded) without
            replacement; ``None`` embeds all of them.
        seed: seeds the subsample, PCA and t-SNE (with the PCA start, it only changes the map
            through the subsample).
        verbose: print scikit-learn's progress.
        return_indices: also return which rows of ``x_or_features`` were embedded.
        max_iter: optimisation steps in all (the first 250 with early exaggeration), >= 250.
        n_jobs: threads for PCA and t-SNE; None uses every core. The t-SNE steps give the same
            map on any number (PCA may differ in the last bits). For a few thousand points one thread can be far faster on a busy machine (the
            threads wait for each other at every step; ``bench/bench_report.py``).

    Returns:
        float32 array (m, n_components) with m = min(n, max_points); with ``return_indices``,
        ``(points, indices)`` where ``indices`` (m,) are increasing row numbers.
    """
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE
    from threadpoolctl import threadpool_limits

    vectors = to_numpy(x_or_features, "x_or_features", "tsne")
    if vectors.ndim < 2:
        raise ValueError(
            f"tsne: x_or_features must have shape (n, ...) with one sample per row; received "
            f"shape {vectors.shape}"
        )
    vectors = vectors.reshape(len(vectors), -1).astype(np.float32)
    n_components = check_int(n_components, "n_components", "tsne", minimum=1)
    if n_components > 3:
        raise ValueError(
            f"tsne: n_components must be 1, 2 or 3 (Barnes-Hut t-SNE). Received: {n_components}"
        )
    pca_components = check_positive_int(pca_components, "pca_components", "tsne", optional=True)
    max_points = check_positive_int(max_points, "max_points", "tsne", optional=True)
    seed = check_int(seed, "seed", "tsne", minimum=0)
    max_iter = check_int(max_iter, "max_iter", "tsne", minimum=250)
    n_jobs = check_positive_int(n_jobs, "n_jobs", "tsne", optional=True)
    indices = subsample(len(vectors), max_points, seed)
    vectors = vectors[indices]
    _check_perplexity(perplexity, len(vectors))
    with threadpool_limits(n_jobs):  # None: no limit
        if pca_components is not None and vectors.shape[1] > pca_components:
            components = min(pca_components, len(vectors))
            vectors = PCA(components, random_state=seed).fit_transform(vectors).astype(np.float32)
        embedding = TSNE(
            n_components=n_components,
            perplexity=float(perplexity),
            init="pca",
            random_state=seed,
            n_jobs=n_jobs,
            verbose=2 if verbose else 0,
            **_steps(TSNE, max_iter),
        ).fit_transform(vectors)
    points = embedding.astype(np.float32)
    return (points, indices) if return_indices else points


def _steps(tsne_class: type, max_iter: int) -> dict[str, int]:
    """The step count under its scikit-learn name: ``max_iter`` since 1.5, ``n_iter`` before."""
    parameters = signature(tsne_class).parameters
    return {"max_iter" if "max_iter" in parameters else "n_iter": max_iter}


def subsample(n: int, max_points: int | None, seed: int) -> np.ndarray:
    """Increasing row numbers of a seeded random subset of at most ``max_points`` rows."""
    if max_points is None or n <= max_points:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=max_points, replace=False))


def _check_perplexity(perplexity: Any, n: int) -> None:
    if isinstance(perplexity, bool) or not isinstance(perplexity, (int, float, np.number)):
        raise TypeError(f"tsne: perplexity must be a number. Received: perplexity={perplexity!r}")
    if perplexity <= 0:
        raise ValueError(f"tsne: perplexity must be > 0. Received: perplexity={perplexity!r}")
    if perplexity >= n:
        raise ValueError(
            f"tsne: perplexity ({perplexity}) must be less than the number of points ({n}); use "
            f"a smaller perplexity, e.g. {max(1, (n - 1) // 3)}, or more points"
        )


def default_perplexity(n: int, preferred: float = 30) -> float:
    """``preferred`` when there are enough points, else a third of them, rounded down (>= 1)."""
    return float(min(preferred, max(1, (n - 1) // 3)))
