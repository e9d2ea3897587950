"""Naming rules: the Prometheus conventions for metric and label names
(https://prometheus.io/docs/practices/naming/) that validation does not already enforce.

Already errors in validation, so not repeated here: counters not ending in `_total`,
`_total` on anything else, a `unit` the name does not end in. None of these rules judges
an `external` metric's name: an exporter's names are not the spec author's to change.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterator

from mcgen.lint import Context, Finding, Rule, rule
from mcgen.lint.common import own, services

_SNAKE = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")
# Name parts that are a scaled or non-base unit, and the base unit to use instead.
_NOT_BASE = {
    **dict.fromkeys(("milliseconds", "millis", "ms", "microseconds", "micros",
                     "nanoseconds", "ns", "minutes", "mins", "hours", "days"), "seconds"),
    **dict.fromkeys(("kilobytes", "kb", "kib", "megabytes", "mb", "mib", "gigabytes", "gb",
                     "gib", "terabytes", "tb"), "bytes"),
    **dict.fromkeys(("percent", "percentage", "pct"), "ratio"),
    **dict.fromkeys(("bits", "kilobits", "megabits"), "bytes"),
}
_SERIES_SUFFIXES = ("_count", "_sum", "_bucket")


@rule("naming/snake-case", "warning", "Metric and label names are lowercase snake_case")
def snake_case(ctx: Context, rule: Rule) -> Iterator[Finding]:
    """Prometheus names are `snake_case`: lowercase words joined by single underscores.
    `camelCase`, capitals and doubled or trailing underscores make names hard to guess
    and to type in PromQL. Colons are reported by `naming/colon`."""
    for svc in services(ctx):
        for m in own(svc):
            name = m.name.replace(":", "_")
            if not _SNAKE.fullmatch(name):
                yield rule.finding(m.pos, f"metric name '{m.name}' is not snake_case",
                                   f"rename it to {_to_snake(m.name)}")
            for label in m.labels:
                if not _SNAKE.fullmatch(label.name):
                    yield rule.finding(label.pos, f"label name '{label.name}' of {m.name} is "
                                       "not snake_case", f"rename it to {_to_snake(label.name)}")


def _to_snake(name: str) -> str:
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name.replace(":", "_"))
    return re.sub(r"_+", "_", spaced.lower()).strip("_") or "name"


@rule("naming/base-unit", "warning", "Names use base units: seconds, bytes, ratio")
def base_unit(ctx: Context, rule: Rule) -> Iterator[Finding]:
    """Prometheus uses base units so that every metric of a kind can be compared and
    graphed together: seconds (not milliseconds or minutes), bytes (not kilobytes or
    bits), and ratios from 0 to 1 (not percent). A name part such as `_ms`, `_mb` or
    `_percent`, or such a `unit`, means the values are scaled: record base units and let
    dashboards scale them (Grafana units do)."""
    for svc in services(ctx):
        for m in own(svc):
            parts = m.name.lower().replace(":", "_").split("_")
            if m.unit:
                parts.append(m.unit)
            bad = next((p for p in parts if p in _NOT_BASE), None)
            if bad:
                base = _NOT_BASE[bad]
                yield rule.finding(m.pos, f"metric '{m.name}' is in {bad}, not the base unit "
                                   f"{base}", f"record {base} and name it ..._{base}"
                                   + ("_total" if m.type == "counter" else ""))


@rule("naming/reserved-suffix", "warning",
      "No _count, _sum or _bucket suffix on a metric's own name")
def reserved_suffix(ctx: Context, rule: Rule) -> Iterator[Finding]:
    """Histograms and summaries expose `NAME_count`, `NAME_sum` and `NAME_bucket`
    series. A metric of your own with such a suffix looks like a part of one in every
    query and tool, and collides with it when a histogram of the stem exists. Name counts
    `..._total` (a counter) or after what they count (a gauge: `..._items`)."""
    names = {m.name for svc in services(ctx) for m in own(svc)}
    for svc in services(ctx):
        for m in own(svc):
            suffix = next((s for s in _SERIES_SUFFIXES if m.name.endswith(s)), None)
            if suffix is None:
                continue
            stem = m.name[: -len(suffix)]
            clash = f", and collides with histogram/summary '{stem}'" if stem in names else ""
            yield rule.finding(m.pos, f"{m.type} '{m.name}' ends in {suffix}, a suffix of "
                               f"histogram and summary series{clash}",
                               "rename it (a counter ends in _total; a gauge after what it "
                               "holds)")


@rule("naming/colon", "warning", "No colons in metric names (reserved for recording rules)")
def colon(ctx: Context, rule: Rule) -> Iterator[Finding]:
    """Colons in metric names are reserved for recording rules (`level:metric:operations`,
    which mcgen writes itself). Instrumented metrics must not use them."""
    for svc in services(ctx):
        for m in own(svc):
            if ":" in m.name:
                yield rule.finding(m.pos, f"metric name '{m.name}' has a colon, which is "
                                   "reserved for recording rules",
                                   f"rename it to {m.name.replace(':', '_')}")


@rule("naming/service-prefix", "warning", "A service's metrics share a prefix")
def service_prefix(ctx: Context, rule: Rule) -> Iterator[Finding]:
    """Every metric of a service starts with one prefix (a namespace), so that
    `{__name__=~"shop_.*"}` finds them all and names never clash with other services'
    or libraries'. The prefix is the service name (`shop_`), or any prefix (whole
    `_`-separated words) that all the service's metrics share. Metrics that start with
    neither are reported."""
    for svc in services(ctx):
        prefix = f"{svc.name}_"
        mine = own(svc)
        if all(m.name.startswith(prefix) for m in mine):
            continue
        common = _common_words([m.name for m in mine]) if len(mine) > 1 else ""
        if common:
            continue
        for m in mine:
            if not m.name.startswith(prefix):
                yield rule.finding(m.pos, f"metric '{m.name}' does not start with the service "
                                   f"prefix '{prefix}', and the service's metrics share no "
                                   "other", f"rename it to {prefix}{m.name}")


def _common_words(names: list[str]) -> str:
    prefix = os.path.commonprefix(names)
    return prefix[: prefix.rfind("_") + 1] if "_" in prefix else ""


@rule("naming/target-label-typo", "warning",
      "Labels a spec names without declaring them are not near-misses of declared ones")
def target_label_typo(ctx: Context, rule: Rule) -> Iterator[Finding]:
    """`select`, `by`, override `match` and SLI `select` may name labels the metric does
    not declare: target labels, which the scrape and relabelling add (`job`, `instance`,
    `namespace`, ...). Validation cannot tell such a label from a typo of a declared one,
    and the generated tests cannot either (they build series with the labels the spec
    names). An undeclared name this close to a declared label of the same metric (`stauts`
    for `status`, `Method` for `method`) is most likely a typo: the alert would then
    select no series and never fire. Disable the rule for a spec whose target label
    really is named like that."""
    for svc in services(ctx):
        for m in svc.metrics:
            for a in m.alerts:
                named = [*a.by, *(x.label for x in a.select),
                         *(x.label for o in a.overrides for x in o.match)]
                for label, close in _near_misses(named, m.label_names):
                    yield rule.finding(a.pos, f"alert {a.name} names '{label}', which "
                                       f"{m.name} does not declare; it is close to its "
                                       f"label '{close}'", f"write '{close}' if it is meant")
        for slo in svc.slos:
            for side in (slo.error, slo.total):
                if side is None:
                    continue
                declared = svc.metric(side.metric).label_names
                for label, close in _near_misses([x.label for x in side.select], declared):
                    yield rule.finding(slo.pos, f"SLO {slo.name} selects on '{label}', which "
                                       f"{side.metric} does not declare; it is close to its "
                                       f"label '{close}'", f"write '{close}' if it is meant")


def _near_misses(named: list[str], declared: tuple[str, ...]) -> list[tuple[str, str]]:
    """(name, declared label it is close to) for each undeclared name: equal but for
    case and underscores, or similar enough (difflib ratio 0.8: one letter wrong in
    five, two transposed in a longer name)."""
    out = []
    for label in dict.fromkeys(named):
        if label in declared:
            continue
        folded = {d.lower().replace("_", ""): d for d in declared}
        close = folded.get(label.lower().replace("_", "")) or next(
            iter(difflib.get_close_matches(label, declared, n=1, cutoff=0.8)), None)
        if close is not None:
            out.append((label, close))
    return out
