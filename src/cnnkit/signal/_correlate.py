"""2D correlation and convolution with SciPy's semantics, extended to channels and batches."""

from __future__ import annotations

import numbers

import numpy as np
import torch

from cnnkit.signal._arrays import Array, ArrayLike, as_array, to_working
from cnnkit.signal._dispatch import correlate_valid
from cnnkit.signal._layout import layout_of
from cnnkit.signal._pad import pad_axes

MODES = ("full", "valid", "same")
# SciPy's boundary names (and its aliases) -> the padding mode that realises them.
BOUNDARIES = {
    "fill": "zero",
    "pad": "zero",
    "symm": "symmetric",
    "symmetric": "symmetric",
    "wrap": "wrap",
    "circular": "wrap",
}


def correlate2d(
    image: ArrayLike,
    kernel: ArrayLike,
    mode: str = "full",
    boundary: str = "fill",
    fillvalue: complex = 0,
) -> Array:
    """Slide a filter over an image without flipping it, as a CNN's convolution layer does.

    out(r, c) = sum over u, v (and channels) of kernel(u, v) * image(r + u, c + v): the lecture's
    I ⊗ w. For 2-D input this is ``scipy.signal.correlate2d`` (complex kernels are conjugated).
    Small filters are summed directly, large ones go through the FFT.

    Args:
        image: (h, w), (h, w, c), or a batch (b, h, w, c). NumPy array or torch tensor.
        kernel: (kh, kw) for a 2-D image; (kh, kw, c) for one filter over c channels, or
            (kh, kw, c, n) for n filters.
        mode: 'full' (every overlap, h + kh - 1), 'valid' (filter inside the image,
            h - kh + 1) or 'same' (h, centred like SciPy).
        boundary: how pixels outside the image are read: 'fill' (``fillvalue``), 'symm'
            (mirrored) or 'wrap' (periodic). SciPy's aliases 'pad', 'symmetric', 'circular' work.
        fillvalue: the value outside the image for ``boundary='fill'``.

    Returns:
        (h', w') for 2-D input or one filter, (h', w', n) for n filters, with a leading b for
        batches. NumPy in gives NumPy out in SciPy's dtype (``numpy.result_type``); a tensor in
        gives a tensor on its device in torch's promoted dtype.

    Example:
        >>> import numpy as np
        >>> correlate2d(np.eye(3), np.array([[1.0, 2.0]]), mode="valid")
        array([[1., 0.],
               [2., 1.],
               [0., 2.]])
    """
    return _correlate(image, kernel, mode, boundary, fillvalue, convolve=False)


def convolve2d(
    image: ArrayLike,
    kernel: ArrayLike,
    mode: str = "full",
    boundary: str = "fill",
    fillvalue: complex = 0,
) -> Array:
    """Convolve in the signal-processing sense: correlation with the filter flipped in h and w.

    Same arguments, shapes and dtypes as :func:`correlate2d`; for 2-D input this is
    ``scipy.signal.convolve2d``. CNN layers do not flip: use :func:`correlate2d` to match them.
    """
    return _correlate(image, kernel, mode, boundary, fillvalue, convolve=True)


def _check_choices(mode: str, boundary: str, owner: str) -> str:
    if mode not in MODES:
        accepted = ", ".join(repr(m) for m in MODES)
        raise ValueError(f"{owner}: mode must be one of {accepted}. Received: mode={mode!r}")
    if boundary not in BOUNDARIES:
        accepted = ", ".join(repr(b) for b in BOUNDARIES)
        raise ValueError(
            f"{owner}: boundary must be one of {accepted}. Received: boundary={boundary!r}"
        )
    return BOUNDARIES[boundary]


