"""What a service's dashboard shows: its plan, as plain data (model.py): rows of panels with
their queries, units and alert thresholds; the SLOs' panels come from slopanels.py.
layout.py lays the plan out with Grafana's SDK; tests read it to prove that every metric
and every threshold is on the dashboard.

Every metric gets an overview by its type (quantiles and a heatmap for histograms,
quantiles for summaries, rates for counters, values for gauges). An alert's threshold is
drawn on the overview when the overview shows exactly what the alert evaluates (same
quantity, same `by` labels); otherwise the alert gets a panel of its own whose query is
the alert's expression without the comparison. Queries read the recorded rates where the
rules file records them, and every query filters on the dashboard's label variables for
the labels its series keep.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from mcgen import promql
from mcgen.dashboards import slopanels
from mcgen.dashboards.model import OK_COLOR, Limit, Panel, Plan, Query, Row, Step, Variable, steps
from mcgen.promql import Matcher
from mcgen.rules import queries
from mcgen.spec import names
from mcgen.spec.model import Alert, Metric, Service

# The plan's data is model.py's; layout.py and check.py read it here, with the plan.
__all__ = ["OK_COLOR", "Limit", "Panel", "Plan", "Query", "Row", "Step", "Variable", "limits",
           "plan", "steps", "unit", "variable_name"]

UNITS = {"seconds": "s", "bytes": "bytes", "ratio": "percentunit", "percent": "percent"}


def variable_name(label: str) -> str:
    """The variable of a label: its name, except that `datasource` is the data source's,
    so `datasource`, `label_datasource`, ... get one more `label_` (no two clash)."""
    return f"label_{label}" if re.fullmatch(r"(label_)*datasource", label) else label


def _filters(labels: Sequence[str]) -> tuple[Matcher, ...]:
    return tuple(Matcher(lb, "=~", f"${{{variable_name(lb)}}}") for lb in labels)


def _legend(labels: Sequence[str], suffix: str = "", default: str = "value") -> str:
    """`{{operation}} P95`: Grafana fills in the label values."""
    text = " ".join([*(f"{{{{{lb}}}}}" for lb in labels), *([suffix] if suffix else [])])
    return text or default


def unit(metric: Metric) -> str:
    return UNITS.get(metric.unit or "", "short")


def _rate_unit(metric: Metric) -> str:
    return "Bps" if metric.unit == "bytes" else "ops"


def _rate(recorded: Sequence[queries.RateInput], metric: Metric, suffix: str,
          by: Sequence[str], bucket: bool) -> str:
    """sum by (by[, le]) of the rate of the metric's `suffix` series: from a recording
    rule when the rules file records one that keeps every declared label, else from the
    raw series over Grafana's $__rate_interval."""
    declared = set(metric.label_names)
    keep = (*by, "le") if bucket else tuple(by)
    for rec in recorded:
        if rec.series == metric.name + suffix and declared <= set(rec.level):
            return rec.read(by, _filters(metric.label_names))
    return promql.aggregate("sum", keep, queries.raw_rate(
        metric, suffix, _filters(metric.label_names), promql.GRAFANA_RATE_INTERVAL))


def _on_overview(alert: Alert, metric: Metric) -> bool:
    """Whether the overview panel shows exactly what this alert evaluates: the same
    quantity, by the same labels, over every series (a `select` would leave series on
    the overview that cross the line but can never fire)."""
    if tuple(sorted(alert.by)) != queries.grouping(metric) or alert.select:
        return False
    if alert.kind in ("quantile", "stale"):
        return True
    if alert.kind == "rate":
        return metric.type == "counter"
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


