"""End to end: an app built on the generated Python stub, scraped by a real Prometheus that
evaluates the generated rules.

tests/e2e/shop.yaml is rendered into a temporary folder with mcgen.api.generate. The app
(tests/e2e/shop_app.py, a separate Python process, so the stub registers its metrics in a
clean default registry) imports the generated `shop_metrics.py`, serves /metrics on
127.0.0.1 and, through the stub's typed helpers only, drives one alert of each kind and
one SLO past their thresholds while keeping the other alerts and label groups calm (and
never counts the metric of a second SLO, whose no-data alert must fire). A second
process of the same app (`--decoy`) is another job, shop-decoy, exposing the same metric
names with every series far past every threshold; the spec's `selector: {job: shop}` must
keep it out of every rule (and must not keep the no-data alert quiet). Prometheus
(live_prometheus.py) scrapes both every second and evaluates every rule group every
second. Through Prometheus's HTTP API the tests then check that:

- every targeted alert is active with exactly the labels of SPEC 3/4 (built from the model
  with the rules target's own label helpers plus the label values the traffic used), and
  in the state its `for` implies (firing, or pending for a `for` longer than the test);
- nothing else ever became active: no untargeted alert, no calm label group and nothing
  the decoy job's series would cause, neither in any poll of /api/v1/alerts nor in the
  ALERTS series over the whole run (and the decoy was scraped, every metric of it);
- every recorded series of the rules file has a finite value (SLO ratios included), and
  the SLO ratios say what the traffic did;
- every rule evaluates without error;
- no process is left behind: the apps and Prometheus are stopped and reaped (checked
  against /proc), and the app also exits by itself when its stdin closes or its parent
  dies.

The whole module takes about 15 s; it never waits longer than CONVERGE_TIMEOUT for the
alerts. Under CI=true a missing prometheus binary fails instead of skipping.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import math
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import live_prometheus as lp
import pytest
import yaml

from mcgen import api, conventions, promql
from mcgen.promql import Matcher
from mcgen.rules import alerts as rules_target
from mcgen.spec.model import Service

HERE = Path(__file__).resolve().parent
SPEC = HERE / "e2e" / "shop.yaml"
APP = HERE / "e2e" / "shop_app.py"
ORPHAN_CHECK = HERE / "e2e" / "orphan_check.py"

CONVERGE_TIMEOUT = 60.0  # seconds for every targeted alert to reach its state
HOLD = 3.0  # seconds the converged state must then hold unchanged
POLL = 0.25  # seconds between two reads of /api/v1/alerts
APP_START_TIMEOUT = 20.0
DECOY_JOB = "shop-decoy"  # the decoy app's scrape job: outside the spec's selector

# What the app's traffic pushes past a threshold: alert -> the label values of each firing
# series (its `by` labels; for absent_for, the equality matchers of its select).
TARGETED: dict[str, list[dict[str, str]]] = {
    "ShopRequestSlow": [{"endpoint": "checkout"}],
    "ShopOrderErrorRatioHigh": [{"payment": "card"}],
    "ShopServerErrorsHigh": [{"method": "POST"}],
    "ShopQueueBacklog": [{"queue": "fulfilment"}],
    "ShopSyncStale": [{"source": "catalog"}],
    "ShopRefundsAbsent": [{"provider": "stripe"}],
}
TARGETED_SLOS = ("orders",)  # both its page and its ticket
TARGETED_ABSENT = ("payouts",)  # SLOs whose no-data (SLIAbsent) alert fires
# Must stay inactive (every other alert of the spec is checked too; these must exist).
UNTARGETED = ("ShopWorkersLow", "ShopCartLatencyErrorBudgetBurn")
# Labels no alert may carry (SPEC 3): the scrape's, and what aggregation must remove.
FORBIDDEN = ("instance", "job", "le", "quantile")

Labels = dict[str, str]
LabelSet = frozenset[tuple[str, str]]


def freeze(labels: Mapping[str, str]) -> LabelSet:
    return frozenset(labels.items())


def show(labels: LabelSet) -> str:
    return "{" + ", ".join(f"{k}={v!r}" for k, v in sorted(labels)) + "}"


# ---- what the model says the traffic must produce ---------------------------------------


def expected_alerts(svc: Service) -> dict[LabelSet, str]:
    """Every alert the traffic must make active: its exact label set -> its state."""
    out: dict[LabelSet, str] = {}
    for alert in svc.alerts:
        if alert.name not in TARGETED:
            continue
        state = "pending" if alert.for_.seconds > CONVERGE_TIMEOUT + HOLD else "firing"
        for carried in TARGETED[alert.name]:
            assert set(carried) == set(alert.carried), (alert.name, alert.carried)
            if alert.kind == "absent":
                assert carried == {m.label: m.value for m in alert.select if m.op == "="}
            labels = {"alertname": alert.name, **rules_target.alert_labels(svc, alert),
                      **carried}
            out[freeze(labels)] = state
    for slo in svc.slos:
        if slo.name in TARGETED_SLOS:
            for burn in slo.alerts:
                labels = {"alertname": slo.alert_name,
                          **rules_target.slo_alert_labels(svc, slo, burn)}
                out[freeze(labels)] = "firing"  # burn-rate alerts have no `for`
        if slo.name in TARGETED_ABSENT:
            assert slo.absent is not None
            labels = {"alertname": slo.absent.name,
                      **rules_target.slo_absent_labels(svc, slo, slo.absent)}
            out[freeze(labels)] = "pending" if slo.absent.for_.seconds > \
                CONVERGE_TIMEOUT + HOLD else "firing"
    return out


def all_alert_names(svc: Service) -> set[str]:
    return ({a.name for a in svc.alerts} | {s.alert_name for s in svc.slos}
            | {s.absent.name for s in svc.slos if s.absent})


def recorded_series(rules_text: str) -> list[tuple[str, Labels]]:
    """(record, rule labels) of every recording rule of a rules file."""
    doc = yaml.safe_load(rules_text)
    return [(rule["record"], dict(rule.get("labels") or {}))
            for group in doc["groups"] for rule in group["rules"] if "record" in rule]


# ---- the generated files, the app, the run ----------------------------------------------


@dataclass(frozen=True)
class Generated:
    svc: Service
    rules: str  # the rules file's text, as mcgen writes it
    stub_dir: Path  # holds shop_metrics.py


@pytest.fixture(scope="module")
def generated() -> Iterator[Generated]:
    tmp = Path(tempfile.mkdtemp(prefix="mcgen-e2e-"))
    try:
        (svc,) = api.validate([SPEC]).services
        api.generate([SPEC], out=tmp)
        stub = tmp / conventions.python_stub_path(svc.name)
        assert stub.name == f"{svc.name}_metrics.py", stub
        rules = (tmp / conventions.rules_path(svc.name)).read_text(encoding="utf-8")
        yield Generated(svc, rules, stub.parent)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _app_env() -> dict[str, str]:
    """The app's environment: no multiprocess mode, no bytecode in the temporary folder."""
    env = {k: v for k, v in os.environ.items()
           if k.lower() not in ("prometheus_multiproc_dir",)}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _read_line(stream: IO[bytes], timeout: float) -> str:
    """One line from a child's stdout, or "" if none came within `timeout`."""
    ready, _, _ = select.select([stream], [], [], timeout)
    return stream.readline().decode().strip() if ready else ""


