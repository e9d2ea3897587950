"""One alert's synthetic situations, shared by its prover (prover.py) and its decoys
(decoys.py): series sampled as Prometheus would scrape them, what the alert sees in them
on each engine (replaying Prometheus' arithmetic, emulate.py), and the values just past
and just short of each threshold.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from mcgen import promql
from mcgen.promql import Matcher
from mcgen.proof import emulate, scenarios
from mcgen.proof.emulate import ENGINES, V2, Engine, Series
from mcgen.proof.scenarios import Subject, Timing, Unprovable
from mcgen.rules.queries import RateInput, inputs
from mcgen.spec import bounds
from mcgen.spec.model import Alert, Metric, Model, Service

# Margins of the synthetic values past and short of a threshold: 1%, unless $value would
# print differently on the engines at that value (then the next one).
MARGINS = (0.01, 0.0103, 0.0107)


class Synthetic:
    """One alert's test series: its metric as they show it, their timing and instances."""

    def __init__(self, svc: Service, model: Model, metric: Metric, alert: Alert) -> None:
        self.svc, self.model, self.alert = svc, model, alert
        # Synthetic series carry the target labels the alert's matchers and selector name.
        self.metric = scenarios.view(
            metric, (*alert.select, *(m for o in alert.overrides for m in o.match),
                     *self.denominator_values()), alert.by)
        eval_ms = svc.interval.ms if svc.interval else 60_000
        step = svc.scrape_interval.ms  # series sampled as Prometheus would scrape them
        self.timing = Timing(step_ms=step, eval_ms=eval_ms)
        # One instance where a matcher may pin `instance` (series of two instances would
        # then be one series, twice).
        pinned = {m.label for m in (*alert.select, *alert.ratio_select, *alert.ratio_selector,
                                    *metric.selector, *(m for o in alert.overrides
                                                        for m in o.match))}
        self.instances = scenarios.INSTANCES[:1] if "instance" in {*alert.by, *pinned} \
            else scenarios.INSTANCES
        # Long enough for the slowest start (a rate warming up over its window) plus `for`.
        horizon = bounds.horizon_ms(alert, eval_ms)  # validation bounds it
        self.steps = math.ceil(horizon / step) + 1
        self.end_ms = (self.steps * step) // eval_ms * eval_ms
        self.inputs = inputs(alert, metric)

    # -- what the alert sees ---------------------------------------------------------
    def observe(self, series: Sequence[Series], t: int, engine: Engine = V2) -> float | None:
        a, m = self.alert, self.metric
        w = a.window.ms
        if a.kind == "quantile" and m.type == "histogram":
            (bucket,) = self.inputs
            groups = _recorded(series, bucket, t, w, engine)
            rates = [(math.inf if k[-1] == "+Inf" else float(k[-1]), v) for k, v in groups]
            return emulate.bucket_quantile(a.quantile or 0, rates) if rates else None
        if a.kind == "ratio" and m.type == "gauge":
            num = _gauge_sum(series, m.name, (*a.select, *m.selector), t, engine)
            den = _gauge_sum(series, a.ratio_metric or "", (*a.ratio_select, *a.ratio_selector),
                             t, engine)
            return None if num is None or den is None else _divide(num, den)
        if a.kind in ("rate", "ratio"):
            values = []
            for part in self.inputs:
                groups = _recorded(series, part, t, w, engine)
                values.append(emulate.total([v for _, v in groups]))
            if any(v is None for v in values):
                return None
            return values[0] if len(values) == 1 else _divide(values[0] or 0.0, values[1] or 0.0)
        if a.kind == "absent":
            name = m.name if m.type in ("counter", "gauge") else f"{m.name}_count"
            seen = [s for s in series if s.matches(name, (*a.select, *m.selector), engine)
                    and emulate.instant(s, t, engine) is not None]
            return None if seen else 1.0
        wanted = [*a.select, *m.selector]
        if a.kind == "quantile":
            wanted.append(Matcher("quantile", "=", promql.number(a.quantile or 0)))
        values = [v for s in series if s.matches(m.name, wanted, engine)
                  and (v := emulate.instant(s, t, engine)) is not None]
        if not values:
            return None
        present = [v for v in values if v is not None]
        if a.kind == "stale":
            return t / 1000 - max(present)
        return min(present) if a.kind == "value" and a.op == "<" else max(present)

    def verdict(self, series: Sequence[Series], t: int, threshold: float) -> bool:
        """Whether the alert condition holds at t: the same on every engine, or the
        situation cannot be a test."""
        seen = {self.holds(self.observe(series, t, e), threshold) for e in ENGINES}
        if len(seen) > 1:
            raise Unprovable(f"Prometheus 2.x and 3.x judge the synthetic series "
                             f"differently at {promql.Duration(t)}")
        return seen.pop()

    def holds(self, value: float | None, threshold: float) -> bool:
        if value is None or math.isnan(value):
            return False
        if self.alert.kind == "absent":
            return True
        if self.alert.kind == "stale":
            return value > (self.alert.stale_after or promql.Duration(0)).seconds
        return value > threshold if self.alert.op == ">" else value < threshold

    # -- synthetic data -----------------------------------------------------------------
    def series_for(self, subject: Subject, target: float, partner: float | None = None
                   ) -> list[Series]:
        """Series whose alerted quantity is `target`. For max/min kinds the second
        instance holds `partner`, a less extreme value, so max, min and avg differ."""
        a, m, t = self.alert, self.metric, self.timing
        svc, n, inst = self.svc.name, self.steps, self.instances
        starts = [target] if partner is None or len(inst) < 2 else [target, partner]
        if a.kind == "quantile" and m.type == "histogram":
            counts = scenarios.histogram_counts(a.quantile or 0, m.buckets, target,
                                                up=target > subject.threshold)
            return scenarios.histogram_series(m, subject.labels, svc, counts, n, t, inst)
        if a.kind == "rate" and m.type == "histogram":
            counts = [0] * (len(m.buckets) + 1)
            counts[0] = 1
            per_step = target * t.step_ms / 1000 / len(inst)
            series = scenarios.histogram_series(m, subject.labels, svc, counts, n, t, inst)
            return [scenarios.rescale(s, per_step) for s in series]
        if a.kind == "rate":
            return scenarios.counter_series(m.name, subject.labels, svc, target, n, t, inst)
        if a.kind == "ratio":
            return self.ratio_series(subject, target)
        if a.kind == "stale":
            return scenarios.gauge_series(m.name, subject.labels, svc, [-s for s in starts],
                                          t.step_ms / 1000, n, t, inst)
        if a.kind == "quantile":
            out = []
            for q in m.quantiles:
                labels = {**subject.labels, "quantile": promql.number(q)}
                out += scenarios.gauge_series(m.name, labels, svc, starts, 0.0, n, t, inst)
            out += scenarios.counter_series(f"{m.name}_count", subject.labels, svc, 1.0, n, t,
                                            inst)
            return out
        return scenarios.gauge_series(m.name, subject.labels, svc, starts, 0.0, n, t, inst)

    def partner(self, target: float, spread: float) -> float | None:
        """A second instance's value that max (or min) must ignore: further from firing."""
        a = self.alert
        if a.kind == "stale":
            return target + 2 * spread  # an older timestamp; max keeps the newer one
        if a.kind in ("value", "quantile") and not (a.kind == "quantile"
                                                    and self.metric.type == "histogram"):
            return target - 2 * spread if a.op != "<" or a.kind == "quantile" else \
                target + 2 * spread
        return None

    def ratio_series(self, subject: Subject, ratio: float, volume: float = 1.0,
                     outside: bool = False) -> list[Series]:
        """Numerator and denominator series giving `ratio`, the numerator at `volume`
        events/s. `outside`: the denominator's series are another job's too (outside
        the ratio_to metric's selector), for decoys."""
        a, m = self.alert, self.metric
        den_metric = scenarios.view(self.svc.metric(a.ratio_metric or ""),
                                    (*a.ratio_select, *a.ratio_selector), a.by)
        svc, n, t, inst = self.svc.name, self.steps, self.timing, self.instances
        if den_metric.name == m.name:
            # Numerator and other series of one counter are summed together: with one
            # instance each sum has two terms, which add up the same in any order
            # (promtool's series order is random; three unequal terms would not).
            inst = inst[:1]
        num_rate = volume if ratio > 0 else 0.0
        made = scenarios.counter_series if m.type == "counter" else _gauges
        num = made(m.name, subject.labels, svc, num_rate, n, t, inst)
        shared = num[0].matches(den_metric.name, (*a.ratio_select, *a.ratio_selector))
        avoid = [list(a.select)] if den_metric.name == m.name else []
        declared = set(den_metric.label_names)
        by_values = [Matcher(k, "=", subject.labels[k]) for k in a.by
                     if k in subject.labels and k in declared]
        scope = [] if outside else list(a.ratio_selector)
        if outside:
            avoid.append(list(a.ratio_selector))
        other = scenarios.pick_labels(den_metric, a.by, [*a.ratio_select, *scope, *by_values],
                                      avoid)
        if ratio == 0:
            rest = volume
        elif shared:
            rest = num_rate * (1 - ratio) / ratio
        else:
            rest = num_rate / ratio
        if shared and rest == 0:
            return num
        if other is None or rest < 0:
            raise Unprovable(f"cannot build a denominator series giving ratio {ratio:g}")
        for key in ("instance", "job"):
            if key in subject.labels and (key in a.by or key not in den_metric.label_names):
                other[key] = subject.labels[key]
        return num + made(den_metric.name, other, svc, rest, n, t, inst)

    # -- values past and short of a threshold ------------------------------------------
    def targets(self, threshold: float, margin: float = MARGINS[0]) -> tuple[float, float]:
        """(fires, stays quiet): values just past and just short of the threshold."""
        a, m = self.alert, self.metric
        up = a.op != "<"
        if a.kind == "stale":
            s = (a.stale_after or promql.Duration(0)).seconds
            step = self.timing.step_ms / 1000
            d = step if s >= 2 * step else s / 2  # one scrape late or early
            return s + d, s - d
        if a.kind == "quantile" and m.type == "histogram":
            return _quantile_targets(a.quantile or 0, m.buckets, threshold, up, margin)
        # The emulation is exact, so the margin can be narrow: a mistyped threshold fails.
        d = abs(threshold) * margin if threshold else (100 * margin if a.kind == "value"
                                                       else 5 * margin)
        fire, quiet = (threshold + d, threshold - d) if up else (threshold - d, threshold + d)
        if a.kind == "rate" or (a.kind == "ratio" and m.type == "counter"):
            fire, quiet = max(fire, 0.0), max(quiet, 0.0)
        if a.kind == "ratio" and a.ratio_metric == m.name and threshold < 1:
            # A part of the same counter: the ratio cannot exceed 1.
            fire, quiet = min(fire, (threshold + 1) / 2), min(quiet, (threshold + 1) / 2)
        return fire, quiet

    def present_series(self, subject: Subject) -> list[Series]:
        m, t = self.metric, self.timing
        if m.type == "counter":
            return scenarios.counter_series(m.name, subject.labels, self.svc.name, 1.0,
                                            self.steps, t, self.instances)
        if m.type == "gauge":
            return scenarios.gauge_series(m.name, subject.labels, self.svc.name, [1.0], 0.0,
                                          self.steps, t, self.instances)
        return scenarios.counter_series(f"{m.name}_count", subject.labels, self.svc.name, 1.0,
                                        self.steps, t, self.instances)

    def denominator_values(self) -> list[Matcher]:
        """A ratio's series exist only for `by` values both counters allow (and, for a
        target label, the denominator's selector)."""
        a = self.alert
        if a.kind != "ratio":
            return []
        den = self.svc.metric(a.ratio_metric or "")
        return [*(Matcher.from_spec(lb.name, list(lb.values)) for lb in den.labels
                  if lb.name in a.by and lb.values is not None),
                *(m for m in a.ratio_selector if m.label in a.by)]



