"""Fast screening scores with proven error bounds, used to shortlist neighbour candidates.

A screen turns a block of (query, training row) pairs into scores that order the pairs like the
true distances, up to a known error. ``lower_bound`` turns the largest shortlisted score into a
distance that no row outside the shortlist can beat; the search checks it against the exact
k-th distance, so a shortlist is only trusted when it provably holds the true k nearest rows.

- ``GridScreen``: data on an 8-bit grid (uint8 pixels, pixels / 255): exact integer scores,
  int8 matrix products for L2 on AVX-512 CPUs (exact float32 ones elsewhere) and byte SADs
  for L1.
- ``FloatScreen``: any other data: float32 scores (centred matrix-product expansion for L2,
  float32 L1 kernel, normalised dot products for cosine) with worst-case rounding bounds.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import torch

from . import _l1_kernels
from ._distances import sqrt_
from ._grid import Codes, Grid, quantize

_CHUNK_ROWS = 4096
_UNIT_ROUNDOFF = 2.0**-24  # float32
_SAFE = 1.0 - 1e-12  # shrinks lower bounds past float64 rounding of the bound itself


@dataclass
class Prepared:
    """A batch of query rows in a screen's own representation."""

    data: torch.Tensor  # what ``scores`` multiplies or differences against the training rows
    norm: torch.Tensor  # (b,) float64: ||x||^2 (L2) or ||x||_1 (L1) in the screen's units
    slack: torch.Tensor  # (b,) float64: how far the screened rows may be from the raw rows
    exact: bool  # scores are exact distances of the raw rows: no re-ranking needed


@contextlib.contextmanager
def _ieee_float32() -> Iterator[None]:
    """Force true float32 matrix products: TF32/bf16 shortcuts would void the error bounds."""
    precision = torch.get_float32_matmul_precision()
    tf32 = torch.backends.cuda.matmul.allow_tf32
    torch.set_float32_matmul_precision("highest")
    torch.backends.cuda.matmul.allow_tf32 = False
    try:
        yield
    finally:
        torch.set_float32_matmul_precision(precision)
        torch.backends.cuda.matmul.allow_tf32 = tf32


def _int_mm_works() -> bool:
    """Whether this torch build multiplies int8 matrices of any shape into int32 on the CPU."""
    try:
        a, b = torch.ones((3, 5), dtype=torch.int8), torch.ones((7, 5), dtype=torch.int8)
        return bool((torch._int_mm(a, b.t()) == 5).all())
    except (AttributeError, RuntimeError, NotImplementedError):
        return False


def _int_mm_is_fast() -> bool:
    """Whether this CPU runs PyTorch's int8 matrix product at speed: its kernels need AVX-512
    (measured on an AVX2 EPYC, torch 2.13: 1.9 G multiply-adds/s int8 against 28 float32, so
    the exact float32 product is the faster one there)."""
    return torch.backends.cpu.get_cpu_capability().startswith("AVX512")


_INT_MM = _int_mm_works() and _int_mm_is_fast()


class GridScreen:
    """Exact integer screening of data on an 8-bit grid (scores are in units of the grid step)."""

    def __init__(self, metric: str, grid: Grid, codes: Codes) -> None:
        self.metric = metric
        self.grid = grid
        self.exact = codes.exact
        if metric == "l1":
            self._codes = codes.codes
            self._slack = float(codes.residual_l1.max())
            return
        self._slack = float(codes.residual_l2.max())
        centred = _centre_codes(codes.codes)
        self._sq_norms = _sq_norms(centred)
        use_int_mm = _INT_MM and centred.device.type == "cpu"
        exact_float = torch.float32 if centred.shape[1] * 128 * 128 < 2**24 else torch.float64
        self._matmul_dtype = torch.int8 if use_int_mm else exact_float
        self._codes = centred.to(self._matmul_dtype)

    def prepare(self, queries: torch.Tensor) -> Prepared | None:
        """Quantise a query batch onto the training grid, or None if it is off the grid."""
        codes = quantize(queries, self.grid)
        if codes is None:
            return None
        exact = self.exact and codes.exact
        if self.metric == "l1":
            return Prepared(codes.codes, codes.residual_l1, codes.residual_l1, exact)
        centred = _centre_codes(codes.codes)
        sq_norm = _sq_norms(centred).double()
        return Prepared(centred.to(self._matmul_dtype), sq_norm, codes.residual_l2, exact)

    def scores(self, prepared: Prepared, start: int, stop: int) -> torch.Tensor:
        """(b, stop - start) int32 scores: SAD for L1, ||y||^2 - 2 x.y (grid units) for L2."""
        train = self._codes[start:stop]
        if self.metric == "l1":
            return _l1_kernels.l1_uint8(prepared.data, train)
        if self._matmul_dtype == torch.int8:
            products = torch._int_mm(prepared.data, train.t())
        else:
            with _ieee_float32():
                products = (prepared.data @ train.t()).round_().to(torch.int32)
        return products.mul_(-2).add_(self._sq_norms[start:stop])

    def distances(self, prepared: Prepared, scores: torch.Tensor) -> torch.Tensor:
        """Turn (b, c) scores into float64 distances in data units."""
        scores = scores.to(torch.float64, copy=True)
        if self.metric == "l1":
            return scores.mul_(self.grid.scale)
        return sqrt_(scores.add_(prepared.norm[:, None]).clamp_(min=0)).mul_(self.grid.scale)

    def lower_bound(self, prepared: Prepared, scores: torch.Tensor) -> torch.Tensor:
        """(b,) distance that no row scoring at least ``scores`` (b,) can be below."""
        grid_distance = self.distances(prepared, scores[:, None])[:, 0]
        return (grid_distance - prepared.slack - self._slack) * _SAFE


