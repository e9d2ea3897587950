"""What real rule files do that is right, in small files of our own (learnt from
kube-prometheus' manifests, the Kubernetes mixin and Prometheus' own rules): none of it is
an error, and the genuine mistakes next to each pattern still are.

- a folder of Kubernetes manifests holds PrometheusRules among Deployments, empty files
  and bundles of several documents;
- histogram_quantile over a join that keeps `le` (`* on(...) group_left(...)`, `and on`),
  or over a native histogram (no `le` at all);
- `a-b` is a subtraction; a group with no rules loads; the Watchdog always fires;
- ratios of siblings with the same filters (`x_sum / x_count`).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mcgen.cli import app

runner = CliRunner()
BUCKET = 'kubelet_pleg_relist_duration_seconds_bucket{job="kubelet"}'


@pytest.fixture(autouse=True)
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Linting third-party rules, away from any specs/ folder."""
    monkeypatch.chdir(tmp_path)


def lint(*args: str) -> tuple[int, list[dict[str, object]]]:
    result = runner.invoke(app, ["lint", "--format", "json", *args])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def write(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(body).lstrip("\n"), encoding="utf-8")
    return path


def rule_on(tmp_path: Path, expr: str, name: str = "r.yml") -> Path:
    return write(tmp_path, name, f"""
        groups:
          - name: g
            rules:
              - {{record: "job:x:y", expr: {json.dumps(expr)}}}
        """)


def rules_of(findings: list[dict[str, object]], severity: str | None = None) -> list[str]:
    return sorted(str(f["rule"]) for f in findings
                  if severity is None or f["severity"] == severity)


PROMETHEUS_RULE = """
    apiVersion: monitoring.coreos.com/v1
    kind: PrometheusRule
    metadata: {name: %s, namespace: monitoring}
    spec:
      groups:
        - name: %s
          rules:
            - alert: %s
              expr: sum(rate(http_requests_total{code=~"5.."}[5m])) > 1
              for: 5m
              labels: {severity: warning}
              annotations: {summary: s, description: d}
"""


def test_a_manifests_folder(tmp_path: Path) -> None:
    """PrometheusRules are linted among everything else; the rest is skipped, with an
    info for what is not empty; a bundle is linted document by document."""
    folder = tmp_path / "manifests"
    write(folder, "deployment.yaml", "apiVersion: apps/v1\nkind: Deployment\n"
          "metadata: {name: x}\nspec: {replicas: 1}\n")
    write(folder, "empty.yaml", "")
    write(folder, "null.yaml", "null\n")
    write(folder, "braces.yaml", "{}\n")
    write(folder, "a-prometheusRule.yaml", PROMETHEUS_RULE % ("a", "a", "AErrors"))
    bundle = write(folder, "bundle.yaml", "apiVersion: v1\nkind: ConfigMap\n"
                   "metadata: {name: c}\ndata: {x: y}\n---" + PROMETHEUS_RULE % (
                       "b", "b", "BErrors") + "---" + (PROMETHEUS_RULE % (
                           "c", "c", "c_errors")))
    code, findings = lint("--fail-on", "error", str(folder))
    assert code == 0
    skipped = sorted(str(f["path"]).rsplit("/", 1)[-1] for f in findings
                     if f["rule"] == "input/skipped")
    assert skipped == ["deployment.yaml"]
    assert [f["severity"] for f in findings if f["rule"] == "input/skipped"] == ["info"]
    # The third document's alert is linted at its own line.
    [named] = [f for f in findings if f["rule"] == "rules/alert-name"]
    assert named["path"] == str(bundle) or str(named["path"]).endswith("bundle.yaml")
    assert named["line"] == bundle.read_text().splitlines().index(
        "            - alert: c_errors") + 1


