"""What promtool printed, as failures a person can act on: the file, the test group, the
alert or expression, the evaluation time, and what was expected and got, one line each.

`promtool test rules` (2.42 and 3.5 print the same) writes `  FAILED:` and then, per
failing check, an entry indented by four spaces:

    name: <test group>,                      (alert checks of named groups only)
    alertname: <alert>, time: <eval_time>,
        exp:[ 0: Labels:{...} Annotations:{...} ... ],
        got:[ ... ]
    expr: "<Go-quoted expr>", time: <eval_time>,
        exp: <labels> <value>, ...
        got: ...
    expr: "<expr>", time: <eval_time>, err: <error>
    rule: <rule>, time: <t>, err: <error>     (a rule failed to evaluate)

Expression checks, and alert checks of unnamed groups, do not say their group: it is
found in the test file (promtool reports groups in file order). `promtool check rules`
writes `<file>: <line>:<col>: group "<g>", rule <n>, "<rule>": <error>`. Lines that fit
none of these are kept as they are, so nothing promtool said is lost.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcgen.promql import Duration


@dataclass(frozen=True)
class Failure:
    """One failing check (or rule problem) of one file."""

    group: str | None  # the test group (or the rule group for `check rules`)
    subject: str  # `alert X`, `expr Y`, `rule Z`
    at: str | None  # evaluation time, or line:col in a rules file
    detail: str  # what was expected and got, or promtool's error, on one line
    group_kind: str = "test group"  # or "rule group", or "case(s)" of a shared test group

    def line(self) -> str:
        where = f"{self.group_kind} \"{self.group}\": " if self.group is not None else ""
        when = f" at {self.at}" if self.at else ""
        subject = " ".join(self.subject.splitlines())  # a multi-line expr, on one line
        return f"{where}{subject}{when}: {self.detail}"


@dataclass(frozen=True)
class Parsed:
    failures: tuple[Failure, ...]
    unparsed: tuple[str, ...]  # promtool's lines that fit no known entry, verbatim


_ENTRY = re.compile(r"^    (name|alertname|expr|rule): ")
_NAME = re.compile(r"^    name: (.*),\s*$")
_ALERT = re.compile(r"^    alertname: (.*?), time: (\S+?),\s*$")
_EXPR = re.compile(r'^    expr: (".*"), time: (\S+?),(?: err: (.*))?\s*$')
_RULE = re.compile(r"^    rule: (.*), time: (\S+?), err: (.*)$")
_ITEM = re.compile(r"Labels:(\{.*\})\s*\n\s*Annotations:(\{.*\})")
_PAIR = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"')
_CHECK = re.compile(r'^(.+?):(?: (\d+):(\d+):)? group "(.*)", rule (\d+), "(.*)": (.*)$')


def parse_test(stderr: str, test_file: Path | None) -> Parsed:
    """The failures of one `promtool test rules <file>` run."""
    entries: list[list[str]] = []
    unparsed: list[str] = []
    for line in stderr.splitlines():
        if not line.strip() or line.strip() == "FAILED:":
            continue
        if _ENTRY.match(line):
            if entries and _NAME.match(entries[-1][0]) and len(entries[-1]) == 1:
                entries[-1].append(line)  # `name:` then the alertname line it belongs to
            else:
                entries.append([line])
        elif line.startswith("        ") and entries:
            entries[-1].append(line)
        elif line not in unparsed:  # a broken rules file is reported once per group
            unparsed.append(line)
    groups = _groups(test_file) if test_file is not None else []
    finder = _GroupFinder(groups)
    failures = []
    for entry in entries:
        failure = _entry(entry, finder)
        if failure is None:
            unparsed += entry
        else:
            failures.append(failure)
    return Parsed(tuple(failures), tuple(unparsed))


def parse_check(stderr: str) -> Parsed:
    """The problems of one `promtool check rules <file>` run."""
    failures, unparsed = [], []
    for line in stderr.splitlines():
        if not line.strip() or line.strip() == "FAILED:":
            continue
        found = _CHECK.match(line)
        if found is None:
            unparsed.append(line)
            continue
        _, row, col, group, _, rule, error = found.groups()
        failures.append(Failure(group, f'rule "{rule}"', f"line {row}:{col}" if row else None,
                                error, "rule group"))
    return Parsed(tuple(failures), tuple(unparsed))


# -- test entries -------------------------------------------------------------------------
def _entry(lines: list[str], finder: _GroupFinder) -> Failure | None:
    head, body = lines[0], lines[1:]
    named = _NAME.match(head)
    group = None
    if named:
        if not body:
            return None
        group, head, body = named.group(1), body[0], body[1:]
    if (m := _ALERT.match(head)) is not None:
        name, at = m.group(1), m.group(2)
        group, kind = _case(finder.find(group, "alerts", name, at), name, "\n".join(body))
        return Failure(group, f"alert {name}", at, _alerts_detail(body), kind)
    if (m := _EXPR.match(head)) is not None:
        expr, at, err = _unquote(m.group(1)), m.group(2), m.group(3)
        group, kind = _case(finder.find(None, "exprs", expr, at), None, expr)
        detail = f"error: {err}" if err else _expr_detail(body)
        return Failure(group, f"expr {expr}", at, detail, kind)
    if (m := _RULE.match(head)) is not None and not body:
        return Failure(None, f"rule {m.group(1)}", m.group(2), f"error: {m.group(3)}")
    return None


_SLO = re.compile(r'slo="((?:[^"\\]|\\.)*)"')


def _case(group: str | None, alert: str | None, text: str) -> tuple[str | None, str]:
    """The failing case, where several share a test group (`A + B + ...`, in mcgen's
    files): the cases of the failing alert (`<alert> fires ...`), or of its SLO
    (`<slo>: ...`, the SLO named by the labels or the expression)."""
    if group is None or " + " not in group:
        return group, "test group"
    parts = group.split(" + ")
    mine = [p for p in parts if alert is not None and p.startswith(alert + " ")]
    if not mine:
        slos = set(_SLO.findall(text))
        mine = [p for p in parts if any(p.startswith(f"{slo}: ") for slo in slos)]
        mine = [p for p in mine if alert is not None and alert in p] or mine
    if not mine or len(mine) == len(parts):
        return group, "test group"
    return " + ".join(mine), "case" if len(mine) == 1 else "cases"


def _unquote(text: str) -> str:
    """Go's %q, read back (its escapes are a subset of Python's)."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text
    return value if isinstance(value, str) else text


