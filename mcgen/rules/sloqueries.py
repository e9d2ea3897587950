"""The PromQL of SLO recording rules and burn-rate alerts, composed from mcgen.promql.

Every recorded series carries the labels `service` and `slo` (set as rule labels), and
none is NaN: with no traffic a ratio is 0, because no requests is not an outage. The raw
series are read with each SLI metric's selector (`Selection.matchers`).

  slo:sli_errors:rate5m, slo:sli_total:rate5m   error and total events per second (5m)
  slo:sli_error:ratio_rate<W>                    error ratio over W: raw counters for
        W <= 6h; for 1d, 3d and the period, sum_over_time of the two 5m rates, so the
        ratio is weighted by traffic (errors over events, not an average of ratios)
  slo:objective:ratio, slo:error_budget:ratio    0.999 and 0.001 for a 99.9% SLO
  slo:current_burn_rate:ratio                    5m error ratio / budget
  slo:period_burn_rate:ratio                     period error ratio / budget
  slo:period_error_budget_remaining:ratio        1 - period burn rate (1 = untouched)

Without any series of the SLI's total those ratios are 0, a perfect SLI: `absent_expr`
is the alert for that.
"""

from __future__ import annotations

from mcgen import conventions, promql
from mcgen.promql import Duration, Matcher, burnrate
from mcgen.promql.burnrate import BASE_WINDOW, DIRECT_UP_TO, Condition
from mcgen.rules.queries import Recording
from mcgen.spec.model import Service, Slo


def ident(svc: Service, slo: Slo) -> tuple[Matcher, ...]:
    return (Matcher("service", "=", svc.name), Matcher("slo", "=", slo.name))


def _recorded(template: str, svc: Service, slo: Slo, window: Duration | None = None) -> str:
    return promql.selector(template.format(window=window), ident(svc, slo))


def _sum_rate(metric: str, matchers: tuple[Matcher, ...], window: Duration,
              keep: tuple[str, ...] = ()) -> str:
    """Summed over every series, but for the labels `keep` (mcgen.toml's keep_labels:
    each cluster's SLI apart)."""
    return promql.aggregate("sum", keep, promql.rate(metric, matchers, window))


def total_series(slo: Slo) -> tuple[str, tuple[Matcher, ...]]:
    """The raw series that count the SLI's events: the events `total` counter, or the
    latency histogram's `_count`, with their matchers. The recording rules and the
    absent alert both select through here, so they always judge the same series."""
    series = slo.total.metric if slo.sli == "events" else f"{slo.total.metric}_count"
    return series, slo.total.matchers


def total_rate(slo: Slo, window: Duration) -> str:
    """Events per second over `window`, from the raw series."""
    return _sum_rate(*total_series(slo), window, slo.keep)


def absent_expr(slo: Slo) -> str:
    """1 while no series of the SLI's total exists, else no result. absent() would give
    its result the labels of the selector's equality matchers; `sum` drops them, so the
    alert carries exactly the labels its rule sets."""
    return promql.aggregate("sum", (), f"absent({promql.selector(*total_series(slo))})")


def error_rate(slo: Slo, window: Duration) -> str:
    """Error events per second over `window`, from the raw series. For latency: all
    observations minus those at or below the bound. A missing bound bucket counts as
    none below it, so a misspelt `le` shows as errors, not as a silent 0.

    With keep_labels each group (cluster) of the total falls back to 0 by itself: a
    label-less `vector(0)` would match no group, and one group's series would hide the
    fallback of the others."""
    if slo.sli == "events" and slo.error is not None:
        errors = _sum_rate(slo.error.metric, slo.error.matchers, window, slo.keep)
        return f"{errors} or {total_rate(slo, window)} * 0" if slo.keep else errors
    le = promql.le_matcher(slo.bound or 0.0)
    good = _sum_rate(f"{slo.total.metric}_bucket", (*slo.total.matchers, le), window,
                     slo.keep)
    fallback = f"{good} or {total_rate(slo, window)} * 0" if slo.keep else promql.or_zero(good)
    return f"{total_rate(slo, window)} - ({fallback})"


def _ratio(errors: str, total: str) -> str:
    """errors / total, and 0 where there is no traffic (instead of NaN)."""
    return promql.or_zero(f"({errors}) / ({total} > 0)")


def recordings(svc: Service, slo: Slo) -> list[Recording]:
    """In evaluation order: later rules read earlier ones at the same timestamp."""
    errors5m = _recorded(conventions.SLO_ERRORS_RATE, svc, slo, BASE_WINDOW)
    total5m = _recorded(conventions.SLO_TOTAL_RATE, svc, slo, BASE_WINDOW)
    out = [
        Recording(conventions.SLO_ERRORS_RATE.format(window=BASE_WINDOW),
                  promql.or_zero(error_rate(slo, BASE_WINDOW))),
        Recording(conventions.SLO_TOTAL_RATE.format(window=BASE_WINDOW),
                  promql.or_zero(total_rate(slo, BASE_WINDOW))),
    ]
    for window in burnrate.windows(slo.period):
        name = conventions.SLO_ERROR_RATIO.format(window=window)
        if window == BASE_WINDOW:
            expr = _ratio(errors5m, total5m)
        elif window <= DIRECT_UP_TO:
            expr = _ratio(error_rate(slo, window), total_rate(slo, window))
        else:
            expr = _ratio(promql.over_time("sum_over_time", errors5m, window),
                          promql.over_time("sum_over_time", total5m, window))
        out.append(Recording(name, expr))
    b = burnrate.budget(slo.objective)
    ratio5m = _recorded(conventions.SLO_ERROR_RATIO, svc, slo, BASE_WINDOW)
    period = _recorded(conventions.SLO_ERROR_RATIO, svc, slo, slo.period)
    out += [
        Recording(conventions.SLO_OBJECTIVE,
                  promql.vector(burnrate.objective_ratio(slo.objective))),
        Recording(conventions.SLO_BUDGET, promql.vector(b)),
        Recording(conventions.SLO_CURRENT_BURN, f"{ratio5m} / {promql.number(b)}"),
        Recording(conventions.SLO_PERIOD_BURN, f"{period} / {promql.number(b)}"),
        Recording(conventions.SLO_REMAINING,
                  f"1 - {_recorded(conventions.SLO_PERIOD_BURN, svc, slo)}"),
    ]
    return out


def burning(svc: Service, slo: Slo, cond: Condition) -> str:
    """One condition: both windows burn faster than its factor (and, with min_traffic,
    the long window saw enough events)."""
    limit = promql.product(cond.factor(slo.period), burnrate.budget(slo.objective))
    parts = [promql.compare_to(_recorded(conventions.SLO_ERROR_RATIO, svc, slo, w), ">", limit)
             for w in (cond.long, cond.short)]
    if slo.min_traffic is not None:
        traffic = promql.over_time("avg_over_time",
                                   _recorded(conventions.SLO_TOTAL_RATE, svc, slo, BASE_WINDOW),
                                   cond.long)
        parts.append(promql.compare(traffic, ">=", slo.min_traffic))
    return " and ".join(parts)


def alert_expr(svc: Service, slo: Slo, alert: str) -> str:
    """page = (1h and 5m) or (6h and 30m); ticket = (1d and 2h) or (3d and 6h)."""
    branches = [burning(svc, slo, c) for c in burnrate.conditions(alert)]
    return "\nor\n".join(f"({b})" for b in branches)
