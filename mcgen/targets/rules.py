"""prometheus/<service>.rules.yml: recording rules, then one alerting rule per alert."""

from __future__ import annotations

from typing import Any

from mcgen import conventions, gotemplate, queries, yamlout
from mcgen.errors import SpecError, SpecProblem
from mcgen.spec.model import Alert, Model, Service


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


def _group(name: str, svc: Service, rules: list[dict[str, Any]]) -> dict[str, Any]:
    group: dict[str, Any] = {"name": name}
    if svc.interval:
        group["interval"] = str(svc.interval)
    group["rules"] = rules
    return group


def rules_document(svc: Service, model: Model) -> dict[str, Any]:
    groups = []
    recorded = [{"record": r.name, "expr": r.expr} for r in recording_rules(svc)]
    if recorded:
        groups.append(_group(conventions.recording_group(svc.name), svc, recorded))
    alerts = []
    for metric in svc.metrics:
        for alert in metric.alerts:
            rule: dict[str, Any] = {"alert": alert.name,
                                    "expr": queries.alert_expr(alert, metric)}
            rule["for"] = str(alert.for_)
            rule["labels"] = rule_labels(svc, alert)
            rule["annotations"] = alert_annotations(svc, alert)
            alerts.append(rule)
    if alerts:
        groups.append(_group(conventions.alert_group(svc.name), svc, alerts))
    return {"groups": groups}


def render(svc: Service, model: Model) -> dict[str, str]:
    text = conventions.header(svc) + yamlout.dump(rules_document(svc, model))
    return {conventions.rules_path(svc.name): text}
