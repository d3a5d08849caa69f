"""One affine warp for a whole batch (one sampling grid + ``F.grid_sample``) with Keras' fill modes."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import NamedTuple

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
    [[1, 0, -dx], [0, 1, -dy]], in three passes over memory (four for 'constant', which copies
    the rows next to a fill value first) instead of a sampling grid and a ``grid_sample``.

    A translation is separable and moves all pixels of an image by the same amount, so one
    fractional part per image and axis gives the bilinear weights, and the flips and the fill
    mode only change which pixels are read. Vertically, each output row is a weighted sum of
    two whole input rows: one ``embedding_bag`` for the batch. Horizontally, one ``gather``
    picks the w + 1 columns each image's output row samples (the same for all rows of an
    image), and one ``lerp`` blends each column with the next.

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
    if images.numel() == 0:  # an empty batch (a process's share of a tiny last batch)
        return images.clone()
    row = w * c
    bilinear = interpolation == "bilinear"
    constant = fill_mode == "constant"
    device = images.device
    tables = _shift_tables(h, w, c, fill_mode, bilinear)
    # The per-image index arithmetic is on (batch,)-sized arrays: NumPy does it in a fraction
    # of the time of as many small torch calls, then one copy takes the indices to the device.
    source = -to_numpy(shifts.to(torch.float32))  # source point = output point + this
    whole = np.floor(source) if bilinear else np.round(source)  # round half to even, as torch
    fraction = source - whole  # 0 if nearest
    # Each image's row in the index tables: its integer shift and whether it is flipped.
    keys = whole.astype(np.int64)
    if keys.min() < -min(w, h) - 1 or keys.max() > min(w, h):
        keys = _bounded_offset(keys, np.array([w, h]), fill_mode)
    keys += tables.shift_key
    if mirrored is not None:
        keys[:, 0] += to_numpy(mirrored) * tables.flip_key[0]
    if upside_down is not None:
        keys[:, 1] += to_numpy(upside_down) * tables.flip_key[1]
    width = row + c if constant else row  # 'constant': a fill pixel after each row
    picked_size = n * h * tables.columns.shape[1] if bilinear else 0
    table_size = (n * h + 1) * width if constant else 0  # the rows, a fill pixel, a fill row
    memory = (workspace or images.new_empty)(picked_size + table_size)

    # Vertical: output row i of image k takes the input rows index[k, i] (the fill row where
    # a 'constant' tap is outside), weighted 1 - fy and fy.
    index = tables.rows.take(keys[:, 1], axis=0)
    if constant:
        table = memory[picked_size:].view(n * h + 1, width)
        table[: n * h, :row].copy_(images.view(n * h, row))
        table[: n * h, row:].fill_(fill_value)
        table[n * h].fill_(fill_value)
        outside = index == h
        index += _image_starts(n, h)
        index[outside] = n * h
    else:
        table = images.view(n * h, row)
        index += _image_starts(n, h)
    index = torch.from_numpy(index.reshape(-1)).to(device)
    if bilinear:
        weights = np.empty((n, 2), dtype=np.float32)
        weights[:, 1] = fraction[:, 1]
        weights[:, 0] = 1 - weights[:, 1]
        weights = torch.from_numpy(weights.repeat(h, axis=0).reshape(-1)).to(device, images.dtype)
        rows = torch.embedding_bag(
            table, index, _bag_offsets(n * h, 2, device), False, 0, False, weights
        )[0]
    else:
        rows = table.index_select(0, index)

    # Horizontal: the values of the columns each image's rows sample, then column j blended
    # with column j + 1 (bilinear).
    index = torch.from_numpy(tables.columns.take(keys[:, 0], axis=0)).to(device)
    index = index.view(n, 1, -1).expand(n, h, -1)
    if not bilinear:
        return torch.gather(rows.view(n, h, -1), 2, index).view(n, h, w, c)
    picked = memory[:picked_size].view(n, h, -1)
    torch.gather(rows.view(n, h, -1), 2, index, out=picked)
    weight = torch.from_numpy(fraction[:, :1, None]).to(device, images.dtype)
    # The blend goes into the rows' memory, read by now and still in cache: cheaper to write
    # than fresh memory ('constant' rows are wider, so the blend gets its own).
    out = None if constant else rows.view(n, h, row)
    return torch.lerp(picked[:, :, :row], picked[:, :, c:], weight, out=out).view(n, h, w, c)


def flip(
    images: torch.Tensor,
    mirrored: torch.Tensor | None,
    upside_down: torch.Tensor | None,
    workspace: Callable[[int], torch.Tensor] | None = None,
) -> torch.Tensor:
    """Flip the images of a channels-last batch that the masks select: one ``index_select``
    of whole rows does the top-bottom flips, one ``gather`` of each image's columns (the
    same for all its rows) the left-right ones.

    Args:
        images: (batch, height, width, channels), contiguous (channels-last memory).
        mirrored: (batch,) bools, the images to flip left-right; None flips none.
        upside_down: (batch,) bools, the images to flip top-bottom; None flips none.
        workspace: as in ``translate``, for the rows between the two passes; None allocates
            them, and then the result is differentiable.

    Returns:
        (batch, height, width, channels), a new tensor.
    """
    n, h, w, c = images.shape
    if images.numel() == 0:
        return images.clone()
    device = images.device
    rows = images.view(n * h, w * c)
    if upside_down is not None:
        index = _flipped(h, 1).take(to_numpy(upside_down).astype(np.int64), axis=0)
        index = torch.from_numpy((index + _image_starts(n, h)).reshape(-1)).to(device)
        if mirrored is None:
            return rows.index_select(0, index).view(n, h, w, c)
        if workspace is None:
            rows = rows.index_select(0, index)
        else:
            rows = torch.index_select(rows, 0, index, out=workspace(n * h * w * c).view(n * h, -1))
    if mirrored is None:
        return images.clone()
    index = _flipped(w, c).take(to_numpy(mirrored).astype(np.int64), axis=0)
    index = torch.from_numpy(index).to(device).view(n, 1, w * c).expand(n, h, w * c)
    return torch.gather(rows.view(n, h, w * c), 2, index).view(n, h, w, c)


def to_numpy(mask: torch.Tensor) -> np.ndarray:
    """A (batch,) tensor of per-image values as a NumPy array, for the index arithmetic."""
    return mask.detach().cpu().numpy()


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


class _ShiftTables(NamedTuple):
    """What ``translate`` looks up for one image size, fill mode and interpolation. An
    image's key along an axis of ``size`` pixels is o + size + 1 for an integer shift of o
    pixels, plus 2 * size + 2 if it is flipped along the axis."""

    rows: np.ndarray  # (keys, height * taps): the input rows each output row samples
    columns: np.ndarray  # (keys, columns * c): the values of a row each output row samples
    shift_key: np.ndarray  # (w + 1, h + 1)
    flip_key: tuple[int, int]  # (2w + 2, 2h + 2)


@functools.lru_cache(maxsize=16)
def _shift_tables(h: int, w: int, c: int, fill_mode: str, bilinear: bool) -> _ShiftTables:
    """The index tables of ``translate`` for images of h x w x c, built once per size."""
    taps = 2 if bilinear else 1
    rows = _row_taps(h, fill_mode, taps).reshape(2 * (2 * h + 2), h * taps)
    column_taps = _row_taps(w, fill_mode, taps)  # (2, 2w + 2, w, taps)
    columns = column_taps[..., 0]
    if bilinear:  # the columns j + o for j = 0 ... w: each output column and the next
        columns = np.concatenate([columns, column_taps[..., -1:, 1]], axis=2)
    columns = _value_positions(columns, c).reshape(2 * (2 * w + 2), -1)
    shift_key = np.array([w + 1, h + 1])
    for table in (rows, columns, shift_key):
        table.setflags(write=False)  # shared by every call (cached)
    return _ShiftTables(rows, columns, shift_key, (2 * w + 2, 2 * h + 2))


@functools.lru_cache(maxsize=16)
def _image_starts(n: int, h: int) -> np.ndarray:
    """(n, 1): the first row of each of n images of h rows in a table of their rows."""
    starts = np.arange(0, n * h, h)[:, None]
    starts.setflags(write=False)
    return starts


@functools.lru_cache(maxsize=16)
def _flipped(size: int, c: int) -> np.ndarray:
    """(2, size * c): the positions of ``size`` pixels of c values kept [0] and reversed [1]."""
    index = _value_positions(np.stack([np.arange(size), np.arange(size)[::-1]]), c)
    index.setflags(write=False)
    return index


def _value_positions(pixels: np.ndarray, c: int) -> np.ndarray:
    """The positions of the c values of each pixel in ``pixels`` (the last axis, flattened),
    in a row of pixels of c values each."""
    return (pixels[..., None] * c + np.arange(c)).reshape(*pixels.shape[:-1], -1)
