"""One affine warp for a whole batch (one sampling grid + ``F.grid_sample``) with Keras' fill modes."""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

FILL_MODES = ("reflect", "wrap", "constant", "nearest")
INTERPOLATIONS = ("bilinear", "nearest")

# Keras' fill modes as grid_sample padding: with align_corners=False, 'reflection' mirrors
# about the outer pixel edges, i.e. Keras' 'reflect' (d c b a | a b c d | d c b a).
_PADDING = {"reflect": "reflection", "nearest": "border", "constant": "zeros", "wrap": "border"}


def affine_warp(
    images: torch.Tensor,
    matrices: torch.Tensor,
    interpolation: str = "bilinear",
    fill_mode: str = "reflect",
    fill_value: float = 0.0,
) -> torch.Tensor:
    """Warp every image of a batch by its own affine matrix, in one call for the batch.

    Args:
        images: (batch, channels, height, width) floats.
        matrices: (batch, 2, 3) maps, in Keras' convention, each output pixel (x=column,
            y=row, 1) to the input point it samples (pixel units, pixel centres at integers).
        interpolation: 'bilinear' or 'nearest'.
        fill_mode: how points outside the input are filled: 'reflect' (d c b a | a b c d),
            'wrap' (a b c d | a b c d), 'nearest' (a a a a | a b c d) or 'constant'.
        fill_value: the value of points outside the input with fill_mode='constant'.

    Returns:
        (batch, channels, height, width), the same size as ``images``.
    """
    n, c, h, w = images.shape
    grid = _sampling_grid(matrices.to(images.dtype), h, w)
    if fill_mode == "wrap":
        images, grid = _wrapped(images, grid, h, w)
    out = F.grid_sample(
        images, grid, mode=interpolation, padding_mode=_PADDING[fill_mode], align_corners=False
    )
    if fill_mode == "constant" and fill_value != 0:
        coverage = F.grid_sample(
            images.new_ones((n, 1, images.shape[2], images.shape[3])),
            grid,
            mode=interpolation,
            padding_mode="zeros",
            align_corners=False,
        )
        out = out + (1.0 - coverage) * fill_value
    return out


