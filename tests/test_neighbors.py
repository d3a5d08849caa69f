"""cnnkit.neighbors against scikit-learn's brute-force k-NN (the oracle)."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
import torch
from scipy.spatial.distance import cdist
from sklearn.model_selection import KFold
from sklearn.neighbors import KNeighborsClassifier as SkKNN

from cnnkit.neighbors import KNeighborsClassifier, _l1_kernels, _search, select

SK_METRIC = {"l2": "euclidean", "l1": "manhattan", "cosine": "cosine"}


class Flattening:
    """A fitted sklearn estimator that flattens images before each call, like cnnkit does."""

    def __init__(self, estimator):
        self.estimator = estimator

    def __getattr__(self, name):
        method = getattr(self.estimator, name)
        return lambda x, *args: method(np.asarray(x).reshape(len(x), -1), *args)


def sklearn_knn(x, y, k, metric, weights="uniform"):
    knn = SkKNN(k, algorithm="brute", metric=SK_METRIC[metric], weights=weights)
    return Flattening(knn.fit(np.asarray(x).reshape(len(x), -1), y))


def stable_reference(x_train, x_test, k, metric):
    """Exact distances (scipy's direct formulas), ordered by (distance, index), stable sort."""
    flat = [a.reshape(len(a), -1).astype(np.float64) for a in (x_test, x_train)]
    distances = cdist(*flat, metric={"l2": "euclidean", "l1": "cityblock"}[metric])
    order = np.argsort(distances, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(distances, order, axis=1), order


@pytest.fixture(scope="module")
def blobs():
    """Continuous data (no distance ties): 600 training and 150 test points, 4 classes."""
    rng = np.random.default_rng(0)
    centres = rng.normal(scale=3.0, size=(4, 20))
    labels = rng.integers(0, 4, 750)
    x = centres[labels] + rng.normal(size=(750, 20))
    return x[:600], labels[:600], x[600:], labels[600:]


@pytest.fixture(scope="module")
def images():
    """uint8 8x8 'images' with exact duplicates, so some distances tie exactly."""
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 3, 500)
    x = (rng.integers(0, 180, (500, 8, 8)) + 25 * labels[:, None, None]).astype(np.uint8)
    x[rng.integers(0, 400, 40)] = x[rng.integers(0, 400, 40)]  # duplicated training images
    x[400:420] = x[rng.integers(0, 400, 20)]  # test images equal to training images
    return x[:400], labels[:400], x[400:], labels[400:]


# --- kneighbors: same neighbours and distances as scikit-learn --------------------------------


@pytest.mark.parametrize("metric", ["l2", "l1", "cosine"])
def test_kneighbors_match_sklearn_on_continuous_data(blobs, metric):
    x_train, y_train, x_test, _ = blobs
    ours = KNeighborsClassifier(7, metric=metric).fit(x_train, y_train)
    theirs = sklearn_knn(x_train, y_train, 7, metric)
    distances, indices = ours.kneighbors(x_test)
    sk_distances, sk_indices = theirs.kneighbors(x_test)
    np.testing.assert_array_equal(indices, sk_indices)
    np.testing.assert_allclose(distances, sk_distances, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("metric", ["l2", "l1"])
def test_kneighbors_on_uint8_images_with_ties(images, metric):
    """Distances equal sklearn's (exact integers before the square root); only the order within
    exact ties may differ, and ours is (distance, training index)."""
    x_train, y_train, x_test, _ = images
    distances, indices = (
        KNeighborsClassifier(9, metric=metric).fit(x_train, y_train).kneighbors(x_test)
    )
    sk_distances, sk_indices = sklearn_knn(x_train, y_train, 9, metric).kneighbors(x_test)
    np.testing.assert_allclose(distances, sk_distances, rtol=1e-15)
    ref_distances, ref_indices = stable_reference(x_train, x_test, 9, metric)
    np.testing.assert_array_equal(distances, ref_distances)
    np.testing.assert_array_equal(indices, ref_indices)
    assert (indices != sk_indices).any(), "the fixture should contain exact ties"
    assert_same_up_to_ties(indices, sk_indices, distances)


def assert_same_up_to_ties(indices, other, distances):
    """Rows hold the same neighbours, except that exact ties may be ordered or cut differently."""
    for row in range(len(indices)):
        for value in np.unique(distances[row]):
            group = distances[row] == value
            if value < distances[row, -1]:  # a tie group inside the list: same members
                assert set(indices[row, group]) == set(other[row, group])


@pytest.mark.parametrize("metric", ["l2", "l1"])
def test_uint8_images_with_large_norms_stay_exact(metric):
    """Near-duplicate bright images: squared norms ~5e7 exceed float32's exact range (2^24), so
    a float32 distance expansion would confuse neighbours that differ by one grey level."""
    rng = np.random.default_rng(2)
    base = rng.integers(235, 256, (1, 28, 28))
    x_train = np.repeat(base, 300, axis=0)
    pixel = rng.integers(0, 28, (300, 2))
    x_train[np.arange(300), pixel[:, 0], pixel[:, 1]] -= np.arange(300) % 40 + 1
    x_train = x_train.astype(np.uint8)
    x_test = (base - (rng.random((50, 28, 28)) < 0.01)).astype(np.uint8)
    y_train = np.arange(300) % 2
    distances, indices = (
        KNeighborsClassifier(5, metric=metric).fit(x_train, y_train).kneighbors(x_test)
    )
    ref_distances, ref_indices = stable_reference(x_train, x_test, 5, metric)
    np.testing.assert_array_equal(indices, ref_indices)
    np.testing.assert_array_equal(distances, ref_distances)


def test_float_data_far_from_origin_matches_sklearn():
    """Float data with a large offset: centring before float32 screening keeps it exact."""
    rng = np.random.default_rng(3)
    x = 1e4 + rng.normal(scale=1e-2, size=(400, 10))
    y = rng.integers(0, 2, 400)
    ours = KNeighborsClassifier(5).fit(x[:300], y[:300]).kneighbors(x[300:])
    _, ref_indices = stable_reference(x[:300], x[300:], 5, "l2")
    np.testing.assert_array_equal(ours[1], ref_indices)


# --- predictions and probabilities ------------------------------------------------------------


@pytest.mark.parametrize("weights", ["uniform", "distance"])
@pytest.mark.parametrize("metric", ["l2", "l1", "cosine"])
def test_predict_and_proba_match_sklearn(blobs, metric, weights):
    x_train, y_train, x_test, y_test = blobs
    ours = KNeighborsClassifier(6, metric=metric, weights=weights).fit(x_train, y_train)
    theirs = sklearn_knn(x_train, y_train, 6, metric, weights)
    np.testing.assert_array_equal(ours.predict(x_test), theirs.predict(x_test))
    np.testing.assert_allclose(ours.predict_proba(x_test), theirs.predict_proba(x_test))
    assert ours.score(x_test, y_test) == pytest.approx(theirs.score(x_test, y_test))


@pytest.mark.parametrize("weights", ["uniform", "distance"])
@pytest.mark.parametrize("metric", ["l2", "l1"])
def test_predictions_on_tied_images_differ_only_at_boundary_ties(images, metric, weights):
    """Even k makes vote ties (smallest label wins); test images equal to training images give
    zero distances (those neighbours alone vote, with 'distance')."""
    x_train, y_train, x_test, _ = images
    ours = KNeighborsClassifier(4, metric=metric, weights=weights).fit(x_train, y_train)
    theirs = sklearn_knn(x_train, y_train, 4, metric, weights)
    predicted, expected = ours.predict(x_test), theirs.predict(x_test)
    distances = stable_reference(x_train, x_test, 5, metric)[0]
    boundary_tie = distances[:, 3] == distances[:, 4]
    np.testing.assert_array_equal(predicted[~boundary_tie], expected[~boundary_tie])
    assert np.mean(predicted == expected) >= 0.95
    np.testing.assert_allclose(
        ours.predict_proba(x_test)[~boundary_tie], theirs.predict_proba(x_test)[~boundary_tie]
    )


def test_string_labels_torch_input_and_image_shapes(blobs):
    x_train, y_train, x_test, _ = (a.reshape(len(a), 4, 5) if a.ndim == 2 else a for a in blobs)
    names = np.array(["shirt", "bag", "boot", "coat"])[y_train]
    ours = KNeighborsClassifier(4).fit(torch.from_numpy(x_train).float(), names)
    assert ours.classes_.tolist() == ["bag", "boot", "coat", "shirt"]
    assert ours.sample_shape_ == (4, 5) and ours.n_features_in_ == 20
    expected = sklearn_knn(x_train.astype(np.float32), names, 4, "l2").predict(x_test)
    np.testing.assert_array_equal(ours.predict(torch.from_numpy(x_test)), expected)
    np.testing.assert_array_equal(ours.predict(x_test.reshape(-1, 20).tolist()), expected)


@pytest.mark.parametrize("scale", [(0.0, 255.0), (72.9, 90.0)], ids=["x/255", "(x-mean)/std"])
@pytest.mark.parametrize("metric", ["l2", "l1"])
def test_rescaled_pixels_give_the_same_neighbours_as_uint8(images, metric, scale):
    """Keras-style float pixels (x / 255, or standardised by a scalar mean and std) stay on an
    8-bit grid and take the exact integer path; only exact uint8 ties may reorder, as rounding
    makes them near-ties (float32 queries against float64 training images leave ~1e-7 where
    uint8 gives 0)."""
    x_train, y_train, x_test, _ = images
    distances, indices = (
        KNeighborsClassifier(5, metric=metric).fit(x_train, y_train).kneighbors(x_test)
    )
    mean, std = scale
    scaled = KNeighborsClassifier(5, metric=metric).fit((x_train - mean) / std, y_train)
    scaled_distances, scaled_indices = scaled.kneighbors(((x_test - mean) / std).astype("f4"))
    assert scaled._index._grid_screen is not None and scaled._index._float_screen is None
    np.testing.assert_allclose(scaled_distances, distances / std, rtol=1e-6, atol=1e-5)
    assert_same_up_to_ties(scaled_indices, indices, distances)


@pytest.mark.parametrize("metric", ["l2", "l1", "cosine"])
def test_blocks_batches_and_kernel_fallback_agree(blobs, images, metric, monkeypatch):
    """Tiny memory budget (training rows split into blocks), batch_size=7, and torch.cdist
    instead of the numba L1 kernel: same neighbours as the default path."""
    for x_train, y_train, x_test, _ in (blobs, images):
        default = KNeighborsClassifier(5, metric=metric).fit(x_train, y_train).kneighbors(x_test)
        monkeypatch.setattr(_search, "MEMORY_BUDGET", 4 * 7 * 50)
        monkeypatch.setattr(_l1_kernels, "HAVE_NUMBA", False)
        small = KNeighborsClassifier(5, metric=metric, batch_size=7).fit(x_train, y_train)
        distances, indices = small.kneighbors(x_test)
        monkeypatch.undo()
        np.testing.assert_array_equal(indices, default[1])
        np.testing.assert_allclose(distances, default[0], rtol=1e-12)


@pytest.mark.parametrize("levels", [(0, 1), (0.0, 1.0, np.pi)], ids=["uint8", "off-grid float"])
def test_heavy_ties_fall_back_to_exhaustive_search(levels):
    """3-pixel images with 2 or 3 grey levels: thousands of rows tie, far more than the
    shortlist holds (integer screen for 0/1 uint8, float32 screen for levels 0, 1, pi)."""
    rng = np.random.default_rng(4)
    x = np.asarray(levels)[rng.integers(0, len(levels), (2000, 3))]
    x = x.astype(np.uint8) if len(levels) == 2 else x
    y = rng.integers(0, 2, 2000)
    for metric in ("l2", "l1"):
        knn = KNeighborsClassifier(30, metric=metric).fit(x[:1900], y[:1900])
        distances, indices = knn.kneighbors(x[1900:])
        ref_distances, ref_indices = stable_reference(x[:1900], x[1900:], 30, metric)
        np.testing.assert_array_equal(indices, ref_indices)
        np.testing.assert_allclose(distances, ref_distances, rtol=1e-15)


def test_kneighbors_options_and_zero_vectors_under_cosine():
    x = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0], [3.0, 3.0]])
    knn = KNeighborsClassifier(2, metric="cosine").fit(x, [0, 1, 2, 3])
    distances, indices = knn.kneighbors([[0.0, 0.0], [2.0, 0.1]], n_neighbors=4)
    sk_distances = sklearn_knn(x, np.arange(4), 4, "cosine").kneighbors([[0.0, 0.0], [2.0, 0.1]])[0]
    np.testing.assert_allclose(distances, sk_distances, atol=1e-12)
    assert indices[0].tolist() == [0, 1, 2, 3]  # all at distance 1: index order
    assert knn.kneighbors([[2.0, 0.1]], return_distance=False).tolist() == [[1, 3]]


