"""Bucket rules: whether a histogram's buckets can answer the questions its alerts and
SLOs ask. Validation already rejects thresholds at or past the largest bucket, or below
what the first bucket can estimate; these rules find thresholds that work, badly.

`histogram_quantile` finds the bucket a quantile falls in and assumes observations are
spread evenly inside it, so an estimate is exact only at a bucket bound and otherwise as
wrong as its bucket is wide.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterator
from dataclasses import dataclass

from mcgen.errors import Position
from mcgen.lint import Context, Finding, Rule, rule
from mcgen.lint.common import fmt, services, tunable
from mcgen.spec.model import Metric, Service
from mcgen.spec.names import quantile_name


@dataclass(frozen=True)
class Threshold:
    value: float
    pos: Position
    what: str  # e.g. "P95 alert CheckoutSlow", "SLO latency"


def thresholds(svc: Service, m: Metric) -> list[Threshold]:
    """The quantile-alert thresholds (with overrides) on a histogram."""
    out = []
    for a in m.alerts:
        if a.kind != "quantile" or a.threshold is None:
            continue
        what = f"{quantile_name(a.quantile or 0)} alert {a.name}"
        out.append(Threshold(a.threshold, a.threshold_pos or a.pos, what))
        out += [Threshold(o.threshold, o.pos, what + " (override)") for o in a.overrides]
    return out


def is_bound(t: float, buckets: tuple[float, ...]) -> bool:
    return any(math.isclose(t, b, rel_tol=1e-9) for b in buckets)


def bucket_of(t: float, buckets: tuple[float, ...]) -> tuple[float, float]:
    """The bucket (lo, hi] holding t (t at most the last bound)."""
    i = bisect.bisect_left(buckets, t)
    if i < len(buckets) and math.isclose(t, buckets[i], rel_tol=1e-9):
        return (buckets[i - 1] if i else 0.0), buckets[i]
    return (buckets[i - 1] if i else 0.0), buckets[min(i, len(buckets) - 1)]


def interpolation_error(t: float, buckets: tuple[float, ...]) -> float:
    """How far a quantile estimate of t can be from the true quantile: the farther
    bound of t's bucket (0 when t is a bound)."""
    if is_bound(t, buckets):
        return 0.0
    lo, hi = bucket_of(t, buckets)
    return max(t - lo, hi - t)


def histograms(ctx: Context) -> Iterator[tuple[Service, Metric]]:
    for svc in services(ctx):
        yield from ((svc, m) for m in svc.metrics if m.type == "histogram" and m.buckets)


@rule("buckets/count", "warning", "Between 5 and 30 buckets per histogram")
def count(ctx: Context, rule: Rule) -> Iterator[Finding]:
    """With few buckets every quantile estimate is a guess within a wide bucket; each
    bucket is a series for every label combination, so many buckets multiply
    cardinality for little accuracy. Defaults: at least 5 and at most 30 finite bounds
    (`min_buckets`, `max_buckets` in mcgen.toml's [lint])."""
    low, high = tunable(ctx, "min_buckets"), tunable(ctx, "max_buckets")
    for _, m in histograms(ctx):
        n = len(m.buckets)
        if n < low:
            yield rule.finding(m.buckets_pos or m.pos, f"histogram '{m.name}' has {n} buckets, "
                               f"fewer than {fmt(low)}: quantile estimates are coarse",
                               "add bounds around its thresholds and typical values")
        elif n > high:
            yield rule.finding(m.buckets_pos or m.pos, f"histogram '{m.name}' has {n} buckets, "
                               f"more than {fmt(high)}: each is a series per label combination",
                               "keep bounds near thresholds and typical values, drop the rest")


@rule("buckets/below-first-bucket", "warning",
      "No quantile-alert threshold below the first bucket")
def below_first(ctx: Context, rule: Rule) -> Iterator[Finding]:
    """Below the first bound every observation is in one bucket, and `histogram_quantile`
    interpolates between 0 and that bound: an alert threshold there compares a guess.
    (Thresholds too far below it to ever be estimated are validation errors.)"""
    for svc, m in histograms(ctx):
        for t in thresholds(svc, m):
            if t.value < m.buckets[0] and not is_bound(t.value, m.buckets):
                yield rule.finding(t.pos, f"{t.what}: threshold {fmt(t.value)} is below the "
                                   f"first bucket {fmt(m.buckets[0])} of {m.name}, where "
                                   "estimates are interpolated from 0",
                                   f"add a bucket at {fmt(t.value)} and some below it")


