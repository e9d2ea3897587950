"""Label matchers of a spec (`select`, `match`, `ratio_to.select`, SLI `select` and
`selector`): parsed, checked, and compared.

A label the metric declares is checked against its allowed values. Any other valid label
name is a target label: `job`, `instance`, or whatever the scrape configuration and
relabelling add (`namespace`, `cluster`, ...). mcgen cannot know their values, so it takes
them as written; `mcgen lint` reports names that look like a typo of a declared label
(`lint/labels.py`), since a validator that refused them would also refuse real labels.
"""

from __future__ import annotations

import re
import re._parser as sre  # type: ignore[import-not-found]  # stdlib regex parser
from collections.abc import Mapping, Sequence
from typing import Any

from mcgen.errors import choices, shorten
from mcgen.promql import Matcher
from mcgen.spec.builder import Builder
from mcgen.spec.load import JsonPath
from mcgen.spec.model import SERVICE_LABEL, TARGET_LABELS, Metric

# Labels the client library sets on some series of a type; a spec never selects on them.
RESERVED = {"histogram": "le", "summary": "quantile"}
# Perl/Python regex syntax that RE2 (Prometheus) rejects: lookaround, backreferences,
# atomic groups, possessive quantifiers, conditionals. Each escape (a backslash and the
# character after it) is consumed whole, so an escaped backslash before a digit (the regex
# `\\\\5xx` a list value `\\5xx` becomes) or an escaped `(` is not taken for one.
_NOT_RE2 = re.compile(r"\\[1-9]|\\.|\(\?<?[=!]|\(\?P=|\(\?>|\(\?\(|[*+?}]\+", re.DOTALL)


def parse(b: Builder, metric: Metric | None, raw: Mapping[str, Any], path: JsonPath,
          what: str = "select") -> tuple[Matcher, ...]:
    """The matchers of one mapping (label -> value in `select` syntax), each mistake
    reported at its label. With a metric: values of declared labels must be allowed, and
    an equality the metric's selector excludes is refused (no series could match)."""
    out = []
    for label, spec in raw.items():
        at = (*path, label)
        matcher = Matcher.from_spec(label, spec)
        if not _name_ok(b, metric, label, at, what) or not regex_ok(b, matcher, at):
            continue
        declared = metric.label(label) if metric is not None else None
        if declared is not None and declared.values is not None:
            values = [spec] if isinstance(spec, str) and not matcher.is_regex else (
                spec if not isinstance(spec, str) else [])
            unknown = [v[1:] if matcher.op == "!=" else v for v in values]
            unknown = [v for v in unknown if v not in declared.values]
            for v in unknown:
                b.error(at, f"{shorten(v)} is not an allowed value of label '{label}'",
                        "use one of: " + choices(declared.values))
            split = [v for v in declared.values if not matcher.engines_agree(v)]
            if split:
                b.error(at, f"regex {shorten(matcher.value)} judges the allowed value "
                        f"{shorten(split[0])} differently on Prometheus 2.x and 3.x (only 3.x "
                        "lets '.' match a newline)", "say which you mean: [^\\n] for any "
                        "character but a newline, (?s:.) for any character")
            elif not unknown and not any(matcher.matches(v) for v in declared.values):
                b.error(at, f"{what} on '{label}' matches none of its allowed values",
                        "widen it; allowed: " + choices(declared.values))
        if metric is not None and disjoint([matcher], metric.selector):
            b.error(at, f"{what} {matcher} is outside the selector of {metric.name} "
                    f"({', '.join(str(m) for m in metric.selector if m.label == label)}), so "
                    "no series can match", f"drop '{label}' from {what} or change the selector")
        out.append(matcher)
    return tuple(sorted(out))


def _name_ok(b: Builder, metric: Metric | None, label: str, at: JsonPath, what: str) -> bool:
    if label.startswith("__"):
        b.error(at, f"{what} names label '{label}', which starts with __ (reserved for "
                "Prometheus' internal labels)", "use an ordinary label name", key=True)
        return False
    reserved = RESERVED.get(metric.type) if metric is not None else None
    if label == reserved or (metric is None and label in RESERVED.values()):
        kind = f"a {metric.type}'s" if metric is not None else "histogram and summary"
        b.error(at, f"{what} names label '{label}', which client libraries set on {kind} "
                "series themselves", f"remove it; mcgen selects '{label}' where a query "
                "needs it", key=True)
        return False
    return True