def _sampling_grid(matrices: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """grid_sample's (batch, height, width, 2) grid for pixel-space matrices (align_corners=False).

    An affine grid is a column term plus a row term, so it is one broadcast addition of two
    small tensors: cheaper than F.affine_grid's batched matmul, which stalls on a busy CPU.
    """
    scale = matrices.new_tensor([2.0 / width, 2.0 / height])  # pixel p -> (2p + 1) / size - 1
    cols = torch.arange(width, dtype=matrices.dtype, device=matrices.device)
    rows = torch.arange(height, dtype=matrices.dtype, device=matrices.device)
    col_term = matrices[:, None, :, 0] * cols[None, :, None] * scale  # (batch, width, 2)
    row_term = (matrices[:, None, :, 1] * rows[None, :, None] + matrices[:, None, :, 2]) * scale
    row_term = row_term + (scale / 2 - 1)  # (batch, height, 2)
    return col_term[:, None, :, :] + row_term[:, :, None, :]


def _wrapped(
    images: torch.Tensor, grid: torch.Tensor, height: int, width: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Wrap sample points into the image and pad it circularly by one pixel, so bilinear
    interpolation across the seam mixes the last and the first pixel as Keras' 'wrap' does."""
    grid = torch.remainder(grid + 1.0, 2.0) - 1.0
    sizes = grid.new_tensor([width, height])
    grid = ((grid + 1.0) * sizes + 2.0) / (sizes + 2.0) - 1.0
    return F.pad(images, (1, 1, 1, 1), mode="circular"), grid


def translate(
    images: torch.Tensor,
    shifts: torch.Tensor,
    interpolation: str = "bilinear",
    fill_mode: str = "reflect",
    fill_value: float = 0.0,
    workspace: Callable[[int], torch.Tensor] | None = None,
) -> torch.Tensor:
    """Shift every image of a channels-last batch by its own (dx, dy): what ``affine_warp``
    does with the matrices [[1, 0, -dx], [0, 1, -dy]], in a few memory passes instead of a
    sampling grid and a ``grid_sample``.

    A translation is separable and moves all pixels of an image by the same amount, so one
    fractional part per image and axis gives the bilinear weights: each image is padded along
    its width per ``fill_mode`` and blended with itself one column over (one pass), and each
    output row is then a contiguous run of that buffer, picked by one ``index_select`` per
    vertical tap from an overlapping strided view of it; a last pass blends the two taps.

    Args:
        images: (batch, height, width, channels) floats, contiguous (channels-last memory).
        shifts: (batch, 2) floats (dx, dy): output pixel (row i, column j) samples the input
            point (i - dy, j - dx), in pixels.
        interpolation: 'bilinear' or 'nearest'.
        fill_mode: 'reflect', 'wrap', 'nearest' or 'constant', as in ``affine_warp``.
        fill_value: the value of points outside the input with fill_mode='constant'.
        workspace: returns a flat tensor of at least the given number of elements (images'
            dtype and device) for the intermediate results, e.g. memory kept between calls;
            None allocates it.

    Returns:
        (batch, height, width, channels), a new contiguous tensor. Not differentiable (the
        passes write into buffers): use ``affine_warp`` when autograd needs the gradient.
    """
    n, h, w, c = images.shape
    bilinear = interpolation == "bilinear"
    constant = fill_mode == "constant"
    # The per-image index arithmetic is on (batch,)-sized arrays: NumPy does it in a fraction
    # of the time of as many small torch calls, then one copy takes the indices to the device.
    source = -shifts.detach().to("cpu", torch.float32).numpy()  # source point = output + this
    whole = np.floor(source) if bilinear else np.round(source)  # round half to even, as torch
    fraction = torch.from_numpy(source - whole).to(images.device, images.dtype)  # 0 if nearest
    whole = whole.astype(np.int64)
    ox = _bounded_offset(whole[:, 0], w, fill_mode)
    oy = _bounded_offset(whole[:, 1], h, fill_mode)
    # Pad rows by ``pad`` columns on both sides: enough for every tap j + ox (and j + ox + 1).
    pad = int(max(-ox.min(), ox.max() + 1 if bilinear else ox.max(), 0))
    width = w + 2 * pad - (1 if bilinear else 0)  # columns of the padded (blended) rows
    size, fill_row, pixels = n * h * width * c, (w * c if constant else 0), n * h * w * c
    # Output row i of image k is the run of w * c values at padded[k, source row, pad + ox[k]];
    # a 'constant' row outside the image is the run of fill_value after the padded rows.
    table, outside = _index_table(h, fill_mode)  # source row of row r at r + h + 1
    taps = np.arange(h + 1) + (oy + h + 1)[:, None]  # output row i: taps i and i + 1
    runs = (np.arange(n)[:, None] * h + table[taps]) * width + (pad + ox)[:, None]
    if constant:
        runs[outside[taps]] = n * h * width
    runs = np.stack([runs[:, :h], runs[:, 1:]]) if bilinear else runs[None, :, :h]
    runs = torch.from_numpy(runs.reshape(-1, n * h)).to(images.device)
    memory = (workspace or images.new_empty)(size + fill_row + (pixels if bilinear else 0))
    buffer = memory[: size + fill_row]
    padded = buffer[:size].view(n, h, width, c)
    if constant:
        buffer[size:].fill_(fill_value)
    edges = _edge_columns(images, pad, bilinear, fill_mode, fill_value) if pad else None
    if bilinear:
        weight = fraction[:, 0].view(n, 1, 1, 1)
        middle = padded[:, :, pad : pad + w - 1]
        torch.lerp(images[:, :, :-1], images[:, :, 1:], weight, out=middle)
        if pad:
            left, right = edges[:, :, : pad + 1], edges[:, :, pad + 1 :]
            torch.lerp(left[:, :, :-1], left[:, :, 1:], weight, out=padded[:, :, :pad])
            torch.lerp(right[:, :, :-1], right[:, :, 1:], weight, out=padded[:, :, -pad:])
    else:
        padded[:, :, pad : pad + w].copy_(images)
        if pad:
            padded[:, :, :pad].copy_(edges[:, :, :pad])
            padded[:, :, -pad:].copy_(edges[:, :, pad:])
    # One window of w * c values starting at every pixel of the buffer (they overlap: a view).
    windows = buffer.as_strided(((buffer.numel() - w * c) // c + 1, w * c), (c, 1))
    out = images.new_empty((n, h, w, c))
    torch.index_select(windows, 0, runs[0], out=out.view(n * h, w * c))
    if bilinear:
        below = memory[size + fill_row :]
        torch.index_select(windows, 0, runs[1], out=below.view(n * h, w * c))
        out.view(n, h * w * c).lerp_(below.view(n, h * w * c), fraction[:, 1].view(n, 1))
    return out


def _bounded_offset(offset: np.ndarray, size: int, fill_mode: str) -> np.ndarray:
    """An integer shift along an axis of ``size`` that samples the same pixels as ``offset``,
    within [-size - 1, size], so the padding and the index tables it needs stay bounded."""
    if fill_mode == "reflect":  # period 2 * size
        return np.remainder(offset + size, 2 * size) - size
    if fill_mode == "wrap":
        return np.remainder(offset + size // 2, size) - size // 2
    return offset.clip(-size - 1, size)  # beyond that every tap is outside (or the edge)


@functools.lru_cache(maxsize=64)
def _index_table(size: int, fill_mode: str) -> tuple[np.ndarray, np.ndarray]:
    """The pixels -size - 1 ... 2 * size + 1 mapped into [0, size) per ``fill_mode`` (index
    i + size + 1 for pixel i), and which of them are outside (what 'constant' fills)."""
    index = np.arange(-size - 1, 2 * size + 2)
    outside = (index < 0) | (index >= size)
    if fill_mode == "reflect":  # d c b a | a b c d | d c b a
        index = np.remainder(index, 2 * size)
        index = np.where(index < size, index, 2 * size - 1 - index)
    elif fill_mode == "wrap":
        index = np.remainder(index, size)
    else:
        index = index.clip(0, size - 1)
    index.setflags(write=False)
    outside.setflags(write=False)
    return index, outside


def _edge_columns(
    images: torch.Tensor, pad: int, bilinear: bool, fill_mode: str, fill_value: float
) -> torch.Tensor:
    """The columns that pad the images' rows, per ``fill_mode``: -pad ... -1 and w ... w + pad
    - 1, and for bilinear also 0 and w - 1 (each padded column is blended with the next)."""
    n, h, w, c = images.shape
    values, outside = _edge_index(w, c, pad, bilinear, fill_mode, images.device)
    # One index_select of single values along rows of w * c values: along the width of the
    # 4-d tensor it is slower on CPU.
    edges = images.view(n * h, w * c).index_select(1, values).view(n, h, -1, c)
    if outside is not None:
        edges.masked_fill_(outside, fill_value)
    return edges


@functools.lru_cache(maxsize=64)
def _edge_index(
    w: int, c: int, pad: int, bilinear: bool, fill_mode: str, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``_edge_columns``' index into rows of w * c values, and the (1, 1, columns, 1) mask of
    the columns 'constant' fills (None for the other modes or when there are none)."""
    columns = np.concatenate(
        [np.arange(-pad, 1 if bilinear else 0), np.arange(w - 1 if bilinear else w, w + pad)]
    )
    table, outside = _index_table(w, fill_mode)
    index, outside = table[columns + w + 1], outside[columns + w + 1]
    values = torch.from_numpy((index[:, None] * c + np.arange(c)).reshape(-1)).to(device)
    if fill_mode != "constant" or not outside.any():
        return values, None
    return values, torch.from_numpy(outside).to(device).view(1, 1, -1, 1)
