"""A real Prometheus for tests: a synthetic exporter built from a validated `Service`, and
a `prometheus` process that scrapes it (or any target, such as test_e2e.py's app) every
second and evaluates the service's generated rules every second. No test functions here;
test_dashboard_live.py, test_e2e.py and render_dashboard_png.py use it.

The synthetic data is built from the spec alone, so that every generated query has series
to read and alert thresholds are visibly crossed:

- every metric is registered in a fresh CollectorRegistry with every combination of its
  allowed label values (an unbounded label gets two made-up values, `<label>-1`/`<label>-2`);
- a background thread updates them every UPDATE_SECONDS;
- alerted quantities are "hot" (above an `above` threshold, below a `below` one) for every
  third group of the alert's `by` labels (the first group is always hot) and "calm" for the
  others; override thresholds apply to the series they match;
- counters that are an error numerator (ratio alerts, events SLOs) count some errors;
- gauges with a `stale_after` alert hold unix timestamps: hot series are older than the
  limit, calm ones are refreshed every few seconds.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.metrics_core import Metric as MetricFamily
from prometheus_client.registry import Collector

from mcgen import api, conventions
from mcgen.promql import Matcher
from mcgen.spec.model import Alert, Metric, Service

HOST = "127.0.0.1"
SCRAPE_SECONDS = 1
UPDATE_SECONDS = 0.25
# What the tests put in for Grafana's $__rate_interval (Grafana would use at least four
# scrape intervals, 4s here; 15s gives smoother lines at a 1s scrape).
RATE_INTERVAL = "15s"
DEFAULT_RATE = 3.0  # events/s of a series no alert says anything about
SIGMA = 0.6  # spread (log scale) of histogram observations
HOT, CALM = 1.6, 0.35  # level relative to an `above` threshold (inverted for `below`)

Labels = dict[str, str]


def need_prometheus() -> str:
    """prometheus's path (PROMETHEUS, else PATH); under CI=true a missing binary fails the
    test instead of skipping it."""
    import pytest

    found = os.environ.get("PROMETHEUS") or shutil.which("prometheus")
    if found:
        return found
    if os.environ.get("CI") == "true":
        pytest.fail("prometheus is required under CI=true; run `make promtool` (Debian's "
                    "prometheus package has both) or set PROMETHEUS=/path/to/prometheus")
    pytest.skip("prometheus not installed (run `make promtool`)")


# ---- what the specs produce -----------------------------------------------------------


@dataclass(frozen=True)
class Generated:
    """The services of some spec files and their generated rules and dashboards, rendered
    in memory exactly as `mcgen generate` writes them."""

    services: tuple[Service, ...]
    rules: dict[str, str]  # service -> rules file text
    dashboards: dict[str, dict[str, Any]]  # service -> dashboard JSON


def generate(paths: Sequence[Path]) -> Generated:
    model = api.validate(list(paths))
    files = api.render(list(paths))
    return Generated(
        model.services,
        {s.name: files[conventions.rules_path(s.name)] for s in model.services},
        {s.name: json.loads(files[conventions.dashboard_path(s.name)]) for s in model.services})


# ---- the synthetic exporter -----------------------------------------------------------


def made_up_values(label: str) -> tuple[str, ...]:
    return (f"{label}-1", f"{label}-2")


def label_values(metric: Metric) -> dict[str, tuple[str, ...]]:
    """Every value the exporter gives each label of the metric."""
    return {lb.name: lb.values if lb.values is not None else made_up_values(lb.name)
            for lb in metric.labels}


def combinations(metric: Metric) -> list[Labels]:
    values = label_values(metric)
    names = list(values)
    return [dict(zip(names, combo, strict=True))
            for combo in itertools.product(*(values[n] for n in names))]


def _selected(matchers: Iterable[Matcher], labels: Labels) -> bool:
    return all(m.matches(labels.get(m.label, "")) for m in matchers)


def _by(alert: Alert, metric: Metric) -> tuple[str, ...]:
    """The alert's `by` labels the exporter sets (not instance/job)."""
    return tuple(lb for lb in alert.by if metric.label(lb) is not None)


