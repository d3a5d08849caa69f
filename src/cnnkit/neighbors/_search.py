"""Exact brute-force k-nearest-neighbour search, chunked so memory stays bounded.

For each batch of query rows: screen every training row (in blocks), shortlist the
``k + EXTRA_CANDIDATES`` best scores, compute their exact float64 distances, and order them by
(distance, training index). A row whose shortlist cannot be proven to hold its true k nearest
neighbours (a tie or a near-tie at the boundary) is redone exactly against the whole training
set. The result is the same as sorting every exact distance with a stable sort.
"""

from __future__ import annotations

import torch

from ._distances import candidate_distances, pairwise_distances
from ._grid import infer_grid, quantize
from ._screens import FloatScreen, GridScreen, Prepared

MEMORY_BUDGET = 256 * 2**20  # bytes for one block of screening scores
EXTRA_CANDIDATES = 16
_MAX_DEFAULT_BATCH = 4096


def default_batch_size(n_train: int) -> int:
    """Query rows per batch so one (batch, n_train) block of 4-byte scores fits MEMORY_BUDGET."""
    return max(1, min(_MAX_DEFAULT_BATCH, MEMORY_BUDGET // (4 * n_train)))


class BruteForceIndex:
    """The stored training rows plus the screens that speed up exact k-NN queries on them.

    Args:
        train: (n_train, n_features) training rows on the device to search on.
        metric: 'l2', 'l1' or 'cosine'.
    """

    def __init__(self, train: torch.Tensor, metric: str) -> None:
        self.train = train
        self.metric = metric
        self._grid_screen: GridScreen | None = None
        self._float_screen: FloatScreen | None = None
        grid = infer_grid(train) if metric != "cosine" else None
        codes = quantize(train, grid) if grid is not None else None
        if codes is not None:
            self._grid_screen = GridScreen(metric, grid, codes)

    def _screen_for(self, queries: torch.Tensor) -> tuple[GridScreen | FloatScreen, Prepared]:
        """Use the exact grid screen when the batch lies on the grid, else the float screen."""
        if self._grid_screen is not None:
            prepared = self._grid_screen.prepare(queries)
            if prepared is not None:
                return self._grid_screen, prepared
        if self._float_screen is None:  # built on first need: it holds a float32 copy
            self._float_screen = FloatScreen(self.metric, self.train)
        return self._float_screen, self._float_screen.prepare(queries)

    def kneighbors(
        self, queries: torch.Tensor, k: int, batch_size: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Return float64 distances and int64 indices, both (n_queries, k), nearest first.

        Ties in distance are ordered by training index, so the first k' <= k columns are the
        answer for k'. Memory beyond the stored data: one (batch_size, n_train) block of 4-byte
        scores (the training rows are split into blocks when that exceeds MEMORY_BUDGET) plus
        64 MiB for exact re-ranking.
        """
        distances = torch.empty((len(queries), k), dtype=torch.float64, device=queries.device)
        indices = torch.empty((len(queries), k), dtype=torch.int64, device=queries.device)
        for start in range(0, len(queries), batch_size):
            stop = min(len(queries), start + batch_size)
            distances[start:stop], indices[start:stop] = self._search_batch(queries[start:stop], k)
        return distances, indices

    def _search_batch(self, queries: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Shortlist, re-rank exactly, verify, and redo the unverified rows exhaustively."""
        n_train = len(self.train)
        screen, prepared = self._screen_for(queries)
        n_candidates = min(n_train, k + EXTRA_CANDIDATES)
        scores, candidates = self._shortlist(screen, prepared, n_candidates)
        if prepared.exact:
            exact = screen.distances(prepared, scores)
        else:
            exact = candidate_distances(queries, self.train, candidates, self.metric)
        exact, candidates = _lexicographic(exact, candidates)
        distances, indices = exact[:, :k].contiguous(), candidates[:, :k].contiguous()
        if n_candidates == n_train:
            return distances, indices
        bound = screen.lower_bound(prepared, scores.max(dim=1).values)
        unproven = torch.nonzero(bound <= distances[:, -1]).flatten()
        if len(unproven):
            distances[unproven], indices[unproven] = self._exhaustive(queries[unproven], k)
        return distances, indices

    def _shortlist(
        self, screen: GridScreen | FloatScreen, prepared: Prepared, n_candidates: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The n_candidates lowest screening scores per query row and their training indices."""
        n_train = len(self.train)
        block = max(n_candidates, MEMORY_BUDGET // (4 * len(prepared.data)))
        best_scores = best_indices = None
        for start in range(0, n_train, block):
            stop = min(n_train, start + block)
            scores = screen.scores(prepared, start, stop)
            top = min(n_candidates, stop - start)
            values, indices = torch.topk(scores, top, dim=1, largest=False, sorted=False)
            indices += start
            if best_scores is not None:
                values = torch.cat([best_scores, values], dim=1)
                indices = torch.cat([best_indices, indices], dim=1)
                values, keep = torch.topk(values, n_candidates, dim=1, largest=False)
                indices = indices.gather(1, keep)
            best_scores, best_indices = values, indices
        return best_scores, best_indices

    def _exhaustive(self, queries: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Exact k nearest rows by (distance, index) against every training row, in blocks."""
        n_train = len(self.train)
        block = max(k, MEMORY_BUDGET // (8 * len(queries)))
        best = None
        for start in range(0, n_train, block):
            stop = min(n_train, start + block)
            distances = pairwise_distances(queries, self.train[start:stop], self.metric)
            indices = torch.arange(start, stop, device=queries.device).expand_as(distances)
            if best is not None:  # earlier blocks have lower indices: keep them first
                distances = torch.cat([best[0], distances], dim=1)
                indices = torch.cat([best[1], indices], dim=1)
            order = torch.sort(distances, dim=1, stable=True).indices[:, :k]
            best = distances.gather(1, order), indices.gather(1, order)
        return best


def _lexicographic(
    distances: torch.Tensor, indices: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sort each row by (distance, index): stable sort by distance after sorting by index."""
    indices, by_index = torch.sort(indices, dim=1)
    distances = distances.gather(1, by_index)
    distances, by_distance = torch.sort(distances, dim=1, stable=True)
    return distances, indices.gather(1, by_distance)
