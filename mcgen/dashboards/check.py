"""Structural checks of a generated dashboard against its spec: what Grafana would accept
silently but show wrong. The type check against Grafana's own schema is the other layer
(tests/grafana_schema).

- panel ids unique (rows included), refIds unique within a panel;
- every gridPos inside the 24 columns, and no two panels overlapping;
- every panel and query on the `datasource` variable, every `${var}` defined;
- no title, description or legend that Grafana would interpolate (`$x`, `${x}`, `[[x]]`);
- every metric of the spec in some query, every alert threshold (overrides and SLO burn
  factors included) drawn on a panel that queries the alerted metric;
- what an on-call engineer opens it for: a verdict row at y=0 holding the firing-alerts
  count, each SLO's remaining budget and current burn, and a stat per alert; a request
  rate (`_count`) panel per histogram; a runbook link wherever an alert is drawn (when
  the spec has runbook_base_url); titles of at most 70 characters; not editable.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from mcgen import conventions
from mcgen.dashboards import layout, panels, titles, verdict
from mcgen.promql import burnrate
from mcgen.rules import sloqueries
from mcgen.spec.model import Service

DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
_VAR_RE = re.compile(r"\$\{([A-Za-z0-9_]+)\}|\$([A-Za-z_][A-Za-z0-9_]*)")
_BUILTIN_VARS = {"__rate_interval", "__interval", "__range", "__all"}


def _panels(board: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in board.get("panels", []):
        yield panel
        yield from panel.get("panels", [])  # a collapsed row's panels


def _overlap(a: dict[str, int], b: dict[str, int]) -> bool:
    return (a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"]
            and a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"])


def _mentions(expr: str, metric: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(metric)}(?:_bucket|_count|_sum)?"
                     r"(?![A-Za-z0-9_])", expr) is not None


def _screens(board: dict[str, Any]) -> Iterator[list[dict[str, Any]]]:
    """The sets of panels Grafana shows together: the top level (collapsed rows closed),
    and each collapsed row's panels (placed below the row, where opening it puts them)."""
    top = board.get("panels", [])
    yield top
    for row in top:
        if row.get("type") == "row" and row.get("collapsed"):
            yield row.get("panels", [])


def layout_problems(board: dict[str, Any]) -> list[str]:
    out = []
    ids = [p.get("id") for p in _panels(board)]
    out += [f"panel id {i} is used {ids.count(i)} times" for i in sorted(set(ids), key=str)
            if ids.count(i) > 1]
    for screen in _screens(board):
        out += _grid_problems(screen)
    for row in board.get("panels", []):
        inner = row.get("panels") or []
        if row.get("type") == "row" and not row.get("collapsed") and inner:
            out.append(f"open row {row.get('title')!r} holds panels (only collapsed rows do)")
        below = row.get("gridPos", {}).get("y", 0) + 1
        if any(p.get("gridPos", {}).get("y", below) < below for p in inner):
            out.append(f"a panel of collapsed row {row.get('title')!r} is above it")
    return out


def _grid_problems(screen: list[dict[str, Any]]) -> list[str]:
    out = []
    grids: list[tuple[object, dict[str, int]]] = []
    for panel in screen:
        title, grid = panel.get("title"), panel.get("gridPos", {})
        if not all(isinstance(grid.get(k), int) for k in ("x", "y", "w", "h")):
            out.append(f"panel {title!r} has no complete gridPos")
            continue
        if grid["x"] < 0 or grid["y"] < 0 or grid["w"] < 1 or grid["h"] < 1 \
                or grid["x"] + grid["w"] > 24:
            out.append(f"panel {title!r} is outside the 24-column grid: {grid}")
        for other_title, other in grids:
            if _overlap(grid, other):
                out.append(f"panels {other_title!r} and {title!r} overlap")
        grids.append((title, grid))
        refs = [t.get("refId") for t in panel.get("targets", [])]
        if len(refs) != len(set(refs)) or None in refs:
            out.append(f"panel {title!r} has missing or repeated refIds: {refs}")
    return out


def query_problems(board: dict[str, Any]) -> list[str]:
    out = []
    variables = {v["name"]: v for v in board.get("templating", {}).get("list", [])}
    source = variables.get("datasource", {})
    if source.get("type") != "datasource" or source.get("query") != "prometheus":
        out.append("no `datasource` variable selecting a Prometheus data source")
    queries = [(p.get("title"), t) for p in _panels(board) if p.get("type") != "row"
               for t in p.get("targets", [])]
    queries += [(f"variable {n}", {"expr": v.get("query", ""), "datasource": v["datasource"]})
                for n, v in variables.items() if v.get("type") == "query"]
    for panel in _panels(board):
        if panel.get("type") != "row" and panel.get("datasource") != DATASOURCE:
            out.append(f"panel {panel.get('title')!r} is not on the datasource variable")
    for title, target in queries:
        if target.get("datasource") != DATASOURCE:
            out.append(f"a query of {title!r} is not on the datasource variable")
        for braced, bare in _VAR_RE.findall(str(target.get("expr", ""))):
            name = braced or bare
            if name not in variables and name not in _BUILTIN_VARS:
                out.append(f"a query of {title!r} uses undefined variable ${name}")
    return out


# Grafana's variable syntax in text (its regex, with JavaScript's ASCII \w).
_GRAFANA_VARIABLE = re.compile(r"\$[A-Za-z0-9_]|\$\{[A-Za-z0-9_]|\[\[[^\]]+\]\]")


