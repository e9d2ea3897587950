"""prometheus/<service>.test.yml: promtool unit tests that prove every alert.

mcgen/prover.py decides what each test shows (fires past each threshold after `for`
and not earlier, quiet just short of it, absent and present); this module lays the
cases out as promtool's test file.
"""

from __future__ import annotations

from typing import Any

from mcgen import conventions, emulate, promql, sloabsent, yamlout
from mcgen.emulate import Series
from mcgen.errors import SpecError, SpecProblem
from mcgen.promql import Matcher
from mcgen.prover import Prover
from mcgen.scenarios import Unprovable
from mcgen.sloprover import SloProver
from mcgen.spec.model import Model, Service
from mcgen.targets import test_groups
from mcgen.targets.rules import rules_document
from mcgen.targets.test_reads import Readers


def _held(s: Series, interval_ms: int) -> test_groups.Held:
    """promtool's input series, sampled every `interval_ms` of the group: compact
    `a+bxn` segments, or each value in its slot with `_` between when the samples sit
    off the group's grid (shifted between rule evaluations)."""
    matchers = [Matcher(k, "=", v) for k, v in s.labels]
    samples = len(s.values())
    if s.offset_ms == 0 and s.interval_ms == interval_ms:
        segments = [(s.start, s.step, s.count), *s.more]
        values = " ".join(f"{promql.number(a)}+{promql.number(b)}x{n}" for a, b, n in segments)
        slots = samples
    else:
        tokens = ["_"] * (s.offset_ms // interval_ms)
        for i, value in enumerate(s.values()):
            tokens += ["_"] * (s.interval_ms // interval_ms - 1 if i else 0)
            tokens.append(promql.number(value))
        values, slots = " ".join(tokens), len(tokens)
    return test_groups.Held(promql.selector(s.name, matchers), s.name, dict(s.labels), values,
                            slots, s.offset_ms, s.offset_ms + (samples - 1) * s.interval_ms)


def tests_document(svc: Service, model: Model) -> tuple[dict[str, Any], list[SpecProblem]]:
    problems: list[SpecProblem] = []
    units: list[test_groups.Unit] = []
    eval_ms = svc.interval.ms if svc.interval else 60_000
    readers = Readers(rules_document(svc, model), eval_ms)
    for metric in svc.metrics:
        for alert in metric.alerts:
            prover = Prover(svc, model, metric, alert)
            try:
                cases = prover.cases()
            except Unprovable as exc:
                problems.append(SpecProblem(
                    exc.pos or alert.pos, f"cannot generate a test for alert '{alert.name}': "
                    f"{exc}", "check its thresholds, select and overrides"))
                continue
            for case in cases:
                interval = case.interval_ms or prover.timing.step_ms
                units.append(test_groups.unit({
                    "name": case.name,
                    "interval": str(promql.Duration(interval)),
                    "alert_rule_test": case.checks,
                }, [_held(s, interval) for s in emulate.ordered(case.series)], readers))
    for slo in svc.slos:
        try:
            slo_cases = [*SloProver(svc, model, slo).cases(), *sloabsent.cases(svc, model, slo)]
        except Unprovable as exc:
            problems.append(SpecProblem(exc.pos or slo.pos, f"cannot generate a test for SLO "
                                        f"'{slo.name}': {exc}", "check its SLI and objective"))
            continue
        for sc in slo_cases:
            group: dict[str, Any] = {
                "name": sc.name, "interval": str(promql.Duration(sc.interval_ms))}
            if sc.alert_checks:
                group["alert_rule_test"] = sc.alert_checks
            if sc.expr_checks:
                group["promql_expr_test"] = sc.expr_checks
            units.append(test_groups.unit(
                group, [_held(s, sc.interval_ms) for s in emulate.ordered(sc.series)], readers))
    rules_file = conventions.rules_path(svc.name).rsplit("/", 1)[-1]
    # Recording groups first, as a running Prometheus settles to; promtool would
    # otherwise evaluate the groups in random order.
    order = [conventions.recording_group(svc.name), conventions.alert_group(svc.name)]
    if svc.slos:
        order.insert(1, conventions.slo_group(svc.name))
    # Cases share test groups (test_groups.py): promtool's work grows with each group's
    # evaluations, not with the cases in it.
    groups = test_groups.pack(test_groups.combine(units, readers), eval_ms)
    doc = {"rule_files": [rules_file], "evaluation_interval": str(promql.Duration(eval_ms)),
           "group_eval_order": order, "tests": groups}
    return doc, problems


def render(svc: Service, model: Model) -> dict[str, str]:
    doc, problems = tests_document(svc, model)
    if problems:
        raise SpecError(problems)
    return {conventions.tests_path(svc.name): conventions.header(svc) + yamlout.dump(doc)}