# --- select: choosing K and the distance ------------------------------------------------------


def test_select_with_validation_split_matches_per_k_sklearn_accuracies(blobs):
    x, y = np.concatenate(blobs[::2]), np.concatenate(blobs[1::2])
    result = select(
        x, y, ks=(1, 3, 5, 9), metrics=("l1", "euclidean"), validation_split=0.2, shuffle=False
    )
    n_train = int(round(len(x) * 0.8))
    for k in (1, 3, 5, 9):
        for metric in ("l1", "l2"):
            expected = sklearn_knn(x[:n_train], y[:n_train], k, metric).score(
                x[n_train:], y[n_train:]
            )
            assert result.accuracy(k, metric) == pytest.approx(expected)
    assert [(row.k, row.metric) for row in result.rows][:2] == [(1, "l1"), (1, "l2")]
    best = max(result.rows, key=lambda row: row.accuracy).accuracy
    assert result.accuracy(*result.best) == best


def test_select_with_cv_matches_kfold_and_renders_a_table(blobs):
    x, y = blobs[0][:300], blobs[1][:300]
    result = select(x, y, ks=(1, 4), metrics="l2", cv=3, shuffle=False, weights="distance")
    for k in (1, 4):
        expected = [
            sklearn_knn(x[tr], y[tr], k, "l2", "distance").score(x[te], y[te])
            for tr, te in KFold(3).split(x)
        ]
        row = next(r for r in result.rows if r.k == k)
        np.testing.assert_allclose(row.fold_accuracies, expected)
        assert row.accuracy == pytest.approx(np.mean(expected))
    text = str(result)
    assert "3-fold cross-validation" in text and "weights='distance'" in text
    assert f"best: k={result.best[0]}, metric='l2'" in text
    assert text.count("*") == 1


