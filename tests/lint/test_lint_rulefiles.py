"""`mcgen lint` on hand-written Prometheus rule files: the seed docs' rules, each rule
triggered and not, PrometheusRule resources, unparsable PromQL, inline disables, and our
own generated rule files (which must pass our own linter)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mcgen.cli import app
from mcgen.lint import rulefiles

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "tests" / "lint_seeds"
runner = CliRunner()


@pytest.fixture(autouse=True)
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """The example specs/ are the known metrics."""
    monkeypatch.chdir(ROOT)


def lint(*paths: Path | str) -> tuple[int, list[dict[str, object]]]:
    result = runner.invoke(app, ["lint", "--format", "json", *map(str, paths)])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def found(*paths: Path | str) -> set[tuple[str, int]]:
    return {(str(f["rule"]), int(str(f["line"]))) for f in lint(*paths)[1]}


def rules_file(tmp_path: Path, body: str, name: str = "rules.yml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body).lstrip("\n"), encoding="utf-8")
    return path


def one_rule(tmp_path: Path, expr: str, name: str = "rules.yml") -> Path:
    """A recording rule with a well-formed name around `expr` (line 4)."""
    return rules_file(tmp_path, f"""
        groups:
          - name: g
            rules:
              - {{record: "job:x:y", expr: {json.dumps(expr)}}}
        """, name)


# The seeds -----------------------------------------------------------------------------

def test_seed_000_rules_are_clean() -> None:
    """Seed 000's rules and queries keep `le`, aggregate their ratios and name real
    metrics: nothing to report."""
    assert lint(SEEDS / "seed000_codehub.rules.yml") == (0, [])


def test_seed_001_mistakes_are_reported_on_their_lines() -> None:
    alerts = {7: "High Response Time", 13: "High Error Rate", 19: "Low Throughput",
              25: "High CPU Usage", 31: "High Memory Usage"}
    expected = {
        # `http_request_duration_seconds > 1.0`: a histogram's base name, no such series
        ("promql/histogram-base-name", 8), ("promql/unknown-metric", 8),
        ("promql/unknown-metric", 14),  # errors_total (autogrowth_errors_total in the spec)
        ("promql/unknown-metric", 20),  # http_requests_total
        ("promql/unknown-metric", 26),  # cpu_usage
        ("promql/unknown-metric", 32),  # memory_usage
        ("promql/histogram-base-name", 41), ("promql/unknown-metric", 41),  # dashboard
        ("promql/unknown-metric", 43), ("promql/unknown-metric", 45),
        *{(rule, line) for line in alerts
          for rule in ("rules/alert-annotations", "rules/alert-name")},
    }
    code, findings = lint(SEEDS / "seed001_autogrowth.rules.yml")
    assert code == 1
    assert {(f["rule"], f["line"]) for f in findings} == expected
    first = next(f for f in findings if f["rule"] == "promql/histogram-base-name")
    assert first["column"] == 16  # the token inside the quoted expr
    assert "autogrowth_http_request_duration_seconds" in str(first["message"])


# Each promql/ rule: triggered, and not --------------------------------------------------

BUCKET = "codehub_ws_message_latency_seconds_bucket"
TRIGGERED_AND_NOT = [
    ("promql/histogram-quantile-drops-le",
     f"histogram_quantile(0.95, sum(rate({BUCKET}[5m])))",
     f"histogram_quantile(0.95, sum by (le) (rate({BUCKET}[5m])))"),
    ("promql/histogram-quantile-drops-le",
     f"histogram_quantile(0.95, sum by (direction) (rate({BUCKET}[5m])))",
     f"histogram_quantile(0.95, sum by (direction, le) (rate({BUCKET}[5m])))"),
    ("promql/histogram-quantile-drops-le",
     f"histogram_quantile(0.95, sum without (le) (rate({BUCKET}[5m])))",
     f"histogram_quantile(0.95, sum without (instance) (rate({BUCKET}[5m])))"),
    ("promql/by-after-function",
     f"histogram_quantile(0.95, rate({BUCKET}[5m]) by (le))",
     f"histogram_quantile(0.95, sum(rate({BUCKET}[5m])) by (le))"),
    ("promql/ratio-unaggregated-rates",
     'rate(codehub_ws_errors_total{error_type="relay_error"}[5m])'
     " / rate(codehub_ws_errors_total[5m])",
     'sum(rate(codehub_ws_errors_total{error_type="relay_error"}[5m]))'
     " / sum(rate(codehub_ws_errors_total[5m]))"),
    ("promql/ratio-unaggregated-rates",
     "increase(codehub_ws_errors_total[1h]) / increase(codehub_coordinator_tick_total[1h])",
     "increase(codehub_ws_errors_total[1h]) / ignoring(error_type) "
     "increase(codehub_coordinator_tick_total[1h])"),
    ("promql/histogram-base-name", "codehub_ws_message_latency_seconds > 0.1",
     "codehub_ws_message_latency_seconds_count > 0.1"),
    ("promql/unknown-metric", "rate(codehub_ws_eror_total[5m]) > 1",
     "rate(codehub_ws_errors_total[5m]) > 1 and up == 1 and scrape_duration_seconds > 1"),
    ("promql/metric-name-hyphen", "rate(codehub-ws_errors_total[5m]) > 1",
     "codehub_ws_errors_total - codehub_ws_errors_total offset 1h"),
    ("promql/metric-name-hyphen", "codehub-ws_errors_total > 1",
     "time()-codehub_workspace_last_operation_timestamp > 60"),
    ("promql/parse-error", "sum(rate(codehub_ws_errors_total[5m])", "vector(1)"),
]


@pytest.mark.parametrize(("rule", "bad", "good"), TRIGGERED_AND_NOT,
                         ids=[f"{r}-{i}" for i, (r, _, _) in enumerate(TRIGGERED_AND_NOT)])
def test_promql_rule(tmp_path: Path, rule: str, bad: str, good: str) -> None:
    assert (rule, 4) in found(one_rule(tmp_path, bad, "bad.yml"))
    assert found(one_rule(tmp_path, good, "good.yml")) == set()


def test_hyphen_is_one_finding_not_two_unknown_metrics(tmp_path: Path) -> None:
    assert found(one_rule(tmp_path, "codehub-ws_errors_total > 1")) == {
        ("promql/metric-name-hyphen", 4)}


def test_recording_rules_of_the_linted_files_are_known_metrics(tmp_path: Path) -> None:
    path = rules_file(tmp_path, """
        groups:
          - name: g
            rules:
              - record: job:codehub_ws_errors:rate5m
                expr: sum(rate(codehub_ws_errors_total[5m]))
              - {record: "job:codehub_ws_errors:x2", expr: "2 * job:codehub_ws_errors:rate5m"}
        """)
    assert found(path) == set()


def test_histogram_known_by_its_bucket_in_the_same_file(tmp_path: Path) -> None:
    path = rules_file(tmp_path, """
        groups:
          - name: g
            rules:
              - {record: "job:a:b", expr: "sum by (le) (rate(my_seconds_bucket[5m]))"}
              - {record: "job:a:c", expr: "my_seconds > 1"}
        """)
    assert ("promql/histogram-base-name", 5) in found(path)


# Positions inside block scalars ---------------------------------------------------------

def test_positions_inside_literal_and_folded_blocks(tmp_path: Path) -> None:
    path = rules_file(tmp_path, f"""
        groups:
          - name: g
            rules:
              - record: job:x:y
                expr: |
                  histogram_quantile(0.95,
                    sum(rate({BUCKET}[5m])))
              - record: job:x:z
                expr: >
                  histogram_quantile(0.9,
                    rate({BUCKET}[5m]) by (le))
        """)
    findings = {(f["rule"], f["line"], f["column"]) for f in lint(path)[1]}
    assert findings == {("promql/histogram-quantile-drops-le", 6, 11),
                        ("promql/by-after-function", 11, 13 + len(f"rate({BUCKET}[5m]) "))}


# Alert hygiene and recording-rule names -------------------------------------------------

GOOD_ALERT = """
    groups:
      - name: g
        rules:
          - alert: ErrorsHigh
            expr: sum(rate(codehub_ws_errors_total[5m])) > 1
            for: 5m
            labels: {severity: warning}
            annotations: {summary: Errors, description: "{{ $value }} errors/s"}
    """


def test_a_well_formed_alert_is_clean(tmp_path: Path) -> None:
    assert found(rules_file(tmp_path, GOOD_ALERT)) == set()


@pytest.mark.parametrize(("rule", "old", "new", "line"), [
    ("rules/alert-name", "alert: ErrorsHigh", "alert: errors high", 4),
    ("rules/alert-for", "for: 5m", "for: 0s", 6),
    ("rules/alert-severity", "{severity: warning}", "{severity: page}", 7),
    ("rules/alert-severity", "labels: {severity: warning}", "labels: {}", 4),
    ("rules/alert-annotations", "{summary: Errors, description:", "{description:", 8),
])
def test_alert_hygiene(tmp_path: Path, rule: str, old: str, new: str, line: int) -> None:
    assert found(rules_file(tmp_path, GOOD_ALERT.replace(old, new))) == {(rule, line)}


def test_record_names(tmp_path: Path) -> None:
    path = rules_file(tmp_path, """
        groups:
          - name: g
            rules:
              - {record: "codehub_errors", expr: "sum(rate(codehub_ws_errors_total[5m]))"}
              - {record: "job:codehub_errors:rate5m", expr: "sum(codehub_errors)"}
        """)
    assert found(path) == {("rules/record-name", 4)}


# Files: CRDs, broken files, inline disables, our own outputs ----------------------------

def test_prometheusrule_resource(tmp_path: Path) -> None:
    path = rules_file(tmp_path, f"""
        apiVersion: monitoring.coreos.com/v1
        kind: PrometheusRule
        metadata: {{name: codehub, namespace: monitoring}}
        spec:
          groups:
            - name: g
              rules:
                - record: job:x:y
                  expr: histogram_quantile(0.9, sum(rate({BUCKET}[5m])))
        """)
    assert found(path) == {("promql/histogram-quantile-drops-le", 9)}


def test_unparsable_and_malformed_files(tmp_path: Path) -> None:
    path = rules_file(tmp_path, """
        groups:
          - name: g
            rules:
              - record: job:x:y
                expr: sum(rate(codehub_ws_errors_total[5m])) by
              - record: job:x:z
              - {expr: up}
          - name: h
        """)
    code, findings = lint(path)
    assert code == 1
    # (Group h has no rules, which Prometheus loads: an empty group is no problem.)
    assert {(f["rule"], f["line"]) for f in findings} == {
        ("promql/parse-error", 5), ("rules/file", 6), ("rules/file", 7)}
    # Invalid YAML is not recognised as a rule file (mcgen/api.py lint_inputs), so it is
    # a wrong input (exit 2) named with its position; loaded directly, it is a problem.
    broken = rules_file(tmp_path, "groups:\n  - name: [\n", "broken.yml")
    result = runner.invoke(app, ["lint", str(broken)])
    assert result.exit_code == 2 and "broken.yml:3:1: YAML syntax error" in result.output
    [loaded] = rulefiles.load([broken])
    assert [(p.pos.line, p.message.split(":")[0]) for p in loaded.problems] == [
        (3, "YAML syntax error")]


def test_inline_disable(tmp_path: Path) -> None:
    """On the finding's line or the line above; inside a block scalar the comment is a
    PromQL comment, so it can sit right above the offending line."""
    rule = "promql/histogram-quantile-drops-le"
    path = rules_file(tmp_path, f"""
        groups:
          - name: g
            rules:
              - record: job:x:y
                expr: histogram_quantile(0.9, sum(rate({BUCKET}[5m])))  # mcgen: disable={rule}
              - record: job:x:z
                # mcgen: disable=promql/unknown-metric,rules/record-name
                expr: nope_total
              - record: job:x:w
                expr: |
                  2 *
                  # mcgen: disable={rule}
                  histogram_quantile(0.9, sum(rate({BUCKET}[5m])))
        """)
    assert found(path) == set()
    assert found(rules_file(tmp_path, path.read_text().replace("disable=", "enable="),
                            "enabled.yml")) == {
        (rule, 5), ("promql/unknown-metric", 8), (rule, 13)}


def test_our_generated_rule_files_pass_our_linter() -> None:
    code, findings = lint(*sorted((ROOT / "generated" / "prometheus").glob("*.rules.yml")))
    assert (code, findings) == (0, [])


def test_a_folder_of_generated_rules_and_promtool_tests_lints_clean(in_root: Path) -> None:
    """promtool test files in the folder are left out; mcgen's own rules pass its linter."""
    from mcgen import api
    findings, _ = api.lint([Path("generated/prometheus")])
    assert [str(f) for f in findings] == []
    specs, rules, _ = api.lint_inputs([Path("generated/prometheus")])
    assert specs == [] and rules and all(p.name.endswith(".rules.yml") for p in rules)
