"""Shared fixtures: the golden-file switch and the promtool requirement."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true",
                     help="rewrite tests/golden/*/expected from the current output")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


def need_promtool() -> str:
    """promtool's path; under CI=true a missing promtool fails instead of skipping."""
    found = os.environ.get("PROMTOOL") or shutil.which("promtool")
    if found:
        return found
    if os.environ.get("CI") == "true":
        pytest.fail("promtool is required under CI=true; run `make promtool`")
    pytest.skip("promtool not installed (run `make promtool`)")


@pytest.fixture
def promtool() -> str:
    return need_promtool()


@pytest.fixture
def node() -> str:
    """node's path; under CI=true a missing node fails instead of skipping."""
    found = shutil.which("node")
    if found:
        return found
    if os.environ.get("CI") == "true":
        pytest.fail("node is required under CI=true; run `make node`")
    pytest.skip("node not installed (run `make node`)")


@pytest.fixture
def in_root(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run with the repository root as the working directory (paths print relative)."""
    monkeypatch.chdir(ROOT)
    return ROOT
