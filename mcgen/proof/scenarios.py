"""Synthetic situations that prove an alert: who it is about, what series, what happens.

For every alert and every "subject" (each override, and the alert's own threshold) we
choose label values that reach exactly that threshold, build realistic series (two
scraped instances, cumulative histogram buckets with _count and _sum), and replay
Prometheus' arithmetic to know when the condition becomes true and what $value is.
"""

from __future__ import annotations

import math
import re
import re._parser as sre  # type: ignore[import-not-found]  # stdlib regex parser
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace

from mcgen.errors import Position
from mcgen.promql import Matcher
from mcgen.proof.emulate import Series
from mcgen.spec.model import TARGET_LABELS, Alert, Label, Metric, Override

INSTANCES = ("host-1:8000", "host-2:8000")
HISTOGRAM_TOTAL = 1_000_000  # observations per step: integer counts interpolate finely


class Unprovable(Exception):
    """No synthetic data can show this alert's behaviour (the spec is contradictory)."""

    def __init__(self, message: str, pos: Position | None = None) -> None:
        super().__init__(message)
        self.pos = pos


MAX_EXAMPLES = 8


def examples_for(regex: str) -> list[str]:
    """A few different strings `regex` fully matches: one per branch of an alternation
    and per member of a character class (the parser folds `401|403` into `40[13]`)."""
    try:
        parsed = sre.parse(regex)
    except re.error:
        return []

    def build(items: Sequence[tuple[object, object]]) -> list[str]:
        out = [""]
        for op, av in items:
            name = str(op)
            if name == "LITERAL":
                options = [chr(av)]  # type: ignore[arg-type]
            elif name == "NOT_LITERAL":
                options = ["a" if av != ord("a") else "b"]
            elif name == "ANY":
                options = ["x"]
            elif name == "IN":
                options = _from_class(av)  # type: ignore[arg-type]
            elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
                low: int = av[0]  # type: ignore[index]
                body: Sequence[tuple[object, object]] = av[2]  # type: ignore[index]
                options = [text * max(low, 0) for text in build(body)]
            elif name == "SUBPATTERN":
                options = build(av[-1])  # type: ignore[index]
            elif name == "BRANCH":
                options = [t for branch in av[1] for t in build(branch)]  # type: ignore[index]
            elif name == "AT":
                continue
            else:
                raise ValueError(name)
            out = [head + tail for head in out for tail in options][:MAX_EXAMPLES]
        return out

    try:
        texts = build(list(parsed))
    except (ValueError, TypeError):
        return []
    return [t for t in dict.fromkeys(texts) if re.fullmatch(regex, t)]


def _from_class(items: Sequence[tuple[object, object]]) -> list[str]:
    out = []
    for op, av in items:
        name = str(op)
        if name == "LITERAL":
            out.append(chr(av))  # type: ignore[arg-type]
        elif name == "RANGE":
            out.append(chr(av[0]))  # type: ignore[index]
        elif name == "CATEGORY":
            out.append({"CATEGORY_DIGIT": "0", "CATEGORY_SPACE": " "}.get(str(av), "a"))
    return out[:MAX_EXAMPLES] or ["a"]


def _candidates(name: str, values: tuple[str, ...] | None, matchers: Sequence[Matcher]
                ) -> list[str]:
    if values is not None:
        return [v for v in values if v]
    found = []
    for m in matchers:
        if m.label != name:
            continue
        if m.op in ("=", "!="):  # `!=x` offers x for the series that must not match
            found.append(m.value)
        else:
            found.extend(examples_for(m.value))
    # An empty value is no label at all to Prometheus; never pick it for a series.
    return [v for v in dict.fromkeys([*found, "example", "example-2"]) if v]


def view(metric: Metric, matchers: Iterable[Matcher], by: Iterable[str] = ()) -> Metric:
    """The metric as synthetic series see it: its declared labels plus, as unbounded
    labels, the target labels that `matchers`, its selector or `by` name (so the series
    carry them, with values the matchers accept). `job` and `instance` only when a
    matcher names them: otherwise every series gets them anyway."""
    named = {m.label for m in (*matchers, *metric.selector)}
    extra = (named | set(by)) - set(metric.label_names) - (set(TARGET_LABELS) - named)
    if not extra:
        return metric
    return replace(metric, labels=(*metric.labels, *(Label(n, None) for n in sorted(extra))))


