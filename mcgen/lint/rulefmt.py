"""What Prometheus refuses to load in a rule file, beyond PromQL that does not parse: the
checks of its rule format (rulefmt) that `promtool check rules` makes, each an error at
its line. Unknown keys count: Prometheus reads rule files strictly, so a Thanos
`partial_response_strategy` or a Mimir `source_tenants` is refused by promtool (the
ruler that understands them has its own checker)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from mcgen.lint import Context, Finding, Rule, rule
from mcgen.lint.rulefiles import RuleEntry

GROUP_KEYS = ("name", "interval", "rules", "limit", "query_offset", "labels")
ALERT_KEYS = ("alert", "expr", "for", "keep_firing_for", "labels", "annotations")
RECORD_KEYS = ("record", "expr", "labels")
# Prometheus' model.ParseDuration: units from years down to milliseconds, in that order.
_DURATION = re.compile(r"(\d+y)?(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?(\d+ms)?")
_METRIC = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


def duration_ok(value: Any) -> bool:
    text = str(value)
    return text == "0" or (bool(text) and _DURATION.fullmatch(text) is not None)


@rule("rules/prometheus-refuses", "error",
      "Rule files hold only what Prometheus loads", kind="rules")
def refused(ctx: Context, r: Rule) -> Iterator[Finding]:
    """Prometheus (and `promtool check rules`) refuses a whole rule file for one of these:
    a group without a name or with the name of another group of the file, a key it does
    not know in a group or a rule, a rule that is both `alert` and `record`, a recording
    rule named other than a metric name or with `for`/`annotations`, a duration it cannot
    read (`for: 5 minutes`), a label name that is not one, or a label or annotation
    template whose `{{ }}` do not balance."""
    for file in ctx.rule_files:
        for doc, base in file.documents:
            yield from _groups(r, doc, base)
        for entry in file.rules:
            yield from _rule(r, entry)


def _groups(r: Rule, doc: Any, base: tuple[Any, ...]) -> Iterator[Finding]:
    groups = doc.data
    for part in base:
        groups = groups.get(part) if isinstance(groups, dict) else None
    seen: dict[str, int] = {}
    for g, group in enumerate(groups if isinstance(groups, list) else ()):
        if not isinstance(group, dict):
            continue
        where = (*base, g)
        name = group.get("name")
        if not name:
            yield r.finding(doc.pos(where), "a rule group without a name",
                            "give it `name:`, unique in the file")
        elif str(name) in seen:
            yield r.finding(doc.pos((*where, "name")), f"group name {str(name)!r} is used "
                            f"twice in this file (first at line {seen[str(name)]})",
                            "rename one of the groups")
        else:
            seen[str(name)] = doc.pos((*where, "name")).line
        for key in group:
            if key not in GROUP_KEYS:
                yield r.finding(doc.pos((*where, key), key=True), f"group key {key!r} is "
                                "not one Prometheus reads", _unknown_hint(key, GROUP_KEYS))
        for key in ("interval", "query_offset"):
            if key in group and not duration_ok(group[key]):
                yield r.finding(doc.pos((*where, key)), f"{key} {group[key]!r} is not a "
                                "duration", "write it like 30s, 5m or 1h30m")


def _rule(r: Rule, entry: RuleEntry) -> Iterator[Finding]:
    data = entry.data
    if "alert" in data and "record" in data:
        yield r.finding(entry.pos("record", key=True), "a rule with both `alert` and "
                        "`record`", "make it two rules")
        return
    allowed = ALERT_KEYS if entry.kind == "alert" else RECORD_KEYS
    for key in data:
        if key not in allowed:
            hint = _unknown_hint(key, allowed)
            if entry.kind == "record" and key in ALERT_KEYS:
                hint = f"a recording rule takes no `{key}` (only alerts do); remove it"
            yield r.finding(entry.pos(key, key=True), f"{entry.kind} rule key {key!r} is "
                            "not one Prometheus reads here", hint)
    if entry.kind == "record" and not _METRIC.fullmatch(entry.name):
        yield r.finding(entry.pos("record"), f"recording rule name {entry.name!r} is not a "
                        "metric name Prometheus 2.x accepts (3.x takes UTF-8 names)",
                        "use letters, digits, `_` and `:` (e.g. "
                        "job:http_requests_total:rate5m)")
    if entry.kind == "alert" and not entry.name.strip():
        yield r.finding(entry.pos("alert"), "an alert without a name", "name it")
    for key in ("for", "keep_firing_for"):
        if entry.kind == "alert" and key in data and not duration_ok(data[key]):
            yield r.finding(entry.pos(key), f"`{key}: {data[key]}` is not a duration",
                            "write it like 30s, 5m or 1h30m")
    for section in ("labels", "annotations"):
        values = data.get(section)
        if values is not None and not isinstance(values, dict):
            yield r.finding(entry.pos(section), f"`{section}` is not a mapping",
                            f"write `{section}:` as name: value pairs")
        if not isinstance(values, dict):
            continue
        for name, value in values.items():
            if section == "labels" and not _LABEL.fullmatch(str(name)):
                yield r.finding(entry.pos(section, name, key=True), f"label name {name!r} "
                                "is not one Prometheus 2.x accepts (3.x takes UTF-8 names)",
                                "use letters, digits and `_`")
            if isinstance(value, str) and not _balanced(value):
                yield r.finding(entry.pos(section, name), f"the template of {section[:-1]} "
                                f"{name!r} has unbalanced {{{{ }}}}",
                                "close every `{{` with `}}`")


def _balanced(text: str) -> bool:
    """Every `{{` closed by a `}}` before the next `{{`, outside quoted strings."""
    depth, i = 0, 0
    while i < len(text):
        if text.startswith("{{", i):
            if depth:
                return False
            depth, i = 1, i + 2
        elif text.startswith("}}", i) and depth:
            depth, i = 0, i + 2
        elif depth and text[i] in "\"`":
            end = text.find(text[i], i + 1)
            i = len(text) if end < 0 else end + 1
        else:
            i += 1
    return depth == 0


def _unknown_hint(key: str, allowed: tuple[str, ...]) -> str:
    import difflib
    close = difflib.get_close_matches(key, allowed, n=1)
    if close:
        return f"did you mean `{close[0]}`?"
    return f"remove it (Prometheus reads {', '.join(allowed)}); a ruler's own keys " \
        "(Thanos, Mimir) belong in the files that ruler lints"