def test_select_shuffles_reproducibly(blobs):
    x, y = blobs[0][:200], blobs[1][:200]
    first = select(x, y, ks=(1, 3), metrics=("l1",), cv=4, seed=7)
    again = select(x, y, ks=(3, 1), metrics=("manhattan",), cv=4, seed=7)
    assert first.rows == again.rows


def test_docstring_examples_run():
    from cnnkit.neighbors import _classifier, _select

    for module in (_classifier, _select):
        failed, attempted = doctest.testmod(module)
        assert attempted > 0 and failed == 0


# --- bad input: clear errors ------------------------------------------------------------------


@pytest.fixture(scope="module")
def fitted(blobs):
    return KNeighborsClassifier(3).fit(blobs[0], blobs[1])


def test_n_neighbors_out_of_range(blobs, fitted):
    x_train, y_train = blobs[0][:100], blobs[1][:100]
    with pytest.raises(ValueError, match=r"int >= 1. Received: n_neighbors=0"):
        KNeighborsClassifier(0)
    with pytest.raises(TypeError, match=r"n_neighbors must be an int >= 1"):
        KNeighborsClassifier(2.5)
    message = r"between 1 and the number of training samples \(100\). Received: n_neighbors=101"
    with pytest.raises(ValueError, match=message):
        KNeighborsClassifier(101).fit(x_train, y_train)
    with pytest.raises(ValueError, match=r"\(600\). Received: n_neighbors=601"):
        fitted.kneighbors(blobs[2], n_neighbors=601)


