"""Prometheus' arithmetic, replayed in Python on the synthetic series of generated tests.

promtool compares a firing alert's annotations exactly, and they print `$value`. To
write the expected text we compute the value the way Prometheus does, operation by
operation in IEEE doubles: series expansion (`a+bxn` adds b repeatedly), `rate()`
(extrapolatedRate), `sum` (in label order), `histogram_quantile` (bucketQuantile).

Generated tests must pass on every Prometheus users run, so what differs between
versions is a parameter (`Engine`) and the provers predict under each: a test asserts
only what every engine agrees on. The generated suites run under the real promtool of
each version in our own tests (and tests/proof/test_engines.py holds this module against
them), which keeps this honest.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, Generic, TypeVar, overload

from mcgen.promql import Matcher

T = TypeVar("T")


class _cached(Generic[T]):
    """functools.cached_property without its lock (Python 3.11 takes one on every first
    read: most of the cost of a series' properties): computed on first read, then a
    plain attribute of the instance."""

    def __init__(self, fn: Callable[[Any], T]) -> None:
        self.fn, self.name = fn, fn.__name__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> _cached[T]: ...
    @overload
    def __get__(self, obj: object, owner: type | None = None) -> T: ...
    def __get__(self, obj: object | None, owner: type | None = None) -> T | _cached[T]:
        if obj is None:
            return self
        value = obj.__dict__[self.name] = self.fn(obj)
        return value


@dataclass(frozen=True)
class Engine:
    """The behaviour of one Prometheus version where it matters to a generated test."""

    name: str
    # Since 3.0 range selectors and the instant lookback are left-open: (t - range, t].
    left_open: bool
    # Since 3.0 a regex `.` matches a newline too.
    dot_all: bool
    # extrapolatedRate caps the extrapolation towards the range start at the counter's
    # zero point and at the 1.1 x average interval threshold: 2.x in that order, 3.x
    # threshold first.
    threshold_first: bool


V2 = Engine("Prometheus 2.x", left_open=False, dot_all=False, threshold_first=False)
V3 = Engine("Prometheus 3.x", left_open=True, dot_all=True, threshold_first=True)
ENGINES = (V2, V3)


@dataclass(frozen=True)
class Series:
    """A synthetic series: `start+step x count` sampled every `interval_ms` from
    t=`offset_ms` (an offset puts the samples between rule evaluations)."""

    name: str
    labels: tuple[tuple[str, str], ...]  # sorted, without __name__
    start: float
    step: float
    count: int  # number of steps; samples = count + 1
    interval_ms: int
    # Further segments `start+step x count` (count + 1 samples each), as promtool writes
    # `0+1x10 11+0x5`: phases of a scenario.
    more: tuple[tuple[float, float, int], ...] = ()
    offset_ms: int = 0

    def values(self) -> tuple[float, ...]:
        return self._values

    @_cached
    def samples(self) -> tuple[object, ...]:
        """What the samples depend on (not the name or labels): series that agree on it
        have the same values at the same times."""
        return (self.start, self.step, self.count, self.interval_ms, self.more, self.offset_ms)

    @_cached
    def rising(self) -> bool:
        """Never falls: a counter without resets."""
        values = self._values
        return all(a <= b for a, b in zip(values, values[1:], strict=False))

    @_cached
    def _values(self) -> tuple[float, ...]:
        out = _expand(self.start, self.step, self.count)
        for start, step, count in self.more:
            out += _expand(start, step, count)
        return out

    def points(self, lo_ms: int, hi_ms: int, engine: Engine) -> list[tuple[int, float]]:
        """Samples with lo <= t <= hi (2.x) or lo < t <= hi (3.x)."""
        return _points(self.values(), self.interval_ms, self.offset_ms, lo_ms, hi_ms,
                       engine.left_open)

    @_cached
    def label_map(self) -> dict[str, str]:
        return dict(self.labels)

    def label(self, name: str) -> str:
        return self.label_map.get(name, "")

    @_cached
    def sort_key(self) -> list[tuple[str, str]]:
        return sorted([("__name__", self.name), *self.labels])

    def matches(self, name: str, matchers: Iterable[Matcher], engine: Engine = V2) -> bool:
        return self.name == name and all(m.matches(self.label(m.label), engine.dot_all)
                                         for m in matchers)


def shifted(series: Series, offset_ms: int) -> Series:
    """The series with its samples from t=`offset_ms` (itself when they already are)."""
    return series if series.offset_ms == offset_ms else replace(series, offset_ms=offset_ms)


def _points(values: Sequence[float], interval_ms: int, offset_ms: int, lo_ms: int, hi_ms: int,
            left_open: bool) -> list[tuple[int, float]]:
    lo = lo_ms - offset_ms + (1 if left_open else 0)
    first = max(0, -(-lo // interval_ms))
    last = min(len(values) - 1, (hi_ms - offset_ms) // interval_ms)
    return [(offset_ms + i * interval_ms, values[i]) for i in range(first, last + 1)]


@lru_cache(maxsize=4096)
def _expand(start: float, step: float, count: int) -> tuple[float, ...]:
    out = [start]
    value = start
    for _ in range(count):
        value += step  # promtool's parser adds repeatedly, it does not multiply
        out.append(value)
    return tuple(out)


def last_value(start: float, step: float, count: int) -> float:
    """The last value of `start+step x count` as promtool expands it."""
    return _expand(start, step, count)[-1]


LOOKBACK_MS = 300_000


def instant(series: Series, t_ms: int, engine: Engine = V2) -> float | None:
    """The value an instant selector sees at t (latest sample within the lookback)."""
    pts = series.points(t_ms - LOOKBACK_MS, t_ms, engine)
    return pts[-1][1] if pts else None


def extrapolated_rate(series: Series, t_ms: int, range_ms: int, engine: Engine = V2
                      ) -> float | None:
    """rate(series[range]) at t, as the engine's extrapolatedRate computes it."""
    if series.more:
        if not series.rising:
            return _extrapolate(series.points(t_ms - range_ms, t_ms, engine), t_ms, range_ms,
                                engine)
        # A counter that never falls has no resets to add: only the ends count.
        values, iv, offset = series.values(), series.interval_ms, series.offset_ms
        lo = t_ms - range_ms - offset + (1 if engine.left_open else 0)
        first = max(0, -(-lo // iv))
        last = min(len(values) - 1, (t_ms - offset) // iv)
        if last - first < 1:
            return None
        return _ends(offset + first * iv, values[first], offset + last * iv, last - first + 1,
                     values[last] - values[first], t_ms, range_ms, engine)
    return _rate(series.start, series.step, series.count, series.interval_ms,
                 series.offset_ms, t_ms, range_ms, engine)


def rates(series: Series, times: Sequence[int], range_ms: int, engine: Engine = V2
          ) -> list[float | None]:
    """extrapolated_rate at each of `times`, the same numbers, computed in one pass."""
    if not (series.more and series.rising):
        return [extrapolated_rate(series, t, range_ms, engine) for t in times]
    values, iv, offset = series.values(), series.interval_ms, series.offset_ms
    lo_shift = offset - (1 if engine.left_open else 0)
    top = len(values) - 1
    out: list[float | None] = []
    for t in times:
        first = max(0, -(-(t - range_ms - lo_shift) // iv))
        last = min(top, (t - offset) // iv)
        out.append(None if last - first < 1 else
                   _ends(offset + first * iv, values[first], offset + last * iv,
                         last - first + 1, values[last] - values[first], t, range_ms, engine))
    return out


@lru_cache(maxsize=65_536)
def _rate(start: float, step: float, count: int, interval_ms: int, offset_ms: int, t_ms: int,
          range_ms: int, engine: Engine) -> float | None:
    pts = _points(_expand(start, step, count), interval_ms, offset_ms, t_ms - range_ms, t_ms,
                  engine.left_open)
    return _extrapolate(pts, t_ms, range_ms, engine)


def _extrapolate(pts: Sequence[tuple[int, float]], t_ms: int, range_ms: int, engine: Engine
                 ) -> float | None:
    if len(pts) < 2:
        return None
    result = pts[-1][1] - pts[0][1]
    last = 0.0
    for _, v in pts:
        if v < last:
            result += last
        last = v
    return _ends(pts[0][0], pts[0][1], pts[-1][0], len(pts), result, t_ms, range_ms, engine)


def _ends(first_t: int, first_v: float, last_t: int, count: int, result: float, t_ms: int,
          range_ms: int, engine: Engine) -> float:
    """extrapolatedRate from the first and last samples in the range, their count, and
    the increase (resets added)."""
    range_start, range_end = t_ms - range_ms, t_ms
    duration_to_start = (first_t - range_start) / 1000
    duration_to_end = (range_end - last_t) / 1000
    sampled = (last_t - first_t) / 1000
    average = sampled / (count - 1)
    threshold = average * 1.1
    if engine.threshold_first and duration_to_start >= threshold:
        duration_to_start = average / 2
    if result > 0 and first_v >= 0:
        duration_to_zero = sampled * (first_v / result)
        if duration_to_zero < duration_to_start:
            duration_to_start = duration_to_zero
    interval = sampled
    interval += duration_to_start if duration_to_start < threshold else average / 2
    interval += duration_to_end if duration_to_end < threshold else average / 2
    factor = interval / sampled
    factor /= range_ms / 1000  # folded into the factor, as Prometheus does (it changes ulps)
    return result * factor


def ordered(series: Iterable[Series]) -> list[Series]:
    """Series in the order Prometheus iterates them (sorted by label set)."""
    return sorted(series, key=lambda s: s.sort_key)


def total(values: Sequence[float]) -> float | None:
    """`sum` of one group, accumulated in iteration order."""
    if not values:
        return None
    acc = values[0]
    for v in values[1:]:
        acc += v
    return acc


def bucket_quantile(q: float, buckets: Sequence[tuple[float, float]]) -> float:
    """histogram_quantile over (upper bound, cumulative rate) pairs (Prometheus 2.42)."""
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    bs = sorted(buckets)
    if not bs or not math.isinf(bs[-1][0]):
        return math.nan
    merged: list[list[float]] = []
    for upper, count in bs:  # coalesceBuckets
        if merged and merged[-1][0] == upper:
            merged[-1][1] += count
        else:
            merged.append([upper, count])
    top = 0.0
    for bucket in merged:  # ensureMonotonic
        if bucket[1] > top:
            top = bucket[1]
        elif bucket[1] < top:
            bucket[1] = top
    if len(merged) < 2:
        return math.nan
    observations = merged[-1][1]
    if observations == 0:
        return math.nan
    rank = q * observations
    b = next(i for i in range(len(merged) - 1 + 1) if i == len(merged) - 1 or
             merged[i][1] >= rank)
    if b == len(merged) - 1:
        return merged[-2][0]
    if b == 0 and merged[0][0] <= 0:
        return merged[0][0]
    start, end, count = 0.0, merged[b][0], merged[b][1]
    if b > 0:
        start = merged[b - 1][0]
        count -= merged[b - 1][1]
        rank -= merged[b - 1][1]
    return start + (end - start) * (rank / count)
