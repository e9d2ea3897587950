"""Panel titles, descriptions, units and runbook links. A title says in words what a
panel shows, from the metric's `help` (its first sentence, without asides in parentheses
or a trailing `, by ...`), cut at a word to at most MAX_TITLE characters with what
matters kept whole (`: P50 / P95 / P99`, an alert's name); the description holds the full
help, the metric's name and the panel's PromQL, so a reader sees exactly what is queried.
A panel that draws an alert links to its runbook: the URL the alert's runbook_url
annotation holds (mcgen/conventions.py)."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from mcgen import conventions, promql
from mcgen.dashboards.model import Link
from mcgen.spec import names
from mcgen.spec.model import Alert, Metric, Service
from mcgen.text import markdown

MAX_TITLE = 70
UNITS = {"seconds": "s", "bytes": "bytes", "ratio": "percentunit", "percent": "percent"}
ELLIPSIS = "\u2026"
_ASIDE = re.compile(r"\s*\([^()]*\)")
_SENTENCE = re.compile(r"(?<=[a-z0-9)])\.\s")


def fit(text: str, limit: int = MAX_TITLE) -> str:
    """`text` on one line, cut at a word (with an ellipsis) to `limit` characters."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit - 1]
    if " " in cut[limit // 2:]:
        cut = cut[:cut.rindex(" ")]
    return cut.rstrip(" ,;:-") + ELLIPSIS


def subject(help_text: str, fallback: str) -> str:
    """`Duration of one coordinator tick (one reconcile loop iteration), by coordinator.`
    -> `Duration of one coordinator tick`."""
    first = _SENTENCE.split(" ".join(help_text.split()), maxsplit=1)[0]
    short = _ASIDE.sub("", first).rstrip(" .;:,")
    tail = short.lower().rfind(", by ")
    short = short[:tail] if tail > 0 else short
    return short.rstrip(" .;:,") or fallback


def title(head: str, tail: str = "") -> str:
    """`head: tail` within MAX_TITLE: the tail is kept whole, the head cut to fit."""
    if not tail:
        return fit(head)
    room = MAX_TITLE - len(tail) - 2
    if room < 12:  # a tail that long is cut itself
        return fit(f"{head}: {tail}")
    return f"{fit(head, room)}: {tail}"


def describe(text: str, metric: str | None, exprs: Sequence[str]) -> str:
    """The panel's description: `text`, the metric it shows and its PromQL (Markdown, as
    Grafana renders descriptions)."""
    parts = [text.strip()] if text.strip() else []
    if metric:
        parts.append(f"Metric {markdown.inline(metric, code=True)}.")
    if exprs:
        parts.append("PromQL:\n\n" + "\n".join(
            markdown.fence(e, "promql").rstrip("\n") for e in exprs))
    return "\n\n".join(parts)


def runbooks(svc: Service, alerts: Sequence[str]) -> tuple[Link, ...]:
    """Links to the runbooks of these alerts: the URL their rules' runbook_url holds."""
    if not svc.runbook_base_url:
        return ()
    base = svc.runbook_base_url
    return tuple(Link(f"Runbook: {a}", conventions.runbook_url(base, a))
                 for a in dict.fromkeys(alerts))


def unit(metric: Metric) -> str:
    return UNITS.get(metric.unit or "", "short")


def rate_unit(metric: Metric) -> str:
    return "Bps" if metric.unit == "bytes" else "ops"


def alert_unit(alert: Alert, metric: Metric) -> str:
    if alert.kind == "stale":
        return "s"
    if alert.kind == "ratio":
        return "percentunit"
    return rate_unit(metric) if alert.kind == "rate" else unit(metric)


def alert_words(alert: Alert, metric: Metric) -> str:
    """What the alert evaluates, in a few words."""
    what = subject(metric.help, metric.name)
    if alert.kind == "quantile":
        return f"{names.quantile_name(alert.quantile or 0)} of {what}"
    if alert.kind == "rate":
        return f"rate of {what}{' observations' if metric.type == 'histogram' else ''}"
    if alert.kind == "ratio":
        return f"share of {what}"
    if alert.kind == "stale":
        return f"age of {what}"
    return what


_BINARY = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def amount(alert: Alert, metric: Metric, value: float) -> str:
    """A threshold as a title shows it, in the unit the panel shows values in: `500 MiB`
    rather than `524288000 bytes`, `10ms` rather than `0.01s`."""
    if alert.kind in ("quantile", "value") and metric.unit == "bytes" and value >= 1024:
        power = min(int(math.log(value, 1024)), len(_BINARY) - 1)
        return f"{promql.number(round(value / 1024 ** power, 3))} {_BINARY[power]}"
    if alert.kind in ("quantile", "value") and metric.unit == "seconds" and 0 < value < 1:
        return f"{promql.number(round(value * 1000, 6))}ms"
    return names.amount(alert, metric, value)
