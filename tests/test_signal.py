"""cnnkit.signal against SciPy (the oracle): 2-D semantics, dtypes, channels, batches, tensors."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal
import torch
import torch.nn.functional as F

import cnnkit.arithmetic
from cnnkit import signal
from cnnkit.signal import _dispatch, convolve2d, correlate2d

MODES = ["full", "same", "valid"]
BOUNDARIES = ["fill", "symm", "wrap"]
FUNCTIONS = [(correlate2d, scipy.signal.correlate2d), (convolve2d, scipy.signal.convolve2d)]
# (image, kernel) shapes: odd/even kernels, 1-pixel axes, kernel larger than the image in one
# or both axes (SciPy swaps the operands in 'valid' mode when it is larger in both).
SHAPES = [
    ((7, 9), (3, 3)),
    ((8, 6), (2, 4)),
    ((5, 5), (5, 5)),
    ((1, 6), (1, 3)),
    ((6, 1), (4, 1)),
    ((9, 8), (1, 1)),
    ((4, 5), (6, 7)),
    ((3, 3), (8, 4)),
    ((6, 4), (3, 7)),
    ((2, 2), (9, 9)),
    ((12, 11), (5, 6)),
]


def _random(shape, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind in "iu":
        return rng.integers(-9 if np.dtype(dtype).kind == "i" else 0, 10, shape).astype(dtype)
    data = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        data = data + 1j * rng.standard_normal(shape)
    return data.astype(dtype)


def _rel_error(ours, reference):
    """Normwise relative error: max |difference| / max |reference|."""
    scale = max(np.abs(reference).max(), np.finfo(np.float64).tiny)
    return np.abs(np.asarray(ours) - reference).max() / scale


@pytest.fixture(params=["direct", "fft"])
def algorithm(request, monkeypatch):
    """Force one algorithm (the cost model would pick direct for most of these small cases)."""
    seconds = 0.0 if request.param == "fft" else float("inf")
    monkeypatch.setattr(_dispatch, "fft_seconds", lambda x, w: seconds)
    return request.param


@pytest.mark.parametrize("functions", FUNCTIONS, ids=["correlate2d", "convolve2d"])
@pytest.mark.parametrize("boundary", BOUNDARIES)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shapes", SHAPES, ids=str)
def test_2d_matches_scipy(shapes, mode, boundary, functions, algorithm):
    ours, scipys = functions
    image, kernel = _random(shapes[0], seed=1), _random(shapes[1], seed=2)
    try:
        expected = scipys(image, kernel, mode, boundary, fillvalue=0.5)
    except ValueError:  # SciPy's 'valid' rule: neither operand fits inside the other
        with pytest.raises(ValueError, match="at least as large as the other in every dimension"):
            ours(image, kernel, mode, boundary, fillvalue=0.5)
        return
    result = ours(image, kernel, mode, boundary, fillvalue=0.5)
    assert isinstance(result, np.ndarray)
    assert result.shape == expected.shape and result.dtype == expected.dtype
    assert _rel_error(result, expected) <= 1e-12


@pytest.mark.parametrize("functions", FUNCTIONS, ids=["correlate2d", "convolve2d"])
@pytest.mark.parametrize(
    ("image_dtype", "kernel_dtype"),
    [
        (np.float32, np.float32),
        (np.float64, np.float64),
        (np.float32, np.float64),
        (np.int8, np.float32),  # -> float32, as numpy.result_type says
        (np.int64, np.float32),  # -> float64
        (np.int32, np.int32),
        (np.int64, np.int64),
        (np.uint8, np.int8),  # -> int16
        (np.uint64, np.uint64),
        (np.complex64, np.complex64),
        (np.complex128, np.float64),
    ],
    ids=str,
)
@pytest.mark.parametrize("mode", MODES)
def test_dtypes_follow_scipy(functions, image_dtype, kernel_dtype, mode, algorithm):
    ours, scipys = functions
    image, kernel = _random((9, 10), image_dtype, 3), _random((4, 3), kernel_dtype, 4)
    expected = scipys(image, kernel, mode, "symm")
    result = ours(image, kernel, mode, "symm")
    assert result.dtype == expected.dtype
    if expected.dtype.kind in "iu":  # integers are exact, whatever the algorithm
        np.testing.assert_array_equal(result, expected)
    else:
        tolerance = 1e-12 if expected.dtype in (np.float64, np.complex128) else 1e-5
        assert _rel_error(result, expected) <= tolerance


def test_integer_overflow_wraps_like_scipy():
    image, kernel = np.full((4, 4), 100, np.int8), np.full((2, 2), 2, np.int8)
    expected = scipy.signal.correlate2d(image, kernel)
    result = correlate2d(image, kernel)
    assert result.dtype == np.int8
    np.testing.assert_array_equal(result, expected)
    big = np.array([[2**64 - 1, 7], [3, 2**63]], np.uint64)
    np.testing.assert_array_equal(correlate2d(big, big), scipy.signal.correlate2d(big, big))


def test_fillvalue_is_cast_to_integer_output_like_scipy():
    image, kernel = _random((5, 4), np.int32, 5), _random((3, 2), np.int32, 6)
    expected = scipy.signal.correlate2d(image, kernel, fillvalue=1.7)
    np.testing.assert_array_equal(correlate2d(image, kernel, fillvalue=1.7), expected)


@pytest.mark.parametrize("functions", FUNCTIONS, ids=["correlate2d", "convolve2d"])
@pytest.mark.parametrize(
    ("image_shape", "kernel_shape"), [((160, 130), (31, 25)), ((300, 301), (15, 16))]
)
@pytest.mark.parametrize("mode", MODES)
def test_float64_large_kernels_relative_error(functions, image_shape, kernel_shape, mode):
    """The cost model sends these to the FFT; float64 must stay within 1e-6 of SciPy (and does
    much better)."""
    ours, scipys = functions
    image, kernel = _random(image_shape, seed=7), _random(kernel_shape, seed=8)
    assert _dispatch.use_fft(torch.empty(1, 1, *image_shape), torch.empty(1, 1, *kernel_shape))
    assert _rel_error(ours(image, kernel, mode), scipys(image, kernel, mode)) <= 1e-9


def test_float32_large_kernel_is_close_to_scipy():
    image = _random((256, 256), np.float32, 9)
    kernel = _random((31, 31), np.float32, 10)
    result = correlate2d(image, kernel, "same")
    assert result.dtype == np.float32
    assert _rel_error(result, scipy.signal.correlate2d(image, kernel, "same")) <= 1e-5


@pytest.mark.parametrize("algorithm_forced", ["direct", "fft"])
def test_nan_stays_in_the_windows_that_contain_it(algorithm_forced, monkeypatch):
    """SciPy sums directly, so a NaN only spoils the outputs whose window covers it."""
    if algorithm_forced == "fft":
        monkeypatch.setattr(_dispatch, "fft_seconds", lambda x, w: 0.0)
    image = _random((60, 50), seed=11)
    image[20, 30] = np.nan
    kernel = _random((15, 15), seed=12)
    expected = scipy.signal.correlate2d(image, kernel, "same")
    result = correlate2d(image, kernel, "same")
    np.testing.assert_array_equal(np.isnan(result), np.isnan(expected))
    assert 0 < np.isnan(result).sum() < result.size
    np.testing.assert_allclose(result[~np.isnan(result)], expected[~np.isnan(expected)])


def _per_channel(scipys, image, kernel, mode, boundary):
    """SciPy reference for one (h, w, c) image and one (kh, kw, c) filter: sum over channels."""
    return sum(
        scipys(image[..., c], kernel[..., c], mode, boundary, fillvalue=-1.0)
        for c in range(image.shape[-1])
    )


@pytest.mark.parametrize("functions", FUNCTIONS, ids=["correlate2d", "convolve2d"])
@pytest.mark.parametrize("boundary", BOUNDARIES)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kernel_hw", [(3, 3), (4, 2), (9, 9)], ids=str)
def test_channels_filters_and_batches_sum_scipy_per_channel(
    functions, boundary, mode, kernel_hw, algorithm
):
    ours, scipys = functions
    images = _random((2, 10, 9, 3), seed=13)  # (b, h, w, c)
    filters = _random((*kernel_hw, 3, 4), seed=14)  # (kh, kw, c, n)
    batch = ours(images, filters, mode, boundary, fillvalue=-1.0)
    one_filter = ours(images[1], filters[..., 2], mode, boundary, fillvalue=-1.0)
    expected = np.stack(
        [
            np.stack(
                [_per_channel(scipys, im, filters[..., n], mode, boundary) for n in range(4)], -1
            )
            for im in images
        ]
    )
    assert batch.shape == expected.shape  # (b, h', w', n)
    assert _rel_error(batch, expected) <= 1e-12
    assert one_filter.shape == expected.shape[1:3]  # (h, w, c) with (kh, kw, c) -> (h', w')
    assert _rel_error(one_filter, expected[1, ..., 2]) <= 1e-12
    several = ours(images[0], filters, mode, boundary, fillvalue=-1.0)  # -> (h', w', n)
    assert _rel_error(several, expected[0]) <= 1e-12
    one_per_batch = ours(images, filters[..., 0], mode, boundary, fillvalue=-1.0)  # (b, h', w')
    assert _rel_error(one_per_batch, expected[..., 0]) <= 1e-12


@pytest.mark.parametrize("algorithm_forced", ["direct", "fft"])
def test_valid_correlation_with_filters_is_torch_conv2d(algorithm_forced, monkeypatch):
    """The lecture's point: a CNN's 'convolution' (conv2d) is correlation, no flip."""
    if algorithm_forced == "fft":
        monkeypatch.setattr(_dispatch, "fft_seconds", lambda x, w: 0.0)
    images = torch.randn(
        2, 12, 11, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
    )
    filters = torch.randn(
        5, 3, 3, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(1)
    )
    conv = F.conv2d(images.permute(0, 3, 1, 2), filters.permute(3, 2, 0, 1)).permute(0, 2, 3, 1)
    torch.testing.assert_close(correlate2d(images, filters, "valid"), conv)
    flipped = convolve2d(images, filters.flip(0, 1), "valid")
    torch.testing.assert_close(flipped, conv)


@pytest.mark.parametrize(
    "dtype", [torch.float16, torch.float32, torch.float64, torch.int32, torch.complex64]
)
def test_tensor_in_tensor_out(dtype, algorithm):
    image = torch.from_numpy(_random((11, 13), seed=15) * 10).to(dtype)
    kernel = torch.from_numpy(_random((4, 5), seed=16) * 10).to(dtype)
    result = correlate2d(image, kernel, "same", "wrap")
    as_numpy = [(t.float() if t.dtype == torch.float16 else t).numpy() for t in (image, kernel)]
    expected = scipy.signal.correlate2d(*as_numpy, "same", "wrap")  # SciPy refuses float16
    assert isinstance(result, torch.Tensor)
    assert result.dtype == dtype and result.device == image.device
    tolerance = {torch.float64: 1e-12, torch.float16: 1e-3}.get(dtype, 1e-5)
    assert _rel_error(result.numpy().astype(expected.dtype), expected) <= tolerance


def test_float16_numpy_is_computed_in_float32_and_kept_float16():
    """SciPy refuses float16; we accept it, as CNN data often is."""
    image, kernel = _random((16, 16), np.float16, 20), _random((5, 5), np.float16, 21)
    result = correlate2d(image, kernel, "same")
    assert result.dtype == np.float16
    expected = scipy.signal.correlate2d(image.astype(np.float32), kernel.astype(np.float32), "same")
    assert _rel_error(result, expected) <= 1e-3


@pytest.mark.parametrize("dtype", [np.int32, np.complex128], ids=str)
def test_integer_and_complex_filters_over_channels(dtype, algorithm):
    images, filters = _random((2, 8, 7, 3), dtype, 22), _random((3, 4, 3, 2), dtype, 23)
    result = correlate2d(images, filters, "full", "symm")
    expected = np.stack(
        [
            np.stack(
                [
                    _per_channel(scipy.signal.correlate2d, im, filters[..., n], "full", "symm")
                    for n in range(2)
                ],
                -1,
            )
            for im in images
        ]
    )
    assert result.dtype == expected.dtype and result.shape == expected.shape
    assert _rel_error(result, expected) <= 1e-12


def test_mixed_tensor_and_numpy_gives_tensor_with_torch_promotion():
    image = torch.arange(20, dtype=torch.int64).reshape(4, 5)
    kernel = np.ones((2, 2), np.float32)
    result = correlate2d(image, kernel, "valid")
    assert isinstance(result, torch.Tensor) and result.dtype == torch.float32
    expected = scipy.signal.correlate2d(image.numpy(), kernel, "valid")
    np.testing.assert_allclose(result.numpy(), expected)


def test_lists_are_accepted_like_scipy():
    expected = scipy.signal.correlate2d([[1, 2], [3, 4]], [[1, -1]])
    np.testing.assert_array_equal(correlate2d([[1, 2], [3, 4]], [[1, -1]]), expected)


def test_gradients_flow_through_tensors(algorithm):
    gen = torch.Generator().manual_seed(2)
    image = torch.randn(20, 20, 2, dtype=torch.float64, generator=gen, requires_grad=True)
    kernel = torch.randn(7, 6, 2, dtype=torch.float64, generator=gen, requires_grad=True)
    correlate2d(image, kernel, "valid").square().sum().backward()
    x, w = image.detach().requires_grad_(), kernel.detach().requires_grad_()
    conv = F.conv2d(x.permute(2, 0, 1)[None], w.permute(2, 0, 1)[None])
    conv.square().sum().backward()
    torch.testing.assert_close(image.grad, x.grad)
    torch.testing.assert_close(kernel.grad, w.grad)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("kernel_size", [3, 31])
def test_cuda_tensors_stay_on_the_device(kernel_size):
    image = torch.randn(64, 64, 3, 2, dtype=torch.float64).permute(2, 0, 1, 3)  # (b, h, w, c)
    kernel = torch.randn(kernel_size, kernel_size, 2, 4, dtype=torch.float64)
    expected = correlate2d(image, kernel, "same", "symm")
    result = correlate2d(image.cuda(), kernel.cuda(), "same", "symm")
    assert result.device.type == "cuda"
    torch.testing.assert_close(result.cpu(), expected)


def test_cost_model_picks_direct_for_small_and_fft_for_large_kernels():
    image = torch.empty(1, 1, 512, 512)
    assert not _dispatch.use_fft(image, torch.empty(1, 1, 3, 3))
    assert _dispatch.use_fft(image, torch.empty(1, 1, 31, 31))
    assert not _dispatch.use_fft(image.long(), torch.empty(1, 1, 31, 31, dtype=torch.long))


@pytest.mark.parametrize("kernel", [(3, 3), (4, 4), (2, 5)], ids=str)
def test_keras_same_padding_then_valid_is_scipy_same(kernel):
    """Keras' 'same' split (extra pixel after) is SciPy's centring of correlate2d(mode='same')."""
    assert signal.same_padding is cnnkit.arithmetic.same_padding
    image, weights = _random((9, 8), seed=17), _random(kernel, seed=18)
    pads = tuple(signal.same_padding(n, k) for n, k in zip(image.shape, kernel, strict=True))
    padded = signal.pad(image, pads)
    expected = scipy.signal.correlate2d(image, weights, "same")
    np.testing.assert_allclose(correlate2d(padded, weights, "valid"), expected)


PAD_MODES = {"zero": "constant", "symmetric": "symmetric", "reflect": "reflect"}
PAD_MODES.update(edge="edge", wrap="wrap")


@pytest.mark.parametrize("mode", list(PAD_MODES))
@pytest.mark.parametrize("shape", [(5, 4), (1, 3), (3, 4, 2), (2, 3, 4, 3)], ids=str)
@pytest.mark.parametrize("pad", [0, 2, (1, 3), ((0, 9), (7, 1)), [[4, 0], [0, 5]]], ids=str)
def test_pad_matches_numpy_on_spatial_axes(mode, shape, pad):
    image = _random(shape, np.int16, 19)
    pairs = np.broadcast_to(np.asarray(pad), (2, 2)).tolist()
    spatial = [(0, 0)] * (len(shape) == 4) + pairs + [(0, 0)] * (len(shape) - 2 - (len(shape) == 4))
    expected = np.pad(image, spatial, mode=PAD_MODES[mode])
    result = signal.pad(image, pad, mode)
    assert result.dtype == image.dtype
    np.testing.assert_array_equal(result, expected)


@pytest.mark.parametrize(
    "dtype", [np.bool_, np.uint8, np.uint16, np.uint64, np.float16, np.complex64], ids=str
)
def test_pad_keeps_dtype_and_bits(dtype):
    image = np.array([[0, 1, 2], [3, 250, 7]]).astype(dtype)
    if dtype == np.uint64:
        image[1, 1] = 2**64 - 5
    result = signal.pad(image, ((1, 2), (3, 1)), "symmetric")
    assert result.dtype == image.dtype
    np.testing.assert_array_equal(result, np.pad(image, ((1, 2), (3, 1)), "symmetric"))


def test_pad_tensor_in_tensor_out():
    image = torch.arange(12.0).reshape(3, 4)
    result = signal.pad(image, 2, "reflect")
    assert isinstance(result, torch.Tensor) and result.dtype == torch.float32
    np.testing.assert_array_equal(result.numpy(), np.pad(image.numpy(), 2, "reflect"))
