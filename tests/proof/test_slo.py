"""SLO behaviour checked by hand, independently of the generated tests: factors, the
28d-vs-30d page, `le` spellings of real clients, traffic weighting, the README's figures."""

from __future__ import annotations

import math
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from mcgen import api, promql, write
from mcgen.promql import Duration, burnrate
from mcgen.proof.sloprover import MINUTE, Phase, SloProver
from mcgen.proof.sloreplay import Replay

DAY = Duration(86_400_000)

SPEC = """\
version: 1
service: shop
metrics:
  - name: shop_requests_total
    type: counter
    help: Requests.
    labels: {{status: [ok, error]}}
slos:
  - name: availability
    objective: 99.9
    window: {window}
    sli:
      events:
        error: {{metric: shop_requests_total, select: {{status: error}}}}
        total: {{metric: shop_requests_total}}
"""


def _spec(tmp_path: Path, window: str) -> Path:
    folder = tmp_path / f"specs-{window}"
    folder.mkdir()
    (folder / "shop.yaml").write_text(SPEC.format(window=window))
    return folder


@pytest.mark.parametrize(("period", "factors"), [
    ("30d", (14.4, 6, 3, 1)),
    ("28d", (13.44, 5.6, 2.8, 0.9333333333333333)),
    ("7d", (3.36, 1.4, 0.7, 0.2333333333333333)),
])
def test_factors_scale_with_the_period(period: str, factors: tuple[float, ...]) -> None:
    got = tuple(c.factor(Duration.parse(period)) for c in burnrate.CONDITIONS)
    assert got == pytest.approx(factors, rel=1e-12)


def test_budget_and_objective_print_as_written() -> None:
    assert burnrate.budget(99.9) == 0.001 and burnrate.objective_ratio(99.9) == 0.999
    assert burnrate.budget(99.95) == 0.0005 and burnrate.budget(95) == 0.05


