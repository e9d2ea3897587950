"""The rules: what Prometheus evaluates, which every other output describes.

This module writes prometheus/<service>.rules.yml: recording rules, then one alerting
rule per alert. The expressions come from queries.py (metric alerts and the rates they
record) and sloqueries.py (SLO recordings and burn-rate alerts), the labels and
annotations of firing alerts from alerts.py; the generated tests (mcgen/proof) prove
them, the dashboards and the catalog show them.
"""

from __future__ import annotations

from typing import Any

from mcgen import conventions
from mcgen.errors import SpecError, SpecProblem
from mcgen.promql import gotemplate
from mcgen.rules import queries, sloqueries
from mcgen.rules.alerts import (
    alert_annotations,
    alert_labels,
    slo_absent_annotations,
    slo_absent_labels,
    slo_alert_annotations,
    slo_alert_labels,
)
from mcgen.spec.model import Alert, Model, Service
from mcgen.text import yamlout


def rule_labels(svc: Service, alert: Alert) -> dict[str, str]:
    """The same labels as written in the rule file, where values are templates."""
    return {k: gotemplate.literal(v) for k, v in alert_labels(svc, alert).items()}


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
