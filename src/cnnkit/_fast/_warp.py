"""The tuned shift and flip of RandomTranslation and RandomFlip, and the switch that picks them.

A shift runs as a few passes over memory instead of a sampling grid and a ``grid_sample``,
with the index arithmetic in cached NumPy tables per image size, the flips folded into the
rows and columns read, and the intermediates in memory the layer keeps between calls
(``RandomImageLayer._scratch``). bench/README_augment.md has the measurements.

The plain reference is ``cnnkit.layers._image_warp.translate`` and ``flip``: the same numbers
(exactly for flips and nearest interpolation; within float rounding for bilinear, whose blends
add in another order), checked by ``tests/test_fast_paths_layers.py``.

The switch: the layers call ``try_flip``, ``try_translate`` and ``fused_flip_translation``
at one marked point each, and run their plain code when these answer None: when ``ENABLED`` is
False, or when the trick does not apply (a shift whose input needs a gradient, or holds
integers). ``CNNKIT_FAST`` sets ``ENABLED`` at import; set it False for the plain code everywhere."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import torch

from cnnkit import _fast

ENABLED = _fast.enabled("warp")  # False: the augmentation layers run their plain reference code
Scratch = Callable[[int], torch.Tensor]


def shift_applies(images: torch.Tensor) -> bool:
    """Whether the tuned shift may run on ``images``: switched on, float images, and no
    gradient needed (its passes write into buffers, which autograd cannot follow)."""
    return (
        ENABLED
        and images.is_floating_point()
        and not (images.requires_grad and torch.is_grad_enabled())
    )


def try_flip(
    x: torch.Tensor,
    data_format: str,
    mirrored: torch.Tensor | None,
    upside_down: torch.Tensor | None,
    workspace: Scratch | None,
) -> torch.Tensor | None:
    """RandomFlip's flips of ``x`` by ``flip``, or None when switched off."""
    if not ENABLED:
        return None
    return on_pixel_rows(x, data_format, flip, mirrored, upside_down, workspace=workspace)


def try_translate(
    x: torch.Tensor,
    data_format: str,
    shifts: torch.Tensor,
    mirrored: torch.Tensor | None = None,
    upside_down: torch.Tensor | None = None,
    *,
    interpolation: str,
    fill_mode: str,
    fill_value: float,
    workspace: Scratch | None,
) -> torch.Tensor | None:
    """RandomTranslation's shift of ``x`` (after the flips, if any) by ``translate``, or None
    where it does not apply (``shift_applies``)."""
    if not shift_applies(x):
        return None
    options = dict(interpolation=interpolation, fill_mode=fill_mode, fill_value=fill_value)
    return on_pixel_rows(
        x, data_format, translate, shifts, mirrored, upside_down, **options, workspace=workspace
    )


def fused_flip_translation(flipping, shifting) -> FlipThenTranslation | None:
    """What a RandomFlip directly followed by a RandomTranslation runs as, in a Sequential
    model (``Layer._fused_with``): one call, or None when switched off."""
    return FlipThenTranslation(flipping, shifting) if ENABLED else None


class FlipThenTranslation:
    """A RandomFlip followed by a RandomTranslation as one call: the same random draws from
    each layer's own stream and the same result, bit for bit, in the memory passes of one
    translation (``translate`` folds the flips into the rows and columns it reads). Where
    the single pass does not apply, this runs the two layers. The layers are reached by duck
    typing (``forward``, ``get_random_transformation``, ``shift_options``, ``_scratch``)."""

    def __init__(self, flip, translation):
        self.flip, self.translation = flip, translation

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        flipping, shifting = self.flip, self.translation  # layers (``flip`` is the function)
        if not (
            flipping.training
            and shifting.training
            and x.ndim == 4
            and flipping.data_format == shifting.data_format
            and shift_applies(x)
        ):
            return shifting.forward(flipping.forward(x))
        flips = flipping.get_random_transformation(x)
        shifts = shifting.get_random_transformation(x)["translations"].to(x.device)
        return try_translate(
            x,
            shifting.data_format,
            shifts,
            flips.get("horizontal"),
            flips.get("vertical"),
            **shifting.shift_options(),
            workspace=shifting._scratch(x),
        )


def on_pixel_rows(x: torch.Tensor, data_format: str, function, *per_image, **kwargs):
    """``function(images, *per_image, **kwargs)`` on ``x`` seen as contiguous
    (batch, height, width, channels) images, in either data format: channels-first data is a
    batch of batch x channels one-channel images (its per-image tensors repeated to match),
    unless its memory is channels-last."""
    if data_format == "channels_last":
        return function(x.contiguous(), *per_image, **kwargs)
    n, channels, height, width = x.shape
    if x.permute(0, 2, 3, 1).is_contiguous():
        return function(x.permute(0, 2, 3, 1), *per_image, **kwargs).permute(0, 3, 1, 2)
    planes = x.contiguous().view(n * channels, height, width, 1)
    repeated = [None if t is None else t.repeat_interleave(channels, dim=0) for t in per_image]
    return function(planes, *repeated, **kwargs).view(x.shape)


