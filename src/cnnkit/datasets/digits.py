"""The embedded default dataset: scikit-learn's 1,797 handwritten 8x8 digits, no download.

The images are the UCI "Optical Recognition of Handwritten Digits" test set bundled with
scikit-learn (values 0..16).  The train/test split is fixed and stratified without random
numbers: within each class, in the bundled order, every fifth image (the 5th, 10th, ...) is a
test image.  So every machine and every library version gets the same 80/20 split.
"""

from __future__ import annotations

import numpy as np

from ._resize import check_image_size, check_interpolation, resize_images

__all__ = ["CLASS_NAMES", "TEST_EVERY", "load_data"]

#: Label ``i`` is the digit ``CLASS_NAMES[i]``.
CLASS_NAMES: tuple[str, ...] = tuple(str(d) for d in range(10))

#: Every ``TEST_EVERY``-th image of each class goes to the test set (20 %).
TEST_EVERY = 5


def load_data(
    image_size: tuple[int, int] | None = None, interpolation: str = "bilinear"
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load the bundled digits split 80/20, shaped like MNIST, to try a CNN without a download.

    Args:
        image_size: ``None`` keeps 8x8; ``(height, width)`` resizes, e.g. ``(32, 32)``.
        interpolation: ``'bilinear'`` (default; half-pixel centres, as Keras) or ``'nearest'``.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: x uint8 ``(n, h, w)`` with values 0..255
        (the original 0..16 times 255/16, rounded); y uint8 ``(n,)``, 0..9.
        ``n`` is 1,442 for training and 355 for test.

    Raises:
        ImportError: scikit-learn is not installed.
        TypeError, ValueError: ``image_size`` or ``interpolation`` is invalid.
    """
    size = check_image_size(image_size, "digits.load_data")
    interpolation = check_interpolation(interpolation, "digits.load_data")
    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:
        raise ImportError(
            "cnnkit.datasets.digits needs scikit-learn: pip install scikit-learn"
        ) from exc
    bunch = load_digits()
    x = np.rint(bunch.images * (255.0 / 16.0)).astype(np.uint8)
    y = bunch.target.astype(np.uint8)
    if size is not None:
        x = resize_images(x[..., None], size, interpolation)[..., 0]
    test = _test_mask(y)
    return (x[~test], y[~test]), (x[test], y[test])


def _test_mask(y: np.ndarray) -> np.ndarray:
    """Mark every TEST_EVERY-th sample of each class (counting from 1) as test."""
    mask = np.zeros(len(y), dtype=bool)
    for label in np.unique(y):
        (indices,) = np.nonzero(y == label)
        mask[indices[TEST_EVERY - 1 :: TEST_EVERY]] = True
    return mask