@pytest.mark.parametrize(("window", "pages"), [("28d", True), ("30d", False)])
def test_hand_made_burn_of_5_8_pages_a_28d_slo_only(window: str, pages: bool, tmp_path: Path,
                                                     promtool: str) -> None:
    """Hand-written series, not the generated ones: 10 requests/s, 0.58% failing (burn
    5.8 on a 99.9% SLO) for 40 minutes. f2 is 5.6 for 28d and 6 for 30d."""
    out = tmp_path / "out"
    write.write(out, api.render([_spec(tmp_path, window)]))
    rules = yaml.safe_load((out / "prometheus" / "shop.rules.yml").read_text())
    alerts = {r["labels"]["slo_severity"]: r for g in rules["groups"] for r in g["rules"]
              if "slo_severity" in r.get("labels", {})}  # the burn alerts, not SLIAbsent
    expected = ["page", "ticket"] if pages else ["ticket"]
    test: dict[str, Any] = {
        "rule_files": ["shop.rules.yml"],
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "input_series": [
                {"series": 'shop_requests_total{status="ok",instance="a",job="shop"}',
                 "values": "0+596.52x40"},
                {"series": 'shop_requests_total{status="error",instance="a",job="shop"}',
                 "values": "0+3.48x40"},
            ],
            "alert_rule_test": [{
                "eval_time": "40m", "alertname": "ShopAvailabilityErrorBudgetBurn",
                "exp_alerts": [{"exp_labels": alerts[kind]["labels"],
                                "exp_annotations": alerts[kind]["annotations"]}
                               for kind in expected]}],
        }],
    }
    (out / "prometheus" / "hand.test.yml").write_text(yaml.safe_dump(test))
    proc = subprocess.run([promtool, "test", "rules", "hand.test.yml"],
                          cwd=out / "prometheus", capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_le_spellings_cover_the_python_client() -> None:
    from prometheus_client.utils import floatToGoString

    for bound in (0.005, 0.25, 1.0, 10.0, 2.5, 100000.0, 1e6, 1234567.0, 1e10, 1e-7):
        matcher = promql.le_matcher(bound)
        assert matcher.matches(floatToGoString(bound)), (bound, matcher)
        assert matcher.matches(promql.go_float(bound)) and matcher.matches(
            promql.js_float(bound))


def test_le_spellings_match_node(node: str) -> None:
    """JavaScript's own number formatting (prom-client writes `le` with it)."""
    bounds = [0.005, 0.25, 1.0, 10.0, 1e6, 1e21, 1e-7, 1234567.0, 0.00001]
    proc = subprocess.run([node, "-e", f"console.log({bounds!r}.map(String).join(' '))"],
                          capture_output=True, text=True, check=True)
    for bound, text in zip(bounds, proc.stdout.split(), strict=True):
        assert promql.js_float(bound) == text
        assert promql.le_matcher(bound).matches(text)


def test_period_ratio_is_weighted_by_traffic() -> None:
    """30m at 10 ev/s with 0.25% errors, 10m idle, 30m at 1 ev/s with 2% errors, 10m idle:
    the period ratio is errors over events (0.409%), not the mean of the two (1.125%),
    and the idle spells leave no NaN. (Ending idle keeps the chained sums exact: the 5m
    rates they add up weigh the last 5 minutes less.)"""
    model = api.validate([Path(__file__).parents[1] / "golden" / "slos" / "specs"])
    svc = model.services[0]
    slo = next(s for s in svc.slos if s.name == "requests")
    prover = SloProver(svc, model, slo)
    b = burnrate.budget(slo.objective)
    phases = [Phase(30, 10.0, 0.5 * b), Phase(10, 0.0, 0.0), Phase(30, 1.0, 4 * b),
              Phase(10, 0.0, 0.0)]
    series = prover.series(phases)
    replay = Replay(slo, series, 60_000, 80 * MINUTE)
    errors = 30 * 60 * (10 * 0.5 * b + 1 * 4 * b)
    events = 30 * 60 * (10 + 1)
    period = replay.ratio(80 * MINUTE, slo.period)
    assert period == pytest.approx(errors / events, rel=1e-9)
    assert period != pytest.approx((0.5 * b + 4 * b) / 2, rel=0.1)
    assert all(not math.isnan(replay.ratio(t, w)) for t in range(0, 80 * MINUTE + 1, MINUTE)
               for w in burnrate.windows(slo.period))


@pytest.mark.parametrize(("error_rate", "page_min", "ticket_min", "exhausted_h"), [
    (0.02, 43.2, 216, 36), (0.10, 8.64, 43.2, 7.2), (0.50, 1.728, 8.64, 1.44)])
def test_readme_worked_example(error_rate: float, page_min: float, ticket_min: float,
                               exhausted_h: float) -> None:
    """The README's table: after a clean history, a condition fires once the long window
    has spent its share of the budget: minutes = share x period / burn rate."""
    burn = error_rate / burnrate.budget(99.9)
    period = Duration.parse("30d")
    first = {}
    for cond in burnrate.CONDITIONS:
        minutes = float(cond.spent) * period.ms / MINUTE / burn
        if minutes <= cond.long.ms / MINUTE:  # else the burn never fills the long window
            first[cond.alert] = min(first.get(cond.alert, math.inf), minutes)
    assert first["page"] == pytest.approx(page_min)
    assert first["ticket"] == pytest.approx(ticket_min)
    assert period.ms / 3_600_000 / burn == pytest.approx(exhausted_h)


GOLDEN_SLOS = Path(__file__).parents[1] / "golden" / "slos" / "specs"


def test_absent_alert_defaults_and_overrides() -> None:
    """SPEC 4: on by default as {for: 10m, severity: warning}, named CamelCase(service) +
    CamelCase(slo) + SLIAbsent whatever alerting.name says; renamed, tuned or off."""
    svc = api.validate([GOLDEN_SLOS]).services[0]
    absent = {s.name: s.absent for s in svc.slos}
    requests, payments = absent["requests"], absent["payments"]
    assert requests is not None and payments is not None
    assert (requests.name, str(requests.for_), requests.severity) == (
        "CheckoutRequestsSLIAbsent", "10m", "warning")
    assert (payments.name, str(payments.for_), payments.severity) == (
        "PaymentsNoData", "15m", "critical")
    assert absent["post-latency"] is not None
    assert absent["post-latency"].name == "CheckoutPostLatencySLIAbsent"
    assert absent["huge-bound"] is None


def test_absent_cases_are_generated_per_slo() -> None:
    """Fires (never scraped, and after the scrape stops) and stays quiet without traffic,
    for every SLO whose absent alert is on; none for `absent: false`."""
    tests = yaml.safe_load(api.render([GOLDEN_SLOS])["prometheus/checkout.test.yml"])
    names: dict[str, list[str]] = {}
    for group in tests["tests"]:
        for check in group.get("alert_rule_test", ()):
            if check["alertname"].endswith(("SLIAbsent", "NoData")):
                # A group may share its timeline with other cases: "case + case".
                names.setdefault(check["alertname"], []).extend(
                    n for n in group["name"].split(" + ") if check["alertname"] in n)
    assert set(names) == {"CheckoutRequestsSLIAbsent", "PaymentsNoData",
                          "CheckoutPostLatencySLIAbsent"}
    for groups in names.values():
        kinds = sorted({g.split(": ", 1)[1].split(" ", 2)[1] for g in groups})
        assert kinds == ["fires", "stays"], groups


def _absent_test(rules: dict[str, Any], series: list[dict[str, str]],
                 checks: list[tuple[str, bool]]) -> dict[str, Any]:
    rule = next(r for g in rules["groups"] for r in g["rules"]
                if r.get("alert") == "CheckoutPostLatencySLIAbsent")
    return {
        "rule_files": ["checkout.rules.yml"],
        "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": series, "alert_rule_test": [
            {"eval_time": at, "alertname": "CheckoutPostLatencySLIAbsent",
             "exp_alerts": [{"exp_labels": {"service": "checkout", "severity": "warning",
                                            "slo": "post-latency", "team": "payments"},
                             "exp_annotations": rule["annotations"]}] if fires else []}
            for at, fires in checks]}],
    }


