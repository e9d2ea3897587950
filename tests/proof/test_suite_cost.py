"""What a generated promtool suite costs, bounded in work (never in seconds): promtool
evaluates every rule of the file at every rule evaluation of every test group, up to the
group's last check, so a suite's cost is about rules x evaluations. These tests bound the
evaluations, and run the cheaper suites on the real promtool."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import yaml

from mcgen import api, write
from mcgen import promtool as mcgen_promtool
from mcgen.promql import Duration
from mcgen.proof import groups as test_groups
from mcgen.proof import reads as test_reads
from mcgen.proof.emulate import Series


def evaluations(test_doc: dict[str, Any]) -> int:
    """Rule evaluations promtool runs for a test file: per group, one per evaluation
    interval up to its last check, plus the one at 0."""
    every = Duration.parse(str(test_doc.get("evaluation_interval", "1m"))).ms
    total = 0
    for group in test_doc["tests"]:
        checks = [*group.get("alert_rule_test", ()), *group.get("promql_expr_test", ())]
        last = max(Duration.parse(str(c["eval_time"])).ms for c in checks)
        total += math.floor(last / every) + 1
    return total


def _suite(tmp_path: Path, spec: str) -> tuple[Path, dict[str, Any]]:
    specs = tmp_path / "specs"
    specs.mkdir(parents=True)
    (specs / "svc.yaml").write_text(spec, encoding="utf-8")
    out = tmp_path / "out"
    write.write(out, api.render([specs]))
    test = out / "prometheus" / "svc.test.yml"
    return out, yaml.safe_load(test.read_text(encoding="utf-8"))


STALE = """\
version: 1
service: svc
metrics:
  - name: svc_last_sync_timestamp_seconds
    type: gauge
    help: Unix time of the last sync.
    alerts:
      - alert: SyncStale
        stale_after: {after}
"""


def test_a_week_long_staleness_limit_costs_what_an_hour_costs(tmp_path: Path,
                                                              promtool: str) -> None:
    """The synthetic timestamps start as old as each case needs: proving `stale_after:
    7d` does not wait a week of evaluations (it took 10,093 before)."""
    out, week = _suite(tmp_path / "week", STALE.format(after="7d"))
    _, hour = _suite(tmp_path / "hour", STALE.format(after="1h"))
    assert evaluations(week) == evaluations(hour) <= 40
    result = mcgen_promtool.test_rules([out / "prometheus" / "svc.test.yml"], out)
    assert result.ok, result.output


# -- how cases share timelines (mcgen/proof/groups.py) ----------------------------------

RULES = {"groups": [{"name": "g", "rules": [
    {"record": "slo:ratio", "expr": "sum(rate(a_total[5m])) or on() vector(0)",
     "labels": {"slo": "a"}},
    {"record": "slo:ratio", "expr": "sum(rate(b_total[5m])) or on() vector(0)",
     "labels": {"slo": "b"}},
    {"alert": "ABurn", "expr": 'slo:ratio{slo="a"} > 1'},
    {"alert": "BBurn", "expr": 'slo:ratio{slo="b"} > 1'},
    {"alert": "XHigh", "expr": "sum by (k) (rate(x_total[5m])) > 1", "for": "2m"},
    {"alert": "XAbsent", "expr": "absent(x_total)", "for": "10m"},
]}]}
MIN = 60_000


def _unit(name: str, alert: str, held: list[tuple[str, dict[str, str]]], minutes: int,
          last_check: int) -> test_groups.Unit:
    readers = test_reads.Readers(RULES, MIN)
    series = [Series(n, tuple(sorted(lb.items())), 0.0, 1.0, minutes, MIN) for n, lb in held]
    group = {"name": name, "interval": "1m",
             "alert_rule_test": [{"eval_time": f"{last_check}m", "alertname": alert,
                                  "exp_alerts": []}]}
    return test_groups.unit(group, series, readers)


def _starts(group: dict[str, Any]) -> dict[str, str]:
    return {c["alertname"] + str(i): c["eval_time"]
            for i, c in enumerate(group["alert_rule_test"])}


def test_cases_on_one_series_run_one_after_the_other() -> None:
    """Two cases of one alert on the same series, beside a longer case of another: the
    second starts once the first's samples are out of every check's reach (last sample
    10m, rate window 5m, one evaluation with nothing, the next evaluation), on one
    promtool series written once."""
    long = _unit("long", "ABurn", [("a_total", {})], 60, 60)
    first = _unit("fires", "XHigh", [("x_total", {"k": "1"})], 10, 10)
    second = _unit("quiet", "XHigh", [("x_total", {"k": "1"})], 6, 6)
    (group,) = test_groups.pack([long, first, second], MIN)
    assert [c["eval_time"] for c in group["alert_rule_test"]] == ["60m", "10m", "23m"]
    assert group["input_series"][1] == {"series": 'x_total{k="1"}',
                                        "values": "0+1x10 _x6 0+1x6"}  # from 17m


def test_a_case_that_reads_absence_or_the_clock_never_moves() -> None:
    """absent() would see a later start's past (other cases' series, gone) as 'absent
    since t=0': such a case starts at 0 and the others wait until its checks are done."""
    present = _unit("present", "XHigh", [("x_total", {"k": "1"})], 30, 30)
    absent = _unit("absent", "XAbsent", [("unrelated", {})], 12, 12)
    assert absent.clocked and not present.clocked
    (group,) = test_groups.pack([present, absent], MIN)
    assert _starts(group) == {"XHigh0": "43m", "XAbsent1": "12m"}  # from 13m


