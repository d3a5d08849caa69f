"""Pixel vs perceptual similarity: equal-distance variants and neighbours in two spaces."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.neighbors import NearestNeighbors

import cnnkit
from cnnkit.similarity import equal_distance_variants, neighbors


@pytest.mark.parametrize("shape", [(28, 28), (32, 32, 3)])
def test_three_variants_share_one_pixel_distance(shape):
    rows, cols = np.mgrid[: shape[0], : shape[1]]
    blob = 255 * np.exp(-((rows - 14) ** 2 + (cols - 12) ** 2) / 60)  # a smooth shape, like a photo
    image = (blob if len(shape) == 2 else np.stack([blob, blob / 2, blob / 3], axis=-1)).astype(
        np.uint8
    )
    variants = equal_distance_variants(image, shift=(3, 1))
    original = image.astype(np.float64)
    distances = [
        np.linalg.norm(variants[name] - original) for name in ("shifted", "darkened", "occluded")
    ]
    np.testing.assert_allclose(distances, variants["distance"], rtol=1e-12)
    assert all(variants[name].shape == shape for name in ("shifted", "darkened", "occluded"))
    changed = [np.count_nonzero(variants[name] != original) for name in ("darkened", "occluded")]
    assert changed[0] > 2 * changed[1]  # darkening touches every pixel, occlusion a small square


def test_variant_errors():
    with pytest.raises(ValueError, match="does not change this image"):
        equal_distance_variants(np.ones((8, 8)))
    with pytest.raises(
        ValueError, match=r"must be \(height, width\) or \(height, width, channels\)"
    ):
        equal_distance_variants(np.ones(8))
    with pytest.raises(TypeError, match="shift must be two ints"):
        equal_distance_variants(np.eye(8), shift=1.5)


def test_pixel_neighbours_equal_scikit_learn():
    rng = np.random.default_rng(1)
    images, queries = rng.random((60, 6, 6)), rng.random((4, 6, 6))
    indices, distances = neighbors(images, queries, k=3)
    expected_d, expected_i = (
        NearestNeighbors(n_neighbors=3)
        .fit(images.reshape(60, -1))
        .kneighbors(queries.reshape(4, -1))
    )
    np.testing.assert_array_equal(indices, expected_i)
    np.testing.assert_allclose(distances, expected_d, rtol=1e-10)
    single, _ = neighbors(images, queries[0], k=3)
    np.testing.assert_array_equal(single, expected_i[:1])


def test_latent_neighbours_use_the_features_before_the_classifier():
    cnnkit.utils.set_random_seed(0)
    model = cnnkit.zoo.get("lenet5")
    images = np.random.default_rng(2).random((30, 32, 32, 1)).astype(np.float32)
    indices, distances = neighbors(images, images[:2], k=4, space=model)
    features = cnnkit.inspect.features(model, images)
    assert features.shape == (30, 84)
    expected_d, expected_i = NearestNeighbors(n_neighbors=4).fit(features).kneighbors(features[:2])
    np.testing.assert_array_equal(indices, expected_i)
    np.testing.assert_allclose(distances, expected_d, rtol=1e-4, atol=1e-5)
    assert (indices[:, 0] == [0, 1]).all()  # each image is its own nearest neighbour
