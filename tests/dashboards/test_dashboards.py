"""Dashboards: structural checks on every example and golden case, the checks themselves
(each can fail), stable ids and layout, thresholds coloured by severity, recording-rule
reuse, and byte-identical output."""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mcgen import api, conventions
from mcgen.dashboards import check as dashboard_check
from mcgen.dashboards import layout as dashboards
from mcgen.dashboards import panels
from mcgen.spec import names
from mcgen.spec.model import Service

ROOT = Path(__file__).resolve().parents[2]
SPEC_SETS = [ROOT / "specs", *sorted((ROOT / "tests" / "golden").glob("*/specs"))]


def _boards(paths: list[Path]) -> list[tuple[Service, dict[str, Any], str]]:
    model = api.validate(paths)
    files = api.render(paths)
    return [(svc, json.loads(files[conventions.dashboard_path(svc.name)]),
             files[conventions.rules_path(svc.name)]) for svc in model.services]


def _all(board: dict[str, Any]) -> list[dict[str, Any]]:
    """Every panel, those of collapsed rows included."""
    return [q for p in board["panels"] for q in (p, *p.get("panels", []))]


def _by_title(board: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["title"]: p for p in _all(board)}


@pytest.mark.parametrize("specs", SPEC_SETS, ids=lambda p: p.parent.name)
def test_every_dashboard_passes_the_structural_checks(specs: Path, in_root: Path) -> None:
    for svc, board, _ in _boards([specs.relative_to(ROOT)]):
        assert dashboard_check.problems(board, svc) == [], svc.name


@pytest.mark.parametrize("specs", SPEC_SETS, ids=lambda p: p.parent.name)
def test_recorded_series_on_dashboards_are_recorded(specs: Path, in_root: Path) -> None:
    """Panels reuse recording rules; every recorded name they read is in the rules file."""
    for svc, board, rules in _boards([specs.relative_to(ROOT)]):
        recorded = set(re.findall(r"- record: (\S+)", rules))
        exprs = [t["expr"] for p in _all(board) for t in p.get("targets", [])]
        used = {n for e in exprs for n in re.findall(r"[A-Za-z_][A-Za-z0-9_]*:[A-Za-z0-9_:]+", e)}
        assert used and used <= recorded, (svc.name, used - recorded)


def test_overview_reads_the_recorded_rate_and_filters_by_every_label(in_root: Path) -> None:
    (svc, board, _), = [b for b in _boards([Path("specs")]) if b[0].name == "codehub"]
    by_title = _by_title(board)
    quantiles = by_title["Duration of a workspace lifecycle operation, from…: P50 / P95 / P99"]
    exprs = [t["expr"] for t in quantiles["targets"]]
    assert exprs[1] == (
        "histogram_quantile(0.95, sum by (operation, le) "
        "(operation_le:codehub_workspace_operation_duration_seconds_bucket:rate5m"
        '{operation=~"${operation}",service="codehub"}))')  # recorded under its selector
    assert [t["refId"] for t in quantiles["targets"]] == ["A", "B", "C"]
    # The SLA overrides (5 s) and the alert's own 10 s are both drawn, in the alert's colour.
    steps = quantiles["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert steps == [{"color": "green", "value": None}, {"color": "orange", "value": 5.0},
                     {"color": "orange", "value": 10.0}]
    assert quantiles["fieldConfig"]["defaults"]["unit"] == "s"
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["operation"]["query"] == (
        'label_values({__name__=~"codehub_workspace_last_operation_timestamp|'
        'codehub_workspace_operation_duration_seconds_count",job="codehub"}, operation)')
    assert all("auto" not in v and "auto_count" not in v for v in variables.values())


def test_slo_panels_show_sli_burn_and_budget(in_root: Path) -> None:
    (svc, board, _), = [b for b in _boards([Path("specs")]) if b[0].name == "codehub"]
    slo = svc.slos[0]
    mine = [p for p in board["panels"] if p["title"].startswith(f"{slo.name}:")]
    kinds = sorted(p["type"] for p in mine)
    assert kinds == ["stat"] * 4 + ["timeseries"] * 3
    # Budget left and burn now are in the verdict row, above the first group.
    first_group = next(p["gridPos"]["y"] for p in board["panels"][1:] if p["type"] == "row")
    assert [p["title"] for p in mine if p["gridPos"]["y"] < first_group] == [
        f"{slo.name}: budget left", f"{slo.name}: burn rate now"]
    burn = next(p for p in mine if p["title"].endswith("burn rate by window"))
    values = [s["value"] for s in burn["fieldConfig"]["defaults"]["thresholds"]["steps"]]
    assert values == [None, 1.0, 3.0, 6.0, 14.4]  # ticket f4, f3, page f2, f1
    colours = [s["color"] for s in burn["fieldConfig"]["defaults"]["thresholds"]["steps"]]
    assert colours == ["green", "orange", "orange", "red", "red"]  # warning, then critical