def test_checks_of_one_slo_do_not_see_the_other_slos_inputs() -> None:
    """Both SLOs record `slo:ratio`; a check of ABurn reads only the definition labelled
    slo="a", so the cases of the two SLOs run side by side from 0."""
    a = _unit("a", "ABurn", [("a_total", {})], 10, 10)
    b = _unit("b", "BBurn", [("b_total", {})], 10, 10)
    assert a.clocked and b.clocked  # `or on() vector(0)`: they must start at 0
    (group,) = test_groups.pack([a, b], MIN)
    assert _starts(group) == {"ABurn0": "10m", "BBurn1": "10m"}
    reads = {r.name for r in a.reads}
    assert reads == {"a_total"}


def test_the_examples_suites_stay_cheap() -> None:
    """Rule evaluations of the committed examples' suites (before issue 13's packing:
    autogrowth 1,132, codehub 2,523, effect_queue 2,533)."""
    root = Path(__file__).resolve().parents[2] / "generated" / "prometheus"
    seen = {p.name.split(".")[0]: evaluations(yaml.safe_load(p.read_text(encoding="utf-8")))
            for p in sorted(root.glob("*.test.yml"))}
    assert seen["autogrowth"] <= 430 and seen["codehub"] <= 430
    assert seen["effect_queue"] <= 850


def _firing(unit: test_groups.Unit, labels: dict[str, str]) -> test_groups.Unit:
    for check in unit.group["alert_rule_test"]:
        check["exp_alerts"] = [{"exp_labels": labels}]
    return unit


def test_cases_of_one_alert_apart_by_a_label_it_keeps_run_as_one() -> None:
    """XHigh sums `by (k)`: its fire cases for k=1 and k=2, checked at the same instants,
    become one case whose checks expect both alerts; a case on the same k does not join
    (it would change the other's alert), nor one checked at other instants."""
    one = _firing(_unit("k=1", "XHigh", [("x_total", {"k": "1"})], 10, 10), {"k": "1"})
    two = _firing(_unit("k=2", "XHigh", [("x_total", {"k": "2"})], 10, 10), {"k": "2"})
    again = _firing(_unit("k=1 again", "XHigh", [("x_total", {"k": "1", "i": "b"})], 10, 10),
                    {"k": "1"})
    later = _unit("k=3 quiet", "XHigh", [("x_total", {"k": "3"})], 12, 12)
    readers = test_reads.Readers(RULES, MIN)
    assert readers.apart("XHigh").has("k") and not readers.apart("XHigh").has("i")
    units = test_groups.combine([one, two, again, later], readers)
    assert [u.group["name"] for u in units] == ["k=1 + k=2", "k=1 again", "k=3 quiet"]
    (check,) = units[0].group["alert_rule_test"]
    assert check["exp_alerts"] == [{"exp_labels": {"k": "1"}}, {"exp_labels": {"k": "2"}}]
    assert [h.key for h in units[0].held] == ['x_total{k="1"}', 'x_total{k="2"}']


def test_an_alert_that_sums_everything_keeps_its_cases_apart() -> None:
    """ABurn reads `sum(rate(a_total[5m]))` through a recording rule: every series counts
    towards its one alert, so no two of its cases may run side by side."""
    readers = test_reads.Readers(RULES, MIN)
    assert not readers.apart("ABurn").has("k")
    units = [_unit(f"a{k}", "ABurn", [("a_total", {"k": k})], 10, 10) for k in "12"]
    assert len(test_groups.combine(units, readers)) == 2


def test_a_series_a_case_names_twice_is_loaded_once() -> None:
    """Two decoys made for two reasons can be the same series (the property test found
    one: an outsider of the selector and of a ratio's denominator): promtool gets it
    once, not two overlapping copies."""
    twice = _unit("quiet", "XHigh", [("x_total", {"k": "1"}), ("x_total", {"k": "1"})], 6, 6)
    (group,) = test_groups.pack([twice], MIN)
    assert group["input_series"] == [{"series": 'x_total{k="1"}', "values": "0+1x6"}]
