"""The dashboard's variables, and the drill-down to the bad replica.

A variable per declared label (SPEC 8), except the labels of info metrics (`*_info`,
`*_build_info`: versions, host names), which filter nothing worth choosing. Besides them
the scrape's `job` (when the service's selectors do not pin it) and `instance`, with
`.+` for All: every scraped series has them.

Recording rules keep neither job nor instance (one recording serves every alert and
panel at the level of the alert's labels), so the panels that read a recording show the
service as its alerts see it and never filter on $job/$instance (a recorded series has
no such label: `.+` would drop it). Panels on raw series filter on them, and each key
signal gets a panel by instance, read from the raw series, in its group's collapsed
details row.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from mcgen import promql
from mcgen.dashboards import titles
from mcgen.dashboards.model import Panel, Query, Variable
from mcgen.promql import Matcher
from mcgen.rules import queries
from mcgen.spec import names
from mcgen.spec.model import Metric, Service

TARGET_LABELS = ("job", "instance")
INFO_SUFFIX = "_info"


def info(metric: Metric) -> bool:
    """An info metric: a constant 1 whose labels describe the target (`build_info`)."""
    return metric.name.endswith(INFO_SUFFIX)


def variable_name(label: str) -> str:
    """The variable of a label: its name, except that `datasource` is the data source's,
    so `datasource`, `label_datasource`, ... get one more `label_` (no two clash)."""
    return f"label_{label}" if re.fullmatch(r"(label_)*datasource", label) else label


@dataclass(frozen=True)
class Scope:
    """Which labels have a variable: declared ones (by variable name) and the targets'."""

    labels: frozenset[str]
    targets: tuple[str, ...]

    def filters(self, labels: Sequence[str]) -> tuple[Matcher, ...]:
        """`label=~"${variable}"` for each of `labels` that has a variable."""
        return tuple(Matcher(lb, "=~", f"${{{variable_name(lb)}}}") for lb in labels
                     if lb in self.labels)

    def raw(self, metric: Metric) -> tuple[Matcher, ...]:
        """The filters of a raw series of `metric`: its labels' and the targets'."""
        return (*self.filters(metric.label_names),
                *(Matcher(t, "=~", f"${{{t}}}") for t in self.targets))


def _series(metric: Metric) -> str:
    return metric.name if metric.type in ("counter", "gauge") else f"{metric.name}_count"


def _source(scoped: Sequence[Metric], drop: str | None = None) -> str:
    """A selector of the series of `scoped` under their most common selector."""
    by_scope: dict[tuple[Matcher, ...], list[str]] = {}
    for metric in scoped:
        by_scope.setdefault(metric.selector, []).append(_series(metric))
    scope, found = max(by_scope.items(), key=lambda kv: len(kv[1]))
    scope = tuple(m for m in scope if m.label != drop)
    if len(found) == 1:
        return promql.selector(found[0], scope)
    return promql.selector("", (Matcher("__name__", "=~", promql.alternation(found)), *scope))


def targets(svc: Service) -> tuple[str, ...]:
    """The target labels that get a variable: `instance`, and `job` unless every metric's
    selector pins it; neither where a metric declares the label itself."""
    declared = {lb.name for m in svc.metrics for lb in m.labels}
    pinned = all(any(s.label == "job" and s.op == "=" for s in m.selector)
                 for m in svc.metrics)
    wanted = ("instance",) if pinned else TARGET_LABELS
    return tuple(t for t in wanted if t not in declared) if svc.metrics else ()


def variables(svc: Service) -> tuple[tuple[Variable, ...], Scope]:
    """A variable per declared label (its values read from the series that declare it,
    under their selector; where metrics with different selectors declare it, from those
    that share the most common one), then job and instance."""
    found: dict[str, list[Metric]] = {}
    for metric in svc.metrics:
        if info(metric):
            continue
        for lb in metric.labels:
            found.setdefault(lb.name, []).append(metric)
    out = [Variable(variable_name(label), label, f"label_values({_source(ms)}, {label})")
           for label, ms in found.items()]
    wanted = targets(svc)
    shown = [m for m in svc.metrics if not info(m)] or list(svc.metrics)
    for target in wanted:
        source = _source(shown, drop=target)
        if target == "instance" and "job" in wanted:
            source = _narrowed(source, Matcher("job", "=~", "${job}"))
        out.append(Variable(target, target, f"label_values({source}, {target})", ".+"))
    return tuple(out), Scope(frozenset(found), wanted)


def _narrowed(source: str, matcher: Matcher) -> str:
    """`source` with one more matcher (before its closing brace)."""
    if source.endswith("}"):
        return f"{source[:-1]}, {matcher}}}"
    return f"{source}{{{matcher}}}"


def panels(metric: Metric, scope: Scope) -> list[Panel]:
    """The key signals of a metric by instance, from its raw series: a histogram's request
    rate and the quantile its alerts watch (else its highest), a counter's rate."""
    if "instance" not in scope.targets or metric.type not in ("histogram", "counter"):
        return []
    keep = ("instance",)
    subject = titles.subject(metric.help, metric.name)
    rate_unit = "Bps" if metric.unit == "bytes" else "ops"
    if metric.type == "counter":
        expr = promql.aggregate("sum", keep, queries.raw_rate(
            metric, "", scope.raw(metric), promql.GRAFANA_RATE_INTERVAL))
        return [Panel(f"{metric.name}:rate-by-instance", "timeseries",
                      titles.title(subject, "rate by instance"),
                      titles.describe(metric.help, metric.name, [expr]),
                      (Query(expr, "{{instance}}"),), rate_unit, width=12)]
    alerted = [a.quantile for a in metric.alerts if a.quantile]
    q = max(alerted or metric.quantiles or (0.99,))  # the quantile alerts watch, else the top
    buckets = promql.aggregate("sum", (*keep, "le"), queries.raw_rate(
        metric, "_bucket", scope.raw(metric), promql.GRAFANA_RATE_INTERVAL))
    latency = promql.histogram_quantile(q, buckets)
    rate = promql.aggregate("sum", keep, queries.raw_rate(
        metric, "_count", scope.raw(metric), promql.GRAFANA_RATE_INTERVAL))
    unit = {"seconds": "s", "bytes": "bytes"}.get(metric.unit or "", "short")
    return [
        Panel(f"{metric.name}:quantile-by-instance", "timeseries",
              titles.title(subject, f"{names.quantile_name(q)} by instance"),
              titles.describe(metric.help, metric.name, [latency]),
              (Query(latency, "{{instance}}"),), unit, width=12),
        Panel(f"{metric.name}:rate-by-instance", "timeseries",
              titles.title(subject, "rate by instance"),
              titles.describe(metric.help, metric.name, [rate]),
              (Query(rate, "{{instance}}"),), rate_unit, width=12),
    ]
