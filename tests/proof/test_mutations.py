"""The generated tests must fail when the rules are wrong.

Each case edits one generated rule the way a hand edit or a generator bug could, and
runs the generated promtool tests against it: they must fail. A mutation that survives
means the tests do not prove what they claim.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from mcgen import api, write

ROOT = Path(__file__).resolve().parents[2]

ALL = -1  # replace every occurrence (a factor appears in both windows of a condition)

MUTATIONS: list[tuple[str, ...] | tuple[str, str, str, str, int]] = [
    # (service, text in the rules file, replacement, what the tests must notice)
    ("codehub", 'error_type!="connection_closed",', "", "select dropped"),
    ("codehub", 'STARTING|STOPPING",service="codehub"})) > 5', 'STARTING",service="codehub"})) > 5',
     "override value dropped"),
    ("codehub", "max(codehub_coordinator_wc_reconcile_queue{job=\"codehub\"}) > 10",
     "max(codehub_coordinator_wc_reconcile_queue{job=\"codehub\"}) * 0 > 10", "quantity broken"),
    ("codehub", "max(codehub_coordinator_wc_reconcile_queue",
     "min(codehub_coordinator_wc_reconcile_queue", "max became min"),
    ("codehub", "max(codehub_coordinator_wc_reconcile_queue",
     "avg(codehub_coordinator_wc_reconcile_queue", "max became avg"),
    ("codehub", "> 86400", "> 85000", "stale threshold lowered"),
    ("codehub", "> 86400", "> 88000", "stale threshold raised"),
    ("codehub", 'rate5m{service="codehub"}) > 0.1', 'rate5m{service="codehub"}) > 0.105',
     "rate threshold raised 5%"),
    ("codehub", "> 5)", "> 5.1)", "override threshold raised 2%"),
    ("codehub", "> 5)", "> 4.9)", "override threshold lowered 2%"),
    ("codehub", "time() - max by (operation)", "time() - min by (operation)",
     "stale max became min"),
    ("codehub", ',operation=~"STARTING|STOPPING"}) > 86400', "}) > 86400",
     "stale select dropped"),
    ("codehub", "for: 10m", "for: 9m", "for shortened"),
    ("codehub", "absent(codehub_coordinator_tick_total{", "absent(codehub_coordinator_ticks_total{",
     "absent metric renamed"),
    # The selector (codehub: {job: codehub}): another job's series must never count.
    ("codehub", 'codehub_coordinator_wc_reconcile_queue{job="codehub"}',
     "codehub_coordinator_wc_reconcile_queue", "value selector dropped"),
    ("codehub", 'codehub_coordinator_tick_duration_seconds_bucket{job="codehub"}',
     "codehub_coordinator_tick_duration_seconds_bucket",
     "quantile recording selector dropped"),
    ("codehub", 'codehub_ws_errors_total{job="codehub"}', "codehub_ws_errors_total",
     "rate recording selector dropped"),
    ("codehub", 'codehub_workspace_last_operation_timestamp{job="codehub",',
     "codehub_workspace_last_operation_timestamp{", "stale selector dropped"),
    ("codehub", 'absent(codehub_coordinator_tick_total{job=~"codehub"})',
     "absent(codehub_coordinator_tick_total)", "absent selector dropped"),
    ("codehub", 'absent(codehub_coordinator_tick_total{job=~"codehub"})',
     'absent(codehub_coordinator_tick_total{job="codehub"})',
     "absent alert carries the selector's label"),
    ("codehub", "service: codehub", "service: code-hub", "label value changed"),
    ("effect_queue", 'status="succeeded"', 'status=~".+"', "select widened"),
    # SLOs (codehub: coordinator-ticks is 99.9% over 30d, so the budget is 0.001)
    ("codehub", "(14.4 * 0.001)", "(13 * 0.001)", "page 1h factor lowered 10%", ALL),
    ("codehub", "(14.4 * 0.001)", "(15 * 0.001)", "page 1h factor raised 4%", ALL),
    ("codehub", "(6 * 0.001)", "(5.6 * 0.001)", "30d SLO given the 28d 6h factor", ALL),
    ("codehub", "(1 * 0.001)", "(1.05 * 0.001)", "ticket 3d factor raised 5%", ALL),
    ("codehub", "(3 * 0.001)", "(0.5 * 0.001)", "ticket 1d factor lowered", ALL),
    ("codehub", 'ratio_rate5m{service="codehub",slo="coordinator-ticks"} > (14.4',
     'ratio_rate30m{service="codehub",slo="coordinator-ticks"} > (14.4', "5m window became 30m"),
    ("codehub", ' and slo:sli_error:ratio_rate5m{service="codehub",slo="coordinator-ticks"} > '
     '(14.4 * 0.001)', "", "5m short window dropped"),
    ("codehub", 'ratio_rate1h{service="codehub",slo="coordinator-ticks"} > (14.4',
     'ratio_rate6h{service="codehub",slo="coordinator-ticks"} > (14.4', "1h window became 6h"),
    ("codehub", 'slo:sli_errors:rate5m{service="codehub",slo="coordinator-ticks"}[30d]',
     'slo:sli_errors:rate5m{service="codehub",slo="coordinator-ticks"}[30m]',
     "period ratio numerator over 30m"),
    ("codehub", '(slo:sli_total:rate5m{service="codehub",slo="coordinator-ticks"} > 0)',
     '(slo:sli_total:rate5m{service="codehub",slo="coordinator-ticks"})',
     "zero-traffic guard dropped (NaN)"),
    ("codehub", 'le=~"5|5\\\\.0"', 'le="5"', "le matcher accepts only the Go spelling"),
    ("codehub", 'le=~"5|5\\\\.0"', 'le="5.0"', "le matcher accepts only the Python spelling"),
    ("codehub", ">= 0.0017", ">= 0.0001", "min_traffic guard lowered"),
    ("codehub", "vector(0.999)", "vector(0.99)", "objective recorded wrong"),
    ("codehub", "/ 0.001\n", "/ 0.01\n", "burn rate divided by the wrong budget"),
    ("codehub", 'codehub_coordinator_tick_total{job="codehub",status="error"}',
     'codehub_coordinator_tick_total{status="error"}', "SLO errors selector dropped", ALL),
    ("codehub", 'codehub_coordinator_tick_total{job="codehub"}[',
     "codehub_coordinator_tick_total[", "SLO total selector dropped", ALL),
    ("codehub", 'duration_seconds_count{job="codehub",', "duration_seconds_count{",
     "latency SLO selector dropped", ALL),
    ("codehub", "slo_severity: page", "slo_severity: ticket", "page labelled ticket"),
    # SLI absent alerts (SPEC 4: missing data is not good news)
    ("codehub", 'sum(absent(codehub_coordinator_tick_total{job="codehub"}))',
     'sum(absent(codehub_coordinator_ticks_total{job="codehub"}))', "SLI absent metric renamed"),
    ("codehub", 'sum(absent(codehub_coordinator_tick_total{job="codehub"}))\n        for: 10m',
     'sum(absent(codehub_coordinator_tick_total{job="codehub"}))\n        for: 9m',
     "SLI absent for shortened"),
    ("codehub", 'duration_seconds_count{job="codehub",operation=~"STARTING|STOPPING"}))',
     'duration_seconds_count{job="codehub"}))', "SLI absent select dropped"),
    ("codehub", 'sum(absent(codehub_coordinator_tick_total{job="codehub"}))',
     'sum(absent(codehub_coordinator_tick_total))', "SLI absent selector dropped"),
    ("codehub", 'sum(absent(codehub_coordinator_tick_total{job="codehub"}))',
     '(sum(rate(codehub_coordinator_tick_total{job="codehub"}[5m])) or on() vector(0)) == 0',
     "SLI absent fires on zero traffic"),
    ("codehub", "severity: warning\n          slo: coordinator-ticks\n          team: platform\n"
     "        annotations:\n          summary: SLO coordinator-ticks has no data",
     "severity: info\n          slo: coordinator-ticks\n          team: platform\n"
     "        annotations:\n          summary: SLO coordinator-ticks has no data",
     "SLI absent severity changed"),
    ("checkout", 'sum(absent(checkout_duration_seconds_count{method="POST"}))',
     'absent(checkout_duration_seconds_count{method="POST"})',
     "SLI absent keeps absent()'s method label"),
    # Recorded rates under a selector carry `service`: an alert reading one without it
    # would sum another service's recording of the same metric (shop and cart share
    # http_requests_total in the golden case `selectors`).
    ("codehub", 'coordinator_type_le:codehub_coordinator_tick_duration_seconds_bucket:rate5m'
     '{service="codehub"}', "coordinator_type_le:codehub_coordinator_tick_duration_seconds"
     "_bucket:rate5m", "recorded buckets read without service"),
    ("codehub", 'all:codehub_coordinator_wc_cas_failures_total:rate5m{service="codehub"}',
     "all:codehub_coordinator_wc_cas_failures_total:rate5m", "recorded rate read without service"),
    ("shop", 'sum by (method) (method:http_requests_total:rate5m{service="shop"})',
     "sum by (method) (method:http_requests_total:rate5m)",
     "ratio denominator read without service"),
    ("shop", 'code_method:http_requests_total:rate5m{code=~"5..",service="shop"}',
     'code_method:http_requests_total:rate5m{code=~"5.."}', "ratio numerator read without service"),
    ("shop", 'sum(all:http_requests_total:rate5m{service="shop"}) < 1',
     "sum(all:http_requests_total:rate5m) < 1", "rate below read without service"),
    # One window's recording without the selector (the burn alerts AND two windows, so
    # the recorded values themselves must show it).
    ("codehub", 'sum(rate(codehub_coordinator_tick_total{job="codehub",status="error"}[5m]))',
     'sum(rate(codehub_coordinator_tick_total{status="error"}[5m]))',
     "SLO 5m errors recorded without the selector"),
    ("codehub", 'sum(rate(codehub_coordinator_tick_total{job="codehub"}[1h]))',
     "sum(rate(codehub_coordinator_tick_total[1h]))",
     "SLO 1h total recorded without the selector"),
]
# A ratio of gauges (the node preset: memory and filesystem left, CPU busy).
MUTATIONS += [
    ("node", "< 0.15", "< 0.153", "gauge ratio threshold raised 2%"),
    ("node", "< 0.15", "< 0.147", "gauge ratio threshold lowered 2%"),
    ("node", 'sum by (instance) (node_memory_MemAvailable_bytes{job="node"})',
     'sum(node_memory_MemAvailable_bytes{job="node"})', "gauge ratio numerator by dropped"),
    ("node", 'node_memory_MemAvailable_bytes{job="node"}', "node_memory_MemAvailable_bytes",
     "gauge ratio numerator selector dropped"),
    ("node", 'node_memory_MemTotal_bytes{job="node"}', "node_memory_MemTotal_bytes",
     "gauge ratio denominator selector dropped"),
    ("node", 'node_filesystem_avail_bytes{fstype!~"tmpfs|overlay|squashfs",job="node"}',
     'node_filesystem_avail_bytes{job="node"}', "gauge ratio numerator select dropped"),
    ("node", 'node_filesystem_size_bytes{fstype!~"tmpfs|overlay|squashfs",job="node"}',
     'node_filesystem_size_bytes{job="node"}', "gauge ratio denominator select dropped"),
    ("node", "(node_filesystem_avail_bytes", "(node_filesystem_free_bytes",
     "gauge ratio numerator renamed"),
    ("node", '{mode!="idle",service="node"}', '{service="node"}', "cpu busy select dropped"),
    ("node", "> 0.8", "> 0.816", "cpu busy threshold raised 2%"),
]

# Services rendered from a golden case rather than specs/ (for shapes the examples lack,
# such as an SLI select with an equality matcher).
GOLDEN_SPECS = {"checkout": ROOT / "tests" / "golden" / "slos" / "specs",
                "shop": ROOT / "tests" / "golden" / "selectors" / "specs",
                "node": ROOT / "tests" / "golden" / "presets" / "specs"}


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("mutations")
    write.write(out, api.render([ROOT / "specs"]))
    for service, specs in GOLDEN_SPECS.items():
        write.write(out / service, api.render([specs]))
    return out


def _prometheus(outputs: Path, service: str) -> Path:
    return (outputs / service if service in GOLDEN_SPECS else outputs) / "prometheus"


def _affected(before: str, after: str) -> set[str]:
    """Alert names and recorded series whose rules the mutation changed (recorded series
    also reach every alert that reads them)."""
    old = [r for g in yaml.safe_load(before)["groups"] for r in g["rules"]]
    new = [r for g in yaml.safe_load(after)["groups"] for r in g["rules"]]
    changed = {r.get("alert") or r["record"] for r, m in zip(old, new, strict=True) if r != m}
    while True:
        more = {r.get("alert") or r["record"] for r in old
                if any(name in r["expr"] for name in changed)} - changed
        if not more:
            return changed
        changed |= more


def _relevant(tests: dict[str, Any], affected: set[str]) -> dict[str, Any]:
    """Only the generated test groups about what changed: promtool evaluates every rule
    at every step of every group, so running all of them per mutation is slow."""
    keep = [t for t in tests["tests"]
            if any(c["alertname"] in affected for c in t.get("alert_rule_test", ()))
            or any(name in c["expr"] for c in t.get("promql_expr_test", ()) for name in affected)]
    assert keep, f"no generated test checks {sorted(affected)}"
    return {**tests, "tests": keep}


def _only(rules: str, tests: dict[str, Any]) -> str:
    """The rules the kept tests can observe: their alerts and what those read (rules are
    evaluated independently, so dropping the others changes no result, only the time)."""
    doc = yaml.safe_load(rules)
    every = [r for g in doc["groups"] for r in g["rules"]]
    needed = {c["alertname"] for t in tests["tests"] for c in t.get("alert_rule_test", ())}
    needed |= {r["record"] for r in every if "record" in r
               for t in tests["tests"] for c in t.get("promql_expr_test", ())
               if r["record"] in c["expr"]}
    while True:
        more = {r["record"] for r in every if "record" in r and r["record"] not in needed
                and any(r["record"] in u["expr"] for u in every
                        if (u.get("alert") or u["record"]) in needed)}
        if not more:
            break
        needed |= more
    for group in doc["groups"]:
        group["rules"] = [r for r in group["rules"] if (r.get("alert") or r["record"]) in needed]
    doc["groups"] = [g for g in doc["groups"] if g["rules"]]
    return str(yaml.safe_dump(doc, sort_keys=False))


@pytest.mark.parametrize("mutation", MUTATIONS, ids=[m[3] for m in MUTATIONS])
def test_generated_tests_catch(mutation: tuple[Any, ...], outputs: Path, promtool: str,
                               tmp_path: Path) -> None:
    service, old, new, what = mutation[:4]
    count = mutation[4] if len(mutation) > 4 else 1
    prom = tmp_path / "prometheus"
    prom.mkdir()
    rules = (_prometheus(outputs, service) / f"{service}.rules.yml").read_text()
    assert old in rules, f"mutation target not found: {old}"
    mutated = rules.replace(old, new, count)
    test = _prometheus(outputs, service) / f"{service}.test.yml"
    tests = _relevant(yaml.safe_load(test.read_text()), _affected(rules, mutated))
    (prom / f"{service}.rules.yml").write_text(_only(mutated, tests))
    (prom / test.name).write_text(yaml.safe_dump(tests))
    proc = subprocess.run([promtool, "test", "rules", str(prom / test.name)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode != 0, f"the generated tests did not notice: {what}"


def test_outputs_are_the_committed_examples(outputs: Path) -> None:
    """So the unmutated baseline is test_cli.py::test_check_passes_on_fresh_outputs."""
    for path in (outputs / "prometheus").iterdir():
        assert path.read_text() == (ROOT / "generated" / "prometheus" / path.name).read_text()
    for service in GOLDEN_SPECS:
        for path in (outputs / service / "prometheus").iterdir():
            expected = GOLDEN_SPECS[service].parent / "expected" / "prometheus" / path.name
            assert path.read_text() == expected.read_text()


BASELINES = {"alert": "select dropped", "slo": "page labelled ticket",
             "absent": "SLI absent severity changed",
             "golden": "SLI absent keeps absent()'s method label"}


@pytest.mark.parametrize("mutation", [next(m for m in MUTATIONS if m[3] == what)
                                      for what in BASELINES.values()], ids=list(BASELINES))
def test_filtered_baseline_passes(mutation: tuple[Any, ...], outputs: Path, promtool: str,
                                  tmp_path: Path) -> None:
    """The narrowing above keeps unmutated rules passing their kept tests."""
    service, old, new = mutation[:3]
    rules = (_prometheus(outputs, service) / f"{service}.rules.yml").read_text()
    test = _prometheus(outputs, service) / f"{service}.test.yml"
    tests = _relevant(yaml.safe_load(test.read_text()),
                      _affected(rules, rules.replace(old, new, 1)))
    prom = tmp_path / "prometheus"
    prom.mkdir()
    (prom / f"{service}.rules.yml").write_text(_only(rules, tests))
    (prom / test.name).write_text(yaml.safe_dump(tests))
    proc = subprocess.run([promtool, "test", "rules", str(prom / test.name)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
