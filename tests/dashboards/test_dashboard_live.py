"""The generated dashboards' queries on a real Prometheus: a synthetic exporter per spec
(live_prometheus.py) is scraped every second and the generated rules are evaluated every
second; after SCRAPE_FOR seconds every target of every panel must return data, and every
label variable must list the spec's values.

NaN policy: a value must be finite, except in the series of a `histogram_quantile`
query, which Prometheus answers with NaN for a group that had no observations in the
window (a real, expected state of a quiet histogram); even there at least one series of
the query must be finite. Every other query (rates, ratios, gauges, SLO recordings, which
the rules keep at 0 without traffic) must never be NaN or infinite.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import live_prometheus as lp
import pytest

from mcgen.promql import Matcher

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("codehub", "autogrowth", "effect_queue")
SCRAPE_FOR = 25.0  # seconds of data before the first query
RANGE_STEP = 1.0

Live = tuple[lp.Generated, lp.Prometheus]


@pytest.fixture(scope="module")
def live(prometheus: str) -> Iterator[Live]:
    binary = prometheus
    generated = lp.generate([ROOT / "specs" / f"{name}.yaml" for name in SERVICES])
    with lp.live(generated, binary) as prom:
        time.sleep(max(0.0, prom.started + SCRAPE_FOR - time.time()))
        yield generated, prom


def _targets(board: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(panel title, refId, expr) of every query of the dashboard (collapsed rows too)."""
    for panel in (q for p in board["panels"] for q in (p, *p.get("panels", []))):
        for target in panel.get("targets", []):
            yield panel["title"], target["refId"], target["expr"]


def _grafana_regex(value: str) -> str:
    """How Grafana escapes a selected value inside =~ (prometheusRegularEscape)."""
    return re.sub(r"([\\^$*+?.()|\[\]{}])", r"\\\1", value)


def _judge(expr: str, values: list[float]) -> list[str]:
    """Problems with the values of one query, under the module's NaN policy."""
    quantile = "histogram_quantile(" in expr  # a verdict stat takes max() of one
    if not any(math.isfinite(v) for v in values):
        return [f"no finite value among {len(values)} ({values[:5]})"]
    bad = [v for v in values if math.isinf(v) or (math.isnan(v) and not quantile)]
    return [f"non-finite values {bad[:5]}"] if bad else []


def test_every_panel_query_returns_finite_data(live: Live) -> None:
    generated, prom = live
    problems: list[str] = []
    nans: list[str] = []
    checked = 0
    end = time.time()
    start = prom.started + 10  # the raw rates need a few scrapes
    for name in SERVICES:
        for title, ref, raw in _targets(generated.dashboards[name]):
            expr = lp.substitute(raw)
            where = f"{name} / {title} / {ref}: {expr}"
            instant = prom.query(expr, at=end)
            if not instant:
                problems.append(f"{where}: instant query returned no series")
            else:
                values = [v for _, v in instant]
                problems += [f"{where}: instant: {p}" for p in _judge(expr, values)]
            ranged = prom.query_range(expr, start, end, RANGE_STEP)
            points = [v for _, series in ranged for _, v in series]
            if not ranged:
                problems.append(f"{where}: range query returned no series")
            else:
                problems += [f"{where}: range: {p}" for p in _judge(expr, points)]
            if any(math.isnan(v) for v in points) or any(math.isnan(v) for _, v in instant):
                nans.append(where)
            checked += 1
    assert checked > 100, checked  # every dashboard was read
    print(f"{checked} queries checked; NaN (allowed in histogram_quantile only) in: {nans}")
    assert not problems, "\n".join(problems)


def _expected_values(generated: lp.Generated, selector: str | None, label: str) -> set[str]:
    """The values the exporter gives `label` on the metrics `selector` names."""
    names = set(re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*", selector or ""))
    out: set[str] = set()
    for svc in generated.services:
        for metric in svc.metrics:
            series = {metric.name, *(f"{metric.name}_{s}" for s in ("count", "bucket", "sum"))}
            if (selector is None or series & names) and metric.label(label) is not None:
                out |= set(lp.label_values(metric)[label])
    return out


def test_label_variables_list_the_declared_values(live: Live) -> None:
    generated, prom = live
    problems = []
    for name in SERVICES:
        svc = next(s for s in generated.services if s.name == name)
        variables = [v for v in generated.dashboards[name]["templating"]["list"]
                     if v["type"] == "query"]
        declared = {lb.name for m in svc.metrics for lb in m.labels}
        targets = [v for v in variables if v["name"] in ("job", "instance")]
        assert {v["name"] for v in variables} == declared | {v["name"] for v in targets}, name
        assert "instance" in {v["name"] for v in targets}, name
        for var in targets:  # the exporter's one target
            selector, label = lp.parse_label_values(var["query"])
            found = prom.label_values(label, lp.substitute(selector or ""))
            if len(found) != 1:
                problems.append(f"{name} ${var['name']}: {var['query']} lists {found}")
        for var in (v for v in variables if v not in targets):
            selector, label = lp.parse_label_values(var["query"])
            assert selector is not None, var["query"]
            expected = _expected_values(generated, selector, label)
            found = set(prom.label_values(label, selector))
            if found != expected or not expected:
                problems.append(f"{name} ${var['name']}: {var['query']} lists {sorted(found)}, "
                                f"spec values {sorted(expected)}")
    assert not problems, "\n".join(problems)


_MATCHER = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)(=~|!~|!=|=)"((?:[^"\\]|\\.)*)"')


def _fixed_matchers_accept(expr: str, label: str, variable: str, value: str) -> bool:
    """Whether the query's own matchers on `label` (not the variable's) keep `value`: a
    panel showing what an alert evaluates keeps the alert's `select`."""
    for found, op, text in _MATCHER.findall(expr):
        if found != label or f"${{{variable}}}" in text:
            continue
        literal = text.encode().decode("unicode_escape")
        if not Matcher(label, op, literal).matches(value):
            return False
    return True


def test_a_selected_variable_value_filters_every_query_using_it(live: Live) -> None:
    """Select each value of each variable in turn: every query using the variable still
    returns data (unless its own matchers exclude the value), and the series that keep the
    label carry only that value."""
    generated, prom = live
    problems = []
    for name in SERVICES:
        board = generated.dashboards[name]
        for var in (v for v in board["templating"]["list"] if v["type"] == "query"):
            selector, label = lp.parse_label_values(var["query"])
            for title, ref, raw, value in (
                    (*t, value) for t in _targets(board) if f"${{{var['name']}}}" in t[2]
                    for value in sorted(_expected_values(generated, selector, label))):
                result = prom.query(lp.substitute(raw, {var["name"]: _grafana_regex(value)}))
                where = f"{name} / {title} / {ref} with {var['name']}={value}"
                kept = _fixed_matchers_accept(raw, label, var["name"], value)
                if bool(result) != kept:
                    problems.append(f"{where}: {len(result)} series, expected "
                                    f"{'some' if kept else 'none (its own matchers exclude it)'}")
                wrong = {lbs[label] for lbs, _ in result if lbs.get(label, value) != value}
                if wrong:
                    problems.append(f"{where}: series with {label} in {sorted(wrong)}")
    assert not problems, "\n".join(problems)