def stop_process(process: subprocess.Popen[bytes], timeout: float = 5.0) -> None:
    """SIGTERM, then SIGKILL; always reaped, pipes closed."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            stream.close()


@dataclass
class App:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def target(self) -> str:
        return f"{lp.HOST}:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


@contextlib.contextmanager
def running_app(stub_dir: Path, log: Path, decoy: bool = False) -> Iterator[App]:
    """The app (or its decoy), serving; stopped (and reaped) on exit whatever happens."""
    with log.open("wb") as err:
        process = subprocess.Popen([sys.executable, str(APP), str(stub_dir),
                                    *(["--decoy"] if decoy else [])],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err,
                                   env=_app_env(), cwd=stub_dir)
    try:
        assert process.stdout is not None
        line = _read_line(process.stdout, APP_START_TIMEOUT)
        if not line.isdigit():
            raise AssertionError(f"the app did not start (exit {process.poll()}):\n"
                                 f"{log.read_text(errors='replace')[-3000:]}")
        yield App(process, int(line), log)
    finally:
        stop_process(process)


@dataclass(repr=False)
class Run:
    """What one run observed; the app and Prometheus are stopped when tests read it."""

    svc: Service
    rules: str
    expected: dict[LabelSet, str]
    started: float = 0.0  # time.time() when Prometheus was ready
    converged: bool = False
    converged_after: float = 0.0  # seconds from Prometheus ready to the expected state
    last: dict[LabelSet, str] = field(default_factory=dict)  # the last poll: labels -> state
    seen: dict[LabelSet, set[str]] = field(default_factory=dict)  # every poll: -> states
    unstable: list[str] = field(default_factory=list)  # changes during the hold
    history: list[LabelSet] = field(default_factory=list)  # ALERTS over the whole run
    recorded: dict[str, list[tuple[Labels, float]]] = field(default_factory=dict)
    loaded_rules: list[dict[str, Any]] = field(default_factory=list)
    decoy_series: set[str] = field(default_factory=set)  # metric names scraped from it
    decoy_exit: int | None = None  # the decoy's exit code if it died during the run
    app_exit: int | None = None  # the app's exit code if it died during the run
    app_stopped: int | None = None  # its exit code once stopped
    app_output: str = ""  # its stderr
    not_reaped: list[str] = field(default_factory=list)  # processes still there after
    leftovers: set[int] = field(default_factory=set)  # new children of this process after
    seconds: float = 0.0  # the whole run, start to everything stopped

    def value(self, name: str, **labels: str) -> float:
        """The value of a recorded series (by its rule's labels) at the end of the run."""
        result = self.recorded[recorded_selector(name, labels)]
        assert len(result) == 1, (name, labels, result)
        return result[0][1]


def recorded_selector(name: str, labels: Mapping[str, str]) -> str:
    return promql.selector(name, [Matcher(k, "=", v) for k, v in labels.items()])


def _poll(run: Run, prom: lp.Prometheus) -> dict[LabelSet, str]:
    current = {freeze(a["labels"]): str(a["state"]) for a in prom.alerts()}
    for labels, state in current.items():
        run.seen.setdefault(labels, set()).add(state)
    run.last = current
    return current


def _observe(run: Run, prom: lp.Prometheus, app: App) -> None:
    """Poll until every expected alert is in its state, hold HOLD seconds, then read the
    ALERTS history, every recorded series and the rules' health."""
    deadline = time.monotonic() + CONVERGE_TIMEOUT
    while app.process.poll() is None and time.monotonic() < deadline:
        current = _poll(run, prom)
        if all(current.get(labels) == state for labels, state in run.expected.items()):
            run.converged = True
            run.converged_after = time.time() - prom.started
            break
        time.sleep(POLL)
    hold_until = time.monotonic() + (HOLD if run.converged else 0)
    while time.monotonic() < hold_until:
        time.sleep(POLL)
        current = _poll(run, prom)
        if current != run.expected:
            changed = set(current.items()) ^ set(run.expected.items())
            run.unstable.append(", ".join(f"{show(lbs)} {st}"
                                          for lbs, st in sorted(changed, key=str)))
    # Every alert that was pending or firing at any evaluation since Prometheus started,
    # from the ALERTS series (whatever the polls above may have missed between them).
    window = f"{math.ceil(time.time() - prom.started) + 60}s"
    run.history = [freeze({k: v for k, v in labels.items() if k != "alertstate"})
                   for labels, _ in prom.query(f"count_over_time(ALERTS[{window}])")]
    for name, labels in recorded_series(run.rules):
        expr = recorded_selector(name, labels)
        run.recorded[expr] = prom.query(expr)
    run.loaded_rules = prom.rules()
    decoy = promql.selector("", [Matcher("job", "=", DECOY_JOB)])
    run.decoy_series = {labels["__name__"] for labels, _ in
                        prom.query(f"count by (__name__) ({decoy})")}


def _gone(pid: int) -> bool:
    """Reaped (os.waitpid knows no such child) and not in /proc."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return not Path(f"/proc/{pid}").exists()
    return False


@pytest.fixture(scope="module")
def run(generated: Generated, prometheus: str) -> Run:
    """Starts the app and Prometheus, observes, stops both, checks that nothing is left."""
    binary = prometheus
    before = lp.child_pids()
    began = time.monotonic()
    result = Run(generated.svc, generated.rules, expected_alerts(generated.svc))
    pids: dict[str, int | None] = {"app": None, "decoy": None, "prometheus": None}
    tmp = Path(tempfile.mkdtemp(prefix="mcgen-e2e-app-"))
    try:
        with running_app(generated.stub_dir, tmp / "app.log") as app, \
                running_app(generated.stub_dir, tmp / "decoy.log", decoy=True) as decoy, \
                lp.prometheus({generated.svc.name: app.target, DECOY_JOB: decoy.target},
                              {generated.svc.name: generated.rules}, binary) as prom:
            pids.update(app=app.process.pid, decoy=decoy.process.pid, prometheus=prom.pid)
            result.started = prom.started
            _observe(result, prom, app)
            result.app_exit = app.process.poll()
            result.decoy_exit = decoy.process.poll()
        result.app_stopped = app.process.returncode  # SIGTERM: a clean exit, 0
        result.app_output = app.output()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        result.seconds = time.monotonic() - began
    result.not_reaped = [f"{name} (pid {pid})" for name, pid in pids.items()
                         if pid is None or not _gone(pid)]
    result.leftovers = lp.child_pids() - before
    print(f"\ne2e: alerts as expected {result.converged_after:.1f}s after Prometheus was "
          f"ready; the run took {result.seconds:.1f}s")
    return result


# ---- the tests ----------------------------------------------------------------------------


def _describe(alerts: Mapping[LabelSet, Any]) -> str:
    return "\n".join(f"  {show(labels)}: {state}" for labels, state in
                     sorted(alerts.items(), key=lambda kv: sorted(kv[0]))) or "  (none)"


def test_the_spec_has_an_alert_of_every_kind_and_untargeted_ones(generated: Generated) -> None:
    svc = generated.svc
    targeted_kinds = {a.kind for a in svc.alerts if a.name in TARGETED}
    assert targeted_kinds == {"quantile", "rate", "ratio", "value", "stale", "absent"}
    assert {m.type for m in svc.metrics} == {"counter", "gauge", "histogram", "summary"}
    assert set(TARGETED) | set(UNTARGETED) <= all_alert_names(svc)
    assert not set(TARGETED) & set(UNTARGETED)
    assert {s.name for s in svc.slos} >= set(TARGETED_SLOS) | set(TARGETED_ABSENT)
    assert svc.scrape_interval.seconds == lp.SCRAPE_SECONDS
    assert svc.alert_labels, "alert_labels must be exercised"
    assert any(a.labels and a.select for a in svc.alerts if a.name in TARGETED)
    assert any(a.overrides for a in svc.alerts if a.name in TARGETED)
    states = set(expected_alerts(svc).values())
    assert states == {"pending", "firing"}, states


def test_the_app_ran_until_stopped(run: Run) -> None:
    assert run.app_exit is None, f"the app exited with {run.app_exit}:\n{run.app_output}"
    assert run.decoy_exit is None, f"the decoy exited with {run.decoy_exit}"


def test_the_decoy_job_exposed_every_metric(run: Run) -> None:
    """Another job's series of every metric name of the spec were there all along (so
    that the quiet of the alerts below says the selector worked)."""
    assert run.svc.selector == (Matcher("job", "=", run.svc.name),)
    suffixes = {"counter": ("",), "gauge": ("",), "histogram": ("_bucket", "_count", "_sum"),
                "summary": ("_count", "_sum")}
    want = {m.name + s for m in run.svc.metrics for s in suffixes[m.type]}
    assert want <= run.decoy_series, sorted(want - run.decoy_series)


def test_every_targeted_alert_is_active_with_exactly_its_labels(run: Run) -> None:
    if not run.converged:
        pytest.fail(f"after {CONVERGE_TIMEOUT:g}s the alerts were not as expected.\n"
                    f"expected:\n{_describe(run.expected)}\nactive:\n{_describe(run.last)}")
    for labels in run.last:
        bad = [k for k, _ in labels if k in FORBIDDEN]
        assert not bad, f"{show(labels)} carries {bad}"
    assert run.last == run.expected, f"active:\n{_describe(run.last)}"
    assert not run.unstable, "changed during the hold:\n" + "\n".join(run.unstable)


def test_nothing_else_ever_became_active(run: Run) -> None:
    """Neither an untargeted alert nor a calm label group of a targeted one, at any poll
    of the API or in the ALERTS series of the whole run."""
    names = {dict(labels)["alertname"] for labels in run.seen}
    untargeted = all_alert_names(run.svc) - set(TARGETED) - {
        s.alert_name for s in run.svc.slos if s.name in TARGETED_SLOS} - {
        s.absent.name for s in run.svc.slos if s.name in TARGETED_ABSENT and s.absent}
    assert set(UNTARGETED) <= untargeted
    assert not names & untargeted, f"untargeted alerts became active: {names & untargeted}"
    unexpected = {labels: states for labels, states in run.seen.items()
                  if labels not in run.expected}
    assert not unexpected, f"unexpected alerts seen:\n{_describe(unexpected)}"
    assert run.history, "the ALERTS series is empty"
    assert set(run.history) == set(run.expected), (
        f"ALERTS over the run:\n{_describe(dict.fromkeys(run.history, ''))}")


def test_every_recorded_series_has_a_finite_value(run: Run) -> None:
    assert len(run.recorded) > 10
    problems = [f"{expr}: no series" if not result else f"{expr}: {result}"
                for expr, result in run.recorded.items()
                if not result or not all(math.isfinite(v) for _, v in result)]
    assert not problems, "\n".join(problems)


def test_slo_recordings_say_what_the_traffic_did(run: Run) -> None:
    """About 15% of orders fail (150x the 0.1% budget); no cart request is slow, which
    also shows that the latency SLI reads the Python client's `le="1.0"`."""
    orders = {"service": "shop", "slo": "orders"}
    cart = {"service": "shop", "slo": "cart-latency"}
    assert run.value("slo:objective:ratio", **orders) == pytest.approx(0.999)
    assert run.value("slo:error_budget:ratio", **orders) == pytest.approx(0.001)
    for window in ("5m", "1h", "1d", "30d"):
        ratio = run.value(f"slo:sli_error:ratio_rate{window}", **orders)
        assert 0.08 < ratio < 0.25, (window, ratio)
    assert run.value("slo:current_burn_rate:ratio", **orders) > 14.4
    assert run.value("slo:period_error_budget_remaining:ratio", **orders) < 0
    assert run.value("slo:sli_total:rate5m", **cart) > 0
    for window in ("5m", "1h", "7d"):
        assert run.value(f"slo:sli_error:ratio_rate{window}", **cart) == 0, window
    assert run.value("slo:period_error_budget_remaining:ratio", **cart) == 1


