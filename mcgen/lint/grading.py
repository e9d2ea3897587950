"""A judgement of every histogram's buckets: good, fair or poor, with the reasons.

Seed doc 000 grades each histogram's "bucket appropriateness" by where today's
observations fall ("appropriate: mostly inside the first bucket"). mcgen cannot see
observations; it judges the buckets against what the spec asks of them: its quantile
alerts' thresholds, its latency SLOs' bounds, the number of buckets and the range they
span. (Observations all inside the first bucket are a poor sign, not a good one: every
quantile of them is then interpolated between 0 and the first bound.)
"""

from __future__ import annotations

from collections.abc import Iterator

from mcgen.lint import Context, Finding, Rule, rule
from mcgen.lint.buckets import bucket_of, histograms, interpolation_error, is_bound, thresholds
from mcgen.lint.common import fmt, tunable
from mcgen.spec.model import Metric, Service

_GRADES = ("good", "fair", "poor")


def judge(ctx: Context, svc: Service, m: Metric) -> tuple[str, list[str]]:
    """The grade of a histogram's buckets and the reasons, worst first."""
    b = m.buckets
    found: list[tuple[int, str]] = []  # (grade index, reason)
    n = len(b)
    if n < tunable(ctx, "min_buckets"):
        found.append((2, f"only {n} buckets"))
    elif n > tunable(ctx, "max_buckets"):
        found.append((1, f"{n} buckets cost many series"))
    if n > 1 and b[-1] / b[0] < 10:
        found.append((1, f"spans less than a decade ({fmt(b[0])}-{fmt(b[-1])})"))
    limits = [(t.value, t.what) for t in thresholds(svc, m)]
    limits += [(s.bound, f"SLO {s.name}") for s in svc.slos
               if s.sli == "latency" and s.total.metric == m.name and s.bound is not None]
    ratio = tunable(ctx, "max_bucket_ratio")
    by_value: dict[float, list[str]] = {}
    for value, what in limits:
        by_value.setdefault(value, []).append(what)
    for value, whats in sorted(by_value.items()):
        at = f"{fmt(value)} ({', '.join(sorted(set(whats)))})"
        if value < b[0] and not is_bound(value, b):
            found.append((2, f"threshold {at} is below the first bucket"))
            continue
        err = interpolation_error(value, b)
        if err:
            found.append((2 if err / value >= 0.5 else 1,
                          f"threshold {at} is interpolated (error up to {err / value:.0%})"))
        lo, hi = bucket_of(value, b)
        if lo == 0 or hi / lo > ratio:
            found.append((1, f"bucket ({fmt(lo)}, {fmt(hi)}] at threshold {at} cannot tell "
                          "P50 from P99"))
        if b[-1] < 2 * value:
            found.append((1, f"less than 2x headroom above threshold {at}: how far past it "
                          "latency went is not visible"))
    grade = max((g for g, _ in found), default=0)
    reasons = [r for _, r in sorted(found, key=lambda f: -f[0])]
    if not reasons:
        where = ", ".join(fmt(v) for v in sorted(by_value))
        reasons.append(f"{n} buckets over {fmt(b[0])}-{fmt(b[-1])}" + (
            f"; threshold(s) {where}: bounds, in narrow buckets, with headroom above"
            if limits else ""))
    if not limits:
        reasons.append("no quantile alert or latency SLO to judge resolution against")
    return _GRADES[grade], reasons


@rule("buckets/appropriateness", "info", "A judgement of each histogram's buckets")
def appropriateness(ctx: Context, rule: Rule) -> Iterator[Finding]:
    """For every histogram: good, fair or poor, and why. Poor: fewer than `min_buckets`
    buckets, a threshold below the first bucket, or one interpolated with an error of
    50% or more. Fair: too many buckets, a range of less than a decade, a threshold
    interpolated at all, a bucket at a threshold too wide to tell P50 from P99
    (`buckets/quantile-resolution`), or less than 2x headroom above a threshold. Good
    otherwise. Thresholds are those of quantile alerts (and their overrides) and the
    bounds of latency SLOs."""
    for svc, m in histograms(ctx):
        grade, reasons = judge(ctx, svc, m)
        yield rule.finding(m.buckets_pos or m.pos,
                           f"histogram '{m.name}' buckets: {grade}: {'; '.join(reasons)}",
                           "see the buckets/* findings" if grade != "good" else "no change")
