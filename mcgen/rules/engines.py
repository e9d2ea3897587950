"""The rules in the wrappings other rulers want (SPEC 6, optional targets): the same
groups as prometheus/<service>.rules.yml, and nothing a ruler would refuse.

- `prometheusrule`: kubernetes/<service>.prometheusrule.yaml, a prometheus-operator
  PrometheusRule (monitoring.coreos.com/v1) holding the groups, in mcgen.toml's
  [kubernetes] namespace and with its labels (the labels a Prometheus' ruleSelector
  picks).
- `mimir`: mimir/<service>.yml, a Grafana Mimir / Cortex ruler namespace file
  (`namespace: <service>`, the groups) whose expressions are in the canonical form the
  ruler's formatter prints (mcgen/promql/canonical.py), so `mimirtool rules lint`
  changes nothing.
"""

from __future__ import annotations

import re
from typing import Any

from mcgen import conventions
from mcgen.promql.canonical import canonical
from mcgen.rules import rules_document
from mcgen.spec.model import Model, Service
from mcgen.text import yamlout

API_VERSION = "monitoring.coreos.com/v1"


def resource_name(service: str) -> str:
    """A Kubernetes object name (DNS-1123 subdomain) for the service: `_` becomes `-`."""
    return re.sub(r"[^a-z0-9-]", "-", service)


def prometheusrule(svc: Service, model: Model) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": resource_name(svc.name)}
    if model.settings.namespace:
        metadata["namespace"] = model.settings.namespace
    labels = dict(model.settings.labels)
    if labels:
        metadata["labels"] = labels
    return {"apiVersion": API_VERSION, "kind": "PrometheusRule", "metadata": metadata,
            "spec": rules_document(svc, model)}


def mimir(svc: Service, model: Model) -> dict[str, Any]:
    groups = []
    for group in rules_document(svc, model)["groups"]:
        rules = [{**rule, "expr": canonical(rule["expr"])} for rule in group["rules"]]
        groups.append({**group, "rules": rules})
    return {"namespace": svc.name, "groups": groups}


def render_prometheusrule(svc: Service, model: Model) -> dict[str, str]:
    return {conventions.prometheusrule_path(svc.name):
            conventions.header(svc) + yamlout.dump(prometheusrule(svc, model))}


def render_mimir(svc: Service, model: Model) -> dict[str, str]:
    return {conventions.mimir_path(svc.name):
            conventions.header(svc) + yamlout.dump(mimir(svc, model))}