def test_every_rule_evaluates_without_error(run: Run) -> None:
    document = yaml.safe_load(run.rules)
    assert len(run.loaded_rules) == sum(len(g["rules"]) for g in document["groups"])
    bad = [f"{r['group']} / {r['name']}: {r['health']} {r.get('lastError', '')}"
           for r in run.loaded_rules if r["health"] != "ok" or r.get("lastError")]
    assert not bad, "\n".join(bad)


def test_no_process_was_left_behind(run: Run) -> None:
    assert run.app_stopped == 0, f"exit {run.app_stopped}:\n{run.app_output}"
    assert "shop_app: stopped by a signal, exiting" in run.app_output, run.app_output
    assert not run.not_reaped, f"still there: {run.not_reaped}"
    assert not run.leftovers, f"new child processes left: {sorted(run.leftovers)}"
    assert run.seconds < 90, f"the run took {run.seconds:.0f}s"


def test_the_app_type_checks_against_the_generated_stub(generated: Generated,
                                                       tmp_path: Path) -> None:
    """The app's helper calls (label names, Literal label values) are what the stub
    declares: mypy --strict with the generated stub on its path."""
    if importlib.util.find_spec("mypy") is None:
        pytest.skip("mypy not installed (make venv installs it)")
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental",
         f"--cache-dir={tmp_path / 'mypy'}", str(APP)],
        env={**_app_env(), "MYPYPATH": str(generated.stub_dir)},
        capture_output=True, text=True, timeout=120, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_app_exits_when_its_stdin_closes(generated: Generated, tmp_path: Path) -> None:
    with running_app(generated.stub_dir, tmp_path / "app.log") as app:
        assert app.process.stdin is not None
        app.process.stdin.close()
        assert app.process.wait(timeout=5) == 0, app.output()
    assert "shop_app: stdin closed, exiting" in app.output()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs Linux's prctl")
def test_the_app_exits_when_its_parent_dies(generated: Generated, tmp_path: Path) -> None:
    """Its parent is SIGKILLed while the app's stdin stays open (this test holds it):
    the app notices that it was re-parented and exits; orphan_check.py, the subreaper it
    is re-parented to, reaps it and says how fast."""
    before = lp.child_pids()
    log = tmp_path / "stderr.log"
    with log.open("wb") as err:
        checker = subprocess.Popen([sys.executable, str(ORPHAN_CHECK), str(APP),
                                    str(generated.stub_dir)],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err,
                                   env=_app_env())
    try:
        checker.wait(timeout=APP_START_TIMEOUT + 15)  # stdin still open
        assert checker.stdout is not None
        out = checker.stdout.read().decode()
    finally:
        stop_process(checker)
    stderr = log.read_text(errors="replace")
    assert checker.returncode == 0, (out, stderr)
    report = json.loads(out.strip().splitlines()[-1])
    assert report["exit"] == 0, (report, stderr)
    assert "shop_app: parent process gone, exiting" in stderr, stderr
    assert report["seconds"] < 3, report
    assert lp.child_pids() - before == set()
