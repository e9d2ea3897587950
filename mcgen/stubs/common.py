"""What every language's stub (SPEC 9) needs to know about a service, computed once: each
metric's identifier stem, unique within the service, and the quantiles a summary's
client computes.

User text (help, label values, sources) reaches code only through a language module's
quoting filters, never pasted raw into a template.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from mcgen.spec.model import Label, Metric, Service

# The class each client library names a metric type with (the same in all three).
CLIENT_CLASSES = {"counter": "Counter", "gauge": "Gauge", "histogram": "Histogram",
                  "summary": "Summary"}


@dataclass(frozen=True)
class MetricFacts:
    metric: Metric
    base: str  # snake_case identifier stem from the name, unique within the service

    @property
    def labels(self) -> tuple[Label, ...]:
        return self.metric.labels


def snake(name: str) -> str:
    """A metric name as an identifier stem: `api:req_total` -> `api_req_total`."""
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


def summary_quantiles(metric: Metric) -> tuple[float, ...]:
    """The quantiles a summary's client computes: the spec's `quantiles` and those its
    alerts read (dashboards and alerts query them). The Python client computes none."""
    if metric.type != "summary":
        return ()
    return tuple(sorted({*metric.quantiles, *(a.quantile for a in metric.alerts if a.quantile)}))


def facts(svc: Service) -> list[MetricFacts]:
    """Every metric of the service's own code (not `external`) with an identifier stem;
    names that would clash (`a:b` and `a_b`) get a numbered suffix, in spec order."""
    out, used = [], set()
    for metric in svc.metrics:
        if metric.external:
            continue  # an exporter's: its own code registers it
        base = snake(metric.name)
        stem, n = base, 2
        while base.lower() in used:
            base, n = f"{stem}_{n}", n + 1
        used.add(base.lower())
        out.append(MetricFacts(metric, base))
    return out


def unique(names: Iterable[str], reserved: set[str], fix: Callable[[str], str]) -> list[str]:
    """Identifiers for `names`, each passed through `fix` and suffixed with `_` until it is
    neither reserved nor taken."""
    out: list[str] = []
    for name in names:
        ident = fix(name)
        while ident in reserved or ident in out:
            ident += "_"
        out.append(ident)
    return out
