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

    theta = A @ M @ A^-1 with A: pixels -> [-1, 1], written out element by element: on a busy
    CPU tiny matmuls (F.affine_grid's, or 2x3 @ 3x3 per image) cost far more than this.
    """
    sx, sy = 2.0 / width, 2.0 / height
    ox, oy = 1.0 / width - 1.0, 1.0 / height - 1.0
    a0, a1, a2, b0, b1, b2 = (matrices[:, i // 3, i % 3].view(-1, 1, 1) for i in range(6))
    u = (torch.arange(width, dtype=matrices.dtype, device=matrices.device) * 2 + 1) / width - 1
    v = (torch.arange(height, dtype=matrices.dtype, device=matrices.device) * 2 + 1) / height - 1
    u, v = u.view(1, 1, -1), v.view(1, -1, 1)
    grid_x = a0 * u + (a1 * sx / sy) * v + (sx * (a2 - a0 * ox / sx - a1 * oy / sy) + ox)
    grid_y = (b0 * sy / sx) * u + b1 * v + (sy * (b2 - b0 * ox / sx - b1 * oy / sy) + oy)
    return torch.stack([grid_x, grid_y], dim=-1)


def _wrapped(
    images: torch.Tensor, grid: torch.Tensor, height: int, width: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Wrap sample points into the image and pad it circularly by one pixel, so bilinear
    interpolation across the seam mixes the last and the first pixel as Keras' 'wrap' does."""
    grid = torch.remainder(grid + 1.0, 2.0) - 1.0
    sizes = grid.new_tensor([width, height])
    grid = ((grid + 1.0) * sizes + 2.0) / (sizes + 2.0) - 1.0
    return F.pad(images, (1, 1, 1, 1), mode="circular"), grid
