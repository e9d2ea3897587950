"""`mcgen lint --prometheus URL`: the rule files' and specs' metrics against a live
Prometheus (read-only HTTP API calls, each answer cached for the run): series that do not
exist over the last hour, label names no series of the metric carries, and metric types
(the metadata API) that the expression or the spec contradicts."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import promql_parser as pp

from mcgen.errors import Position, UsageError, shorten
from mcgen.lint import Context, Finding, Rule, rule
from mcgen.promql.parser import RATE_FUNCTIONS, metric_name, walk

LOOKBACK_SECONDS = 3600  # "exists" means: has a series in the last hour


class Server:
    """A Prometheus' HTTP API, read-only, every answer cached for the run."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise UsageError(f"--prometheus {url}: give an http:// or https:// URL")
        self.url, self.timeout = url.rstrip("/"), timeout
        self.cache: dict[tuple[str, tuple[tuple[str, str], ...]], Any] = {}
        self.now = time.time()

    def get(self, path: str, params: tuple[tuple[str, str], ...] = ()) -> Any:
        key = (path, params)
        if key not in self.cache:
            query = urllib.parse.urlencode(params)
            url = f"{self.url}{path}{'?' + query if query else ''}"
            try:
                with urllib.request.urlopen(url, timeout=self.timeout) as answer:
                    body = json.load(answer)
            except urllib.error.HTTPError as exc:
                raise UsageError(f"--prometheus {self.url}: {path} answered HTTP {exc.code}; "
                                 "is it a Prometheus API?") from exc
            except (urllib.error.URLError, OSError, ValueError) as exc:
                raise UsageError(f"--prometheus {self.url}: cannot read {path} "
                                 f"({shorten(str(exc), 80)}); is it running and reachable?"
                                 ) from exc
            if not isinstance(body, dict) or body.get("status") != "success":
                raise UsageError(f"--prometheus {self.url}: {path} did not answer as a "
                                 "Prometheus API does")
            self.cache[key] = body.get("data")
        return self.cache[key]

    def _recent(self, match: str) -> tuple[tuple[str, str], ...]:
        return (("match[]", match), ("start", f"{self.now - LOOKBACK_SECONDS:.0f}"))

    def has_series(self, selector: str) -> bool:
        return bool(self.get("/api/v1/series", self._recent(selector)))

    def label_names(self, name: str) -> set[str]:
        return set(self.get("/api/v1/labels", self._recent(name)) or ())

    def metric_type(self, name: str) -> str | None:
        """The type the targets declare (`counter`, `gauge`, ...), if one does."""
        found = self.get("/api/v1/metadata", (("metric", name),)) or {}
        kinds = {m.get("type") for m in found.get(name, ())}
        return kinds.pop() if len(kinds) == 1 else None


def _selectors(ctx: Context) -> Iterator[tuple[Position, pp.VectorSelector, str]]:
    """Every named selector of the rule files, with its position and metric name; series
    recorded by the linted files themselves are not looked for."""
    recorded = {e.name for f in ctx.rule_files for e in f.rules if e.kind == "record"}
    for file in ctx.rule_files:
        for entry in file.rules:
            ast = entry.expr.parsed.ast if entry.expr is not None else None
            for node in walk(ast) if ast is not None else ():
                if not isinstance(node, pp.VectorSelector):
                    continue
                name = metric_name(node)
                if name and name not in recorded:
                    yield entry.pos("expr"), node, name


@rule("online/series-missing", "warning",
      "Every metric a rule reads has series in the Prometheus", kind="online")
def series_missing(ctx: Context, r: Rule) -> Iterator[Finding]:
    """With `--prometheus URL`: a selector that matches no series of the last hour. A rule
    that reads nothing never fires (an alert) or records nothing; the metric is misspelt,
    renamed by a new exporter version, or its labels no longer match."""
    server: Server = ctx.prometheus
    for pos, node, name in _selectors(ctx):
        if server.has_series(str(node)):
            continue
        if server.has_series(name):
            yield r.finding(pos, f"`{node}` matches no series in {server.url} over the last "
                            f"hour, though `{name}` has series",
                            "check the label matchers against the series' labels")
        else:
            yield r.finding(pos, f"`{name}` has no series in {server.url} over the last "
                            "hour", "check the name, and that its exporter is scraped")


@rule("online/label-missing", "warning",
      "Matchers name labels the metric's series carry", kind="online")
def label_missing(ctx: Context, r: Rule) -> Iterator[Finding]:
    """With `--prometheus URL`: a matcher on a label that no series of the metric carries
    (`{status="500"}` where the exporter says `code`): `=` and `=~` select nothing, `!=`
    and `!~` select everything."""
    server: Server = ctx.prometheus
    for pos, node, name in _selectors(ctx):
        carried = server.label_names(name)
        if not carried:
            continue  # no series at all: online/series-missing says so
        for m in node.matchers.matchers:
            if m.name != "__name__" and m.name not in carried:
                yield r.finding(pos, f"no series of `{name}` carries the label `{m.name}` "
                                f"(they carry: {', '.join(sorted(carried - {'__name__'}))})",
                                "match on one of those labels")


@rule("online/metric-type", "warning",
      "Rules and specs agree with the types the targets declare", kind="online")
def metric_type(ctx: Context, r: Rule) -> Iterator[Finding]:
    """With `--prometheus URL`: the metadata API says what type each target declares for a
    metric. rate() over a gauge, or a spec that declares a counter what the target calls a
    gauge, computes nonsense without any error."""
    server: Server = ctx.prometheus
    for file in ctx.rule_files:
        for entry in file.rules:
            ast = entry.expr.parsed.ast if entry.expr is not None else None
            for node in walk(ast) if ast is not None else ():
                if not (isinstance(node, pp.Call) and node.func.name in RATE_FUNCTIONS
                        and node.args and isinstance(node.args[0], pp.MatrixSelector)):
                    continue
                name = metric_name(node.args[0].vector_selector) or ""
                if name and server.metric_type(name) == "gauge":
                    yield r.finding(entry.pos("expr"), f"{node.func.name}() of `{name}`, which "
                                    f"{server.url}'s targets declare a gauge",
                                    "use deriv() or delta() for a gauge")
    for svc in ctx.model.services if ctx.model is not None else ():
        for metric in svc.metrics:
            declared = server.metric_type(metric.name)
            if declared in ("counter", "gauge", "histogram", "summary") \
                    and declared != metric.type:
                yield r.finding(metric.pos, f"metric '{metric.name}' is a {metric.type} in "
                                f"the spec but a {declared} to {server.url}'s targets",
                                f"declare it a {declared}, or fix the instrumentation")
