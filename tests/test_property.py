"""Property: every valid spec gives rules promtool accepts and generated tests that pass.

Random specs (tests/spec_strategies.py) cover every metric type and alert kind, hostile
label values, varied bucket magnitudes, overrides, selectors with all four operators,
custom annotation templates, evaluation intervals and service-level labels. For each
example: mcgen renders the specs; the rules must pass
`promtool check rules --lint=duplicate-rules --lint-fatal` and the generated unit tests
`promtool test rules`, and every alert must have at least one test that sees it fire.

mcgen may reject a spec only for a contradiction the strategy created on purpose (it
records which alert and what mcgen must say about it); any other rejection fails.

Runs 40 examples by default; MCGEN_PROPERTY_EXAMPLES=300 for a deeper search. Without
promtool the test is skipped, except under CI=true, where it fails.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, note, settings
from spec_strategies import Example, examples

from mcgen import api
from mcgen.errors import SpecError

EXAMPLES = int(os.environ.get("MCGEN_PROPERTY_EXAMPLES", "40"))


def _find_promtool() -> str | None:
    for candidate in (os.environ.get("PROMTOOL"), shutil.which("promtool")):
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture(scope="module")
def promtool() -> str:
    found = _find_promtool()
    if found is None:
        message = "promtool not found: install Debian's prometheus package or set PROMTOOL"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI=true: this test must run in CI)")
        pytest.skip(message)
    return found


def _run(args: list[str], cwd: Path) -> tuple[bool, str]:
    proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=900,
                          check=False)
    return proc.returncode == 0, (proc.stdout + proc.stderr).strip()


def _alert_names(spec: dict[str, Any]) -> set[str]:
    return {a["alert"] for m in spec["metrics"] for a in m.get("alerts", ())}


def _fired_alerts(test_doc: dict[str, Any]) -> set[str]:
    return {check["alertname"] for case in test_doc.get("tests", ())
            for check in case.get("alert_rule_test", ()) if check.get("exp_alerts")}


def _check_rejection(example: Example, exc: SpecError) -> None:
    """Accept a rejection only when each problem is an expected contradiction."""
    unexpected = []
    for problem in exc.problems:
        ok = any(f"alert '{alert}'" in problem.message and re.search(reason, problem.message)
                 for (_, alert), reason in example.expected_rejections.items())
        if not ok:
            unexpected.append(str(problem))
    assert not unexpected, "mcgen rejected a valid spec:\n" + "\n".join(unexpected)


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


@settings(max_examples=EXAMPLES, deadline=None, print_blob=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(example=examples())
def test_valid_specs_pass_promtool(promtool: str, example: Example) -> None:
    _record_coverage(example)
    for spec in example.specs:
        note(f"--- specs/{spec['service']}.yaml\n{dump_spec(spec)}")
    if example.expected_rejections:
        note(f"expected contradictions: {example.expected_rejections}")
    event(check_example(example, promtool, note))


def dump_spec(spec: dict[str, Any]) -> str:
    return yaml.safe_dump(spec, sort_keys=False, allow_unicode=True, width=1000)


def check_example(example: Example, promtool: str,
                  log: Callable[[str], None] = lambda _: None) -> str:
    """Render the example's specs and run promtool on the result; AssertionError when the
    property fails, else a word on what happened (for statistics)."""
    with tempfile.TemporaryDirectory(prefix="mcgen-property-") as tmp:
        root = Path(tmp)
        spec_dir = root / "specs"
        spec_dir.mkdir()
        for spec in example.specs:
            (spec_dir / f"{spec['service']}.yaml").write_text(dump_spec(spec), encoding="utf-8")
        try:
            files = api.render([spec_dir])
        except SpecError as exc:
            _check_rejection(example, exc)
            return "rejected: expected contradiction"

        out = root / "out"
        for rel, content in files.items():
            path = out / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
        prom = out / "prometheus"
        rules = sorted(p.name for p in prom.glob("*.rules.yml"))
        tests = sorted(p.name for p in prom.glob("*.test.yml"))
        assert len(rules) == len(tests) == len(example.specs), sorted(files)

        ok, output = _run([promtool, "check", "rules", "--lint=duplicate-rules",
                           "--lint-fatal", *rules], prom)
        assert ok, f"promtool check rules failed:\n{output}"

        for spec in example.specs:
            doc = yaml.safe_load((prom / f"{spec['service']}.test.yml").read_text("utf-8"))
            missing = _alert_names(spec) - _fired_alerts(doc)
            assert not missing, f"{spec['service']}: no test sees these alerts fire: {missing}"

        ok, output = _run([promtool, "test", "rules", *tests], prom)
        if not ok:
            for name in [*rules, *tests]:
                log(f"--- generated prometheus/{name}\n{(prom / name).read_text('utf-8')}")
        assert ok, f"promtool test rules failed:\n{output[-20000:]}"
    return "rendered" + (" despite an expected contradiction" if example.expected_rejections
                         else "")
