"""Helpers shared by the spec rules: the services of a run, tunables from mcgen.toml."""

from __future__ import annotations

from mcgen.errors import UsageError
from mcgen.lint import Context
from mcgen.spec.model import Metric, Service

# Tunables of the spec rules, settable in mcgen.toml's [lint] table, with their defaults.
TUNABLES: dict[str, float] = {
    "min_buckets": 5,  # buckets/count: fewer finite bounds than this
    "max_buckets": 30,  # buckets/count: more finite bounds than this
    "max_bucket_ratio": 4,  # buckets/quantile-resolution: widest bucket at a threshold (hi/lo)
    "unbounded_label_values": 100,  # cardinality: values assumed for a label declared null
}


def services(ctx: Context) -> tuple[Service, ...]:
    return ctx.model.services if ctx.model is not None else ()


def own(svc: Service) -> list[Metric]:
    """The service's metrics whose names are its own: not an exporter's (`external`),
    which naming rules cannot ask anyone to rename."""
    return [m for m in svc.metrics if not m.external]


def tunable(ctx: Context, key: str) -> float:
    """A tunable from [lint] in mcgen.toml, else its default."""
    value = ctx.config.extra.get(key, TUNABLES[key])
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise UsageError(f"mcgen.toml: [lint] {key} must be a positive number, not {value!r}")
    return float(value)


def fmt(value: float) -> str:
    return f"{value:g}"
