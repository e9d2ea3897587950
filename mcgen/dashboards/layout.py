"""grafana/<service>.json: the service's dashboard (SPEC 8), built with Grafana's own SDK
(grafana-foundation-sdk, the Grafana 11.6 build) from the panel plan in panels.py. It
type-checks against @grafana/schema 11.6 and 13.x (tests/grafana_schema).

Read-only (`editable: false`: edits belong in the spec). Its links: every mcgen dashboard
(by their shared tag, FLEET_TAG, keeping the time range and variables), Explore, and
Grafana's list of the service's alerts.

Reviewable in git: panel ids derive from what a panel shows (adding a metric does not
renumber the others), refIds are A, B, ... in query order, the layout is computed, keys
are sorted and nothing depends on the clock.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from mcgen import conventions
from mcgen.dashboards import panels, verdict
from mcgen.spec.model import Model, Service
from mcgen.text import jsonout

GRID_WIDTH = 24
_ID_SPACE = 10_000_000  # panel ids stay well inside JavaScript's safe integers
FLEET_TAG = "mcgen"  # every generated dashboard carries it; their links list each other


def panel_id(key: str, taken: set[int]) -> int:
    """Stable: a hash of the panel's key; the next free number on a collision."""
    pid = int(hashlib.sha256(key.encode()).hexdigest()[:12], 16) % _ID_SPACE + 1
    while pid in taken:
        pid = pid % _ID_SPACE + 1
    taken.add(pid)
    return pid


def ref_id(index: int) -> str:
    """A, B, ..., Z, AA, AB, ... (Grafana's own sequence)."""
    out = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        out = chr(ord("A") + rest) + out
    return out


def layout(rows: tuple[panels.Row, ...]) -> list[tuple[panels.Row | panels.Panel, dict[str, int]]]:
    """Rows full width; their panels left to right, wrapping at 24 columns (or where a
    panel starts a line), each line as tall as its tallest panel, so nothing overlaps. A
    collapsed row's panels are placed as if it were open, below it (where Grafana puts
    them when it opens, pushing the rows after it down), and the next row follows it
    directly."""
    placed: list[tuple[panels.Row | panels.Panel, dict[str, int]]] = []
    y = 0
    for row in rows:
        placed.append((row, {"h": 1, "w": GRID_WIDTH, "x": 0, "y": y}))
        y += 1
        top, x, line = y, 0, 0
        for panel in row.panels:
            if x + panel.width > GRID_WIDTH or (panel.new_line and x > 0):
                x, y, line = 0, y + line, 0
            placed.append((panel, {"h": panel.height, "w": panel.width, "x": x, "y": y}))
            x += panel.width
            line = max(line, panel.height)
        y = top if row.collapsed else y + line
    return placed


def _grid(grid: dict[str, int]) -> Any:
    from grafana_foundation_sdk.models import dashboard as dm
    return dm.GridPos(h=grid["h"], w=grid["w"], x=grid["x"], y=grid["y"])


def _datasource() -> Any:
    from grafana_foundation_sdk.models import dashboard as dm
    return dm.DataSourceRef(type_val="prometheus", uid="${datasource}")


def _thresholds(panel: panels.Panel) -> Any:
    from grafana_foundation_sdk.builders import dashboard as db
    from grafana_foundation_sdk.models import dashboard as dm
    steps = panel.thresholds or (panels.Step(None, panels.OK_COLOR),)
    return db.ThresholdsConfig().mode(dm.ThresholdsMode.ABSOLUTE).steps(
        [dm.Threshold(value=s.value, color=s.color) for s in steps])


_OURS = re.compile(r"\$\{([A-Za-z0-9_]+)\}")
# What Grafana would take for a variable in text: `$name`, `${name...}`, `[[name]]`.
_VARIABLE_START = re.compile(r"\$(?=[\w{])|\[(?=\[)")
WORD_JOINER = "\u2060"


