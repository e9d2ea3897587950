"""What a dashboard is made of, as plain data: rows of panels with their queries, units and
alert thresholds (and the threshold steps Grafana colours them by), and the label
variables that filter them. panels.py and slopanels.py fill it in; layout.py lays it out
with Grafana's SDK."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# Colours of threshold steps, by alert severity; anything else is treated as a warning.
SEVERITY_COLORS = {"critical": "red", "warning": "orange", "info": "blue"}
OK_COLOR = "green"
_RANK = {"critical": 3, "warning": 2, "info": 1}


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str
    heatmap: bool = False


@dataclass(frozen=True)
class Limit:
    """One alert threshold: the panel's values `op` `value` fire at `severity`."""

    value: float
    op: str  # > or <
    severity: str
    alert: str


@dataclass(frozen=True)
class Step:
    """Grafana threshold step: values from `value` up get `color` (None: the base)."""

    value: float | None
    color: str


@dataclass(frozen=True)
class Link:
    """A panel link (a runbook) or a dashboard link (`url` a path of this Grafana)."""

    title: str
    url: str


@dataclass(frozen=True)
class Panel:
    key: str  # stable identity, from which the panel id is derived
    kind: str  # timeseries | heatmap | stat
    title: str
    description: str
    queries: tuple[Query, ...]
    unit: str
    limits: tuple[Limit, ...] = ()
    steps: tuple[Step, ...] = ()  # explicit steps (stats); otherwise derived from limits
    width: int = 12
    height: int = 8
    links: tuple[Link, ...] = ()  # runbooks of the alerts drawn
    # Steps per query (by position) where queries are judged against different thresholds
    # (an alert's overrides); empty: every query by `thresholds`.
    query_steps: tuple[tuple[Step, ...], ...] = ()
    new_line: bool = False  # starts a line of its row (a histogram's latency, rate, errors)

    @property
    def thresholds(self) -> tuple[Step, ...]:
        return self.steps or steps(self.limits)


@dataclass(frozen=True)
class Row:
    title: str
    panels: tuple[Panel, ...]
    collapsed: bool = False  # details: heatmaps, per-instance breakdowns


@dataclass(frozen=True)
class Variable:
    name: str  # the dashboard variable
    label: str  # the Prometheus label it filters
    query: str  # label_values(...)
    all_value: str = ".*"  # `.+` for job and instance, which every scraped series has


@dataclass(frozen=True)
class Plan:
    variables: tuple[Variable, ...]
    rows: tuple[Row, ...]


def color(severity: str) -> str:
    return SEVERITY_COLORS.get(severity, "orange")


def steps(limits: Sequence[Limit]) -> tuple[Step, ...]:
    """A step at every threshold, coloured by the most severe alert with that threshold
    whatever its direction: Grafana draws each step's line in the step's colour (a
    `below` threshold coloured by the range above it would be drawn green). The base is
    green. On a stat panel the steps colour ranges, which for `above` thresholds is
    exactly where the alerts fire."""
    worst: dict[float, Limit] = {}
    for lim in limits:
        if _RANK.get(lim.severity, 2) > _RANK.get(worst.get(lim.value, lim).severity, 2) \
                or lim.value not in worst:
            worst[lim.value] = lim
    if not worst:
        return ()
    return (Step(None, OK_COLOR),
            *(Step(v, color(worst[v].severity)) for v in sorted(worst)))
