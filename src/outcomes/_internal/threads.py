"""Work split over threads, for compiled kernels that release the GIL.

Only large inputs are split: a thread pays for itself above about a hundred thousand rows, and
below that the one-thread path is exactly the old code path. Results are identical whatever
the number of threads (each thread writes its own rows or columns of a preallocated output).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: rows below which work stays on the calling thread
MIN_ROWS_PER_THREAD = 100_000
#: most threads used, however many cores the process may run on
MAX_THREADS = 8
#: None: the environment variable OUTCOMES_THREADS if set, else as many threads as cores this
#: process may use (at most MAX_THREADS); an integer fixes the count (1: everything on the
#: calling thread, as before threads were used)
threads: int | None = None
ENV = "OUTCOMES_THREADS"


def available() -> int:
    """Cores this process may run on (its CPU affinity, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _from_env() -> int | None:
    text = os.environ.get(ENV, "").strip()
    if not text:
        return None
    if not text.isdigit() or int(text) < 1:
        raise ValueError(
            f"{ENV} must be a whole number of threads, 1 or more (1: one thread), not {text!r}"
        )
    return int(text)


def usable() -> int:
    """Cores the library may keep busy at once: ``threads`` if set, else ``OUTCOMES_THREADS``,
    else the cores this process may run on (at most MAX_THREADS)."""
    cap = threads if threads is not None else _from_env()
    return cap if cap is not None else min(available(), MAX_THREADS)


def count(rows: int) -> int:
    """Threads worth using on ``rows`` rows of work."""
    return max(1, min(usable(), rows // MIN_ROWS_PER_THREAD))


_POOLS: dict[int, ThreadPoolExecutor] = {}


def _pool(size: int) -> ThreadPoolExecutor:
    pool = _POOLS.get(size)
    if pool is None:
        pool = _POOLS[size] = ThreadPoolExecutor(max_workers=size, thread_name_prefix="outcomes")
    return pool


# A process forked after a pool started has the pool's bookkeeping but not its threads: work
# given to it would wait for ever. The child starts its own pools.
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_POOLS.clear)


def map_in_order(fn: Callable[[T], R], items: Iterable[T], n_threads: int) -> list[R]:
    """``[fn(x) for x in items]``, spread over ``n_threads`` threads when more than one; the
    first exception raised by any call is raised here."""
    items = list(items)
    if n_threads <= 1 or len(items) <= 1:
        return [fn(x) for x in items]
    return list(_pool(n_threads).map(fn, items))


def row_ranges(rows: int, parts: int) -> list[tuple[int, int]]:
    """``parts`` contiguous (start, stop) ranges covering ``rows`` rows, nearly equal."""
    edges = [rows * p // parts for p in range(parts + 1)]
    return [(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True) if b > a]
