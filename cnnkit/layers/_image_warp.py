"""One affine warp for a whole batch (one sampling grid + ``F.grid_sample``) with Keras' fill modes."""

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