def _group(alert: Alert, metric: Metric, labels: Labels) -> tuple[str, ...]:
    return tuple(labels[lb] for lb in _by(alert, metric))


def is_hot(alert: Alert, metric: Metric, labels: Labels) -> bool:
    """Every third group of the alert's `by` labels, starting with the first, among the
    series the alert selects, is pushed past the threshold."""
    groups = sorted({_group(alert, metric, c) for c in combinations(metric)
                     if _selected(alert.select, c)})
    if not _selected(alert.select, labels):
        return False
    return groups.index(_group(alert, metric, labels)) % 3 == 0


def threshold(alert: Alert, labels: Labels) -> float:
    """The threshold the series is judged against (its override's, if one matches)."""
    if alert.kind == "stale" and alert.stale_after is not None:
        return alert.stale_after.seconds
    for override in alert.overrides:
        if _selected(override.match, labels):
            return override.threshold
    return alert.threshold if alert.threshold is not None else 1.0


def level(alert: Alert, metric: Metric, labels: Labels) -> float:
    """Target value of the alerted quantity for this series, relative to its threshold."""
    hot = is_hot(alert, metric, labels)
    if alert.op == "<":
        return 1 / HOT if hot else 1 / CALM
    return HOT if hot else CALM


def _applies(alert: Alert, labels: Labels) -> bool:
    return _selected(alert.select, labels)


def _first(metric: Metric, kinds: Sequence[str], labels: Labels) -> Alert | None:
    return next((a for a in metric.alerts if a.kind in kinds and _applies(a, labels)), None)


def _wobble(t: float, phase: float, amount: float = 0.15, period: float = 20.0) -> float:
    return 1 + amount * math.sin(2 * math.pi * t / period + phase)


class _Accumulator:
    """Turns a rate into whole events per tick, keeping the fractional rest."""

    def __init__(self) -> None:
        self.rest = 0.0

    def take(self, expected: float) -> int:
        self.rest += expected
        n = int(self.rest)
        self.rest -= n
        return n


@dataclass
class _Series:
    labels: Labels
    phase: float
    rate: float = DEFAULT_RATE  # events/s (counters, histograms, summaries)
    value: float = 0.0  # gauges: the level; histograms/summaries: the median observation
    timestamp: bool = False  # a gauge holding a unix timestamp
    stale: float | None = None  # timestamp gauges: the age (s) a hot series is kept at
    acc: _Accumulator = field(default_factory=_Accumulator)
    window: deque[float] = field(default_factory=lambda: deque(maxlen=2000))  # summaries


def _base_rates(metric: Metric, combos: list[Labels]) -> list[float]:
    """Events/s per series: what the metric's first `rate` alert wants, else a default."""
    out = []
    for k, labels in enumerate(combos):
        alert = _first(metric, ("rate",), labels)
        if alert is None:
            out.append(DEFAULT_RATE * (1 + 0.5 * (k % 3)))
            continue
        group = _group(alert, metric, labels)
        size = sum(1 for c in combos if _applies(alert, c) and _group(alert, metric, c) == group)
        out.append(level(alert, metric, labels) * threshold(alert, labels) / size)
    return out


_ErrorSelection = tuple[Alert | None, tuple[Matcher, ...], str, tuple[Matcher, ...], float]


def _error_selections(svc: Service, metric: Metric) -> list[_ErrorSelection]:
    """(alert, numerator select, denominator metric, denominator select, default ratio) for
    every ratio alert on the metric and every events SLO whose errors it counts."""
    found: list[_ErrorSelection] = [
        (a, a.select, a.ratio_metric or metric.name, a.ratio_select, 0.0)
        for a in metric.alerts if a.kind == "ratio"]
    for slo in svc.slos:
        if slo.sli == "events" and slo.error is not None and slo.error.metric == metric.name:
            budget = 1 - slo.objective / 100
            found.append((None, slo.error.select, slo.total.metric, slo.total.select, 2 * budget))
    return found