def test_hand_made_absent_sli_fires_with_exact_labels(tmp_path: Path, promtool: str) -> None:
    """Hand-written series, not the generated ones. The SLI reads
    checkout_duration_seconds_count{method="POST"}: with only GET requests scraped the
    alert fires after 10m with exactly its rule's labels (no `method`, which absent()
    would copy from the selector), and a POST series that exists but never moves keeps
    it quiet."""
    out = tmp_path / "out"
    write.write(out, api.render([GOLDEN_SLOS]))
    prom = out / "prometheus"
    rules = yaml.safe_load((prom / "checkout.rules.yml").read_text())
    get = {"series": 'checkout_duration_seconds_count{method="GET",instance="a",job="c"}',
           "values": "0+5x20"}
    post = {"series": 'checkout_duration_seconds_count{method="POST",instance="a",job="c"}',
            "values": "7+0x20"}
    cases = {
        "absent": _absent_test(rules, [get], [("9m", False), ("10m", True), ("20m", True)]),
        "flat": _absent_test(rules, [get, post], [("10m", False), ("20m", False)]),
    }
    for name, test in cases.items():
        (prom / f"{name}.test.yml").write_text(yaml.safe_dump(test))
        proc = subprocess.run([promtool, "test", "rules", f"{name}.test.yml"], cwd=prom,
                              capture_output=True, text=True, check=False)
        assert proc.returncode == 0, (name, proc.stdout + proc.stderr)


@pytest.mark.parametrize("interval", ["45s", "4m"])
def test_slo_suites_at_an_interval_that_misses_the_minute(interval: str, tmp_path: Path,
                                                         promtool: str) -> None:
    """Scenario instants (10m, 70m...) that are no rule evaluation are checked at the
    evaluation before them (45s crashed the SLO prover)."""
    folder = _spec(tmp_path, "30d")
    spec = folder / "shop.yaml"
    spec.write_text(spec.read_text().replace("metrics:", f"defaults: {{interval: {interval}}}\n"
                                             "metrics:", 1))
    out = tmp_path / "out"
    write.write(out, api.render([folder]))
    proc = subprocess.run([promtool, "test", "rules", "shop.test.yml"], cwd=out / "prometheus",
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
