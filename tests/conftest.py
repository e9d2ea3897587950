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


# Where the Go stubs' tests find client_golang (GOPATH mode, offline): Debian's packages.
GOCODE = Path(os.environ.get("MCGEN_GOCODE", "/usr/share/gocode"))


@pytest.fixture(scope="session")
def go() -> str:
    """go's path, with client_golang under GOCODE; under CI=true a missing one fails
    instead of skipping."""
    found = shutil.which("go")
    client = GOCODE / "src/github.com/prometheus/client_golang/prometheus/promauto"
    if found and client.is_dir():
        return found
    missing = "go" if not found else f"client_golang in {GOCODE} (or set MCGEN_GOCODE)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{missing} is required under CI=true; run `make go`")
    pytest.skip(f"{missing} not installed (run `make go`)")