def test_threshold_lines_take_the_colour_of_their_alert() -> None:
    lim = panels.Limit
    assert panels.steps([lim(10, ">", "warning", "A"), lim(20, ">", "critical", "B")]) == (
        panels.Step(None, "green"), panels.Step(10, "orange"), panels.Step(20, "red"))
    # A `below` threshold is drawn in its alert's colour too (not in the green above it).
    assert panels.steps([lim(50, "<", "critical", "A")]) == (
        panels.Step(None, "green"), panels.Step(50, "red"))
    # Two alerts on one value: the more severe colour wins; unknown severities are warnings.
    assert panels.steps([lim(5, "<", "info", "A"), lim(5, ">", "page", "B"),
                         lim(100, ">", "info", "C")]) == (
        panels.Step(None, "green"), panels.Step(5, "orange"), panels.Step(100, "blue"))
    assert panels.steps([]) == ()


def test_alerts_with_a_select_get_their_own_panel(in_root: Path) -> None:
    """The overview would show excluded series crossing a line that cannot fire for them."""
    (svc, board, _), = [b for b in _boards([Path("specs")]) if b[0].name == "codehub"]
    by_title = _by_title(board)
    overview = by_title["WebSocket proxy errors: rate"]
    assert "steps" not in overview["fieldConfig"]["defaults"]["thresholds"] or \
        [s["value"] for s in overview["fieldConfig"]["defaults"]["thresholds"]["steps"]] == [None]
    own = next(p for t, p in by_title.items()
               if t.startswith("WebSocketErrorsHigh: ") and p["type"] == "timeseries")
    assert 'error_type!="connection_closed"' in own["description"]
    assert 'error_type!="connection_closed"' in own["targets"][0]["expr"]
    assert [link["url"] for link in own["links"]] == [
        "https://runbooks.example.com/codehub/WebSocketErrorsHigh"]
    custom = own["fieldConfig"]["defaults"]["custom"]
    assert custom["thresholdsStyle"] == {"mode": "line"}
    assert custom["axisSoftMin"] == 0 and custom["axisSoftMax"] == 0.1


def test_panel_ids_are_stable_and_unique() -> None:
    taken: set[int] = set()
    first = dashboards.panel_id("metric:x:quantiles", taken)
    again = dashboards.panel_id("metric:x:quantiles", taken)  # a collision: next free id
    assert again == first % dashboards._ID_SPACE + 1
    assert dashboards.panel_id("metric:x:quantiles", set()) == first
    assert [dashboards.ref_id(i) for i in (0, 1, 25, 26, 27, 701, 702)] == \
        ["A", "B", "Z", "AA", "AB", "ZZ", "AAA"]


def test_adding_a_metric_keeps_the_other_panel_ids(tmp_path: Path) -> None:
    spec = (ROOT / "tests/golden/minimal/specs").glob("*.yaml").__next__().read_text()
    (tmp_path / "a.yaml").write_text(spec)
    before = {p["title"]: p["id"] for p in _boards([tmp_path / "a.yaml"])[0][1]["panels"]}
    extra = spec.rstrip() + (
        "\n  - name: shop_extra_total\n    type: counter\n    help: Extra.\n")
    (tmp_path / "a.yaml").write_text(extra)
    after = {p["title"]: p["id"] for p in _boards([tmp_path / "a.yaml"])[0][1]["panels"]}
    assert len(after) == len(before) + 1
    assert all(after[t] == i for t, i in before.items())


def test_layout_wraps_at_24_columns_without_overlap() -> None:
    wide = [panels.Panel(f"k{i}", "timeseries", f"t{i}", "", (), "short", width=w)
            for i, w in enumerate((12, 6, 6, 12, 18, 6, 24))]
    rows = (panels.Row("a", tuple(wide[:4])), panels.Row("b", tuple(wide[4:])))
    placed = [g for _, g in dashboards.layout(rows)]
    board = {"panels": [{"id": i, "title": str(i), "gridPos": g} for i, g in enumerate(placed)]}
    assert dashboard_check.layout_problems(board) == []
    assert [(g["x"], g["y"]) for g in placed] == [
        (0, 0), (0, 1), (12, 1), (18, 1), (0, 9), (0, 17), (0, 18), (18, 18), (0, 26)]


def _codehub() -> tuple[Service, dict[str, Any]]:
    svc, board, _ = next(b for b in _boards([ROOT / "specs"]) if b[0].name == "codehub")
    return svc, board


