"""numba kernels for L1 distances (imported on first use: numba is optional and slow to import).

The 8-bit kernel sums absolute differences 64 bytes at a time with plain LLVM vector IR
(zero-extend, subtract, abs, add-reduce) that LLVM lowers to ``psadbw`` on x86 and to
``uabd``/``uadalp`` on ARM. Both kernels tile the training rows: a tile of 256 rows stays in
cache while every query row of the batch visits it, one tile per thread.
"""

from __future__ import annotations

import numba
import numpy as np
import torch
from llvmlite import ir
from numba import njit, prange, types
from numba.extending import intrinsic

_LANES = 64  # bytes summed per SAD step
_TILE = 256  # training rows per parallel tile


def sync_threads() -> None:
    """Let numba use as many threads as torch (``torch.set_num_threads`` is the one knob)."""
    numba.set_num_threads(max(1, min(torch.get_num_threads(), numba.config.NUMBA_NUM_THREADS)))


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
        rows = [context.make_array(signature.args[i])(context, builder, args[i]) for i in (0, 1)]
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
    """Exact L1 distance between two uint8 rows: 64-byte SAD steps, then the leftover bytes."""
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
def sad_u8(queries, train, out):
    """Fill out (b, n) int32 with the L1 distances between uint8 queries (b, d) and train (n, d)."""
    n_train = train.shape[0]
    for tile in prange((n_train + _TILE - 1) // _TILE):
        start = tile * _TILE
        stop = min(n_train, start + _TILE)
        for i in range(queries.shape[0]):
            row = queries[i]
            for j in range(start, stop):
                out[i, j] = _sad_row(row, train[j])


@njit(parallel=True, fastmath=True, cache=True)
def l1_f32(queries, train, out):
    """Fill out (b, n) float32 with L1 distances, summed in any order (fastmath vectorises)."""
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
