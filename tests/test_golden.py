"""Golden files: the generated text of each tests/golden/<case>/specs did not change.

A case may hold an `env` file naming the environment to generate for, and an `mcgen.toml`
(its [generate] targets and [kubernetes] settings) to generate with. Rewrite the
expected files with `pytest --update-golden` and review the diff like code.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mcgen import api

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(p.name for p in GOLDEN.iterdir() if p.is_dir())


def _render(case: str) -> dict[str, str]:
    folder = Path("tests/golden") / case
    env_file = folder / "env"
    env = env_file.read_text().strip() if env_file.exists() else None
    return api.render([folder / "specs"], env, folder / "mcgen.toml")


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str, update_golden: bool, in_root: Path) -> None:
    files = _render(case)
    expected = GOLDEN / case / "expected"
    if update_golden:
        shutil.rmtree(expected, ignore_errors=True)
        for rel, text in files.items():
            (expected / rel).parent.mkdir(parents=True, exist_ok=True)
            (expected / rel).write_text(text, encoding="utf-8")
    on_disk = {p.relative_to(expected).as_posix() for p in expected.rglob("*") if p.is_file()}
    assert on_disk == set(files), "the set of generated files changed (--update-golden?)"
    for rel, text in files.items():
        assert (expected / rel).read_text(encoding="utf-8") == text, f"{case}/{rel} changed"


def test_cases_exist() -> None:
    assert {"minimal", "all_kinds", "all_kinds_staging"} <= set(CASES)
