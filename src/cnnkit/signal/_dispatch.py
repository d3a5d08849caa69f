"""Choosing direct or FFT correlation from a cost model measured on a CPU."""

from __future__ import annotations

import math

import torch

from cnnkit.signal._direct import correlate_valid_direct, direct_method
from cnnkit.signal._fft import correlate_valid_fft, fast_length

# Seconds per unit of work, fitted by `python3 bench/bench_signal.py --calibrate` (2 threads,
# float32; single-channel 64x64 and 512x512 images and 128x128 with 8 in/8 out channels, kernels
# 3..31; table in bench/README_signal.md). Only their ratios matter. Measured crossover, which the
# model reproduces: a 512x512 image goes to the FFT from 9x9 (shift-and-add 1.1 ms vs FFT 1.3 ms
# at 7x7, 1.7 vs 1.3 ms at 9x9, 18.7 vs 1.5 ms at 31x31), a 64x64 image from 6x6, 8->8 channels
# at 128x128 from 11x11 (conv2d 2.1 ms vs FFT 1.75 ms).
SHIFT_TAP = 4e-6  # fixed cost of one shift-and-add tap (one Python-level tensor operation)
SHIFT_PIXEL = 7e-11  # one multiply-add of one output pixel in shift-and-add
CONV2D_MAC = 2e-11  # one multiply-add in torch.nn.functional.conv2d with several channels
FFT_CALL = 1e-4  # fixed cost of an FFT correlation (transform set-up, slicing)
FFT_POINT = 9e-11  # one point of one 2-D FFT, per log2(points)
FFT_MIX = 1e-10  # one complex multiply-add between an image and a filter spectrum


def direct_seconds(x: torch.Tensor, w: torch.Tensor) -> float:
    """Estimate the time of direct valid correlation of (b, c, h, w) images with (n, c, kh, kw)."""
    b, c, h, wd = x.shape
    n, _, kh, kw = w.shape
    pixels = b * (h - kh + 1) * (wd - kw + 1)
    if direct_method(x, w) == "shift_and_add":
        return kh * kw * (SHIFT_TAP + SHIFT_PIXEL * pixels * n * c)
    return CONV2D_MAC * pixels * n * c * kh * kw


def fft_seconds(x: torch.Tensor, w: torch.Tensor) -> float:
    """Estimate the time of FFT valid correlation: b*c + n*c + b*n transforms and the mixing."""
    b, c, h, wd = x.shape
    n = w.shape[0]
    points = fast_length(h) * fast_length(wd)
    transforms = (b * c + n * c + b * n) * points * math.log2(max(points, 2))
    return FFT_CALL + FFT_POINT * transforms + FFT_MIX * b * n * c * points


def use_fft(x: torch.Tensor, w: torch.Tensor) -> bool:
    """Whether the FFT is expected to be faster; integers always go direct (exact, wrapping)."""
    if not (x.is_floating_point() or x.is_complex()):
        return False
    return fft_seconds(x, w) < direct_seconds(x, w)


def correlate_valid(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Valid correlation of (b, c, h, w) images with (n, c, kh, kw) filters -> (b, n, h', w').

    No flip and no conjugation: out[b, n, r, s] = sum over c, u, v of
    w[n, c, u, v] * x[b, c, r + u, s + v], the lecture's (I ⊗ w)(r, c).
    Data with NaN or inf goes direct: an FFT would spread them over the whole output, where
    SciPy (and the sum above) keeps them to the windows that contain them.
    """
    if use_fft(x, w) and bool(torch.isfinite(x).all()) and bool(torch.isfinite(w).all()):
        return correlate_valid_fft(x, w)
    return correlate_valid_direct(x, w)
