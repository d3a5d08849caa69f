"""Convolutions arranged so that PyTorch's CPU kernels (oneDNN) compute them correctly.

A 1x1 convolution with a stride above 1 is the same convolution, with stride 1, of the input's
strided positions. PyTorch 2.13's oneDNN computes the strided form's weight gradient wrongly on
x86 CPUs without AVX-512 (its AVX2 1x1 kernel, channels-last input with fewer than 8 input
channels): wrong values with several threads, a heap corruption (crash) with one
(uxlfoundation/oneDNN issue 6035, "1x1 convolution backward_weights writes past the rtus
workspace"). Measured on an AVX2 EPYC: 36 of 360 shapes tried crash at one thread, exactly the
1x1 stride-2 channels-last ones with 1-4 input channels. Taking the strided positions first
never reaches that kernel, on any machine, and gives the same numbers.
"""

from __future__ import annotations

import torch


def pointwise_at_unit_stride(
    x: torch.Tensor, kernel_size: tuple[int, ...], strides: tuple[int, ...]
) -> tuple[torch.Tensor, tuple[int, ...]]:
    """``x`` (batch, channels, *spatial) and the strides to convolve it with: for a 1x1 kernel
    with a stride above 1 (and no padding, which a 1x1 kernel never needs), the strided
    positions of ``x`` and stride 1; otherwise ``x`` and ``strides`` unchanged."""
    if all(stride == 1 for stride in strides) or any(size != 1 for size in kernel_size):
        return x, strides
    positions = tuple(slice(None, None, stride) for stride in strides)
    return x[(slice(None), slice(None), *positions)], (1,) * len(strides)
