"""`mcgen init --from-metrics`, part 2: metric families -> spec metrics.

Each metric family of the exposition becomes a spec metric (name, type, help, labels with
the values seen, buckets, quantiles, unit, group), or is skipped with a reason: other
libraries' runtime metrics (`go_*`, `process_*`, ...; kept with `--include-runtime`),
prometheus_client's `*_created` timestamps, and whatever the spec forbids (invalid names,
counters without `_total`, gauges with it).

An exporter's exposition (node_exporter, Prometheus itself, ...: `third_party` says how it
is recognised, `--external` forces it) gives `external` metrics: their names stay as they
are (a counter without `_total`, untyped cumulative values taken as counters), and only
labels that name a fixed set of states keep the values seen: the others (devices, CPUs,
mount points, versions) differ from host to host, so they are left open (`null`).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from prometheus_client.metrics_core import Metric as Family

from mcgen.spec.model import TARGET_LABELS

RUNTIME_PREFIXES = ("go_", "process_", "promhttp_", "python_", "nodejs_", "jvm_",
                    "net_conntrack_")
# Base units (Prometheus naming practice); `unit` is set only when the name ends in one.
UNITS = ("seconds", "bytes", "ratio", "meters", "grams", "joules", "volts", "amperes",
         "celsius")
MAX_VALUES = 10  # more distinct values than this seen: the label is left unbounded (null)
# Status-code labels stay unbounded whatever was seen: new codes appear on bad days.
CODE_LABELS = ("code", "status_code", "http_code", "response_code", "http_status")
_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_DIRECT = ("counter", "gauge", "histogram", "summary")
# Labels whose values describe the host or the build, not a state: never pinned to the
# values of the one target scraped.
_VARYING = re.compile(r"(?i)(^|_)(version|goversion|revision|branch|build|commit|host|"
                      r"hostname|nodename|machine|release|sysname|domainname|kernel)($|_)")
# An exporter's labels that name one of a fixed set of states: they keep the values seen.
STATE_LABELS = ("mode", "state", "status", "type", "kind", "phase", "method", "result",
                "outcome", "reason", "direction", "operstate", "duplex", "collector",
                "event", "role", "quantile")
# Exporters and servers whose exposition is theirs, not the user's code.
_THIRD_PARTY = re.compile(r"[a-z0-9_]*_exporter_build_info|(prometheus|alertmanager|"
                          r"pushgateway|blackbox_exporter|cadvisor|grafana|thanos|loki|"
                          r"mimir|tempo|consul|etcd|coredns|kube_state_metrics|"
                          r"victoria_metrics|vm)_(build_info|version_info)")
# Untyped names that read as a current level rather than a running total.
_LEVEL_WORDS = re.compile(r"(?i)(^|_)(curr|current|currestab|forwarding|active|inuse|"
                          r"in_use|inflight|queue|size|limit|free|avail|available|used|"
                          r"temp|temperature|ratio|percent|up|info|state|last)($|_)")


@dataclass
class Entry:
    """One metric of the starter spec and what was observed about it."""

    spec: dict[str, Any]
    notes: list[str] = field(default_factory=list)  # comment lines above it
    values: dict[str, list[str]] = field(default_factory=dict)  # every label value seen
    buckets: dict[float, float] = field(default_factory=dict)  # le -> count, all series
    total: float = 0.0  # the sum of its samples at the scrape (0: nothing happened yet)
    info: bool = False  # an info metric (`*_info`, value 1): labels describe the target

    @property
    def name(self) -> str:
        return str(self.spec["name"])

    @property
    def type(self) -> str:
        return str(self.spec["type"])

    @property
    def labels(self) -> list[str]:
        return list(self.spec.get("labels", {}))


@dataclass
class Result:
    entries: list[Entry]
    skipped: list[str]  # "name: why"
    runtime: Counter[str]  # prefix -> metrics skipped
    created: int  # prometheus_client *_created series skipped
    external: str | None = None  # why the metrics are an exporter's, if they are
    left: list[Entry] = field(default_factory=list)  # an exporter's beyond the budget


def third_party(families: list[Family]) -> str | None:
    """Why the exposition is an exporter's or a server's (its build info), or None."""
    build = next((f.name for f in families if _THIRD_PARTY.fullmatch(f.name)), None)
    return f"it exposes {build}" if build else None


def convert(families: list[Family], counters: set[str], include_runtime: bool,
            external: bool = False) -> Result:
    """Families (from read.parse) -> entries; `counters` are the names of the
    exposition's counter TYPE lines; `external`: an exporter's metrics."""
    result = Result([], [], Counter(), 0)
    timed = {f.name for f in families if f.type in ("counter", "histogram", "summary")}
    seen: set[str] = set()
    for fam in families:
        if fam.type == "gauge" and fam.name.endswith("_created") and fam.name[:-8] in timed:
            result.created += 1  # prometheus_client's creation time of a counter/histogram
            continue
        prefix = next((p for p in RUNTIME_PREFIXES if fam.name.startswith(p)), None)
        if prefix and not include_runtime:
            result.runtime[prefix + "*"] += 1
            continue
        entry = _entry(fam, counters, external)
        if isinstance(entry, str):
            result.skipped.append(entry)
        elif entry.name in seen:
            result.skipped.append(f"{entry.name}: exposed twice; kept the first")
        else:
            seen.add(entry.name)
            result.entries.append(entry)
    _groups(result.entries)
    return result


def _entry(fam: Family, counters: set[str], external: bool) -> Entry | str:
    """The entry, or why the family is skipped."""
    notes = []
    mtype = fam.type
    name = fam.name
    if mtype == "counter":
        if name + "_total" in counters or name not in counters:
            name += "_total"
        elif not external:
            return (f"{name}: a counter whose name does not end in _total, which the spec "
                    f"requires; rename it to {name}_total in the code")
    elif mtype in ("untyped", "unknown", "info", "stateset"):
        cumulative = name.endswith("_total") or (
            external and fam.type in ("untyped", "unknown") and not _LEVEL_WORDS.search(name))
        mtype = "counter" if cumulative else "gauge"
        why = "untyped" if fam.type in ("untyped", "unknown") else f"an OpenMetrics {fam.type}"
        looks = " (its name reads as a running total)" if cumulative and external else ""
        notes.append(f"{why} in the exposition: taken as a {mtype}{looks}; check it")
    elif mtype not in _DIRECT:
        return f"{name}: type {fam.type} has no equivalent in the spec"
    if not _NAME.fullmatch(name):
        return f"{_safe(name)}: not a valid Prometheus metric name for the spec"
    if mtype != "counter" and name.endswith("_total") and not external:
        return f"{name}: a {mtype} ending in _total, which the spec keeps for counters"
    spec: dict[str, Any] = {"name": name, "type": mtype}
    if external:
        spec["external"] = True
    unit = next((u for u in UNITS if name.endswith(
        f"_{u}_total" if mtype == "counter" else f"_{u}")), None)
    help_text = fam.documentation.strip()
    if not help_text:
        help_text = f"TODO: what {name} measures"
        notes.append("no HELP in the exposition: write one")
    spec["help"] = help_text
    if unit:
        spec["unit"] = unit
    entry = Entry(spec, notes)
    entry.total = sum(s.value for s in fam.samples if not s.name.endswith("_created"))
    if mtype == "gauge" and name.endswith("_info"):
        entry.info = True
        notes.append("an info metric (value 1): its labels describe the target, so none "
                      "is pinned to the values seen")
    problem = _labels(entry, fam, external)
    if problem:
        return f"{name}: {problem}"
    if mtype == "histogram":
        problem = _buckets(entry, fam)
        if problem:
            return f"{name}: {problem}"
    if mtype == "summary":
        qs = sorted({float(s.labels["quantile"]) for s in fam.samples if "quantile" in s.labels})
        kept = [_num(q) for q in qs if 0 < q < 1]
        if len(kept) < len(qs):
            notes.append("quantiles 0 and 1 (min and max) are not quantiles the spec takes: "
                         "left out")
        if kept:
            spec["quantiles"] = kept
        else:
            notes.append("no quantiles exposed (count and sum only): its dashboard quantile "
                         "panels stay empty; prefer a histogram")
    return entry


def _labels(entry: Entry, fam: Family, external: bool) -> str | None:
    reserved = {"histogram": "le", "summary": "quantile"}.get(entry.type)
    values: dict[str, set[str]] = {}
    for sample in fam.samples:
        for label, value in sample.labels.items():
            if label != reserved:
                values.setdefault(label, set()).add(value)
    dropped = sorted(set(values) & set(TARGET_LABELS))
    if dropped:
        entry.notes.append(f"label(s) {', '.join(dropped)} dropped: Prometheus sets them from "
                           "the scrape target (and renames exported ones to exported_*)")
    labels: dict[str, list[str] | None] = {}
    for label in sorted(set(values) - set(TARGET_LABELS)):
        if not _LABEL.fullmatch(label) or label.startswith("__"):
            return f"label {_safe(label)} is not a valid label name for the spec"
        seen = sorted(v for v in values[label] if v)
        if not seen:
            entry.notes.append(f"label {label} is always empty, i.e. absent: left out")
            continue
        entry.values[label] = seen
        open_ = len(seen) > MAX_VALUES or label in CODE_LABELS or entry.info or \
            bool(_VARYING.search(label)) or (external and label not in STATE_LABELS)
        labels[label] = None if open_ else seen
    if labels:
        entry.spec["labels"] = labels
        if any(v is not None for v in labels.values()):
            entry.notes.append(f"allowed values are the ones seen (null: more than "
                               f"{MAX_VALUES}, status codes, or values that differ from "
                               "target to target); complete them")
    return None


def _buckets(entry: Entry, fam: Family) -> str | None:
    counts: dict[float, float] = {}
    for sample in fam.samples:
        if sample.name.endswith("_bucket") and "le" in sample.labels:
            try:
                le = float(sample.labels["le"])
            except ValueError:
                return f"bucket bound le={_safe(sample.labels['le'])} is not a number"
            counts[le] = counts.get(le, 0.0) + sample.value
    bounds = sorted(b for b in counts if math.isfinite(b))
    if any(b <= 0 for b in bounds):
        entry.notes.append("bounds at or below 0 left out (the spec's buckets are > 0)")
    bounds = [b for b in bounds if b > 0]
    if not bounds:
        return "a histogram with no samples (or no finite bucket bounds), so no buckets; " \
            "record a value and read its /metrics again"
    entry.spec["buckets"] = [_num(b) for b in bounds]
    entry.buckets = {b: counts[b] for b in [*bounds, *(b for b in counts if math.isinf(b))]}
    return None


def _groups(entries: list[Entry]) -> None:
    """`group` = the name's second word, where two metrics or more share its first two
    words; the rest go to `other` (dashboard rows and docs sections)."""
    def key(e: Entry) -> tuple[str, ...]:
        return tuple(e.name.split("_")[:2]) if e.name.count("_") >= 2 else ()
    shared = Counter(key(e) for e in entries if key(e))
    if not any(n >= 2 for n in shared.values()):
        return
    for e in entries:
        e.spec["group"] = key(e)[1] if shared.get(key(e), 0) >= 2 else "other"


def service_name(entries: list[Entry]) -> str | None:
    """The first word every metric shares, when it is a valid service name."""
    words = Counter(e.name.split("_")[0] for e in entries)
    if len(words) == 1:
        word = next(iter(words))
        if re.fullmatch(r"[a-z][a-z0-9]*", word):
            return word
    return None


def prefixes(entries: list[Entry]) -> str:
    words = Counter(e.name.split("_")[0] for e in entries)
    return ", ".join(f"{w}_ ({n})" for w, n in words.most_common(5))


def _num(value: float) -> float | int:
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


def _safe(text: str) -> str:
    """A name from the exposition, quoted and on one line, for a YAML comment."""
    return repr(text).replace("\n", "\\n")[:80]
