"""What a test's checks can see, and for how long a sample stays visible to them.

A check of an alert (or of an expression) sees the series its expression selects,
through every recording rule it reads: a reference to a recorded series reads only the
definitions whose rule labels its matchers allow (two SLOs record `slo:sli_error:...`
with `slo="a"` and `slo="b"`; a check of one does not see the other's inputs). Each read
carries how long after a sample that sample can still change what the check sees: the
range or the 5m lookback, offsets, subquery ranges, one evaluation per recording rule
on the way, and `keep_firing_for`. A check is time-invariant unless its expression reads
the clock or the absence of series (`time()`, `absent()`, `vector()`, `@`...): only
time-invariant cases may run later on a shared timeline (groups.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import promql_parser as pp

from mcgen.promql import Duration, Matcher, parser

LOOKBACK_MS = 300_000  # Prometheus' default lookback delta, both engines
FOREVER_MS = 10**15
# Functions whose result depends on the evaluation time or on series being absent.
CLOCKED = frozenset({"time", "timestamp", "absent", "absent_over_time", "vector", "hour",
                     "minute", "month", "year", "day_of_month", "day_of_week",
                     "day_of_year", "days_in_month", "scalar"})
_OPS = {"MatchOp.Equal": "=", "MatchOp.NotEqual": "!=", "MatchOp.Re": "=~",
        "MatchOp.NotRe": "!~"}


@dataclass(frozen=True)
class Read:
    """A selector a check sees through: metric name (None: any) and matchers, and how
    long after a sample the sample still counts."""

    name: str | None
    matchers: tuple[Matcher, ...]
    tail_ms: int

    def sees(self, name: str, labels: Mapping[str, str]) -> bool:
        if self.name is not None and self.name != name:
            return False
        for m in self.matchers:
            value = name if m.label == "__name__" else labels.get(m.label, "")
            try:
                if not (m.matches(value) or m.matches(value, dot_all=True)):
                    return False
            except re.error:  # RE2 syntax Python does not know: assume it matches
                continue
        return True


@dataclass(frozen=True)
class Kept:
    """A set of label names: every label but `but` (`every`), or just `names`."""

    every: bool
    names: frozenset[str]

    def has(self, label: str) -> bool:
        return (label not in self.names) if self.every else (label in self.names)

    def meet(self, other: Kept) -> Kept:
        if self.every and other.every:
            return Kept(True, self.names | other.names)
        if self.every or other.every:
            only, but = (other, self) if self.every else (self, other)
            return Kept(False, only.names - but.names)
        return Kept(False, self.names & other.names)

    def less(self, labels: Iterable[str]) -> Kept:
        drop = frozenset(labels)
        return Kept(True, self.names | drop) if self.every else Kept(False, self.names - drop)

    def only(self, labels: Iterable[str]) -> Kept:
        keep = frozenset(labels)
        return Kept(False, keep - self.names) if self.every else Kept(False, self.names & keep)


EVERY = Kept(True, frozenset())
NOTHING = Kept(False, frozenset())


@dataclass(frozen=True)
class Reach:
    reads: tuple[Read, ...]
    clocked: bool  # not time-invariant


def _ms(delta: timedelta | None) -> int:
    return abs(int(delta.total_seconds() * 1000)) if delta is not None else 0


def _matchers(v: pp.VectorSelector) -> tuple[Matcher, ...] | None:
    """The selector's matchers; None when they cannot be read (an `or` of matcher sets)."""
    if v.matchers.or_matchers:
        return None
    return tuple(Matcher(m.name, _OPS[str(m.op)], m.value) for m in v.matchers.matchers)


def _selections(node: pp.Expr, extra: int
                ) -> Iterator[tuple[pp.VectorSelector, int, bool, bool]]:
    """(selector, how long a sample stays visible through it, whether it is pinned by @,
    whether it is a range)."""
    if isinstance(node, pp.MatrixSelector):
        v = node.vector_selector
        yield v, extra + _ms(node.range) + _ms(v.offset), v.at is not None, True
    elif isinstance(node, pp.VectorSelector):
        yield node, extra + LOOKBACK_MS + _ms(node.offset), node.at is not None, False
    elif isinstance(node, pp.SubqueryExpr):
        yield from _selections(node.expr, extra + _ms(node.range) + _ms(node.offset))
    else:
        for child in parser.children(node):
            yield from _selections(child, extra)


def _clocked(node: pp.Expr) -> bool:
    for sub in parser.walk(node):
        if isinstance(sub, pp.Call) and sub.func.name in CLOCKED:
            return True
        if isinstance(sub, pp.SubqueryExpr) and sub.at is not None:
            return True
    return isinstance(parser.unwrap(node), pp.NumberLiteral | pp.StringLiteral)


