"""One affine warp for a whole batch (one sampling grid + ``F.grid_sample``) with Keras' fill
modes, and the plain reference of the shift and flip that RandomTranslation and RandomFlip run.

The layers run tuned versions of ``translate`` and ``flip`` (``cnnkit._fast._warp``) where
they apply; the ones here say what those compute, in a few readable lines, and give the same
numbers (``tests/test_fast_paths_layers.py``).
"""

from __future__ import annotations

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
) -> torch.Tensor:
    """Shift every image of a channels-last batch by its own (dx, dy), after flipping the
    images the masks select: what ``affine_warp`` does with the matrices
    [[1, 0, -dx], [0, 1, -dy]], one axis at a time (a shift is separable).

    Args:
        images: (batch, height, width, channels) floats.
        shifts: (batch, 2) floats (dx, dy): output pixel (row i, column j) samples the input
            point (i - dy, j - dx), in pixels.
        mirrored: (batch,) bools, the images to flip left-right before shifting them; None
            flips none.
        upside_down: (batch,) bools, the images to flip top-bottom before shifting them.
        interpolation: 'bilinear' or 'nearest'.
        fill_mode: 'reflect', 'wrap', 'nearest' or 'constant', as in ``affine_warp``.
        fill_value: the value of points outside the input with fill_mode='constant'.

    Returns:
        (batch, height, width, channels), a new contiguous tensor.
    """
    images = flip(images, mirrored, upside_down)
    dx, dy = shifts.to(torch.float32).unbind(dim=1)
    options = (interpolation, fill_mode, fill_value)
    images = _shift_rows(images, dy, *options)  # along the height
    images = _shift_rows(images.transpose(1, 2), dx, *options)  # along the width
    return images.transpose(1, 2).contiguous()


def _shift_rows(
    images: torch.Tensor, shift: torch.Tensor, interpolation: str, fill_mode: str, fill_value: float
) -> torch.Tensor:
    """Move each image's rows down by its own ``shift`` (pixels, float32): output row i
    samples input point i - shift, between rows floor and floor + 1 (bilinear) or at the
    nearest row (halves to even)."""
    source = -shift  # output row i samples input point i + source
    whole = torch.floor(source) if interpolation == "bilinear" else torch.round(source)
    first = torch.arange(images.shape[1], device=images.device) + whole.long()[:, None]
    if interpolation == "nearest":
        return _rows_at(images, first, fill_mode, fill_value)
    fraction = (source - whole).to(images.dtype)[:, None, None, None]
    above = _rows_at(images, first, fill_mode, fill_value)
    below = _rows_at(images, first + 1, fill_mode, fill_value)
    return torch.lerp(above, below, fraction)


def _rows_at(
    images: torch.Tensor, rows: torch.Tensor, fill_mode: str, fill_value: float
) -> torch.Tensor:
    """The rows ``rows[k]`` (any integers) of each image k, those outside the image read per
    ``fill_mode``: 'reflect' (d c b a | a b c d), 'wrap', 'nearest' or 'constant'."""
    size = images.shape[1]
    if fill_mode == "reflect":
        inside = torch.remainder(rows, 2 * size)
        inside = torch.where(inside < size, inside, 2 * size - 1 - inside)
    elif fill_mode == "wrap":
        inside = torch.remainder(rows, size)
    else:
        inside = rows.clamp(0, size - 1)
    batch = torch.arange(images.shape[0], device=images.device)[:, None]
    picked = images[batch, inside]  # (batch, rows, width, channels)
    if fill_mode != "constant":
        return picked
    outside = ((rows < 0) | (rows >= size))[:, :, None, None]
    return picked.masked_fill(outside, fill_value)


def flip(
    images: torch.Tensor, mirrored: torch.Tensor | None, upside_down: torch.Tensor | None
) -> torch.Tensor:
    """Flip left-right the images of a channels-last batch that ``mirrored`` selects, and
    top-bottom those that ``upside_down`` selects ((batch,) bools; None selects none).

    Returns:
        (batch, height, width, channels), a new tensor.
    """
    out = images.clone()
    if mirrored is not None:
        out = torch.where(mirrored.view(-1, 1, 1, 1), out.flip(2), out)
    if upside_down is not None:
        out = torch.where(upside_down.view(-1, 1, 1, 1), out.flip(1), out)
    return out
