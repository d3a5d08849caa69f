"""Map a function over a stream in worker threads, in order, reading a bounded number ahead.

The one seam through which cnnkit's lazy datasets decode in parallel. Threads, not processes:
Pillow releases the GIL while it decodes and resizes, and so does PyTorch in its kernels, so
threads overlap the heavy work without pickling every image back from another process (on the
project's 2-core machine a thread pool decoded 20,000 small JPEGs faster than a process pool;
``bench/bench_image_dataset.py`` measures both).
"""

from __future__ import annotations

import collections
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

#: Environment variable overriding the default number of decoding threads (0: no threads).
WORKERS_VARIABLE = "CNNKIT_DATA_WORKERS"

#: At most this many threads by default: small images saturate two to four cores.
_MAX_DEFAULT_WORKERS = 4


def default_workers() -> int:
    """Threads used when none are asked for: ``$CNNKIT_DATA_WORKERS``, else min(4, cores)."""
    value = os.environ.get(WORKERS_VARIABLE, "").strip()
    if value:
        try:
            return check_workers(int(value), "")
        except ValueError:
            return check_workers(value, "")
    return min(_MAX_DEFAULT_WORKERS, os.cpu_count() or 1)


def check_workers(workers: object, owner: str) -> int:
    """``workers`` as a count of threads (0: decode in the calling thread), or a named error."""
    where = f"{owner}: workers" if owner else f"${WORKERS_VARIABLE}"
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 0:
        raise ValueError(
            f"{where} must be a non-negative integer (0 decodes in the calling thread). "
            f"Received: {workers!r}"
        )
    return workers


def ordered_map(
    function: Callable[[Any], T], items: Iterable[Any], workers: int, ahead: int | None = None
) -> Iterator[T]:
    """``map(function, items)`` computed by ``workers`` threads, yielded in the items' order.

    At most ``ahead`` results (default ``2 * workers``) are computed or waiting at any time,
    so memory stays bounded by a few of them. An exception in ``function`` is raised here,
    at its item's turn. The threads end when the iteration ends, fails or is abandoned
    (``break``, ``take``): closing the generator cancels what was not started and waits for
    what was.

    Args:
        function: Called on each item; must be safe to call from several threads at once.
        items: Iterated in the calling thread.
        workers: Threads; 0 calls ``function`` in the calling thread, one item at a time.
        ahead: Results in flight at most (>= 1).
    """
    if workers == 0:
        yield from map(function, items)
        return
    ahead = max(1, ahead if ahead is not None else 2 * workers)
    pool = ThreadPoolExecutor(workers, thread_name_prefix="cnnkit-data")
    pending: collections.deque[Future[T]] = collections.deque()
    try:
        for item in items:
            pending.append(pool.submit(function, item))
            if len(pending) >= ahead:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
