"""Checks of one alert that its building calls (mcgen/spec/semantics.py): labels it may not
set or overwrite, thresholds that are not finite or that it can never cross (or always
crosses), and annotation templates outside the subset mcgen can prove."""

from __future__ import annotations

import math
from typing import Any

from mcgen.errors import shorten
from mcgen.promql import gotemplate
from mcgen.spec import names
from mcgen.spec.builder import Builder
from mcgen.spec.load import JsonPath
from mcgen.spec.model import Alert, Metric

RESERVED = ("alertname", "severity", "service")  # labels every alert gets from mcgen


def labels(b: Builder, alert: Alert, at: Any) -> None:
    """The rule's labels would overwrite series labels of the same name: different
    series would become one label set and the rule would fail to evaluate."""
    for key, _ in alert.labels:
        if key in RESERVED or key.startswith("__"):
            b.error((*at("labels"), key), f"alert label '{key}' is set by mcgen",
                    "remove it (severity has its own key)", key=True)
    carried = alert.carried
    spec_labels = {k for k, _ in b.data.get("alert_labels", {}).items()}
    for label in carried:
        if label in RESERVED:
            b.error(at("by") if alert.kind != "absent" else at("select"),
                    f"the alert's series label '{label}' would be overwritten by the "
                    f"'{label}' label mcgen sets", "rename the metric's label")
        elif label in dict(alert.labels):
            b.error((*at("labels"), label), f"alert label '{label}' would overwrite the "
                    "series label of the same name", "rename it or drop it from 'by'",
                    key=True)
        elif label in spec_labels:
            b.error(at("by") if alert.kind != "absent" else at("select"),
                    f"alert_labels sets '{label}', which would overwrite the series "
                    f"label of the same name", "rename one of them")


def finite(b: Builder, value: float, path: JsonPath) -> bool:
    if math.isfinite(value):
        return True
    word = str(path[-1]) if path else "value"
    b.error(path, f"'{word}' must be a finite number, not {value}",
            "write a plain number in the metric's unit")
    return False


def feasible(b: Builder, metric: Metric, alert: Alert, t: float, path: JsonPath) -> None:
    """Reject thresholds an alert can never cross, or always crosses."""
    word = alert.comparison_word
    if alert.kind == "quantile" and metric.type == "histogram" and metric.buckets:
        q = alert.quantile or 0
        low, high = q * metric.buckets[0], metric.buckets[-1]
        name = names.quantile_name(q)
        if t >= high:
            b.error(path, f"{word} {t:g} is at or beyond the largest bucket {high:g}; "
                    f"{name} estimates never exceed it",
                    f"add a bucket above {t:g} or lower the threshold")
        elif t <= low:
            b.error(path, f"{word} {t:g} is not above {low:g}, the smallest {name} "
                    f"these buckets can estimate ({q:g} x first bucket), so any "
                    "traffic decides it", f"add a bucket at or below {t:g}")
    rates = alert.kind == "rate" or (alert.kind == "ratio" and metric.type == "counter")
    if rates and (t < 0 or (t == 0 and alert.op == "<")):
        outcome = "always fires" if alert.op == ">" else "can never fire"
        b.error(path, f"{word} {t:g} {outcome}: a {alert.kind} is never negative",
                "use a threshold of 0 or more" if alert.op == ">" else
                "use a threshold above 0")


def template(b: Builder, alert: Alert, text: str, path: JsonPath) -> None:
    try:
        tmpl = gotemplate.parse(text)
    except gotemplate.TemplateProblem as exc:
        b.error(path, f"{path[-1]}: {shorten(exc.what, 80)[1:-1]} is not supported in "
                "annotation templates", "use {{ $labels.NAME }} and {{ $value }} with "
                "humanize, humanizePercentage, humanizeDuration or printf")
        return
    carried = set(alert.carried)
    for name in sorted(tmpl.label_refs() - carried):
        b.error(path, f"template uses $labels.{name}, but the alert's series carry no "
                f"label '{name}'", "use one of: " + (", ".join(sorted(carried)) or
                                                "(none; this alert has no series labels)"))
