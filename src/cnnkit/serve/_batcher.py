"""Micro-batching: concurrent requests wait a few milliseconds and share one ``predict`` call.

One model call on 32 images costs far less than 32 calls on one image (the per-call overhead
of PyTorch and of cnnkit's layers dominates at batch 1), so a server under load answers
more requests per second when it gathers them. The model runs in a worker thread, one batch at
a time, so the event loop keeps accepting uploads meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import numpy as np

Predict = Callable[[np.ndarray], np.ndarray]


class Batcher:
    """Gathers images from concurrent ``predict`` calls for up to ``wait_s`` seconds or
    ``max_batch`` images, then runs ``predict_fn`` once on them all in a worker thread.

    Args:
        predict_fn: ``(n, h, w, c)`` images -> ``(n, classes)`` scores, called in one thread
            at a time.
        max_batch: images per model call at most (a request with more runs alone).
        wait_s: how long the first request of a batch waits for company, in seconds.

    Example:
        >>> async def main():
        ...     batcher = Batcher(lambda x: x.reshape(len(x), -1), max_batch=8, wait_s=0.005)
        ...     async with batcher.running():
        ...         return await batcher.predict(np.ones((2, 1, 1, 1)))
        >>> asyncio.run(main()).shape
        (2, 1)
    """

    def __init__(self, predict_fn: Predict, max_batch: int = 32, wait_s: float = 0.005) -> None:
        if not isinstance(max_batch, int) or max_batch < 1:
            raise ValueError(
                f"max_batch must be a positive integer. Received: max_batch={max_batch!r}"
            )
        if not wait_s >= 0:
            raise ValueError(f"wait_s must be >= 0 seconds. Received: wait_s={wait_s!r}")
        self.predict_fn, self.max_batch, self.wait_s = predict_fn, max_batch, wait_s
        self.calls = 0  # model calls made, for /health and the tests of batching
        self.images = 0
        self._queue: asyncio.Queue | None = None

    @contextlib.asynccontextmanager
    async def running(self):
        """Run the batching loop on the current event loop for the duration of the block."""
        self._queue = asyncio.Queue()
        task = asyncio.create_task(self._loop())
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            self._queue = None

    async def predict(self, images: np.ndarray) -> np.ndarray:
        """Scores for ``images`` (n, h, w, c), computed in a batch shared with other callers."""
        if self._queue is None:
            raise RuntimeError(
                "Batcher.predict needs the batching loop: use `async with running()`"
            )
        future = asyncio.get_running_loop().create_future()
        await self._queue.put((images, future))
        return await future

    async def _loop(self) -> None:
        carried = None  # a request that would have overflowed the last batch
        while True:
            pending = [carried or await self._queue.get()]
            carried, count = None, len(pending[0][0])
            deadline = asyncio.get_running_loop().time() + self.wait_s
            while count < self.max_batch:
                left = deadline - asyncio.get_running_loop().time()
                try:
                    item = await asyncio.wait_for(self._queue.get(), max(left, 0))
                except asyncio.TimeoutError:  # TimeoutError from Python 3.11
                    break
                if count + len(item[0]) > self.max_batch:
                    carried = item
                    break
                pending.append(item)
                count += len(item[0])
            await self._run(pending)

    async def _run(self, pending: list) -> None:
        """One model call for every pending request; each future gets its own rows."""
        waiting = [(images, future) for images, future in pending if not future.done()]
        if not waiting:
            return
        batch = np.concatenate([images for images, _ in waiting])
        self.calls += 1
        self.images += len(batch)
        try:
            scores = await asyncio.to_thread(self.predict_fn, batch)
        except Exception as exc:  # every waiting request learns why, the server stays up
            for _, future in waiting:
                if not future.done():
                    future.set_exception(exc)
            return
        start = 0
        for images, future in waiting:
            if not future.done():
                future.set_result(scores[start : start + len(images)])
            start += len(images)
