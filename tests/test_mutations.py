"""The generated tests must fail when the rules are wrong.

Each case edits one generated rule the way a hand edit or a generator bug could, and
runs the generated promtool tests against it: they must fail. A mutation that survives
means the tests do not prove what they claim.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mcgen import api, write

ROOT = Path(__file__).resolve().parent.parent

MUTATIONS = [
    # (service, text in the rules file, replacement, what the tests must notice)
    ("codehub", '{error_type!="connection_closed"}', "", "select dropped"),
    ("codehub", 'STARTING|STOPPING"})) > 5', 'STARTING"})) > 5', "override value dropped"),
    ("codehub", "max(codehub_coordinator_wc_reconcile_queue) > 10",
     "max(codehub_coordinator_wc_reconcile_queue) * 0 > 10", "quantity broken"),
    ("codehub", "max(codehub_coordinator_wc_reconcile_queue)",
     "min(codehub_coordinator_wc_reconcile_queue)", "max became min"),
    ("codehub", "max(codehub_coordinator_wc_reconcile_queue)",
     "avg(codehub_coordinator_wc_reconcile_queue)", "max became avg"),
    ("codehub", "> 86400", "> 85000", "stale threshold lowered"),
    ("codehub", "> 86400", "> 88000", "stale threshold raised"),
    ("codehub", "rate5m > 0.1", "rate5m > 0.105", "rate threshold raised 5%"),
    ("codehub", "> 5)", "> 5.1)", "override threshold raised 2%"),
    ("codehub", "> 5)", "> 4.9)", "override threshold lowered 2%"),
    ("codehub", "time() - max by (operation)", "time() - min by (operation)",
     "stale max became min"),
    ("codehub", '{operation=~"STARTING|STOPPING"}) > 86400', ") > 86400", "stale select dropped"),
    ("codehub", "for: 10m", "for: 9m", "for shortened"),
    ("codehub", "absent(codehub_coordinator_tick_total)", "absent(codehub_coordinator_ticks_total)",
     "absent metric renamed"),
    ("codehub", "service: codehub", "service: code-hub", "label value changed"),
    ("effect_queue", 'status="succeeded"', 'status=~".+"', "select widened"),
]


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("mutations")
    write.write(out, api.render([ROOT / "specs"]))
    return out


@pytest.mark.parametrize(("service", "old", "new", "what"), MUTATIONS,
                         ids=[m[3] for m in MUTATIONS])
def test_generated_tests_catch(service: str, old: str, new: str, what: str, outputs: Path,
                               promtool: str, tmp_path: Path) -> None:
    prom = tmp_path / "prometheus"
    prom.mkdir()
    rules = (outputs / "prometheus" / f"{service}.rules.yml").read_text()
    assert old in rules, f"mutation target not found: {old}"
    (prom / f"{service}.rules.yml").write_text(rules.replace(old, new, 1))
    test = outputs / "prometheus" / f"{service}.test.yml"
    (prom / test.name).write_text(test.read_text())
    proc = subprocess.run([promtool, "test", "rules", str(prom / test.name)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode != 0, f"the generated tests did not notice: {what}"


def test_unmutated_rules_pass(outputs: Path, promtool: str) -> None:
    tests = sorted(str(p) for p in (outputs / "prometheus").glob("*.test.yml"))
    proc = subprocess.run([promtool, "test", "rules", *tests], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