def _gauges(name: str, labels: dict[str, str], service: str, total: float, steps: int,
            timing: Timing, instances: Sequence[str]) -> list[Series]:
    """Steady gauges whose values add up to `total` over the instances (the counterpart
    of `counter_series` for a ratio of gauges: what the rate is to a counter)."""
    return scenarios.gauge_series(name, labels, service, [total / len(instances)], 0.0, steps,
                                  timing, instances)


def _gauge_sum(series: Sequence[Series], name: str, selector: tuple[Matcher, ...], t: int,
               engine: Engine) -> float | None:
    """`sum(name{selector})` at t, in Prometheus' order, or None with no series."""
    return emulate.total([v for s in _selected(series, name, selector, engine)
                          if (v := emulate.instant(s, t, engine)) is not None])


def _divide(a: float, b: float) -> float:
    if b == 0:
        return math.nan if a == 0 else math.copysign(math.inf, a)
    return a / b


_SELECTED: dict[tuple[object, ...], tuple[Sequence[Series], list[Series]]] = {}


def _selected(series: Sequence[Series], name: str, selector: tuple[Matcher, ...],
              engine: Engine) -> list[Series]:
    """The series a selector picks, in Prometheus' order: asked at every evaluation of a
    case, chosen once. (Each entry keeps its series alive, so their ids stay theirs.)"""
    key = (tuple(map(id, series)), name, selector, engine)
    found = _SELECTED.get(key)
    if found is None:
        if len(_SELECTED) > 4096:
            _SELECTED.clear()
        found = (tuple(series), emulate.ordered(x for x in series
                                                if x.matches(name, selector, engine)))
        _SELECTED[key] = found
    return found[1]


