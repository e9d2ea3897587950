"""Alert routing (SPEC 10): alertmanager/<service>.yml, the service's Alertmanager route
subtree, receivers and inhibit rules, from the spec's `routing:`.

The subtree matches `service="<service>"` (every alert of the service carries it) and
sits under the root route of a shared config (`mcgen alertmanager --base`, merge.py);
receivers are named `<service>-<name>` so that services never clash. An SLO's page
inhibits its ticket: both fire on the same budget, and the page says more. amtool proves
the merged config and where each alert goes (amtool.py, proof.py); inhibition, which
amtool cannot test, is proven by proof.py's own evaluation of the rules.
"""

from __future__ import annotations

from typing import Any

from mcgen import conventions, promql
from mcgen.promql import Matcher
from mcgen.spec.model import Model, Service
from mcgen.text import yamlout

# The labels of SLO burn-rate alerts (mcgen/rules/alerts.py, SPEC 4).
SLO_SEVERITY = "slo_severity"
SLO = "slo"
SERVICE = "service"


def service_matcher(svc: Service) -> Matcher:
    return Matcher(SERVICE, "=", svc.name)


def route(svc: Service) -> dict[str, Any]:
    """The service's subtree: its own alerts, its routes in order, its default."""
    routing = svc.routing
    assert routing is not None
    node: dict[str, Any] = {
        "receiver": conventions.receiver_name(svc.name, routing.default),
        "matchers": promql.alertmanager_matchers([service_matcher(svc)]),
        "group_by": list(routing.group_by),
    }
    node.update(dict(routing.timing))
    children = []
    for r in routing.routes:
        child: dict[str, Any] = {"receiver": conventions.receiver_name(svc.name, r.receiver),
                                 "matchers": promql.alertmanager_matchers(r.match)}
        if r.continue_:
            child["continue"] = True
        children.append(child)
    if children:
        node["routes"] = children
    return node


def receivers(svc: Service) -> list[dict[str, Any]]:
    """One Alertmanager receiver per spec receiver, its integrations as `<kind>_configs`."""
    assert svc.routing is not None
    out = []
    for r in sorted(svc.routing.receivers, key=lambda r: r.name):
        body: dict[str, Any] = {"name": conventions.receiver_name(svc.name, r.name)}
        for kind, settings in sorted(r.configs):
            body[f"{kind}_configs"] = [settings]
        out.append(body)
    return out


def pages_and_tickets(svc: Service) -> list[str]:
    """The SLOs that have both a page and a ticket: each page inhibits its ticket."""
    return [s.name for s in svc.slos if {a.kind for a in s.alerts} == {"page", "ticket"}]


def inhibit_rules(svc: Service) -> list[dict[str, Any]]:
    """Scoped to the service, so that merged configs keep one rule per service."""
    if not pages_and_tickets(svc):
        return []
    own = service_matcher(svc)
    return [{
        "source_matchers": promql.alertmanager_matchers([own, Matcher(SLO_SEVERITY, "=", "page")]),
        "target_matchers": promql.alertmanager_matchers(
            [own, Matcher(SLO_SEVERITY, "=", "ticket")]),
        "equal": [SERVICE, SLO],
    }]


def fragment(svc: Service) -> dict[str, Any]:
    doc: dict[str, Any] = {"route": route(svc), "receivers": receivers(svc)}
    rules = inhibit_rules(svc)
    if rules:
        doc["inhibit_rules"] = rules
    return doc


def render(svc: Service, model: Model) -> dict[str, str]:
    if svc.routing is None:
        return {}
    return {conventions.alertmanager_path(svc.name):
            conventions.header(svc) + yamlout.dump(fragment(svc))}
