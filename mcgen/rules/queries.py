"""The PromQL of every generated rule, composed from mcgen.promql's quoting primitives.

Rate-based alerts read recorded series (`level:metric:rateW`), recorded at the level of
the alert's `by` labels plus the labels its selectors filter on, so that one recording
serves every alert and dashboard panel that needs the same rate.

A metric's `selector` (SPEC 1) is applied here, once: every raw series selector of a
metric that rules, tests, dashboards and docs write comes from `scoped`/`raw`/`raw_rate`
or from a `RateInput`, which put the selector's matchers into it. A recording made under
a selector carries the `service` label (another service may record the same metric name
under its own selector), and reading it filters on that label.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from mcgen import promql
from mcgen.promql import Duration, Matcher
from mcgen.spec.model import SERVICE_LABEL, Alert, Metric, Override


def scoped(metric: Metric, matchers: Iterable[Matcher] = ()) -> tuple[Matcher, ...]:
    """The matchers of a raw selector of `metric`: `matchers` and the metric's selector."""
    return (*matchers, *metric.selector)


def grouping(metric: Metric) -> tuple[str, ...]:
    """The labels an overview (on the dashboard, in the catalog) splits series by: the
    bounded ones (an unbounded label is filtered by its variable, not drawn as one line
    per value)."""
    return tuple(sorted(lb.name for lb in metric.labels if lb.values is not None))


def raw(metric: Metric, suffix: str = "", matchers: Iterable[Matcher] = ()) -> str:
    """`NAME_suffix{matchers, selector}`: a raw series of the metric, the service's own."""
    return promql.selector(metric.name + suffix, scoped(metric, matchers))


def raw_rate(metric: Metric, suffix: str, matchers: Iterable[Matcher],
             window: Duration | str) -> str:
    return promql.rate(metric.name + suffix, scoped(metric, matchers), window)


@dataclass(frozen=True, order=True)
class Recording:
    name: str
    expr: str
    labels: tuple[tuple[str, str], ...] = ()  # rule labels set on the recorded series


@dataclass(frozen=True)
class RateInput:
    """A rate the alert reads: the series, the level it is recorded at, the window, and
    whose series it sums (the metric's selector; the service whose rules record it)."""

    series: str
    level: tuple[str, ...]
    window: Duration
    select: tuple[Matcher, ...]
    selector: tuple[Matcher, ...] = ()
    service: str = ""

    @property
    def labels(self) -> tuple[tuple[str, str], ...]:
        return ((SERVICE_LABEL, self.service),) if self.selector else ()

    @property
    def recording(self) -> Recording:
        op = f"rate{self.window}"
        name = promql.recording_name(self.level, self.series, op)
        expr = promql.aggregate("sum", self.level,
                                promql.rate(self.series, self.selector, self.window))
        return Recording(name, expr, self.labels)

    def read(self, by: Sequence[str], extra: Sequence[Matcher]) -> str:
        """The recorded rate summed to `by` (plus le for buckets), filtered."""
        own = tuple(Matcher(k, "=", v) for k, v in self.labels)
        matchers = (*self.select, *extra, *own)
        keep = (*sorted(by), "le") if self.level and self.level[-1] == "le" else tuple(sorted(by))
        rec = self.recording.name
        if not matchers and keep == self.level:
            return rec
        return promql.aggregate("sum", keep, promql.selector(rec, matchers))


def _level(by: Sequence[str], select: Sequence[Matcher], bucket: bool = False) -> tuple[str, ...]:
    labels = tuple(sorted(set(by) | {m.label for m in select}))
    return (*labels, "le") if bucket else labels


def inputs(alert: Alert, metric: Metric) -> list[RateInput]:
    """The rates an alert reads (empty for alerts on raw gauges and summaries)."""
    w, by, sel = alert.window, alert.by, alert.select
    own, svc = metric.selector, metric.service
    if alert.kind == "quantile" and metric.type == "histogram":
        return [RateInput(f"{metric.name}_bucket", _level(by, sel, True), w, sel, own, svc)]
    if alert.kind == "rate":
        series = f"{metric.name}_count" if metric.type == "histogram" else metric.name
        return [RateInput(series, _level(by, sel), w, sel, own, svc)]
    if alert.kind == "ratio" and metric.type == "counter":
        num = RateInput(metric.name, _level(by, sel), w, sel, own, svc)
        den_sel = alert.ratio_select
        return [num, RateInput(alert.ratio_metric or "", _level(by, den_sel), w, den_sel,
                               alert.ratio_selector, svc)]
    return []