class FloatScreen:
    """Float32 screening of arbitrary data, with a worst-case rounding bound per query row."""

    exact = False

    def __init__(self, metric: str, train: torch.Tensor) -> None:
        self.metric = metric
        self._n_features = train.shape[1]
        chunks = torch.split(train, _CHUNK_ROWS)
        self._data = torch.empty(train.shape, dtype=torch.float32, device=train.device)
        rows = torch.split(self._data, _CHUNK_ROWS)
        if metric == "cosine":
            for chunk, out in zip(chunks, rows, strict=True):
                out.copy_(_unit_rows(chunk))
            return
        self._mean = sum(chunk.double().sum(0) for chunk in chunks) / train.shape[0]
        norms = []  # centred in float64, one chunk at a time, before rounding to float32
        for chunk, out in zip(chunks, rows, strict=True):
            centred = chunk.double() - self._mean
            out.copy_(centred)
            norms.append(centred.square().sum(1) if metric == "l2" else centred.abs().sum(1))
        self._max_norm = float(torch.cat(norms).max())
        if metric == "l2":
            self._sq_norms = torch.cat([out.double().square().sum(1) for out in rows]).float()

    def prepare(self, queries: torch.Tensor) -> Prepared:
        """Centre (L1, L2) or normalise (cosine) a query batch and cast it to float32."""
        if self.metric == "cosine":
            unit = _unit_rows(queries)
            return Prepared(unit.float(), unit.norm(dim=1), unit.new_zeros(len(unit)), False)
        centred = queries.double() - self._mean
        if self.metric == "l2":
            norm = centred.square().sum(1)
        else:
            norm = centred.abs().sum(1)
        return Prepared(centred.float(), norm, norm.new_zeros(len(norm)), False)

    def scores(self, prepared: Prepared, start: int, stop: int) -> torch.Tensor:
        """(b, stop - start) float32 scores: L1, ||y||^2 - 2 x.y (L2) or -x.y (cosine)."""
        train = self._data[start:stop]
        if self.metric == "l1":
            return _l1_kernels.l1_float32(prepared.data, train)
        with _ieee_float32():
            if self.metric == "cosine":
                return (prepared.data @ train.t()).neg_()
            return torch.addmm(self._sq_norms[start:stop], prepared.data, train.t(), alpha=-2)

    def lower_bound(self, prepared: Prepared, scores: torch.Tensor) -> torch.Tensor:
        """(b,) distance no row scoring at least ``scores`` can be below, despite float32 rounding.

        Every error source (float32 casts, products, sums) is below ``(d + 8) u`` times the
        scale below (u = 2^-24 for any summation order); the bound doubles that for safety.
        """
        error = 2.0 * (self._n_features + 16) * _UNIT_ROUNDOFF
        scores = scores.double()
        if self.metric == "cosine":
            return (1.0 + scores - error) * _SAFE
        if self.metric == "l1":
            return (scores - error * (scores + prepared.norm + self._max_norm)) * _SAFE
        squared = prepared.norm + scores - error * (prepared.norm + self._max_norm)
        return sqrt_(squared.clamp_(min=0)) * _SAFE

    def distances(self, prepared: Prepared, scores: torch.Tensor) -> torch.Tensor:
        """Float32 scores are never final: the search re-ranks them exactly instead."""
        raise NotImplementedError("FloatScreen scores are approximate; re-rank exactly.")


def _centre_codes(codes: torch.Tensor) -> torch.Tensor:
    """Map uint8 codes 0..255 to int8 -128..127 (flipping the top bit subtracts 128)."""
    return codes.bitwise_xor(128).view(torch.int8)


def _sq_norms(centred: torch.Tensor) -> torch.Tensor:
    """Squared L2 norms of int8 rows as int32 (exact below 2^31), chunked to bound the copy."""
    chunks = torch.split(centred, _CHUNK_ROWS)
    return torch.cat([chunk.int().square_().sum(1, dtype=torch.int32) for chunk in chunks])


def _unit_rows(x: torch.Tensor) -> torch.Tensor:
    """Rows scaled to unit L2 norm in float64; all-zero rows stay zero."""
    x = x.double()
    norms = x.norm(dim=1, keepdim=True)
    return x / torch.where(norms == 0, torch.ones_like(norms), norms)
