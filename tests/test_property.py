"""Property: every valid spec gives rules promtool accepts and generated tests that pass.

Random specs (tests/spec_strategies.py) cover every metric type and alert kind, hostile
label values, varied bucket magnitudes, overrides, selectors with all four operators,
custom annotation templates, evaluation intervals and service-level labels. For each
example (all its services in one promtool call): mcgen renders the specs; the rules must
pass `promtool check rules --lint=duplicate-rules --lint-fatal`, the generated unit tests
`promtool test rules`, and each alert needs a test that sees it fire for each of its
thresholds (every override, and its own when some series reaches it).

mcgen may reject an alert only for a contradiction the strategy created on purpose (it
records which alert and what mcgen must say) or for a KNOWN BUG listed below; such alerts
are dropped and the rest is checked. Any other rejection, crash or promtool failure fails.
The minimal specs of the bugs this test found run first on every run (REGRESSIONS).

Runs 40 examples by default, the same ones on every run under CI=true and `make test`
(tests/conftest.py's "ci" profile); `make fuzz` explores new ones (MCGEN_PROPERTY_EXAMPLES
also sets the number; about 0.4 s per example). Each is proven by the promtool of a 2.x and
of a 3.x engine; without them the test is skipped, except under CI=true, where it fails.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import tempfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from conftest import MAJOR_ENGINES, max_examples, need_promtool
from hypothesis import HealthCheck, event, example, given, note, settings
from spec_strategies import REGRESSIONS, Example, examples, own_threshold_reachable

from mcgen import api, conventions
from mcgen.dashboards import check as dashboard_check
from mcgen.errors import SpecError

EXAMPLES = int(os.environ.get("MCGEN_PROPERTY_EXAMPLES") or max_examples(40))


def _promtools() -> tuple[str, ...]:
    """promtool of a 2.x and a 3.x engine: every example is proven on both (skipped
    without them, failed under CI=true)."""
    return tuple(need_promtool(engine) for engine in MAJOR_ENGINES)


def _run(args: list[str], cwd: Path) -> tuple[bool, str]:
    proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=900,
                          check=False)
    return proc.returncode == 0, (proc.stdout + proc.stderr).strip()


def _check_every_threshold_fires(spec: dict[str, Any], test_doc: dict[str, Any]) -> None:
    """Each alert has a test that sees it fire for each of its thresholds: one per override
    and one for its own, unless the overrides take every series `select` leaves. Cases
    share test groups (one check may expect the alerts of several), so what is counted
    is the firing alerts' distinct label sets."""
    seen: dict[str, set[frozenset[tuple[str, str]]]] = {}
    for case in test_doc.get("tests", ()):
        for check in case.get("alert_rule_test", ()):
            for alert in check.get("exp_alerts") or ():
                labels = frozenset((alert.get("exp_labels") or {}).items())
                seen.setdefault(check["alertname"], set()).add(labels)
    firing = {name: len(sets) for name, sets in seen.items()}
    short = []
    for metric in spec["metrics"]:
        for alert in metric.get("alerts", ()):
            want = 1
            if alert.get("overrides"):
                want = len(alert["overrides"]) + own_threshold_reachable(metric, alert)
            got = firing.get(alert["alert"], 0)
            if got < want:
                short.append(f"{alert['alert']}: {got} firing test(s), want {want}")
    assert not short, f"{spec['service']}: thresholds without a firing test: {short}"


@dataclass(frozen=True)
class KnownBug:
    """A generator bug that makes mcgen reject a valid alert, recognised precisely enough
    that nothing else hides behind it. The alert is dropped and the rest still checked."""

    name: str
    message: str  # regex on the problem's message
    # (alert, its metric, the whole service spec) -> whether the bug explains the problem
    applies: Callable[[dict[str, Any], dict[str, Any], dict[str, Any]], bool]


KNOWN_BUGS: tuple[KnownBug, ...] = ()


def _alert_named(message: str, spec: dict[str, Any] | None, line: int) -> str | None:
    """The alert a problem is about: named in its message, or the one whose entry holds its
    line (the nearest `- alert:` above it, within the same metric)."""
    named = re.search(r"alert '([A-Za-z0-9]+)'", message)
    if named:
        return named.group(1)
    if spec is None:
        return None
    lines = dump_spec(spec).splitlines()
    for text in reversed(lines[:line] if 0 < line <= len(lines) else []):
        at = re.match(r"\s*- alert: ([A-Za-z0-9]+)$", text)
        if at:
            return at.group(1)
        if re.match(r"\s*- name: ", text):
            return None
    return None


def _excused(example: Example, specs: list[dict[str, Any]], exc: SpecError
             ) -> list[tuple[str, str, str]]:
    """(service, alert, why) for each problem that is an expected contradiction or a known
    bug; AssertionError naming every other problem."""
    by_service = {spec["service"]: spec for spec in specs}
    excused, unexpected = [], []
    for problem in exc.problems:
        service = Path(problem.pos.path).stem
        name = _alert_named(problem.message, by_service.get(service), problem.pos.line)
        why = None
        if name is not None and service in by_service:
            reason = example.expected_rejections.get((service, name))
            if reason and re.search(reason, problem.message):
                why = "expected contradiction"
            for metric in by_service[service]["metrics"]:
                for alert in metric.get("alerts", ()):
                    if alert["alert"] != name or why:
                        continue
                    for bug in KNOWN_BUGS:
                        m = re.search(bug.message, problem.message)
                        if m and bug.applies(alert, metric, by_service[service]):
                            why = f"KNOWN BUG: {bug.name}"
                            break
            if why:
                excused.append((service, name, why))
                continue
        unexpected.append(str(problem))
    assert not unexpected, "mcgen rejected a valid spec:\n" + "\n".join(unexpected)
    return excused


