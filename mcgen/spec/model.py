"""The validated model: frozen dataclasses that targets render from.

Everything here is resolved: defaults applied, environment overrides applied, matchers
parsed. Targets never look at raw spec data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mcgen.errors import Position
from mcgen.promql import Duration, Matcher

# Labels every scrape adds to every series: a metric cannot declare them. Other target
# labels (`namespace`, `cluster`, whatever relabelling adds) are any label a metric does
# not declare; `select`, `by`, `match` and `selector` may name them.
TARGET_LABELS = ("instance", "job")
# The label of recorded series that says whose rules recorded them: SLO series always carry
# it, recorded rates of a metric under a `selector` too (two services may then record the
# same metric name).
SERVICE_LABEL = "service"


@dataclass(frozen=True)
class Label:
    name: str
    values: tuple[str, ...] | None  # None: unbounded
    pos: Position = field(default=Position("", 1, 1), compare=False)  # of the label's key


@dataclass(frozen=True)
class Override:
    match: tuple[Matcher, ...]
    threshold: float
    pos: Position


@dataclass(frozen=True)
class Alert:
    name: str
    kind: str  # quantile | rate | ratio | value | stale | absent
    metric: str
    op: str | None  # ">" or "<"; None for stale and absent
    threshold: float | None
    quantile: float | None
    ratio_metric: str | None
    ratio_select: tuple[Matcher, ...]
    stale_after: Duration | None
    for_: Duration
    window: Duration
    severity: str
    by: tuple[str, ...]
    select: tuple[Matcher, ...]
    summary: str
    description: str
    labels: tuple[tuple[str, str], ...]
    overrides: tuple[Override, ...]
    pos: Position
    # For `mcgen lint`: where the alert's own threshold is written, and which keys the
    # spec wrote (summary and description get defaults when it did not).
    threshold_pos: Position | None = field(default=None, compare=False)
    written: frozenset[str] = field(default=frozenset(), compare=False)
    ratio_selector: tuple[Matcher, ...] = ()  # the ratio_to metric's own selector

    @property
    def carried(self) -> tuple[str, ...]:
        """The labels its firing series carry: `by`, or for absent_for the equality
        matchers of `select` (what absent() keeps)."""
        if self.kind == "absent":
            return tuple(m.label for m in self.select if m.op == "=")
        return self.by

    @property
    def comparison_word(self) -> str:
        return "above" if self.op == ">" else "below"


@dataclass(frozen=True)
class Metric:
    name: str
    type: str  # counter | gauge | histogram | summary
    help: str
    unit: str | None
    group: str | None
    source: str | None
    labels: tuple[Label, ...]
    buckets: tuple[float, ...]
    quantiles: tuple[float, ...]
    multiprocess_mode: str | None
    alerts: tuple[Alert, ...]
    pos: Position
    buckets_pos: Position | None = field(default=None, compare=False)  # for `mcgen lint`
    # Whose series these are: the metric's `selector`, else its service's (resolved), and
    # the service that declares it. Every raw series selector of the metric holds these
    # matchers (mcgen/rules/queries.py's `scoped`).
    selector: tuple[Matcher, ...] = ()
    service: str = ""
    external: bool = False  # exposed by an exporter: its names are not ours to change

    def label(self, name: str) -> Label | None:
        return next((lb for lb in self.labels if lb.name == name), None)

    @property
    def label_names(self) -> tuple[str, ...]:
        return tuple(lb.name for lb in self.labels)


@dataclass(frozen=True)
class Selection:
    """One side of an SLI: a metric, the series `select` keeps and the metric's selector."""

    metric: str
    select: tuple[Matcher, ...]
    selector: tuple[Matcher, ...] = ()

    @property
    def matchers(self) -> tuple[Matcher, ...]:
        """What a raw selector of this side holds: `select` and the selector."""
        return (*self.select, *self.selector)


@dataclass(frozen=True)
class BurnAlert:
    """The page or the ticket of an SLO."""

    kind: str  # page | ticket
    severity: str


@dataclass(frozen=True)
class AbsentAlert:
    """The alert that fires when no series of the SLI's total exists for `for_`: without
    data the recorded error ratio is 0, which reads as a perfect SLI."""

    name: str
    for_: Duration
    severity: str
    pos: Position = field(default=Position("", 1, 1), compare=False)  # of `absent`, or the SLO


