"""Map a function over a stream in worker threads or processes, in order, reading a bounded
number ahead.

The one seam through which cnnkit's lazy datasets decode in parallel. Threads overlap work that
releases the GIL (PyTorch kernels, large images in Pillow); for many small images the Python
work around each decode holds the GIL most of the time, so worker processes are faster there
(``bench/bench_image_dataset.py`` measures both: on a 2-core machine a thread pool decoded
20,000 64x64 JPEGs in 1.6x a plain loop's time, two processes in 0.97x).
"""

from __future__ import annotations

import collections
import contextlib
import multiprocessing
import os
import pickle
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")

#: Environment variable overriding the default number of decoding workers (0: none).
WORKERS_VARIABLE = "CNNKIT_DATA_WORKERS"


def workers_from_environment() -> int | None:
    """``$CNNKIT_DATA_WORKERS`` as a count of workers, or None where it is not set."""
    value = os.environ.get(WORKERS_VARIABLE, "").strip()
    if not value:
        return None
    try:
        return check_workers(int(value), "")
    except ValueError:
        return check_workers(value, "")


def check_workers(workers: object, owner: str) -> int:
    """``workers`` as a count of workers (0: decode in the calling thread), or a named error."""
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
    pool = ThreadPoolExecutor(workers, thread_name_prefix="cnnkit-data")
    yield from _ordered(pool, function, items, max(1, 2 * workers if ahead is None else ahead))


_threads_lock = threading.Lock()
_threads_lowered: dict[str, int] = {"passes": 0, "before": 0}


@contextlib.contextmanager
def threads_beside(workers: int) -> Iterator[None]:
    """PyTorch's intra-op threads lowered to the cores ``workers`` processes leave (at least
    one) while they run, and put back when the last such pass ends.

    OpenMP threads that outnumber the free cores wait for each other at every kernel's end:
    on 2 cores, fit's first epoch over 20,000 small JPEGs took 9-11x a plain Pillow loop with
    2 PyTorch threads beside 2 decoding processes, and 0.74x with 1 thread
    (``bench/bench_image_dataset.py``). Never raises the count; passes may nest or overlap.
    """
    import torch

    wanted = max(1, (os.cpu_count() or 1) - workers)
    with _threads_lock:
        if _threads_lowered["passes"] == 0:
            _threads_lowered["before"] = 0  # 0: nothing to put back
        _threads_lowered["passes"] += 1
        if wanted < torch.get_num_threads():
            _threads_lowered["before"] = _threads_lowered["before"] or torch.get_num_threads()
            torch.set_num_threads(wanted)
    try:
        yield
    finally:
        with _threads_lock:
            _threads_lowered["passes"] -= 1
            if _threads_lowered["passes"] == 0 and _threads_lowered["before"]:
                torch.set_num_threads(_threads_lowered["before"])


def can_fork() -> bool:
    """Whether worker processes start by ``fork`` here (Linux): in milliseconds, with the
    parent's modules already imported (``spawn`` would import PyTorch again, for seconds)."""
    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


def ordered_process_map(
    function: Callable[[Any], T], items: Iterable[Any], workers: int, ahead: int | None = None
) -> Iterator[T]:
    """:func:`ordered_map` in ``workers`` worker processes (forked where :func:`can_fork`).

    ``function`` must be a module-level function (or a ``functools.partial`` of one) whose
    items and results pickle, and must not run PyTorch: a forked child of a process whose
    PyTorch threads ran can hang in them (NumPy and Pillow are safe). The processes start
    with the first item and are joined when the iteration ends, fails or is abandoned; an
    exception in ``function`` is raised here, at its item's turn, with its message.

    Each process has its own pipe and takes every ``workers``-th item, so results come back
    in order without a pool's hand-over threads; an array result travels as its raw bytes
    into an array made here (one copy; a pool pickles it, copies it through a queue thread and
    unpickles it again, work that competes with training for this process's core).

    Args:
        function: Called on each item in a worker process.
        items: Iterated in the calling process.
        workers: Processes (>= 1).
        ahead: Results in flight at most (>= 1; default ``2 * workers``).
    """
    context = multiprocessing.get_context("fork" if can_fork() else "spawn")
    ahead = max(1, 2 * workers if ahead is None else ahead)
    # (process, its end of the pipe); the i-th item goes to process i % workers
    started: list[tuple[Any, Any]] = []
    items = iter(items)
    sent = received = 0
    try:
        while True:
            while sent - received < ahead:
                item = next(items, _END)
                if item is _END:
                    break
                if len(started) < workers:
                    started.append(_start_worker(context, function, started))
                started[sent % workers][1].send(item)
                sent += 1
            if received == sent:
                return
            result = _receive(started[received % workers][1])
            received += 1
            yield result
    finally:
        for _, connection in started:
            connection.close()  # the worker reads the end of its items and stops
        for process, _ in started:
            process.join(timeout=10)
            if process.is_alive():  # stuck in a decoder: not worth waiting for
                process.terminate()
                process.join()


