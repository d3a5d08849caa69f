"""Bad input to cnnkit.signal gets a clear error naming the argument, the value and what works."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal
import torch

from cnnkit.signal import convolve2d, correlate2d, pad

IMAGE, KERNEL = np.zeros((5, 5)), np.ones((3, 3))


@pytest.mark.parametrize("function", [correlate2d, convolve2d])
def test_unknown_mode_and_boundary(function):
    with pytest.raises(
        ValueError,
        match=r"mode must be one of 'full', 'valid', 'same'\. "
        r"Received: mode='ful'",
    ):
        function(IMAGE, KERNEL, mode="ful")
    with pytest.raises(ValueError, match="mode must be one of .* Received: mode='VALID'"):
        function(IMAGE, KERNEL, mode="VALID")  # case-sensitive, as in SciPy
    with pytest.raises(
        ValueError,
        match=r"boundary must be one of 'fill', .*'symm'.*'wrap'.* "
        r"Received: boundary='reflect'",
    ):
        function(IMAGE, KERNEL, boundary="reflect")


@pytest.mark.parametrize("alias", ["pad", "symmetric", "circular"])
def test_scipy_boundary_aliases_are_accepted(alias):
    expected = scipy.signal.correlate2d(IMAGE + 1, KERNEL, "same", alias)
    np.testing.assert_allclose(correlate2d(IMAGE + 1, KERNEL, "same", alias), expected)


@pytest.mark.parametrize(
    ("image_shape", "kernel_shape", "message"),
    [
        (
            (5,),
            (3, 3),
            r"image must have shape \(h, w\), \(h, w, c\) or \(b, h, w, c\)\. "
            r"Received: image.shape=\(5,\)",
        ),
        (
            (1, 5, 5, 2, 1),
            (3, 3),
            r"image must have shape .* Received: image.shape=\(1, 5, 5, 2, 1\)",
        ),
        ((5, 5), (3,), r"kernel must have shape \(kh, kw\), \(kh, kw, c\) or \(kh, kw, c, n\)"),
        ((5, 5, 2), (3, 3, 2, 1, 1), r"kernel must have shape .* kernel.shape=\(3, 3, 2, 1, 1\)"),
        ((5, 5), (3, 3, 1), r"a 2-D image \(h, w\) needs a 2-D kernel \(kh, kw\)"),
        (
            (5, 5, 2),
            (3, 3),
            r"an image with channels needs a kernel \(kh, kw, c\) or \(kh, kw, c, n\)",
        ),
        (
            (5, 5, 2),
            (3, 3, 3),
            r"kernel channels must match image channels.*"
            r"image.shape=\(5, 5, 2\), kernel.shape=\(3, 3, 3\)",
        ),
        ((2, 5, 5, 3), (3, 3, 1, 4), r"kernel channels must match image channels"),
        ((0, 5), (3, 3), r"image must not be empty\. Received: image.shape=\(0, 5\)"),
        ((5, 5), (3, 0), r"kernel must not be empty\. Received: kernel.shape=\(3, 0\)"),
    ],
)
def test_shapes_that_do_not_go_together(image_shape, kernel_shape, message):
    with pytest.raises(ValueError, match=message):
        correlate2d(np.zeros(image_shape), np.ones(kernel_shape))


@pytest.mark.parametrize("function", [correlate2d, convolve2d])
def test_valid_mode_follows_scipys_rule(function):
    with pytest.raises(
        ValueError,
        match="at least as large as the other in every dimension.*"
        r"image.shape=\(3, 5\), kernel.shape=\(4, 2\)",
    ):
        function(np.zeros((3, 5)), np.ones((4, 2)), "valid")
    # Larger in every dimension: SciPy swaps the operands, and so do we.
    image, kernel = np.arange(6.0).reshape(2, 3), np.arange(20.0).reshape(4, 5)
    scipys = getattr(scipy.signal, function.__name__)
    np.testing.assert_allclose(function(image, kernel, "valid"), scipys(image, kernel, "valid"))


def test_valid_mode_with_channels_needs_the_kernel_inside_the_image():
    with pytest.raises(
        ValueError,
        match=r"kernel must fit inside the image: kernel \(kh, kw\) = "
        r"\(6, 2\), image \(h, w\) = \(5, 5\)",
    ):
        correlate2d(np.zeros((2, 5, 5, 3)), np.ones((6, 2, 3)), "valid")


@pytest.mark.parametrize(
    ("image", "shown"),
    [
        (np.array([["a", "b"], ["c", "d"]]), "<U1"),
        (np.zeros((3, 3), dtype=object), "object"),
        (np.zeros((3, 3), dtype=bool), "bool"),
        (torch.zeros(3, 3, dtype=torch.bool), "bool"),
        (np.zeros((3, 3), dtype=np.longdouble), "float128"),
    ],
    ids=["str", "object", "bool", "torch-bool", "longdouble"],
)
def test_non_numeric_dtypes(image, shown):
    if image.dtype == np.longdouble and np.dtype(np.longdouble).itemsize == 8:
        pytest.skip("longdouble is float64 on this platform")
    with pytest.raises(
        TypeError,
        match=rf"image must have a numeric \(integer, float16/32/64, "
        rf"complex64/128\) dtype\. Received: image.dtype={shown}",
    ):
        correlate2d(image, KERNEL)
    with pytest.raises(TypeError, match="kernel must have a numeric"):
        convolve2d(KERNEL, image)


def test_ragged_input_is_a_type_error():
    with pytest.raises(TypeError, match=r"image must be a NumPy array or a torch tensor"):
        correlate2d([[1, 2], [3]], KERNEL)


@pytest.mark.parametrize(
    ("fillvalue", "error", "message"),
    [
        (
            [1, 2],
            ValueError,
            r"fillvalue must be a number or a one-element array\. "
            r"Received: fillvalue=\[1, 2\]",
        ),
        ("a", TypeError, r"fillvalue must be a number\. Received: fillvalue='a'"),
        (1 + 2j, ValueError, r"fillvalue is complex but the data is real"),
    ],
)
def test_bad_fillvalue(fillvalue, error, message):
    with pytest.raises(error, match=message):
        correlate2d(IMAGE, KERNEL, fillvalue=fillvalue)


def test_nan_fillvalue_needs_floating_data():
    with pytest.raises(ValueError, match="fillvalue must be finite for integer data"):
        correlate2d(IMAGE.astype(int), KERNEL.astype(int), fillvalue=np.nan)
    result = correlate2d(IMAGE, KERNEL, "same", fillvalue=np.nan)  # NaN propagates, no error
    assert np.isnan(result[0, 0]) and result[2, 2] == 0


def test_one_element_fillvalue_array_is_accepted():
    expected = scipy.signal.correlate2d(IMAGE, KERNEL, fillvalue=np.array([2.0]))
    np.testing.assert_allclose(correlate2d(IMAGE, KERNEL, fillvalue=np.array([2.0])), expected)
    np.testing.assert_allclose(correlate2d(IMAGE, KERNEL, fillvalue=torch.tensor(2.0)), expected)


@pytest.mark.parametrize(
    "bad", [-1, 1.5, True, (1, 2, 3), ((1, 2), 3), ((1, -2), (0, 0)), "same"], ids=str
)
def test_pad_rejects_bad_pad_widths(bad):
    with pytest.raises(
        ValueError,
        match=r"pad must be a non-negative int, a \(before, after\) "
        r"pair or \(\(top, bottom\), \(left, right\)\)\. Received: pad=",
    ):
        pad(IMAGE, bad)


def test_pad_rejects_unknown_mode_wrong_rank_and_dtype():
    with pytest.raises(
        ValueError,
        match=r"mode must be one of 'zero', 'symmetric', 'reflect', "
        r"'edge', 'wrap'\. Received: mode='constant'",
    ):
        pad(IMAGE, 1, "constant")
    with pytest.raises(ValueError, match=r"image must have shape .* Received: image.shape=\(3,\)"):
        pad(np.zeros(3), 1)
    with pytest.raises(TypeError, match=r"a boolean or numeric .* image.dtype=object"):
        pad(np.zeros((3, 3), dtype=object), 1)
    with pytest.raises(
        ValueError,
        match=r"an empty axis \(size 0\) can only be padded with "
        r"mode='zero'\. Received: mode='wrap'",
    ):
        pad(np.zeros((0, 3)), 1, "wrap")
    assert pad(np.zeros((0, 3)), 1).shape == (2, 5)  # zeros around nothing is fine
