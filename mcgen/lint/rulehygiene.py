"""Rules on the structure of hand-written rule files: readable files, recording-rule
names, and the alert hygiene the spec rules ask of generated alerts."""

from __future__ import annotations

import re
from collections.abc import Iterator

import promql_parser as pp

from mcgen.lint import Context, Finding, Rule, rule
from mcgen.lint.rulefiles import RuleEntry
from mcgen.promql.parser import Node, metric_name, op, walk

_RECORD_RE = re.compile(
    r"^[a-zA-Z_][a-zA-Z0-9_]*:[a-zA-Z_][a-zA-Z0-9_]*:[a-zA-Z0-9_]+(:[a-zA-Z0-9_]+)*$")
_ALERT_RE = re.compile(r"^[A-Z][A-Za-z0-9]*$")
SEVERITIES = ("critical", "warning", "info", "none")  # none: Watchdog-style, never routed
_WINDOW_RE = re.compile(r"(\d+[smhdwy])$")


def _windows(node: Node) -> set[str]:
    """The ranges an expression reads: of range selectors, and of recorded series named
    after their window (`...:ratio_rate5m`)."""
    found: set[str] = set()
    for sub in walk(node):
        if isinstance(sub, pp.MatrixSelector):
            found.add(str(sub.range))
        elif isinstance(sub, pp.VectorSelector):
            window = _WINDOW_RE.search(metric_name(sub) or "")
            if window:
                found.add(window.group(1))
    return found


def _multiwindow(entry: RuleEntry) -> bool:
    """`long-window condition and short-window condition`: the multiwindow burn-rate
    pattern, where the short window already confirms the condition (no `for` needed)."""
    ast = entry.expr.parsed.ast if entry.expr is not None else None
    return ast is not None and any(
        isinstance(n, pp.BinaryExpr) and op(n) == "and" and _windows(n.lhs)
        and _windows(n.rhs) and _windows(n.lhs) != _windows(n.rhs) for n in walk(ast))


def _entries(ctx: Context, kind: str) -> Iterator[RuleEntry]:
    for file in ctx.rule_files:
        yield from (e for e in file.rules if e.kind == kind)


@rule("rules/file", "error", "Rule files are YAML with groups of named rules, each with an expr",
      kind="rules")
def file_structure(ctx: Context, r: Rule) -> Iterator[Finding]:
    """A rule file Prometheus cannot load: invalid YAML, no `groups` (`spec.groups` in a
    PrometheusRule), a group without `rules`, a rule without `alert`/`record` or `expr`."""
    for file in ctx.rule_files:
        for problem in file.problems:
            yield r.finding(problem.pos, problem.message, problem.hint)


@rule("rules/record-name", "warning", "Recording rules are named level:metric:operations",
      kind="rules")
def record_name(ctx: Context, r: Rule) -> Iterator[Finding]:
    """Prometheus' naming convention for recording rules, `level:metric:operations`
    (e.g. `job:http_requests_total:rate5m`), says what was aggregated, from which
    metric, and how, so a reader knows what the series means without opening the file."""
    for entry in _entries(ctx, "record"):
        if not _RECORD_RE.match(entry.name):
            yield r.finding(entry.pos("record"), f"recording rule `{entry.name}` is not "
                            "named level:metric:operations",
                            "e.g. `job:http_requests_total:rate5m` (labels kept, metric, "
                            "operations)")


@rule("rules/alert-name", "info", "Alert names are CamelCase", kind="rules")
def alert_name(ctx: Context, r: Rule) -> Iterator[Finding]:
    """Alert names are identifiers people search for and route on: CamelCase, no spaces
    (the convention of Prometheus' and kube-prometheus' rules)."""
    for entry in _entries(ctx, "alert"):
        if not _ALERT_RE.match(entry.name):
            camel = "".join(w[:1].upper() + w[1:] for w in re.split(r"[^A-Za-z0-9]+",
                                                                     entry.name))
            yield r.finding(entry.pos("alert"), f"alert `{entry.name}` is not CamelCase",
                            f"rename it, e.g. `{camel}`")


@rule("rules/alert-for", "warning", "Alerts have a `for`", kind="rules")
def alert_for(ctx: Context, r: Rule) -> Iterator[Finding]:
    """Without `for`, one bad evaluation pages someone: a scrape hiccup or a rate over a
    restart. Hold the condition for a few evaluation intervals first. Multiwindow
    burn-rate alerts (`long-window > f and short-window > f`) are exempt: the short window
    confirms the condition, and a `for` would only delay the page."""
    for entry in _entries(ctx, "alert"):
        value = entry.data.get("for")
        if value in (None, "0", "0s", "0m", 0) and not _multiwindow(entry) \
                and not _constant(entry):
            yield r.finding(entry.pos("for") if value is not None else entry.pos("alert"),
                            f"alert `{entry.name}` fires on the first evaluation (no `for`)",
                            "add `for: 5m` (at least a few evaluation intervals)")


def _constant(entry: RuleEntry) -> bool:
    """An expression that reads no series (`vector(1)`: the Watchdog, always firing):
    nothing to hold."""
    ast = entry.expr.parsed.ast if entry.expr is not None else None
    return ast is not None and not any(
        isinstance(n, pp.VectorSelector | pp.MatrixSelector) for n in walk(ast))


@rule("rules/alert-severity", "warning",
      "Alerts have a severity label: critical, warning or info", kind="rules")
def alert_severity(ctx: Context, r: Rule) -> Iterator[Finding]:
    """Alertmanager routes on `severity`; a missing or unusual value goes to the default
    receiver, or nowhere. `none` is accepted: kube-prometheus' Watchdog and InfoInhibitor
    carry it on purpose (they are never routed to people)."""
    for entry in _entries(ctx, "alert"):
        labels = entry.data.get("labels")
        severity = labels.get("severity") if isinstance(labels, dict) else None
        if severity is None:
            yield r.finding(entry.pos("alert"), f"alert `{entry.name}` has no severity label",
                            "add `labels: {severity: warning}` (critical, warning or info)")
        elif severity not in SEVERITIES:
            yield r.finding(entry.pos("labels", "severity"), f"alert `{entry.name}` has "
                            f"severity {severity!r}", "use critical, warning or info")


@rule("rules/alert-annotations", "warning",
      "Alerts have summary and description annotations", kind="rules")
def alert_annotations(ctx: Context, r: Rule) -> Iterator[Finding]:
    """Whoever is paged reads `summary` first and `description` next; without them the
    notification is an alert name and a label set."""
    for entry in _entries(ctx, "alert"):
        notes = entry.data.get("annotations")
        notes = notes if isinstance(notes, dict) else {}
        missing = [k for k in ("summary", "description") if not notes.get(k)]
        if missing:
            where = entry.pos("annotations") if "annotations" in entry.data \
                else entry.pos("alert")
            yield r.finding(where, f"alert `{entry.name}` has no "
                            f"{' or '.join(missing)} annotation",
                            "add `annotations:` with `summary` and `description` "
                            "(templates like {{ $labels.x }} and {{ $value }} work)")
