"""Proving an SLO's SLIAbsent alert (SPEC 4: missing data is not good news).

Three promtool cases per SLO whose `alerting.absent` is on:
  * never scraped: only series the SLI's total does not count exist (an unrelated
    series, the total metric's series that its select leaves out, and the error
    counter when it is another metric). The alert is quiet one evaluation before
    `absent.for` has passed and fires with its exact labels and annotations once it has.
  * stopped: the total is scraped, then its target goes away. An instant selector still
    sees the last sample for the 5m lookback, so the alert fires 5m + `for` later.
  * zero traffic: the total's series exist but do not move. No traffic is not missing
    data: the alert stays quiet.

The recorded SLO series and the burn-rate alerts are proven by sloprover.py;
this module only adds cases (it reuses SloProver's series).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from mcgen import promql
from mcgen.promql import Duration, gotemplate
from mcgen.proof import scenarios
from mcgen.proof.emulate import LOOKBACK_MS, Series
from mcgen.proof.sloprover import MINUTE, STEP_MS, Phase, SloCase, SloProver
from mcgen.rules import sloqueries
from mcgen.rules.alerts import slo_absent_annotations, slo_absent_labels
from mcgen.spec.model import AbsentAlert, Model, Service, Slo

MAX_DECOYS = 3  # matchers of the select proven to matter, each by its own decoy
RUN_MINUTES = 10  # how long the "stopped" case scrapes the total before it goes away


class AbsentProver:
    def __init__(self, svc: Service, model: Model, slo: Slo, absent: AbsentAlert) -> None:
        self.svc, self.model, self.slo, self.absent = svc, model, slo, absent
        self.base = SloProver(svc, model, slo)
        self.eval_ms = self.base.eval_ms
        # `for` as promtool counts it: from the first evaluation the expression holds to
        # the first evaluation at least `for` later.
        self.hold = math.ceil(absent.for_.ms / self.eval_ms) * self.eval_ms
        self.series_text = promql.selector(*sloqueries.total_series(slo))

    def cases(self) -> list[SloCase]:
        return [self.never_scraped(), self.stopped(), self.zero_traffic()]

    # -- cases --------------------------------------------------------------------------
    def never_scraped(self) -> SloCase:
        minutes = self._minutes(self.hold)
        others = self.base.scope_decoys([Phase(minutes, self.base.rate, 0.0)])
        series = [Series("mcgen_test_unrelated", (("job", "mcgen-test"),), 1.0, 0.0, minutes,
                         STEP_MS), *self.decoys(minutes), *self.error_only(minutes), *others]
        case = SloCase(f"{self.slo.name}: {self.absent.name} fires when no {self.series_text} "
                       f"exists for {self.absent.for_}"
                       + (" (only other jobs expose it)" if others else ""), series)
        case.alert_checks += [self._check(self.hold - self.eval_ms, False),
                              self._check(self.hold, True)]
        return case

    def stopped(self) -> SloCase:
        """The last sample is at RUN_MINUTES. Prometheus 2.x still sees it exactly 5m
        later (its lookback includes both ends), 3.x does not (it excludes the start): the
        expression first holds one evaluation apart on the two engines, so the checks sit
        where both agree (quiet just before the earlier firing, firing at the later one)."""
        last = RUN_MINUTES * MINUTE
        gone = last + LOOKBACK_MS
        active_3x = math.ceil(gone / self.eval_ms) * self.eval_ms
        active_2x = (gone // self.eval_ms + 1) * self.eval_ms
        series = self.base.series([Phase(RUN_MINUTES, self.base.rate, 0.0)])
        case = SloCase(f"{self.slo.name}: {self.absent.name} fires {Duration(LOOKBACK_MS)} "
                       f"(lookback) + {self.absent.for_} after {self.series_text} stops being "
                       "scraped", series)
        case.alert_checks += [self._check(last, False),
                              self._check(active_3x + self.hold - self.eval_ms, False),
                              self._check(active_2x + self.hold, True)]
        return case

    def zero_traffic(self) -> SloCase:
        end = self.hold + 2 * self.eval_ms
        minutes = self._minutes(end)
        series = self.base.series([Phase(minutes, 0.0, 0.0)])
        case = SloCase(f"{self.slo.name}: {self.absent.name} stays quiet while "
                       f"{self.series_text} exists without traffic", series)
        case.alert_checks += [self._check(self.hold, False), self._check(end, False)]
        return case

    # -- series -------------------------------------------------------------------------
    def decoys(self, minutes: int) -> list[Series]:
        """Series of the total metric that its select leaves out, one label set per
        matcher: with the select lost, they would keep the alert quiet."""
        select = self.slo.total.select
        metric = self.svc.metric(self.slo.total.metric)
        out: list[Series] = []
        for i, matcher in enumerate(select[:MAX_DECOYS]):
            rest = [m for j, m in enumerate(select) if j != i]
            labels = scenarios.pick_labels(scenarios.view(metric, select), (),
                                           [*rest, *metric.selector], [[matcher]])
            if labels is not None:
                out += self.base.total_only(labels, minutes)
        return out

    def error_only(self, minutes: int) -> list[Series]:
        """The error counter, when it is another metric than the total: an SLI whose
        total was renamed while its errors still count."""
        slo = self.slo
        if slo.error is None or slo.error.metric == slo.total.metric:
            return []
        phases = [Phase(minutes, self.base.rate, 0.5)]
        return [s for s in self.base.series(phases) if s.name == slo.error.metric]

    # -- expectations -------------------------------------------------------------------
    @staticmethod
    def _minutes(until_ms: int) -> int:
        return math.ceil(until_ms / STEP_MS) + 1

    def _check(self, t: int, fires: bool) -> dict[str, Any]:
        expected: list[dict[str, Any]] = []
        if fires:
            notes = {k: gotemplate.parse(v).render({}, 1.0) for k, v in
                     slo_absent_annotations(self.svc, self.slo, self.absent).items()}
            expected.append({"exp_labels": slo_absent_labels(self.svc, self.slo, self.absent),
                             "exp_annotations": notes})
        return {"eval_time": str(Duration(t)), "alertname": self.absent.name,
                "exp_alerts": expected}


def cases(svc: Service, model: Model, slo: Slo) -> Sequence[SloCase]:
    """The SLIAbsent cases of `slo` (none when `alerting.absent` is false)."""
    if slo.absent is None:
        return []
    return AbsentProver(svc, model, slo, slo.absent).cases()