def counter_rates(svc: Service, metric: Metric) -> list[tuple[Labels, float]]:
    """Events/s of every series of a counter: base rates, then the error numerators set to
    the ratio their alert (hot or calm) or SLO (twice the error budget) asks for."""
    combos = combinations(metric)
    rates = _base_rates(metric, combos)
    done: set[int] = set()
    for alert, num_sel, den_name, den_sel, default in _error_selections(svc, metric):
        den = svc.metric(den_name)
        den_combos = combinations(den)
        den_rates = rates if den is metric else _base_rates(den, den_combos)
        for k, labels in enumerate(combos):
            if k in done or not _selected(num_sel, labels):
                continue
            by = _by(alert, metric) if alert is not None else ()
            group = tuple(labels[lb] for lb in by)
            if alert is not None:
                ratio = min(0.5, level(alert, metric, labels) * threshold(alert, labels))
            else:
                ratio = default
            members = [j for j, c in enumerate(combos) if _selected(num_sel, c)
                       and tuple(c[lb] for lb in by) == group]
            good = sum(r for j, (c, r) in enumerate(zip(den_combos, den_rates, strict=True))
                       if _selected(den_sel, c) and tuple(c.get(lb, "") for lb in by) == group
                       and not (den is metric and j in members))
            # The errors are part of their own total: e / (e + good) = ratio.
            total = ratio / (1 - ratio) * good if den is metric else ratio * good
            for j in members:
                rates[j] = total / len(members)
            done.update(members)
    return list(zip(combos, rates, strict=True))