def text(value: str) -> str:
    """A panel or row title, a description or a legend as Grafana should show it. Grafana
    interpolates `$name`, `${name}` and `[[name]]` in them (this dashboard's variables,
    one per label, and built-ins such as `$__range`) and has no escape for a literal `$`.
    An invisible WORD JOINER (U+2060) after each `$` that starts one, and between the
    brackets of `[[`, stops that: the text reads the same, every character kept. (The
    dashboard's own title and description are not interpolated; queries use `inert`.)"""
    return _VARIABLE_START.sub(lambda m: m.group() + WORD_JOINER, value)


def inert(expr: str, variables: frozenset[str]) -> str:
    """`expr` with the text of its string literals out of Grafana's reach: Grafana
    rewrites `$name`, `${name}` and `[[name]]` anywhere in a query, label values and
    selectors included. Inside a literal, `$` and `[[` become the PromQL escapes
    \\u0024 and \\u005b (Prometheus reads the same string), except this dashboard's own
    `${variable}` references; outside literals there is only PromQL and our variables."""
    out, quoted, i = [], False, 0
    while i < len(expr):
        ch = expr[i]
        if quoted and ch == "\\":
            out.append(expr[i:i + 2])
            i += 2
            continue
        if ch == '"':
            quoted = not quoted
        elif quoted and ch == "$":
            ours = _OURS.match(expr, i)
            if ours and ours.group(1) in variables:
                out.append(ours.group())
                i = ours.end()
                continue
            ch = "\\u0024"
        elif quoted and expr.startswith("[[", i):
            ch = "\\u005b"
        out.append(ch)
        i += 1
    return "".join(out)


def url(value: str) -> str:
    """A link's URL as Grafana should open it: Grafana interpolates `$name`, `${name}` and
    `[[name]]` in link URLs too, so `$` and `[` are percent-encoded (the same URL)."""
    return value.replace("$", "%24").replace("[", "%5B")


def _links(links: tuple[panels.Link, ...]) -> list[Any]:
    from grafana_foundation_sdk.builders import dashboard as db
    from grafana_foundation_sdk.models import dashboard as dm
    return [db.DashboardLink(text(link.title)).type(dm.DashboardLinkType.LINK)
            .url(url(link.url)).target_blank(True) for link in links]


def _targets(panel: panels.Panel, variables: frozenset[str]) -> list[Any]:
    from grafana_foundation_sdk.builders import prometheus
    from grafana_foundation_sdk.models import prometheus as pm
    out = []
    for i, query in enumerate(panel.queries):
        target = (prometheus.Dataquery().expr(inert(query.expr, variables))
                  .legend_format(text(query.legend))
                  .ref_id(ref_id(i)).datasource(_datasource()))
        if query.heatmap:
            target = target.format(pm.PromQueryFormat.HEATMAP)
        out.append(target)
    return out


