"""Every rule of mcgen/lint/rulefmt.py (what Prometheus refuses to load) and of
mcgen/lint/alertlogic.py (what alerts mean) with a file that triggers it and the fixed
file that does not; the refused ones are refused by promtool too."""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mcgen.cli import app

runner = CliRunner()
ALERT = "{alert: %s, expr: %s, for: 5m, labels: {severity: warning}, " \
    "annotations: {summary: s, description: d}}"


@pytest.fixture(autouse=True)
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def rules(tmp_path: Path, body: str, name: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body).lstrip("\n"), encoding="utf-8")
    return path


def group(*items: str, head: str = "name: g") -> str:
    """A group (`head`: its keys but `rules`, one per line) holding `items`."""
    first, *more = head.split("\n")
    lines = [f"  - {first}", *(f"    {m}" for m in more), "    rules:"]
    lines += [f"      - {item}" for item in items]
    return "groups:\n" + "\n".join(lines) + "\n"


def findings(path: Path) -> list[str]:
    result = runner.invoke(app, ["lint", "--format", "json", str(path)])
    assert result.exit_code in (0, 1), result.output
    return [str(f["rule"]) for f in json.loads(result.stdout)]


REFUSED = [
    ("duplicate group", group(ALERT % ("A", "up == 0")) + group(
        ALERT % ("B", "up == 0"))[len("groups:\n"):],
     group(ALERT % ("A", "up == 0")) + group(ALERT % ("B", "up == 0"), head="name: h")[
         len("groups:\n"):]),
    ("unknown group key", group(ALERT % ("A", "up == 0"), head="name: g\n"
                                "partial_response_strategy: warn"),
     group(ALERT % ("A", "up == 0"), head="name: g\ninterval: 1m")),
    ("unknown rule key", group("{alert: A, expresion: up == 0, expr: up == 0, for: 5m}"),
     group("{alert: A, expr: up == 0, for: 5m}")),
    ("both kinds", group("{alert: A, record: 'job:up:sum', expr: sum(up)}"),
     group("{record: 'job:up:sum', expr: sum(up)}")),
    # Prometheus 3 takes any UTF-8 name; 2.x refuses the file.
    ("recording rule name", group("{record: 'job-up', expr: sum(up)}"),
     group("{record: 'job:up:sum', expr: sum(up)}")),
    ("for on a recording rule", group("{record: 'job:up:sum', expr: sum(up), for: 5m}"),
     group("{record: 'job:up:sum', expr: sum(up)}")),
    ("duration", group("{alert: A, expr: up == 0, for: 5 minutes}"),
     group("{alert: A, expr: up == 0, for: 5m}")),
    ("label name", group("{alert: A, expr: up == 0, labels: {team-name: x}}"),
     group("{alert: A, expr: up == 0, labels: {team_name: x}}")),
    ("labels not a mapping", group("{alert: A, expr: up == 0, labels: [severity]}"),
     group("{alert: A, expr: up == 0, labels: {severity: warning}}")),
    ("template", group("{alert: A, expr: up == 0, annotations: {summary: '{{ $value '}}"),
     group("{alert: A, expr: up == 0, annotations: {summary: '{{ $value }}'}}")),
]


@pytest.mark.parametrize(("what", "bad", "good"), REFUSED, ids=[r[0] for r in REFUSED])
def test_what_prometheus_refuses(tmp_path: Path, what: str, bad: str, good: str,
                                 promtool: str) -> None:
    refused = rules(tmp_path, bad, "bad.yml")
    accepted = rules(tmp_path, good, "good.yml")
    assert "rules/prometheus-refuses" in findings(refused), what
    assert "rules/prometheus-refuses" not in findings(accepted), what
    # The real promtool agrees, both ways (3.x takes UTF-8 names that 2.x refuses).
    check = [promtool, "check", "rules"]
    utf8 = what in ("recording rule name", "label name") and _major(promtool) >= 3
    assert (subprocess.run([*check, str(refused)], capture_output=True).returncode != 0) \
        != utf8
    assert subprocess.run([*check, str(accepted)], capture_output=True).returncode == 0