@pytest.mark.parametrize(("breakage", "says"), [
    ("duplicate id", "times"), ("overlap", "overlap"),
    ("outside grid", "outside the 24-column grid"), ("repeated refId", "repeated refIds"),
    ("no datasource", "is not on the datasource variable"),
    ("undefined variable", "uses undefined variable $nope"),
    ("threshold dropped", "is drawn on no panel showing"),
    ("metric dropped", "is in no query"), ("burn factor dropped", "burn factor 14.4 of SLO"),
])
def test_structural_checks_catch_breakage(breakage: str, says: str) -> None:
    svc, good = _codehub()
    board = copy.deepcopy(good)
    real = [p for p in board["panels"] if p["type"] != "row"]
    # The latency of the first metric (three quantiles, CoordinatorTickSlow's 1s drawn).
    first = next(p for p in real if p["title"].endswith("P50 / P95 / P99"))
    second = real[real.index(first) + 1]
    if breakage == "duplicate id":
        second["id"] = first["id"]
    elif breakage == "overlap":
        second["gridPos"] = dict(first["gridPos"], x=first["gridPos"]["x"] + 1)
    elif breakage == "outside grid":
        first["gridPos"]["w"] = 30
    elif breakage == "repeated refId":
        first["targets"][1]["refId"] = "A"
    elif breakage == "no datasource":
        first["targets"][0]["datasource"] = {"type": "prometheus", "uid": "prom"}
    elif breakage == "undefined variable":
        first["targets"][0]["expr"] += ' * on() group_left() up{x=~"${nope}"}'
    elif breakage == "threshold dropped":  # from the latency and from the verdict's stat
        for p in real:
            found = p["fieldConfig"]["defaults"]["thresholds"]
            found["steps"] = [s for s in found["steps"] if s["value"] != 1.0]
    elif breakage == "metric dropped":
        for p in dashboard_check._panels(board):
            for t in p.get("targets", []):
                t["expr"] = t["expr"].replace(svc.metrics[0].name, "something_else")
    else:
        for p in board["panels"]:  # f1 = 14.4, from the burn-rate panel and the stat
            found = p.get("fieldConfig", {}).get("defaults", {}).get("thresholds", {})
            found["steps"] = [s for s in found.get("steps", []) if s["value"] != 14.4]
    found = dashboard_check.problems(board, svc)
    assert any(says in problem for problem in found), found


def test_generation_is_byte_identical_across_processes(tmp_path: Path, in_root: Path) -> None:
    outs = []
    for i in range(2):
        out = tmp_path / str(i)
        subprocess.run([sys.executable, "-m", "mcgen", "generate", "--out", str(out)],
                       check=True, capture_output=True, env=dict(os.environ, PYTHONHASHSEED=str(i)))
        outs.append({p.relative_to(out): p.read_bytes() for p in out.rglob("*.json")})
    assert outs[0] == outs[1] and len(outs[0]) == 3


def test_uid_is_derived_from_the_service_within_40_characters() -> None:
    assert names.dashboard_uid("shop") == "mcgen-shop"
    long = names.dashboard_uid("a" * 60)
    assert len(long) == 40 and long == names.dashboard_uid("a" * 60)


def test_label_variables_never_clash_with_the_datasource_or_each_other() -> None:
    names = ["datasource", "label_datasource", "label_label_datasource", "operation"]
    assert [panels.variable_name(n) for n in names] == [
        "label_datasource", "label_label_datasource", "label_label_label_datasource",
        "operation"]


def test_a_1d_slo_shows_the_long_window_of_each_condition(tmp_path: Path) -> None:
    """One line per alert condition's long window (the short one only confirms it): the
    ticket's 1d and 3d, even where 3d is longer than the period."""
    spec = tmp_path / "daily.yaml"
    spec.write_text(
        "version: 1\nservice: daily\nmetrics:\n  - name: daily_requests_total\n"
        "    type: counter\n    help: h\n    labels: {code: [ok, error]}\n"
        "slos:\n  - name: ok\n    objective: 90\n    window: 1d\n    alerting: {page: false}\n"
        "    sli:\n      events:\n        error: {metric: daily_requests_total, "
        "select: {code: error}}\n        total: {metric: daily_requests_total}\n",
        encoding="utf-8")
    (svc, board, _), = _boards([spec])
    burn = next(p for p in board["panels"] if p["title"] == "ok: burn rate by window")
    assert [t["legendFormat"] for t in burn["targets"]] == ["1d", "3d"]
    assert dashboard_check.problems(board, svc) == []


