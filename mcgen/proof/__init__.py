"""The proof: prometheus/<service>.test.yml, promtool unit tests that prove every alert
of the rules file.

prover.py decides what each alert's tests show (fires past each threshold after `for`
and not earlier, quiet just short of it, absent and present), on synthetic series
(synthetic.py, scenarios.py, decoys.py) whose outcome on each engine is replayed in
Python (emulate.py); sloprover.py and sloabsent.py do the same for SLOs (sloreplay.py).
This module lays the cases out as promtool's test file, sharing test groups between
cases (groups.py) where what each check reads (reads.py) allows.
"""

from __future__ import annotations

from typing import Any

from mcgen import conventions, promql
from mcgen.errors import SpecError, SpecProblem
from mcgen.proof import emulate, groups, sloabsent
from mcgen.proof.prover import Prover
from mcgen.proof.reads import Readers
from mcgen.proof.scenarios import Unprovable
from mcgen.proof.sloprover import SloProver
from mcgen.rules import rules_document
from mcgen.spec.model import Model, Service
from mcgen.text import yamlout


def tests_document(svc: Service, model: Model) -> tuple[dict[str, Any], list[SpecProblem]]:
    problems: list[SpecProblem] = []
    units: list[groups.Unit] = []
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
                units.append(groups.unit({
                    "name": case.name,
                    "interval": str(promql.Duration(interval)),
                    "alert_rule_test": case.checks,
                }, emulate.ordered(case.series), readers))
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
            units.append(groups.unit(
                group, emulate.ordered(sc.series), readers))
    rules_file = conventions.rules_path(svc.name).rsplit("/", 1)[-1]
    # Recording groups first, as a running Prometheus settles to; promtool would
    # otherwise evaluate the groups in random order.
    order = [conventions.recording_group(svc.name), conventions.alert_group(svc.name)]
    if svc.slos:
        order.insert(1, conventions.slo_group(svc.name))
    # Cases share test groups (groups.py): promtool's work grows with each group's
    # evaluations, not with the cases in it.
    packed = groups.pack(groups.combine(units, readers), eval_ms)
    doc = {"rule_files": [rules_file], "evaluation_interval": str(promql.Duration(eval_ms)),
           "group_eval_order": order, "tests": packed}
    return doc, problems


def render(svc: Service, model: Model) -> dict[str, str]:
    doc, problems = tests_document(svc, model)
    if problems:
        raise SpecError(problems)
    return {conventions.tests_path(svc.name): conventions.header(svc) + yamlout.dump(doc)}
