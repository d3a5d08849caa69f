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
    mirrored: torch.Tensor | None = None,
    upside_down: torch.Tensor | None = None,
    *,
    interpolation: str = "bilinear",
    fill_mode: str = "reflect",
    fill_value: float = 0.0,
    workspace: Callable[[int], torch.Tensor] | None = None,
) -> torch.Tensor:
    """Shift every image of a channels-last batch by its own (dx, dy), after flipping the
    images the masks select: what ``affine_warp`` does with the matrices
    [[1, 0, -dx], [0, 1, -dy]], in a few memory passes instead of a sampling grid and a
    ``grid_sample``.

    A translation is separable and moves all pixels of an image by the same amount, so one
    fractional part per image and axis gives the bilinear weights. Vertically, each output row
    is a weighted sum of two whole input rows, one ``embedding_bag`` for the batch; a vertical
    flip only changes which rows. Its result holds the images to mirror left-right after the
    others, so one ``torch.flip`` mirrors them all. Horizontally, each row is padded per
    ``fill_mode`` and blended with itself one column over (one pass over the rows, one over the
    few padding columns), and each output row is then a contiguous run of that buffer, picked
    by one ``index_select`` from an overlapping strided view of it, in the input's order.

    Args:
        images: (batch, height, width, channels) floats, contiguous (channels-last memory).
        shifts: (batch, 2) floats (dx, dy): output pixel (row i, column j) samples the input
            point (i - dy, j - dx), in pixels.
        mirrored: (batch,) bools, the images to flip left-right before shifting them; None
            flips none.
        upside_down: (batch,) bools, the images to flip top-bottom before shifting them.
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
    row = w * c
    bilinear = interpolation == "bilinear"
    constant = fill_mode == "constant"
    device = images.device
    # The per-image index arithmetic is on (batch,)-sized arrays: NumPy does it in a fraction
    # of the time of as many small torch calls, then one copy takes the indices to the device.
    source = -shifts.detach().to("cpu", torch.float32).numpy()  # source point = output + this
    whole = np.floor(source) if bilinear else np.round(source)  # round half to even, as torch
    fraction = source - whole  # 0 if nearest
    offsets = _bounded_offset(whole.astype(np.int64), np.array([w, h]), fill_mode)
    ox, oy = offsets[:, 0], offsets[:, 1]
    # Slot s of the intermediate rows holds image order[s]: the mirrored images come last.
    mirror = None if mirrored is None else to_numpy(mirrored)
    flipped = 0 if mirror is None else int(mirror.sum())
    order = np.argsort(mirror, kind="stable") if flipped else _arange(n)
    slot = np.argsort(order) if flipped else order
    # Columns of the padded (blended) rows: enough for every tap j + ox (and j + ox + 1).
    pad = int(max(-ox.min(), ox.max() + 1 if bilinear else ox.max(), 0))
    width = w + 2 * pad - (1 if bilinear else 0)
    padded_size = n * h * width * c
    rows_size = 0 if bilinear else n * h * row  # nearest: the picked rows
    table_size = (n * h + 1) * row if constant else 0  # constant: the rows and a fill row
    memory = (workspace or images.new_empty)(padded_size + rows_size + table_size)
    padded = memory[:padded_size]

    # Vertical: output row i of slot s takes the input rows taps[s, i] (the fill row after the
    # images' rows where a 'constant' tap is outside), weighted 1 - fy and fy.
    flips = 0 if upside_down is None else to_numpy(upside_down)[order].view(np.int8)
    taps = _row_taps(h, fill_mode, 2 if bilinear else 1)[flips, oy[order] + h + 1]
    if constant:
        outside = taps == h
        taps += (order * h)[:, None, None]
        taps[outside] = n * h
        table = memory[padded_size + rows_size :].view(n * h + 1, row)
        table[: n * h].copy_(images.view(n * h, row))
        table[n * h].fill_(fill_value)
    else:
        taps += (order * h)[:, None, None]
        table = images.view(n * h, row)
    index = torch.from_numpy(taps.reshape(-1)).to(device)
    fraction = fraction[order]
    if bilinear:
        weights = np.empty((n, h, 2), dtype=np.float32)
        weights[:, :, 1] = fraction[:, 1, None]
        weights[:, :, 0] = 1 - weights[:, :, 1]
        weights = torch.from_numpy(weights.reshape(-1)).to(device, images.dtype)
        bags = _bag_offsets(n * h, 2, device)
        rows = torch.embedding_bag(table, index, bags, False, 0, False, weights)[0]
    else:
        rows = memory[padded_size : padded_size + rows_size].view(n * h, row)
        torch.index_select(table, 0, index, out=rows)
    rows = rows.view(n, h, w, c)
    if flipped:
        tail = rows[n - flipped :]
        tail.copy_(tail.flip(2))

    # Horizontal: pad and blend the rows, then take each output row as a run of w * c values
    # starting at column pad + ox of its padded row.
    blended = padded.view(n, h, width, c)
    if bilinear:
        weight = torch.from_numpy(fraction[:, 0].copy()).to(device, images.dtype).view(n, 1, 1, 1)
        torch.lerp(rows[:, :, :-1], rows[:, :, 1:], weight, out=blended[:, :, pad : pad + w - 1])
    else:
        blended[:, :, pad : pad + w].copy_(rows)
    if pad:  # the left and the right padding of every row, as one strided view
        edges = _edge_columns(rows, pad, bilinear, fill_mode, fill_value)
        sides = padded.as_strided(
            (n, h, 2, pad, c), (h * width * c, width * c, (width - pad) * c, c, 1)
        )
        if bilinear:
            edges = edges.view(n, h, 2, pad + 1, c)
            torch.lerp(
                edges[:, :, :, :-1], edges[:, :, :, 1:], weight.view(n, 1, 1, 1, 1), out=sides
            )
        else:
            sides.copy_(edges.view(n, h, 2, pad, c))
    # One window of w * c values starting at every pixel of the buffer (they overlap: a view).
    windows = padded.as_strided(((padded_size - row) // c + 1, row), (c, 1))
    runs = (slot * (h * width) + pad + ox)[:, None] + np.arange(0, h * width, width)
    out = images.new_empty((n, h, w, c))
    torch.index_select(
        windows, 0, torch.from_numpy(runs.reshape(-1)).to(device), out=out.view(n * h, row)
    )
    return out


def to_numpy(mask: torch.Tensor) -> np.ndarray:
    """A (batch,) tensor of per-image values as a NumPy array, for the index arithmetic."""
    return mask.detach().to("cpu").numpy()


@functools.lru_cache(maxsize=16)
def _arange(n: int) -> np.ndarray:
    numbers = np.arange(n)
    numbers.setflags(write=False)
    return numbers


@functools.lru_cache(maxsize=64)
def _row_taps(size: int, fill_mode: str, taps: int) -> np.ndarray:
    """(2, 2 * size + 2, size, taps): for an image kept [0] or flipped top-bottom [1] and a
    shift o in [-size - 1, size] (index o + size + 1), the input pixels i + o, i + o + 1
    (taps=2) or i + o (taps=1) that output pixel i samples, mapped into [0, size) per
    ``fill_mode``; ``size`` marks a pixel outside ('constant')."""
    index, outside = _index_table(size, fill_mode)
    index = np.where(outside, size, index) if fill_mode == "constant" else index
    positions = np.arange(2 * size + 2)[:, None, None] + np.arange(size)[:, None] + np.arange(taps)
    kept = index[positions]
    table = np.stack([kept, np.where(kept == size, size, size - 1 - kept)])
    table.setflags(write=False)
    return table


@functools.lru_cache(maxsize=64)
def _bag_offsets(bags: int, taps: int, device: torch.device) -> torch.Tensor:
    """``embedding_bag``'s offsets for ``bags`` bags of ``taps`` indices each."""
    return torch.arange(0, bags * taps, taps, device=device)


def _bounded_offset(offset: np.ndarray, size: int | np.ndarray, fill_mode: str) -> np.ndarray:
    """An integer shift along an axis of ``size`` that samples the same pixels as ``offset``,
    within [-size - 1, size], so the padding and the index tables it needs stay bounded
    (``size`` may be an array, one per last axis of ``offset``)."""
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
