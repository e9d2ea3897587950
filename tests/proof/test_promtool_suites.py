"""The generated rules and tests, run by the real promtool: the alerts mean what the
specs say. Covers every golden case and every environment of the examples; the committed
examples themselves run in test_cli.py::test_check_passes_on_fresh_outputs."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mcgen import api, write
from mcgen import promtool as mcgen_promtool

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden"


def _promtool(promtool: str, *args: str, cwd: Path) -> None:
    proc = subprocess.run([promtool, *args], cwd=cwd, capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _prove(promtool: str, out: Path) -> None:
    prom = out / "prometheus"
    rules = sorted(str(p) for p in prom.glob("*.rules.yml"))
    tests = sorted(str(p) for p in prom.glob("*.test.yml"))
    assert rules and len(rules) == len(tests)
    _promtool(promtool, "check", "rules", "--lint=duplicate-rules", "--lint-fatal", *rules,
              cwd=out)
    result = mcgen_promtool.test_rules([Path(t) for t in tests], out)  # a process per file
    assert result.ok, result.output


@pytest.mark.parametrize("case", sorted(p.name for p in GOLDEN.iterdir() if p.is_dir()))
def test_golden_outputs_pass_promtool(case: str, proof_promtool: str) -> None:
    _prove(proof_promtool, GOLDEN / case / "expected")


def _environments() -> list[tuple[str, str]]:
    import yaml

    found = []
    for spec in sorted((ROOT / "specs").glob("*.yaml")):
        for env in yaml.safe_load(spec.read_text()).get("environments", {}):
            found.append((spec.name, env))
    return found


@pytest.mark.parametrize(("spec", "env"), _environments())
def test_example_environments_pass_promtool(spec: str, env: str, proof_promtool: str,
                                            tmp_path: Path, in_root: Path) -> None:
    # Only the spec that defines the environment: the others render as committed,
    # which test_committed_examples_pass_promtool already proves.
    write.write(tmp_path, api.render([Path("specs") / spec], env))
    _prove(proof_promtool, tmp_path)