def test_unknown_metric_weights_and_device():
    with pytest.raises(
        ValueError,
        match=r"'l2', 'euclidean', 'l1', 'manhattan', 'cosine'.*"
        r"Received: metric='hamming'",
    ):
        KNeighborsClassifier(metric="hamming")
    with pytest.raises(ValueError, match=r"'uniform', 'distance'. Received: weights='gauss'"):
        KNeighborsClassifier(weights="gauss")
    with pytest.raises(ValueError, match=r"Received: device='gpu0'"):
        KNeighborsClassifier(device="gpu0")
    with pytest.raises(ValueError, match=r"batch_size must be an int >= 1 or None"):
        KNeighborsClassifier(batch_size=0)


def test_use_before_fit_and_feature_mismatch(blobs, fitted):
    with pytest.raises(ValueError, match=r"not fitted yet: call fit"):
        KNeighborsClassifier().predict(blobs[2])
    message = r"x has 19 features per sample .* fitted on 20 \(sample shape \(20,\)\)"
    with pytest.raises(ValueError, match=message):
        fitted.predict(blobs[2][:, :19])


def test_bad_labels_values_and_shapes(blobs, fitted):
    x, y = blobs[0], blobs[1]
    with pytest.raises(
        ValueError,
        match=r"one label per sample: x has 600 samples. "
        r"Received: y with 599 labels",
    ):
        KNeighborsClassifier().fit(x, y[:-1])
    with pytest.raises(ValueError, match=r"1-D array of class labels .* \(600, 4\)"):
        KNeighborsClassifier().fit(x, np.eye(4)[y])
    with pytest.raises(ValueError, match=r"Received: y with 3 labels"):
        fitted.score(blobs[2], [0, 1, 2])
    bad = x.copy()
    bad[5, 3] = np.nan
    with pytest.raises(ValueError, match=r"x contains NaN or infinity"):
        KNeighborsClassifier().fit(bad, y)
    bad[5, 3] = np.inf
    with pytest.raises(ValueError, match=r"x contains NaN or infinity"):
        fitted.predict(bad)
    with pytest.raises(ValueError, match=r"x is empty.*shape \(0, 20\)"):
        fitted.predict(x[:0])
    with pytest.raises(ValueError, match=r"x must have a leading samples axis.*shape \(20,\)"):
        fitted.predict(x[0])
    with pytest.raises(TypeError, match=r"x must hold numbers.*dtype <U1"):
        KNeighborsClassifier().fit(np.array([["a"], ["b"]]), [0, 1])


