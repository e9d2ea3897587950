"""prometheus/<service>.rules.yml: recording rules, then one alerting rule per alert."""

from __future__ import annotations

from typing import Any

from mcgen import conventions, promql, queries, sloqueries
from mcgen.errors import SpecError, SpecProblem
from mcgen.promql import burnrate, gotemplate
from mcgen.spec.model import AbsentAlert, Alert, BurnAlert, Model, Service, Slo
from mcgen.text import yamlout


def alert_labels(svc: Service, alert: Alert) -> dict[str, str]:
    """The labels a firing alert gets from its rule: severity, service, the spec's
    alert_labels, the alert's labels."""
    labels = {"severity": alert.severity, "service": svc.name}
    labels.update(dict(svc.alert_labels))
    labels.update(dict(alert.labels))
    return dict(sorted(labels.items()))


def rule_labels(svc: Service, alert: Alert) -> dict[str, str]:
    """The same labels as written in the rule file, where values are templates."""
    return {k: gotemplate.literal(v) for k, v in alert_labels(svc, alert).items()}


def alert_annotations(svc: Service, alert: Alert) -> dict[str, str]:
    out = {"summary": alert.summary, "description": alert.description}
    if svc.runbook_base_url:
        out["runbook_url"] = gotemplate.literal(
            conventions.runbook_url(svc.runbook_base_url, alert.name))
    return out


def slo_alert_labels(svc: Service, slo: Slo, alert: BurnAlert) -> dict[str, str]:
    """SPEC 4: severity, service, slo, slo_severity, alert_labels, alerting.labels."""
    labels = {"severity": alert.severity, "service": svc.name, "slo": slo.name,
              "slo_severity": alert.kind}
    labels.update(dict(svc.alert_labels))
    labels.update(dict(slo.labels))
    return dict(sorted(labels.items()))


def slo_alert_annotations(svc: Service, slo: Slo, alert: BurnAlert) -> dict[str, str]:
    """Plain text (no $value: the burn rate is on the dashboard and in the recorded series)."""
    speed = "fast" if alert.kind == "page" else "steadily"
    what = f"{slo.description.rstrip('.')}. " if slo.description else ""
    when = " or ".join(c.describe(slo.period) for c in burnrate.conditions(alert.kind))
    out = {
        "summary": f"SLO {slo.name} is burning its error budget {speed}",
        "description": f"{what}Objective {slo.objective:g}% over {slo.period} (error budget "
                       f"{burnrate.percent(burnrate.budget(slo.objective))}); this alert fires "
                       f"on {when}.",
    }
    if svc.runbook_base_url:
        out["runbook_url"] = conventions.runbook_url(svc.runbook_base_url, slo.alert_name)
    return {k: gotemplate.literal(v) for k, v in out.items()}


def slo_absent_labels(svc: Service, slo: Slo, absent: AbsentAlert) -> dict[str, str]:
    """SPEC 4: severity, service, slo, alert_labels, alerting.labels (no slo_severity:
    it is neither the page nor the ticket)."""
    labels = {"severity": absent.severity, "service": svc.name, "slo": slo.name}
    labels.update(dict(svc.alert_labels))
    labels.update(dict(slo.labels))
    return dict(sorted(labels.items()))


def slo_absent_annotations(svc: Service, slo: Slo, absent: AbsentAlert) -> dict[str, str]:
    what = f"{slo.description.rstrip('.')}. " if slo.description else ""
    series = promql.selector(*sloqueries.total_series(slo))
    out = {
        "summary": f"SLO {slo.name} has no data",
        "description": f"{what}No series of {series} for {absent.for_}: with no events "
                       "the SLI reads as perfect and no burn-rate alert can fire. Check that "
                       "the service runs and is scraped and that the metric was not renamed.",
    }
    if svc.runbook_base_url:
        out["runbook_url"] = conventions.runbook_url(svc.runbook_base_url, absent.name)
    return {k: gotemplate.literal(v) for k, v in out.items()}


def slo_alert_rules(svc: Service) -> list[dict[str, Any]]:
    rules = []
    for slo in svc.slos:
        for alert in slo.alerts:
            labels = slo_alert_labels(svc, slo, alert)
            rules.append({"alert": slo.alert_name,
                          "expr": sloqueries.alert_expr(svc, slo, alert.kind),
                          "labels": {k: gotemplate.literal(v) for k, v in labels.items()},
                          "annotations": slo_alert_annotations(svc, slo, alert)})
        if slo.absent is not None:
            labels = slo_absent_labels(svc, slo, slo.absent)
            rules.append({"alert": slo.absent.name, "expr": sloqueries.absent_expr(slo),
                          "for": str(slo.absent.for_),
                          "labels": {k: gotemplate.literal(v) for k, v in labels.items()},
                          "annotations": slo_absent_annotations(svc, slo, slo.absent)})
    return rules


def slo_recording_rules(svc: Service) -> list[dict[str, Any]]:
    rules = []
    for slo in svc.slos:
        labels = {"service": gotemplate.literal(svc.name), "slo": gotemplate.literal(slo.name)}
        rules += [{"record": r.name, "expr": r.expr, "labels": labels}
                  for r in sloqueries.recordings(svc, slo)]
    return rules


def recording_rules(svc: Service) -> list[queries.Recording]:
    found: dict[str, queries.Recording] = {}
    for metric in svc.metrics:
        for alert in metric.alerts:
            for rec in queries.recordings(alert, metric):
                if found.setdefault(rec.name, rec) != rec:
                    raise SpecError([SpecProblem(
                        alert.pos, f"recording rule name {rec.name} would stand for two "
                        f"aggregations ({found[rec.name].expr} and {rec.expr})",
                        "rename a label: the level joins label names with _")])
    return sorted(found.values())


def _recorded(rec: queries.Recording) -> dict[str, Any]:
    rule: dict[str, Any] = {"record": rec.name, "expr": rec.expr}
    if rec.labels:
        rule["labels"] = dict(rec.labels)  # recording rule labels are not templates
    return rule


def _group(name: str, svc: Service, rules: list[dict[str, Any]]) -> dict[str, Any]:
    group: dict[str, Any] = {"name": name}
    if svc.interval:
        group["interval"] = str(svc.interval)
    group["rules"] = rules
    return group


def rules_document(svc: Service, model: Model) -> dict[str, Any]:
    groups = []
    recorded = [_recorded(r) for r in recording_rules(svc)]
    if recorded:
        groups.append(_group(conventions.recording_group(svc.name), svc, recorded))
    slo_recorded = slo_recording_rules(svc)
    if slo_recorded:
        groups.append(_group(conventions.slo_group(svc.name), svc, slo_recorded))
    alerts = []
    for metric in svc.metrics:
        for alert in metric.alerts:
            rule: dict[str, Any] = {"alert": alert.name,
                                    "expr": queries.alert_expr(alert, metric)}
            rule["for"] = str(alert.for_)
            rule["labels"] = rule_labels(svc, alert)
            rule["annotations"] = alert_annotations(svc, alert)
            alerts.append(rule)
    alerts += slo_alert_rules(svc)
    if alerts:
        groups.append(_group(conventions.alert_group(svc.name), svc, alerts))
    return {"groups": groups}


def render(svc: Service, model: Model) -> dict[str, str]:
    text = conventions.header(svc) + yamlout.dump(rules_document(svc, model))
    return {conventions.rules_path(svc.name): text}
