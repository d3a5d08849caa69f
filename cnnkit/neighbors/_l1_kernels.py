"""Compiled L1 (Manhattan) distance kernels: L1 has no matrix-product shortcut, so it needs its own.

With the optional dependency numba, 8-bit images use a sum-of-absolute-differences kernel that
LLVM lowers to one ``psadbw`` instruction per 64 bytes on x86 (``uabd``/``uadalp`` on ARM), and
float data a vectorised loop; both tile the training rows so a tile stays in cache while every
query row visits it. Without numba, ``torch.cdist(p=1)`` on float32 chunks is the fallback.
"""

from __future__ import annotations

import numpy as np
import torch

try:
    import numba
    from llvmlite import ir
    from numba import njit, prange, types
    from numba.extending import intrinsic
except ImportError:  # pragma: no cover - exercised only where numba is absent
    numba = None

HAVE_NUMBA = numba is not None
_LANES = 64  # bytes summed per SAD step
_TILE = 256  # training rows per parallel tile


def _sync_threads() -> None:
    """Let numba use as many threads as torch (``torch.set_num_threads`` is the one knob)."""
    numba.set_num_threads(max(1, min(torch.get_num_threads(), numba.config.NUMBA_NUM_THREADS)))


if HAVE_NUMBA:

    def _declare(module, name, ret, args):
        """Return the LLVM function ``name`` in ``module``, declaring it once."""
        existing = module.globals.get(name)
        return existing or ir.Function(module, ir.FunctionType(ret, args), name=name)

    @intrinsic
    def _sad_block(typingctx, a, b, offset):
        """Sum |a[offset:offset+64] - b[offset:offset+64]| of two uint8 rows as one vector op."""
        sig = types.int64(a, b, offset)

        def codegen(context, builder, signature, args):
            bytes_t = ir.VectorType(ir.IntType(8), _LANES)
            wide_t = ir.VectorType(ir.IntType(32), _LANES)
            rows = [
                context.make_array(signature.args[i])(context, builder, args[i]) for i in (0, 1)
            ]
            loaded = []
            for row in rows:
                pointer = builder.bitcast(builder.gep(row.data, [args[2]]), bytes_t.as_pointer())
                loaded.append(builder.zext(builder.load(pointer, align=1), wide_t))
            module = builder.module
            absolute = _declare(module, f"llvm.abs.v{_LANES}i32", wide_t, [wide_t, ir.IntType(1)])
            reduce_add = _declare(
                module, f"llvm.vector.reduce.add.v{_LANES}i32", ir.IntType(32), [wide_t]
            )
            difference = builder.sub(loaded[0], loaded[1])
            magnitude = builder.call(absolute, [difference, ir.Constant(ir.IntType(1), 0)])
            return builder.zext(builder.call(reduce_add, [magnitude]), ir.IntType(64))

        return sig, codegen

    @njit(inline="always")
    def _sad_row(a, b):
        n = a.shape[0]
        total = 0
        f = 0
        while f + _LANES <= n:
            total += _sad_block(a, b, f)
            f += _LANES
        while f < n:
            total += abs(np.int64(a[f]) - np.int64(b[f]))
            f += 1
        return total

    @njit(parallel=True, cache=True)
    def _sad_u8(queries, train, out):
        n_train = train.shape[0]
        for tile in prange((n_train + _TILE - 1) // _TILE):
            start = tile * _TILE
            stop = min(n_train, start + _TILE)
            for i in range(queries.shape[0]):
                row = queries[i]
                for j in range(start, stop):
                    out[i, j] = _sad_row(row, train[j])

    @njit(parallel=True, fastmath=True, cache=True)
    def _l1_f32(queries, train, out):
        n_train, n_features = train.shape
        for tile in prange((n_train + _TILE - 1) // _TILE):
            start = tile * _TILE
            stop = min(n_train, start + _TILE)
            for i in range(queries.shape[0]):
                for j in range(start, stop):
                    total = np.float32(0.0)
                    for f in range(n_features):
                        total += abs(queries[i, f] - train[j, f])
                    out[i, j] = total


def l1_uint8(queries: torch.Tensor, train: torch.Tensor) -> torch.Tensor:
    """Exact L1 distances between uint8 rows, shape (n_queries, n_train), as int32 (CPU).

    Args:
        queries: (n_queries, n_features) uint8 tensor.
        train: (n_train, n_features) uint8 tensor, n_features < 8 million (int32 sums).
    """
    if HAVE_NUMBA and queries.device.type == "cpu":
        out = np.empty((queries.shape[0], train.shape[0]), dtype=np.int32)
        _sync_threads()
        _sad_u8(_contiguous(queries), _contiguous(train), out)
        return torch.from_numpy(out)
    # float32 sums of integers below 2**24 are exact, so cdist is exact here too
    return torch.cdist(queries.float(), train.float(), p=1).round_().to(torch.int32)


def l1_float32(queries: torch.Tensor, train: torch.Tensor) -> torch.Tensor:
    """L1 distances between float32 rows in float32 (any summation order), (n_queries, n_train)."""
    if HAVE_NUMBA and queries.device.type == "cpu":
        out = np.empty((queries.shape[0], train.shape[0]), dtype=np.float32)
        _sync_threads()
        _l1_f32(_contiguous(queries), _contiguous(train), out)
        return torch.from_numpy(out)
    return torch.cdist(queries, train, p=1)


def _contiguous(tensor: torch.Tensor) -> np.ndarray:
    """View a CPU tensor as a C-contiguous NumPy array (copying only when it is strided)."""
    return np.ascontiguousarray(tensor.numpy())
