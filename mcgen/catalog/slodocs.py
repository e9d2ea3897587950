"""What the metric catalog says about an SLO, as plain data: objective, SLI, error budget
in time and as a ratio, the burn-rate table of its page and ticket alerts, their PromQL
and the series the rules file records (mcgen/rules/sloqueries.py)."""

from __future__ import annotations

from dataclasses import dataclass

from mcgen import conventions, promql
from mcgen.catalog.metricdocs import Query, label_set
from mcgen.promql import Duration, burnrate
from mcgen.rules import sloqueries
from mcgen.spec.model import Service, Slo


@dataclass(frozen=True)
class BurnRow:
    kind: str  # page | ticket
    severity: str
    long: Duration
    short: Duration
    factor: str
    spent: str  # share of the period's budget the long window spends at the factor
    exhausted: Duration  # time until the whole budget is gone at that burn rate
    limit: str  # the error ratio both windows must exceed
    reachable: bool  # an error ratio above 1 cannot happen


@dataclass(frozen=True)
class BurnAlertDoc:
    kind: str
    severity: str
    labels: str
    expr: str


@dataclass(frozen=True)
class AbsentDoc:
    """The SLIAbsent alert: no series of the SLI's total for `for_`."""

    name: str
    severity: str
    for_: Duration
    series: str  # the selector it watches
    labels: str
    expr: str
    runbook: str | None


@dataclass(frozen=True)
class SloDoc:
    slo: Slo
    anchor: str
    sli: str  # in words
    budget_ratio: str  # 0.001 (0.1%)
    budget_time: str  # 43.2 minutes (43m12s) per 30d
    rows: tuple[BurnRow, ...]
    alerts: tuple[BurnAlertDoc, ...]
    queries: tuple[Query, ...]
    recorded: tuple[str, ...]
    runbook: str | None
    absent: AbsentDoc | None = None


def sli_words(svc: Service, slo: Slo) -> str:
    total = promql.selector(slo.total.metric, slo.total.matchers)
    if slo.sli == "events" and slo.error is not None:
        error = promql.selector(slo.error.metric, slo.error.matchers)
        return f"events: error ratio = rate of {error} / rate of {total}"
    bound = promql.number(slo.bound or 0)
    unit = svc.metric(slo.total.metric).unit
    shown = f"{bound}s" if unit == "seconds" else f"{bound} {unit}" if unit else bound
    return (f"latency: share of {total} observations slower than {shown} (above its "
            f"le=\"{bound}\" bucket)")


def budget_time(slo: Slo) -> str:
    spent = burnrate.budget(slo.objective) * slo.period.ms
    minutes = f"{round(spent / 60_000, 2):g}"
    return f"{minutes} minutes ({Duration(round(spent / 1000) * 1000)}) per {slo.period}"


def rows(slo: Slo) -> tuple[BurnRow, ...]:
    b = burnrate.budget(slo.objective)
    out = []
    for alert in slo.alerts:
        for c in burnrate.conditions(alert.kind):
            f = c.factor(slo.period)
            exhausted = Duration(round(slo.period.ms / f / 1000) * 1000)
            out.append(BurnRow(alert.kind, alert.severity, c.long, c.short,
                               burnrate.factor_text(c, slo.period), burnrate.percent(c.spent),
                               exhausted, burnrate.percent(f * b),
                               burnrate.reachable(c, slo.period, slo.objective)))
    return tuple(out)


def _queries(svc: Service, slo: Slo) -> tuple[Query, ...]:
    w = svc.rate_window
    ident = sloqueries.ident(svc, slo)

    def rec(template: str, window: Duration | None = None) -> str:
        return promql.selector(template.format(window=window), ident)
    return (
        Query(f"Error ratio over {w}",
              f"({sloqueries.error_rate(slo, w)})\n/\n{sloqueries.total_rate(slo, w)}"),
        Query(f"SLI over the period ({slo.period}, recorded)",
              f"1 - {rec(conventions.SLO_ERROR_RATIO, slo.period)}"),
        Query("Error budget remaining (recorded; 1 = untouched)",
              rec(conventions.SLO_REMAINING)),
        Query(f"Burn rate over {burnrate.BASE_WINDOW} (recorded)",
              rec(conventions.SLO_CURRENT_BURN)),
    )


def slo_doc(svc: Service, slo: Slo, anchor: str) -> SloDoc:
    from mcgen.rules.alerts import slo_alert_labels
    b = burnrate.budget(slo.objective)
    alerts = tuple(BurnAlertDoc(a.kind, a.severity, label_set(slo_alert_labels(svc, slo, a)),
                                sloqueries.alert_expr(svc, slo, a.kind)) for a in slo.alerts)
    recorded = tuple(dict.fromkeys(promql.selector(r.name, sloqueries.ident(svc, slo))
                                   for r in sloqueries.recordings(svc, slo)))
    runbook = conventions.runbook_url(svc.runbook_base_url, slo.alert_name) \
        if svc.runbook_base_url else None
    return SloDoc(slo, anchor, sli_words(svc, slo), f"{promql.number(b)} ({burnrate.percent(b)})",
                  budget_time(slo), rows(slo), alerts, _queries(svc, slo), recorded, runbook,
                  absent_doc(svc, slo))


def absent_doc(svc: Service, slo: Slo) -> AbsentDoc | None:
    from mcgen.rules.alerts import slo_absent_labels
    if slo.absent is None:
        return None
    a = slo.absent
    runbook = conventions.runbook_url(svc.runbook_base_url, a.name) \
        if svc.runbook_base_url else None
    return AbsentDoc(a.name, a.severity, a.for_,
                     promql.selector(*sloqueries.total_series(slo)),
                     label_set(slo_absent_labels(svc, slo, a)), sloqueries.absent_expr(slo),
                     runbook)