def regex_ok(b: Builder, matcher: Matcher, at: JsonPath) -> bool:
    """A regex matcher Prometheus accepts (RE2 syntax), else an error at `at`."""
    if not matcher.is_regex:
        return True
    perl = next((m for m in _NOT_RE2.finditer(matcher.value)
                 if not m.group().startswith("\\") or m.group()[1] in "123456789"), None)
    if perl:
        b.error(at, f"regex {shorten(matcher.value)} uses '{perl.group()}', which "
                "Prometheus' RE2 engine does not support", "rewrite it without lookaround, "
                "backreferences or possessive and atomic groups")
        return False
    try:
        re.compile(matcher.value)
    except re.error as exc:
        b.error(at, f"invalid regex {shorten(matcher.value)}: {exc.msg}",
                "fix the regular expression")
        return False
    return True


def selector(b: Builder, raw: Mapping[str, Any], path: JsonPath) -> tuple[Matcher, ...]:
    """A `selector` (service or metric): matchers on target labels."""
    out = parse(b, None, raw, path, "selector")
    for m in out:
        if m.label in TARGET_LABELS and m.op == "=" and m.value == "":
            b.error((*path, m.label), f"selector {m} matches no scraped series (the scrape "
                    f"sets '{m.label}' on every one)", f"give the value of '{m.label}' your "
                    "service's series have", key=True)
    return out


def declared_in_selector(b: Builder, metric: Metric, path: JsonPath) -> None:
    """A selector names target labels; a label the metric declares belongs in `select`.
    `path` is the selector that applies (the metric's or the service's)."""
    for m in metric.selector:
        if metric.label(m.label) is not None:
            b.error((*path, m.label), f"selector names '{m.label}', a label {metric.name} "
                    "declares (a selector names target labels such as job or namespace)",
                    "filter declared labels with an alert's 'select' instead", key=True)


def recorded_clash(b: Builder, metric: Metric, select: Sequence[Matcher], path: JsonPath
                   ) -> None:
    """Rates of a metric under a selector are recorded with mcgen's `service` label (two
    services may record the same metric name), which would overwrite a series label of
    that name kept for `select`."""
    if metric.selector and any(m.label == SERVICE_LABEL for m in select):
        b.error((*path, SERVICE_LABEL), f"select on '{SERVICE_LABEL}' of {metric.name}, whose "
                f"recorded rates carry mcgen's own '{SERVICE_LABEL}' label (it has a selector)",
                "filter on another label, or set the metric's selector to {}", key=True)


def outside(matcher: Matcher, within: Sequence[Matcher]) -> bool:
    """An equality (or list of values) none of whose values `within` accepts."""
    values = _values(matcher)
    return bool(values) and any(
        w.label == matcher.label and not any(w.matches(v) for v in values) for w in within)


_SPECIAL = set(".+*?()[]{}^$")


def _values(matcher: Matcher) -> list[str]:
    """The values an `=` matcher, or an alternation of literals (a list), accepts; empty
    when the matcher accepts values it does not spell out."""
    if matcher.op == "=":
        return [matcher.value]
    if matcher.op != "=~":
        return []
    out: list[str] = []
    current: list[str] = []
    text, i = matcher.value, 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            if text[i + 1].isalnum():  # \d, \w, \b: classes and assertions
                return []
            current.append(text[i + 1])
            i += 2
            continue
        if ch in _SPECIAL:
            return []
        if ch == "|":
            out.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    out.append("".join(current))
    return out if all(re.fullmatch(matcher.value, v) for v in out) else []


def _prefix(matcher: Matcher) -> str:
    """The literal text every value an `=~` matcher accepts starts with (RE2 anchors
    the whole value): the leading literals of a regex without top-level alternation."""
    if matcher.op != "=~":
        return ""
    try:
        tree = sre.parse(matcher.value)
    except re.error:
        return ""
    parsed = list(tree)
    if tree.state.flags & re.IGNORECASE or any(str(op) == "BRANCH" for op, _ in parsed):
        return ""  # (?i): `shop` and `SHOP` overlap
    out = []
    for op, av in parsed:
        if str(op) != "LITERAL":
            break
        out.append(chr(av))
    return "".join(out)


def _prefixes_clash(a: Sequence[Matcher], b: Sequence[Matcher]) -> bool:
    for x in a:
        for y in b:
            p, q = _prefix(x), _prefix(y)
            if x.label == y.label and p and q and not (p.startswith(q) or q.startswith(p)):
                return True
    return False


def disjoint(a: Sequence[Matcher], b: Sequence[Matcher]) -> bool:
    """Whether no series can match both selectors: on some label, either one of them
    admits only values it spells out (a plain value, a list, an alternation of literals)
    and the other's matcher on that label rejects every one of them, or both are regexes
    whose values start with different literal text (`~shop-.*`, `~cart-.*`). Anything
    else (other regexes against each other, negations only, no common label) may select
    common series."""
    return (any(outside(m, b) for m in a) or any(outside(m, a) for m in b)
            or _prefixes_clash(a, b))