def _record_coverage(example: Example) -> None:
    for spec in example.specs:
        for metric in spec["metrics"]:
            for alert in metric.get("alerts", ()):
                kind = next(k for k in ("quantile", "rate", "ratio_to", "value", "stale_after",
                                        "absent_for") if k in alert)
                event(f"alert kind: {kind} on {metric['type']}")
                if alert.get("overrides"):
                    event("has overrides")
                if "summary" in alert or "description" in alert:
                    event("custom templates")
        for slo in spec.get("slos", ()):
            event(f"SLO: {next(iter(slo['sli']))}")
            SLO_KINDS[next(iter(slo["sli"]))] += 1


OUTCOMES: Counter[str] = Counter()
SLO_KINDS: Counter[str] = Counter()


def test_valid_specs_pass_promtool() -> None:
    """Run the property (FAILED, not skipped, without promtool under CI=true), then check
    that the strategy mostly produced specs mcgen renders whole."""
    OUTCOMES.clear()
    SLO_KINDS.clear()
    _property(_promtools())
    total = sum(OUTCOMES.values())
    print(f"{total} examples: " + ", ".join(f"{n} {k}" for k, n in OUTCOMES.most_common())
          + f"; SLOs: {dict(SLO_KINDS)}")
    if total >= 20:
        assert OUTCOMES["rendered"] >= 0.75 * total, f"too few whole specs: {OUTCOMES}"
        assert SLO_KINDS["events"] and SLO_KINDS["latency"], f"no SLO of a kind: {SLO_KINDS}"


@settings(max_examples=EXAMPLES, deadline=None, print_blob=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(example=examples())
def _property(promtools: tuple[str, ...], example: Example) -> None:
    _record_coverage(example)
    for spec in example.specs:
        note(f"--- specs/{spec['service']}.yaml\n{dump_spec(spec)}")
    if example.expected_rejections:
        note(f"expected contradictions: {example.expected_rejections}")
    outcome = check_example(example, promtools, note)
    OUTCOMES[outcome] += 1
    event(outcome)


for _regression in REGRESSIONS:  # the minimal specs of bugs this test found, always run
    _property = example(example=_regression)(_property)


def dump_spec(spec: dict[str, Any]) -> str:
    return yaml.safe_dump(spec, sort_keys=False, allow_unicode=True, width=1000)


def check_example(example: Example, promtools: Sequence[str],
                  log: Callable[[str], None] = lambda _: None) -> str:
    """Render the example's specs and run promtool on the result; AssertionError when the
    property fails, else a word on what happened (for statistics). Alerts mcgen may
    reject (expected contradictions, known bugs) are dropped and the rest re-rendered."""
    specs = copy.deepcopy(example.specs)
    outcome = "rendered"
    with tempfile.TemporaryDirectory(prefix="mcgen-property-") as tmp:
        root = Path(tmp)
        for attempt in range(4):
            spec_dir = root / f"specs{attempt}"
            spec_dir.mkdir()
            for spec in specs:
                path = spec_dir / f"{spec['service']}.yaml"
                path.write_text(dump_spec(spec), encoding="utf-8")
            try:
                files = api.render([spec_dir])
                break
            except SpecError as exc:
                excused = _excused(example, specs, exc)
                log(f"dropped after rejection: {excused}")
                outcome = "dropped alerts: " + ", ".join(sorted({w for _, _, w in excused}))
                drop = {(svc, name) for svc, name, _ in excused}
                for spec in specs:
                    for metric in spec["metrics"]:
                        metric["alerts"] = [a for a in metric.get("alerts", ())
                                            if (spec["service"], a["alert"]) not in drop]
        else:
            raise AssertionError("mcgen kept rejecting after dropping alerts")

        out = root / "out"
        for rel, content in files.items():
            path = out / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
        prom = out / "prometheus"
        rules = sorted(p.name for p in prom.glob("*.rules.yml"))
        tests = sorted(p.name for p in prom.glob("*.test.yml"))
        assert len(rules) == len(tests) == len(specs), sorted(files)

        for promtool in promtools:
            ok, output = _run([promtool, "check", "rules", "--lint=duplicate-rules",
                               "--lint-fatal", *rules], prom)
            assert ok, f"{promtool} check rules failed:\n{output}"

        for spec in specs:
            doc = yaml.safe_load((prom / f"{spec['service']}.test.yml").read_text("utf-8"))
            _check_every_threshold_fires(spec, doc)

        # Dashboards: every metric and threshold shown, layout and queries sound.
        for svc in api.validate([spec_dir]).services:
            board = json.loads(files[conventions.dashboard_path(svc.name)])
            assert dashboard_check.problems(board, svc) == [], svc.name

        for promtool in promtools:
            ok, output = _run([promtool, "test", "rules", *tests], prom)
            if not ok:
                for name in [*rules, *tests]:
                    log(f"--- generated prometheus/{name}\n{(prom / name).read_text('utf-8')}")
            assert ok, f"{promtool} test rules failed:\n{output[-20000:]}"
    if example.expected_rejections and outcome == "rendered":
        outcome = "rendered despite an expected contradiction"
    return outcome