def label_choices(metric: Metric, by: Sequence[str], want: Sequence[Matcher],
                  avoid: Sequence[Sequence[Matcher]], limit: int = 1,
                  vary: Sequence[str] = ()) -> list[dict[str, str]]:
    """Up to `limit` label sets (distinct in their `by` values) of the metric's declared
    labels that meet every `want` matcher and no whole group of `avoid`.

    `want` constrains each label on its own, so values are filtered label by label; only
    the labels that `avoid` groups mention need a search (small: overrides are few)."""
    every = [*want, *(m for group in avoid for m in group)]
    pools: dict[str, list[str]] = {}
    for lb in metric.labels:
        mine = [m for m in want if m.label == lb.name]
        pools[lb.name] = [v for v in _candidates(lb.name, lb.values, every)
                          if all(m.matches(v) for m in mine)]
        if not pools[lb.name] and lb.values is None and all(m.matches("") for m in mine):
            pools[lb.name] = [""]  # the matchers want the label absent (`label: ""`)
        if not pools[lb.name]:
            return []
        # A test asserts only what every engine agrees on: no value a regex `.` would
        # match on Prometheus 3.x but not on 2.x.
        pools[lb.name] = [v for v in pools[lb.name]
                          if all(m.engines_agree(v) for m in every if m.label == lb.name)]
        if not pools[lb.name]:
            raise Unprovable(f"every value of '{lb.name}' that 'select' admits holds a "
                             "newline, which a regex '.' matches on Prometheus 3.x but not "
                             "on 2.x")
    searched = sorted(({m.label for group in avoid for m in group} | set(vary)) & set(pools),
                      key=lambda name: (name not in by, name))
    free = {name: pool[0] for name, pool in pools.items() if name not in searched}
    found: list[dict[str, str]] = []
    seen: set[tuple[str, ...]] = set()
    budget = [50_000]

    def blocked(labels: dict[str, str]) -> bool:
        return any(all(m.label in labels and m.matches(labels[m.label]) for m in group)
                   for group in avoid if all(m.label in labels for m in group))

    def search(i: int, labels: dict[str, str]) -> None:
        budget[0] -= 1
        if len(found) >= limit or budget[0] < 0 or blocked(labels):
            return
        if i == len(searched):
            full = {**free, **labels}
            key = tuple(full.get(b, "") for b in by)
            if key not in seen:
                seen.add(key)
                found.append(full)
            return
        name = searched[i]
        for value in pools[name]:
            search(i + 1, {**labels, name: value})

    search(0, {})
    if not found and budget[0] < 0:
        raise Unprovable("too many label combinations to search for a test series")
    for labels in found:
        for target in TARGET_LABELS:
            if target in by and target not in labels:
                labels[target] = INSTANCES[0] if target == "instance" else "mcgen-test"
    return found


def pick_labels(metric: Metric, by: Sequence[str], want: Sequence[Matcher],
                avoid: Sequence[Sequence[Matcher]]) -> dict[str, str] | None:
    """The first label set `label_choices` finds, or None."""
    found = label_choices(metric, by, want, avoid)
    return found[0] if found else None


@dataclass(frozen=True)
class Subject:
    """The series an alert judges against one threshold (an override's or its own)."""

    labels: dict[str, str]
    threshold: float
    override: Override | None

    def describe(self, alert: Alert) -> str:
        shown = ", ".join(f"{k}={self.labels[k]}" for k in alert.by if k in self.labels)
        return f" ({shown})" if shown else ""


PER_THRESHOLD = 4  # label sets tested per threshold (each value of a list override...)


def subjects(alert: Alert, metric: Metric, also: Sequence[Matcher] = ()
             ) -> Iterator[Subject]:
    """Subjects for every override (first match wins) and for the alert's own threshold:
    up to PER_THRESHOLD different label sets each, so that every value of a list is
    tried. `also` narrows every subject (e.g. to `by` values a denominator allows)."""
    earlier: list[Sequence[Matcher]] = []
    for i, o in enumerate(alert.overrides):
        found = label_choices(metric, alert.by, (*alert.select, *also, *o.match), earlier,
                              PER_THRESHOLD, [m.label for m in o.match])
        if not found:
            raise Unprovable(f"override {i + 1} applies to no series: 'select' or earlier "
                             "overrides take every value it matches", o.pos)
        yield from (Subject(labels, o.threshold, o) for labels in found)
        earlier.append(o.match)
    found = label_choices(metric, alert.by, (*alert.select, *also), earlier, PER_THRESHOLD,
                          [m.label for group in earlier for m in group])
    if not found and not alert.overrides:
        raise Unprovable("no label values satisfy 'select'")
    # With overrides covering every selected series, the alert's own threshold applies
    # to none of them: there is nothing to test.
    yield from (Subject(labels, alert.threshold or 0.0, None) for labels in found)


