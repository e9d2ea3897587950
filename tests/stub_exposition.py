"""Shared by the stub tests of every language: the label combinations a driver records,
and the comparison of a scraped text exposition with the spec."""

from __future__ import annotations

import itertools
import subprocess
from collections.abc import Iterator

from prometheus_client.parser import text_string_to_metric_families

from mcgen import promql
from mcgen.spec.model import Metric, Service

UNBOUNDED_VALUE = "made-up value"
_TYPES = {"counter": "counter", "gauge": "gauge", "histogram": "histogram",
          "summary": "summary"}


def combinations(metric: Metric) -> Iterator[dict[str, str]]:
    """Every combination of allowed label values (one made-up value for unbounded ones)."""
    choices = [lb.values if lb.values is not None else (UNBOUNDED_VALUE,)
               for lb in metric.labels]
    for combo in itertools.product(*choices):
        yield dict(zip(metric.label_names, combo, strict=True))


def family_name(metric: Metric) -> str:
    return metric.name.removesuffix("_total") if metric.type == "counter" else metric.name


def exposition_problems(text: str, svc: Service, bounds: str = "any") -> list[str]:
    """How a scraped exposition differs from the spec: names, types, help, label names,
    label values recorded, bucket bounds (`bounds` says how `le` must be spelled: "go"
    as Go and JavaScript write it, "python", or "any")."""
    families = {f.name: f for f in text_string_to_metric_families(text)}
    out = []
    for metric in svc.metrics:
        fam = families.get(family_name(metric))
        if fam is None:
            out.append(f"{metric.name}: not exposed")
            continue
        if fam.type != _TYPES[metric.type]:
            out.append(f"{metric.name}: type {fam.type}, spec says {metric.type}")
        if fam.documentation != metric.help:
            out.append(f"{metric.name}: help {fam.documentation!r} != {metric.help!r}")
        seen = set()
        for sample in fam.samples:
            labels = {k: v for k, v in sample.labels.items() if k not in ("le", "quantile")}
            if set(labels) != set(metric.label_names):
                out.append(f"{metric.name}: sample labels {sorted(labels)}")
            seen.add(tuple(sorted(labels.items())))
        wanted = {tuple(sorted(c.items())) for c in combinations(metric)}
        if seen != wanted:
            out.append(f"{metric.name}: label values {sorted(seen ^ wanted)[:3]} differ")
        if metric.type == "histogram":
            les = sorted({s.labels["le"] for s in fam.samples if s.name.endswith("_bucket")},
                         key=lambda v: float(v))
            spelled = [promql.go_float(b) if bounds == "go" else
                       promql.python_client_float(b) for b in metric.buckets] + ["+Inf"]
            if bounds == "any":
                ok = [float(v) for v in les] == [*metric.buckets, float("inf")]
            else:
                ok = les == spelled
            if not ok:
                out.append(f"{metric.name}: buckets {les}, spec {spelled}")
    return out


def promtool_findings(promtool: str, text: str) -> str:
    """`promtool check metrics` on the exposition: its findings, or '' when clean."""
    proc = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                          text=True, check=False)
    findings = (proc.stdout + proc.stderr).strip()
    return findings if proc.returncode != 0 or findings else ""
