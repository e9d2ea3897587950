"""Where promtool's CPU goes on one generated suite (issue 13).

Usage: .venv/bin/python bench/promtool_cost.py OUT/prometheus/<svc>.test.yml
                                               [--engine PROMTOOL ...] [--runs N]

For each engine (promtool on PATH, .engines/trixie and .engines/sid unless --engine is
given), run as `mcgen check` runs it (GOGC=400 unless set), CPU medians of --runs:
  * the whole suite, its test groups and rule evaluations (promtool evaluates every rule
    of the file at every evaluation of every group, from 0 to the group's last check);
  * the cost of one evaluation of the whole rule file and of setting up one group,
    from suites of the same rule file that only evaluate (a series no rule reads);
  * each group alone, against what the two figures above predict for it.
Writes its variants next to the suite (_cost_*.test.yml) and removes them. Informs only.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

import bench  # bench.py beside this file: the engines it finds
from mcgen.promql import Duration


def cpu(promtool: str, suite: Path, runs: int) -> float:
    """Median CPU seconds (user + sys) of `promtool test rules` on the suite."""
    seen = []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([promtool, "test", "rules", suite.name], cwd=suite.parent,
                       capture_output=True, check=False,
                       env={**os.environ, "GOGC": os.environ.get("GOGC", "400")})
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        seen.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(seen)


def evaluations(group: dict[str, Any], every_ms: int) -> int:
    checks = [*group.get("alert_rule_test", ()), *group.get("promql_expr_test", ())]
    last = max(Duration.parse(str(c["eval_time"])).ms for c in checks)
    return last // every_ms + 1


def idle(minutes: int, groups: int) -> list[dict[str, Any]]:
    """Groups that only evaluate the rules: one series no rule reads, no alert expected."""
    return [{"name": f"idle {i}", "interval": "1m",
             "input_series": [{"series": "mcgen_cost_idle", "values": f"0+0x{minutes + 1}"}],
             "alert_rule_test": [{"eval_time": f"{minutes}m", "alertname": "McgenCostNone",
                                  "exp_alerts": []}]} for i in range(groups)]


def main() -> int:
    parser = argparse.ArgumentParser(description="Where promtool's CPU goes on one suite.")
    parser.add_argument("suite", type=Path)
    parser.add_argument("--engine", action="append", help="promtool to run (repeatable)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    suite: Path = args.suite.resolve()
    doc = yaml.safe_load(suite.read_text(encoding="utf-8"))
    every = Duration.parse(str(doc.get("evaluation_interval", "1m"))).ms
    tests = doc["tests"]
    evals = [evaluations(g, every) for g in tests]
    engines = [(e, e) for e in args.engine] if args.engine else bench.engines()
    made: list[Path] = []

    def variant(name: str, groups: list[dict[str, Any]]) -> Path:
        path = suite.with_name(f"_cost_{name}.test.yml")
        path.write_text(yaml.safe_dump({**doc, "tests": groups}, sort_keys=False,
                                       width=10**9), encoding="utf-8")
        made.append(path)
        return path

    try:
        print(f"{suite.name}: {len(tests)} groups, {sum(evals)} evaluations of the rule file")
        for name, promtool in engines:
            whole = cpu(promtool, suite, args.runs)
            empty = cpu(promtool, variant("empty", []), args.runs)
            short, long_ = (cpu(promtool, variant(f"idle{m}", idle(m, 1)), args.runs)
                            for m in (10, 130))
            per_eval = (long_ - short) / 120
            many = cpu(promtool, variant("idle10x8", idle(10, 8)), args.runs)
            per_group = (many - short) / 7 - 11 * per_eval
            print(f"\n{name}: whole suite {whole:.2f}s; one evaluation of the rule file "
                  f"{per_eval * 1000:.2f}ms; one group's set-up {per_group * 1000:.0f}ms; "
                  f"predicted {empty + sum(evals) * per_eval + len(tests) * per_group:.2f}s")
            for i, (group, n) in enumerate(zip(tests, evals, strict=True)):
                alone = cpu(promtool, variant(f"alone{i}", [group]), args.runs) - empty
                print(f"  {alone:5.2f}s (predicted {n * per_eval + per_group:4.2f}s) "
                      f"{n:4d} evaluations  {str(group['name'])[:70]}")
    finally:
        for path in made:
            path.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
