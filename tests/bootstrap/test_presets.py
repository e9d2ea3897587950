"""`mcgen init --preset`: specs for exporters (node_exporter, cAdvisor, postgres_exporter,
redis_exporter) with the resource alerts SREs expect.

The presets' generated suites are proven on every engine with the golden cases
(tests/golden/presets, whose specs are templates/presets) and mutated in
tests/proof/test_mutations.py. Here: `init` writes them, and the node preset's rules,
run by promtool on a shared Prometheus's worth of series, judge each host alone: the busy
host alerts, the idle one and another job's series do not.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT
from typer.testing import CliRunner

from mcgen import api, write
from mcgen.bootstrap import presets
from mcgen.cli import app

runner = CliRunner()
PRESETS = ["cadvisor", "node", "postgres", "redis"]


def test_every_preset_is_offered() -> None:
    assert presets.names() == PRESETS


@pytest.mark.parametrize("name", PRESETS)
def test_init_preset_writes_a_spec_that_generates(name: str, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["init", "--preset", name])
    assert result.exit_code == 0, result.output
    spec = tmp_path / "specs" / f"{name}.yaml"
    assert spec.read_text().startswith("# yaml-language-server: $schema=../mcgen.schema.json\n")
    files = api.render([spec])
    assert f"prometheus/{name}.rules.yml" in files
    # Every metric is an exporter's: no stubs, no naming findings.
    assert not [p for p in files if p.startswith("stubs/")]
    findings, _ = api.lint([spec])
    assert [f for f in findings if f.severity != "info"] == []


def test_init_preset_names_the_service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["init", "--preset", "redis", "--service", "sessions_cache"])
    assert result.exit_code == 0, result.output
    doc = yaml.safe_load((tmp_path / "specs" / "sessions_cache.yaml").read_text())
    assert doc["service"] == "sessions_cache"
    assert doc["selector"] == {"job": "redis"}


@pytest.mark.parametrize("args, message", [
    (["--preset", "mysql"], "no preset 'mysql'; choose one of: cadvisor, node, postgres, redis"),
    (["--preset", "node", "--from-metrics", "x.txt"], "--preset and --from-metrics"),
    (["--preset", "node", "--service", "Bad-Name"], "service name 'Bad-Name' must match"),
])
def test_init_preset_refuses(args: list[str], message: str, tmp_path: Path,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["init", *args])
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "specs").exists()


def _series(name: str, labels: dict[str, str], values: str) -> dict[str, str]:
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return {"series": f"{name}{{{inner}}}", "values": values}


def _host(job: str, instance: str, busy: float, available: float) -> list[dict[str, str]]:
    """A host's CPU (two CPUs; `busy` of each second outside idle) and memory (`available`
    of 16 GiB), scraped every minute for an hour."""
    out = []
    for cpu in ("0", "1"):
        labels = {"job": job, "instance": instance, "cpu": cpu}
        out.append(_series("node_cpu_seconds_total", {**labels, "mode": "idle"},
                           f"0+{60 * (1 - busy):g}x60"))
        out.append(_series("node_cpu_seconds_total", {**labels, "mode": "user"},
                           f"0+{60 * busy * 0.75:g}x60"))
        out.append(_series("node_cpu_seconds_total", {**labels, "mode": "system"},
                           f"0+{60 * busy * 0.25:g}x60"))
    total = 16 * 2**30
    target = {"job": job, "instance": instance}
    out.append(_series("node_memory_MemTotal_bytes", target, f"{total}x60"))
    out.append(_series("node_memory_MemAvailable_bytes", target, f"{int(total * available)}x60"))
    return out


def test_node_preset_alerts_on_the_busy_host_only(promtool: str, tmp_path: Path) -> None:
    """Seed 002's targets (CPU < 80%, memory < 85%) on node_exporter, in a Prometheus that
    also scrapes another job's node_exporter-like series on the same host names: only the
    busy host of job `node` alerts, with its own instance label."""
    write.write(tmp_path, api.render([ROOT / "templates" / "presets" / "node.yaml"]))
    series = (_host("node", "busy:9100", busy=0.9, available=0.10)
              + _host("node", "idle:9100", busy=0.1, available=0.60)
              + _host("other", "idle:9100", busy=0.99, available=0.01))
    texts = {
        "NodeCpuBusy": {"summary": "CPU of busy:9100 is busy above 80%",
                        "description": "busy:9100 spends 90% of its CPU time outside idle."},
        "NodeMemoryLow": {"summary": "Memory of busy:9100 is used above 85%",
                          "description": "busy:9100 has 10% of its memory available."}}
    checks = []
    for alert, shown in texts.items():
        found = [{"exp_labels": {"instance": "busy:9100", "service": "node",
                                 "severity": "warning"}, "exp_annotations": shown}]
        checks.append({"eval_time": "40m", "alertname": alert, "exp_alerts": found})
    checks.append({"eval_time": "40m", "alertname": "NodeMetricsAbsent", "exp_alerts": []})
    suite = {"rule_files": ["node.rules.yml"], "evaluation_interval": "1m",
             "tests": [{"interval": "1m", "input_series": series, "alert_rule_test": checks}]}
    test = tmp_path / "prometheus" / "hosts.test.yml"
    assert _promtool(promtool, test, suite) == 0
    # Not vacuous: the same checks expecting the idle host fail.
    checks[0]["exp_alerts"][0]["exp_labels"]["instance"] = "idle:9100"
    assert _promtool(promtool, test, suite) != 0


def _promtool(promtool: str, test: Path, suite: dict[str, Any]) -> int:
    test.write_text(yaml.safe_dump(suite))
    proc = subprocess.run([promtool, "test", "rules", str(test)], capture_output=True,
                          text=True, check=False)
    print(proc.stdout, proc.stderr)
    return proc.returncode