def test_grafana_cannot_rewrite_values_in_queries(tmp_path: Path) -> None:
    """A selector or select value holding `$name` or `[[name]]` reaches every query as
    PromQL escapes Grafana leaves alone, while the dashboard's own variables still work
    (found by the property test: `selector: {job: eu-west$Z~}`)."""
    spec = tmp_path / "pay.yaml"
    spec.write_text("""\
version: 1
service: pay
selector: {job: "eu$west[[x]]"}
metrics:
  - name: pay_requests_total
    type: counter
    help: Requests.
    labels: {route: ["$route", b]}
    alerts:
      - {alert: PayRoutesBusy, rate: true, above: 5, select: {route: "$route"}}
""")
    ((svc, board, _),) = _boards([spec])
    assert dashboard_check.problems(board, svc) == []
    queries = [t["expr"] for p in board["panels"] for t in p.get("targets", ())]
    queries += [v["query"] for v in board["templating"]["list"] if v["type"] == "query"]
    assert any('job="eu\\u0024west\\u005b[x]]"' in q for q in queries), queries
    assert not any("$west" in q or "[[x" in q or '"$route"' in q for q in queries), queries
    assert any('\\u0024route' in q for q in queries)
    assert any('=~"${route}"' in q for q in queries)  # the dashboard's variable, untouched


GRAFANA_SYNTAX = ("$route", "${route}", "[[route]]", "$__range", "${__interval}", "$5")


def test_grafana_cannot_rewrite_titles_descriptions_or_legends(tmp_path: Path) -> None:
    """Help texts, label values shown in titles, group (row) names and SLO descriptions
    holding `$route`, `${x}`, `[[x]]` or `$__range` are shown as written: Grafana
    interpolates titles, descriptions and legends (`route` is also this dashboard's
    variable), so each such `$` or `[[` carries an invisible word joiner."""
    hostile = " ".join(GRAFANA_SYNTAX)
    spec = tmp_path / "pay.yaml"
    spec.write_text(f"""\
version: 1
service: pay
metrics:
  - name: pay_requests_total
    type: counter
    help: "Requests by {hostile}."
    group: "Costs in {hostile}"
    labels: {{route: ["$route", "[[b]]"], code: ["200", "500"]}}
    alerts:
      - {{alert: PayRouteBusy, rate: true, above: 5, select: {{route: "$route"}}}}
slos:
  - name: availability
    objective: 99.9
    description: "Served {hostile}."
    sli:
      events:
        error: {{metric: pay_requests_total, select: {{code: "500"}}}}
        total: {{metric: pay_requests_total}}
""", encoding="utf-8")
    ((svc, board, _),) = _boards([spec])
    assert dashboard_check.problems(board, svc) == []
    panels = _all(board)
    texts = [str(p.get(k, "")) for p in panels for k in ("title", "description")]
    texts += [t["legendFormat"] for p in panels for t in p.get("targets", ())]
    shown = [t.replace(dashboards.WORD_JOINER, "") for t in texts]
    assert "Costs in " + hostile in shown  # the row
    # A panel's description starts with the help, an SLO panel's with its description.
    assert any(t.startswith("Requests by " + hostile + ".\n") for t in shown)
    assert any(t.startswith("Served " + hostile + ".\n") for t in shown)
    assert any('pay_requests_total{route="$route"}' in t for t in shown)  # the alert's panel
    grafana = re.compile(r"\$\w|\$\{|\[\[")  # what Grafana's variable syntax starts with
    assert [t for t in texts if grafana.search(t)] == []
    for t in texts:  # only a `$` or `[` that starts Grafana's syntax is touched
        assert t.count(dashboards.WORD_JOINER) == len(
            re.findall(r"\$(?=[\w{])|\[(?=\[)", t.replace(dashboards.WORD_JOINER, "")))


def test_text_escapes_only_what_grafana_reads() -> None:
    wj = dashboards.WORD_JOINER
    assert dashboards.text("cost in $ and [x] per $route, ${a}, [[b]], $__range") == \
        f"cost in $ and [x] per ${wj}route, ${wj}{{a}}, [{wj}[b]], ${wj}__range"
    assert dashboards.text("plain {{route}} P95") == "plain {{route}} P95"
    bad = {"panels": [{"title": "a $route", "description": "${x}", "targets": [
        {"legendFormat": "[[y]]"}]}], "templating": {"list": []}}
    assert len(dashboard_check.text_problems(bad)) == 3


@pytest.mark.parametrize(("expr", "inert"), [
    ('a{b="$x"}', 'a{b="\\u0024x"}'),
    ('a{b=~"${v}",c="${w}"}', 'a{b=~"${v}",c="\\u0024{w}"}'),
    ('a{b="\\"$"}[$__rate_interval]', 'a{b="\\"\\u0024"}[$__rate_interval]'),
    ('a{b="[[v]] [x"}', 'a{b="\\u005b[v]] [x"}'),
])
def test_inert_escapes_only_inside_literals(expr: str, inert: str) -> None:
    import promql_parser

    assert dashboards.inert(expr, frozenset({"v"})) == inert
    if "$__" not in expr:
        assert str(promql_parser.parse(inert)) == str(promql_parser.parse(expr))
