"""L1 (Manhattan) distance kernels: L1 has no matrix-product shortcut, so it needs its own.

With the optional dependency numba, 8-bit images use a compiled sum-of-absolute-differences
kernel (``_l1_numba``: one ``psadbw`` instruction per 64 pixel pairs on x86) and float data a
vectorised loop. Without numba, ``torch.cdist(p=1)`` on float32 chunks is the fallback (also the
path on CUDA).
"""

from __future__ import annotations

import importlib.util

import numpy as np
import torch

HAVE_NUMBA = importlib.util.find_spec("numba") is not None


def l1_uint8(queries: torch.Tensor, train: torch.Tensor) -> torch.Tensor:
    """Exact L1 distances between uint8 rows, shape (n_queries, n_train), as int32 (CPU).

    Args:
        queries: (n_queries, n_features) uint8 tensor.
        train: (n_train, n_features) uint8 tensor, n_features < 8 million (int32 sums).
    """
    if HAVE_NUMBA and queries.device.type == "cpu":
        from . import _l1_numba

        out = np.empty((queries.shape[0], train.shape[0]), dtype=np.int32)
        _l1_numba.sync_threads()
        _l1_numba.sad_u8(_contiguous(queries), _contiguous(train), out)
        return torch.from_numpy(out)
    # float32 sums of integers below 2**24 are exact, so cdist is exact here too
    return torch.cdist(queries.float(), train.float(), p=1).round_().to(torch.int32)


def l1_float32(queries: torch.Tensor, train: torch.Tensor) -> torch.Tensor:
    """L1 distances between float32 rows in float32 (any summation order), (n_queries, n_train)."""
    if HAVE_NUMBA and queries.device.type == "cpu":
        from . import _l1_numba

        out = np.empty((queries.shape[0], train.shape[0]), dtype=np.float32)
        _l1_numba.sync_threads()
        _l1_numba.l1_f32(_contiguous(queries), _contiguous(train), out)
        return torch.from_numpy(out)
    return torch.cdist(queries, train, p=1)


def _contiguous(tensor: torch.Tensor) -> np.ndarray:
    """View a CPU tensor as a C-contiguous NumPy array (copying only when it is strided)."""
    return np.ascontiguousarray(tensor.numpy())