def _panel(panel: panels.Panel, pid: int, grid: dict[str, int], variables: frozenset[str]
           ) -> Any:
    from grafana_foundation_sdk.builders import common as cb
    from grafana_foundation_sdk.builders import heatmap, stat, timeseries
    from grafana_foundation_sdk.models import common as cm
    from grafana_foundation_sdk.models import dashboard as dm
    from grafana_foundation_sdk.models import heatmap as hm
    builder: Any
    if panel.kind == "heatmap":
        builder = (heatmap.Panel().calculate(False)
                   .color(heatmap.HeatmapColorOptions().mode(hm.HeatmapColorMode.SCHEME)
                          .scheme("Oranges").scale(hm.HeatmapColorScale.EXPONENTIAL)
                          .exponent(0.5).steps(64).fill("dark-orange").reverse(False))
                   .y_axis(heatmap.YAxisConfig().unit(panel.unit))
                   .rows_frame(heatmap.RowsHeatmapOptions().layout(cm.HeatmapCellLayout.LE))
                   .cell_gap(1).show_legend().mode(cm.TooltipDisplayMode.SINGLE))
    elif panel.kind == "stat":
        builder = (stat.Panel().graph_mode(cm.BigValueGraphMode.AREA)
                   .color_mode(cm.BigValueColorMode.VALUE)
                   .reduce_options(cb.ReduceDataOptions().calcs(["lastNotNull"]))
                   .unit(panel.unit).thresholds(_thresholds(panel)))
    else:
        lines = [s.value for s in panel.thresholds if s.value is not None]
        builder = (timeseries.Panel().unit(panel.unit).thresholds(_thresholds(panel))
                   .thresholds_style(cb.GraphThresholdsStyleConfig().mode(
                       cm.GraphThresholdsStyleMode.LINE if lines
                       else cm.GraphThresholdsStyleMode.OFF))
                   .legend(cb.VizLegendOptions().display_mode(cm.LegendDisplayMode.TABLE)
                           .placement(cm.LegendPlacement.BOTTOM).show_legend(True)
                           .calcs(["lastNotNull", "max"]))
                   .tooltip(cb.VizTooltipOptions().mode(cm.TooltipDisplayMode.MULTI)
                            .sort(cm.SortOrder.DESCENDING)))
        if lines:
            # Grafana scales the axis to the data alone: a soft range keeps every threshold
            # line in view while the values are far from it.
            builder = builder.axis_soft_min(min(0.0, *lines)).axis_soft_max(max(lines))
    for i, own in enumerate(panel.query_steps):
        builder = builder.override_by_query(ref_id(i), [dm.DynamicConfigValue(
            id_val="thresholds", value={"mode": "absolute", "steps": [
                {"color": s.color, "value": s.value} for s in own]})])
    if panel.links:
        builder = builder.links(_links(panel.links))
    return (builder.id(pid).title(text(panel.title)).description(text(panel.description))
            .datasource(_datasource()).grid_pos(_grid(grid)).targets(_targets(panel, variables)))


def _variables(plan: panels.Plan) -> list[Any]:
    from grafana_foundation_sdk.builders import dashboard as db
    from grafana_foundation_sdk.models import dashboard as dm
    out: list[Any] = [db.DatasourceVariable("datasource").label("Data source").type("prometheus")]
    for var in plan.variables:
        out.append(db.QueryVariable(var.name).label(text(var.label)).datasource(_datasource())
                   .query(inert(var.query, frozenset(v.name for v in plan.variables)))
                   .multi(True).include_all(True).all_value(var.all_value)
                   .refresh(dm.VariableRefresh.ON_TIME_RANGE_CHANGED)
                   .sort(dm.VariableSort.ALPHABETICAL_ASC)
                   .current(dm.VariableOption(selected=True, text="All", value="$__all")))
    return out


def _annotations() -> list[Any]:
    """Grafana's own annotations, and this service's firing alerts (see _firing)."""
    from grafana_foundation_sdk.builders import dashboard as db
    from grafana_foundation_sdk.models import dashboard as dm
    builtin = (db.AnnotationQuery().name("Annotations & Alerts").built_in(1).enable(True)
               .hide(True).icon_color("rgba(0, 211, 255, 1)").type("dashboard")
               .datasource(dm.DataSourceRef(type_val="grafana", uid="-- Grafana --")))
    firing = (db.AnnotationQuery().name("Firing alerts").enable(True).hide(False)
              .icon_color("red").datasource(_datasource()))
    return [builtin, firing]


def _dashboard_links(svc: Service) -> list[Any]:
    """The fleet's dashboards (a dropdown of every dashboard tagged FLEET_TAG, with this
    one's time range and variables), Explore, and the service's alerts."""
    from grafana_foundation_sdk.builders import dashboard as db
    from grafana_foundation_sdk.models import dashboard as dm
    fleet = (db.DashboardLink("mcgen dashboards").type(dm.DashboardLinkType.DASHBOARDS)
             .tags([FLEET_TAG]).as_dropdown(True).keep_time(True).include_vars(True))
    return [fleet, *(db.DashboardLink(title).type(dm.DashboardLinkType.LINK).url(url(path))
                     .icon(icon).keep_time(True)
                     for title, path, icon in (("Explore", "/explore", "dashboard"),
                                               ("Alerts", verdict.alert_list_url(svc), "bolt")))]


