"""What an on-call engineer sees first (issue 18) and the drill-down to a replica (issue 15):
the verdict row, RED order, runbook links, job/instance variables, collapsed details,
titles, the structural checks of all that (each can fail), and the grafana-resource target."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from mcgen import api, conventions
from mcgen.dashboards import check as dashboard_check
from mcgen.dashboards import layout, resource, titles, verdict
from mcgen.errors import UsageError
from mcgen.spec.model import Service

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"


def _boards(paths: list[Path]) -> dict[str, tuple[Service, dict[str, Any], str]]:
    model = api.validate(paths)
    files = api.render(paths)
    return {svc.name: (svc, json.loads(files[conventions.dashboard_path(svc.name)]),
                       files[conventions.rules_path(svc.name)]) for svc in model.services}


def _all(board: dict[str, Any]) -> list[dict[str, Any]]:
    return [q for p in board["panels"] for q in (p, *p.get("panels", []))]


def _spec(tmp_path: Path, text: str) -> dict[str, tuple[Service, dict[str, Any], str]]:
    path = tmp_path / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    return _boards([path])


@pytest.fixture(scope="module")
def examples() -> dict[str, tuple[Service, dict[str, Any], str]]:
    return _boards([SPECS])


def test_the_verdict_row_is_on_top_with_every_alert_and_slo(examples: Any) -> None:
    svc, board, _ = examples["codehub"]
    top = board["panels"]
    assert top[0]["type"] == "row" and top[0]["gridPos"]["y"] == 0
    assert top[0]["title"] == verdict.TITLE and not top[0]["collapsed"]
    end = next(i for i, p in enumerate(top) if i and p["type"] == "row")
    stats = top[1:end]
    assert {p["type"] for p in stats} == {"stat"}
    assert max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in stats) <= 13  # one screen
    assert stats[0]["title"] == "Firing alerts"
    assert stats[0]["targets"][0]["expr"] == \
        'count(ALERTS{alertstate="firing",service="codehub"}) or on() vector(0)'
    names = [p["title"].split(":")[0] for p in stats[5:]]
    assert names == [a.name for a in svc.alerts]
    # The only critical alert of codehub now has a panel: the series it watches, red at 0.
    absent = next(p for p in stats if p["title"].startswith("CoordinatorTicksAbsent"))
    assert absent["targets"][0]["expr"] == \
        'count(codehub_coordinator_tick_total{job="codehub"}) or on() vector(0)'
    assert absent["fieldConfig"]["defaults"]["thresholds"]["steps"] == [
        {"color": "red", "value": None}, {"color": "green", "value": 1.0}]


def test_a_stat_per_threshold_where_an_alert_has_overrides(examples: Any) -> None:
    """WorkspaceOperationSlow: 5s for STARTING/STOPPING, 10s elsewhere. Each query is the
    rule's branch, worst series; each is coloured by its own threshold (byFrameRefID)."""
    _, board, rules = examples["codehub"]
    stat = next(p for p in board["panels"] if p["title"].startswith("WorkspaceOperationSlow:"))
    assert stat["title"] == "WorkspaceOperationSlow: P95 > 5s / 10s"
    exprs = [t["expr"] for t in stat["targets"]]
    assert [t["legendFormat"] for t in stat["targets"]] == [
        'operation=~"STARTING|STOPPING"', "elsewhere"]
    assert all(e.startswith("max(") for e in exprs)
    assert "unless" in exprs[1] and 'operation=~"STARTING|STOPPING"' in exprs[1]
    overrides = stat["fieldConfig"]["overrides"]
    assert [(o["matcher"], o["properties"][0]["value"]["steps"][1]["value"])
            for o in overrides] == [({"id": "byFrameRefID", "options": "A"}, 5.0),
                                    ({"id": "byFrameRefID", "options": "B"}, 10.0)]
    # The branches read what the rule reads.
    branch = exprs[0].removeprefix("max(").removesuffix(")")
    assert branch in rules.replace("\n", " ") or branch.split(" unless ")[0] in rules


