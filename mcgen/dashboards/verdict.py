"""The verdict row, at the top of the dashboard: what an on-call engineer needs to answer
"is something wrong, and what?" without scrolling.

- the service's firing alerts (`ALERTS{service=...}`), linked to Grafana's alert list;
- per SLO, its remaining error budget and its current burn rate against the page factor;
- per alert, a stat of its current value against its threshold, coloured where it fires
  (an alert with overrides shows one value per threshold: its series where each
  override applies, and the rest), or for an `absent_for` alert how many of its series
  are present; each links to the alert's runbook.

Each stat reduces the alert's quantity to its worst series (max for `above`, min for
`below`), computed exactly as the rule computes it (mcgen/rules/queries.py).
"""

from __future__ import annotations

from urllib.parse import quote

from mcgen import promql
from mcgen.dashboards import slopanels, titles
from mcgen.dashboards.model import OK_COLOR, Link, Panel, Query, Row, Step, color
from mcgen.promql import Matcher
from mcgen.rules import queries
from mcgen.spec import names
from mcgen.spec.model import SERVICE_LABEL, Alert, Metric, Service

TITLE = "Verdict: alerts and SLOs now"
WIDTH, HEIGHT = 4, 4


def alert_list_url(svc: Service) -> str:
    """Grafana's alert list, searching for this service's alerts (a path of the same
    Grafana, percent-encoded: Grafana would read a `$` in it as a variable)."""
    search = f"label:{SERVICE_LABEL}={svc.name}"
    return f"/alerting/list?search={quote(search, safe='')}"


def firing(svc: Service) -> Panel:
    alerts = promql.selector("ALERTS", (Matcher("alertstate", "=", "firing"),
                                        Matcher(SERVICE_LABEL, "=", svc.name)))
    expr = promql.or_zero(f"count({alerts})")
    return Panel("verdict:firing", "stat", "Firing alerts",
                 titles.describe(f"Alerts of {svc.name} firing now, whatever their "
                                 "severity; the list is one click away.", None, [expr]),
                 (Query(expr, "firing"),), "short",
                 steps=(Step(None, OK_COLOR), Step(1.0, "red")), width=WIDTH, height=HEIGHT,
                 links=(Link("Firing alerts of this service", alert_list_url(svc)),))


def _what(alert: Alert) -> str:
    """`P95 `, `rate `, ...: what the threshold bounds, for a stat's title."""
    if alert.kind == "quantile":
        return f"{names.quantile_name(alert.quantile or 0)} "
    return {"rate": "rate ", "ratio": "share ", "stale": "age "}.get(alert.kind, "")


def _reduce(alert: Alert, expr: str) -> str:
    return f"{'min' if alert.op == '<' else 'max'}({expr})"


def _steps(alert: Alert, threshold: float) -> tuple[Step, ...]:
    bad = color(alert.severity)
    if alert.op == "<":
        return (Step(None, bad), Step(threshold, OK_COLOR))
    return (Step(None, OK_COLOR), Step(threshold, bad))


def _branches(alert: Alert, metric: Metric) -> list[tuple[str, str, float]]:
    """(legend, expression, threshold) per threshold of the alert: one per override (its
    series, less those of earlier overrides) and the rest, as the rule splits them."""
    if alert.kind == "stale":
        return [("age", queries.quantity(alert, metric),
                 alert.stale_after.seconds if alert.stale_after else 0.0)]
    if not alert.overrides:
        return [("value", queries.quantity(alert, metric), alert.threshold or 0.0)]
    out = []
    for i, o in enumerate(alert.overrides):
        earlier = [queries.quantity(alert, metric, p.match) for p in alert.overrides[:i]]
        out.append((", ".join(str(m) for m in o.match),
                    " unless ".join([queries.quantity(alert, metric, o.match),
                                     *(f"({e})" for e in earlier)]), o.threshold))
    rest = [queries.quantity(alert, metric, o.match) for o in alert.overrides]
    out.append(("elsewhere", " unless ".join([queries.quantity(alert, metric),
                                              *(f"({e})" for e in rest)]),
                alert.threshold or 0.0))
    return out


def alert_stat(svc: Service, alert: Alert, metric: Metric) -> Panel:
    """The alert's current value (worst series) against its threshold(s)."""
    links = titles.runbooks(svc, [alert.name])
    panel_unit = titles.alert_unit(alert, metric)
    words = titles.alert_words(alert, metric)
    if alert.kind == "absent":
        series = queries.raw(metric, "" if metric.type in ("counter", "gauge") else "_count",
                             alert.select)
        expr = promql.or_zero(f"count({series})")
        return Panel(f"verdict:{alert.name}", "stat", titles.fit(f"{alert.name}: series"),
                     titles.describe(f"Series of {metric.name} present now; at 0 for "
                                     f"{alert.for_} {alert.name} fires.", metric.name, [expr]),
                     (Query(expr, "series"),), "short",
                     steps=(Step(None, color(alert.severity)), Step(1.0, OK_COLOR)),
                     width=WIDTH, height=HEIGHT, links=links)
    branches = _branches(alert, metric)
    op = ">" if alert.kind == "stale" else alert.op or ">"
    limit = " / ".join(dict.fromkeys(
        titles.amount(alert, metric, t) if alert.kind != "stale" else str(alert.stale_after)
        for _, _, t in branches))
    exprs = [_reduce(alert, e) for _, e, _ in branches]
    return Panel(
        f"verdict:{alert.name}", "stat", titles.fit(f"{alert.name}: {_what(alert)}{op} {limit}"),
        titles.describe(f"{words.capitalize()} now, its worst series, against the "
                        f"threshold of {alert.name} ({alert.severity}).", metric.name, exprs),
        tuple(Query(e, legend) for e, (legend, _, _) in zip(exprs, branches, strict=True)),
        panel_unit, steps=_steps(alert, branches[-1][2]),
        query_steps=tuple(_steps(alert, t) for _, _, t in branches) if len(branches) > 1
        else (), width=WIDTH, height=HEIGHT, links=links)


def row(svc: Service) -> Row:
    stats = [firing(svc)]
    for slo in svc.slos:
        stats.extend(slopanels.verdict(svc, slo))
    stats.extend(alert_stat(svc, alert, metric) for metric in svc.metrics
                 for alert in metric.alerts)
    return Row(TITLE, tuple(stats))