class Exporter:
    """Every metric of a service, served on HOST at a free port and kept moving by a thread."""

    def __init__(self, svc: Service, seed: int = 0) -> None:
        self.svc = svc
        self.registry = CollectorRegistry(auto_describe=True)
        self.rng = random.Random(seed)
        self.started = time.time()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._updates: list[Callable[[float, float], None]] = []
        self._summaries: list[tuple[Metric, list[_Series]]] = []
        for metric in svc.metrics:
            self._add(metric)
        if self._summaries:
            self.registry.register(_SummaryCollector(self))
        self.tick(0.0, UPDATE_SECONDS)  # every series exists before the first scrape
        self._server, _ = start_http_server(0, addr=HOST, registry=self.registry)
        self.port = int(self._server.server_port)
        self._thread = threading.Thread(target=self._run, name=f"exporter-{svc.name}",
                                        daemon=True)
        self._thread.start()

    @property
    def target(self) -> str:
        return f"{HOST}:{self.port}"

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._server.shutdown()
        self._server.server_close()

    def _run(self) -> None:
        last = time.monotonic()
        while not self._stop.wait(UPDATE_SECONDS):
            now = time.monotonic()
            self.tick(time.time() - self.started, now - last)
            last = now

    def tick(self, t: float, dt: float) -> None:
        with self._lock:
            for update in self._updates:
                update(t, dt)

    # -- per type

    def _series(self, metric: Metric) -> list[_Series]:
        return [_Series(labels, phase=self.rng.uniform(0, 2 * math.pi))
                for labels in combinations(metric)]

    def _add(self, metric: Metric) -> None:
        names = list(metric.label_names)
        if metric.type == "counter":
            counter = Counter(metric.name, metric.help, names, registry=self.registry)
            series = [_Series(lbs, self.rng.uniform(0, 2 * math.pi), rate)
                      for lbs, rate in counter_rates(self.svc, metric)]
            self._updates.append(lambda t, dt: self._count(counter, series, t, dt))
        elif metric.type == "gauge":
            gauge = Gauge(metric.name, metric.help, names, registry=self.registry)
            series = self._series(metric)
            for k, s in enumerate(series):
                self._gauge_level(metric, s, k)
            self._updates.append(lambda t, dt: self._set(gauge, series, t))
        else:
            series = self._series(metric)
            rates = _base_rates(metric, [s.labels for s in series])
            for k, s in enumerate(series):
                s.rate = rates[k] if _first(metric, ("rate",), s.labels) else 4.0
                s.value = self._median(metric, s, k)
            if metric.type == "histogram":
                hist = Histogram(metric.name, metric.help, names, buckets=list(metric.buckets),
                                 registry=self.registry)
                for s in series:  # every series exists before its first observation
                    if s.labels:
                        hist.labels(**s.labels)
                self._updates.append(lambda t, dt: self._observe(hist, series, t, dt))
            else:
                self._summaries.append((metric, series))
                self._updates.append(lambda t, dt: self._observe(None, series, t, dt))

    def _median(self, metric: Metric, s: _Series, k: int) -> float:
        """Median observation: the alert's quantile lands at level x threshold."""
        alert = _first(metric, ("quantile",), s.labels) or next(
            (a for a in metric.alerts if a.kind == "quantile"), None)
        if alert is not None and alert.quantile is not None:
            target = level(alert, metric, s.labels) * threshold(alert, s.labels)
            z = statistics.NormalDist().inv_cdf(alert.quantile)
            return target / math.exp(SIGMA * z)
        bounds = metric.buckets or (0.1, 1.0, 10.0)
        return bounds[len(bounds) // 3] * (1 + 0.25 * (k % 4))

    def _gauge_level(self, metric: Metric, s: _Series, k: int) -> None:
        if any(a.kind == "stale" for a in metric.alerts):
            s.timestamp = True
            stale = _first(metric, ("stale",), s.labels)
            if stale is not None and is_hot(stale, metric, s.labels):
                s.stale = threshold(stale, s.labels) * 1.3
            return  # calm or not selected: refreshed every few seconds
        alert = _first(metric, ("value",), s.labels)
        if alert is not None:
            s.value = level(alert, metric, s.labels) * threshold(alert, s.labels)
        elif metric.unit == "bytes":
            s.value = 64 * 2**20 * (1 + k % 4)
        else:
            s.value = 10.0 + 5 * (k % 5)

    def _count(self, counter: Counter, series: list[_Series], t: float, dt: float) -> None:
        for s in series:
            n = s.acc.take(s.rate * dt * _wobble(t, s.phase) * self.rng.uniform(0.8, 1.2))
            (counter.labels(**s.labels) if s.labels else counter).inc(n)

    def _set(self, gauge: Gauge, series: list[_Series], t: float) -> None:
        for s in series:
            child = gauge.labels(**s.labels) if s.labels else gauge
            if s.stale is not None:
                child.set(self.started - s.stale)
            elif s.timestamp:  # something happened in the last few seconds
                if self.rng.random() < UPDATE_SECONDS / 5 or t == 0.0:
                    child.set(time.time())
            else:
                child.set(round(s.value * _wobble(t, s.phase), 3))

    def _observe(self, hist: Histogram | None, series: list[_Series], t: float,
                 dt: float) -> None:
        for s in series:
            n = s.acc.take(s.rate * dt * self.rng.uniform(0.7, 1.3))
            for _ in range(n):
                x = s.value * _wobble(t, s.phase) * math.exp(self.rng.gauss(0, SIGMA))
                if hist is None:
                    s.window.append(x)
                elif s.labels:
                    hist.labels(**s.labels).observe(x)
                else:
                    hist.observe(x)


class _SummaryCollector(Collector):
    """prometheus_client's Summary exports no quantiles; this one does, over the last
    observations of each series."""

    def __init__(self, exporter: Exporter) -> None:
        self.exporter = exporter

    def describe(self) -> list[MetricFamily]:
        return []

    def collect(self) -> Iterator[MetricFamily]:
        with self.exporter._lock:
            for metric, series in self.exporter._summaries:
                family = MetricFamily(metric.name, metric.help, "summary")
                for s in series:
                    data = sorted(s.window)
                    for q in metric.quantiles:
                        value = data[min(len(data) - 1, int(q * len(data)))] if data else math.nan
                        family.add_sample(metric.name, {**s.labels, "quantile": repr(q)}, value)
                    family.add_sample(f"{metric.name}_count", s.labels, float(len(data)))
                    family.add_sample(f"{metric.name}_sum", s.labels, float(sum(data)))
                yield family


@contextlib.contextmanager
def exporter(svc: Service, seed: int = 0) -> Iterator[Exporter]:
    running = Exporter(svc, seed)
    try:
        yield running
    finally:
        running.close()


# ---- Prometheus ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def fast_rules(text: str) -> str:
    """The rules file with every group evaluated every second."""
    data = yaml.safe_load(text)
    for group in data.get("groups", []):
        group["interval"] = f"{SCRAPE_SECONDS}s"
    return yaml.safe_dump(data, sort_keys=False)


class PrometheusError(RuntimeError):
    pass


@dataclass
class Prometheus:
    url: str
    log: Path
    started: float
    pid: int | None = None  # of the prometheus process (reaped when its context exits)

    def _get(self, path: str, params: Sequence[tuple[str, str]] = ()) -> Any:
        query = urllib.parse.urlencode(list(params))
        request = f"{self.url}{path}{'?' + query if query else ''}"
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                body = json.load(response)
        except urllib.error.HTTPError as err:
            body = json.loads(err.read() or b"{}")
        if body.get("status") != "success":
            raise PrometheusError(f"{path} {dict(params)}: {body.get('errorType')}: "
                                  f"{body.get('error')}")
        return body["data"]

    def query(self, expr: str, at: float | None = None) -> list[tuple[Labels, float]]:
        """Instant query: (labels, value) per series (NaN stays NaN)."""
        params = [("query", expr), *([("time", f"{at:.3f}")] if at is not None else [])]
        data = self._get("/api/v1/query", params)
        if data["resultType"] == "scalar":
            return [({}, float(data["result"][1]))]
        return [(r["metric"], float(r["value"][1])) for r in data["result"]]

    def query_range(self, expr: str, start: float, end: float,
                    step: float) -> list[tuple[Labels, list[tuple[float, float]]]]:
        data = self._get("/api/v1/query_range", [
            ("query", expr), ("start", f"{start:.3f}"), ("end", f"{end:.3f}"),
            ("step", f"{step:g}")])
        return [(r["metric"], [(float(t), float(v)) for t, v in r["values"]])
                for r in data["result"]]

    def label_values(self, label: str, selector: str) -> list[str]:
        return list(self._get(f"/api/v1/label/{urllib.parse.quote(label)}/values",
                              [("match[]", selector)]))

    def alerts(self) -> list[dict[str, Any]]:
        """/api/v1/alerts: every pending or firing alert (`labels`, `state`, `value`, ...)."""
        return list(self._get("/api/v1/alerts")["alerts"])

    def rules(self) -> list[dict[str, Any]]:
        """/api/v1/rules: every loaded rule (`name`, `type`, `health`, `lastError`, ...),
        each with the `group` it belongs to."""
        return [{**rule, "group": group["name"]}
                for group in self._get("/api/v1/rules")["groups"] for rule in group["rules"]]

    def wait_for(self, expr: str, timeout: float = 30.0) -> None:
        """Until the query returns a series (e.g. a recording rule has run)."""
        deadline = time.monotonic() + timeout
        while not self.query(expr):
            if time.monotonic() > deadline:
                raise PrometheusError(f"no result for {expr} after {timeout:g}s")
            time.sleep(0.5)


def _config(targets: Mapping[str, str], rule_files: Sequence[Path]) -> dict[str, Any]:
    return {
        "global": {"scrape_interval": f"{SCRAPE_SECONDS}s",
                   "evaluation_interval": f"{SCRAPE_SECONDS}s",
                   "scrape_timeout": f"{SCRAPE_SECONDS}s"},
        "rule_files": [str(p) for p in rule_files],
        "scrape_configs": [{"job_name": job, "static_configs": [{"targets": [target]}]}
                           for job, target in targets.items()],
    }


def child_pids(parent: int | None = None) -> set[int]:
    """The processes whose parent is `parent` (default: this one), zombies included, read
    from /proc (Linux; an empty set elsewhere)."""
    parent = os.getpid() if parent is None else parent
    found = set()
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            stat = entry.read_text(encoding="utf-8", errors="replace")
        except OSError:  # the process ended meanwhile
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses.
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) > 1 and int(fields[1]) == parent:
            found.add(int(entry.parent.name))
    return found


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@contextlib.contextmanager
def prometheus(targets: Mapping[str, str], rules: Mapping[str, str], binary: str,
               ready_timeout: float = 30.0) -> Iterator[Prometheus]:
    """`prometheus` on HOST at a free port, scraping `targets` (job -> host:port) and
    evaluating `rules` (name -> rules file text, rewritten to 1s groups), with a temporary
    data folder. The process is always stopped and the folder removed."""
    tmp = Path(tempfile.mkdtemp(prefix="mcgen-live-prom-"))
    process: subprocess.Popen[bytes] | None = None
    try:
        rule_files = []
        for name, text in rules.items():
            path = tmp / f"{name}.rules.yml"
            path.write_text(fast_rules(text), encoding="utf-8")
            rule_files.append(path)
        config = tmp / "prometheus.yml"
        config.write_text(yaml.safe_dump(_config(targets, rule_files)), encoding="utf-8")
        port = free_port()
        log = tmp / "prometheus.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [binary, f"--config.file={config}", f"--storage.tsdb.path={tmp / 'data'}",
                 f"--web.listen-address={HOST}:{port}", "--log.level=warn"],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        url = f"http://{HOST}:{port}"
        deadline = time.monotonic() + ready_timeout
        while True:
            if process.poll() is not None:
                raise PrometheusError(f"prometheus exited with {process.returncode}:\n"
                                      f"{log.read_text(errors='replace')[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/-/ready", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise PrometheusError(f"prometheus not ready after {ready_timeout:g}s:\n"
                                      f"{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.2)
        yield Prometheus(url, log, time.time(), process.pid)
    finally:
        if process is not None:
            _stop(process)
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def live(generated: Generated, binary: str, seed: int = 0) -> Iterator[Prometheus]:
    """An exporter per service and one Prometheus scraping them all with their rules."""
    with contextlib.ExitStack() as stack:
        targets = {svc.name: stack.enter_context(exporter(svc, seed)).target
                   for svc in generated.services}
        yield stack.enter_context(prometheus(targets, generated.rules, binary))


# ---- Grafana's side of the queries ----------------------------------------------------

_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::[a-z]+)?\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def substitute(expr: str, values: Mapping[str, str] | None = None,
               rate_interval: str = RATE_INTERVAL) -> str:
    """A panel query as Grafana sends it: $__rate_interval becomes `rate_interval`, a label
    variable its value in `values`, else its "All" (allValue `.*`; `.+` for the job and
    instance variables)."""
    values = values or {}
    expr = expr.replace("$__rate_interval", rate_interval).replace(
        "${__rate_interval}", rate_interval)

    def one(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name.startswith("__"):
            raise ValueError(f"unhandled Grafana variable ${name} in {expr}")
        return values.get(name, ".+" if name in ("job", "instance") else ".*")

    return _VARIABLE.sub(one, expr)


_LABEL_VALUES = re.compile(r"^label_values\((?:(.*),\s*)?([A-Za-z_][A-Za-z0-9_]*)\)$")


def parse_label_values(query: str) -> tuple[str | None, str]:
    """`label_values(selector, label)` -> (selector, label)."""
    match = _LABEL_VALUES.match(query.strip())
    if match is None:
        raise ValueError(f"not a label_values() query: {query}")
    return match.group(1), match.group(2)


def legend(fmt: str | None, labels: Labels) -> str:
    """Grafana's legendFormat: `{{label}}` replaced by the series' value of it."""
    if not fmt or fmt == "__auto":
        inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if k != "__name__")
        return f"{labels.get('__name__', '')}{{{inner}}}"
    return re.sub(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}",
                  lambda m: labels.get(m.group(1), ""), fmt)