def test_below_thresholds_are_red_under_the_line(tmp_path: Path) -> None:
    ((svc, board, _),) = _spec(tmp_path, """\
version: 1
service: shop
metrics:
  - name: shop_orders_total
    type: counter
    help: Orders placed.
    alerts: [{alert: ShopOrdersLow, rate: true, below: 0.5, severity: critical}]
""").values()
    stat = next(p for p in board["panels"] if p["title"].startswith("ShopOrdersLow:"))
    assert stat["title"] == "ShopOrdersLow: rate < 0.5/s"
    assert stat["targets"][0]["expr"].startswith("min(")
    assert stat["fieldConfig"]["defaults"]["thresholds"]["steps"] == [
        {"color": "red", "value": None}, {"color": "green", "value": 0.5}]
    assert "links" not in stat or stat["links"] == []  # no runbook_base_url, no link
    assert dashboard_check.problems(board, svc) == []


def test_red_rate_and_errors_sit_next_to_the_latency(examples: Any) -> None:
    svc, board, _ = examples["codehub"]
    grid = {p["title"]: p["gridPos"] for p in _all(board)}
    latency = grid["Latency of one WebSocket message relayed by the proxy: P50 / P95 / P99"]
    rate = grid["Latency of one WebSocket message relayed by the proxy: rate"]
    errors = grid["WebSocket proxy errors: rate"]
    assert latency["y"] == rate["y"] == errors["y"]
    assert (latency["x"], rate["x"], errors["x"]) == (0, 8, 16)
    # codehub_coordinator_tick_total (group Throughput) counts the ticks' outcomes: it
    # moves next to the tick latency.
    tick = grid["Duration of one coordinator tick: P50 / P95 / P99"]
    assert grid["Coordinator ticks: rate"]["y"] == tick["y"]
    for metric in svc.metrics:
        if metric.type == "histogram":
            assert any(f"{metric.name}_count" in t["expr"] for p in _all(board)
                       for t in p.get("targets", []) if p["title"].endswith(": rate"))


def test_which_counter_counts_the_errors_of_which_histogram() -> None:
    from mcgen.dashboards import panels
    assert panels._stem("codehub_ws_message_latency_seconds") == "codehub_ws_message"
    assert panels._stem("autogrowth_http_requests_total") == "autogrowth_http_request"
    assert panels._stem("node_filesystem_files_total") == "node_filesystem_file"
    partners = {}
    for specs in (SPECS, ROOT / "tests/golden/slos/specs"):
        for svc in api.validate([specs]).services:
            hs = [m for m in svc.metrics if m.type == "histogram"]
            partners.update({m.name: h.name for m in svc.metrics
                             if (h := panels._errors_of(m, hs)) is not None})
    assert partners == {
        "autogrowth_http_requests_total": "autogrowth_http_request_duration_seconds",
        "autogrowth_errors_total": "autogrowth_http_request_duration_seconds",
        "codehub_ws_errors_total": "codehub_ws_message_latency_seconds",
        "codehub_coordinator_tick_total": "codehub_coordinator_tick_duration_seconds",
        "checkout_failures_total": "checkout_duration_seconds",  # its only histogram
    }  # not codehub_coordinator_wc_cas_failures_total: no histogram of CAS updates


def test_runbook_links_are_the_rules_runbook_urls(examples: Any) -> None:
    for svc, board, rules in examples.values():
        urls = set(re.findall(r"runbook_url: (\S+)", rules))
        linked = {link["url"] for p in _all(board) for link in p.get("links", [])
                  if link["title"].startswith("Runbook: ")}
        assert urls and linked == urls, svc.name
        assert all(link["targetBlank"] for p in _all(board) for link in p.get("links", []))


def test_dashboard_links_fleet_explore_and_alerts(examples: Any) -> None:
    _, board, _ = examples["codehub"]
    assert board["editable"] is False
    assert layout.FLEET_TAG in board["tags"]
    fleet, explore, alerts = board["links"]
    assert fleet["type"] == "dashboards" and fleet["tags"] == [layout.FLEET_TAG]
    assert fleet["asDropdown"] and fleet["keepTime"] and fleet["includeVars"]
    assert explore["url"] == "/explore"
    assert alerts["url"] == "/alerting/list?search=label%3Aservice%3Dcodehub"


