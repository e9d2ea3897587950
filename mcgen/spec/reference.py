"""The spec's key reference, made from the JSON Schema (schema.json): one table per mapping
of a spec (the top level, `defaults`, a metric, an alert, an SLO, ...) with every key, its
type, whether it is required, and its description. docs/spec.md holds it between markers;
tests/spec/test_reference.py keeps it current (`pytest --update-golden` rewrites it).
"""

from __future__ import annotations

from typing import Any

from mcgen.spec.schema import schema
from mcgen.text import markdown

BEGIN = "<!-- keys: generated from mcgen/spec/schema.json; do not edit by hand -->"
END = "<!-- end of keys -->"

# How a shared definition reads in the type column.
_DEF_TYPES = {
    "duration": "duration", "severity": "severity", "labelName": "label name",
    "labelMap": "label -> text", "selector": "label -> matcher (`select` syntax)",
    "threshold": "number", "matcherValue": "matcher",
}
# The definitions that are mappings of their own, and what to call them.
_TITLES = {"metric": "metrics[]: a metric", "alert": "alerts[]: an alert",
           "override": "overrides[]: a threshold override", "slo": "slos[]: an SLO",
           "sliSide": "sli.events.error / total", "burnAlert": "alerting.page / ticket",
           "absentAlert": "alerting.absent", "environment": "environments.NAME",
           "receiver": "routing.receivers.NAME: a receiver",
           "route": "routing.routes[]: a route"}


def _type(node: dict[str, Any]) -> str:
    ref = str(node.get("$ref", ""))
    if ref:
        name = ref.rsplit("/", 1)[-1]
        return _DEF_TYPES.get(name, "mapping")
    if "oneOf" in node:
        return " or ".join(_type(sub) for sub in node["oneOf"])
    if "const" in node:
        return f"`{node['const']}`".lower() if isinstance(node["const"], bool) \
            else f"`{node['const']}`"
    if "enum" in node:
        return " \\| ".join(f"`{v}`" for v in node["enum"])
    kind = node.get("type")
    if isinstance(kind, list):
        return " or ".join(_plain(k, node) for k in kind)
    return _plain(str(kind), node) if kind else "any"


def _plain(kind: str, node: dict[str, Any]) -> str:
    if kind == "array":
        return f"list of {_type(node.get('items', {}))}"
    if kind == "object":
        return "mapping"
    return {"string": "text", "integer": "integer", "number": "number",
            "boolean": "boolean", "null": "null"}.get(kind, kind)


def _table(title: str, node: dict[str, Any]) -> list[str]:
    required = set(node.get("required", ()))
    lines = [f"### {markdown.heading_text(title)}", "", "| key | type | required | meaning |",
             "|---|---|---|---|"]
    for key, sub in node["properties"].items():
        meaning = markdown.inline(str(sub.get("description", "")), cell=True)
        lines.append(f"| `{key}` | {_type(sub)} | {'yes' if key in required else ''} | "
                     f"{meaning} |")
    return [*lines, ""]


def _nested(title: str, node: dict[str, Any], out: list[str]) -> None:
    """The mapping's table, then those of its keys that are mappings of their own."""
    out += _table(title, node)
    for key, sub in node["properties"].items():
        inner = sub.get("additionalProperties") if isinstance(
            sub.get("additionalProperties"), dict) else None
        if "properties" in sub:
            _nested(f"{title.split(':')[0]}.{key}", sub, out)
        elif inner and "properties" in inner:
            _nested(f"{title.split(':')[0]}.{key}.NAME", inner, out)


def markdown_text() -> str:
    """The generated block, markers included."""
    doc = schema()
    out = [BEGIN, ""]
    _nested("spec: the top level", doc, out)
    for name, title in _TITLES.items():
        _nested(title, doc["$defs"][name], out)
    return "\n".join([*out, END]) + "\n"
