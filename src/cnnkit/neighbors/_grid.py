"""8-bit grids: most image data is ``lo + scale * code`` with integer codes 0..255 (uint8 pixels,
pixels / 255, integer-valued floats). On such a grid, distances can be screened with exact integer
arithmetic (int8 matrix products for L2, byte sums of absolute differences for L1).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

MAX_GRID_FEATURES = 32_768  # keeps integer L1 sums and L2 scores (255^2 * d) inside int32
_TOLERANCE = 1e-3  # largest off-grid residual, in units of ``scale``, still called "on the grid"
_SAMPLE_ROWS = 256
_CHUNK_ROWS = 4096


@dataclass(frozen=True)
class Grid:
    """Equally spaced levels ``lo + scale * code`` (code = 0..255) that data is quantised on."""

    lo: float
    scale: float


@dataclass(frozen=True)
class Codes:
    """Data quantised on a grid, with how far each row is from its grid point."""

    codes: torch.Tensor  # (n, d) uint8
    residual_l1: torch.Tensor  # (n,) float64, sum |x - grid point|
    residual_l2: torch.Tensor  # (n,) float64, ||x - grid point||

    @property
    def exact(self) -> bool:
        """Whether every row lies exactly on the grid (distances from codes are then exact)."""
        return not bool(self.residual_l1.any())


def infer_grid(x: torch.Tensor) -> Grid | None:
    """Guess the 8-bit grid that a (n, d) tensor lives on, or None when it has more levels."""
    if x.shape[1] > MAX_GRID_FEATURES:
        return None
    if x.dtype == torch.uint8:
        return Grid(0.0, 1.0)
    lo, hi = float(x.min()), float(x.max())
    if not x.is_floating_point():
        return Grid(lo, 1.0) if hi - lo <= 255 else None
    if hi == lo:
        return Grid(lo, 1.0)
    levels = torch.unique(x[:_SAMPLE_ROWS].double())
    gaps = torch.diff(levels)
    scale = float(gaps.min()) if gaps.numel() else hi - lo
    if (hi - lo) / scale > 255 + _TOLERANCE:
        return None
    return Grid(lo, scale)


def quantize(x: torch.Tensor, grid: Grid) -> Codes | None:
    """Return the grid codes of (n, d) rows, or None when some value is off the grid."""
    if x.dtype == torch.uint8 and grid == Grid(0.0, 1.0):
        zeros = torch.zeros(x.shape[0], dtype=torch.float64, device=x.device)
        return Codes(x, zeros, zeros)
    parts = [_quantize_chunk(chunk, grid) for chunk in torch.split(x, _CHUNK_ROWS)]
    if any(part is None for part in parts):
        return None
    return Codes(*(torch.cat(tensors) for tensors in zip(*parts, strict=True)))


def _quantize_chunk(x: torch.Tensor, grid: Grid) -> tuple[torch.Tensor, ...] | None:
    """Quantise one chunk of rows: (codes, L1 residual, L2 residual), or None if off the grid."""
    scaled = (x.double() - grid.lo) / grid.scale
    codes = scaled.round()
    if bool((codes < 0).any()) or bool((codes > 255).any()):
        return None
    residual = x.double() - (grid.lo + grid.scale * codes)
    if bool((residual.abs() > _TOLERANCE * grid.scale).any()):
        return None
    return codes.to(torch.uint8), residual.abs().sum(1), residual.norm(dim=1)
