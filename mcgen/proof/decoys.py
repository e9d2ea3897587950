"""Decoys: series a generated test adds so that it fails when the rule reads too much.

Two kinds of decoy label sets:
  * select decoys differ from the subject only where the alert's `select` excludes them;
  * scope decoys are the same metric from another job: the subject's labels, except that
    the metric's `selector` excludes them (another service's `http_requests_total`).
A decoy that lands in a series group of its own (its `by` values differ) goes into the
quiet case with values far past the threshold: let in, it would fire by itself. One in
the subject's group goes into the quiet case too, far past the threshold, where mixing it
in moves the group's quantity towards firing (sums of rates above, max above, min below,
merged histogram buckets, ratios); where mixing can only move the quantity away from
firing (a sum of rates that must stay above a threshold, the newest of the timestamps a
staleness alert takes, the max of summary quantiles below a threshold), it goes into the
fire case with values far on the quiet side: let in, it would silence the alert. An
absent_for alert's fire case gets another job's present series (they would keep it quiet).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from mcgen.promql import Matcher
from mcgen.proof import scenarios
from mcgen.proof.emulate import Series
from mcgen.proof.scenarios import Subject
from mcgen.proof.synthetic import Synthetic
from mcgen.spec.model import SERVICE_LABEL, Metric

DECOY_SERVICE = "mcgen-other-service"
SCOPE_VOLUME = 100.0  # a ratio scope decoy's events per second against the subject's 1


class Decoys:
    def __init__(self, prover: Synthetic) -> None:
        self.p = prover

    @property
    def lifting(self) -> bool:
        """Whether mixing series into the subject's group can only move the alerted
        quantity away from firing."""
        a, m = self.p.alert, self.p.metric
        return (a.kind == "rate" and a.op == "<") or a.kind == "stale" or (
            a.kind == "quantile" and m.type == "summary" and a.op == "<")

    def _apart(self, labels: dict[str, str], subject: Subject) -> bool:
        return any(labels.get(b) != subject.labels.get(b) for b in self.p.alert.by)

    def for_quiet(self, subject: Subject) -> list[Series]:
        out = []
        for labels in self.label_sets(subject):
            if not self.lifting or self._apart(labels, subject):
                out += self.firing(Subject(labels, subject.threshold, None))
        return (out + self.ratio_scope(subject) + self.recorded(subject, towards_firing=True)
                + self.gauge_parts(subject, towards_firing=True))

    def for_fire(self, subject: Subject) -> list[Series]:
        out = []
        for labels in self.label_sets(subject):
            if self.lifting and not self._apart(labels, subject):
                out += self.calming(Subject(labels, subject.threshold, None))
        return (out + self.recorded(subject, towards_firing=False)
                + self.gauge_parts(subject, towards_firing=False) + self.ratio_lifting(subject))

    def recorded(self, subject: Subject, towards_firing: bool) -> list[Series]:
        """Another service's recordings of the rates this alert reads: the same names
        and level labels, its own `service` (two specs that share a metric name record
        under one name). A rule that reads them without its `service` matcher sums them
        in: in the quiet case they would make it fire, in the fire case silence it."""
        p, a = self.p, self.p.alert
        if a.kind not in ("rate", "ratio", "quantile") or p.metric.type == "summary":
            return []
        up = a.op != "<"
        high = 1000.0 * (abs(subject.threshold) + 1)
        out = []
        for i, part in enumerate(p.inputs):
            if not part.labels:
                continue  # no selector: the service records alone under this name
            base = {k: subject.labels.get(k, "") for k in part.level if k != "le"}
            base[SERVICE_LABEL] = DECOY_SERVICE
            if a.kind == "quantile":
                # all observations in +Inf lift the quantile, all in the first bucket sink it
                lift = up == towards_firing
                bounds = [*p.metric.buckets, math.inf]
                rows = [({**base, "le": scenarios.le_text(b)},
                         high if lift is False or math.isinf(b) else 0.0) for b in bounds]
            elif (i == 0) == (up == towards_firing):
                rows = [(base, high)]  # the rate or numerator up, or the denominator
            else:
                continue
            out += [Series(part.recording.name, tuple(sorted((k, v) for k, v in labels.items()
                                                              if v)), value, 0.0, p.steps,
                           p.timing.step_ms) for labels, value in rows]
        return out

    def gauge_parts(self, subject: Subject, towards_firing: bool) -> list[Series]:
        """A ratio of gauges: series of either side in the subject's group that only its
        `select` keeps out, ten times the denominator. Let into the numerator they raise
        the ratio, into the denominator they lower it: each goes into the case where
        that would change the verdict. (A ratio of one gauge's parts has no such series:
        the denominator counts them by design.)"""
        p, a = self.p, self.p.alert
        if a.kind != "ratio" or p.metric.type != "gauge" or a.ratio_metric == p.metric.name:
            return []
        den = scenarios.view(p.svc.metric(a.ratio_metric or ""),
                             (*a.ratio_select, *a.ratio_selector), a.by)
        fire, _ = p.targets(subject.threshold)
        value = 10 * (1 / fire if fire else 1.0)  # the subject's denominator is 1/ratio
        up = a.op != "<"
        out = []
        for side, select, lifts in ((p.metric, a.select, True), (den, a.ratio_select, False)):
            if lifts != (up == towards_firing):
                continue
            for labels in self.select_sets(subject, side, select):
                if not self._apart(labels, subject):
                    out += scenarios.gauge_series(side.name, labels, p.svc.name, [value], 0.0,
                                                  p.steps, p.timing, p.instances)
        return out

    def label_sets(self, subject: Subject) -> list[dict[str, str]]:
        a = self.p.alert
        if a.kind in ("ratio", "absent"):
            return []
        return self.select_sets(subject) + self.outsiders(subject.labels)

    def select_sets(self, subject: Subject, metric: Metric | None = None,
                    select: Sequence[Matcher] | None = None) -> list[dict[str, str]]:
        """Label sets that differ from the subject's only where `select` excludes them
        (the alert's, or another metric's, such as a ratio's denominator)."""
        a = self.p.alert
        m = metric or self.p.metric
        select = a.select if select is None else select
        out = []
        for matcher in select[:3]:
            same = [Matcher(k, "=", v) for k, v in subject.labels.items()
                    if k != matcher.label and k in m.label_names]
            others = [x for x in (*select, *m.selector)
                      if x.label == matcher.label and x != matcher]
            labels = scenarios.pick_labels(m, a.by, [*same, *others], [[matcher]])
            if labels is None:
                continue
            for key in ("instance", "job"):
                if key in subject.labels and key != matcher.label:
                    labels[key] = subject.labels[key]
            out.append(labels)
        return out

    def outsiders(self, labels: dict[str, str]) -> list[dict[str, str]]:
        """`labels` as another job's: one label set per matcher of the selector (that
        one broken, the others kept), so that each matcher is proven."""
        a, m = self.p.alert, self.p.metric
        fixed = {x.label for x in m.selector}
        same = [Matcher(k, "=", v) for k, v in labels.items()
                if k not in fixed and k in m.label_names]
        out = scenarios.outsiders(m, a.by, same)
        for found in out:
            for key in ("instance", "job"):
                if key in labels and key not in fixed:
                    found[key] = labels[key]
        return out

    def ratio_scope(self, subject: Subject) -> list[Series]:
        """Another job's numerator and denominator, their ratio far past the threshold
        and their traffic a hundred times the subject's."""
        a, p = self.p.alert, self.p
        if a.kind != "ratio" or not a.ratio_selector:
            return []
        fire, _ = p.targets(subject.threshold)
        if a.op == "<":
            ratio = 0.0  # the numerator never counts
        elif a.ratio_metric == p.metric.name:
            ratio = 1.0  # every event of the counter is one the numerator selects
        else:
            ratio = max(2 * fire, fire + 1)
        return [s for labels in self.outsiders(subject.labels)
                for s in p.ratio_series(Subject(labels, subject.threshold, None), ratio,
                                        SCOPE_VOLUME, outside=True)]

    def ratio_lifting(self, subject: Subject) -> list[Series]:
        """For a ratio that must stay above its threshold (it fires below): another
        job's numerator series, a hundred times the subject's traffic. Read without its
        selector, the numerator would lift the ratio and silence the fire case. (No
        denominator of theirs: read by a correct rule or not, it must not count.)"""
        a, p = self.p.alert, self.p
        if a.kind != "ratio" or a.op != "<" or not p.metric.selector:
            return []
        m, n, t, inst = p.metric, p.steps, p.timing, p.instances
        out = []
        for labels in self.outsiders(subject.labels):
            if m.type == "counter":
                out += scenarios.counter_series(m.name, labels, p.svc.name, SCOPE_VOLUME, n, t,
                                                inst)
            else:
                out += scenarios.gauge_series(m.name, labels, p.svc.name,
                                              [SCOPE_VOLUME / len(inst)], 0.0, n, t, inst)
        return out

    def present(self, subject: Subject) -> list[Series]:
        """Another job's series of an absent_for alert's metric."""
        return [s for labels in self.outsiders(subject.labels)
                for s in self.p.present_series(Subject(labels, 0.0, None))]

    def firing(self, decoy: Subject) -> list[Series]:
        """The decoy's series, far past its threshold on the firing side."""
        p = self.p
        a, m, t = p.alert, p.metric, p.timing
        svc, n, inst = p.svc.name, p.steps, p.instances
        up = a.op != "<"
        if a.kind == "quantile" and m.type == "histogram":
            counts = [0] * (len(m.buckets) + 1)
            counts[-1 if up else 0] = 10 * scenarios.HISTOGRAM_TOTAL
            return scenarios.histogram_series(m, decoy.labels, svc, counts, n, t, inst)
        if a.kind == "rate":
            return self._rate(decoy, 10 * (decoy.threshold + 1) if up else 0.0)
        fire, quiet = p.targets(decoy.threshold)
        return p.series_for(decoy, fire + 10 * (fire - quiet))

    def calming(self, decoy: Subject) -> list[Series]:
        """The decoy's series, far on the quiet side of its threshold."""
        p = self.p
        if p.alert.kind == "rate":
            return self._rate(decoy, 10 * (decoy.threshold + 1))
        if p.alert.kind == "stale":
            return p.series_for(decoy, 0.0)  # updated at every scrape
        fire, quiet = p.targets(decoy.threshold)
        return p.series_for(decoy, quiet + 10 * (quiet - fire))

    def _rate(self, decoy: Subject, rate: float) -> list[Series]:
        p = self.p
        m, t, svc, n, inst = p.metric, p.timing, p.svc.name, p.steps, p.instances
        if m.type == "histogram":
            counts = [0] * (len(m.buckets) + 1)
            counts[0] = 1
            per_step = rate * t.step_ms / 1000 / len(inst)
            series = scenarios.histogram_series(m, decoy.labels, svc, counts, n, t, inst)
            return [scenarios.rescale(s, per_step) for s in series]
        return scenarios.counter_series(m.name, decoy.labels, svc, rate, n, t, inst)