def _fill(fillvalue: object, dtype: torch.dtype, owner: str) -> complex:
    """Return ``fillvalue`` as a Python number of the compute dtype, as SciPy casts it."""
    value = fillvalue
    if isinstance(value, (np.ndarray, torch.Tensor, list, tuple)):
        array = np.asarray(value.cpu() if isinstance(value, torch.Tensor) else value)
        if array.size != 1:
            raise ValueError(
                f"{owner}: fillvalue must be a number or a one-element array. Received: fillvalue={value!r}"
            )
        value = array.reshape(()).item()
    if not isinstance(value, numbers.Number):
        raise TypeError(f"{owner}: fillvalue must be a number. Received: fillvalue={value!r}")
    value = complex(value)
    if value.imag != 0 and not dtype.is_complex:
        raise ValueError(
            f"{owner}: fillvalue is complex but the data is real. Received: fillvalue={fillvalue!r}"
        )
    if dtype.is_complex:
        return value
    if dtype.is_floating_point:
        return value.real
    if not np.isfinite(value.real):
        raise ValueError(
            f"{owner}: fillvalue must be finite for integer data. Received: fillvalue={fillvalue!r}"
        )
    return int(value.real)


def _valid_swap(image: tuple[int, ...], kernel: tuple[int, ...], owner: str) -> bool:
    """SciPy's 'valid' rule for 2-D: swap when the kernel is at least as large in both axes."""
    image_fits = all(i >= k for i, k in zip(image, kernel, strict=True))
    kernel_fits = all(k >= i for i, k in zip(image, kernel, strict=True))
    if not (image_fits or kernel_fits):
        raise ValueError(
            f"{owner}: for mode='valid', one of image and kernel must be at least as large as the other "
            f"in every dimension. Received: image.shape={image}, kernel.shape={kernel}"
        )
    return not image_fits


def _check_valid_fits(
    image: tuple[int, ...], kernel: tuple[int, ...], batched: bool, owner: str
) -> None:
    rows, cols = image[1:3] if batched else image[:2]
    if kernel[0] > rows or kernel[1] > cols:
        raise ValueError(
            f"{owner}: for mode='valid' with channels, the kernel must fit inside the image: "
            f"kernel (kh, kw) = {kernel[:2]}, image (h, w) = {(rows, cols)}. "
            f"Received: image.shape={image}, kernel.shape={kernel}"
        )


def _pads(mode: str, kh: int, kw: int, convolve: bool) -> tuple[tuple[int, int], ...]:
    """Return the ((top, bottom), (left, right)) padding SciPy's ``mode`` implies."""
    if mode == "valid":
        return (0, 0), (0, 0)
    if mode == "full":
        return (kh - 1, kh - 1), (kw - 1, kw - 1)
    # 'same' centres the output; for even kernels SciPy's convolve and correlate differ by one.
    before_h, before_w = (kh // 2, kw // 2) if convolve else ((kh - 1) // 2, (kw - 1) // 2)
    return (before_h, kh - 1 - before_h), (before_w, kw - 1 - before_w)


def _correlate(
    image: ArrayLike,
    kernel: ArrayLike,
    mode: str,
    boundary: str,
    fillvalue: complex,
    convolve: bool,
) -> Array:
    """Validate at the edge, pad as ``mode``/``boundary`` say, then correlate in 'valid' mode."""
    owner = "convolve2d" if convolve else "correlate2d"
    pad_mode = _check_choices(mode, boundary, owner)
    image, kernel = as_array(image, "image", owner=owner), as_array(kernel, "kernel", owner=owner)
    shapes = tuple(image.shape), tuple(kernel.shape)
    layout = layout_of(*shapes, owner=owner)
    swap = False
    if mode == "valid" and not layout.channels:
        swap = _valid_swap(*shapes, owner)
    elif mode == "valid":
        _check_valid_fits(*shapes, batched=layout.batched, owner=owner)
    x, w, finish = to_working(image, kernel, owner)
    fill = _fill(fillvalue, x.dtype, owner)
    x, w = layout.to_nchw(x, w)
    if swap:  # SciPy swaps the operands, then flips the output of a correlation.
        x, w = w, x
    w = w.flip(-2, -1) if convolve else w.conj()
    x = pad_axes(x, 2, _pads(mode, w.shape[-2], w.shape[-1], convolve), pad_mode, fill)
    out = correlate_valid(x, w)
    if swap and not convolve:
        out = out.flip(-2, -1)
    return finish(layout.from_nchw(out).resolve_conj())