def _overview(metric: Metric, recorded: Sequence[queries.RateInput]) -> list[Panel]:
    g = queries.grouping(metric)
    drawn = [a for a in metric.alerts if _on_overview(a, metric)]
    lims = tuple(lim for a in drawn for lim in limits(a))
    name = metric.name
    if metric.type == "histogram":
        qs = sorted({*metric.quantiles, *(a.quantile or 0 for a in drawn)})
        rate = _rate(recorded, metric, "_bucket", g, True)
        return [
            Panel(f"{name}:quantiles", "timeseries",
                  f"{name}: {' / '.join(names.quantile_name(q) for q in qs)}",
                  metric.help, tuple(Query(promql.histogram_quantile(q, rate),
                                           _legend(g, names.quantile_name(q)))
                                     for q in qs),
                  unit(metric), lims),
            Panel(f"{name}:heatmap", "heatmap", f"{name}: distribution",
                  metric.help, (Query(_rate(recorded, metric, "_bucket", (), True), "{{le}}",
                                      heatmap=True),), unit(metric)),
        ]
    if metric.type == "summary":
        qs = sorted({*metric.quantiles, *(a.quantile or 0 for a in drawn)})
        sel = _filters(metric.label_names)
        return [Panel(
            f"{name}:quantiles", "timeseries",
            f"{name}: {' / '.join(names.quantile_name(q) for q in qs)}", metric.help,
            tuple(Query(promql.aggregate("max", g, queries.raw(
                metric, "", (*sel, promql.number_matcher("quantile", q)))),
                _legend(g, names.quantile_name(q))) for q in qs),
            unit(metric), lims)]
    if metric.type == "counter":
        return [Panel(f"{name}:rate", "timeseries", f"{name}: rate", metric.help,
                      (Query(_rate(recorded, metric, "", g, False), _legend(g, "", "rate")),),
                      _rate_unit(metric), lims)]
    if _timestamp(metric):
        return [Panel(f"{name}:age", "timeseries", f"{name}: age", metric.help,
                      (Query("time() - " + promql.aggregate(
                          "max", g, queries.raw(metric, "", _filters(metric.label_names))),
                          _legend(g, "", "age")),), "s", lims)]
    raw = queries.raw(metric, "", _filters(metric.label_names))
    ops = ["max"] + (["min"] if any(a.op == "<" for a in drawn) else [])
    return [Panel(f"{name}:value", "timeseries", f"{name}", metric.help,
                  tuple(Query(promql.aggregate(op, g, raw), _legend(g, op if len(ops) > 1 else ""))
                        for op in ops),
                  unit(metric), lims)]


def _alert_panel(alert: Alert, metric: Metric) -> Panel:
    kept = [lb for lb in sorted(alert.by) if metric.label(lb) is not None]
    expr = queries.quantity(alert, metric, _filters(kept))
    shown = promql.selector(metric.name, alert.select)
    if alert.kind == "stale":
        panel_unit, title = "s", f"age of {shown}"
    elif alert.kind == "ratio":
        panel_unit = "percentunit"
        title = f"{shown} / {promql.selector(alert.ratio_metric or '', alert.ratio_select)}"
    else:
        panel_unit = _rate_unit(metric) if alert.kind == "rate" else unit(metric)
        title = names.quantity(alert, metric).replace(metric.name, shown, 1)
    return Panel(f"alert:{alert.name}", "timeseries", f"{alert.name}: {title}",
                 f"What alert {alert.name} evaluates{_where(alert)}. {metric.help}",
                 (Query(expr, _legend(sorted(alert.by))),), panel_unit, limits(alert))


def _where(alert: Alert) -> str:
    """Which series each threshold of an alert with overrides applies to (the lines are
    drawn for every series)."""
    if not alert.overrides:
        return ""
    parts = [f"{promql.number(o.threshold)} where {', '.join(str(m) for m in o.match)}"
             for o in alert.overrides]
    return (f"; thresholds: {'; '.join(parts)}; "
            f"{promql.number(alert.threshold or 0)} elsewhere")


def _metric_panels(metric: Metric, recorded: Sequence[queries.RateInput]) -> list[Panel]:
    own = [_alert_panel(a, metric) for a in metric.alerts
           if a.kind != "absent" and not _on_overview(a, metric)]
    return _overview(metric, recorded) + own


def _variables(svc: Service) -> tuple[Variable, ...]:
    """A variable per declared label, its values read from the series that declare it
    (under their selector; where metrics with different selectors declare it, from those
    that share the most common one)."""
    found: dict[str, dict[tuple[Matcher, ...], list[str]]] = {}
    for metric in svc.metrics:
        series = metric.name if metric.type in ("counter", "gauge") else f"{metric.name}_count"
        for lb in metric.labels:
            found.setdefault(lb.name, {}).setdefault(metric.selector, []).append(series)
    out = []
    for label, by_scope in found.items():
        scope, names = max(by_scope.items(), key=lambda kv: len(kv[1]))
        source = promql.selector(names[0], scope) if len(names) == 1 else promql.selector(
            "", (Matcher("__name__", "=~", promql.alternation(names)), *scope))
        out.append(Variable(variable_name(label), label, f"label_values({source}, {label})"))
    return tuple(out)


def plan(svc: Service) -> Plan:
    recorded = queries.recorded_rates(svc.metrics)
    groups: dict[str, list[Panel]] = {}
    for metric in svc.metrics:
        groups.setdefault(metric.group or "Metrics", []).extend(
            _metric_panels(metric, recorded))
    rows = [Row(title, tuple(panels)) for title, panels in groups.items()]
    if svc.slos:
        rows.append(Row("SLOs", tuple(p for slo in svc.slos for p in slopanels.panels(svc, slo))))
    return Plan(_variables(svc), tuple(rows))
