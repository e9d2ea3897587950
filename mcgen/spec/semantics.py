"""Checks a schema cannot express, and the building of the resolved model.

`build` turns schema-valid documents into a `Model`, collecting every problem of the
run (it never stops at the first). Each problem points at the node that causes it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

from mcgen.errors import Position, SpecProblem
from mcgen.promql import Duration
from mcgen.spec import alertchecks, bounds, matchers, names, routing
from mcgen.spec import slos as slo_spec
from mcgen.spec.builder import Builder
from mcgen.spec.load import JsonPath
from mcgen.spec.model import (
    TARGET_LABELS,
    Alert,
    Dashboard,
    Label,
    LintSettings,
    Metric,
    Override,
    Service,
    Slo,
)

KINDS = ("quantile", "rate", "ratio_to", "value", "stale_after", "absent_for")
_KIND = {"quantile": "quantile", "rate": "rate", "ratio_to": "ratio", "value": "value",
         "stale_after": "stale", "absent_for": "absent"}
_FITS = {"quantile": ("histogram", "summary"), "rate": ("counter", "histogram"),
         "ratio_to": ("counter", "gauge"), "value": ("gauge",), "stale_after": ("gauge",),
         "absent_for": ("counter", "gauge", "histogram", "summary")}
DEFAULT_QUANTILES = (0.5, 0.95, 0.99)


class ServiceBuilder(Builder):
    """Builds one service from one document, for one environment: its metrics, labels,
    alerts and SLOs (mcgen/spec/slos.py), each checked where the schema cannot."""

    # -- service -------------------------------------------------------------------
    def service(self) -> Service:
        d = self.data
        interval = d.get("defaults", {}).get("interval")
        board = d.get("dashboard", {})
        name: str = d["service"]
        self.service_selector = matchers.selector(self, d.get("selector", {}), ("selector",))
        metrics = tuple(self.metric(m, ("metrics", i)) for i, m in enumerate(d["metrics"]))
        labels = tuple(sorted(d.get("alert_labels", {}).items()))
        for key, _ in labels:
            if key in alertchecks.RESERVED or key.startswith("__"):
                self.error(("alert_labels", key), f"alert label '{key}' is set by mcgen",
                           "remove it (severity has its own key)", key=True)
        slos = slo_spec.build(self, {m.name: m for m in metrics})
        self.check_alert_names(metrics, slos)
        return Service(
            source=self.doc.source or self.doc.path, name=name,
            description=d.get("description"),
            alert_labels=labels, runbook_base_url=d.get("runbook_base_url"),
            interval=self.duration(interval, ("defaults", "interval")) if interval else None,
            scrape_interval=self.scrape, rate_window=self.window,
            dashboard=Dashboard(
                title=board.get("title", f"{name} metrics"),
                uid=board.get("uid", names.dashboard_uid(name)),
                folder=board.get("folder"), tags=tuple(board.get("tags", ())),
                refresh=board.get("refresh"), time_from=board.get("time_from", "now-6h"),
                pos=self.pos(("dashboard", "uid") if "uid" in board else ("service",))),
            metrics=metrics, slos=slos, environment=self.env, pos=self.pos(("service",)),
            environments=tuple(sorted(d.get("environments", {}))),
            lint=self.lint_settings(), selector=self.service_selector,
            routing=routing.build(self), metric_index={m.name: m for m in metrics},
        )

    def lint_settings(self) -> LintSettings:
        raw = self.data.get("lint", {})
        return LintSettings(
            series_budget=raw.get("series_budget"),
            metric_series_budget=raw.get("metric_series_budget"),
            disable=tuple((r, self.pos(("lint", "disable", i)))
                          for i, r in enumerate(raw.get("disable", ()))))

    def check_alert_names(self, metrics: Sequence[Metric], slos: Sequence[Slo]) -> None:
        seen: dict[str, Position] = {}
        named = [(a.name, a.pos) for m in metrics for a in m.alerts]
        named += [pair for s in slos for pair in slo_spec.alert_names(s)]
        for name, pos in named:
            if name in seen:
                self.problems.append(SpecProblem(
                    pos, f"alert name '{name}' is used twice in this service",
                    f"rename one of them (first use at line {seen[name].line})"))
            seen.setdefault(name, pos)

    # -- metrics -------------------------------------------------------------------
    def metric(self, m: dict[str, Any], path: JsonPath) -> Metric:
        name: str = m["name"]
        mtype: str = m["type"]
        external = bool(m.get("external", False))
        if not external:
            self.naming(m, path)
        unit = m.get("unit")
        labels = self.labels(m.get("labels", {}), mtype, (*path, "labels"))
        buckets = self.buckets(m, mtype, path)
        quantiles = m.get("quantiles")
        if quantiles is not None and mtype not in ("histogram", "summary"):
            self.error((*path, "quantiles"), f"a {mtype} has no quantiles",
                       "remove 'quantiles' (it is for histograms and summaries)", key=True)
        if "multiprocess_mode" in m and mtype != "gauge":
            self.error((*path, "multiprocess_mode"),
                       f"multiprocess_mode is for gauges, not {mtype}s",
                       "remove it", key=True)
        own: JsonPath = (*path, "selector") if "selector" in m else ("selector",)
        metric = Metric(
            name=name, type=mtype, help=m["help"], unit=unit, group=m.get("group"),
            source=m.get("source"), labels=labels, buckets=buckets,
            quantiles=tuple(sorted(set(quantiles or DEFAULT_QUANTILES))),
            multiprocess_mode=m.get("multiprocess_mode"), alerts=(), pos=self.pos(path),
            buckets_pos=self.pos((*path, "buckets")) if "buckets" in m else None,
            selector=matchers.selector(self, m["selector"], own) if "selector" in m
            else self.service_selector, service=self.data["service"], external=external)
        matchers.declared_in_selector(self, metric, own)
        alerts = tuple(
            a for i, raw in enumerate(m.get("alerts", ()))
            if (a := self.alert(metric, raw, (*path, "alerts", i))) is not None)
        return dataclasses.replace(metric, alerts=alerts)

    def naming(self, m: dict[str, Any], path: JsonPath) -> None:
        """The conventions of a metric whose name is ours (not an exporter's)."""
        name, mtype = m["name"], m["type"]
        if mtype == "counter" and not name.endswith("_total"):
            self.error((*path, "name"), f"counter '{name}' does not end in _total",
                       f"rename it to {name}_total")
        if mtype != "counter" and name.endswith("_total"):
            self.error((*path, "name"), f"{mtype} '{name}' ends in _total, which is for counters",
                       "drop the _total suffix or make it a counter")
        unit = m.get("unit")
        if unit:
            want = f"_{unit}_total" if mtype == "counter" else f"_{unit}"
            if not name.endswith(want):
                self.error((*path, "name"), f"metric '{name}' has unit '{unit}' but does not "
                           f"end in {want}", f"rename it so it ends in {want}")

    def labels(self, raw: dict[str, Any], mtype: str, path: JsonPath) -> tuple[Label, ...]:
        out = []
        for name, values in raw.items():
            if name.startswith("__"):
                self.error((*path, name), f"label '{name}' starts with __, which is reserved",
                           "rename it", key=True)
            if name in TARGET_LABELS:
                self.error((*path, name), f"label '{name}' is set by Prometheus from the scrape "
                           "target", "rename it (an exported one would become exported_"
                           f"{name})", key=True)
            if name == matchers.RESERVED.get(mtype):
                self.error((*path, name), f"label '{name}' is reserved on a {mtype}",
                           f"rename it; the client library sets '{name}' itself", key=True)
            if values is not None and "" in values:
                self.error((*path, name), f"label '{name}' allows the empty value",
                           "remove it: to Prometheus an empty value means no label at all")
            if values is not None and len(set(values)) != len(values):
                self.error((*path, name), f"label '{name}' lists an allowed value twice",
                           "remove the repeat")
            out.append(Label(name, None if values is None else tuple(values),
                             self.pos((*path, name), key=True)))
        return tuple(out)

    def buckets(self, m: dict[str, Any], mtype: str, path: JsonPath) -> tuple[float, ...]:
        raw = m.get("buckets")
        if raw is None:
            if mtype == "histogram":
                self.error(path, f"histogram '{m['name']}' has no buckets",
                           "add buckets: [..] covering its thresholds")
            return ()
        if mtype != "histogram":
            self.error((*path, "buckets"), f"a {mtype} has no buckets",
                       "remove 'buckets' (it is for histograms)", key=True)
            return ()
        for i, b in enumerate(raw):
            if not math.isfinite(b):
                self.error((*path, "buckets", i), f"bucket {b} is not a finite number",
                           "use bounds above 0 (+Inf is added by the client)")
                return ()
            if b <= 0:
                self.error((*path, "buckets", i), f"bucket {b:g} is not positive",
                           "use bounds above 0 (+Inf is added by the client)")
            if i and b <= raw[i - 1]:
                self.error((*path, "buckets", i), f"buckets must increase ({b:g} after "
                           f"{raw[i - 1]:g})", "sort them and remove repeats")
        return tuple(float(b) for b in raw)

    # -- alerts --------------------------------------------------------------------
    def alert(self, metric: Metric, raw: dict[str, Any], path: JsonPath) -> Alert | None:
        raw, origin = self.with_environment(raw, path)

        def at(key: str) -> JsonPath:
            return origin.get(key, (*path, key))

        kinds = [k for k in KINDS if k in raw]
        name: str = raw["alert"]
        if len(kinds) != 1:
            what = "no kind" if not kinds else "several kinds (" + ", ".join(kinds) + ")"
            self.error(path, f"alert '{name}' has {what}",
                       "give exactly one of " + ", ".join(KINDS))
            return None
        kind = kinds[0]
        if metric.type not in _FITS[kind]:
            self.error(at(kind), f"'{kind}' does not fit {metric.type} '{metric.name}'",
                       f"'{kind}' works on: " + ", ".join(_FITS[kind]), key=True)
            return None
        comparisons = [k for k in ("above", "below") if k in raw]
        threshold = None
        if kind in ("stale_after", "absent_for"):
            for key in comparisons:
                self.error(at(key), f"'{kind}' alerts take no '{key}'",
                           "remove it; the duration is the condition", key=True)
        elif len(comparisons) != 1:
            self.error(path, f"alert '{name}' needs exactly one of above/below",
                       "write above: N (fires when > N) or below: N (fires when < N)")
            return None
        elif not alertchecks.finite(self, raw[comparisons[0]], at(comparisons[0])):
            return None
        else:
            threshold = float(raw[comparisons[0]])
        op = {"above": ">", "below": "<"}.get(comparisons[0]) if threshold is not None else None
        by = self.by(metric, raw, kind, at)
        select = matchers.parse(self, metric, raw.get("select", {}), at("select"))
        rated = kind == "rate" or (kind == "ratio_to" and metric.type == "counter") or (
            kind == "quantile" and metric.type == "histogram")
        if rated:
            matchers.recorded_clash(self, metric, select, at("select"))
        absent = self.duration(raw[kind], at(kind)) if kind == "absent_for" else None
        alert = Alert(
            name=name, kind=_KIND[kind], metric=metric.name, op=op, threshold=threshold,
            quantile=raw.get("quantile"),
            ratio_metric=raw["ratio_to"]["metric"] if kind == "ratio_to" else None,
            ratio_select=(), stale_after=self.duration(raw[kind], at(kind))
            if kind == "stale_after" else None,
            for_=absent or (self.duration(raw["for"], at("for")) if "for" in raw else self.for_),
            window=self.duration(raw["window"], at("window")) if "window" in raw else self.window,
            severity=raw.get("severity", self.severity), by=by, select=select,
            summary="", description="", labels=tuple(sorted(raw.get("labels", {}).items())),
            overrides=(), pos=self.pos(path),
            threshold_pos=self.pos(at(comparisons[0])) if threshold is not None else None,
            written=frozenset(raw))
        if rated and alert.window.ms < 2 * self.scrape.ms:
            where = at("window") if "window" in raw else ("defaults", "rate_window")
            self.error(where, f"window {alert.window} spans fewer than two scrapes "
                       f"(scrape_interval {self.scrape}), so rate() has nothing to compute",
                       f"use at least {Duration(2 * self.scrape.ms)} (4x the scrape interval "
                       "is safer), or set defaults.scrape_interval")
        if kind == "absent_for" and "for" in raw:
            self.error(at("for"), "an absent_for alert takes no 'for'",
                       "remove it; absent_for is its 'for'", key=True)
        bounds.alert(self, alert, raw, at)
        alert = dataclasses.replace(alert, overrides=self.overrides(metric, alert, raw, at))
        if kind in ("stale_after", "absent_for") and "overrides" in raw:
            self.error(at("overrides"), f"an {kind} alert takes no overrides",
                       f"remove 'overrides' ({kind} has no threshold)", key=True)
        alertchecks.labels(self, alert, at)
        summary_q = kind == "quantile" and metric.type == "summary"
        if summary_q and alert.quantile not in metric.quantiles:
            self.error(at("quantile"), f"summary '{metric.name}' exports no quantile "
                       f"{alert.quantile:g}", "use one of its quantiles: " +
                       ", ".join(f"{q:g}" for q in metric.quantiles))
        if threshold is not None:
            alertchecks.feasible(self, metric, alert, threshold, at(comparisons[0]))
        summary = raw.get("summary") or names.default_summary(alert, metric)
        description = raw.get("description") or names.default_description(alert, metric)
        for field_name, text in (("summary", summary), ("description", description)):
            alertchecks.template(self, alert, text, at(field_name))
        return dataclasses.replace(alert, summary=summary, description=description)

    def with_environment(self, raw: dict[str, Any], path: JsonPath
                         ) -> tuple[dict[str, Any], dict[str, JsonPath]]:
        """The alert with this run's environment overrides applied, and where each came from."""
        if self.env is None:
            return raw, {}
        env_path: JsonPath = ("environments", self.env, "alerts", raw["alert"])
        over = self.data.get("environments", {}).get(self.env, {}).get("alerts", {})
        changes = over.get(raw["alert"], {})
        merged = dict(raw)
        origin = {}
        for key, value in changes.items():
            if key in ("above", "below"):
                other = "below" if key == "above" else "above"
                kind = next((k for k in ("stale_after", "absent_for") if k in raw), None)
                if kind:
                    self.error((*env_path, key), f"environment sets '{key}' but alert "
                               f"'{raw['alert']}' is a {kind} alert, which takes no threshold",
                               "remove it", key=True)
                    continue
                if other in raw or ("above" not in raw and "below" not in raw):
                    self.error((*env_path, key), f"environment sets '{key}' but alert "
                               f"'{raw['alert']}' compares with '{other}'",
                               f"set '{other}' instead", key=True)
                    continue
            merged[key] = {**raw.get("labels", {}), **value} if key == "labels" else value
            origin[key] = (*env_path, key)
        return merged, origin

    def by(self, metric: Metric, raw: dict[str, Any], kind: str, at: Any) -> tuple[str, ...]:
        if kind == "absent_for":
            if "by" in raw:
                self.error(at("by"), "an absent_for alert takes no 'by'",
                           "remove it; the alert carries the equality labels of 'select'",
                           key=True)
            return ()
        kept = tuple(lb for lb in self.keep if lb not in raw.get("by", metric.label_names))
        if "by" not in raw:
            return (*metric.label_names, *kept)
        for i, lb in enumerate(raw["by"]):
            if lb.startswith("__") or lb == matchers.RESERVED.get(metric.type):
                self.error((*at("by"), i), f"'by' names label '{lb}', which is not a label of "
                           f"{metric.name}'s series to group by", "remove it; use declared "
                           "labels or target labels (job, instance, namespace, ...)")
        return (*raw["by"], *kept)

    def _override_paths(self, raw: dict[str, Any], at: Any) -> list[JsonPath]:
        return [(*at("overrides"), i) for i in range(len(raw.get("overrides", ())))]

    def overrides(self, metric: Metric, alert: Alert, raw: dict[str, Any], at: Any
                  ) -> tuple[Override, ...]:
        out = []
        if alert.op is None:
            return ()
        for path, o in zip(self._override_paths(raw, at), raw.get("overrides", ()), strict=True):
            key: str = alert.comparison_word
            other = "below" if key == "above" else "above"
            if other in o:
                self.error((*path, other), f"override sets '{other}' but alert '{alert.name}' "
                           f"compares with '{key}'", f"write {key}: N", key=True)
                continue
            if key not in o:
                self.error(path, f"override sets no '{key}' threshold", f"write {key}: N")
                continue
            for label in o["match"]:
                if label not in alert.by:
                    self.error((*path, "match", label), f"override matches on '{label}', which "
                               "is not among the alert's 'by' labels",
                               "add it to 'by' or match on a 'by' label", key=True)
            match = matchers.parse(self, metric, o["match"], (*path, "match"), "match")
            if alertchecks.finite(self, o[key], (*path, key)):
                alertchecks.feasible(self, metric, alert, float(o[key]), (*path, key))
            out.append(Override(match, float(o[key]), self.pos(path)))
        return tuple(out)
