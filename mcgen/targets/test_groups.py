"""Test cases that share a timeline. promtool evaluates every rule of the file at every
evaluation of every test group, up to the group's last check, so a suite costs about
groups x horizon x rules (issue 13). Cases whose series no other case's checks can see
therefore run in one group: a case joins a group when none of its series' names is read
by the group's checks, none of the group's series' names is read by its own checks, and
no series name is in both (so every check sees exactly the series it was proven with,
and no series is loaded twice). What a check can see is what its alert's expression,
or its expression, names, through every recording rule it reads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mcgen import promql


@dataclass
class Unit:
    """One case's test group, and what it holds and what its checks read."""

    group: dict[str, Any]
    names: frozenset[str]  # names of its input series
    reads: frozenset[str]  # series names its checks can see (among every case's)
    horizon_ms: int  # its last check


@dataclass
class _Packed:
    members: list[Unit] = field(default_factory=lambda: [])
    names: set[str] = field(default_factory=lambda: set())
    reads: set[str] = field(default_factory=lambda: set())

    def admits(self, unit: Unit) -> bool:
        return not (unit.names & self.names or unit.names & self.reads
                    or unit.reads & self.names)

    def add(self, unit: Unit) -> None:
        self.members.append(unit)
        self.names |= unit.names
        self.reads |= unit.reads


class Readers:
    """The text an alert or an expression reads, recording rules expanded."""

    def __init__(self, rules_doc: Mapping[str, Any]) -> None:
        self.exprs = {str(r.get("alert") or r["record"]): str(r["expr"])
                      for g in rules_doc["groups"] for r in g["rules"]}
        self.records = [str(r["record"]) for g in rules_doc["groups"] for r in g["rules"]
                        if "record" in r]

    def text(self, expr: str) -> str:
        seen: set[str] = set()
        parts, todo = [expr], [expr]
        while todo:
            current = todo.pop()
            for record in self.records:
                if record not in seen and record in current:
                    seen.add(record)
                    parts.append(self.exprs[record])
                    todo.append(self.exprs[record])
        return "\n".join(parts)

    def of_group(self, group: Mapping[str, Any]) -> str:
        texts = [self.text(self.exprs.get(str(c["alertname"]), str(c["alertname"])))
                 for c in group.get("alert_rule_test", ())]
        texts += [self.text(str(c["expr"])) for c in group.get("promql_expr_test", ())]
        return "\n".join(texts)


def unit(group: dict[str, Any], names: Sequence[str], readers: Readers) -> Unit:
    checks = [*group.get("alert_rule_test", ()), *group.get("promql_expr_test", ())]
    horizon = max((promql.Duration.parse(str(c["eval_time"])).ms for c in checks), default=0)
    # `reads` holds the whole text for now; pack() narrows it to series names.
    return Unit(group, frozenset(names), frozenset([readers.of_group(group)]), horizon)


def pack(units: Sequence[Unit]) -> list[dict[str, Any]]:
    """The test groups: longest horizon first, each case in the first group that admits
    it (a shorter case rides along for free) with the same sampling interval."""
    every = set().union(*(u.names for u in units)) if units else set()
    narrowed = [Unit(u.group, u.names, frozenset(n for n in every
                                                 if any(n in text for text in u.reads)),
                     u.horizon_ms) for u in units]
    order = sorted(range(len(narrowed)), key=lambda i: -narrowed[i].horizon_ms)
    packs: list[tuple[str, _Packed, list[int]]] = []
    for i in order:
        u = narrowed[i]
        interval = str(u.group["interval"])
        found = next(((p, at) for iv, p, at in packs if iv == interval and p.admits(u)), None)
        if found is None:
            found = (_Packed(), [])
            packs.append((interval, *found))
        found[0].add(u)
        found[1].append(i)
    # Written in the cases' own order (a case alone keeps its place and its text).
    ordered = sorted(((sorted(at), p) for _, p, at in packs), key=lambda pair: pair[0][0])
    return [_merged([narrowed[i] for i in at]) for at, _ in ordered]


def _merged(members: Sequence[Unit]) -> dict[str, Any]:
    if len(members) == 1:
        return members[0].group
    out: dict[str, Any] = {
        "name": " + ".join(str(m.group["name"]) for m in members),
        "interval": members[0].group["interval"],
        "input_series": [s for m in members for s in m.group["input_series"]],
    }
    alerts = [c for m in members for c in m.group.get("alert_rule_test", ())]
    exprs = [c for m in members for c in m.group.get("promql_expr_test", ())]
    if alerts:
        out["alert_rule_test"] = alerts
    if exprs:
        out["promql_expr_test"] = exprs
    return out
