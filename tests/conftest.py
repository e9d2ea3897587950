"""Shared fixtures: the golden-file switch and the promtool requirement."""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent

# Hypothesis profiles. "ci" (CI=true, and `make test`): the same examples on every run, so
# a landing never depends on the luck of the draw; no deadline (a busy machine is not a
# failure); no example database. "fuzz" (`make fuzz`, never part of `make test`): explores
# new examples, MCGEN_FUZZ_EXAMPLES per property test. "dev" (plain pytest elsewhere):
# explores, no deadline. HYPOTHESIS_PROFILE picks one by name. (Hypothesis loads a built-in
# "ci" profile of its own when it detects CI; ours is explicit, and `make test` uses it.)
FUZZ_EXAMPLES = int(os.environ.get("MCGEN_FUZZ_EXAMPLES", "500"))
settings.register_profile("ci", derandomize=True, deadline=None, database=None,
                          print_blob=True)
settings.register_profile("fuzz", deadline=None, max_examples=FUZZ_EXAMPLES, print_blob=True)
settings.register_profile("dev", deadline=None)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE") or (
    "ci" if os.environ.get("CI") == "true" else "dev")
settings.load_profile(PROFILE)


def max_examples(default: int) -> int:
    """A property test's number of examples: its own, or the fuzz run's budget."""
    return FUZZ_EXAMPLES if PROFILE == "fuzz" else default


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true",
                     help="rewrite tests/golden/*/expected from the current output")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


# The engines every proof runs on (SPEC 11): the promtool and prometheus on PATH (Debian
# bookworm's 2.42 on the CI machine; PROMTOOL and PROMETHEUS override them), and those
# `make engines` unpacks from Debian's trixie (2.53) and sid (3.5 LTS) packages.
ENGINE_DIR = ROOT / ".engines"


@dataclass(frozen=True)
class Engine:
    key: str  # path | trixie | sid
    promtool: str | None
    prometheus: str | None
    how: str  # what to run when it is missing

    @property
    def version(self) -> str:
        return _version(self.promtool) if self.promtool else "missing"

    @property
    def id(self) -> str:
        return f"promtool-{self.version}" if self.promtool else f"promtool-{self.key}"


@functools.cache
def _version(binary: str) -> str:
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True,
                             timeout=30, check=False).stdout
    except OSError:
        return "broken"
    found = re.search(r"version (\d+\.\d+)", out)
    return found.group(1) if found else "unknown"


def engine_major(promtool: str) -> int:
    """The major version of a promtool binary (2 or 3)."""
    return int(_version(promtool).split(".")[0])


def _unpacked(suite: str, name: str) -> str | None:
    path = ENGINE_DIR / suite / "usr/bin" / name
    return str(path) if path.is_file() else None


ENGINES = {
    "path": Engine("path", os.environ.get("PROMTOOL") or shutil.which("promtool"),
                   os.environ.get("PROMETHEUS") or shutil.which("prometheus"),
                   "run `make promtool` (Debian's prometheus package) or set PROMTOOL"),
    "trixie": Engine("trixie", _unpacked("trixie", "promtool"), _unpacked("trixie", "prometheus"),
                     "run `make engines` (Prometheus 2.53 from Debian trixie)"),
    "sid": Engine("sid", _unpacked("sid", "promtool"), _unpacked("sid", "prometheus"),
                  "run `make engines` (Prometheus 3.5 from Debian sid)"),
}
# Alertmanager 0.33's amtool and VictoriaMetrics' vmalert, which `make engines` unpacks from
# Debian sid's prometheus-alertmanager and victoria-metrics packages (AMTOOL and VMALERT
# override them). mcgen's own runs (`mcgen check` on specs/, which route alerts) use this
# amtool too.
AMTOOL = (os.environ.get("AMTOOL") or _unpacked("alertmanager-sid", "amtool")
          or shutil.which("amtool"))
VMALERT = (os.environ.get("VMALERT") or _unpacked("victoria-sid", "vmalert")
           or shutil.which("vmalert"))
if AMTOOL:
    os.environ["AMTOOL"] = AMTOOL


def _tool(found: str | None, what: str) -> str:
    if found:
        return found
    message = f"{what} not found; run `make engines`"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (required under CI=true)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def amtool() -> str:
    """amtool of Alertmanager 0.33; under CI=true a missing one fails instead of skipping."""
    return _tool(AMTOOL, "amtool (Alertmanager 0.33, Debian sid's prometheus-alertmanager)")


@pytest.fixture(scope="session")
def vmalert() -> str:
    """VictoriaMetrics' vmalert; under CI=true a missing one fails instead of skipping."""
    return _tool(VMALERT, "vmalert (Debian sid's victoria-metrics)")


# MCGEN_ENGINES=path (say) narrows a local run to one engine; CI runs them all.
_CHOSEN = [k for k in os.environ.get("MCGEN_ENGINES", "path,trixie,sid").split(",") if k]
# Proofs (the generated suites of the examples and golden cases) run on all three; the
# heavier tests (mutations, property, stubs, e2e) on one 2.x and one 3.x.
PROOF_ENGINES = [ENGINES[k] for k in ENGINES if k in _CHOSEN]
MAJOR_ENGINES = [ENGINES[k] for k in ("path", "sid") if k in _CHOSEN]


def _missing(what: str, engine: Engine) -> NoReturn:
    message = f"{what} of engine '{engine.key}' not found; {engine.how}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (required under CI=true)")
    pytest.skip(message)


def need_promtool(engine: Engine = ENGINES["path"]) -> str:
    """promtool's path; under CI=true a missing promtool fails instead of skipping."""
    if engine.promtool:
        return engine.promtool
    _missing("promtool", engine)


def need_prometheus(engine: Engine = ENGINES["path"]) -> str:
    """prometheus's path; under CI=true a missing binary fails instead of skipping."""
    if engine.prometheus:
        return engine.prometheus
    _missing("prometheus", engine)


def _use(monkeypatch: pytest.MonkeyPatch, engine: Engine) -> str:
    """The engine's promtool, also made the one mcgen itself runs (PROMTOOL)."""
    found = need_promtool(engine)
    monkeypatch.setenv("PROMTOOL", found)
    return found


@pytest.fixture(params=MAJOR_ENGINES, ids=lambda e: e.id)
def promtool(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """promtool of a 2.x and of a 3.x engine, in turn."""
    return _use(monkeypatch, request.param)


@pytest.fixture(params=PROOF_ENGINES, ids=lambda e: e.id)
def proof_promtool(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """promtool of every engine users run: 2.42, 2.53 and 3.5, in turn."""
    return _use(monkeypatch, request.param)


@pytest.fixture(scope="module", params=MAJOR_ENGINES,
                ids=lambda e: e.id.replace("promtool", "prometheus"))
def prometheus(request: pytest.FixtureRequest) -> str:
    """A prometheus server binary of a 2.x and of a 3.x engine, in turn."""
    return need_prometheus(request.param)


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
