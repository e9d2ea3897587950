"""VictoriaMetrics' vmalert accepts the generated rules files (SPEC 11's engines teams grow
into): `vmalert -dryRun` parses every group, rule and MetricsQL expression and checks the
annotation templates, on every example spec (each environment too) and golden case."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

from mcgen import api

GOLDEN = ROOT / "tests" / "golden"


def _cases() -> list[tuple[str, list[Path], str | None]]:
    found: list[tuple[str, list[Path], str | None]] = []
    for spec in sorted((ROOT / "specs").glob("*.yaml")):
        found.append((spec.stem, [spec], None))
        for env in yaml.safe_load(spec.read_text(encoding="utf-8")).get("environments", {}):
            found.append((f"{spec.stem}-{env}", [spec], env))
    for case in sorted(p for p in GOLDEN.iterdir() if p.is_dir()):
        found.append((f"golden-{case.name}", [case / "specs"], None))
    return found


def _dry_run(vmalert: str, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([vmalert, "-dryRun", f"-rule={path}", "-loggerLevel=ERROR"],
                          capture_output=True, text=True, check=False, timeout=120)


@pytest.mark.parametrize(("name", "paths", "env"), _cases(), ids=[c[0] for c in _cases()])
def test_vmalert_accepts_rules(name: str, paths: list[Path], env: str | None, vmalert: str,
                               tmp_path: Path) -> None:
    files = api.render(paths, env, config=tmp_path / "mcgen.toml")
    rules = {p: t for p, t in files.items() if p.endswith(".rules.yml")}
    assert rules
    for rel, text in rules.items():
        path = tmp_path / Path(rel).name
        path.write_text(text, encoding="utf-8")
        proc = _dry_run(vmalert, path)
        assert proc.returncode == 0, f"{rel}: {proc.stdout}{proc.stderr}"


def test_vmalert_refuses_what_it_should(vmalert: str, tmp_path: Path) -> None:
    """The check can fail: a Mimir namespace file (its `namespace` key) and a bad
    expression are refused."""
    files = api.render([ROOT / "tests/golden/routing/specs"],
                       config=ROOT / "tests/golden/routing/mcgen.toml")
    mimir = tmp_path / "mimir.yml"
    mimir.write_text(files["mimir/shop.yml"], encoding="utf-8")
    assert _dry_run(vmalert, mimir).returncode != 0
    broken = tmp_path / "broken.yml"
    broken.write_text("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: sum(rate(x[5m]) by\n",
                      encoding="utf-8")
    assert _dry_run(vmalert, broken).returncode != 0