def translate(
    images: torch.Tensor,
    shifts: torch.Tensor,
    mirrored: torch.Tensor | None = None,
    upside_down: torch.Tensor | None = None,
    *,
    interpolation: str = "bilinear",
    fill_mode: str = "reflect",
    fill_value: float = 0.0,
    workspace: Scratch | None = None,
) -> torch.Tensor:
    """``cnnkit.layers._image_warp.translate`` in three passes over memory (four for
    'constant', which copies the rows next to a fill value first).

    The flips and the fill mode only change which pixels are read, and one fractional part
    per image and axis gives the bilinear weights. Vertically, each output row is a weighted
    sum of two whole input rows: one ``embedding_bag`` for the batch. Horizontally, one
    ``gather`` picks the w + 1 columns each image's output row samples (the same for all rows
    of an image), and one ``lerp`` blends each column with the next.

    Args:
        images: (batch, height, width, channels) floats, contiguous (channels-last memory).
        shifts, mirrored, upside_down, interpolation, fill_mode, fill_value: as in the
            reference.
        workspace: returns a flat tensor of at least the given number of elements (images'
            dtype and device) for the intermediate results, e.g. memory kept between calls;
            None allocates it.

    Returns:
        (batch, height, width, channels), a new contiguous tensor. Not differentiable (the
        passes write into buffers).
    """
    n, h, w, c = images.shape
    if images.numel() == 0:  # an empty batch (a process's share of a tiny last batch)
        return images.clone()
    row = w * c
    bilinear, constant = interpolation == "bilinear", fill_mode == "constant"
    device = images.device
    tables = _shift_tables(h, w, c, fill_mode, bilinear)
    keys, fraction = _table_keys(shifts, mirrored, upside_down, tables, (w, h), fill_mode, bilinear)
    width = row + c if constant else row  # 'constant': a fill pixel after each row
    picked_size = n * h * tables.columns.shape[1] if bilinear else 0
    table_size = (n * h + 1) * width if constant else 0  # the rows, a fill pixel, a fill row
    memory = (workspace or images.new_empty)(picked_size + table_size)
    table = _row_table(images, memory[picked_size:], width, fill_value if constant else None)
    rows = _vertical_pass(table, tables.rows.take(keys[:, 1], axis=0), fraction, h, constant)

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


def _table_keys(
    shifts: torch.Tensor,
    mirrored: torch.Tensor | None,
    upside_down: torch.Tensor | None,
    tables: _ShiftTables,
    size: tuple[int, int],
    fill_mode: str,
    bilinear: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """(batch, 2) keys of each image's rows in the index tables (its integer shift and
    whether it is flipped, per axis x, y) and (batch, 2) fractional parts of its shift (0 if
    nearest). The arithmetic is on (batch,)-sized arrays: NumPy does it in a fraction of the
    time of as many small torch calls."""
    w, h = size
    source = -to_numpy(shifts.to(torch.float32))  # source point = output point + this
    whole = np.floor(source) if bilinear else np.round(source)  # round half to even, as torch
    fraction = source - whole
    keys = whole.astype(np.int64)
    if keys.min() < -min(w, h) - 1 or keys.max() > min(w, h):
        keys = _bounded_offset(keys, np.array([w, h]), fill_mode)
    keys += tables.shift_key
    if mirrored is not None:
        keys[:, 0] += to_numpy(mirrored) * tables.flip_key[0]
    if upside_down is not None:
        keys[:, 1] += to_numpy(upside_down) * tables.flip_key[1]
    return keys, fraction


def _row_table(
    images: torch.Tensor, memory: torch.Tensor, width: int, fill_value: float | None
) -> torch.Tensor:
    """The table of image rows the vertical pass reads: the images' rows themselves, or for
    'constant' (``fill_value`` given) a copy in ``memory`` with a fill pixel after each row and
    a fill row at the end."""
    n, h, w, c = images.shape
    if fill_value is None:
        return images.view(n * h, w * c)
    table = memory.view(n * h + 1, width)
    table[: n * h, : w * c].copy_(images.view(n * h, w * c))
    table[: n * h, w * c :].fill_(fill_value)
    table[n * h].fill_(fill_value)
    return table


def _vertical_pass(
    table: torch.Tensor, index: np.ndarray, fraction: np.ndarray, h: int, constant: bool
) -> torch.Tensor:
    """Output row i of image k: the table rows index[k, i] (h * taps per image, the fill row
    where a 'constant' tap is outside), weighted 1 - fy and fy (bilinear) or picked (nearest)."""
    n, device = index.shape[0], table.device
    outside = index == h if constant else None
    index += _image_starts(n, h)
    if constant:
        index[outside] = n * h
    index = torch.from_numpy(index.reshape(-1)).to(device)
    if index.numel() == n * h:  # nearest: one tap per row
        return table.index_select(0, index)
    weights = np.empty((n, 2), dtype=np.float32)
    weights[:, 1] = fraction[:, 1]
    weights[:, 0] = 1 - weights[:, 1]
    weights = torch.from_numpy(weights.repeat(h, axis=0).reshape(-1)).to(device, table.dtype)
    offsets = _bag_offsets(n * h, 2, device)
    return torch.embedding_bag(table, index, offsets, False, 0, False, weights)[0]


def flip(
    images: torch.Tensor,
    mirrored: torch.Tensor | None,
    upside_down: torch.Tensor | None,
    workspace: Scratch | None = None,
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
