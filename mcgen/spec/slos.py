"""SLOs: from schema-valid spec data to resolved `Slo`s, with every mistake reported at
the node that causes it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mcgen.errors import Position
from mcgen.promql import Duration, burnrate
from mcgen.spec import bounds, matchers, names
from mcgen.spec.builder import Builder
from mcgen.spec.load import JsonPath
from mcgen.spec.model import AbsentAlert, BurnAlert, Metric, Selection, Slo

MIN_PERIOD = Duration(86_400_000)
# Labels a firing SLO alert gets from mcgen; neither the spec nor the SLO may set them.
SLO_ALERT_LABELS = ("alertname", "severity", "service", "slo", "slo_severity")
DEFAULT_SEVERITY = {"page": "critical", "ticket": "warning"}
# SPEC 4: `absent: {for: 10m, severity: warning}` unless the SLO says otherwise.
DEFAULT_ABSENT_FOR = Duration(600_000)
DEFAULT_ABSENT_SEVERITY = "warning"


def build(b: Builder, metrics: Mapping[str, Metric]) -> tuple[Slo, ...]:
    raw_slos: list[dict[str, Any]] = b.data.get("slos", [])
    out: list[Slo] = []
    seen: dict[str, Position] = {}
    for i, raw in enumerate(raw_slos):
        path: JsonPath = ("slos", i)
        if raw["name"] in seen:
            b.error((*path, "name"), f"SLO name '{raw['name']}' is used twice in this service",
                    f"rename one of them (first use at line {seen[raw['name']].line})")
            continue
        seen[raw["name"]] = b.pos((*path, "name"))
        slo = _slo(b, metrics, raw, path)
        if slo is not None:
            out.append(slo)
    if out:
        _check_service(b)
    return tuple(out)


def _objective(b: Builder, raw: dict[str, Any], path: JsonPath) -> tuple[float, JsonPath]:
    if b.env is not None:
        over = b.data.get("environments", {}).get(b.env, {}).get("slos", {})
        if "objective" in over.get(raw["name"], {}):
            return (float(over[raw["name"]]["objective"]),
                    ("environments", b.env, "slos", raw["name"], "objective"))
    return float(raw["objective"]), (*path, "objective")


def _slo(b: Builder, metrics: Mapping[str, Metric], raw: dict[str, Any], path: JsonPath
         ) -> Slo | None:
    objective, objective_at = _objective(b, raw, path)
    period = b.duration(raw["window"], (*path, "window")) if "window" in raw else \
        Duration(30 * MIN_PERIOD.ms)
    if period < MIN_PERIOD:
        b.error((*path, "window"), f"SLO period {period} is shorter than 1d",
                "use a period of 1d or more (28d and 30d are usual)")
    sli = raw["sli"]
    if "events" in sli:
        kind = "events"
        total = _side(b, metrics, sli["events"]["total"], (*path, "sli", "events", "total"),
                      ("counter",))
        error = _side(b, metrics, sli["events"]["error"], (*path, "sli", "events", "error"),
                      ("counter",))
        bound = None
        sides = [(side["metric"], side.get("select", {})) for side in
                 (sli["events"]["error"], sli["events"]["total"])]
        if sides[0] == sides[1]:
            b.error((*path, "sli", "events", "error"), "the error and total events select the "
                    "same series, so the error ratio is always 100%",
                    "select the failed events under 'error' (e.g. {status: error})")
    else:
        kind, error = "latency", None
        latency = sli["latency"]
        at = (*path, "sli", "latency")
        total = _side(b, metrics, latency, at, ("histogram",))
        bound = float(latency["below"])
        hist = metrics.get(latency["metric"])
        if hist is not None and hist.type == "histogram" and bound not in hist.buckets:
            b.error((*at, "below"), f"latency bound {bound:g} is not a bucket of {hist.name}",
                    "use one of its buckets: " + ", ".join(f"{x:g}" for x in hist.buckets)
                    + " (or add this bound to them)")
    alerting = raw.get("alerting", {})
    alerts = tuple(BurnAlert(kind, alerting.get(kind, {}).get("severity", DEFAULT_SEVERITY[kind]))
                   for kind in burnrate.ALERTS if alerting.get(kind, {}) is not False)
    labels = tuple(sorted(alerting.get("labels", {}).items()))
    for key, _ in labels:
        if key in SLO_ALERT_LABELS or key.startswith("__"):
            b.error((*path, "alerting", "labels", key), f"alert label '{key}' is set by mcgen",
                    "remove it (page and ticket severities have their own keys)", key=True)
    for alert in alerts:
        if not any(burnrate.reachable(c, period, objective)
                   for c in burnrate.conditions(alert.kind)):
            lowest = min(c.factor(period) for c in burnrate.conditions(alert.kind))
            b.error(objective_at, f"objective {objective:g}% leaves an error budget of "
                    f"{burnrate.percent(burnrate.budget(objective))}, so the {alert.kind} (burn "
                    f"rate above {lowest:.3g}) needs an error ratio above 100% and can never fire",
                    f"raise the objective, or set alerting.{alert.kind}: false")
    absent = _absent(b, raw["name"], alerting, (*path, "alerting", "absent"))
    if total is None:
        return None
    slo = Slo(
        name=raw["name"], objective=objective, period=period,
        description=raw.get("description"), sli=kind, total=total, error=error, bound=bound,
        alert_name=alerting.get("name", names.slo_alert_name(b.data["service"],
                                                                   raw["name"])),
        alerts=alerts, labels=labels, min_traffic=alerting.get("min_traffic"),
        pos=b.pos(path), absent=absent, keep=b.keep)
    bounds.slo(b, slo, path)
    return slo


def _absent(b: Builder, slo: str, alerting: dict[str, Any], path: JsonPath
            ) -> AbsentAlert | None:
    raw = alerting.get("absent", {})
    if raw is False:
        return None
    for_ = b.duration(raw["for"], (*path, "for")) if "for" in raw else DEFAULT_ABSENT_FOR
    name = raw.get("name", names.slo_absent_alert_name(b.data["service"], slo))
    return AbsentAlert(name, for_, raw.get("severity", DEFAULT_ABSENT_SEVERITY),
                       b.pos(path if "absent" in alerting else path[:2]))


def alert_names(slo: Slo) -> list[tuple[str, Position]]:
    """The alert names an SLO's rules use: its burn alert's (page and ticket share it)
    and its absent alert's."""
    out = [(slo.alert_name, slo.pos)] if slo.alerts else []
    return out + ([(slo.absent.name, slo.absent.pos)] if slo.absent else [])


