"""Proving one SLO: scenarios of traffic and errors, what the rules make of them, and the
promtool checks.

Each scenario is a list of phases (minutes, events per second, error ratio) played by two
scraped instances; a latency SLI's instances spell `le` differently (`1` as Go and
JavaScript clients write it, `1.0` as the Python client does). `Replay` (sloreplay.py)
recomputes every recorded series at every rule evaluation from the synthetic samples (the
rate arithmetic of each Prometheus version, then the SLO formulas), which gives both the
alerts to expect and the exact values of the recorded series. Burn rates are placed 1%
either side of each factor, so a factor that is off by more than that fails a test.

Prometheus 2.x and 3.x differ where a sample sits exactly on a range's left edge (3.x
leaves it out): where that changes what a scenario asserts (the 5m rates right after a
phase changes, say), its samples are moved between rule evaluations (half an evaluation
interval later), where every version sees the same samples, as in a real Prometheus.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from mcgen import conventions, promql
from mcgen.promql import Duration, Matcher, burnrate, gotemplate
from mcgen.promql.burnrate import BASE_WINDOW
from mcgen.proof import emulate, scenarios
from mcgen.proof.emulate import ENGINES, Engine, Series
from mcgen.proof.scenarios import Unprovable
from mcgen.proof.sloreplay import Replay
from mcgen.rules.alerts import slo_alert_annotations, slo_alert_labels
from mcgen.rules.sloqueries import ident
from mcgen.spec.model import Metric, Model, Service, Slo

STEP_MS = 60_000  # sample interval of the synthetic series
MINUTE = 60_000


@dataclass(frozen=True)
class Phase:
    minutes: int
    rate: float  # events per second, all instances together
    ratio: float  # error ratio


@dataclass
class SloCase:
    name: str
    series: list[Series]
    alert_checks: list[dict[str, Any]] = field(default_factory=lambda: [])
    expr_checks: list[dict[str, Any]] = field(default_factory=lambda: [])
    interval_ms: int = STEP_MS  # of the test group: finer when the samples are shifted


class SloProver:
    def __init__(self, svc: Service, model: Model, slo: Slo) -> None:
        self.svc, self.model, self.slo = svc, model, slo
        self.eval_ms = svc.interval.ms if svc.interval else 60_000
        self.budget = burnrate.budget(slo.objective)
        self.rate = 10.0 if slo.min_traffic is None else max(10.0, 2 * slo.min_traffic)

    # -- synthetic series ---------------------------------------------------------------
    def _labels(self, metric: Metric, want: Sequence[Matcher],
                avoid: Sequence[Sequence[Matcher]] = ()) -> dict[str, str]:
        seen = scenarios.view(metric, [*want, *(m for group in avoid for m in group)])
        found = scenarios.pick_labels(seen, (), (*want, *metric.selector), avoid)
        if found is None:
            raise Unprovable(f"no label values of {metric.name} satisfy the SLI's select",
                             self.slo.pos)
        return found

    def _counter(self, name: str, labels: dict[str, str], incs: Sequence[tuple[int, float]]
                 ) -> list[Series]:
        """One series per instance; each phase adds `inc` per step for `steps` steps."""
        out = []
        instances = _instances(labels)
        for inst in instances:
            out.append(_phased(name, scenarios.with_target(labels, inst, self.svc.name),
                               [(n, inc / len(instances)) for n, inc in incs]))
        return out

    def _outside(self, metric: Metric, want: Sequence[Matcher]) -> list[dict[str, str]]:
        """Labels of other jobs' series that `want` selects but the selector excludes
        (one per selector matcher)."""
        fixed = {m.label for m in metric.selector}
        return scenarios.outsiders(metric, (), [m for m in want if m.label not in fixed])

    def scope_decoys(self, phases: Sequence[Phase]) -> list[Series]:
        """Another job's series of the SLI's metrics, every event failing, at ten times
        the scenarios' traffic: they would move every ratio if a selector were lost (the
        steady burns, firing and quiet, and the zero-traffic case carry them)."""
        slo = self.slo
        hot = [(p.minutes * MINUTE // STEP_MS, 10 * self.rate * STEP_MS / 1000) for p in phases]
        none = [(n, 0.0) for n, _ in hot]
        total = self.svc.metric(slo.total.metric)
        if slo.error is None:
            return [s for labels in self._outside(total, slo.total.select)
                    for s in self._histogram_labels(labels, hot, none)]
        error = self.svc.metric(slo.error.metric)
        if error.name == total.name:
            return [s for labels in self._outside(error, (*slo.error.select, *slo.total.select))
                    for s in self._counter(error.name, labels, hot)]
        return ([s for labels in self._outside(error, slo.error.select)
                 for s in self._counter(error.name, labels, hot)]
                + [s for labels in self._outside(total, slo.total.select)
                   for s in self._counter(total.name, labels, hot)])

    def series(self, phases: Sequence[Phase], decoys: bool = False, scope: bool = False
               ) -> list[Series]:
        out = self.scope_decoys(phases) if scope else []
        return out + self._series(phases, decoys)

    def _series(self, phases: Sequence[Phase], decoys: bool) -> list[Series]:
        slo = self.slo
        per_step = [(p.minutes * MINUTE // STEP_MS, p.rate * STEP_MS / 1000) for p in phases]
        errors = [(n, inc * p.ratio) for (n, inc), p in zip(per_step, phases, strict=True)]
        goods = [(n, inc * (1 - p.ratio)) for (n, inc), p in zip(per_step, phases, strict=True)]
        if slo.sli == "latency":
            out = self._histogram(slo.total.select, errors, goods)
            if decoys and slo.total.select:
                # Series the select leaves out, every observation slow: they would
                # exhaust the budget if the select were lost.
                first, *rest = slo.total.select
                metric = self.svc.metric(slo.total.metric)
                other = scenarios.pick_labels(scenarios.view(metric, slo.total.select), (),
                                              [*rest, *metric.selector], [[first]])
                if other is not None:
                    out += self._histogram_labels(other, per_step, [(n, 0.0) for n, _ in per_step])
            return out
        assert slo.error is not None
        err_metric = self.svc.metric(slo.error.metric)
        total_metric = self.svc.metric(slo.total.metric)
        if err_metric.name == total_metric.name:
            err_labels = self._labels(err_metric, (*slo.error.select, *slo.total.select))
            good_labels = self._labels(total_metric, slo.total.select, [slo.error.select])
            return (self._counter(err_metric.name, err_labels, errors)
                    + self._counter(total_metric.name, good_labels, goods))
        err_labels = self._labels(err_metric, slo.error.select)
        total_labels = self._labels(total_metric, slo.total.select)
        return (self._counter(err_metric.name, err_labels, errors)
                + self._counter(total_metric.name, total_labels, per_step))

    def total_only(self, labels: dict[str, str], minutes: int) -> list[Series]:
        """Only the SLI's total metric under `labels`, without traffic (each instance's
        counter, or histogram with its buckets, _count and _sum), for `minutes`."""
        flat = [(minutes * MINUTE // STEP_MS, 0.0)]
        if self.slo.sli == "latency":
            return self._histogram_labels(labels, flat, flat)
        return self._counter(self.slo.total.metric, labels, flat)

    def _histogram(self, select: Sequence[Matcher], errors: Sequence[tuple[int, float]],
                   goods: Sequence[tuple[int, float]]) -> list[Series]:
        metric = self.svc.metric(self.slo.total.metric)
        return self._histogram_labels(self._labels(metric, select), errors, goods)

    def _histogram_labels(self, labels: dict[str, str], errors: Sequence[tuple[int, float]],
                          goods: Sequence[tuple[int, float]]) -> list[Series]:
        """Good observations at the bound, slow ones in the next bucket up. Instance 1
        spells `le` like Go and JavaScript clients, instance 2 like the Python client."""
        metric = self.svc.metric(self.slo.total.metric)
        bound = self.slo.bound or 0.0
        instances = _instances(labels)
        n = len(instances)
        out = []
        # (One instance when the labels fix it: then the Go spelling only.)
        for inst, spell in zip(instances, (promql.go_float, promql.python_client_float),
                               strict=False):
            base = scenarios.with_target(labels, inst, self.svc.name)
            for upper in [*metric.buckets, math.inf]:
                if upper < bound:
                    incs = [(k, 0.0) for k, _ in goods]
                elif upper == bound:
                    incs = [(k, g / n) for k, g in goods]
                else:
                    incs = [(k, (g + e) / n) for (k, g), (_, e) in zip(goods, errors, strict=True)]
                le = "+Inf" if math.isinf(upper) else spell(upper)
                out.append(_phased(f"{metric.name}_bucket", tuple(sorted((*base, ("le", le)))),
                                   incs))
            all_incs = [(k, (g + e) / n) for (k, g), (_, e) in zip(goods, errors, strict=True)]
            out.append(_phased(f"{metric.name}_count", base, all_incs))
            out.append(_phased(f"{metric.name}_sum", base,
                               [(k, i * bound) for k, i in all_incs]))
        return out

    # -- cases --------------------------------------------------------------------------
    def burn(self, factor: float) -> float:
        """The error ratio of a burn rate (at most 1: every event failing)."""
        return min(factor * self.budget, 1.0)

    def case(self, name: str, phases: Sequence[Phase], checks: Sequence[int],
             decoys: bool = False, scope: bool = False, values_at: int | None = None,
             pages: Sequence[bool] | None = None) -> SloCase:
        """A scenario, the alerts at each of `checks` and (at `values_at`) the recorded
        values, as every engine predicts them: on the evaluation grid where they agree,
        else with the samples shifted off it."""
        on_grid = self.series(phases, decoys, scope)
        end = sum(p.minutes for p in phases) * MINUTE // self.eval_ms * self.eval_ms
        # Checks fall on rule evaluations: the last one at or before each instant named.
        checks = [t // self.eval_ms * self.eval_ms for t in checks]
        if values_at is not None:
            values_at = values_at // self.eval_ms * self.eval_ms
        for shift in (0, math.gcd(STEP_MS, self.eval_ms) // 2):
            series = [emulate.shifted(s, shift) for s in on_grid]
            seen = [self._predict(series, end, checks, values_at, e) for e in ENGINES]
            if all(_agree(other, seen[0]) for other in seen[1:]):
                break
        else:
            raise Unprovable(f"Prometheus 2.x and 3.x disagree on the scenario '{name}'",
                             self.slo.pos)
        firing, values = seen[0]
        if pages is not None and [("page" in f) for f in firing] != list(pages):
            # Built to show this: where it does not, the evaluation interval is too long
            # for the scenario to show it.
            raise Unprovable(f"the scenario '{name}' cannot be shown with rule "
                             f"evaluations every {Duration(self.eval_ms)}", self.slo.pos)
        case = SloCase(name, series, interval_ms=shift or STEP_MS)
        case.alert_checks = [self._alert_check(t, f) for t, f in zip(checks, firing, strict=True)]
        if values_at is not None:
            labels = promql.selector("", ident(self.svc, self.slo))
            case.expr_checks = [_close_to(n + labels, v, values_at) for n, v in values]
        return case

    def on_grid(self, minutes: int) -> int:
        """The first whole minute from `minutes` on that is a rule evaluation."""
        while minutes * MINUTE % self.eval_ms:
            minutes += 1
        return minutes

    def _predict(self, series: Sequence[Series], end: int, checks: Sequence[int],
                 values_at: int | None, engine: Engine
                 ) -> tuple[list[list[str]], list[tuple[str, float]]]:
        replay = Replay(self.slo, series, self.eval_ms, end, engine)
        firing = [replay.firing(t) for t in checks]
        return firing, ([] if values_at is None else self.recorded(replay, values_at))

    def cases(self) -> list[SloCase]:
        slo, period = self.slo, self.slo.period
        f1, f2, _, f4 = (c.factor(period) for c in burnrate.CONDITIONS)
        # Checks fall on rule evaluations: scenarios end on one (a check rounded down
        # to the grid would see less than the scenario was built to show).
        r, minutes = self.rate, self.on_grid(7)
        at = [minutes * MINUTE]
        out = []
        steady = [
            ("fast burn {b}x", 1.01 * f1, True),
            ("burn {b}x, just above the 6h page factor", 1.01 * f2, True),
            ("slow burn {b}x, just below the 6h page factor", 0.99 * f2, False),
            ("burn {b}x, just above the 3d ticket factor", 1.01 * f4, False),
            ("burn {b}x, below every factor", 0.99 * min(f4, 1.0), False),
        ]
        pager = any(a.kind == "page" for a in slo.alerts)
        for text, factor, pages in steady:
            ratio = self.burn(factor)
            label = f"{round(ratio / self.budget, 4):g}"
            quiet = factor < f4
            out.append(self.case(f"{slo.name}: " + text.format(b=label),
                                 [Phase(minutes, r, ratio)], at, decoys=quiet, scope=True,
                                 pages=[pages] if pager and ratio < 1 else None))
        # Clean traffic at ten times the rate first keeps the longer windows' ratios
        # under their factors in a few minutes (waiting at the same rate took 90-130m):
        # only the windows a case is about decide. It lasts 10m or a little more, so the
        # checks fall on rule evaluations.
        if pager and self.burn(f1) < 1:
            # The 1h window holds the spike alone; the 6h one holds it and the busy
            # clean 10m: 2.4 x f2 over 60m of r, diluted by 100m' worth, is 0.91 x f2.
            busy = Phase(self.on_grid(70) - 60, 10 * r, 0.0)
            for factor, what in ((1.01 * f1, "pages"), (0.99 * f1, "does not page")):
                out.append(self.case(
                    f"{slo.name}: 1h spike at {round(factor, 4):g}x after {busy.minutes}m of "
                    f"clean traffic at 10x the rate {what}",
                    [busy, Phase(60, r, self.burn(factor))], [(busy.minutes + 60) * MINUTE],
                    pages=[what == "pages"]))
        stops = pager and self.burn(1.5 * f1) < 1
        if stops:
            # `after` minutes after the errors stop, the 1h and 30m windows still burn
            # above f1 but the 5m one is clean: the page stops (the short window's job).
            # The busy start keeps the 6h ratio at 0.86 x f2. As the burn ends every
            # recorded series is checked: its windows hold an idle start, traffic at 10x
            # and at 1x, and the burn (ratios weighted by traffic, none NaN).
            idle = Phase(5, 0.0, 0.0)
            busy = Phase(self.on_grid(80) - 65, 10 * r, 0.0)
            after = max(8, math.ceil(self.eval_ms / MINUTE))
            stop = (idle.minutes + busy.minutes + 60) * MINUTE
            out.append(self.case(
                f"{slo.name}: page stops {after}m after a {round(1.5 * f1, 4):g}x burn stops; "
                f"recorded series after {idle.minutes}m idle, {busy.minutes}m busy and the "
                "burn (ratios weighted by traffic, none NaN)",
                [idle, busy, Phase(8, r, 0.0), Phase(52, r, self.burn(1.5 * f1)),
                 Phase(after, r, 0.0)],
                [stop, stop + after * MINUTE], scope=True, values_at=stop, pages=[True, False]))
        ignored = bool(self.scope_decoys([Phase(minutes, 0.0, 0.0)]))
        zero = self.case(f"{slo.name}: zero traffic stays quiet and records 0, not NaN"
                         + (" (another job's failing series ignored)" if ignored else ""),
                         [Phase(minutes, 0.0, 0.0)], at, scope=True, values_at=minutes * MINUTE)
        out.append(zero)
        if slo.min_traffic is not None:
            low = slo.min_traffic / 2
            out.append(self.case(
                f"{slo.name}: fast burn at {low:g} events/s, under min_traffic, stays quiet",
                [Phase(minutes, low, self.burn(1.01 * f1))], at))
        if not stops:  # else checked at the end of the page-stops scenario
            out.append(self.case(
                f"{slo.name}: recorded series after 30m busy, 10m idle, 30m quiet and worse "
                "(ratios weighted by traffic, none NaN)",
                [Phase(30, r, self.burn(0.5)), Phase(10, 0.0, 0.0),
                 Phase(30, r / 10, self.burn(4))],
                [70 * MINUTE], scope=True, values_at=70 * MINUTE))
        return out

    def recorded(self, replay: Replay, t: int) -> list[tuple[str, float]]:
        """Every recorded series of the SLO and its value at t."""
        slo, b = self.slo, self.budget
        values: list[tuple[str, float]] = [
            (conventions.SLO_ERROR_RATIO.format(window=w), replay.ratio(t, w))
            for w in burnrate.windows(slo.period)]
        period = replay.ratio(t, slo.period)
        values += [
            (conventions.SLO_OBJECTIVE, burnrate.objective_ratio(slo.objective)),
            (conventions.SLO_BUDGET, b),
            (conventions.SLO_CURRENT_BURN, replay.ratio(t, BASE_WINDOW) / b),
            (conventions.SLO_PERIOD_BURN, period / b),
            (conventions.SLO_REMAINING, 1 - period / b),
        ]
        return values

    def _alert_check(self, t: int, firing: Sequence[str]) -> dict[str, Any]:
        expected = []
        for alert in self.slo.alerts:
            if alert.kind not in firing:
                continue
            notes = {k: gotemplate.parse(v).render({}, 0.0)
                     for k, v in slo_alert_annotations(self.svc, self.slo, alert).items()}
            expected.append({"exp_labels": slo_alert_labels(self.svc, self.slo, alert),
                             "exp_annotations": notes})
        return {"eval_time": str(Duration(t)), "alertname": self.slo.alert_name,
                "exp_alerts": expected}


def _agree(a: tuple[list[list[str]], list[tuple[str, float]]],
           b: tuple[list[list[str]], list[tuple[str, float]]]) -> bool:
    """Same alerts, and recorded values well within the tolerance `_close_to` asserts
    (so that a real engine's last digits cannot make the difference)."""
    return a[0] == b[0] and all(
        n == m and (x == y if x == 0 or y == 0 else abs(x - y) <= abs(x) * 1e-10)
        for (n, x), (m, y) in zip(a[1], b[1], strict=True))


def _close_to(series: str, value: float, t: int) -> dict[str, Any]:
    """Checks `series` equals `value`: exactly for 0 (no traffic must give 0, not NaN or
    nothing), else to 1e-9 of it (summation order moves the last digits)."""
    at = str(Duration(t))
    if value == 0:
        return {"expr": series, "eval_time": at, "exp_samples": [{"labels": series, "value": 0}]}
    tolerance = abs(value) * 1e-9
    expr = f"abs({series} - {promql.number(value)}) < bool {promql.number(tolerance)}"
    labels = series[series.index("{"):]
    return {"expr": expr, "eval_time": at, "exp_samples": [{"labels": labels, "value": 1}]}


def _instances(labels: dict[str, str]) -> tuple[str, ...]:
    """The scraped instances of a scenario: two, unless the labels (a selector) fix it."""
    return scenarios.INSTANCES[:1] if labels.get("instance") else scenarios.INSTANCES


def _phased(name: str, labels: tuple[tuple[str, str], ...],
            incs: Sequence[tuple[int, float]]) -> Series:
    """A counter from 0 that grows by `inc` per step for `steps` steps, phase by phase.
    Each later segment starts one step after the last value, computed the way promtool
    expands `a+bxn`, so the counter never dips (a dip would read as a reset)."""
    steps, inc = incs[0]
    last = emulate.last_value(0.0, inc, steps)
    more = []
    for steps, inc in incs[1:]:
        start = last + inc
        more.append((start, inc, steps - 1))
        last = emulate.last_value(start, inc, steps - 1)
    return Series(name, labels, 0.0, incs[0][1], incs[0][0], STEP_MS, tuple(more))
