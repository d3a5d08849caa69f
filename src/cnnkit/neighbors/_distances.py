"""Exact float64 distances from the raw data: the lecture's formulas, computed directly.

L2 = sqrt(sum (x_j - x_i)^2) and L1 = sum |x_j - x_i| on the differences (no matrix-product
expansion, so integer-valued images give exact integers and ties stay ties); cosine distance =
1 - x_i . x_j / (||x_i|| ||x_j||), as scikit-learn computes it (zero vectors are at distance 1).
These are the final answers; the fast screens in ``_screens`` only pick candidates.
"""

from __future__ import annotations

import numpy as np
import torch

_CHUNK_BYTES = 64 * 2**20  # float64 differences held at once


def sqrt_(x: torch.Tensor) -> torch.Tensor:
    """In-place, correctly rounded square root (torch's vectorised CPU float64 sqrt can be 1 ulp
    off, which would break exact ties between integer-valued images)."""
    if x.device.type == "cpu":
        np.sqrt(x.numpy(), out=x.numpy())
        return x
    return x.sqrt_()


def candidate_distances(
    queries: torch.Tensor, train: torch.Tensor, candidates: torch.Tensor, metric: str
) -> torch.Tensor:
    """Exact distances from each query row to its own candidate training rows.

    Args:
        queries: (b, d) query rows, any real dtype.
        train: (n, d) training rows, any real dtype.
        candidates: (b, c) int64 indices into ``train``.
        metric: 'l2', 'l1' or 'cosine'.

    Returns:
        (b, c) float64 distances.
    """
    b, c = candidates.shape
    rows = max(1, _CHUNK_BYTES // (8 * c * train.shape[1]))
    out = torch.empty((b, c), dtype=torch.float64, device=queries.device)
    for start in range(0, b, rows):
        stop = min(b, start + rows)
        x = queries[start:stop].double().unsqueeze(1)  # (r, 1, d)
        y = train[candidates[start:stop]].double()  # (r, c, d)
        if metric == "cosine":
            out[start:stop] = _cosine(_unit(x), _unit(y).transpose(1, 2)).squeeze(1)
        elif metric == "l2":
            out[start:stop] = sqrt_((y - x).square_().sum(-1))
        else:
            out[start:stop] = (y - x).abs_().sum(-1)
    return out


def pairwise_distances(queries: torch.Tensor, train: torch.Tensor, metric: str) -> torch.Tensor:
    """Exact (b, n) float64 distances between all query and training rows."""
    x = queries.double()
    if metric == "cosine":
        return _cosine(_unit(x), _unit(train.double()).T)
    if metric == "l1":
        return torch.cdist(x, train.double(), p=1)
    rows = max(1, _CHUNK_BYTES // (8 * len(x) * x.shape[1]))
    parts = [
        (chunk.double()[None] - x[:, None]).square_().sum(-1) for chunk in torch.split(train, rows)
    ]
    return sqrt_(torch.cat(parts, dim=1))


def _unit(x: torch.Tensor) -> torch.Tensor:
    """Scale rows to unit L2 norm, leaving all-zero rows at zero (as sklearn's ``normalize``)."""
    norms = x.norm(dim=-1, keepdim=True)
    return x / torch.where(norms == 0, torch.ones_like(norms), norms)


def _cosine(unit_x: torch.Tensor, unit_y_t: torch.Tensor) -> torch.Tensor:
    """Cosine distance 1 - similarity, clipped to [0, 2] against rounding."""
    return (1.0 - unit_x @ unit_y_t).clamp_(0.0, 2.0)
