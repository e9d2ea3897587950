"""Reading what promtool prints: a hand-made failing test file run by the real promtool
of each engine, and every failure found with its file, group, subject and time."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mcgen import promtool as runner

RULES = {"groups": [{"name": "g1", "rules": [
    {"record": "job:up:sum", "expr": "sum by (job) (up)"},
    {"alert": "Down", "expr": "up == 0", "for": "1m", "labels": {"severity": "warning"},
     "annotations": {"summary": "down {{ $labels.instance }}"}},
]}]}
DOWN = {"series": 'up{job="a",instance="x"}', "values": "0x10"}
UP = {"series": 'up{job="a",instance="x"}', "values": "1x10"}
LABELS = {"severity": "warning", "job": "a", "instance": "x"}


def _alert(at: str, *alerts: dict[str, object]) -> dict[str, object]:
    return {"eval_time": at, "alertname": "Down", "exp_alerts": list(alerts)}


TESTS = {"rule_files": ["r.yml"], "evaluation_interval": "1m", "tests": [
    {"name": "passes", "interval": "1m", "input_series": [UP],
     "alert_rule_test": [_alert("5m")]},
    {"name": "wrong severity", "interval": "1m", "input_series": [DOWN],
     "alert_rule_test": [_alert("5m", {"exp_labels": {**LABELS, "severity": "critical"},
                                       "exp_annotations": {"summary": "down x"}})],
     "promql_expr_test": [{"expr": "job:up:sum", "eval_time": "5m",
                           "exp_samples": [{"labels": 'job:up:sum{job="a"}', "value": 1}]}]},
    # Unnamed, with the same alert and time as the group above: promtool names neither.
    {"interval": "1m", "input_series": [UP],
     "alert_rule_test": [_alert("5m", {"exp_labels": LABELS})],
     "promql_expr_test": [{"expr": "sum(rate(up[5m]", "eval_time": "2m", "exp_samples": []}]},
    {"name": "wrong summary", "interval": "1m", "input_series": [DOWN],
     "alert_rule_test": [_alert("5m", {"exp_labels": LABELS,
                                       "exp_annotations": {"summary": "down y"}})],
     "promql_expr_test": [{"expr": "job:up:sum", "eval_time": "5m",
                           "exp_samples": [{"labels": 'job:up:sum{job="a"}', "value": 2}]}]},
]}


def test_failures_are_named_on_each_engine(tmp_path: Path, promtool: str) -> None:
    (tmp_path / "r.yml").write_text(yaml.safe_dump(RULES))
    (tmp_path / "t.yml").write_text(yaml.safe_dump(TESTS))
    (run,) = runner.run_each("test", [(Path("t.yml"), "prom/t.yml")], tmp_path)
    assert not run.ok and not run.unparsed, run.output
    got = [(f.group, f.subject, f.at) for f in run.failures]
    assert got == [
        ("wrong severity", "alert Down", "5m"),
        ("wrong severity", "expr job:up:sum", "5m"),
        ("#3 (unnamed)", "alert Down", "5m"),
        ("#3 (unnamed)", "expr sum(rate(up[5m]", "2m"),
        ("wrong summary", "alert Down", "5m"),
        ("wrong summary", "expr job:up:sum", "5m"),
    ]
    details = [f.detail for f in run.failures]
    assert details[0] == ('expected 1 firing, got 1; missing {alertname="Down", instance="x", '
                          'job="a", severity="critical"}; unexpected {alertname="Down", '
                          'instance="x", job="a", severity="warning"}')
    assert details[1] == ('expected {__name__="job:up:sum", job="a"} 1E+00, '
                          'got {__name__="job:up:sum", job="a"} 0E+00')
    assert details[2].startswith("expected 1 firing, got 0; missing {")
    assert details[3].startswith("error: ") and "parse error" in details[3]
    assert details[4] == ('expected 1 firing, got 1; {alertname="Down", instance="x", job="a", '
                          'severity="warning"} annotation summary: expected "down y", '
                          'got "down x"')
    lines = run.lines()
    assert lines[0].startswith("prom/t.yml: FAILED (") and lines[0].endswith(
        "): 6 failing checks")
    assert lines[1] == f'prom/t.yml: test group "wrong severity": alert Down at 5m: {details[0]}'


def test_a_rules_file_problem_names_group_rule_and_line(tmp_path: Path, promtool: str) -> None:
    bad = {"groups": [{"name": "g1", "rules": [{"alert": "Down", "expr": "up == 0 +"}]}]}
    (tmp_path / "bad.yml").write_text(yaml.safe_dump(bad))
    (tmp_path / "r.yml").write_text(yaml.safe_dump(RULES))
    runs = list(runner.run_each("check", [(Path("bad.yml"), "prom/bad.yml"),
                                            (Path("r.yml"), "prom/r.yml")], tmp_path))
    assert [r.ok for r in runs] == [False, True]
    (failure,) = runs[0].failures
    assert (failure.group, failure.subject) == ("g1", 'rule "Down"')
    assert failure.at is not None and failure.at.startswith("line ")
    assert "parse error" in failure.detail
    assert runs[1].lines()[0].startswith("prom/r.yml: ok (")


@pytest.mark.parametrize("stderr", ["panic: something odd\n", ""])
def test_what_cannot_be_read_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     stderr: str) -> None:
    script = tmp_path / "promtool"
    script.write_text(f"#!/bin/sh\necho 'on stdout'\nprintf '{stderr}' >&2\nexit 1\n")
    script.chmod(0o755)
    monkeypatch.setenv("PROMTOOL", str(script))
    (run,) = runner.run_each("test", [(Path("t.yml"), "t.yml")], tmp_path)
    assert not run.ok and not run.failures
    shown = "\n".join(run.lines())
    assert ("t.yml: promtool: panic: something odd" in shown) == bool(stderr)
    assert ("t.yml: promtool: on stdout" in shown) == (not stderr)


def test_a_failing_case_is_named_inside_its_shared_group(tmp_path: Path, promtool: str) -> None:
    """mcgen runs several cases in one test group (`A + B + ...`): a failure names the
    case of the failing alert, or of the SLO its labels or expression name, not the
    whole group."""
    rules = {"groups": [{"name": "g", "rules": [
        {"record": "slo:ratio", "expr": "sum(up)", "labels": {"slo": "avail"}},
        {"alert": "Down", "expr": "up == 0", "labels": {"severity": "warning"}},
        {"alert": "Burn", "expr": 'slo:ratio{slo="avail"} >= 0', "labels": {"slo": "avail"}},
    ]}]}
    group = "Down fires when down (instance=x) + Up stays quiet + avail: fast burn + lat: slow"
    tests = {"rule_files": ["r.yml"], "evaluation_interval": "1m", "tests": [
        {"name": group, "interval": "1m", "input_series": [DOWN],
         "alert_rule_test": [_alert("5m"),
                             {"eval_time": "5m", "alertname": "Burn", "exp_alerts": []}],
         "promql_expr_test": [{"expr": 'slo:ratio{slo="avail"}', "eval_time": "5m",
                               "exp_samples": []}]}]}
    (tmp_path / "r.yml").write_text(yaml.safe_dump(rules))
    (tmp_path / "t.yml").write_text(yaml.safe_dump(tests))
    (run,) = runner.run_each("test", [(Path("t.yml"), "prom/t.yml")], tmp_path)
    assert [f.line().split(":")[0] for f in run.failures] == [
        'case "Down fires when down (instance=x)"',
        'case "avail', 'case "avail']  # "avail: fast burn": the line goes on after a colon
    assert [f.group for f in run.failures][1:] == ["avail: fast burn"] * 2


@pytest.mark.parametrize(("given", "seen"), [(None, "400"), ("100", "100")])
def test_promtool_runs_with_a_roomier_heap_unless_told(tmp_path: Path, given: str | None,
                                                       seen: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """promtool's garbage collector at GOGC=400 (mcgen's default for its runs) spends
    13-23% less CPU on a test file; a GOGC the caller set is passed on as it is."""
    script = tmp_path / "fake-promtool"
    script.write_text(f'#!/bin/sh\necho "$GOGC" > {tmp_path / "gogc"}\n')
    script.chmod(0o755)
    monkeypatch.setenv("PROMTOOL", str(script))
    if given is None:
        monkeypatch.delenv("GOGC", raising=False)
    else:
        monkeypatch.setenv("GOGC", given)
    (run,) = runner.run_each("test", [(Path("t.yml"), "t.yml")], tmp_path)
    assert run.ok
    assert (tmp_path / "gogc").read_text().strip() == seen
