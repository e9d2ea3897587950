"""mcgen/parallel.py: results in input order whichever way they run, and the garbage
collector's thresholds raised only inside fewer_collections()."""

from __future__ import annotations

import gc

import pytest

from mcgen import parallel


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_map_ordered_keeps_input_order(monkeypatch: pytest.MonkeyPatch, jobs: str) -> None:
    monkeypatch.setenv("MCGEN_JOBS", jobs)
    items = list(range(40))
    assert parallel.map_ordered(_square, items, threshold=1) == [i * i for i in items]


def _square(i: int) -> int:
    return i * i


def test_fewer_collections_raises_the_threshold_inside_and_restores_it() -> None:
    before = gc.get_threshold()
    gc.set_threshold(700, before[1], before[2])
    try:
        with parallel.fewer_collections():
            inside = gc.get_threshold()
        assert inside == (parallel.FEWER_COLLECTIONS, before[1], before[2])
        assert gc.get_threshold() == (700, before[1], before[2])
        with pytest.raises(RuntimeError), parallel.fewer_collections():
            raise RuntimeError("restored on the way out too")
        assert gc.get_threshold() == (700, before[1], before[2])
    finally:
        gc.set_threshold(*before)


def test_fewer_collections_never_lowers_a_higher_threshold() -> None:
    before = gc.get_threshold()
    gc.set_threshold(10 * parallel.FEWER_COLLECTIONS, before[1], before[2])
    try:
        with parallel.fewer_collections():
            assert gc.get_threshold()[0] == 10 * parallel.FEWER_COLLECTIONS
    finally:
        gc.set_threshold(*before)
