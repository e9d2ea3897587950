"""Proving one alert: synthetic situations, what the alert sees in them, and the checks.

For each alert and each threshold it has (every override, and its own):
  * fires: series just past the threshold; quiet one evaluation before `for` has
    elapsed, firing with its exact labels and annotations once it has;
  * quiet: series just short of the threshold stay quiet.
absent_for alerts: absent series fire after the duration (and not before); present
series keep it quiet. The series and what the alert sees in them are synthetic.py's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from mcgen import promql
from mcgen.promql import gotemplate
from mcgen.proof import emulate, scenarios
from mcgen.proof.decoys import Decoys
from mcgen.proof.emulate import ENGINES, Series
from mcgen.proof.scenarios import Subject, Unprovable
from mcgen.proof.synthetic import MARGINS, Synthetic
from mcgen.rules.alerts import alert_annotations, alert_labels
from mcgen.spec.model import Alert, Metric, Model, Service


class _Tie(Unprovable):
    """The engines agree on the alert but not on how its annotations print $value."""


@dataclass
class Case:
    name: str
    series: list[Series]
    checks: list[dict[str, Any]] = field(default_factory=lambda: [])
    interval_ms: int | None = None  # of the test group, when finer than the scrape interval


class Prover(Synthetic):
    """Builds the test cases of one alert."""

    def __init__(self, svc: Service, model: Model, metric: Metric, alert: Alert) -> None:
        super().__init__(svc, model, metric, alert)
        self.decoys = Decoys(self)

    # -- cases --------------------------------------------------------------------------
    def fire_case(self, subject: Subject) -> Case:
        """Series just past the threshold: quiet until `for` has elapsed, then firing.
        Where the engines would print $value differently (their last bits differ where a
        sample sits on a range's left edge, which only 2.x counts), the samples move
        between rule evaluations, where both compute alike; a value on a rounding tie
        moves by a slightly different margin."""
        shift = math.gcd(self.timing.step_ms, self.timing.eval_ms) // 2
        for margin in MARGINS:
            for offset in (0, shift):
                try:
                    return self._fire_case(subject, margin, offset)
                except _Tie as exc:
                    tie = exc
        raise Unprovable(str(tie))

    def _fire_case(self, subject: Subject, margin: float, offset: int) -> Case:
        a = self.alert
        fire, quiet = self.targets(subject.threshold, margin)
        series = self.series_for(subject, fire, self.partner(fire, abs(fire - quiet)))
        series += self.decoys.for_fire(subject)  # would keep it quiet if let in
        series = [emulate.shifted(s, offset) for s in series]
        step = self.timing.eval_ms
        start = next((t for t in range(0, self.end_ms + 1, step)
                      if self.verdict(series, t, subject.threshold)), None)
        if start is None:
            raise Unprovable(f"synthetic series at {fire:g} never cross the threshold "
                             f"{subject.threshold:g}")
        fire_at = start + math.ceil(a.for_.ms / step) * step
        if fire_at > self.end_ms:
            raise Unprovable("the test horizon is too short")
        # A breach only grows while a rate warms up, so once true it stays true; these
        # are the instants the test asserts on.
        for t in (fire_at - step, fire_at, self.end_ms):
            if not self.verdict(series, t, subject.threshold):
                raise Unprovable("the synthetic breach does not hold steadily")
        expected = [self._expected(subject, self.observe(series, fire_at, e) or 0.0)
                    for e in ENGINES]
        if any(x != expected[0] for x in expected):
            raise _Tie("the alert's annotations would print $value differently on "
                       "Prometheus 2.x and 3.x")
        case = Case(f"{a.name} fires{self._past(subject)}", series,
                    interval_ms=offset or None)
        case.checks.append(self._check(fire_at - self.timing.eval_ms, []))
        case.checks.append(self._check(fire_at, expected[:1]))
        return case

    def quiet_case(self, subject: Subject) -> Case:
        a = self.alert
        fire, quiet = self.targets(subject.threshold)
        series = self.series_for(subject, quiet, self.partner(quiet, abs(fire - quiet)))
        series += self.decoys.for_quiet(subject)  # would make it fire if let in
        # Rates warm up over their first window after a series appears (a test artefact:
        # real series have history), so judge the steady state that follows.
        settled = math.ceil(a.window.ms / self.timing.eval_ms) * self.timing.eval_ms
        for t in (settled, self.end_ms):
            if self.verdict(series, t, subject.threshold):
                raise Unprovable(f"synthetic series at {quiet:g} cross the threshold "
                                 f"{subject.threshold:g}")
        return Case(f"{a.name} stays quiet{self._short(subject)}", series,
                    [self._check(self.end_ms, [])])

    def absent_cases(self) -> list[Case]:
        a, m = self.alert, self.metric
        labels = scenarios.pick_labels(m, (), (*a.select, *m.selector), []) or {}
        present_subject = Subject(labels, 0.0, None)
        unrelated = Series("mcgen_test_unrelated", (("job", "mcgen-test"),), 1.0, 0.0,
                           self.steps, self.timing.step_ms)
        hold = math.ceil(a.for_.ms / self.timing.eval_ms) * self.timing.eval_ms
        others = self.decoys.present(present_subject)  # other jobs' series do not count
        absent = Case(f"{a.name} fires when {m.name} is absent for {a.for_}"
                      + (" (only other jobs expose it)" if others else ""), [unrelated, *others],
                      [self._check(hold - self.timing.eval_ms, []),
                       self._check(hold, [self._expected(present_subject, 1.0)])])
        series = self.present_series(present_subject)
        present = Case(f"{a.name} stays quiet while {m.name} is present", series,
                       [self._check(self.end_ms, [])])
        return [absent, present]

    def cases(self) -> list[Case]:
        if self.alert.kind == "absent":
            return self.absent_cases()
        out = []
        for subject in scenarios.subjects(self.alert, self.metric,
                                          (*self.denominator_values(), *self.metric.selector)):
            out += [self.fire_case(subject), self.quiet_case(subject)]
        return out

    # -- expectations ---------------------------------------------------------------------
    def _past(self, subject: Subject) -> str:
        word = "above" if self.alert.op != "<" else "below"
        if self.alert.kind == "stale":
            return f" when older than {self.alert.stale_after}{subject.describe(self.alert)}"
        return f" {word} {subject.threshold:g}{subject.describe(self.alert)}"

    def _short(self, subject: Subject) -> str:
        word = "below" if self.alert.op != "<" else "above"
        if self.alert.kind == "stale":
            return f" while fresh{subject.describe(self.alert)}"
        return f" {word} {subject.threshold:g}{subject.describe(self.alert)}"

    def _series_labels(self, subject: Subject) -> dict[str, str]:
        if self.alert.kind == "absent":
            return {m.label: m.value for m in self.alert.select if m.op == "="}
        return {k: subject.labels[k] for k in self.alert.carried}

    def _expected(self, subject: Subject, value: float) -> dict[str, Any]:
        series_labels = self._series_labels(subject)
        labels = {**series_labels, **alert_labels(self.svc, self.alert)}
        rendered = {}
        for key, text in alert_annotations(self.svc, self.alert).items():
            try:
                rendered[key] = gotemplate.parse(text).render(series_labels, value)
            except gotemplate.EngineDifference as exc:
                raise Unprovable(f"its {key}: {exc}; use toUpper or toLower, or test it "
                                 "with label values both versions capitalise alike") from exc
        return {"exp_labels": dict(sorted(labels.items())), "exp_annotations": rendered}

    def _check(self, at_ms: int, alerts: list[dict[str, Any]]) -> dict[str, Any]:
        return {"eval_time": str(promql.Duration(at_ms)), "alertname": self.alert.name,
                "exp_alerts": alerts}
