"""stubs/typescript/<service>_metrics.ts: prom-client metrics, typed helpers.

Every metric is an exported UPPER_SNAKE const (the Python stub's names) registered in
prom-client's default `register`; its helpers are camelCase (`observeApiLatencySeconds`,
`startApiLatencySecondsTimer`, `incApiRequestsTotal`, `setQueueDepth`) and take the labels
as one object whose type (`ApiLatencySecondsLabels`) lists the allowed values.

User text reaches the file only through `string` (a double-quoted literal) and `comment`
(the inside of a `/** */` block).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mcgen import conventions, promql
from mcgen.spec.model import Metric, Service
from mcgen.stubs.common import CLIENT_CLASSES, MetricFacts, facts, summary_quantiles, unique
from mcgen.stubs.python import describe
from mcgen.text.templates import render_template

# JSON's escapes, so that a literal is also JSON (no `\v`, no `\0`).
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b",
            "\f": "\\f"}
_IDENTIFIER = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")
_LINE_BREAKS = re.compile("\r\n|[\r\n\u2028\u2029\x85]")


def _utf16(code: int) -> str:
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def _escape(ch: str) -> str:
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    # Not printable: controls, U+2028/U+2029 (line breaks inside JS source before ES2019),
    # lone surrogates (cannot even be written as UTF-8), unassigned and private-use code points.
    return ch if ch.isprintable() else _utf16(ord(ch))


def string(text: str) -> str:
    """A double-quoted TypeScript string literal of any text (never a template literal, so
    `${` and backticks are plain characters); non-printable characters as \\u escapes."""
    return '"' + "".join(_escape(ch) for ch in text) + '"'


def key(name: str) -> str:
    """A type literal key: the bare name when it is an identifier name (reserved words such
    as `default` or `class` included: they are legal property names), quoted otherwise."""
    return name if _IDENTIFIER.match(name) else string(name)


def comment(text: str) -> str:
    """The lines of a `/** */` block holding any text: every line break (CR, LF, U+2028,
    U+2029, NEL) starts a new ` * ` line, `*/` cannot close the block, and what is not
    printable shows as a \\u escape."""
    lines = []
    for line in _LINE_BREAKS.split(text):
        safe = "".join(ch if ch.isprintable() or ch == "\t" else _utf16(ord(ch)) for ch in line)
        safe = safe.replace("*/", "*\\/")
        lines.append(f" * {safe}".rstrip())
    return "\n".join(lines)


def number(value: float) -> str:
    """A number literal as JavaScript prints it back (`1`, `0.005`, `1e-7`)."""
    return promql.js_float(float(value))


def signature(name: str, params: list[str], returns: str) -> str:
    """`export function name(params): returns {`, the parameters one a line past 100
    characters."""
    line = f"export function {name}({', '.join(params)}): {returns} {{"
    if len(line) <= 100 or not params:
        return line
    inner = "".join(f"  {p},\n" for p in params)
    return f"export function {name}(\n{inner}): {returns} {{"


def camel(base: str) -> str:
    """`api_latency_seconds` -> `ApiLatencySeconds` (each `_` part capitalised), with a
    `Metric` prefix when that would not start with a letter (`_1x_total` -> `Metric1xTotal`)."""
    stem = "".join(part[:1].upper() + part[1:] for part in base.split("_"))
    return stem if stem[:1].isalpha() else "Metric" + stem


@dataclass(frozen=True)
class Param:
    label: str
    values: tuple[str, ...] | None  # None: any string

    @property
    def member(self) -> str:
        """The label's line(s) in the labels type: `route: "/a" | "/b";`, one value a
        line past 100 characters."""
        name = key(self.label)
        if self.values is None:
            return f"  {name}: string;"
        quoted = [string(v) for v in self.values]
        line = f"  {name}: {' | '.join(quoted)};"
        if len(line) <= 100:
            return line
        return f"  {name}:\n" + "\n".join(f"    | {q}" for q in quoted) + ";"


@dataclass(frozen=True)
class TsMetric:
    facts: MetricFacts
    const: str
    stem: str  # PascalCase, unique within the service
    cls: str
    params: tuple[Param, ...]

    @property
    def metric(self) -> Metric:
        return self.facts.metric

    @property
    def quantiles(self) -> tuple[float, ...]:
        return summary_quantiles(self.metric)

    @property
    def doc(self) -> str:
        text = describe(self.metric)
        if self.cls == "Summary":  # the Python client exports no quantiles; prom-client does
            text += "\nQuantiles: " + ", ".join(number(q) for q in self.quantiles) + "."
        return text


def _params(mf: MetricFacts) -> tuple[Param, ...]:
    return tuple(Param(lb.name, lb.values) for lb in mf.labels)


def ts_metrics(svc: Service) -> list[TsMetric]:
    """The service's metrics with their TypeScript names, in spec order."""
    found = facts(svc)
    # Stems differ whenever the bases do, except when only underscores tell them apart
    # (`a_1b` and `a1b`); those get a trailing `_`.
    stems = unique((mf.base for mf in found), set(), camel)
    return [TsMetric(mf, mf.base.upper(), stem, CLIENT_CLASSES[mf.metric.type], _params(mf))
            for mf, stem in zip(found, stems, strict=True)]


def render(svc: Service) -> str:
    metrics = ts_metrics(svc)
    return render_template(
        "stub_typescript.ts.j2",
        {"ts": string, "key": key, "comment": comment, "num": number},
        header=conventions.header(svc, "//"), svc=svc, metrics=metrics, signature=signature,
        classes=sorted({m.cls for m in metrics}))