@pytest.mark.parametrize("expr", [
    # kube-prometheus' kubelet rules: the join keeps the left side's `le`
    f"histogram_quantile(0.99, sum(rate({BUCKET}[5m])) by (cluster, instance, le) "
    "* on(cluster, instance) group_left (node) kubelet_node_name{job=\"kubelet\"})",
    f"histogram_quantile(0.9, sum by (job, le) (rate({BUCKET}[5m])) and on (job) up == 1)",
    # a native histogram has no `le`
    "histogram_quantile(0.9, sum by (job) (rate(http_request_duration_seconds[5m])))",
])
def test_histogram_quantile_that_keeps_le(tmp_path: Path, expr: str) -> None:
    _, findings = lint(str(rule_on(tmp_path, expr)))
    assert "promql/histogram-quantile-drops-le" not in rules_of(findings)


@pytest.mark.parametrize("expr", [
    f"histogram_quantile(0.9, sum by (job) (rate({BUCKET}[5m])))",
    f"histogram_quantile(0.9, sum by (job, le) (rate({BUCKET}[5m])) * on (job) up)",
])
def test_histogram_quantile_that_loses_le(tmp_path: Path, expr: str) -> None:
    _, findings = lint(str(rule_on(tmp_path, expr)))
    assert rules_of(findings, "error") == ["promql/histogram-quantile-drops-le"]


def test_a_subtraction_is_no_error(tmp_path: Path) -> None:
    _, findings = lint(str(rule_on(tmp_path, "node_memory_MemTotal_bytes-node_memory_"
                                              "MemFree_bytes")))
    assert rules_of(findings, "error") == []
    assert "promql/metric-name-hyphen" in rules_of(findings, "warning")
    # Inside rate() the same text does not parse: that is an error.
    _, findings = lint(str(rule_on(tmp_path, "rate(foo-bar_total[5m])", "s.yml")))
    assert "promql/parse-error" in rules_of(findings, "error")


def test_empty_groups_load(tmp_path: Path) -> None:
    path = write(tmp_path, "r.yml", """
        groups:
          - name: empty
            rules:
          - name: none
          - name: listed
            rules: []
        """)
    code, findings = lint(str(path))
    assert (code, findings) == (0, [])


def test_the_watchdog(tmp_path: Path) -> None:
    path = write(tmp_path, "r.yml", """
        groups:
          - name: general
            rules:
              - alert: Watchdog
                expr: vector(1)
                labels: {severity: none}
                annotations: {summary: Always firing, description: The pipeline works.}
        """)
    assert lint(str(path)) == (0, [])


@pytest.mark.parametrize("expr, wrong", [
    ("rate(http_request_duration_seconds_sum[5m]) / "
     "rate(http_request_duration_seconds_count[5m])", False),
    ('rate(prometheus_notifications_errors_total{job="p"}[5m]) / '
     'rate(prometheus_notifications_sent_total{job="p"}[5m])', False),
    ('rate(http_requests_total{code=~"5.."}[5m]) / rate(http_requests_total[5m])', True),
])
def test_ratios_of_siblings(tmp_path: Path, expr: str, wrong: bool) -> None:
    _, findings = lint(str(rule_on(tmp_path, expr)))
    assert ("promql/ratio-unaggregated-rates" in rules_of(findings)) == wrong


@pytest.mark.parametrize("expr", [
    " or ".join(f'up{{job="j{i}"}}' for i in range(1000)),
    " or ".join(f'up{{job="j{i}"}}' for i in range(20000)),  # crashed the parser
    "(" * 5000 + "up" + ")" * 5000,
    "-" * 10000 + "up",
])
def test_deep_expressions_are_one_error(tmp_path: Path, expr: str) -> None:
    """In a process of its own: a crash of the parser would take pytest with it."""
    path = rule_on(tmp_path, expr)
    proc = subprocess.run([sys.executable, "-m", "mcgen", "lint", str(path)],
                          capture_output=True, text=True, check=False, cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    [line, summary] = proc.stdout.strip().splitlines()
    assert "error: PromQL not checked: nested deeper than 500" in line
    assert summary == "1 finding(s): 1 error"
