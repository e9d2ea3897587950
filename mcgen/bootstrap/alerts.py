"""`mcgen init --from-metrics`, part 3: alert suggestions for the obvious candidates, which
the starter spec carries as comments that validate once uncommented.

- a latency histogram (unit seconds): P95 above a bucket bound, the one after the bound
  that held 95% of what was observed at the scrape (the middle bound if nothing was);
- a counter with a label whose values say error (error, failed, 5xx, ...; any 5xx for a
  status-code label): the ratio of those to all its events;
- a counter whose name says error or failure: its ratio to the counter of all attempts
  when the exposition has one (`x_failed_total` / `x_total`), else its rate;
- a gauge holding a Unix time (`*_timestamp_seconds`): stale after an hour;
- the metrics of an exporter a preset covers (templates/presets/): the preset's alerts,
  where the exposition has every metric they read (CPU busy, memory and disk low on
  node_exporter's).

Nothing is suggested on a histogram that observed nothing yet, or an exporter's error
counter that is still 0 (a feature the target does not use). Alert names start with the
service's name in CamelCase, so that two services' alerts never share a name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

from mcgen.bootstrap import presets
from mcgen.bootstrap.convert import CODE_LABELS, Entry
from mcgen.spec import names

_ERROR_WORD = re.compile(r"errors?|fail|failed|failures?|5xx")
_ERROR_VALUE = re.compile(r"(?i)errors?|err|fail|failed|failures?|5xx|5\d\d")
_RESERVED = ("alertname", "severity", "service")  # labels mcgen sets on every alert
# Seconds that are not how long something took.
_NOT_LATENCY = {"range", "age", "timestamp", "ttl", "interval", "window", "period", "uptime"}
RATIO_ABOVE = 0.05  # more than 5% of events fail
RATE_ABOVE = 0.1  # errors per second


@dataclass(frozen=True)
class Suggestion:
    alert: dict[str, Any]
    why: str  # one comment line


def suggest(entries: list[Entry], service: str) -> dict[str, list[Suggestion]]:
    """Metric name -> its suggestions, with alert names unique in the service."""
    index = {e.name: e for e in entries}
    used: set[str] = set()
    out: dict[str, list[Suggestion]] = {}
    known = _preset_alerts(index)
    for entry in entries:
        if entry.name in known:
            out[entry.name] = [Suggestion({**a, "alert": _unique(a["alert"], used)}, why)
                               for a, why in known[entry.name]]
            continue
        found = _latency(entry) if entry.type == "histogram" else \
            _errors(entry, index) if entry.type == "counter" else \
            _stale(entry) if entry.type == "gauge" else None
        if found is None:
            continue
        name = _unique(_prefixed(service, f"{_stem(entry.name)}{found.alert['alert']}"), used)
        out[entry.name] = [Suggestion({"alert": name, **{
            k: v for k, v in found.alert.items() if k != "alert"}}, found.why)]
    return out


def _prefixed(service: str, name: str) -> str:
    prefix = names.camel(service)
    return name if name.startswith(prefix) else prefix + name


def _preset_alerts(index: dict[str, Entry]) -> dict[str, list[tuple[dict[str, Any], str]]]:
    """The presets' alerts on metrics the exposition has (with every metric they read and
    every label they name), as written there but for their texts (the default ones name
    what they measure)."""
    out: dict[str, list[tuple[dict[str, Any], str]]] = {}
    for preset in presets.names():
        doc = yaml.safe_load(presets.text(preset))
        for metric in doc["metrics"]:
            entry = index.get(metric["name"])
            if entry is None or entry.type != metric["type"]:
                continue
            for alert in metric.get("alerts", ()):
                ratio = alert.get("ratio_to", {})
                den = index.get(ratio.get("metric", entry.name))
                own = {*alert.get("by", ()), *alert.get("select", {})} - {"instance", "job"}
                theirs = set(ratio.get("select", {})) - {"instance", "job"}
                if den is None or not (own <= set(entry.labels) and theirs <= set(den.labels)):
                    continue
                kept = {k: v for k, v in alert.items() if k not in ("summary", "description")}
                out.setdefault(entry.name, []).append(
                    (kept, f"from `mcgen init --preset {preset}`: {alert['alert']}"))
    return out


def _stale(entry: Entry) -> Suggestion | None:
    """A gauge holding a Unix time that should move: stale after an hour."""
    words = entry.name.split("_")
    if entry.spec.get("unit") != "seconds" or "timestamp" not in words or entry.info:
        return None
    return Suggestion(_by(entry, {"alert": "Stale", "stale_after": "1h"}, entry.labels),
                      "a Unix time: fires when it has not moved for an hour; set how often "
                      "it should")


def _latency(entry: Entry) -> Suggestion | None:
    bounds = list(entry.spec["buckets"])
    usable = bounds[:-1]  # a P95 never exceeds the largest bound
    words = set(entry.name.split("_"))
    if entry.spec.get("unit") != "seconds" or not usable or words & _NOT_LATENCY:
        return None
    finite = sorted(b for b in entry.buckets if b != float("inf"))
    total = entry.buckets.get(float("inf"), max(entry.buckets.values(), default=0.0))
    p95 = next((b for b in finite if total and entry.buckets[b] >= 0.95 * total), None)
    if not total:
        return None  # nothing observed yet: no latency to set a threshold from
    if p95 is None:
        threshold = usable[-1]
        why = (f"over 5% of what was observed took more than {finite[-1]:g}s, the largest "
               "bound: add larger buckets")
    else:
        at = next((i for i, b in enumerate(bounds) if b >= p95), len(bounds) - 1)
        if at + 1 < len(usable):
            threshold = usable[at + 1]
            why = (f"95% of what was observed took <= {p95:g}s: threshold at the next "
                   "bucket bound; set it from your SLO")
        else:
            threshold = usable[-1]
            why = (f"95% of what was observed took up to {p95:g}s, near the largest bound: "
                   "this threshold would fire now; add larger buckets or set it from your SLO")
    return Suggestion(_by(entry, {"alert": "Slow", "quantile": 0.95, "above": threshold},
                          entry.labels), why)


def _errors(entry: Entry, index: dict[str, Entry]) -> Suggestion | None:
    if entry.spec.get("external") and not entry.total:
        return None  # an exporter's feature this target does not use
    for label in entry.labels:
        if label in _RESERVED:
            continue
        bad = [v for v in entry.values.get(label, []) if _ERROR_VALUE.fullmatch(v)]
        open_ = entry.spec["labels"][label] is None
        if label in CODE_LABELS and open_:
            select: Any = "~5.."
        elif bad and not open_:
            select = bad[0] if len(bad) == 1 else bad
        else:
            continue
        alert = {"alert": "ErrorRatioHigh", "ratio_to": {"metric": entry.name},
                 "select": {label: select}, "above": RATIO_ABOVE}
        others = [lb for lb in entry.labels if lb != label]
        return Suggestion(_by(entry, alert, others),
                          f"share of events with an error {label}; above 5% fires")
    words = entry.name.removesuffix("_total").split("_")
    if not any(_ERROR_WORD.fullmatch(w) for w in words) and \
            not any(_ERROR_WORD.search(lb) for lb in entry.labels):
        return None
    for i, word in enumerate(words):
        total = index.get("_".join(words[:i] + words[i + 1:]) + "_total")
        if _ERROR_WORD.fullmatch(word) and total is not None and total.type == "counter" \
                and total is not entry:
            alert = {"alert": "RatioHigh", "ratio_to": {"metric": total.name},
                     "above": RATIO_ABOVE}
            common = [lb for lb in entry.labels if _shared(entry, total, lb)]
            return Suggestion(_by(entry, alert, common),
                              f"share of {total.name} events that fail; above 5% fires")
    return Suggestion(_by(entry, {"alert": "High", "rate": True, "above": RATE_ABOVE},
                          entry.labels), "errors per second; set the threshold you tolerate")


def _shared(num: Entry, den: Entry, label: str) -> bool:
    """Both declare the label, with a common allowed value (or unbounded)."""
    if label not in den.labels:
        return False
    mine, theirs = num.spec["labels"][label], den.spec["labels"][label]
    return mine is None or theirs is None or bool(set(mine) & set(theirs))


def _by(entry: Entry, alert: dict[str, Any], labels: list[str]) -> dict[str, Any]:
    """`by` given only when it is not the default (every declared label)."""
    by = [lb for lb in labels if lb not in _RESERVED]
    if by != entry.labels:
        alert["by"] = by
    return alert


def _stem(name: str) -> str:
    """CamelCase of the metric name without its first word, `_total` and unit."""
    words = [w for w in name.removesuffix("_total").split("_") if w]
    if words and words[-1] in ("seconds", "bytes", "ratio"):
        words = words[:-1]
    if len(words) > 1:
        words = words[1:]
    stem = names.camel("_".join(words))
    return stem if stem[:1].isalpha() else f"Metric{stem}"


def _unique(name: str, used: set[str]) -> str:
    candidate, n = name, 2
    while candidate in used:
        candidate, n = f"{name}{n}", n + 1
    used.add(candidate)
    return candidate
