"""The one fork-pool helper: run a function over items in forked worker processes.

Large read-only inputs (grids, GeoDataFrames, a site table) reach the workers copy-on-write
through the fork, not by pickling: ``ForkPool(fn, shared)`` registers ``(fn, shared)`` under a
token before the workers start and each task calls ``fn(shared, item)``. This registry is the
project's only module-level mutable state outside the stores; it is guarded by a lock and an
entry lives exactly as long as its pool. Workers end with the process that started them (Linux
``PR_SET_PDEATHSIG``), so a killed build leaves no orphans.

Use it as a context manager::

    with ForkPool(_extract, grids, workers=2) as pool:
        parts = pool.map_async(chunks)   # returns at once; .get() waits
        ...
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import multiprocessing as mp
import os
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.pool import AsyncResult
from types import TracebackType
from typing import Any, Generic, TypeVar

S = TypeVar("S")
T = TypeVar("T")
R = TypeVar("R")

_SHARED: dict[int, tuple[Callable[[Any, Any], Any], Any]] = {}
_LOCK = threading.Lock()
_TOKENS = itertools.count()


def fork_available() -> bool:
    """True where worker processes can be forked (POSIX)."""
    return hasattr(os, "fork")


def usable_cores(limit: int = 2) -> int:
    """The cores this process may run on (its affinity), at most ``limit``."""
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        n = os.cpu_count() or 1
    return max(1, min(limit, n))


def _init_worker() -> None:  # pragma: no cover - runs in the worker
    """End the worker with its parent (Linux), so a killed build leaves none lingering."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _call(task: tuple[int, Any]) -> Any:  # pragma: no cover - runs in the worker
    token, item = task
    fn, shared = _SHARED[token]
    return fn(shared, item)


class ForkPool(Generic[S, T, R]):
    """``workers`` forked processes that run ``fn(shared, item)``; ``shared`` is not pickled."""

    def __init__(self, fn: Callable[[S, T], R], shared: S, workers: int):
        self.token = next(_TOKENS)
        with _LOCK:
            _SHARED[self.token] = (fn, shared)
            try:
                self._pool = mp.get_context("fork").Pool(max(1, workers), initializer=_init_worker)
            except BaseException:
                del _SHARED[self.token]
                raise

    def map_async(self, items: Iterable[T]) -> AsyncResult[list[R]]:
        """Start ``fn`` over all items; ``.get()`` on the result waits and returns them in order."""
        return self._pool.map_async(_call, [(self.token, i) for i in items])

    def imap(self, items: Iterable[T], ordered: bool = True, chunksize: int = 1) -> Iterator[R]:
        """Results as they come: in item order, or (``ordered=False``) in completion order."""
        tasks = ((self.token, i) for i in items)
        if ordered:
            return self._pool.imap(_call, tasks, chunksize=chunksize)
        return self._pool.imap_unordered(_call, tasks, chunksize=chunksize)

    def close(self) -> None:
        """Wait for the workers to finish and drop the shared entry."""
        try:
            self._pool.close()
            self._pool.join()
        finally:
            with _LOCK:
                _SHARED.pop(self.token, None)

    def terminate(self) -> None:
        """Stop the workers at once (on error) and drop the shared entry."""
        try:
            self._pool.terminate()
            self._pool.join()
        finally:
            with _LOCK:
                _SHARED.pop(self.token, None)

    def __enter__(self) -> ForkPool[S, T, R]:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if kind is None:
            self.close()
        else:
            self.terminate()
