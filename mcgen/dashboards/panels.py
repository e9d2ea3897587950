"""What a service's dashboard shows: its plan, as plain data (model.py): rows of panels with
their queries, units and alert thresholds. The verdict row on top comes from verdict.py,
the SLOs' panels from slopanels.py, the variables and per-instance panels from
instances.py. layout.py lays the plan out with Grafana's SDK; tests read it to prove that
every metric and every threshold is on the dashboard.

Every metric gets an overview by its type (quantiles and a request rate for histograms,
quantiles for summaries, rates for counters, values by instance for gauges). An alert's
threshold is drawn on the overview when the overview shows exactly what the alert
evaluates (same quantity, same `by` labels); otherwise the alert gets a panel of its own
whose query is the alert's expression without the comparison. Every panel that draws an
alert links to its runbook. Queries read the recorded rates where the rules file records
them, and every query filters on the dashboard's label variables for the labels its
series keep.

Rows follow the metric groups, RED-style: a histogram's latency, then its request rate,
then the errors of the same thing (a counter of errors or with a ratio alert whose name
shares the histogram's stem), wherever the spec declares them. Heatmaps and per-instance
panels go to a collapsed details row under each group; a large spec collapses its group
rows too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from mcgen import promql
from mcgen.dashboards import instances, slopanels, titles, verdict
from mcgen.dashboards.instances import Scope, variable_name
from mcgen.dashboards.model import (
    OK_COLOR,
    Limit,
    Link,
    Panel,
    Plan,
    Query,
    Row,
    Step,
    Variable,
    steps,
)
from mcgen.dashboards.titles import alert_unit, alert_words, runbooks, unit
from mcgen.rules import queries
from mcgen.spec import names
from mcgen.spec.model import Alert, Metric, Service

# The plan's data is model.py's; layout.py and check.py read it here, with the plan.
__all__ = ["OK_COLOR", "Limit", "Link", "Panel", "Plan", "Query", "Row", "Step", "Variable",
           "alert_unit", "alert_words", "limits", "plan", "runbooks", "steps", "unit",
           "variable_name"]

# Above this many panels in the group rows, those rows start collapsed too.
COLLAPSE_ABOVE = 40


@dataclass(frozen=True)
class Context:
    svc: Service
    recorded: tuple[queries.RateInput, ...]
    scope: Scope




def _legend(labels: Sequence[str], suffix: str = "", default: str = "value") -> str:
    """`{{operation}} P95`: Grafana fills in the label values."""
    text = " ".join([*(f"{{{{{lb}}}}}" for lb in labels), *([suffix] if suffix else [])])
    return text or default






def _rate(ctx: Context, metric: Metric, suffix: str, by: Sequence[str], bucket: bool) -> str:
    """sum by (by[, le]) of the rate of the metric's `suffix` series: from a recording
    rule when the rules file records one that keeps every declared label, else from the
    raw series over Grafana's $__rate_interval (filtered on job and instance too)."""
    declared = set(metric.label_names)
    keep = (*by, "le") if bucket else tuple(by)
    for rec in ctx.recorded:
        if rec.series == metric.name + suffix and declared <= set(rec.level):
            return rec.read(by, ctx.scope.filters(metric.label_names))
    return promql.aggregate("sum", keep, queries.raw_rate(
        metric, suffix, ctx.scope.raw(metric), promql.GRAFANA_RATE_INTERVAL))


def _on_overview(alert: Alert, metric: Metric) -> bool:
    """Whether the overview panel shows exactly what this alert evaluates: the same
    quantity, by the same labels, over every series (a `select` would leave series on
    the overview that cross the line but can never fire)."""
    if tuple(sorted(alert.by)) != queries.grouping(metric) or alert.select:
        return False
    if alert.kind in ("quantile", "stale"):
        return True
    if alert.kind == "rate":
        return metric.type in ("counter", "histogram")
    return alert.kind == "value" and not _timestamp(metric)


def _timestamp(metric: Metric) -> bool:
    """A gauge holding a unix time (it has a staleness alert): shown as its age."""
    return any(a.kind == "stale" for a in metric.alerts)


def limits(alert: Alert) -> tuple[Limit, ...]:
    if alert.kind == "stale" and alert.stale_after is not None:
        return (Limit(alert.stale_after.seconds, ">", alert.severity, alert.name),)
    if alert.threshold is None or alert.op is None:
        return ()
    values = (alert.threshold, *(o.threshold for o in alert.overrides))
    return tuple(Limit(v, alert.op, alert.severity, alert.name) for v in values)