_END = object()


def _start_worker(
    context: Any, function: Callable[[Any], Any], started: list[tuple[Any, Any]]
) -> tuple[Any, Any]:
    """A worker process serving ``function`` over a pipe, and the pipe's end in this process.

    A forked child inherits this process's end of its own pipe and of the ``started``
    workers' pipes; it closes them first, or no worker would see its pipe close when this
    process closes its end (the end of the items, or an abandoned iteration).
    """
    mine, theirs = context.Pipe(duplex=True)
    inherited = [mine, *(end for _, end in started)] if context.get_start_method() == "fork" else []
    process = context.Process(target=_serve, args=(function, theirs, inherited), daemon=True)
    process.start()
    theirs.close()  # the child holds its own copy: this process sees the pipe close with it
    return process, mine


def _serve(function: Callable[[Any], Any], connection: Any, inherited: list[Any]) -> None:
    """A worker's loop: ``function`` on each item received, the result (or the exception)
    sent back, until the other end closes the pipe. NumPy arrays go as their raw bytes, read
    straight into an array on the other side (no pickled copy on either)."""
    for end in inherited:
        end.close()
    # Ctrl-C reaches every process of the terminal's group: the calling process handles it
    # and closes the pipes, which ends this loop without a traceback per worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        try:
            item = connection.recv()
        except (EOFError, OSError):
            return
        try:
            result = function(item)
        except BaseException as error:  # the caller raises it at this item's turn
            outcome: tuple = ("error", error)
        else:
            outcome = ("value", result)
            if isinstance(result, np.ndarray) and not result.dtype.hasobject:
                outcome = ("array", result.dtype.str, result.shape)
        try:
            try:
                connection.send(outcome)
            except (TypeError, AttributeError, pickle.PicklingError) as failure:
                what = outcome[1]  # an exception or a result that cannot be pickled
                message = (
                    f"{type(what).__name__}: {what}"
                    if outcome[0] == "error"
                    else f"the worker's result cannot be sent back: {failure}"
                )
                connection.send(("error", RuntimeError(message)))
            if outcome[0] == "array":
                connection.send_bytes(_bytes_of(result))
        except OSError:  # the other end went away (the iteration was abandoned)
            return


def _bytes_of(array: np.ndarray) -> np.ndarray:
    """The bytes of ``array`` as a flat uint8 array (a view where it is contiguous)."""
    return np.ascontiguousarray(array).reshape(-1).view(np.uint8)


def _receive(connection: Any) -> Any:
    """The next result a worker sends (:func:`_serve`), or its exception raised here."""
    try:
        kind, *rest = connection.recv()
        if kind == "array":
            dtype, shape = rest
            array = np.empty(shape, np.dtype(dtype))
            connection.recv_bytes_into(_bytes_of(array))
            return array
    except EOFError:
        raise RuntimeError(
            "a data worker process ended without an answer (killed, or out of memory?)"
        ) from None
    if kind == "error":
        raise rest[0]
    return rest[0]


def _ordered(
    pool: Executor, function: Callable[[Any], T], items: Iterable[Any], ahead: int
) -> Iterator[T]:
    """The results of ``function`` on ``items`` from ``pool``, in order, at most ``ahead``
    submitted and not yet yielded; the pool is shut down however the iteration ends."""
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
