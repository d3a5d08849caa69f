"""Pixel distance is not perceptual distance: images at the same L2 distance that look nothing
alike, and nearest neighbours in pixel space versus a trained CNN's latent space."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["equal_distance_variants", "neighbors"]


def equal_distance_variants(
    image: Any, shift: tuple[int, int] = (2, 2), fill: float = 0.0
) -> dict[str, Any]:
    """Three versions of ``image`` with exactly the same L2 distance from it (the lecture's
    "the three images have the same pixel-wise distance from the original one").

    The shifted image sets the distance; the darkened one scales all pixels down, the occluded
    one covers a central square (blended at its rim to hit the distance exactly).

    Args:
        image: (height, width) or (height, width, channels), any numeric dtype.
        shift: pixels to move down and right (wrapping around).
        fill: the occluding square's value.

    Returns:
        ``{"shifted", "darkened", "occluded"}`` as float64 arrays shaped like ``image``, and
        ``"distance"``: their common L2 distance from ``image``.
    """
    x = np.asarray(image, dtype=np.float64)
    if x.ndim not in (2, 3) or min(x.shape[:2]) < 2:
        raise ValueError(
            f"equal_distance_variants: image must be (height, width) or (height, width, channels) with "
            f"height, width >= 2; received shape {x.shape}"
        )
    if not np.isfinite(x).all():
        raise ValueError("equal_distance_variants: image contains NaN or infinite values")
    if (
        not isinstance(shift, (tuple, list))
        or len(shift) != 2
        or not all(isinstance(s, (int, np.integer)) for s in shift)
    ):
        raise TypeError(
            f"equal_distance_variants: shift must be two ints (down, right). Received: shift={shift!r}"
        )
    shifted = np.roll(x, tuple(shift), axis=(0, 1))
    distance = float(np.linalg.norm(shifted - x))
    if distance == 0:
        raise ValueError(
            "equal_distance_variants: shifting does not change this image (it is constant); use another image"
        )
    norm = float(np.linalg.norm(x))
    if distance > norm:
        raise ValueError(
            f"equal_distance_variants: the shift moves the image by {distance:.4g}, more than darkening to black "
            f"can ({norm:.4g}); use a smaller shift"
        )
    darkened = x * (1 - distance / norm)
    return {
        "shifted": shifted,
        "darkened": darkened,
        "occluded": _occlude(x, distance, fill),
        "distance": distance,
    }


def _occlude(x: np.ndarray, distance: float, fill: float) -> np.ndarray:
    """Cover the smallest central square whose full occlusion reaches ``distance``, blended so
    the distance is exactly ``distance``."""
    height, width = x.shape[:2]
    for side in range(1, max(height, width) + 1):
        top, left = max((height - side) // 2, 0), max((width - side) // 2, 0)
        window = (slice(top, top + side), slice(left, left + side))
        change = np.zeros_like(x)
        change[window] = fill - x[window]
        reach = float(np.linalg.norm(change))
        if reach >= distance:
            return x + change * (distance / reach)
    raise ValueError(
        f"equal_distance_variants: covering the whole image with fill={fill} moves it less than the shift "
        f"({distance:.4g}); choose another fill value"
    )


def neighbors(
    images: Any, query: Any, k: int = 5, space: Any = "pixel", layer: Any = None, metric: str = "l2"
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest ``images`` to each query, in pixel space or a model's latent space.

    Args:
        images: (n, height, width[, channels]) candidates.
        query: one image or a batch of them, shaped like ``images``' samples.
        space: 'pixel', or a trained model: distances are then taken between its features at
            ``layer`` (default: the input of the last Dense layer, before the classifier).
        metric: 'l2' or 'l1'.

    Returns:
        (indices, distances), each (queries, k), nearest first.
    """
    from cnnkit.neighbors import KNeighborsClassifier

    candidates = np.asarray(images)
    queries = np.asarray(query)
    single = queries.ndim == candidates.ndim - 1
    if single:
        queries = queries[None]
    if queries.ndim != candidates.ndim or queries.shape[1:] != candidates.shape[1:]:
        raise ValueError(
            f"similarity.neighbors: query images must be shaped like the images {candidates.shape[1:]}; "
            f"received {np.asarray(query).shape}"
        )
    if isinstance(space, str):
        if space != "pixel":
            raise ValueError(
                f"similarity.neighbors: space must be 'pixel' or a model. Received: space={space!r}"
            )
        reference, asked = candidates, queries
    else:
        from cnnkit.inspect import features

        reference, asked = (
            features(space, candidates, layer=layer),
            features(space, queries, layer=layer),
        )
    search = KNeighborsClassifier(n_neighbors=k, metric=metric).fit(
        reference, np.zeros(len(reference), dtype=np.int64)
    )
    distances, indices = search.kneighbors(asked)
    return indices, distances