def test_titles_are_short_and_descriptions_hold_the_promql(examples: Any) -> None:
    for _, board, _ in examples.values():
        for panel in _all(board):
            assert len(panel["title"].replace(layout.WORD_JOINER, "")) <= titles.MAX_TITLE
            if panel["type"] != "row":
                desc = panel["description"].replace(layout.WORD_JOINER, "")
                for target in panel["targets"]:
                    assert target["expr"] in desc, panel["title"]
    assert titles.subject("Duration of one Docker API call made by the observer coordinator, "
                          "by resource type.", "m") == \
        "Duration of one Docker API call made by the observer coordinator"
    assert titles.subject("Unix time (seconds) of the last run, by job. More.", "m") == \
        "Unix time of the last run"
    assert titles.subject("", "my_metric") == "my_metric"
    long = titles.title("word " * 30, "P50 / P95 / P99")
    assert len(long) <= titles.MAX_TITLE and long.endswith("\u2026: P50 / P95 / P99")


SCRAPED = """\
version: 1
service: node
metrics:
  - name: node_load1
    type: gauge
    help: 1m load average.
    alerts: [{alert: NodeLoadHigh, value: true, above: 4}]
  - name: node_http_request_duration_seconds
    type: histogram
    help: Request latency, by code.
    unit: seconds
    labels: {code: ["200", "500"]}
    buckets: [0.1, 1, 5]
    alerts: [{alert: NodeSlow, quantile: 0.9, above: 1}]
  - name: node_uname_info
    type: gauge
    help: Labeled system information.
    labels: {nodename: null, release: null}
"""


def test_job_and_instance_variables_and_per_instance_panels(tmp_path: Path) -> None:
    ((svc, board, rules),) = _spec(tmp_path, SCRAPED).values()
    assert dashboard_check.problems(board, svc) == []
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert "nodename" not in variables and "release" not in variables  # info metric labels
    assert variables["job"]["allValue"] == variables["instance"]["allValue"] == ".+"
    assert variables["code"]["allValue"] == ".*"
    assert 'job=~"${job}"' in variables["instance"]["query"]
    # Recorded rates keep neither label, so queries on them never filter on them.
    for panel in _all(board):
        for target in panel.get("targets", []):
            if ":" in target["expr"].split("{")[0].split("(")[-1]:
                assert "${instance}" not in target["expr"], target["expr"]
    gauge = next(p for p in _all(board) if p["title"] == "1m load average: by instance")
    assert gauge["targets"][0]["expr"] == \
        'max by (instance) (node_load1{instance=~"${instance}",job=~"${job}"})'
    details = next(p for p in board["panels"] if p["title"] == "Metrics: details")
    assert details["collapsed"] and {p["title"] for p in details["panels"]} >= {
        "Request latency: P90 by instance", "Request latency: rate by instance",
        "Request latency: distribution"}
    assert "record:" in rules  # the NodeSlow recording still serves the latency panel
    latency = next(p for p in _all(board) if p["title"].startswith("Request latency: P50"))
    assert ":node_http_request_duration_seconds_bucket:rate5m" in latency["targets"][0]["expr"]


def test_a_selector_that_pins_job_leaves_instance_alone(examples: Any) -> None:
    _, board, _ = examples["codehub"]  # selector: {job: codehub}
    names = [v["name"] for v in board["templating"]["list"]]
    assert "instance" in names and "job" not in names


def test_a_large_spec_collapses_its_group_rows(tmp_path: Path) -> None:
    metrics = "".join(f"  - {{name: big_{i}_total, type: counter, help: Things {i}., "
                      f"group: G{i % 3}}}\n" for i in range(45))
    ((svc, board, _),) = _spec(tmp_path, f"version: 1\nservice: big\nmetrics:\n{metrics}"
                               ).values()
    assert dashboard_check.problems(board, svc) == []
    rows = [p for p in board["panels"] if p["type"] == "row"]
    assert [r["collapsed"] for r in rows[1:4]] == [True, True, True]
    assert len(board["panels"]) < 15  # the whole dashboard fits a screen or two, closed


