"""What the routing must do, alert by alert: the receiver(s) each alert reaches, as the
spec says, and which alerts inhibit which.

The alerts are given with their exact labels (the label sets the generated promtool tests
prove the rules fire with: mcgen/api.py collects them), so this module never guesses a
label. amtool then shows the merged config sends each where the spec says (amtool.py);
inhibition, which amtool cannot test, is judged here by evaluating the config's inhibit
rules as Alertmanager does: a target alert is muted while a source alert fires whose
labels match the source matchers and agree with it on every `equal` label.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mcgen import conventions, routing
from mcgen.spec.model import Service

Labels = Mapping[str, str]

_MATCHER = re.compile(r'^([a-zA-Z_][a-zA-Z0-9_]*)(=~|!~|!=|=)"(.*)"$', re.DOTALL)


@dataclass(frozen=True)
class RouteCase:
    """One alert of a service and the config receivers it must reach."""

    service: str
    labels: tuple[tuple[str, str], ...]
    receivers: tuple[str, ...]

    @property
    def alertname(self) -> str:
        return dict(self.labels).get("alertname", "?")


def cases(svc: Service, alerts: Iterable[Labels]) -> list[RouteCase]:
    """Each distinct label set of the service's alerts with where the spec sends it."""
    assert svc.routing is not None
    seen: dict[tuple[tuple[str, str], ...], RouteCase] = {}
    for labels in alerts:
        key = tuple(sorted(labels.items()))
        wanted = svc.routing.receives(dict(labels))
        seen.setdefault(key, RouteCase(svc.name, key, tuple(
            conventions.receiver_name(svc.name, r) for r in wanted)))
    return sorted(seen.values(), key=lambda c: c.labels)


def _parse(text: str) -> tuple[str, str, str]:
    """A matcher as mcgen writes it (promql.alertmanager_matchers): name, op, value."""
    found = _MATCHER.match(text)
    if not found:
        raise ValueError(f"not a matcher mcgen writes: {text!r}")
    return found.group(1), found.group(2), json.loads(f'"{found.group(3)}"')


def _matches(matchers: Iterable[str], labels: Labels) -> bool:
    for text in matchers:
        name, op, value = _parse(text)
        have = labels.get(name, "")
        hit = have == value if op in ("=", "!=") else re.fullmatch(value, have) is not None
        if hit != (op in ("=", "=~")):
            return False
    return True


def inhibited(config: Mapping[str, Any], alerts: Sequence[Labels]
              ) -> list[tuple[Labels, Labels]]:
    """(target, source) for every alert of `alerts` muted by another of them firing, under
    the config's inhibit rules written with `source_matchers`/`target_matchers`."""
    found = []
    for rule in config.get("inhibit_rules", []):
        sources = [a for a in alerts if _matches(rule.get("source_matchers", []), a)]
        for target in alerts:
            if not _matches(rule.get("target_matchers", []), target):
                continue
            two_sided = _matches(rule.get("source_matchers", []), target)
            for source in sources:
                if two_sided and _matches(rule.get("target_matchers", []), source):
                    continue  # Alertmanager: alerts matching both sides never mute each other
                if all(source.get(k, "") == target.get(k, "") for k in rule.get("equal", [])):
                    found.append((target, source))
    return found


def inhibition_problems(services: list[Service], config: Mapping[str, Any],
                        alerts: Mapping[str, Sequence[Labels]]) -> list[str]:
    """What the config's inhibit rules do wrong among the services' alerts: every SLO
    ticket must be muted by its own SLO's page, and nothing else muted by anything."""
    every = [a for svc in services for a in alerts.get(svc.name, [])]
    muted = inhibited(config, every)
    problems = []
    for target, source in muted:
        own = (target.get(routing.SLO_SEVERITY) == "ticket"
               and source.get(routing.SLO_SEVERITY) == "page"
               and target.get(routing.SERVICE) == source.get(routing.SERVICE)
               and target.get(routing.SLO) == source.get(routing.SLO))
        if not own:
            problems.append(f"{_name(target)} would be inhibited by {_name(source)}")
    for svc in services:
        if svc.routing is None:
            continue
        for slo in routing.pages_and_tickets(svc):
            tickets = [a for a in alerts.get(svc.name, []) if a.get(routing.SLO) == slo
                       and a.get(routing.SLO_SEVERITY) == "ticket"]
            pages = [a for a in alerts.get(svc.name, []) if a.get(routing.SLO) == slo
                     and a.get(routing.SLO_SEVERITY) == "page"]
            if not tickets or not pages:
                problems.append(f"service {svc.name}: SLO {slo}: no firing page and ticket "
                                "to judge the inhibition with")
            for ticket in tickets:
                for page in pages:
                    if (ticket, page) not in [(t, s) for t, s in muted]:
                        problems.append(f"{_name(ticket)} is not inhibited by {_name(page)}")
    return problems


def _name(labels: Labels) -> str:
    shown = ",".join(f"{k}={v}" for k, v in sorted(labels.items()) if k != "alertname")
    return f"{labels.get('alertname', '?')}{{{shown}}}"
