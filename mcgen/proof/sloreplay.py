"""The recorded SLO series over a scenario, replayed: every rule evaluation of the SLO's
recording rules and burn-rate alerts recomputed from the synthetic samples, with the rate
arithmetic of each Prometheus version (emulate.py) and then the SLO formulas. It gives
sloprover.py both the alerts to expect and the exact values of the recorded series."""

from __future__ import annotations

from collections.abc import Sequence

from mcgen import promql
from mcgen.promql import Duration, Matcher, burnrate
from mcgen.promql.burnrate import BASE_WINDOW, DIRECT_UP_TO, Condition
from mcgen.proof import emulate
from mcgen.proof.emulate import V2, Engine, Series
from mcgen.proof.scenarios import Unprovable
from mcgen.spec.model import Slo


class Replay:
    """The recorded SLO series over a scenario, evaluation by evaluation, as `engine`
    computes them."""

    def __init__(self, slo: Slo, series: Sequence[Series], eval_ms: int, end_ms: int,
                 engine: Engine = V2) -> None:
        self.slo, self.series, self.eval_ms, self.engine = slo, series, eval_ms, engine
        self.times = list(range(0, end_ms + 1, eval_ms))
        self._ordered = emulate.ordered(series)
        # The series each selector picks, in iteration order, and their samples (what
        # their sums depend on): chosen once per replay, not at each of its evaluations.
        self._picked: dict[tuple[str, tuple[Matcher, ...]], tuple[list[Series], _Key]] = {}
        self._totals: dict[tuple[int, int], float | None] = {}  # a latency SLI's errors reuse
        self._index = {t: i for i, t in enumerate(self.times)}
        self._grid = (eval_ms, end_ms, engine)
        total = self._base(*self._total_selector())
        if slo.error is not None:
            errors = self._base(slo.error.metric, slo.error.matchers)
        else:
            good = self._base(*self._good_selector())
            errors = [None if t is None else t - (0.0 if g is None else g)
                      for t, g in zip(total, good, strict=True)]
        self.errors5m = [0.0 if e is None else e for e in errors]
        self.total5m = [0.0 if t is None else t for t in total]

    def _total_selector(self) -> tuple[str, tuple[Matcher, ...]]:
        slo = self.slo
        name = slo.total.metric if slo.sli == "events" else f"{slo.total.metric}_count"
        return name, tuple(slo.total.matchers)

    def _good_selector(self) -> tuple[str, tuple[Matcher, ...]]:
        slo = self.slo
        return (f"{slo.total.metric}_bucket",
                (*slo.total.matchers, promql.le_matcher(slo.bound or 0.0)))

    def _pick(self, name: str, matchers: Sequence[Matcher]) -> tuple[list[Series], _Key]:
        key = (name, tuple(matchers))
        found = self._picked.get(key)
        if found is None:
            picked = [s for s in self._ordered if s.matches(name, matchers, self.engine)]
            found = self._picked[key] = (picked, tuple(s.samples for s in picked))
        return found

    def _base(self, name: str, matchers: Sequence[Matcher]) -> list[float | None]:
        """The sum of the picked series' 5m rates at every evaluation: the same for every
        replay whose picked series hold the same samples (cases and services share
        scenarios), so worked out once per process."""
        picked, samples = self._pick(name, matchers)
        key = (samples, self._grid)
        found = _BASE_SUMS.get(key)
        if found is None:
            columns = [emulate.rates(s, self.times, BASE_WINDOW.ms, self.engine)
                       for s in picked]
            found = [emulate.total([r for r in row if r is not None])
                     for row in zip(*columns, strict=True)] if columns else \
                [None] * len(self.times)
            _BASE_SUMS[key] = _bounded(found)
        return found

    def _sum_rate(self, name: str, matchers: Sequence[Matcher], t: int, w: Duration
                  ) -> float | None:
        picked, samples = self._pick(name, matchers)
        key = (samples, t, w.ms, self.engine)
        if key in _SUMS:
            return _SUMS[key]
        rates = [r for s in picked
                 if (r := emulate.extrapolated_rate(s, t, w.ms, self.engine)) is not None]
        found = _SUMS[key] = emulate.total(rates)
        if len(_SUMS) > _MAX_ENTRIES:
            _SUMS.clear()
        return found

    def total(self, t: int, w: Duration) -> float | None:
        key = (t, w.ms)
        if key not in self._totals:
            self._totals[key] = self._sum_rate(*self._total_selector(), t, w)
        return self._totals[key]

    def errors(self, t: int, w: Duration) -> float | None:
        slo = self.slo
        if slo.error is not None:
            return self._sum_rate(slo.error.metric, slo.error.matchers, t, w)
        total = self.total(t, w)
        good = self._sum_rate(*self._good_selector(), t, w)
        return None if total is None else total - (0.0 if good is None else good)

    def at(self, t: int) -> int:
        return self._index[t]

    def ratio(self, t: int, w: Duration) -> float:
        i = self.at(t)
        if w == BASE_WINDOW:
            errors, total = self.errors5m[i], self.total5m[i]
        elif w <= DIRECT_UP_TO:
            errors, total = self.errors(t, w), self.total(t, w)  # type: ignore[assignment]
        else:
            span = self.span(t, w)
            errors = emulate.total([self.errors5m[j] for j in span]) or 0.0
            total = emulate.total([self.total5m[j] for j in span]) or 0.0
        if total is None or not total > 0 or errors is None:
            return 0.0
        return errors / total

    def traffic(self, t: int, w: Duration) -> float:
        """avg_over_time of the recorded 5m event rate over `w`."""
        span = [self.total5m[j] for j in self.span(t, w)]
        return (emulate.total(span) or 0.0) / len(span)

    def span(self, t: int, w: Duration) -> list[int]:
        """The evaluations a `[w]` range over a recorded series sees at t."""
        lo = t - w.ms
        return [j for j, u in enumerate(self.times)
                if (lo < u if self.engine.left_open else lo <= u) and u <= t]

    def burning(self, t: int, cond: Condition) -> bool:
        limit = cond.factor(self.slo.period) * burnrate.budget(self.slo.objective)
        for w in (cond.long, cond.short):
            value = self.ratio(t, w)
            _clear(value, limit, f"the {w} error ratio")
            if not value > limit:
                return False
        if self.slo.min_traffic is not None:
            seen = self.traffic(t, cond.long)
            _clear(seen, self.slo.min_traffic, "the traffic")
            return seen >= self.slo.min_traffic
        return True

    def firing(self, t: int) -> list[str]:
        return [a.kind for a in self.slo.alerts
                if any(self.burning(t, c) for c in burnrate.conditions(a.kind))]


_Key = tuple[object, ...]
_MAX_ENTRIES = 65_536
_BASE_SUMS: dict[_Key, list[float | None]] = {}
_SUMS: dict[_Key, float | None] = {}


def _bounded(found: list[float | None]) -> list[float | None]:
    if len(_BASE_SUMS) > _MAX_ENTRIES // 16:
        _BASE_SUMS.clear()
    return found


def _clear(value: float, limit: float, what: str) -> None:
    """A scenario must not sit on a threshold: which side it falls on would be luck."""
    if limit and abs(value - limit) <= abs(limit) * 1e-6:
        raise Unprovable(f"{what} {value:g} is too close to {limit:g} to test")