def _split(body: Sequence[str]) -> tuple[str, str] | None:
    text = "\n".join(body)
    exp, got = text.find("exp:"), text.find("got:")
    if exp < 0 or got < exp:
        return None
    return text[exp + 4:got], text[got + 4:]


def _labels(text: str) -> dict[str, str]:
    return dict(_PAIR.findall(text))


def _show(labels: dict[str, str]) -> str:
    return "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"


def _alerts_detail(body: Sequence[str]) -> str:
    parts = _split(body)
    if parts is None:
        return " ".join(line.strip() for line in body)
    exp, got = ([(m.group(1), m.group(2)) for m in _ITEM.finditer(side)] for side in parts)
    out = [f"expected {len(exp)} firing, got {len(got)}"]
    got_by_labels = {labels: notes for labels, notes in got}
    exp_by_labels = {labels: notes for labels, notes in exp}
    for labels, notes in exp:
        if labels not in got_by_labels:
            out.append(f"missing {_show(_labels(labels))}")
        elif got_by_labels[labels] != notes:
            want, have = _labels(notes), _labels(got_by_labels[labels])
            for key in sorted(set(want) | set(have)):
                if want.get(key) != have.get(key):
                    out.append(f"{_show(_labels(labels))} annotation {key}: expected "
                               f"\"{want.get(key, '')}\", got \"{have.get(key, '')}\"")
    for labels, _ in got:
        if labels not in exp_by_labels:
            out.append(f"unexpected {_show(_labels(labels))}")
    return "; ".join(out)


def _expr_detail(body: Sequence[str]) -> str:
    parts = _split(body)
    if parts is None:
        return " ".join(line.strip() for line in body)
    exp, got = (" ".join(side.split()).rstrip(",") for side in parts)
    return f"expected {exp or 'nil'}, got {got or 'nil'}"


# -- which test group ---------------------------------------------------------------------
@dataclass(frozen=True)
class _Group:
    name: str
    alerts: frozenset[tuple[str, int]]
    exprs: frozenset[tuple[str, int]]
    unnamed: bool


def _ms(text: Any) -> int | None:
    try:
        return Duration.parse(str(text)).ms
    except ValueError:
        return 0 if str(text) == "0" else None


def _groups(test_file: Path) -> list[_Group]:
    import yaml
    try:
        doc = yaml.load(test_file.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
        tests = doc.get("tests") or []
        out = []
        for i, t in enumerate(tests):
            alerts = frozenset((str(c.get("alertname")), _ms(c.get("eval_time", "0s")) or 0)
                               for c in t.get("alert_rule_test") or ())
            exprs = frozenset((str(c.get("expr")), _ms(c.get("eval_time", "0s")) or 0)
                              for c in t.get("promql_expr_test") or ())
            name = t.get("name")
            out.append(_Group(str(name or f"#{i + 1} (unnamed)"), alerts, exprs, not name))
        return out
    except (OSError, yaml.YAMLError, AttributeError, TypeError):
        return []


class _GroupFinder:
    """Test groups in file order. promtool reports them in that order, and within a group
    its alert checks before its expression checks; an alert check of a named group always
    says the name. So each failure is looked for from the group of the one before it."""

    def __init__(self, groups: list[_Group]) -> None:
        self.groups: list[_Group] = groups
        self.current = 0
        self.exprs_seen = False  # in the current group: its alert checks are behind us

    def find(self, named: str | None, kind: str, subject: str, at: str) -> str | None:
        ms = _ms(at)
        start = self.current + 1 if kind == "alerts" and self.exprs_seen else self.current
        for i in [*range(start, len(self.groups)), *range(start)]:
            g: _Group = self.groups[i]
            if kind == "alerts":
                hit = g.name == named if named is not None else \
                    g.unnamed and (subject, ms) in g.alerts
            else:
                hit = (subject, ms) in g.exprs
            if hit:
                self.current, self.exprs_seen = i, kind == "exprs"
                return g.name
        return named
