"""The emulator against the real promtool of each engine (the canary of SPEC 11).

mcgen predicts what Prometheus computes (mcgen/proof/emulate.py) under every engine users run
and asserts only what they agree on. This file holds each engine's model to the real
thing, on exactly the situations where 2.x and 3.x differ: a sample on a range's left
edge, the instant lookback's edge, the order of rate()'s extrapolation caps, a regex `.`
against a newline, and samples shifted off the evaluation grid (where they must agree).
"""

from __future__ import annotations

import dataclasses
import math
import subprocess
from pathlib import Path
from typing import Any

import yaml
from conftest import engine_major

from mcgen import promql
from mcgen.promql import Duration, Matcher
from mcgen.proof import emulate
from mcgen.proof.emulate import V2, V3, Engine, Series
from mcgen.proof.groups import input_series

MINUTE = 60_000


def _counter(name: str, *segments: tuple[float, float, int], interval: int = MINUTE,
             offset: int = 0) -> Series:
    (start, step, count), *more = segments
    return Series(name, (("job", "canary"),), start, step, count, interval, tuple(more), offset)


# (series, evaluation time, range): rate() at the edge cases.
RATES: list[tuple[Series, int, int]] = [
    # a phase change, with the window's left edge on a sample
    (_counter("edge_total", (0, 10, 5), (60, 30, 10)), 8 * MINUTE, 5 * MINUTE),
    (_counter("edge_total", (0, 10, 5), (60, 30, 10)), 10 * MINUTE, 5 * MINUTE),
    (_counter("edge_total", (0, 10, 5), (60, 30, 10)), 15 * MINUTE, 10 * MINUTE),
    # a counter already at 8 when the range opens far before its first sample: the zero
    # point (48 s before the first sample) lies between half an interval and the 1.1 x
    # threshold, where the order of the two caps decides
    (_counter("caps_total", (8, 10, 3)), 3 * MINUTE, 10 * MINUTE),
    (_counter("caps_total", (8, 10, 3)), 3 * MINUTE, 5 * MINUTE),
    # a counter from zero, warming up: both engines agree
    (_counter("warm_total", (0, 7, 20)), 5 * MINUTE, 5 * MINUTE),
    (_counter("warm_total", (0, 7, 20)), 12 * MINUTE, 5 * MINUTE),
    # the phase change again, samples shifted half a minute off the evaluation grid
    (_counter("shifted_total", (0, 10, 5), (60, 30, 10), offset=30_000), 8 * MINUTE,
     5 * MINUTE),
    (_counter("shifted_total", (0, 10, 5), (60, 30, 10), offset=30_000), 10 * MINUTE,
     5 * MINUTE),
]
# (series, evaluation time): what an instant selector sees (the lookback's left edge).
INSTANTS: list[tuple[Series, int]] = [
    (_counter("lookback", (1, 0, 0)), 5 * MINUTE),
    (_counter("lookback", (1, 0, 0)), 4 * MINUTE),
]
NEWLINE = Series("regex_dot", (("x", "a\nb"),), 1, 0, 10, MINUTE)
DOT = Matcher("x", "=~", "a.b")


def _engine(promtool: str) -> Engine:
    return {2: V2, 3: V3}[engine_major(promtool)]


def _close(expr: str, value: float | None, at: int) -> dict[str, Any]:
    """`expr` equals `value` to 1e-12 (an absent result for None)."""
    when = str(Duration(at))
    if value is None:
        return {"expr": f"count({expr}) or vector(0)", "eval_time": when,
                "exp_samples": [{"labels": "{}", "value": 0}]}
    tolerance = max(abs(value) * 1e-12, 1e-300)
    return {"expr": f"abs(sum({expr}) - {promql.number(value)}) < bool "
                    f"{promql.number(tolerance)}",
            "eval_time": when, "exp_samples": [{"labels": "{}", "value": 1}]}


def _predictions(engine: Engine) -> list[dict[str, Any]]:
    checks = []
    for s, t, w in RATES:
        sel = promql.selector(s.name, [Matcher(k, "=", v) for k, v in s.labels])
        checks.append(_close(f"rate({sel}[{Duration(w)}])",
                             emulate.extrapolated_rate(s, t, w, engine), t))
    for s, t in INSTANTS:
        checks.append(_close(s.name, emulate.instant(s, t, engine), t))
    seen = 1 if NEWLINE.matches(NEWLINE.name, [DOT], engine) else 0
    checks.append({"expr": f"count({promql.selector(NEWLINE.name, [DOT])}) or vector(0)",
                   "eval_time": "1m", "exp_samples": [{"labels": "{}", "value": seen}]})
    return checks


def _suite(tmp_path: Path, checks: list[dict[str, Any]]) -> Path:
    (tmp_path / "rules.yml").write_text("groups: []\n")
    groups = []
    everything = [s for s, _, _ in RATES] + [s for s, _ in INSTANTS] + [NEWLINE]
    for interval in (MINUTE, 30_000):
        series = {s.name: s for s in everything if (s.offset_ms or MINUTE) == interval}
        names = set(series)
        mine = [c for c in checks if any(n in c["expr"] for n in names)]
        groups.append({"interval": str(Duration(interval)),
                       "input_series": [input_series(s, interval) for s in series.values()],
                       "promql_expr_test": mine})
    suite = {"rule_files": ["rules.yml"], "evaluation_interval": "1m", "tests": groups}
    path = tmp_path / "canary.test.yml"
    path.write_text(yaml.safe_dump(suite, allow_unicode=True, sort_keys=False))
    return path


def test_the_situations_do_tell_the_engines_apart() -> None:
    """Without differences between V2 and V3 here, the canary would prove nothing."""
    v2, v3 = _predictions(V2), _predictions(V3)
    differing = [a["expr"] for a, b in zip(v2, v3, strict=True) if a != b]
    assert len(differing) >= 5, differing
    # ...and shifted samples are where they agree
    assert not [a for a, b in zip(v2, v3, strict=True) if a != b and "shifted" in a["expr"]]
    assert all(a == b for a, b in zip(v2, v3, strict=True) if "warm_total" in a["expr"])


def test_emulator_matches_real_promtool(tmp_path: Path, promtool: str) -> None:
    engine = _engine(promtool)
    path = _suite(tmp_path, _predictions(engine))
    proc = subprocess.run([promtool, "test", "rules", path.name], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, f"{engine.name}:\n{proc.stdout}{proc.stderr}"


def test_the_other_engines_model_fails_on_this_promtool(tmp_path: Path, promtool: str) -> None:
    """The canary can fail: the other version's predictions are refused."""
    other = V3 if _engine(promtool) is V2 else V2
    path = _suite(tmp_path, _predictions(other))
    proc = subprocess.run([promtool, "test", "rules", path.name], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode != 0
    assert proc.stdout.count("expr:") + proc.stderr.count("expr:") >= 5


def test_shifting_samples_keeps_their_values() -> None:
    s = _counter("x_total", (0, 10, 5), (60, 30, 10))
    moved = dataclasses.replace(s, offset_ms=30_000)
    assert moved.values() == s.values()
    assert [t for t, _ in moved.points(0, 20 * MINUTE, V2)][:2] == [30_000, 90_000]
    assert not math.isnan(emulate.extrapolated_rate(moved, 10 * MINUTE, 5 * MINUTE, V3) or 0)
