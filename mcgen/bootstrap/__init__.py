"""The bootstrap: `mcgen init` writes a commented starter spec (starter.py); with
`--from-metrics FILE|URL` (this module), a starter spec from what a service already exposes.

Read a Prometheus text exposition (read.py), turn its families into spec metrics
(convert.py), add commented alert suggestions (alerts.py) and write it all as a
commented spec that validates. YAML goes through yamlout, so help texts and label
values from the exposition are quoted correctly whatever they hold; comments hold only
names the spec accepts, or text made one-line and printable.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcgen.bootstrap import alerts, convert, read, starter
from mcgen.errors import UsageError
from mcgen.text import yamlout

_HEADER = """\
# yaml-language-server: $schema={schema}
# (Editor completion and checking: write the schema once with `mcgen schema > mcgen.schema.json`
# at the repository root; there is no published URL yet.)
# Starter spec for the {service} service, written by `mcgen init --from-metrics` from
# {source}: its metrics as exposed at that moment. Review it: help texts, label values
# (the ones seen, not all the possible ones), buckets, units and groups; uncomment the
# suggested alerts you want (lines under "## Suggested") and set their thresholds.
# `mcgen validate` must pass as written; `mcgen lint` says what else to fix.
"""


@dataclass(frozen=True)
class Outcome:
    path: Path
    service: str
    metrics: int
    skipped: int
    suggestions: int
    left: int = 0  # an exporter's metrics beyond the budget, listed in a comment


def write(source: str, service: str | None, path: Path | None,
          include_runtime: bool = False, external: bool = False) -> Outcome:
    """Read `source`, write the starter spec (default specs/<service>.yaml)."""
    if service is not None:
        starter.check_service(service)
    if path is not None or service is not None:
        starter.target(service or "", path)  # fail before reading when it exists
    text = read.fetch(source)
    families = read.parse(text, source)
    why = "--external" if external else convert.third_party(families)
    result = convert.convert(families, read.counters_declared(text), include_runtime,
                             external=why is not None)
    result.external = why
    if not result.entries:
        runtime = sum(result.runtime.values())
        hint = "; rerun with --include-runtime to keep the runtime metrics" if runtime else ""
        raise UsageError(f"{source}: none of its {len(families)} metric families can go in a "
                         f"spec ({runtime} runtime, {len(result.skipped)} invalid){hint}")
    if service is None:
        service = convert.service_name(result.entries)
        if service is None:
            raise UsageError(f"{source}: the metric names share no first word "
                             f"({convert.prefixes(result.entries)}); "
                             "give the service's name with --service NAME")
    where = starter.target(service, path)
    suggestions = alerts.suggest(result.entries, service)
    if result.external:
        result.left = _beyond_budget(result, suggestions)
    body = render(result, suggestions, service, _one_line(source), starter.schema_ref(where))
    starter.save(where, body)
    return Outcome(where, service, len(result.entries),
                   len(result.skipped) + sum(result.runtime.values()) + result.created,
                   sum(len(s) for s in suggestions.values()), len(result.left))


EXPORTER_BUDGET = 50  # an exporter's metrics kept in its spec (dashboards stay readable)


def _beyond_budget(result: convert.Result, suggestions: dict[str, list[alerts.Suggestion]]
                   ) -> list[convert.Entry]:
    """An exporter exposes hundreds of metrics (node_exporter 1.5: 246); its spec keeps
    EXPORTER_BUDGET of them: every metric a suggested alert reads, then one metric of each
    group in turn, in exposition order, so that every subsystem is there. The rest is
    listed in a comment, to copy from. Returns them (and keeps the others in `result`)."""
    names = {e.name for e in result.entries}
    needed = {name for name, found in suggestions.items() for _ in found}
    needed |= {s.alert.get("ratio_to", {}).get("metric") for found in suggestions.values()
               for s in found} & names
    kept = {e.name for e in result.entries if e.name in needed}
    groups: dict[str, list[convert.Entry]] = {}
    for e in result.entries:
        if e.name not in kept:
            groups.setdefault(str(e.spec.get("group", "")), []).append(e)
    queues = list(groups.values())
    while len(kept) < EXPORTER_BUDGET and any(queues):
        for queue in queues:
            if queue and len(kept) < EXPORTER_BUDGET:
                kept.add(queue.pop(0).name)
    left = [e for e in result.entries if e.name not in kept]
    result.entries = [e for e in result.entries if e.name in kept]
    return left


def render(result: convert.Result,
           suggestions: dict[str, list[alerts.Suggestion]],
           service: str, source: str, schema: str) -> str:
    lines = _HEADER.format(schema=schema, service=service, source=source).splitlines()
    notes = []
    if result.external:
        notes.append(f"Every metric is marked external, as an exporter's ({result.external}): "
                     "its names are not yours to change, so naming conventions are not "
                     "enforced and no stub is generated. Set `selector` to the job that "
                     "scrapes it.")
    if result.runtime:
        counts = ", ".join(f"{p} {n}" for p, n in sorted(result.runtime.items()))
        notes.append(f"Skipped {sum(result.runtime.values())} runtime metrics of client "
                     f"libraries ({counts}): they describe the process, not {service}; "
                     "`--include-runtime` keeps them.")
    if result.created:
        notes.append(f"Skipped {result.created} *_created series: prometheus_client's "
                     "creation time of a counter, histogram or summary, not a metric of "
                     "its own.")
    notes += [f"Skipped {_one_line(why)}" for why in result.skipped]
    for note in notes:
        lines += _wrap(note, "# ")
    top = {"version": 1, "service": service,
           "description": f"What {service} does, in one line"}
    lines += yamlout.dump(top).splitlines()
    lines.append("")
    lines.append("metrics:")
    for entry in result.entries:
        for note in entry.notes:
            lines += _wrap(note, "  # ")
        lines += _metric_lines(entry.spec)
        for i, suggestion in enumerate(suggestions.get(entry.name, [])):
            lines += _wrap(f"Suggested: {suggestion.why}", "    ## ")
            lines += [f"    # {line}" for line in _alerts_yaml(suggestion.alert)[i > 0:]]
        lines.append("")
    if result.left:
        lines += _wrap(f"Also exposed, left out of the spec to keep it (and its dashboard) "
                       f"readable: {len(result.left)} more metrics. Copy the ones you want "
                       "from the exposition (`mcgen init --from-metrics` writes them all "
                       "for your own service's expositions):", "# ")
        lines += [f"#   {e.name} ({e.type}): {_one_line(str(e.spec['help']))[:80]}"
                  for e in result.left]
    return "\n".join(lines).rstrip("\n") + "\n"


def _wrap(text: str, lead: str) -> list[str]:
    """A comment of one or more lines, each within 92 columns where words allow."""
    return textwrap.wrap(_one_line(text), 92, initial_indent=lead,
                         subsequent_indent=lead + "  ", break_long_words=False,
                         break_on_hyphens=False)


def _metric_lines(spec: dict[str, Any]) -> list[str]:
    """The metric as a list item, its value lists in flow style (`[a, b]`) when they can."""
    head = {k: spec[k] for k in ("name", "type", "external", "help", "unit", "group")
            if k in spec}
    lines = yamlout.dump({"metrics": [head]}).splitlines()[1:]
    labels: dict[str, list[str] | None] = spec.get("labels", {})
    if labels:
        lines.append("    labels:")
    for label, values in labels.items():
        flow = "null" if values is None else yamlout.flow_list(values)
        if flow is None:
            lines += ["      " + line for line in yamlout.dump({label: values}).splitlines()]
        else:
            lines.append(f"      {yamlout.scalar(label)}: {flow}")
    for key in ("buckets", "quantiles"):
        if key in spec:
            lines.append(f"    {key}: {yamlout.flow_list(spec[key])}")
    return lines


def _alerts_yaml(alert: dict[str, Any]) -> list[str]:
    """`alerts:` with the one alert, its mappings and lists in flow style."""
    lines = ["alerts:"]
    for i, (key, value) in enumerate(alert.items()):
        lead = "  - " if i == 0 else "    "
        lines.append(f"{lead}{key}: {_flow(value)}")
    return lines


def _flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{yamlout.scalar(k)}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return yamlout.flow_list(value) or "[]"
    return (yamlout.flow_list([value]) or "[null]")[1:-1]


_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]")


def _one_line(text: str) -> str:
    """Text for a YAML comment: one line, nothing a reader would stumble over."""
    return _UNPRINTABLE.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
