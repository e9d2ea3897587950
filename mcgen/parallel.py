"""Independent work items on every core, results in input order (so output is the same
whichever worker did what). Forked workers inherit what the caller has loaded, so only
item indexes and results cross processes. MCGEN_JOBS=1 keeps everything in-process.
fewer_collections() keeps the garbage collector from running through such work."""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

# Objects allocated between two collections of the youngest generation (Python's default
# is 700): generation allocates millions of short-lived objects and keeps many (the
# model, caches), so the default collects often and finds little (a tenth of the CPU).
FEWER_COLLECTIONS = 10_000

_WORK: tuple[Callable[..., object], Sequence[object]] | None = None


def _jobs(count: int, threshold: int) -> int:
    wanted = os.environ.get("MCGEN_JOBS")
    if wanted and wanted.isdigit():
        return max(1, int(wanted))
    if count < threshold or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return min(os.cpu_count() or 1, 8)


def _call(index: int) -> object:
    assert _WORK is not None
    fn, items = _WORK
    return fn(items[index])


def map_ordered(fn: Callable[[T], R], items: Sequence[T], threshold: int = 16) -> list[R]:
    """[fn(item) for item in items], on several processes when there are many items."""
    global _WORK
    jobs = _jobs(len(items), threshold)
    if jobs == 1:
        return [fn(item) for item in items]
    _WORK = (fn, items)
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(jobs, mp_context=context) as pool:
            return list(pool.map(_call, range(len(items)), chunksize=4))  # type: ignore[arg-type]
    finally:
        _WORK = None


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Python's cyclic garbage collector runs less often inside (in forked workers too),
    and as before after."""
    before = gc.get_threshold()
    gc.set_threshold(max(before[0], FEWER_COLLECTIONS), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
