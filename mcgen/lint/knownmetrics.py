"""Which series a hand-written rule may read: the specs' metrics with the suffixes their
client libraries expose, the recording rules of the linted files, and the series
Prometheus makes itself."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from mcgen.lint import Context
from mcgen.promql.parser import metric_name, selectors

BUILTIN = frozenset({"up", "ALERTS", "ALERTS_FOR_STATE"})
BUILTIN_PREFIXES = ("scrape_",)
SUFFIXES = {
    "counter": ("", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "summary": ("", "_count", "_sum", "_created"),
}


@dataclass
class Known:
    types: dict[str, str] = field(default_factory=dict)  # spec metric -> type
    series: set[str] = field(default_factory=set)  # names a selector may use
    records: set[str] = field(default_factory=set)  # recording rules of the linted files
    prefixed: dict[str, str] = field(default_factory=dict)  # name without service_ -> name
    buckets_in_files: set[str] = field(default_factory=set)  # X where X_bucket is read
    labels: dict[str, frozenset[str]] = field(default_factory=dict)  # series -> declared

    def exists(self, name: str) -> bool:
        return (name in self.series or name in self.records or name in self.types
                or name in BUILTIN or name.startswith(BUILTIN_PREFIXES))

    def guess(self, name: str) -> str | None:
        if name in self.prefixed:
            return self.prefixed[name]
        close = difflib.get_close_matches(name, sorted(self.series | self.records), 1, 0.8)
        return close[0] if close else None


def _build(model: Any, files: tuple[Any, ...]) -> Known:
    known = Known()
    for service in model.services if model is not None else ():
        for metric in service.metrics:
            known.types[metric.name] = metric.type
            known.series.update(metric.name + s for s in SUFFIXES.get(metric.type, ("",)))
            for suffix in SUFFIXES.get(metric.type, ("",)):
                known.labels[metric.name + suffix] = frozenset(metric.label_names) | (
                    {"le"} if suffix == "_bucket" else set())
            prefix = service.name + "_"
            if metric.name.startswith(prefix):
                known.prefixed[metric.name[len(prefix):]] = metric.name
    for file in files:
        for entry in file.rules:
            if entry.kind == "record":
                known.records.add(entry.name)
            ast = entry.expr.parsed.ast if entry.expr is not None else None
            for sel in selectors(ast) if ast is not None else ():
                name = metric_name(sel)
                if name and name.endswith("_bucket"):
                    known.buckets_in_files.add(name.removesuffix("_bucket"))
    return known


_CACHE: dict[int, tuple[Context, Known]] = {}


def known_metrics(ctx: Context) -> Known:
    """Built once per lint run (the context is immutable)."""
    hit = _CACHE.get(id(ctx))
    if hit is None or hit[0] is not ctx:
        _CACHE.clear()
        hit = _CACHE[id(ctx)] = (ctx, _build(ctx.model, ctx.rule_files))
    return hit[1]