def test_select_rejects_bad_arguments(blobs):
    x, y = blobs[0][:50], blobs[1][:50]
    with pytest.raises(ValueError, match=r"either cv or validation_split, not both"):
        select(x, y, cv=3, validation_split=0.2)
    with pytest.raises(
        ValueError,
        match=r"validation_split must be a fraction.*Received: "
        r"validation_split=1.5",
    ):
        select(x, y, validation_split=1.5)
    with pytest.raises(
        ValueError, match=r"ks must be one or more integers >= 1. Received: ks=\(0, 3\)"
    ):
        select(x, y, ks=(0, 3))
    with pytest.raises(ValueError, match=r"ks must not exceed .* \(40\)"):
        select(x, y, ks=(1, 41))
    with pytest.raises(ValueError, match=r"cv must be between 2 and the number of samples"):
        select(x, y, cv=1)
    with pytest.raises(ValueError, match=r"Received: metric='l3'"):
        select(x, y, metrics=("l1", "l3"))


# --- real data --------------------------------------------------------------------------------


@pytest.mark.slow
def test_fashion_mnist_accuracy_and_agreement_with_sklearn():
    datasets = pytest.importorskip("cnnkit.datasets")
    (x_train, y_train), (x_test, y_test) = datasets.fashion_mnist.load_data()
    knn = KNeighborsClassifier(5, metric="l2").fit(x_train, y_train)
    assert 0.85 <= knn.score(x_test, y_test) <= 0.865
    subset = x_test[:500]
    theirs = sklearn_knn(x_train, y_train, 5, "l2")
    assert np.mean(knn.predict(subset) == theirs.predict(subset)) >= 0.998
    distances, _ = knn.kneighbors(subset)
    np.testing.assert_allclose(distances, theirs.kneighbors(subset)[0])


@pytest.mark.parametrize("int8_products", [True, False], ids=["int8", "float32"])
def test_l2_on_uint8_images_is_exact_with_either_matrix_product(images, monkeypatch, int8_products):
    """The 8-bit L2 screen multiplies int8 codes where the CPU runs them fast (AVX-512) and
    float32 ones elsewhere; both give the reference's distances and order."""
    from cnnkit.neighbors import _screens

    if int8_products and not _screens._int_mm_works():
        pytest.skip("this torch build has no int8 matrix product on the CPU")
    monkeypatch.setattr(_screens, "_INT_MM", int8_products)
    x_train, y_train, x_test, _ = images
    knn = KNeighborsClassifier(9, metric="l2").fit(x_train, y_train)
    distances, indices = knn.kneighbors(x_test)
    ref_distances, ref_indices = stable_reference(x_train, x_test, 9, "l2")
    np.testing.assert_array_equal(distances, ref_distances)
    np.testing.assert_array_equal(indices, ref_indices)


def test_int8_products_are_used_only_where_the_cpu_runs_them_fast(monkeypatch):
    from cnnkit.neighbors import _screens

    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: "AVX2")
    assert not _screens._int_mm_is_fast()
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: "AVX512")
    assert _screens._int_mm_is_fast()