def _panel(ctx: Context, metric: Metric, key: str, kind: str, tail: str,
           qs: Sequence[Query], panel_unit: str, drawn: Sequence[Alert] = (),
           width: int = 8) -> Panel:
    """A panel of the metric: titled from its help, described with its PromQL."""
    return Panel(f"{metric.name}:{key}", kind,
                 titles.title(titles.subject(metric.help, metric.name), tail),
                 titles.describe(metric.help, metric.name, [q.expr for q in qs]),
                 tuple(qs), panel_unit, tuple(lim for a in drawn for lim in limits(a)),
                 width=width, links=runbooks(ctx.svc, [a.name for a in drawn]))


def _overview(ctx: Context, metric: Metric) -> tuple[list[Panel], list[Panel]]:
    """The metric's main panels, and its details (a histogram's heatmap)."""
    g = queries.grouping(metric)
    drawn = [a for a in metric.alerts if _on_overview(a, metric)]
    if metric.type in ("histogram", "summary"):
        on_q = [a for a in drawn if a.kind == "quantile"]
        qs = sorted({*metric.quantiles, *(a.quantile or 0 for a in on_q)})
        tail = " / ".join(names.quantile_name(q) for q in qs)
        if metric.type == "summary":
            sel = ctx.scope.raw(metric)
            return [_panel(ctx, metric, "quantiles", "timeseries", tail, [
                Query(promql.aggregate("max", g, queries.raw(
                    metric, "", (*sel, promql.number_matcher("quantile", q)))),
                    _legend(g, names.quantile_name(q))) for q in qs], unit(metric), on_q,
                width=12)], []
        rate = _rate(ctx, metric, "_bucket", g, True)
        return [
            _panel(ctx, metric, "quantiles", "timeseries", tail, [
                Query(promql.histogram_quantile(q, rate), _legend(g, names.quantile_name(q)))
                for q in qs], unit(metric), on_q),
            _panel(ctx, metric, "rate", "timeseries", "rate", [
                Query(_rate(ctx, metric, "_count", g, False), _legend(g, "", "rate"))],
                titles.rate_unit(metric), [a for a in drawn if a.kind == "rate"]),
        ], [_panel(ctx, metric, "heatmap", "heatmap", "distribution", [
            Query(_rate(ctx, metric, "_bucket", (), True), "{{le}}", heatmap=True)],
            unit(metric), width=12)]
    if metric.type == "counter":
        return [_panel(ctx, metric, "rate", "timeseries", "rate", [
            Query(_rate(ctx, metric, "", g, False), _legend(g, "", "rate"))],
            titles.rate_unit(metric), drawn)], []
    raw = queries.raw(metric, "", ctx.scope.raw(metric))
    if _timestamp(metric):
        return [_panel(ctx, metric, "age", "timeseries", "age", [
            Query("time() - " + promql.aggregate("max", g, raw), _legend(g, "", "age"))],
            "s", drawn)], []
    # By instance: a gauge folded over the fleet hides the one replica that is off. The
    # alert takes the max (min) over instances, so it fires exactly when a line crosses.
    by = (*g, *(t for t in ("instance",) if t in ctx.scope.targets and t not in g))
    ops = ["max"] + (["min"] if any(a.op == "<" for a in drawn) else [])
    return [_panel(ctx, metric, "value", "timeseries", "by instance" if by != g else "", [
        Query(promql.aggregate(op, by, raw), _legend(by, op if len(ops) > 1 else ""))
        for op in ops], unit(metric), drawn)], []






def _alert_panel(ctx: Context, alert: Alert, metric: Metric) -> Panel:
    kept = [lb for lb in sorted(alert.by) if metric.label(lb) is not None]
    expr = queries.quantity(alert, metric, ctx.scope.filters(kept))
    shown = promql.selector(metric.name, alert.select)
    if alert.kind == "ratio":
        shown += f" / {promql.selector(alert.ratio_metric or '', alert.ratio_select)}"
    return Panel(f"alert:{alert.name}", "timeseries",
                 titles.fit(f"{alert.name}: {alert_words(alert, metric)}"),
                 titles.describe(f"What alert {alert.name} evaluates{_where(alert)}: "
                                 f"{shown}. {metric.help}", None, [expr]),
                 (Query(expr, _legend(sorted(alert.by))),), alert_unit(alert, metric),
                 limits(alert), width=8, links=runbooks(ctx.svc, [alert.name]))


