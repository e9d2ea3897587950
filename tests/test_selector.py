"""A service's own series in a shared Prometheus (SPEC 1-3, `selector`).

The golden case tests/golden/selectors holds two services, shop and cart, that both
declare http_requests_total and http_request_duration_seconds under the selectors
{job: shop} and {job: cart}, plus a metric with a selector of its own. These tests prove
on that case that:

- every PromQL series selector mcgen writes (rules, dashboard queries and variables, the
  catalog's queries) holds the selector of the metric it reads, and every read of a rate
  recorded under a selector filters on the recording service;
- the generated promtool tests notice when any one alert or SLO loses its selector (their
  decoys are other jobs' series of the same metric), on every engine;
- loaded into one Prometheus, the two services record distinct series and each service's
  alerts judge only its own job's series.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import promql_parser as pp
import pytest
import yaml

from mcgen import api, promql
from mcgen.promql import Matcher, gotemplate
from mcgen.promql import parser as promqlast
from mcgen.rules import queries
from mcgen.spec.model import Metric, Service

ROOT = Path(__file__).resolve().parent.parent
CASE = ROOT / "tests" / "golden" / "selectors"
OUT = CASE / "expected"
SERIES_SUFFIXES = ("", "_bucket", "_count", "_sum")
_OPS = {"MatchOp.Equal": "=", "MatchOp.NotEqual": "!=", "MatchOp.Re": "=~",
        "MatchOp.NotRe": "!~"}


@pytest.fixture(scope="module")
def services() -> dict[str, Service]:
    return {s.name: s for s in api.validate([CASE / "specs"]).services}


# ---- every series selector holds the selector ----------------------------------------


def _matchers(sel: pp.VectorSelector) -> set[Matcher]:
    return {Matcher(m.name, _OPS[str(m.op)], m.value) for m in sel.matchers.matchers}


def _exprs(svc: Service) -> Iterator[tuple[str, str]]:
    """(where, PromQL) of every query of a service's rules, dashboard and catalog."""
    rules = yaml.safe_load((OUT / "prometheus" / f"{svc.name}.rules.yml").read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            yield f"rule {rule.get('alert') or rule['record']}", rule["expr"]
    board = json.loads((OUT / "grafana" / f"{svc.name}.json").read_text())

    def walk(node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "expr" and isinstance(value, str):
                    yield value
                elif key == "query" and isinstance(value, str) and "label_values(" in value:
                    yield value[len("label_values("):value.rindex(",")]
                else:
                    yield from walk(value)
        elif isinstance(node, list):
            for item in node:
                yield from walk(item)
    for expr in walk(board):
        yield "dashboard", expr.replace("$__rate_interval", "5m")
    docs = (OUT / "docs" / f"{svc.name}.md").read_text()
    for block in re.findall(r"```promql\n(.*?)\n```", docs, re.S):
        yield "docs", block


def _owner(svc: Service, name: str) -> tuple[Metric, str] | None:
    for metric in svc.metrics:
        for suffix in SERIES_SUFFIXES:
            if name == metric.name + suffix:
                return metric, suffix
    return None


def test_the_case_shares_metric_names_and_has_a_metric_level_selector(
        services: dict[str, Service]) -> None:
    shop, cart = services["shop"], services["cart"]
    shared = set(shop.metric_index) & set(cart.metric_index)
    assert {"http_requests_total", "http_request_duration_seconds"} <= shared
    assert shop.selector == (Matcher("job", "=", "shop"),)
    assert cart.selector == (Matcher("job", "=", "cart"),)
    node = shop.metric("node_filesystem_avail_bytes")
    assert node.selector and node.selector != shop.selector
    kinds = {a.kind for s in services.values() for a in s.alerts}
    assert kinds == {"quantile", "rate", "ratio", "value", "stale", "absent"}


@pytest.mark.parametrize("service", ["shop", "cart"])
def test_every_series_selector_holds_the_selector(service: str,
                                                  services: dict[str, Service]) -> None:
    svc = services[service]
    checked = 0
    for where, expr in _exprs(svc):
        ast = pp.parse(expr)
        in_absent = expr.startswith("absent(")
        for sel in promqlast.selectors(ast):
            name = promqlast.metric_name(sel) or ""
            have = _matchers(sel)
            if ":" in name and not name.startswith("slo:"):
                assert Matcher("service", "=", service) in have, (where, expr)
                continue
            if not name:  # {__name__=~"a|b", ...}: a dashboard variable's series
                regex = next(m.value for m in have if m.label == "__name__")
                owned = [o for o in (_owner(svc, n) for n in regex.split("|")) if o]
                assert owned, (where, expr)
                metric = owned[0][0]
            else:
                found = _owner(svc, name)
                if found is None:
                    continue
                metric = found[0]
            assert set(metric.selector) <= have or (in_absent and _absent_form(metric, have)), (
                where, expr)
            checked += 1
    assert checked > 20


def _absent_form(metric: Metric, have: set[Matcher]) -> bool:
    """absent() reads the selector's equalities as regexes of their value (SPEC 3: the
    alert carries no selector label)."""
    for m in metric.selector:
        if m in have:
            continue
        if m.op == "=" and Matcher(m.label, "=~", promql.regex_escape(m.value)) in have:
            continue
        return False
    return True


def test_absent_alerts_carry_no_selector_label(services: dict[str, Service]) -> None:
    """absent(NAME{job="shop"}) would give the alert job="shop"; the rule reads the same
    series without that (the generated tests assert the exact labels)."""
    rules = yaml.safe_load((OUT / "prometheus" / "shop.rules.yml").read_text())
    expr = next(r["expr"] for g in rules["groups"] for r in g["rules"]
                if r.get("alert") == "ShopRequestsAbsent")
    (sel,) = promqlast.selectors(pp.parse(expr))
    equal = {m.label for m in _matchers(sel) if m.op == "="}
    assert equal == {"method"}, expr
    alert = next(a for a in services["shop"].alerts if a.name == "ShopRequestsAbsent")
    assert expr == queries.absent(alert, services["shop"].metric(alert.metric))


# ---- the generated tests notice a lost selector -------------------------------------


def _strip(expr: str, metric_selectors: list[tuple[Matcher, ...]]) -> str:
    """`expr` without the selectors' matchers (equalities also in absent()'s regex form)."""
    for selector in metric_selectors:
        for m in selector:
            forms = [str(m)]
            if m.op == "=":
                forms.append(str(Matcher(m.label, "=~", promql.regex_escape(m.value))))
            for text in forms:
                expr = expr.replace("," + text, "").replace(text + ",", "")
                expr = expr.replace("{" + text + "}", "")
    return expr


def _targets(svc: Service) -> list[str]:
    return [a.name for a in svc.alerts] + [s.alert_name for s in svc.slos]


def _rules_reading(doc: dict[str, Any], alert: str) -> set[str]:
    """The alert and every recording rule it reads, transitively."""
    every = [r for g in doc["groups"] for r in g["rules"]]
    needed = {alert}
    while True:
        exprs = [r["expr"] for r in every if (r.get("alert") or r["record"]) in needed]
        more = {r["record"] for r in every if "record" in r
                and any(r["record"] in e for e in exprs)} - needed
        if not more:
            return needed
        needed |= more


def _run(promtool: str, folder: Path, rules: dict[str, Any], tests: dict[str, Any],
         service: str) -> subprocess.CompletedProcess[str]:
    (folder / f"{service}.rules.yml").write_text(yaml.safe_dump(rules, sort_keys=False))
    test = folder / f"{service}.test.yml"
    test.write_text(yaml.safe_dump(tests, sort_keys=False))
    return subprocess.run([promtool, "test", "rules", str(test)], capture_output=True,
                          text=True, check=False)


CASES = [("shop", name) for name in ("ShopErrorRatioHigh", "ShopTrafficLow",
                                     "ShopRequestsAbsent", "ShopSlowRequests",
                                     "ShopNodeDiskLow", "ShopCatalogStale",
                                     "ShopAvailabilityErrorBudgetBurn",
                                     "ShopLatencyErrorBudgetBurn")]
CASES += [("cart", name) for name in ("CartServerErrors", "CartErrorRatioHigh",
                                      "CartPricingSlow", "CartCheckoutsPiling",
                                      "CartItemsAbsent", "CartAvailabilityErrorBudgetBurn")]


def test_cases_cover_every_alert(services: dict[str, Service]) -> None:
    assert sorted(n for _, n in CASES) == sorted(n for s in services.values()
                                                 for n in set(_targets(s)))


@pytest.mark.parametrize(("service", "alert"), CASES, ids=[a for _, a in CASES])
def test_dropping_the_selector_fails_the_generated_tests(
        service: str, alert: str, services: dict[str, Service], promtool: str,
        tmp_path: Path) -> None:
    """The alert's rule and the recordings it reads lose the selector; the alert's own
    test groups (alert checks only: the recorded values have tests of their own) must
    then fail, and pass unmutated."""
    svc = services[service]
    rules = yaml.safe_load((OUT / "prometheus" / f"{service}.rules.yml").read_text())
    tests = yaml.safe_load((OUT / "prometheus" / f"{service}.test.yml").read_text())
    # (A group may share its timeline with other alerts' cases: only this alert's checks.)
    groups = [{**{k: v for k, v in t.items() if k != "promql_expr_test"},
               "alert_rule_test": [c for c in t["alert_rule_test"] if c["alertname"] == alert]}
              for t in tests["tests"]
              if any(c["alertname"] == alert for c in t.get("alert_rule_test", ()))]
    assert groups
    kept = {**tests, "tests": groups}
    needed = _rules_reading(rules, alert)
    for group in rules["groups"]:
        group["rules"] = [r for r in group["rules"] if (r.get("alert") or r["record"]) in needed]
    rules["groups"] = [g for g in rules["groups"] if g["rules"]]
    baseline = _run(promtool, tmp_path, rules, kept, service)
    assert baseline.returncode == 0, baseline.stdout + baseline.stderr
    selectors = sorted({m.selector for m in svc.metrics if m.selector})
    changed = 0
    for group in rules["groups"]:
        for rule in group["rules"]:
            stripped = _strip(rule["expr"], selectors)
            changed += stripped != rule["expr"]
            rule["expr"] = stripped
    assert changed, f"no selector found in the rules of {alert}"
    mutated = _run(promtool, tmp_path, rules, kept, service)
    assert mutated.returncode != 0, f"the tests of {alert} did not notice the lost selector"


# ---- two services in one Prometheus -------------------------------------------------


def test_recorded_series_of_the_two_services_never_coincide() -> None:
    recorded: dict[str, list[dict[str, str]]] = {}
    for service in ("shop", "cart"):
        doc = yaml.safe_load((OUT / "prometheus" / f"{service}.rules.yml").read_text())
        for group in doc["groups"]:
            for rule in group["rules"]:
                if "record" in rule:
                    assert rule["labels"]["service"] == service, rule
                    recorded.setdefault(rule["record"], []).append(rule["labels"])
    both = {name for name, labels in recorded.items()
            if {lb["service"] for lb in labels} == {"shop", "cart"}}
    assert "code_method:http_requests_total:rate5m" in both
    assert "slo:sli_error:ratio_rate5m" in both


SHARED_TEST = """
rule_files: [shop.rules.yml, cart.rules.yml]
evaluation_interval: 1m
group_eval_order: [shop-recording, cart-recording, shop-slos, cart-slos, shop-alerts,
                   cart-alerts]
tests:
  - interval: 1m
    input_series:
      - series: 'http_requests_total{job="shop",instance="a:1",code="200",method="POST"}'
        values: 0+60x60
      - series: 'http_requests_total{job="shop",instance="a:1",code="500",method="POST"}'
        values: 0+0x60
      - series: 'http_requests_total{job="cart",instance="b:1",code="200",method="POST"}'
        values: 0+60x60
      - series: 'http_requests_total{job="cart",instance="b:1",code="500",method="POST"}'
        values: 0+120x60
    promql_expr_test:
      - expr: round(code_method:http_requests_total:rate5m, 0.001)
        eval_time: 30m
        exp_samples:
          - {labels: '{code="200",method="POST",service="shop"}', value: 1}
          - {labels: '{code="500",method="POST",service="shop"}', value: 0}
          - {labels: '{code="200",method="POST",service="cart"}', value: 1}
          - {labels: '{code="500",method="POST",service="cart"}', value: 2}
      - expr: round(slo:sli_error:ratio_rate5m{slo="availability"}, 0.001)
        eval_time: 30m
        exp_samples:
          - {labels: '{service="shop",slo="availability"}', value: 0}
          - {labels: '{service="cart",slo="availability"}', value: 0.667}
    alert_rule_test:
      - {alertname: ShopErrorRatioHigh, eval_time: 30m, exp_alerts: []}
      - {alertname: ShopAvailabilityErrorBudgetBurn, eval_time: 30m, exp_alerts: []}
      - alertname: CartErrorRatioHigh
        eval_time: 30m
        exp_alerts:
          - exp_labels: {service: cart, severity: warning, team: cart}
      - alertname: CartServerErrors
        eval_time: 30m
        exp_alerts:
          - exp_labels: {method: POST, service: cart, severity: warning, team: cart}
"""


def test_each_service_judges_only_its_own_job(promtool: str, tmp_path: Path) -> None:
    """Both rule files in one Prometheus: cart's job fails 2/3 of its requests, shop's
    none. Each service records its own series of the shared names; shop stays quiet."""
    for service in ("shop", "cart"):
        text = (OUT / "prometheus" / f"{service}.rules.yml").read_text()
        (tmp_path / f"{service}.rules.yml").write_text(text)
    doc = yaml.safe_load(SHARED_TEST)
    values = {"CartErrorRatioHigh": 2 / 3, "CartServerErrors": 2.0}
    for check in doc["tests"][0]["alert_rule_test"]:
        for alert in check["exp_alerts"]:
            alert["exp_annotations"] = _annotations(check["alertname"], alert["exp_labels"],
                                                    values[check["alertname"]])
    test = tmp_path / "shared.test.yml"
    test.write_text(yaml.safe_dump(doc, sort_keys=False))
    proc = subprocess.run([promtool, "test", "rules", str(test)], capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _annotations(alert: str, labels: dict[str, str], value: float) -> dict[str, str]:
    """The annotations the cart rules give these alerts at `value` (humanized, so the
    last digits of the rate arithmetic do not matter)."""
    doc = yaml.safe_load((OUT / "prometheus" / "cart.rules.yml").read_text())
    rule = next(r for g in doc["groups"] for r in g["rules"] if r.get("alert") == alert)
    return {k: gotemplate.parse(t).render(labels, value) for k, t in rule["annotations"].items()}


@pytest.mark.parametrize(("a", "b", "apart"), [
    ({"job": "shop"}, {"job": "cart"}, True),
    ({"job": "~shop-.*"}, {"job": "~cart-.*"}, True),
    ({"job": "~(?i)shop.*"}, {"job": "~SHOP.*"}, False),  # SHOP-1 matches both
    ({"job": "~shop.*"}, {"job": "~shopping.*"}, False),
    ({"job": ["a", "b"]}, {"job": "!a"}, False),
    ({"job": ["a", "b"]}, {"job": "c"}, True),
    ({"job": "shop"}, {"namespace": "x"}, False),
])
def test_disjoint_selectors(a: dict[str, Any], b: dict[str, Any], apart: bool) -> None:
    from mcgen.spec.matchers import disjoint

    def parse(raw: dict[str, Any]) -> list[Matcher]:
        return [Matcher.from_spec(k, v) for k, v in raw.items()]

    assert disjoint(parse(a), parse(b)) is apart
    assert disjoint(parse(b), parse(a)) is apart