def outsiders(metric: Metric, by: Sequence[str], want: Sequence[Matcher]
              ) -> list[dict[str, str]]:
    """Label sets of another job's series of `metric`: `want` holds and exactly one
    matcher of the metric's selector fails, one set per matcher, so that a rule that
    lost any one of them reads a series it must not."""
    out: list[dict[str, str]] = []
    for broken in metric.selector:
        kept = [m for m in metric.selector if m is not broken]
        seen = view(metric, [*want, *metric.selector], by)
        found = pick_labels(seen, by, [*want, *kept], [[broken]])
        if found is not None and found not in out:
            out.append(found)
    return out


def with_target(labels: dict[str, str], instance: str, service: str
                ) -> tuple[tuple[str, str], ...]:
    """A series' labels as scraped: `job` (the service, unless chosen) and `instance`;
    an empty value is no label at all."""
    full = {"job": service, **labels, "instance": labels.get("instance", instance)}
    return tuple(sorted((k, v) for k, v in full.items() if v))


@dataclass(frozen=True)
class Timing:
    step_ms: int  # sample interval of the synthetic series
    eval_ms: int  # rule evaluation interval


def histogram_counts(q: float, buckets: Sequence[float], v: float, up: bool) -> list[int]:
    """Per-step observations in each bucket (last: above the largest) whose q-quantile
    estimate is close to v, rounded so that it lands above v when `up`, else below."""
    n = HISTOGRAM_TOTAL
    bounds = [0.0, *buckets]
    i = next(k for k in range(1, len(bounds)) if v <= bounds[k])
    lower, upper = bounds[i - 1], bounds[i]
    frac = (v - lower) / (upper - lower)
    counts = [0] * (len(buckets) + 1)
    if frac <= q and i > 1:
        # Fewer observations below the bucket push the estimate up.
        exact = n * (q - frac) / (1 - frac)
        below = math.floor(exact) if up else math.ceil(exact)
        counts[i - 2], counts[i - 1] = below, n - below
    else:
        # Fewer observations inside it push the estimate up.
        exact = q * n / frac
        inside = min(n, math.floor(exact) if up else math.ceil(exact))
        counts[i - 1] = inside
        counts[min(i, len(buckets))] += n - inside
    return counts


def histogram_series(metric: Metric, labels: dict[str, str], service: str, counts: list[int],
                     steps: int, timing: Timing, instances: Sequence[str]) -> list[Series]:
    out = []
    mids = [(lo + hi) / 2 for lo, hi in zip((0.0, *metric.buckets), metric.buckets,
                                            strict=False)] + [metric.buckets[-1] * 1.5]
    total_sum = round(sum(c * m for c, m in zip(counts, mids, strict=True)), 6)
    for inst in instances:
        base = with_target(labels, inst, service)
        cumulative = 0
        for bound, count in zip([*metric.buckets, math.inf], counts, strict=True):
            cumulative += count
            le = le_text(bound)
            out.append(Series(f"{metric.name}_bucket", tuple(sorted((*base, ("le", le)))),
                              0.0, float(cumulative), steps, timing.step_ms))
        out.append(Series(f"{metric.name}_count", base, 0.0, float(sum(counts)), steps,
                          timing.step_ms))
        out.append(Series(f"{metric.name}_sum", base, 0.0, total_sum, steps, timing.step_ms))
    return out


def le_text(bound: float) -> str:
    """How the Python client writes a bound (the Go client would drop the .0)."""
    return "+Inf" if math.isinf(bound) else repr(float(bound))


def counter_series(name: str, labels: dict[str, str], service: str, per_second: float,
                   steps: int, timing: Timing, instances: Sequence[str]) -> list[Series]:
    step = per_second * timing.step_ms / 1000 / len(instances)
    return [Series(name, with_target(labels, inst, service), 0.0, step, steps, timing.step_ms)
            for inst in instances]


def gauge_series(name: str, labels: dict[str, str], service: str, starts: Sequence[float],
                 step: float, steps: int, timing: Timing, instances: Sequence[str]
                 ) -> list[Series]:
    """One series per instance; instance i starts at starts[i] (or the last one given)."""
    return [Series(name, with_target(labels, inst, service), starts[min(i, len(starts) - 1)],
                   step, steps, timing.step_ms) for i, inst in enumerate(instances)]


def rescale(s: Series, per_step: float) -> Series:
    """A histogram series whose every observation lands in the first bucket, scaled."""
    if s.name.endswith("_sum"):
        return s
    factor = per_step if s.step else 0.0
    return Series(s.name, s.labels, 0.0, factor, s.count, s.interval_ms)
