"""Cardinality rules: how many series a spec allows at worst, against a budget, and
labels whose values have no bound.

Worst case per metric and scrape target: the product of each label's allowed-value count
(a label declared `null` counts as `unbounded_label_values`, default 100, settable in
mcgen.toml's [lint]) times the series of one label combination: 1 for a counter or gauge,
buckets + 3 for a histogram (each finite bound, `+Inf`, `_sum`, `_count`), quantiles + 2
for a summary. The Python client's `_created` series are not counted. Budgets come from
the spec's `lint:` key, else mcgen.toml's [lint] (`series_budget`, default 10000 per
service; `metric_series_budget`, default 2000 per metric). An `external` metric is an
exporter's: its labels are not the spec's to bound, so these rules judge the service's own
metrics only.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator

from mcgen.lint import Context, Finding, Rule, rule
from mcgen.lint.common import own, services, tunable
from mcgen.spec.model import Metric, Service

# Label-name words that suggest a value per entity or request: unbounded by nature.
_ID_WORDS = re.compile(
    r"(?:^|_)(id|ids|uuid|guid|key|path|paths|url|urls|uri|email|emails|mail|user|users|"
    r"username|login|customer|account|ip|ips|addr|address|host|hostname|session|sessions|"
    r"trace|traceid|span|spanid|token|query|sql|filename)(?:_|$)")


def per_combination(m: Metric) -> int:
    if m.type == "histogram":
        return len(m.buckets) + 3
    if m.type == "summary":
        return len(m.quantiles) + 2
    return 1


def worst_case(ctx: Context, m: Metric) -> int:
    guess = int(tunable(ctx, "unbounded_label_values"))
    counts = [len(lb.values) if lb.values is not None else guess for lb in m.labels]
    return math.prod(counts) * per_combination(m)


def _explain(ctx: Context, m: Metric) -> str:
    guess = int(tunable(ctx, "unbounded_label_values"))
    parts = [f"{lb.name} {len(lb.values)}" if lb.values is not None
             else f"{lb.name} unbounded (~{guess})" for lb in m.labels]
    if m.type in ("histogram", "summary"):
        parts.append(f"{per_combination(m)} series per {m.type} child")
    return " x ".join(parts) or "1"


def budgets(ctx: Context, svc: Service) -> tuple[int, int]:
    """(service budget, metric budget): the spec's own, else mcgen.toml's."""
    return (svc.lint.series_budget or ctx.config.series_budget,
            svc.lint.metric_series_budget or ctx.config.metric_series_budget)


@rule("cardinality/metric-series", "warning", "Worst-case series of a metric within budget")
def metric_series(ctx: Context, rule: Rule) -> Iterator[Finding]:
    """A metric whose worst case (see the top of this section) exceeds the metric budget.
    Every series costs memory in Prometheus and in every client process; one metric with
    a runaway label can take down the server. Bound the labels (list their values),
    drop one, or aggregate in the application."""
    for svc in services(ctx):
        _, limit = budgets(ctx, svc)
        for m in own(svc):
            n = worst_case(ctx, m)
            if n > limit:
                yield rule.finding(m.pos, f"metric '{m.name}' can have {n:,} series per target "
                                   f"({_explain(ctx, m)}), above the budget of {limit:,}",
                                   "list label values, drop a label or buckets, or raise "
                                   "lint.metric_series_budget")


@rule("cardinality/service-series", "warning", "Worst-case series of a service within budget")
def service_series(ctx: Context, rule: Rule) -> Iterator[Finding]:
    """The sum of its metrics' worst cases exceeds the service budget (per scrape target;
    multiply by replicas for what Prometheus stores)."""
    for svc in services(ctx):
        limit, _ = budgets(ctx, svc)
        sizes = sorted(((worst_case(ctx, m), m.name) for m in own(svc)), reverse=True)
        total = sum(n for n, _ in sizes)
        if total > limit:
            top = ", ".join(f"{name} {n:,}" for n, name in sizes[:3])
            yield rule.finding(svc.pos, f"service '{svc.name}' can have {total:,} series per "
                               f"target, above the budget of {limit:,} (largest: {top})",
                               "bound or drop labels of the largest metrics, or raise "
                               "lint.series_budget")


@rule("cardinality/unbounded-id-label", "warning",
      "No unbounded label that holds ids, paths, emails, users, URLs or IPs")
def unbounded_id_label(ctx: Context, rule: Rule) -> Iterator[Finding]:
    """A label declared `null` (any value) whose name suggests one value per entity or
    request (`user_id`, `path`, `email`, `url`, `ip`, `session`, `trace_id`, ...) grows
    without limit: a new series for every user or request. Record such values in logs or
    traces; label with a bounded class instead (a route template, a status class)."""
    for svc in services(ctx):
        for m in own(svc):
            for lb in m.labels:
                if lb.values is None and _ID_WORDS.search(lb.name.lower()):
                    yield rule.finding(lb.pos, f"label '{lb.name}' of {m.name} is unbounded and "
                                       "its name suggests a value per entity or request",
                                       "list its allowed values, or use a bounded class "
                                       "(route template, status class) and log the raw value")