def _where(alert: Alert) -> str:
    """Which series each threshold of an alert with overrides applies to (the lines are
    drawn for every series)."""
    if not alert.overrides:
        return ""
    parts = [f"{promql.number(o.threshold)} where {', '.join(str(m) for m in o.match)}"
             for o in alert.overrides]
    return (f"; thresholds: {'; '.join(parts)}; "
            f"{promql.number(alert.threshold or 0)} elsewhere")


_STEM_TAIL = re.compile(r"(_(seconds|bytes|total|count|sum|bucket|ratio|duration|latency"
                        r"|errors?|failures?|failed|time))+$")
_ERRORS = re.compile(r"error|fail|reject|timeout", re.I)


def _stem(name: str) -> str:
    """`codehub_ws_message_latency_seconds` -> `codehub_ws_message`; a plural last word
    in the singular (`http_requests_total` -> `http_request`)."""
    stem = _STEM_TAIL.sub("", name)
    return stem[:-1] if re.search(r"_[a-z]{3,}s$", stem) and not stem.endswith("ss") else stem


def _errors_of(metric: Metric, histograms: Sequence[Metric]) -> Metric | None:
    """The histogram whose errors this counter counts: it counts errors (by name, or by a
    ratio alert) and its stem and the histogram's are one a prefix of the other, word by
    word; the longest shared stem wins, then the same group."""
    if metric.type != "counter" or not (
            _ERRORS.search(metric.name) or any(a.kind == "ratio" for a in metric.alerts)):
        return None
    mine = _stem(metric.name)
    # One word (`checkout` of checkout_failures_total) may be no more than the service's
    # prefix: it names the thing only where the service has a single histogram.
    found = [h for h in histograms
             if (len(histograms) == 1 or min(mine.count("_"), _stem(h.name).count("_")) >= 1)
             and ((_stem(h.name) + "_").startswith(mine + "_")
                  or (mine + "_").startswith(_stem(h.name) + "_"))]
    return max(found, key=lambda h: (min(len(mine), len(_stem(h.name))),
                                     h.group == metric.group), default=None)


def plan(svc: Service) -> Plan:
    variables, scope = instances.variables(svc)
    ctx = Context(svc, tuple(queries.recorded_rates(svc.metrics)), scope)
    histograms = [m for m in svc.metrics if m.type == "histogram"]
    partner = {m.name: h.name for m in svc.metrics
               if (h := _errors_of(m, histograms)) is not None}
    main: dict[str, list[Panel]] = {}
    details: dict[str, list[Panel]] = {}
    own: dict[str, list[Panel]] = {}
    group_of = {m.name: m.group or "Metrics" for m in svc.metrics}
    for metric in svc.metrics:
        shown, detail = _overview(ctx, metric)
        group = group_of[partner.get(metric.name, metric.name)]
        main.setdefault(group, [])
        details.setdefault(group, []).extend(detail + instances.panels(metric, scope))
        own[metric.name] = shown
    alerts = {m.name: [_alert_panel(ctx, a, m) for a in m.alerts
                       if a.kind != "absent" and not _on_overview(a, m)] for m in svc.metrics}
    # In each group its histograms first, each followed by its rate and then the errors of
    # the same thing (wherever the spec declares them), then their alert panels.
    for metric in sorted(svc.metrics, key=lambda m: m.type != "histogram"):
        if metric.name in partner:
            continue
        errors = [m for m in svc.metrics if partner.get(m.name) == metric.name]
        first, *rest = own[metric.name]
        main[group_of[metric.name]].extend([
            replace(first, new_line=metric.type == "histogram"), *rest,
            *(p for m in errors for p in own[m.name]),
            *alerts[metric.name], *(p for m in errors for p in alerts[m.name])])
    fold = sum(len(p) for p in main.values()) > COLLAPSE_ABOVE
    rows = [verdict.row(svc)]
    for group, shown_panels in main.items():
        if shown_panels:
            rows.append(Row(group, tuple(shown_panels), collapsed=fold))
        if details[group]:
            rows.append(Row(titles.fit(f"{group}: details"), tuple(details[group]),
                            collapsed=True))
    if svc.slos:
        rows.append(Row("SLOs", tuple(p for slo in svc.slos for p in slopanels.panels(svc, slo))))
    return Plan(variables, tuple(rows))