@rule("buckets/interpolation", "warning", "Quantile-alert thresholds are bucket bounds")
def interpolation(ctx: Context, rule: Rule) -> Iterator[Finding]:
    """At a bucket bound, `histogram_quantile` compares exact counts: "is the P95 above
    T" is "are more than 5% of observations above T". Between bounds it interpolates
    linearly, so the estimate it compares with the threshold can be off by up to the
    distance to the farther bound of the bucket. The finding states that error."""
    for svc, m in histograms(ctx):
        for t in thresholds(svc, m):
            if t.value < m.buckets[0] or is_bound(t.value, m.buckets):
                continue
            lo, hi = bucket_of(t.value, m.buckets)
            err = interpolation_error(t.value, m.buckets)
            yield rule.finding(t.pos, f"{t.what}: threshold {fmt(t.value)} is not a bucket "
                               f"bound of {m.name}; inside bucket ({fmt(lo)}, {fmt(hi)}] the "
                               f"estimate is interpolated and can be off by up to {err:.3g} "
                               f"({err / t.value:.0%} of the threshold)",
                               f"add {fmt(t.value)} to its buckets")


@rule("buckets/quantile-resolution", "warning",
      "The bucket below a threshold is narrow enough to tell P50 from P99")
def resolution(ctx: Context, rule: Rule) -> Iterator[Finding]:
    """The bucket that ends at (or holds) a threshold decides what the histogram can say
    about latencies near the SLA. When it spans more than a factor of 4 (`hi/lo`,
    `max_bucket_ratio` in mcgen.toml's [lint]; a first bucket spans from 0), a P50 at its
    lower end and a P99 at the threshold fall into the same bucket, which
    `histogram_quantile` reads as an even spread: the buckets cannot tell P50 from P99
    for the stated SLA, nor see latency creep towards it."""
    limit = tunable(ctx, "max_bucket_ratio")
    for svc, m in histograms(ctx):
        for t in thresholds(svc, m):
            if t.value < m.buckets[0] and not is_bound(t.value, m.buckets):
                continue  # buckets/below-first-bucket
            lo, hi = bucket_of(t.value, m.buckets)
            if lo > 0 and hi / lo <= limit:
                continue
            span = f"a factor of {hi / lo:.3g}" if lo > 0 else "everything from 0"
            yield rule.finding(t.pos, f"{t.what}: bucket ({fmt(lo)}, {fmt(hi)}] of {m.name} "
                               f"spans {span}, so P50 and P99 near the {fmt(t.value)} SLA fall "
                               "in one bucket and look alike",
                               f"add a bound between {fmt(lo)} and {fmt(hi)}, e.g. "
                               f"{_between(lo, hi)}")


def _between(lo: float, hi: float) -> str:
    mid = math.sqrt(lo * hi) if lo > 0 else hi / 2
    return f"{float(f'{mid:.2g}'):g}"


@rule("buckets/summary-quantiles", "warning",
      "Quantile alerts on summaries need a client that computes quantiles")
def summary_quantiles(ctx: Context, rule: Rule) -> Iterator[Finding]:
    """The Python client's `Summary` exports only `_count` and `_sum`, no quantiles (the
    Go and JavaScript clients compute them), so a quantile alert on a summary never
    fires for a Python application. Use a histogram, or disable this rule inline for a
    service written in Go or TypeScript."""
    for svc in services(ctx):
        for m in svc.metrics:
            for a in m.alerts:
                if m.type == "summary" and a.kind == "quantile":
                    yield rule.finding(a.pos, f"alert {a.name} reads quantile "
                                       f"{fmt(a.quantile or 0)} of summary {m.name}, which "
                                       "the Python client (prometheus_client) never exports",
                                       "use a histogram with a bucket at the threshold, or "
                                       "disable this rule if no Python app exports it")