@dataclass(frozen=True)
class Slo:
    name: str
    objective: float  # percent, 0 < objective < 100
    period: Duration
    description: str | None
    sli: str  # events | latency
    total: Selection  # events: the total counter; latency: the histogram
    error: Selection | None  # events only
    bound: float | None  # latency only: a bucket bound of the histogram
    alert_name: str
    alerts: tuple[BurnAlert, ...]  # page and/or ticket
    labels: tuple[tuple[str, str], ...]
    min_traffic: float | None  # events/s over the long window below which alerts stay quiet
    pos: Position
    absent: AbsentAlert | None = None  # None: `alerting.absent: false`
    # mcgen.toml's [generate] keep_labels: target labels every SLO aggregation keeps, so
    # that a ruler seeing several clusters judges each apart.
    keep: tuple[str, ...] = ()


@dataclass(frozen=True)
class Dashboard:
    title: str
    uid: str
    folder: str | None = None
    tags: tuple[str, ...] = ()
    refresh: str | None = None
    time_from: str = "now-6h"
    pos: Position = Position("", 1, 1)  # of `dashboard.uid`, or of `service:` without one


@dataclass(frozen=True)
class LintSettings:
    """The spec's optional `lint:` key: budgets and disabled rules for this service
    (they take precedence over mcgen.toml's [lint] for its findings)."""

    series_budget: int | None = None
    metric_series_budget: int | None = None
    disable: tuple[tuple[str, Position], ...] = ()  # rule id, where it is named


@dataclass(frozen=True)
class Receiver:
    """One receiver of `routing.receivers`: integration kind -> its settings as written
    (secrets only as *_file paths). Alertmanager knows it as `<service>-<name>`."""

    name: str
    configs: tuple[tuple[str, dict[str, Any]], ...] = field(hash=False)
    pos: Position = field(default=Position("", 1, 1), compare=False)


@dataclass(frozen=True)
class Route:
    """One entry of `routing.routes`: alerts whose labels fit `match` go to `receiver`."""

    match: tuple[Matcher, ...]
    receiver: str
    continue_: bool = False
    pos: Position = field(default=Position("", 1, 1), compare=False)


@dataclass(frozen=True)
class Routing:
    """The spec's `routing:` (SPEC 10)."""

    receivers: tuple[Receiver, ...]
    routes: tuple[Route, ...]
    default: str
    group_by: tuple[str, ...] = ("alertname", "service")
    timing: tuple[tuple[str, str], ...] = ()  # group_wait, group_interval, repeat_interval
    pos: Position = field(default=Position("", 1, 1), compare=False)

    def receives(self, labels: dict[str, str]) -> tuple[str, ...]:
        """The receivers (spec names) an alert with these labels reaches, as Alertmanager
        walks the routes: in order, stopping at the first match unless it says
        `continue`; the default when none matched."""
        found: list[str] = []
        for route in self.routes:
            if all(m.matches(labels.get(m.label, "")) for m in route.match):
                found.append(route.receiver)
                if not route.continue_:
                    break
        return tuple(found) or (self.default,)


@dataclass(frozen=True)
class Service:
    """One spec file, resolved for one environment (or none)."""

    source: str  # the spec path as shown to users, e.g. specs/codehub.yaml
    name: str
    description: str | None
    alert_labels: tuple[tuple[str, str], ...]
    runbook_base_url: str | None
    interval: Duration | None
    scrape_interval: Duration
    dashboard: Dashboard
    metrics: tuple[Metric, ...]
    slos: tuple[Slo, ...] = ()
    pos: Position = Position("", 1, 1)  # of the `service:` value
    environment: str | None = None
    environments: tuple[str, ...] = ()
    lint: LintSettings = LintSettings()
    rate_window: Duration = Duration(300_000)  # defaults.rate_window, for documented queries
    selector: tuple[Matcher, ...] = ()  # the service's `selector` (metrics may replace it)
    routing: Routing | None = None
    metric_index: dict[str, Metric] = field(default_factory=dict, compare=False, hash=False)

    @property
    def alerts(self) -> tuple[Alert, ...]:
        return tuple(a for m in self.metrics for a in m.alerts)

    def metric(self, name: str) -> Metric:
        return self.metric_index[name]


# The outputs `mcgen generate` writes unless mcgen.toml's [generate] targets says (SPEC 6).
DEFAULT_TARGETS = ("rules", "tests", "dashboards", "provisioning", "stubs", "docs")


@dataclass(frozen=True)
class Settings:
    """What mcgen.toml says about generation: the targets and the labels every
    aggregation keeps ([generate] targets, keep_labels) and the PrometheusRule's namespace
    and labels ([kubernetes])."""

    targets: tuple[str, ...] = DEFAULT_TARGETS
    keep_labels: tuple[str, ...] = ()  # target labels every aggregation keeps
    namespace: str | None = None
    labels: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Model:
    """Every service of a run. A metric name is unique within a service; services whose
    selectors keep their series apart may declare the same name, so look metrics up
    through their service (`Service.metric`)."""

    services: tuple[Service, ...]
    settings: Settings = Settings()
