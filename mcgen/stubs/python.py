"""stubs/python/<service>_metrics.py: prometheus_client metrics, typed helpers."""

from __future__ import annotations

import keyword
from collections.abc import Iterable
from dataclasses import dataclass

from mcgen import conventions, promql
from mcgen.spec.model import Metric, Service
from mcgen.stubs.common import CLIENT_CLASSES, MetricFacts, facts, unique
from mcgen.text.templates import render_template

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(ch: str, keep: str = "") -> str:
    if ch in keep:
        return ch
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    if ch.isprintable():
        return ch
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 \
        else f"\\U{code:08x}"


def string(text: str) -> str:
    """A double-quoted Python literal of any text."""
    return '"' + "".join(_escape(ch) for ch in text) + '"'


def docstring(text: str) -> str:
    """A triple-quoted literal of any text, newlines kept (`\"\"\"` and a trailing quote
    escaped)."""
    body = "".join(_escape(ch, keep='\n"') for ch in text).replace('"""', '\\"\\"\\"')
    if body.endswith('"'):
        body = body[:-1] + '\\"'
    return f'"""{body}"""'


def number(value: float) -> str:
    return repr(float(value))


def pytuple(items: Iterable[str]) -> str:
    """A tuple literal of items already quoted: `()`, `("a",)`, `("a", "b")`."""
    found = list(items)
    return f"({found[0]},)" if len(found) == 1 else f"({', '.join(found)})"


@dataclass(frozen=True)
class Param:
    label: str
    ident: str
    type: str  # Literal["a", "b"] or str


@dataclass(frozen=True)
class PyMetric:
    facts: MetricFacts
    const: str
    cls: str
    params: tuple[Param, ...]

    @property
    def metric(self) -> Metric:
        return self.facts.metric

    @property
    def doc(self) -> str:
        return describe(self.metric)


def _params(mf: MetricFacts) -> tuple[Param, ...]:
    # A parameter named like the metric's constant would hide it in the helper's body.
    reserved = {*keyword.kwlist, "value", "amount", "self", mf.base.upper()}
    idents = unique((lb.name for lb in mf.labels), reserved, lambda n: n)
    out = []
    for lb, ident in zip(mf.labels, idents, strict=True):
        kind = "str" if lb.values is None else \
            "Literal[" + ", ".join(string(v) for v in lb.values) + "]"
        out.append(Param(lb.name, ident, kind))
    return tuple(out)


def describe(metric: Metric) -> str:
    """The text of a metric's docstring: its help, then type, unit, labels and source."""
    lines = [metric.help.strip(), ""]
    kind = metric.type + (f", in {metric.unit}" if metric.unit else "")
    lines.append(f"{metric.name}: {kind}.")
    for lb in metric.labels:
        allowed = "any value" if lb.values is None else ", ".join(lb.values)
        lines.append(f"Label {lb.name}: {allowed}.")
    if metric.buckets:
        lines.append("Buckets: " + ", ".join(promql.number(b) for b in metric.buckets) + ".")
    if metric.source:
        lines.append(f"Collected at {metric.source}.")
    return "\n".join(lines)


def metrics_of(svc: Service) -> list[PyMetric]:
    return [PyMetric(mf, mf.base.upper(), CLIENT_CLASSES[mf.metric.type], _params(mf))
            for mf in facts(svc)]


def render(svc: Service) -> str:
    metrics = metrics_of(svc)
    return render_template(
        "stub_python.py.j2",
        {"py": string, "doc": docstring, "num": number, "pytuple": pytuple},
        header=conventions.header(svc, "#"), svc=svc, metrics=metrics,
        classes=sorted({m.cls for m in metrics}),
        literal=any(p.type != "str" for m in metrics for p in m.params),
        timer=any(m.cls in ("Histogram", "Summary") for m in metrics))