class Readers:
    """The rule file's alerts and recording rules, parsed once."""

    def __init__(self, rules_doc: Mapping[str, Any], eval_ms: int) -> None:
        self.eval_ms = eval_ms
        self.records: dict[str, list[tuple[dict[str, str], pp.Expr | None]]] = {}
        self.alerts: dict[str, list[tuple[pp.Expr | None, int]]] = {}
        for group in rules_doc["groups"]:
            for rule in group["rules"]:
                ast = parser.parse(str(rule["expr"])).ast  # None: promtool will say why
                if "record" in rule:
                    labels = {str(k): str(v) for k, v in (rule.get("labels") or {}).items()}
                    self.records.setdefault(str(rule["record"]), []).append((labels, ast))
                else:
                    keep = Duration.parse(str(rule.get("keep_firing_for", "0s"))).ms
                    self.alerts.setdefault(str(rule["alert"]), []).append((ast, keep))
        self._memo: dict[str, Reach] = {}
        self._apart: dict[str, Kept] = {}
        self._definitions: dict[tuple[str, int, tuple[str, ...]], Reach] = {}

    def of_alert(self, name: str) -> Reach:
        key = "alert\0" + name
        if key not in self._memo:
            reads: list[Read] = []
            clocked = False
            for ast, keep in self.alerts.get(name, ()):
                reach = self._reach(ast, keep, ())
                reads += reach.reads
                clocked |= reach.clocked
            self._memo[key] = Reach(tuple(reads), clocked)
        return self._memo[key]

    def apart(self, name: str) -> Kept:
        """Labels that keep an alert's outputs apart: each alert it fires depends only on
        the series with that alert's value of the label, so cases whose series differ in
        it cannot change each other's alerts."""
        if name not in self._apart:
            kept = NOTHING
            for i, (ast, _) in enumerate(self.alerts.get(name, ())):
                kept = self._keeps(ast, ()) if i == 0 else kept.meet(self._keeps(ast, ()))
            self._apart[name] = kept
        return self._apart[name]

    def _keeps(self, node: pp.Expr | None, seen: tuple[str, ...]) -> Kept:
        """The labels `node` keeps apart."""
        if node is None:
            return NOTHING
        if isinstance(node, pp.MatrixSelector):
            node = node.vector_selector
        if isinstance(node, pp.VectorSelector):
            name = parser.metric_name(node)
            if name not in self.records or name in seen:
                return EVERY
            kept = EVERY
            for labels, definition in self.records[name]:
                # A label the rule sets is the same on every output: it keeps nothing apart.
                kept = kept.meet(self._keeps(definition, (*seen, name)).less(labels))
            return kept
        if isinstance(node, pp.NumberLiteral | pp.StringLiteral):
            return EVERY
        if isinstance(node, pp.ParenExpr | pp.UnaryExpr | pp.SubqueryExpr):
            return self._keeps(node.expr, seen)
        if isinstance(node, pp.AggregateExpr):
            inner = self._keeps(node.expr, seen)
            if node.modifier is None or parser.op(node) == "count_values":
                return NOTHING
            grouping = frozenset(node.modifier.labels)
            if node.modifier.type == pp.AggModifierType.By:
                return inner.only(grouping)
            return inner.less(grouping)
        if isinstance(node, pp.Call):
            name = node.func.name
            if name in CLOCKED or name in ("label_replace", "label_join"):
                return NOTHING
            kept = EVERY
            for arg in node.args:
                if isinstance(arg, pp.Expr):
                    kept = kept.meet(self._keeps(arg, seen))
            return kept.less({"le"}) if name == "histogram_quantile" else kept
        if isinstance(node, pp.BinaryExpr):
            kept = self._keeps(node.lhs, seen).meet(self._keeps(node.rhs, seen))
            matching = node.modifier.matching if node.modifier is not None else None
            if matching is None:
                return kept
            matched = frozenset(matching.labels)
            if matching.type == pp.LabelModifierType.Include:
                return kept.only(matched)
            return kept.less(matched)
        return NOTHING

    def of_expr(self, expr: str) -> Reach:
        key = "expr\0" + expr
        if key not in self._memo:
            self._memo[key] = self._reach(parser.parse(expr).ast, 0, ())
        return self._memo[key]

    def _definition(self, name: str, i: int, seen: tuple[str, ...]) -> Reach:
        """What the i-th definition of a recorded series reads, from its own evaluation
        (tails to be added to the reader's); worked out once."""
        key = (name, i, seen)
        if key not in self._definitions:
            self._definitions[key] = self._reach(self.records[name][i][1], 0, (*seen, name))
        return self._definitions[key]

    def _reach(self, ast: pp.Expr | None, base: int, seen: tuple[str, ...]) -> Reach:
        if ast is None:  # unreadable: it may see anything, at any time
            return Reach((Read(None, (), FOREVER_MS),), True)
        reads: list[Read] = []
        clocked = _clocked(ast)
        for v, tail, pinned, ranged in _selections(ast, base):
            clocked |= pinned
            name = parser.metric_name(v)
            matchers = _matchers(v)
            if name in self.records and name not in seen:
                # A recorded series that stops being produced gets a staleness marker at
                # the next evaluation: no lookback, one evaluation.
                tail += self.eval_ms - (0 if ranged else LOOKBACK_MS)
                for i, (labels, _) in enumerate(self.records[name]):
                    if matchers is not None and not _allows(matchers, labels):
                        continue
                    inner = self._definition(name, i, seen)
                    reads += [Read(r.name, r.matchers, r.tail_ms + tail) for r in inner.reads]
                    clocked |= inner.clocked
                continue
            reads.append(Read(name, matchers or (), tail))
        return Reach(tuple(reads), clocked)


def _allows(matchers: tuple[Matcher, ...], labels: Mapping[str, str]) -> bool:
    """Whether a recorded series with these rule labels can meet the matchers (a label
    the rule does not set may come from its expression: it may)."""
    for m in matchers:
        if m.label not in labels:
            continue
        try:
            if not (m.matches(labels[m.label]) or m.matches(labels[m.label], dot_all=True)):
                return False
        except re.error:
            continue
    return True