def _side(b: Builder, metrics: Mapping[str, Metric], raw: dict[str, Any], path: JsonPath,
          types: Sequence[str]) -> Selection | None:
    name = raw["metric"]
    metric = metrics.get(name)
    if metric is None:
        b.error((*path, "metric"), f"SLI metric '{name}' is not defined in this spec",
                "use a metric of this service: " + (", ".join(
                    m.name for m in metrics.values() if m.type in types) or
                    f"(it has no {' or '.join(types)})"))
        return None
    if metric.type not in types:
        b.error((*path, "metric"), f"SLI metric '{name}' is a {metric.type}",
                "events SLIs count with counters; latency SLIs read a histogram"
                if types == ("counter",) else "a latency SLI reads a histogram's buckets")
        return None
    select = matchers.parse(b, metric, raw.get("select", {}), (*path, "select"))
    return Selection(name, select, metric.selector)


def _check_service(b: Builder) -> None:
    for key in b.data.get("alert_labels", {}):
        if key in ("slo", "slo_severity"):
            b.error(("alert_labels", key), f"alert label '{key}' is set by mcgen on SLO alerts",
                    "rename it", key=True)
    interval = b.data.get("defaults", {}).get("interval")
    if interval:
        every = b.duration(interval, ("defaults", "interval"))
        if every > burnrate.BASE_WINDOW:
            b.error(("defaults", "interval"), f"rules evaluated every {every} would sample "
                    f"the {burnrate.BASE_WINDOW} SLO error rates with gaps",
                    f"use an interval of at most {burnrate.BASE_WINDOW} in a spec with SLOs")
