"""The embedded digits dataset and the shared resize: fixed stratified split, scaling, shapes."""

from __future__ import annotations

import numpy as np
import pytest

from cnnkit.datasets import digits
from cnnkit.datasets._resize import resize_images

sklearn_datasets = pytest.importorskip("sklearn.datasets")


def test_shapes_dtypes_and_sizes():
    (x_train, y_train), (x_test, y_test) = digits.load_data()
    assert x_train.shape == (1442, 8, 8) and y_train.shape == (1442,)
    assert x_test.shape == (355, 8, 8) and y_test.shape == (355,)
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.uint8)}
    assert digits.CLASS_NAMES == tuple("0123456789")


def test_split_is_stratified_disjoint_and_complete():
    bunch = sklearn_datasets.load_digits()
    (x_train, y_train), (x_test, y_test) = digits.load_data()
    per_class = np.bincount(bunch.target, minlength=10)
    assert np.bincount(y_test, minlength=10).tolist() == (per_class // 5).tolist()
    assert np.bincount(y_train, minlength=10).tolist() == (per_class - per_class // 5).tolist()

    expected = np.rint(bunch.images * 255 / 16).astype(np.uint8)
    test = np.zeros(len(expected), bool)
    for label in range(10):
        test[np.flatnonzero(bunch.target == label)[4::5]] = True
    np.testing.assert_array_equal(x_test, expected[test])
    np.testing.assert_array_equal(x_train, expected[~test])
    np.testing.assert_array_equal(y_test, bunch.target[test])


def test_values_are_scaled_to_full_uint8_range():
    (x_train, _), _ = digits.load_data()
    assert x_train.min() == 0 and x_train.max() == 255
    assert set(np.unique(x_train)) <= {round(v * 255 / 16) for v in range(17)}


def test_same_split_on_every_call():
    first, second = digits.load_data(), digits.load_data()
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])


def test_image_size_resizes_each_image():
    (x_small, y_small), _ = digits.load_data()
    (x_big, y_big), (x_test, _) = digits.load_data(image_size=(32, 32))
    assert x_big.shape == (1442, 32, 32) and x_test.shape == (355, 32, 32)
    assert x_big.dtype == np.uint8
    np.testing.assert_array_equal(y_big, y_small)
    np.testing.assert_array_equal(
        x_big[5], resize_images(x_small[5:6, :, :, None], (32, 32))[0, ..., 0]
    )


@pytest.mark.parametrize("image_size", [32, (32,), (32, 32.0), "32x32", (True, 3)])
def test_bad_image_size_type(image_size):
    with pytest.raises(TypeError, match=r"image_size must be None or a pair of integers"):
        digits.load_data(image_size=image_size)


def test_bad_image_size_value_and_interpolation():
    with pytest.raises(ValueError, match=r"image_size sides must be at least 1"):
        digits.load_data(image_size=(0, 8))
    with pytest.raises(ValueError, match=r"interpolation must be one of 'bilinear', 'nearest'"):
        digits.load_data(interpolation="bicubic")


def _bilinear_reference(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Separable bilinear with half-pixel centres and edge clamping, in float64."""

    def axis_weights(n_in, n_out):
        src = (np.arange(n_out) + 0.5) * n_in / n_out - 0.5
        src = np.clip(src, 0, n_in - 1)
        lo = np.floor(src).astype(int)
        hi = np.minimum(lo + 1, n_in - 1)
        w = np.zeros((n_out, n_in))
        w[np.arange(n_out), lo] += 1 - (src - lo)
        w[np.arange(n_out), hi] += src - lo
        return w

    rows, cols = axis_weights(image.shape[0], size[0]), axis_weights(image.shape[1], size[1])
    return np.einsum("ij,jkc,lk->ilc", rows, image.astype(np.float64), cols)


@pytest.mark.parametrize("size", [(32, 32), (5, 3), (8, 20)])
def test_bilinear_matches_half_pixel_reference(size):
    image = np.random.default_rng(0).integers(0, 256, (8, 8, 2), dtype=np.uint8)
    out = resize_images(image[None], size, "bilinear")[0]
    expected = _bilinear_reference(image, size)
    assert out.shape == (*size, 2) and out.dtype == np.uint8
    assert np.abs(out.astype(float) - expected).max() <= 0.5 + 1e-3


def test_nearest_samples_pixel_centres():
    image = np.arange(4, dtype=np.uint8).reshape(1, 4, 1) * 10
    out = resize_images(image[None], (1, 8), "nearest")[0, 0, :, 0]
    assert out.tolist() == [0, 0, 10, 10, 20, 20, 30, 30]
