"""Correlation through the FFT: one product per frequency instead of kh*kw per pixel."""

from __future__ import annotations

import torch

_FAST_RADICES = (2, 3, 5, 7)


def fast_length(n: int) -> int:
    """Return the smallest even m >= n whose prime factors are 2, 3, 5, 7 (fast FFT sizes).

    Even matters: a real FFT of odd length took twice as long as the next even smooth one in
    bench/bench_signal.py (512x512: 525 -> 1.4 ms, 528 or 540 -> 0.8 ms).
    """
    if n <= 1:
        return 1
    m = n + n % 2
    while True:
        rest = m
        for radix in _FAST_RADICES:
            while rest % radix == 0:
                rest //= radix
        if rest == 1:
            return m
        m += 2


def correlate_valid_fft(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Valid correlation of each image with each filter, summed over channels, by FFT.

    The image is transformed at a length of at least its own size (not image + kernel): a
    circular correlation of that length equals the linear one at every 'valid' position.

    Args:
        x: images, shape (b, c, h, w).
        w: filters, shape (n, c, kh, kw), with kh <= h and kw <= w; same dtype as ``x``.

    Returns:
        Tensor of shape (b, n, h - kh + 1, w - kw + 1), dtype of ``x``.
    """
    h, wd = x.shape[-2:]
    kh, kw = w.shape[-2:]
    size = (fast_length(h), fast_length(wd))
    complex_data = x.is_complex()
    forward = torch.fft.fft2 if complex_data else torch.fft.rfft2
    # Correlating with w is convolving with w flipped; the convolution at (r + kh - 1, c + kw - 1)
    # is the correlation at (r, c).
    fx = forward(x, s=size)
    fw = forward(w.flip(-2, -1), s=size)
    if x.shape[1] == 1 and w.shape[0] == 1:
        product = fx * fw
    else:
        product = torch.einsum("bcij,ncij->bnij", fx, fw)
    out = torch.fft.ifft2(product, s=size) if complex_data else torch.fft.irfft2(product, s=size)
    return out[..., kh - 1 : h, kw - 1 : wd]