def _recorded(series: Sequence[Series], rate: RateInput, t: int, window_ms: int,
              engine: Engine
              ) -> list[tuple[tuple[str, ...], float]]:
    """The recording rule `sum by (level) (rate(name{selector}[w]))`, filtered by the
    alert's `select`, in the order Prometheus iterates the recorded series."""
    out = []
    for key, members in _groups(series, rate, engine):
        values = [r for s in members
                  if (r := emulate.extrapolated_rate(s, t, window_ms, engine)) is not None]
        if values:
            out.append((key, emulate.total(values) or 0.0))
    return out


_Group = tuple[tuple[str, ...], list[Series]]
_GROUPS: dict[tuple[object, ...], tuple[Sequence[Series], list[_Group]]] = {}


def _groups(series: Sequence[Series], rate: RateInput, engine: Engine) -> list[_Group]:
    """The groups of `sum by (level)` that the alert's `select` keeps, each with its
    series, in the order Prometheus iterates the recorded series: the same at every
    evaluation of a case (a group without a rate at one is left out then), so chosen once."""
    key = (tuple(map(id, series)), rate.series, rate.selector, rate.level, rate.select,
           engine)
    found = _GROUPS.get(key)
    if found is None:
        if len(_GROUPS) > 4096:
            _GROUPS.clear()
        level = rate.level
        groups: dict[tuple[str, ...], list[Series]] = {}
        for s in _selected(series, rate.series, tuple(rate.selector), engine):
            groups.setdefault(tuple(s.label(lb) for lb in level), []).append(s)
        rows = []
        for values, members in groups.items():
            labels = dict(zip(level, values, strict=True))
            if all(m.matches(labels.get(m.label, ""), engine.dot_all) for m in rate.select):
                rows.append((sorted((k, v) for k, v in labels.items() if v), values, members))
        rows.sort(key=lambda row: row[0])
        found = _GROUPS[key] = (tuple(series), [(values, members) for _, values, members in rows])
    return found[1]


def _quantile_targets(q: float, buckets: Sequence[float], t: float, up: bool, margin: float
                      ) -> tuple[float, float]:
    bounds = [0.0, *buckets]
    i = next(k for k in range(1, len(bounds)) if t <= bounds[k])
    width = bounds[i] - bounds[i - 1]
    if t == bounds[i] and i + 1 < len(bounds):
        width = min(width, bounds[i + 1] - bounds[i])
    low, high = q * buckets[0], buckets[-1]
    over = t + min(width * margin, (high - t) / 2)
    under = t - min(width * margin, (t - low) / 2)
    return (over, under) if up else (under, over)