def _firing(svc: Service) -> dict[str, str]:
    """The Prometheus query of the firing-alerts annotation, in `target` where Grafana's
    schema has it (the SDK's builder only types Grafana's own annotation targets)."""
    from mcgen import promql
    alerts = promql.selector("ALERTS", (promql.Matcher("alertstate", "=", "firing"),
                                        promql.Matcher("service", "=", svc.name)))
    return {"expr": alerts, "refId": "Anno"}


def dashboard(svc: Service) -> dict[str, Any]:
    """The dashboard as a JSON-ready dict."""
    from grafana_foundation_sdk.builders import dashboard as db
    from grafana_foundation_sdk.models import dashboard as dm
    board = svc.dashboard
    plan = panels.plan(svc)
    header = conventions.header(svc, "").replace("\n ", " ").strip()
    what = f"{svc.description.strip()}\n\n" if svc.description else ""
    tags = list(dict.fromkeys((*board.tags, FLEET_TAG)))
    builder = (db.Dashboard(board.title).uid(board.uid).tags(tags)
               .description(f"{what}{header}").time(board.time_from, "now")
               .timezone("browser").tooltip(dm.DashboardCursorSync.CROSSHAIR)
               .readonly().variables(_variables(plan)).annotations(_annotations())
               .links(_dashboard_links(svc)))
    if board.refresh:
        builder = builder.refresh(board.refresh)
    taken: set[int] = set()
    names = frozenset(v.name for v in plan.variables)
    row: Any = None  # the collapsed row being filled
    for item, grid in layout(plan.rows):
        if isinstance(item, panels.Row):
            if row is not None:
                builder, row = builder.with_row(row), None
            made = (db.Row(text(item.title)).id(panel_id(f"row:{item.title}", taken))
                    .grid_pos(_grid(grid)))
            if item.collapsed:
                row = made.collapsed(True)
            else:
                builder = builder.with_row(made)
        elif row is not None:
            row = row.with_panel(_panel(item, panel_id(item.key, taken), grid, names))
        else:
            builder = builder.with_panel(_panel(item, panel_id(item.key, taken), grid, names))
    if row is not None:
        builder = builder.with_row(row)
    data: dict[str, Any] = plain(builder.build())
    data["annotations"]["list"][1]["target"] = _firing(svc)
    for var in data["templating"]["list"]:
        # The SDK gives every variable an interval variable's settings; Grafana's model
        # has them on interval variables only.
        for key in ("auto", "auto_count", "auto_min"):
            var.pop(key, None)
    return data


def plain(value: Any) -> Any:
    """What `json.loads(json.dumps(value, cls=the SDK's JSONEncoder))` gives (dicts, lists,
    strings, numbers, booleans and None, the SDK's objects through their `to_json`),
    without writing and parsing the text: the types tested in json.dumps' order."""
    if isinstance(value, str):
        return str.__str__(value)  # a str enum: its text
    if value is None or value is True or value is False:
        return value
    if isinstance(value, int):
        return int.__index__(value)
    if isinstance(value, float):
        return float.__float__(value)
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {_key(k): plain(v) for k, v in value.items()}
    to_json = getattr(value, "to_json", None)
    if callable(to_json):
        return plain(to_json())
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _key(key: object) -> str:
    """A dict key as json.dumps writes it."""
    if isinstance(key, str):
        return str.__str__(key)
    if key is None or key is True or key is False:
        return json.dumps(key)
    if isinstance(key, int):
        return int.__repr__(key)
    if isinstance(key, float):
        return json.dumps(float.__float__(key))
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


def render(svc: Service, model: Model) -> dict[str, str]:
    text = jsonout.dumps(dashboard(svc))  # json.dumps(indent=2, sort_keys=True), faster
    return {conventions.dashboard_path(svc.name): text + "\n"}