def recorded_rates(metrics: Sequence[Metric]) -> list[RateInput]:
    """Every rate the rules file records for these metrics' alerts, without the alerts'
    selectors (a recording keeps every series at its level), shortest window first."""
    found = {replace(i, select=()) for m in metrics for a in m.alerts for i in inputs(a, m)}
    return sorted(found, key=lambda i: (i.window, i.level, i.series))


def recordings(alert: Alert, metric: Metric) -> list[Recording]:
    return [i.recording for i in inputs(alert, metric)]


def quantity(alert: Alert, metric: Metric, extra: Sequence[Matcher] = ()) -> str:
    """The alerted quantity (no comparison) restricted by `extra` matchers."""
    by = sorted(alert.by)
    sel = (*alert.select, *extra)
    if alert.kind == "quantile" and metric.type == "histogram":
        (bucket,) = inputs(alert, metric)
        return promql.histogram_quantile(alert.quantile or 0, bucket.read(by, extra))
    if alert.kind == "quantile":
        q = promql.number_matcher("quantile", alert.quantile or 0)
        return promql.aggregate("max", by, raw(metric, "", (*sel, q)))
    if alert.kind == "rate":
        (counter,) = inputs(alert, metric)
        return counter.read(by, extra)
    if alert.kind == "ratio" and metric.type == "gauge":
        return (promql.aggregate("sum", by, raw(metric, "", sel)) + " / " +
                promql.aggregate("sum", by, denominator(alert, extra)))
    if alert.kind == "ratio":
        num, den = inputs(alert, metric)
        return f"{num.read(by, extra)} / {den.read(by, extra)}"
    if alert.kind == "value":
        return promql.aggregate("max" if alert.op == ">" else "min", by, raw(metric, "", sel))
    if alert.kind == "stale":
        return "time() - " + promql.aggregate("max", by, raw(metric, "", sel))
    return absent(alert, metric)


def denominator(alert: Alert, extra: Sequence[Matcher] = ()) -> str:
    """A gauge ratio's denominator series: `D{ratio_to.select, extra, D's selector}`
    (`extra`, an override's match, names `by` labels both sides carry)."""
    return promql.selector(alert.ratio_metric or "",
                           (*alert.ratio_select, *extra, *alert.ratio_selector))


def absent(alert: Alert, metric: Metric) -> str:
    """`absent(NAME{select, selector})`. absent() gives its result the labels of the
    selector's equality matchers; an alert carries those of `select` only (SPEC 3), so
    the selector's equalities are written as the regex of their literal value (the same
    series; no label), and one on a label that `select` fixes is left to `select`'s."""
    suffix = "" if metric.type in ("counter", "gauge") else "_count"
    pinned = {m.label for m in alert.select if m.op == "="}
    unkept = [Matcher(m.label, "=~", promql.regex_escape(m.value)) if m.op == "=" else m
              for m in metric.selector if m.label not in pinned]
    return f"absent({promql.selector(metric.name + suffix, (*alert.select, *unkept))})"


def _condition(alert: Alert, metric: Metric, extra: Sequence[Matcher], threshold: float) -> str:
    if alert.kind == "stale":
        return promql.compare(quantity(alert, metric, extra), ">",
                              (alert.stale_after or Duration(0)).seconds)
    return promql.compare(quantity(alert, metric, extra), alert.op or ">", threshold)


def _disjoint(a: Override, b: Override) -> bool:
    """True when no series can match both (an equality on the same label differs)."""
    eq_a = {m.label: m.value for m in a.match if m.op == "="}
    return any(m.op == "=" and m.label in eq_a and eq_a[m.label] != m.value for m in b.match)


def alert_expr(alert: Alert, metric: Metric) -> str:
    """One expression per alert; overrides become disjoint branches joined by `or`, so
    the alert stays a single rule (two same-named rules with equal labels would be
    duplicates to promtool)."""
    if alert.kind == "absent":
        return quantity(alert, metric)
    if not alert.overrides:
        return _condition(alert, metric, (), alert.threshold or 0)
    branches = []
    for i, o in enumerate(alert.overrides):
        earlier = [p for p in alert.overrides[:i] if not _disjoint(p, o)]
        branches.append(_unless(_condition(alert, metric, o.match, o.threshold),
                                [quantity(alert, metric, p.match) for p in earlier]))
    branches.append(_unless(_condition(alert, metric, (), alert.threshold or 0),
                            [quantity(alert, metric, o.match) for o in alert.overrides]))
    return "\nor\n".join(f"({b})" for b in branches)


def _unless(expr: str, excluded: Sequence[str]) -> str:
    return " unless ".join([expr, *(f"({e})" for e in excluded)])
