"""Direct correlation: the lecture's sum over filter positions, for small filters."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def shift_and_add(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Valid correlation as sum over (u, v) of w[u, v] times the image shifted by (u, v).

    One vectorised multiply-add per filter tap: on a CPU this beats im2col-based ``conv2d`` for a
    single channel (see bench/bench_signal.py). Exact for int64, which wraps like SciPy's ints.

    Args:
        x: images, shape (b, c, h, w).
        w: filters, shape (n, c, kh, kw), kh <= h, kw <= w; same dtype as ``x``.

    Returns:
        Tensor of shape (b, n, h - kh + 1, w - kw + 1).
    """
    kh, kw = w.shape[-2:]
    out_h, out_w = x.shape[-2] - kh + 1, x.shape[-1] - kw + 1
    single = x.shape[1] == 1 and w.shape[0] == 1
    out = x.new_zeros((x.shape[0], w.shape[0], out_h, out_w))
    taps = w[0, 0].tolist() if single else None  # Python numbers: one device sync, not kh*kw
    for u in range(kh):
        for v in range(kw):
            window = x[..., u : u + out_h, v : v + out_w]
            if single:
                out.add_(window, alpha=taps[u][v])
            else:  # (b, 1, c, h', w') * (1, n, c, 1, 1), summed over channels
                out += (window.unsqueeze(1) * w[None, :, :, u, v, None, None]).sum(2)
    return out


def correlate_valid_direct(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Valid correlation by the cheapest direct method for the data's kind and device.

    ``conv2d`` (which is correlation: CNN arithmetic has no flip) for floating multi-channel
    data, on a GPU, or when gradients are needed; shift-and-add otherwise.

    Args:
        x: images, shape (b, c, h, w).
        w: filters, shape (n, c, kh, kw), kh <= h, kw <= w; same dtype as ``x``.

    Returns:
        Tensor of shape (b, n, h - kh + 1, w - kw + 1).
    """
    if direct_method(x, w) == "shift_and_add":
        return shift_and_add(x, w)
    return F.conv2d(x, w)


def direct_method(x: torch.Tensor, w: torch.Tensor) -> str:
    """Return 'shift_and_add' or 'conv2d', the direct method used for these operands."""
    integer = not (x.is_floating_point() or x.is_complex())
    needs_grad = torch.is_grad_enabled() and (x.requires_grad or w.requires_grad)
    single = x.shape[1] == 1 and w.shape[0] == 1
    if integer or (single and x.device.type == "cpu" and not needs_grad):
        return "shift_and_add"
    return "conv2d"
