"""Dashboards type-check against @grafana/schema 11.6 and 13.2 (tests/grafana_schema_check.py);
every test that runs tsc runs once per pinned package set.

Checks every committed dashboard (generated/grafana/*.json and the golden cases' expected
dashboards) together with a sample built here with grafana-foundation-sdk, and proves the check
can fail: misspelt keys, wrong types and bad enum values are each rejected, at the right path.
Needs node and `make grafana-schema`; without them the tests skip, or fail under CI=true.
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import dashboard, gauge, heatmap, prometheus, stat, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as dashboard_models
from grafana_foundation_sdk.models import heatmap as heatmap_models
from grafana_foundation_sdk.models import prometheus as prometheus_models
from grafana_schema_check import (
    PACKAGE_SETS,
    SchemaToolchain,
    SchemaToolchainMissing,
    check_dashboards,
    find_toolchain,
)

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = sorted(ROOT.glob("generated/grafana/*.json")) + sorted(
    ROOT.glob("tests/golden/*/expected/grafana/*.json"))

# The SDK gives every variable the interval variable's keys; @grafana/schema 11.6 has none of
# them (test_sdk_interval_keys_are_rejected), so the generator drops them, as the sample does.
SDK_INTERVAL_KEYS = ("auto", "auto_count", "auto_min")


@pytest.fixture(scope="module", params=sorted(PACKAGE_SETS))
def toolchain(request: pytest.FixtureRequest) -> SchemaToolchain:
    """node and the pinned npm packages of one package set (Grafana 11.6, 13.2); under CI=true
    their absence fails instead of skipping."""
    try:
        return find_toolchain(request.param)
    except SchemaToolchainMissing as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the Grafana schema check is required under CI=true: {exc}")
        pytest.skip(str(exc))


# What Grafana 12.4+'s gauge panel requires besides the 11.6 options the SDK's builder writes.
GAUGE_13 = {"barShape": "flat", "barWidthFactor": 0.5, "effects": {}, "segmentCount": 1,
            "segmentSpacing": 0.3, "shape": "gauge"}


def sdk_sample(strip_interval_keys: bool = True, grafana: str = "11.6") -> dict[str, Any]:
    """A dashboard with what the generator uses: rows, timeseries, heatmap, stat and gauge
    panels, a data source and a multi-value query variable, thresholds and overrides. For
    Grafana 13 the gauge gets the options its schema added (GAUGE_13); the generator draws
    no gauge."""
    ds = dashboard_models.DataSourceRef(type_val="prometheus", uid="${datasource}")
    thresholds = dashboard.ThresholdsConfig().mode(dashboard_models.ThresholdsMode.ABSOLUTE).steps([
        dashboard_models.Threshold(value=None, color="green"),
        dashboard_models.Threshold(value=0.9, color="red"),
    ])

    def query(expr: str) -> prometheus.Dataquery:
        return prometheus.Dataquery().expr(expr).ref_id("A").datasource(ds)

    requests = (
        timeseries.Panel().title("Requests").datasource(ds).unit("reqps").thresholds(thresholds)
        .with_target(query('sum by (code) (rate(http_requests_total{instance=~"$instance"}'
                           "[$__rate_interval]))").legend_format("{{code}}"))
        .line_width(1).fill_opacity(10).span_nulls(True)
        .legend(common_builders.VizLegendOptions().show_legend(True)
                .display_mode(common.LegendDisplayMode.TABLE)
                .placement(common.LegendPlacement.BOTTOM).calcs(["mean", "max"]))
        .tooltip(common_builders.VizTooltipOptions().mode(common.TooltipDisplayMode.MULTI)
                 .sort(common.SortOrder.DESCENDING))
        .override_by_name("5xx", [
            dashboard_models.DynamicConfigValue(id_val="color",
                                                value={"mode": "fixed", "fixedColor": "red"}),
            dashboard_models.DynamicConfigValue(id_val="custom.lineWidth", value=2),
        ]))
    latency = (
        heatmap.Panel().title("Latency").datasource(ds)
        .with_target(query("sum by (le) (increase(http_request_duration_seconds_bucket"
                           "[$__rate_interval]))").format(prometheus_models.PromQueryFormat.HEATMAP))
        .calculate(False)
        .color(heatmap.HeatmapColorOptions().mode(heatmap_models.HeatmapColorMode.SCHEME)
               .scheme("Oranges"))
        .y_axis(heatmap.YAxisConfig().unit("s")))
    availability = (
        stat.Panel().title("Availability").datasource(ds).unit("percentunit")
        .thresholds(thresholds).with_target(query("avg(up)").instant())
        .graph_mode(common.BigValueGraphMode.NONE).color_mode(common.BigValueColorMode.BACKGROUND)
        .reduce_options(common_builders.ReduceDataOptions().calcs(["lastNotNull"]).values(False)))
    budget = (
        gauge.Panel().title("Error budget left").datasource(ds).unit("percentunit").min(0).max(1)
        .thresholds(thresholds).with_target(query("avg(up)").instant())
        .reduce_options(common_builders.ReduceDataOptions().calcs(["lastNotNull"])))
    builder = (
        dashboard.Dashboard("Schema sample").uid("schema-sample").tags(["mcgen"]).refresh("1m")
        .time("now-6h", "now").timezone("browser").editable()
        .tooltip(dashboard_models.DashboardCursorSync.CROSSHAIR)
        .with_variable(dashboard.DatasourceVariable("datasource").label("Data source")
                       .type("prometheus"))
        .with_variable(dashboard.QueryVariable("instance").label("Instance").datasource(ds)
                       .query('label_values(up{job="api"}, instance)').multi(True)
                       .include_all(True).all_value(".*")
                       .refresh(dashboard_models.VariableRefresh.ON_TIME_RANGE_CHANGED)
                       .sort(dashboard_models.VariableSort.ALPHABETICAL_ASC))
        .with_row(dashboard.Row("Traffic")).with_panel(requests).with_panel(latency)
        .with_row(dashboard.Row("SLO")).with_panel(availability).with_panel(budget)
        .with_row(dashboard.Row("Details").collapsed(True).with_panel(
            timeseries.Panel().title("Collapsed").datasource(ds).with_target(query("up")))))
    data: dict[str, Any] = json.loads(json.dumps(builder.build(), cls=JSONEncoder))
    if grafana != "11.6":
        next(p for p in data["panels"] if p["type"] == "gauge")["options"].update(GAUGE_13)
    if strip_interval_keys:
        for variable in data["templating"]["list"]:
            if variable["type"] != "interval":
                for key in SDK_INTERVAL_KEYS:
                    variable.pop(key, None)
    return data


def write(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    return path


def test_sdk_sample_matches_grafana_schema(toolchain: SchemaToolchain, tmp_path: Path) -> None:
    sample = sdk_sample(grafana=toolchain.grafana)
    errors = check_dashboards([write(tmp_path / "sdk_sample.json", sample)], toolchain)
    assert not errors, "\n".join(errors)


def test_committed_dashboards_match_grafana_schema(
        toolchain: SchemaToolchain, tmp_path: Path) -> None:
    """generated/grafana/*.json and tests/golden/*/expected/grafana/*.json, in one tsc run (with
    the SDK sample, so that the run never checks nothing)."""
    sample = write(tmp_path / "sdk_sample.json", sdk_sample(grafana=toolchain.grafana))
    errors = check_dashboards([*COMMITTED, sample], toolchain)
    assert not errors, f"{len(errors)} error(s) in {len(COMMITTED)} dashboards:\n" + "\n".join(
        errors)


def test_package_sets_type_the_same_panels() -> None:
    """Each set's panelcfg.ts exports the same plugin namespaces (dashboard.ts imports them
    all), by the import paths its @grafana/schema resolves: `.js` files for 11.6, extension-less
    subpaths since 12.4; and each set pins exact versions in package.json and its lock."""
    exported = re.compile(r"^export type \* as (\w+) from '([^']+)';$", re.M)
    found = {}
    for grafana, folder in PACKAGE_SETS.items():
        found[grafana] = dict(exported.findall((folder / "panelcfg.ts").read_text()))
        pins = json.loads((folder / "package.json").read_text())["dependencies"]
        lock = json.loads((folder / "package-lock.json").read_text())["packages"]
        assert pins["@grafana/schema"].startswith(grafana + ".")
        for name, version in pins.items():
            assert lock[f"node_modules/{name}"]["version"] == version
    assert found["11.6"].keys() == found["13.2"].keys() and len(found["11.6"]) >= 17
    assert all(path.endswith("_types.gen.js") for path in found["11.6"].values())
    assert all(path.endswith("_types.gen") for path in found["13.2"].values())


def test_sample_uses_the_panel_types_it_should() -> None:
    sample = sdk_sample()
    kinds = {p["type"] for p in sample["panels"]}
    assert kinds == {"row", "timeseries", "heatmap", "stat", "gauge"}
    collapsed = [p for p in sample["panels"] if p["type"] == "row" and p["collapsed"]]
    assert collapsed and collapsed[0]["panels"], "the collapsed row carries a panel inside"


def test_sdk_interval_keys_are_rejected(toolchain: SchemaToolchain, tmp_path: Path) -> None:
    """What the SDK adds to every variable is no VariableModel key in @grafana/schema 11.6;
    tsc names the first excess key of each variable. If this fails because the schema gained
    these keys, stripping them (generator, sdk_sample) is no longer needed."""
    raw = sdk_sample(strip_interval_keys=False, grafana=toolchain.grafana)
    assert all(key in v for v in raw["templating"]["list"] for key in SDK_INTERVAL_KEYS)
    errors = check_dashboards([write(tmp_path / "raw.json", raw)], toolchain)
    assert len(errors) == len(raw["templating"]["list"]), "\n".join(errors)
    for i, error in enumerate(errors):
        assert f"raw.json: templating.list[{i}].auto: TS2353:" in error, error


def _panel(data: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(p for p in data["panels"] if p["type"] == kind)


def _set(kind: str, *path: str | int, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        node: Any = _panel(data, kind)
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return mutate


def _rename_title(data: dict[str, Any]) -> None:
    data["titel"] = data.pop("title")


def _drop_schema_version(data: dict[str, Any]) -> None:
    del data["schemaVersion"]


def _misspelt_variable_key(data: dict[str, Any]) -> None:
    variable = data["templating"]["list"][1]
    variable["inlcudeAll"] = variable.pop("includeAll")


def _bad_override_id(data: dict[str, Any]) -> None:
    override = _panel(data, "timeseries")["fieldConfig"]["overrides"][0]
    override["properties"][0]["id"] = "colour"


def _custom_on_stat(data: dict[str, Any]) -> None:
    _panel(data, "stat")["fieldConfig"]["defaults"]["custom"] = {"lineWidth": 1}


def _set_top(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        data[key] = value
    return mutate


def _set_variable(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        data["templating"]["list"][1][key] = value
    return mutate


def _collapsed_row_panel(data: dict[str, Any]) -> None:
    row = next(p for p in data["panels"] if p["type"] == "row" and p["panels"])
    row["panels"][0]["repeatDirection"] = "x"


# name -> (mutation, the JSON path reported, a piece of tsc's message)
BROKEN: dict[str, tuple[Callable[[dict[str, Any]], None], str, str]] = {
    "misspelt dashboard key": (_rename_title, "titel", "'\"titel\"' does not exist"),
    "missing required key": (_drop_schema_version, "$", "'schemaVersion' is missing"),
    "numeric enum out of range": (_set_top("graphTooltip", 3), "graphTooltip",
                                  "not assignable to type '0 | 1 | 2"),
    "wrong type": (_set("timeseries", "gridPos", "w", value="12"), "gridPos.w",
                   "not assignable to type 'number'"),
    "thresholds mode": (_set("stat", "fieldConfig", "defaults", "thresholds", "mode",
                             value="percentag"),
                        "fieldConfig.defaults.thresholds.mode", "'\"percentag\"'"),
    "field color mode": (_set("gauge", "fieldConfig", "defaults", "color",
                              value={"mode": "palette-clasic"}),
                         "fieldConfig.defaults.color.mode", "'\"palette-clasic\"'"),
    "misspelt standard field option": (
        _set("timeseries", "fieldConfig", "defaults", "unitt", value="s"),
        "fieldConfig.defaults.unitt", "'\"unitt\"' does not exist"),
    "misspelt timeseries option": (_set("timeseries", "options", "legend", "showLegnd",
                                        value=True),
                                   "options.legend.showLegnd", "does not exist"),
    "timeseries legend enum": (_set("timeseries", "options", "legend", "displayMode",
                                    value="tabel"),
                               "options.legend.displayMode", "'\"tabel\"'"),
    "misspelt timeseries custom": (_set("timeseries", "fieldConfig", "defaults", "custom",
                                        "lineWidht", value=1),
                                   "fieldConfig.defaults.custom.lineWidht", "does not exist"),
    "timeseries custom type": (_set("timeseries", "fieldConfig", "defaults", "custom",
                                    "fillOpacity", value="10"),
                               "fieldConfig.defaults.custom.fillOpacity",
                               "not assignable to type 'number'"),
    "heatmap option type": (_set("heatmap", "options", "calculate", value="no"),
                            "options.calculate", "not assignable to type 'boolean"),
    "heatmap option enum": (_set("heatmap", "options", "color", "mode", value="schema"),
                            "options.color.mode", "'\"schema\"'"),
    "stat option enum": (_set("stat", "options", "colorMode", value="backgroud"),
                         "options.colorMode", "'\"backgroud\"'"),
    "stat has no custom field config": (_custom_on_stat, "fieldConfig.defaults.custom.lineWidth",
                                        "not assignable to type 'never'"),
    "misspelt gauge option": (_set("gauge", "options", "showThresholdMarker", value=True),
                              "options.showThresholdMarker", "does not exist"),
    "override property id": (_bad_override_id, "fieldConfig.overrides[0].properties[0].id",
                             "'\"colour\"'"),
    "override value type": (_set("timeseries", "fieldConfig", "overrides", 0, "properties", 1,
                                 "value", value="thick"),
                            "fieldConfig.overrides[0].properties[1]",
                            "{ id: \"custom.lineWidth\"; value: string; }"),
    "unknown panel type": (_set("gauge", "type", value="graph"), "type", "'\"graph\"'"),
    "panel in a collapsed row": (_collapsed_row_panel, "panels[0].repeatDirection", "'\"x\"'"),
    "variable type": (_set_variable("type", "querry"), "templating.list[1].type",
                      "'\"querry\"'"),
    "variable refresh": (_set_variable("refresh", 7), "templating.list[1].refresh",
                         "not assignable to type '0 | 1 | 2"),
    "misspelt variable key": (_misspelt_variable_key, "templating.list[1].inlcudeAll",
                              "does not exist"),
    "query without refId": (_set("stat", "targets", 0, "refId", value=1), "targets[0].refId",
                            "not assignable to type 'string'"),
}


ERROR = re.compile(r"^(?P<file>.+?\.json): (?P<path>\S+)(?: \[.*?\])?: (?P<message>.*)$", re.S)


def test_broken_dashboards_are_rejected(toolchain: SchemaToolchain, tmp_path: Path) -> None:
    """Each broken copy of the sample fails at the path it was broken at (one tsc run for all,
    with the intact sample beside them, which must still pass)."""
    sample = sdk_sample(grafana=toolchain.grafana)
    paths = [write(tmp_path / "intact.json", sample)]
    for i, (mutate, _, _) in enumerate(BROKEN.values()):
        broken = copy.deepcopy(sample)
        mutate(broken)
        paths.append(write(tmp_path / f"broken_{i}.json", broken))
    errors = check_dashboards(paths, toolchain)
    found: dict[str, list[tuple[str, str]]] = {}
    for error in errors:
        match = ERROR.match(error)
        assert match, f"not in the <file>: <path>: <message> form: {error}"
        found.setdefault(Path(match["file"]).name, []).append((match["path"], match["message"]))
    assert "intact.json" not in found, found.get("intact.json")
    for i, (name, (_, where, message)) in enumerate(BROKEN.items()):
        got = found.get(f"broken_{i}.json", [])
        assert any((path == where or path.endswith("." + where)) and message in text
                   for path, text in got), f"{name}: expected {where} / {message} in {got}"


def test_json_problems_tsc_would_not_see(toolchain: SchemaToolchain, tmp_path: Path) -> None:
    duplicate = tmp_path / "duplicate.json"
    duplicate.write_text('{"schemaVersion": 41, "title": "a", "title": "b"}')
    not_json = tmp_path / "nan.json"
    not_json.write_text('{"schemaVersion": NaN}')
    not_object = tmp_path / "list.json"
    not_object.write_text("[]")
    errors = check_dashboards([duplicate, not_json, not_object], toolchain)
    assert any("duplicate.json: title: duplicate key" in e for e in errors), errors
    assert any("nan.json: cannot read JSON: NaN is not JSON" in e for e in errors), errors
    assert any("list.json: $: a dashboard is a JSON object" in e for e in errors), errors


def test_grafana_resource_specs_match_grafana_schema(
        toolchain: SchemaToolchain, tmp_path: Path) -> None:
    """The `spec` of each example's Dashboard resource (grafana-resource target), read back
    from its YAML: Grafana takes it as the dashboard."""
    import yaml

    from mcgen import api
    from mcgen.dashboards import resource
    model = api.validate([ROOT / "specs"])
    paths = []
    for svc in model.services:
        (_, text), = resource.render(svc, model).items()
        paths.append(write(tmp_path / f"{svc.name}.json", yaml.safe_load(text)["spec"]))
    errors = check_dashboards(paths, toolchain)
    assert len(paths) == 3 and not errors, "\n".join(errors)