def text_problems(board: dict[str, Any]) -> list[str]:
    """Titles, descriptions and legends Grafana would rewrite."""
    out = []
    for panel in _panels(board):
        texts = [("title", panel.get("title")), ("description", panel.get("description"))]
        texts += [("legend", t.get("legendFormat")) for t in panel.get("targets", [])]
        for what, value in texts:
            found = _GRAFANA_VARIABLE.search(str(value or ""))
            if found:
                out.append(f"the {what} of panel {panel.get('title')!r} holds "
                           f"{found.group()!r}, which Grafana would interpolate")
    for var in board.get("templating", {}).get("list", []):
        found = _GRAFANA_VARIABLE.search(str(var.get("label") or ""))
        if found:
            out.append(f"the label of variable {var.get('name')!r} holds {found.group()!r}")
    return out


def coverage_problems(board: dict[str, Any], svc: Service) -> list[str]:
    """Every metric queried; every threshold drawn where its metric is shown."""
    shown = [(p, [str(t.get("expr", "")) for t in p.get("targets", [])])
             for p in _panels(board) if p.get("type") != "row"]

    def drawn(panel: dict[str, Any]) -> set[float]:
        steps = panel.get("fieldConfig", {}).get("defaults", {}).get("thresholds", {})
        return {s["value"] for s in steps.get("steps", []) if s.get("value") is not None}

    out = []
    for metric in svc.metrics:
        on = [p for p, exprs in shown if any(_mentions(e, metric.name) for e in exprs)]
        if not on:
            out.append(f"metric {metric.name} is in no query")
        for alert in metric.alerts:
            for limit in panels.limits(alert):
                if not any(limit.value in drawn(p) for p in on):
                    out.append(f"threshold {limit.value:g} of alert {alert.name} is drawn on "
                               f"no panel showing {metric.name}")
    for slo in svc.slos:
        series = str(sloqueries.ident(svc, slo)[1])
        on = [p for p, exprs in shown if any(series in e for e in exprs)]
        if not on:
            out.append(f"SLO {slo.name} is in no query")
        for burn in slo.alerts:
            for cond in burnrate.conditions(burn.kind):
                factor = round(cond.factor(slo.period), 6)
                if not any(factor in drawn(p) for p in on):
                    out.append(f"burn factor {factor:g} of SLO {slo.name} is drawn on no panel")
    return out


def _links(panel: dict[str, Any]) -> set[str]:
    return {str(link.get("url")) for link in panel.get("links", [])}


def oncall_problems(board: dict[str, Any], svc: Service) -> list[str]:
    """What an on-call engineer opens the dashboard for, first and in one screen."""
    out = []
    top = board.get("panels", [])
    first = top[0] if top else {}
    if first.get("type") != "row" or first.get("gridPos", {}).get("y") != 0 \
            or first.get("title") != verdict.TITLE or first.get("collapsed"):
        out.append(f"no open verdict row {verdict.TITLE!r} at y=0")
    end = next((i for i, p in enumerate(top) if i and p.get("type") == "row"), len(top))
    stats = [p for p in top[1:end] if p.get("type") == "stat"]
    exprs = [str(t.get("expr", "")) for p in stats for t in p.get("targets", [])]
    if not any("ALERTS{" in e and f'service="{svc.name}"' in e for e in exprs):
        out.append("the verdict row does not count the service's firing alerts")
    for slo in svc.slos:
        ident = sloqueries.ident(svc, slo)
        for series in (conventions.SLO_REMAINING, conventions.SLO_CURRENT_BURN):
            if not any(series in e and str(ident[1]) in e for e in exprs):
                out.append(f"the verdict row does not show {series} of SLO {slo.name}")
    for alert in svc.alerts:  # a name too long for a title is cut, as the title is
        head = alert.name + ":" if len(alert.name) < titles.MAX_TITLE - 1 else \
            alert.name[:titles.MAX_TITLE - 2]
        if not any(str(p.get("title", "")).startswith(head) for p in stats):
            out.append(f"the verdict row has no stat of alert {alert.name}")
    shown = [p for p in _panels(board) if p.get("type") != "row"]
    for metric in svc.metrics:
        if metric.type == "histogram" and not any(
                _mentions(str(t.get("expr", "")), metric.name)
                and f"{metric.name}_count" in str(t.get("expr", ""))
                for p in shown for t in p.get("targets", [])):
            out.append(f"histogram {metric.name} has no request rate (_count) panel")
    if svc.runbook_base_url:
        links = set().union(*(_links(p) for p in shown)) if shown else set()
        names = [a.name for a in svc.alerts] + [
            n for s in svc.slos for n in ((s.alert_name,) if s.alerts else ())]
        for name in names:
            if layout.url(conventions.runbook_url(svc.runbook_base_url, name)) not in links:
                out.append(f"no panel links to the runbook of {name}")
    for panel in _panels(board):  # as shown: without the invisible word joiners
        if len(str(panel.get("title", "")).replace(layout.WORD_JOINER, "")) > titles.MAX_TITLE:
            out.append(f"title {panel.get('title')!r} is longer than {titles.MAX_TITLE} "
                       "characters")
    if board.get("editable") is not False:
        out.append("the dashboard is editable (edits belong in the spec)")
    return out


def problems(board: dict[str, Any], svc: Service) -> list[str]:
    out = (layout_problems(board) + query_problems(board) + text_problems(board)
           + coverage_problems(board, svc) + oncall_problems(board, svc))
    if board.get("uid") != svc.dashboard.uid or len(str(board.get("uid"))) > 40:
        out.append(f"uid {board.get('uid')!r} is not the spec's, or longer than 40 characters")
    return out
