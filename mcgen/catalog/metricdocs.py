"""What a service's metric catalog (docs/<service>.md) says, as plain data: per metric its
facts, ready-to-paste PromQL over the spec's rate window (raw series, so they work in
any Prometheus), the SLA target its alerts set and each alert in words; the SLOs come
from slodocs.py. The package (mcgen/catalog/__init__.py) lays it out with
templates/docs.md.j2.

Texts here are plain (user strings included): the template escapes every one of them
through mcgen/text/markdown.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from mcgen import conventions, promql
from mcgen.promql import Duration, Matcher
from mcgen.rules import queries
from mcgen.spec import names
from mcgen.spec.model import Alert, Metric, Override, Service

OTHER = "Other metrics"  # the section of ungrouped metrics when some are grouped


@dataclass(frozen=True)
class Query:
    title: str
    expr: str


@dataclass(frozen=True)
class AlertDoc:
    alert: Alert
    condition: str  # when it fires, in words
    target: str  # what the alert keeps true (the SLA), in words
    labels: str  # the labels its rule sets, as a PromQL label set
    carried: tuple[str, ...]  # plus these labels of the series
    expr: str
    runbook: str | None


@dataclass(frozen=True)
class MetricDoc:
    metric: Metric
    anchor: str
    values: tuple[tuple[str, tuple[str, ...] | None], ...]  # label -> values as shown
    selector: str  # `{job="shop"}`: the selector its queries hold, or ""
    buckets: str
    queries: tuple[Query, ...]
    alerts: tuple[AlertDoc, ...]

    @property
    def target(self) -> str:
        return "; ".join(a.target for a in self.alerts)


def shown_value(value: str) -> str:
    """A label value as shown in a code span: itself, or its PromQL string literal when
    a code span could not show it exactly (empty, line breaks, edge blanks, controls)."""
    if value and value == value.strip() and value.isprintable():
        return value
    return "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}"
                   for ch in promql.string_literal(value))


def label_set(labels: dict[str, str]) -> str:
    return "{" + ", ".join(f"{k}={promql.string_literal(v)}" for k, v in labels.items()) + "}"


def _where(matchers: tuple[Matcher, ...]) -> str:
    return f" where {', '.join(str(m) for m in matchers)}" if matchers else ""


def _limits(alert: Alert, metric: Metric, op: str) -> str:
    """`5s where operation=~"STARTING|STOPPING", 10s elsewhere`, or just `10s`."""
    own = names.amount(alert, metric, alert.threshold or 0)
    if not alert.overrides:
        return f"{op} {own}"

    def one(o: Override) -> str:
        return f"{op} {names.amount(alert, metric, o.threshold)}{_where(o.match)}"
    return ", ".join(one(o) for o in alert.overrides) + f", {op} {own} elsewhere"


def _quantity(alert: Alert, metric: Metric) -> str:
    by = f" by {', '.join(alert.by)}" if alert.by else ""
    if alert.kind == "stale":
        return f"age of {metric.name} (time() minus its value){by}{_where(alert.select)}"
    what = names.quantity(alert, metric)
    if alert.kind == "ratio":
        num = queries.raw(metric, "", alert.select)
        den = promql.selector(alert.ratio_metric or "",
                              (*alert.ratio_select, *alert.ratio_selector))
        return f"ratio of {num} to {den}{by}"
    return f"{what}{by}{_where(alert.select)}"


def condition(alert: Alert, metric: Metric) -> str:
    """When the alert fires, in words."""
    if alert.kind == "absent":
        return f"no series {queries.raw(metric, '', alert.select)} for {alert.for_}"
    if alert.kind == "stale":
        after = alert.stale_after or Duration(0)
        limit = f"above {after} ({promql.number(after.seconds)}s)"
    else:
        limit = _limits(alert, metric, alert.comparison_word)
    over = f" (rates over {alert.window})" if queries.inputs(alert, metric) else ""
    return f"{_quantity(alert, metric)} {limit}, for {alert.for_}{over}"


def target(alert: Alert, metric: Metric) -> str:
    """What the alert keeps true, for the summary table: `P95 ≤ 1s`."""
    if alert.kind == "absent":
        return f"{metric.name} present"
    if alert.kind == "stale":
        return f"{metric.name} updated within {alert.stale_after}{_where(alert.select)}"
    word = {"quantile": names.quantile_name(alert.quantile or 0), "rate": "rate",
            "ratio": f"ratio to {alert.ratio_metric}", "value": "value"}[alert.kind]
    op = "≤" if alert.op == ">" else "≥"
    return f"{word}{_where(alert.select)} {_limits(alert, metric, op)}"


def _rates(metric: Metric, window: Duration) -> list[Query]:
    g = queries.grouping(metric)
    by = f" by {', '.join(g)}" if g else ""
    if metric.type == "counter":
        return [Query(f"Rate per second{by}", promql.aggregate(
            "sum", g, queries.raw_rate(metric, "", (), window)))]
    if metric.type == "gauge":
        out = [Query(f"Value (max{by})", promql.aggregate("max", g, queries.raw(metric)))]
        if any(a.kind == "stale" for a in metric.alerts):
            out.append(Query(f"Age in seconds{by}", "time() - " + out[0].expr))
        return out
    count = promql.aggregate("sum", g, queries.raw_rate(metric, "_count", (), window))
    total = promql.aggregate("sum", g, queries.raw_rate(metric, "_sum", (), window))
    out = []
    for q in sorted({*metric.quantiles, *(a.quantile or 0 for a in metric.alerts
                                          if a.kind == "quantile")}):
        if metric.type == "histogram":
            bucket = promql.aggregate("sum", (*g, "le"),
                                      queries.raw_rate(metric, "_bucket", (), window))
            expr = promql.histogram_quantile(q, bucket)
        else:
            expr = promql.aggregate("max", g, queries.raw(
                metric, "", (promql.number_matcher("quantile", q),)))
        out.append(Query(f"{names.quantile_name(q)}{by}", expr))
    return out + [Query(f"Mean{by}", f"{total}\n/\n{count}"),
                  Query(f"Observations per second{by}", count)]


def _ratio_query(alert: Alert, metric: Metric) -> Query:
    by = sorted(alert.by)
    num = promql.aggregate("sum", by, queries.raw_rate(metric, "", alert.select, alert.window))
    den = promql.aggregate("sum", by, promql.rate(
        alert.ratio_metric or "", (*alert.ratio_select, *alert.ratio_selector), alert.window))
    return Query(f"Ratio of {alert.name}", f"{num}\n/\n{den}")


def alert_doc(svc: Service, alert: Alert, metric: Metric) -> AlertDoc:
    from mcgen.rules.alerts import alert_labels
    runbook = conventions.runbook_url(svc.runbook_base_url, alert.name) \
        if svc.runbook_base_url else None
    return AlertDoc(alert, condition(alert, metric), target(alert, metric),
                    label_set(alert_labels(svc, alert)), alert.carried,
                    queries.alert_expr(alert, metric), runbook)


def metric_doc(svc: Service, metric: Metric, anchor: str) -> MetricDoc:
    found = _rates(metric, svc.rate_window)
    found += [_ratio_query(a, metric) for a in metric.alerts if a.kind == "ratio"]
    values = tuple((lb.name, None if lb.values is None else
                    tuple(shown_value(v) for v in lb.values)) for lb in metric.labels)
    buckets = ", ".join(promql.number(b) for b in metric.buckets)
    return MetricDoc(metric, anchor, values, promql.selector("", metric.selector),
                     f"{buckets}, +Inf" if buckets else "",
                     tuple(found), tuple(alert_doc(svc, a, metric) for a in metric.alerts))


def sections(svc: Service) -> list[tuple[str, list[Metric]]]:
    """Metrics by group, groups in the order they first appear, ungrouped last (in a
    section of their own only when some metrics are grouped)."""
    groups: dict[str, list[Metric]] = {}
    for metric in svc.metrics:
        if metric.group is not None:
            groups.setdefault(metric.group, []).append(metric)
    out = list(groups.items())
    rest = [m for m in svc.metrics if m.group is None]
    if rest:
        out.append((OTHER if groups else "Metrics", rest))
    return out
