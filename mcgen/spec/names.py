"""What a spec gets when it leaves a name or a text out, and the names made from its names:
camel case, dashboard uids, SLO alert names, quantile names (P95), and an alert's default
summary and description (what it measures, its thresholds for people, how its $value
prints)."""

from __future__ import annotations

import hashlib
import re

from mcgen import promql
from mcgen.promql import gotemplate
from mcgen.spec.model import Alert, Metric


def slo_alert_name(service: str, slo: str) -> str:
    return f"{camel(service)}{camel(slo)}ErrorBudgetBurn"


def slo_absent_alert_name(service: str, slo: str) -> str:
    return f"{camel(service)}{camel(slo)}SLIAbsent"


def camel(text: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", text))


def dashboard_uid(service: str) -> str:
    """Stable and at most 40 characters, whatever the service name's length."""
    uid = f"mcgen-{service}".replace("_", "-")
    if len(uid) <= 40:
        return uid
    digest = hashlib.sha256(service.encode()).hexdigest()[:8]
    return f"{uid[:31]}-{digest}"


def quantile_name(q: float) -> str:
    """0.95 -> P95, 0.999 -> P99.9."""
    return f"P{round(q * 100, 6):g}"


_UNIT_SUFFIX = {"seconds": "s", "bytes": " bytes", "ratio": "", "percent": "%"}


def _unit(metric: Metric, alert: Alert) -> str:
    if alert.kind == "rate":
        return "/s"
    if metric.unit is None:
        return ""
    return _UNIT_SUFFIX.get(metric.unit, f" {metric.unit}")


def _number(value: float) -> str:
    """Plain digits for people: 104857600, not 1.04858e+08."""
    return promql.number(value)


def quantity(alert: Alert, metric: Metric) -> str:
    """What the alert measures, in words."""
    if alert.kind == "quantile":
        return f"{quantile_name(alert.quantile or 0)} of {metric.name}"
    if alert.kind == "rate":
        suffix = " observations" if metric.type == "histogram" else ""
        return f"rate of {metric.name}{suffix}"
    if alert.kind == "ratio":
        return f"ratio of {metric.name} to {alert.ratio_metric}"
    return metric.name


def value_format(alert: Alert, metric: Metric) -> str:
    """The Go template pipeline that prints this alert's $value."""
    if alert.kind == "stale":
        return "{{ $value | humanizeDuration }}"
    if alert.kind == "ratio" or metric.unit == "ratio":
        return "{{ $value | humanizePercentage }}"
    return "{{ $value | humanize }}" + _unit(metric, alert)


def _series(alert: Alert) -> str:
    if not alert.by or alert.kind == "absent":
        return ""
    return " for " + ", ".join(f"{lb}={{{{ $labels.{lb} }}}}" for lb in alert.by)


def amount(alert: Alert, metric: Metric, value: float) -> str:
    """A threshold of this alert for people: `10s`, `0.1/s`, `10%` for a ratio alert."""
    if alert.kind == "ratio":
        return f"{promql.number(round(value * 100, 10))}%"
    return _number(value) + _unit(metric, alert)


def _measured(alert: Alert, metric: Metric) -> str:
    """What the alert measures with the series its `select`s keep (`ratio of
    x{code=~"5.."} to x`), as template text (a `{{` in a value stays literal)."""
    def shown(name: str, select: tuple[promql.Matcher, ...]) -> str:
        return gotemplate.literal(promql.selector(name, select) if select else name)
    own = shown(metric.name, alert.select)
    if alert.kind == "ratio":
        return f"ratio of {own} to {shown(alert.ratio_metric or '', alert.ratio_select)}"
    return quantity(alert, metric).replace(metric.name, own, 1)


def default_summary(alert: Alert, metric: Metric) -> str:
    if alert.kind == "absent":
        return f"{metric.name} is absent"
    if alert.kind == "stale":
        return f"{metric.name} not updated for more than {alert.stale_after}"
    limit = "its threshold" if alert.overrides else amount(alert, metric, alert.threshold or 0)
    return f"{_measured(alert, metric)} {alert.comparison_word} {limit}"


def default_description(alert: Alert, metric: Metric) -> str:
    if alert.kind == "absent":
        return f"No series of {metric.name} have been scraped for {alert.for_}."
    if alert.kind == "stale":
        return (f"{metric.name}{_series(alert)} was last updated "
                f"{value_format(alert, metric)} ago.")
    return f"{_measured(alert, metric)}{_series(alert)} is {value_format(alert, metric)}."