def _broken(board: dict[str, Any], how: str) -> dict[str, Any]:
    board = copy.deepcopy(board)
    top = board["panels"]
    if how == "verdict moved":
        top[0]["gridPos"]["y"] = 1
    elif how == "alert stat dropped":
        board["panels"] = [p for p in top if not p["title"].startswith("CASFailuresHigh:")]
    elif how == "firing count dropped":
        board["panels"] = [p for p in top if p["title"] != "Firing alerts"]
    elif how == "slo stat dropped":
        board["panels"] = [p for p in top if not p["title"].endswith(": burn rate now")]
    elif how == "rate dropped":
        for p in _all(board):
            for t in p.get("targets", []):
                t["expr"] = t["expr"].replace("codehub_ws_message_latency_seconds_count", "x")
    elif how == "runbook dropped":
        for p in _all(board):
            p["links"] = [x for x in p.get("links", []) if "ObserverApiSlow" not in x["url"]]
    elif how == "long title":
        top[1]["title"] = "x" * 71
    elif how == "editable":
        board["editable"] = True
    elif how == "collapsed overlap":
        row = next(p for p in top if p.get("collapsed"))
        row["panels"][1]["gridPos"] = dict(row["panels"][0]["gridPos"])
    elif how == "collapsed above":
        row = next(p for p in top if p.get("collapsed"))
        row["panels"][0]["gridPos"]["y"] = row["gridPos"]["y"] - 1
    return board


@pytest.mark.parametrize(("how", "says"), [
    ("verdict moved", "no open verdict row"), ("alert stat dropped", "no stat of alert CAS"),
    ("firing count dropped", "firing alerts"),
    ("slo stat dropped", "slo:current_burn_rate:ratio of SLO coordinator-ticks"),
    ("rate dropped", "histogram codehub_ws_message_latency_seconds has no request rate"),
    ("runbook dropped", "runbook of ObserverApiSlow"), ("long title", "longer than 70"),
    ("editable", "is editable"), ("collapsed overlap", "overlap"),
    ("collapsed above", "is above it"),
])
def test_oncall_checks_catch_breakage(examples: Any, how: str, says: str) -> None:
    svc, board, _ = examples["codehub"]
    found = dashboard_check.problems(_broken(board, how), svc)
    assert any(says in problem for problem in found), found


def test_grafana_resource_holds_the_dashboard(examples: Any, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The Dashboard resource of every example: the shape Grafana's /apis take, its spec the
    dashboard JSON itself (type-checked with it in test_dashboard_schema.py)."""
    model = api.validate([SPECS])
    for svc in model.services:
        (path, text), = resource.render(svc, model).items()
        assert path == f"grafana/{svc.name}.dashboard.yaml"
        assert text.startswith(conventions.header(svc))
        doc = yaml.safe_load(text)
        assert list(doc) == ["apiVersion", "kind", "metadata", "spec"]
        assert doc["apiVersion"] == "dashboard.grafana.app/v1" and doc["kind"] == "Dashboard"
        assert doc["metadata"] == {"name": svc.dashboard.uid}
        assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}", doc["metadata"]["name"])
        assert doc["spec"] == examples[svc.name][1]
    # Off by default; named in mcgen.toml's [generate] targets, it is written.
    monkeypatch.chdir(tmp_path)
    assert not [p for p in api.render([SPECS]) if p.endswith(".dashboard.yaml")]
    (tmp_path / "mcgen.toml").write_text('[generate]\ntargets = ["rules", "grafana-resource"]\n')
    files = api.render([SPECS])
    assert {p for p in files if p.endswith(".dashboard.yaml")} == {
        f"grafana/{s.name}.dashboard.yaml" for s in model.services}
    (tmp_path / "mcgen.toml").write_text('[generate]\ntargets = ["grafana-resourse"]\n')
    with pytest.raises(UsageError, match="unknown target 'grafana-resourse'"):
        api.render([SPECS])


def test_a_histogram_starts_a_line_of_its_row() -> None:
    from mcgen.dashboards.model import Panel, Row
    row = Row("r", tuple(Panel(f"k{i}", "timeseries", "t", "", (), "short", width=8,
                               new_line=i == 1) for i in range(3)))
    placed = [g for _, g in layout.layout((row,))]
    assert [(g["x"], g["y"]) for g in placed] == [(0, 0), (0, 1), (0, 9), (8, 9)]