def _major(promtool: str) -> int:
    out = subprocess.run([promtool, "--version"], capture_output=True, text=True).stdout
    return int(out.split("version ", 1)[1].split(".", 1)[0])


def one(name: str, expr: str, labels: str = "{severity: warning}",
        annotations: str = "{summary: s, description: d}") -> str:
    return group(f"{{alert: {name}, expr: {json.dumps(expr)}, for: 5m, labels: {labels}, "
                 f"annotations: {annotations}}}")


MEANING = [
    ("alerts/template-label-dropped",
     one("A", "sum by (job) (rate(errors_total[5m])) > 1",
         annotations="{summary: s, description: 'on {{ $labels.instance }}'}"),
     one("A", "sum by (job, instance) (rate(errors_total[5m])) > 1",
         annotations="{summary: s, description: 'on {{ $labels.instance }}'}")),
    ("alerts/value-in-labels",
     one("A", "up == 0", labels="{severity: warning, value: '{{ $value }}'}"),
     one("A", "up == 0", annotations="{summary: s, description: '{{ $value }}'}")),
    ("alerts/no-condition", one("A", "rate(errors_total[5m])"),
     one("A", "rate(errors_total[5m]) > 0.1")),
    ("alerts/ranking", one("A", "topk(3, rate(errors_total[5m])) > 1"),
     one("A", "rate(errors_total[5m]) > 1")),
    ("promql/regex-anchors", one("A", 'up{job=~"^api$"} == 0'),
     one("A", 'up{job=~"api"} == 0')),
    ("promql/counter-compared", one("A", "errors_total > 5"),
     one("A", "increase(errors_total[1h]) > 5")),
    ("promql/rate-of-non-counter", one("A", "rate(sum(errors_total)[5m:]) > 1"),
     one("A", "sum(rate(errors_total[5m])) > 1")),
    ("rules/duplicate", group(ALERT % ("A", "up == 0"), ALERT % ("A", "up == 0")),
     group(ALERT % ("A", "up == 0"), ALERT % ("B", "up == 0"))),
    ("rules/label-overwrites-target", one("A", "up == 0", labels="{severity: warning, job: x}"),
     one("A", "up == 0", labels="{severity: warning, team: x}")),
    ("promql/experimental-function", one("A", "sort_by_label(up, 'job') == 0"),
     one("A", "sort(up) == 0")),
]


@pytest.mark.parametrize(("rule", "bad", "good"), MEANING, ids=[m[0] for m in MEANING])
def test_what_alerts_mean(tmp_path: Path, rule: str, bad: str, good: str) -> None:
    assert rule in findings(rules(tmp_path, bad, "bad.yml"))
    assert rule not in findings(rules(tmp_path, good, "good.yml"))


def test_a_dedupe_is_no_ranking(tmp_path: Path) -> None:
    """kube-prometheus' KubePodNotReady: one owner per pod, not a ranking."""
    expr = ("sum by (namespace, pod) (max by (namespace, pod) (kube_pod_status_phase"
            '{phase=~"Pending|Unknown"}) * on (namespace, pod) group_left (owner_kind) '
            "topk by (namespace, pod) (1, max by (namespace, pod, owner_kind) "
            "(kube_pod_owner))) > 0")
    assert "alerts/ranking" not in findings(rules(tmp_path, one("A", expr), "r.yml"))


def test_a_duplicate_key_is_refused(tmp_path: Path, promtool: str) -> None:
    """YAML keeps the last of two equal keys; Prometheus refuses the file."""
    path = rules(tmp_path, group("{alert: A, expr: up == 0, expr: up == 1, for: 5m}"),
                 "dup.yml")
    result = runner.invoke(app, ["lint", "--format", "json", str(path)])
    found = [(f["rule"], f["line"], f["message"]) for f in json.loads(result.stdout)
             if f["severity"] == "error"]
    assert found == [("rules/file", 4, "duplicate key 'expr'")]
    assert subprocess.run([promtool, "check", "rules", str(path)],
                          capture_output=True).returncode != 0
