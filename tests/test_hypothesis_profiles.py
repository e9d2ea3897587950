"""The property tests are reproducible where a landing depends on them: under CI=true and
`make test` hypothesis replays the same examples (no deadline, no example database), and
exploring new examples is `make fuzz`'s job, with a budget, never part of `make test`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
SHOW = ("from hypothesis import settings; s = settings(); "
        "print(s.derandomize, s.deadline, s.database, s.max_examples)")


def _profile(**env: str) -> str:
    """The hypothesis settings tests/conftest.py loads under `env`."""
    clean = {k: v for k, v in os.environ.items()
             if k not in ("CI", "HYPOTHESIS_PROFILE", "MCGEN_FUZZ_EXAMPLES")}
    code = f"import sys; sys.path.insert(0, 'tests'); import conftest; {SHOW}"
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**clean, **env},
                          capture_output=True, text=True, timeout=120, check=True)
    return proc.stdout.strip()


def test_ci_replays_the_same_examples_without_deadline_or_database() -> None:
    assert _profile(CI="true") == "True None None 100"
    assert _profile(HYPOTHESIS_PROFILE="ci") == "True None None 100"
    explore = _profile(HYPOTHESIS_PROFILE="fuzz", MCGEN_FUZZ_EXAMPLES="77").split()
    assert explore[0:2] == ["False", "None"] and explore[3] == "77"
    assert _profile().split()[0:2] == ["False", "None"]  # local runs explore, no deadline


def test_the_ci_profile_draws_the_same_examples_twice() -> None:
    drawn: list[list[str]] = [[], []]
    run = 0

    @settings(settings.get_profile("ci"), max_examples=30)
    @given(st.text(min_size=1))
    def probe(value: str) -> None:
        drawn[run].append(value)

    probe()
    run = 1
    probe()
    assert drawn[0] == drawn[1] and len(set(drawn[0])) > 5


def _make(target: str) -> str:
    if not shutil.which("make"):
        pytest.skip("make not installed")
    return subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=True).stdout


def test_make_test_replays_and_make_fuzz_explores_with_a_budget() -> None:
    test = [line for line in _make("test").splitlines() if "pytest" in line]
    assert test == ["HYPOTHESIS_PROFILE=ci .venv/bin/pytest"]
    fuzz = _make("fuzz")
    assert "HYPOTHESIS_PROFILE=fuzz MCGEN_FUZZ_EXAMPLES=500 .venv/bin/pytest" in fuzz
    assert "tests/test_property.py" in fuzz
