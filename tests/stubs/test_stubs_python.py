"""The Python stub: ruff and mypy --strict accept it for every example, golden and hostile
spec; a wrong label value fails mypy; importing it and recording every label combination
exposes exactly the spec's metrics (names, types, help, labels, buckets), which promtool's
metric lint accepts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from stub_exposition import combinations, exposition_problems, promtool_findings

from mcgen import api, conventions
from mcgen.spec.model import Service
from mcgen.stubs import python as pystub

ROOT = Path(__file__).resolve().parents[2]
SPEC_SETS = [Path("specs"), *sorted(p.relative_to(ROOT) for p in
                                    (ROOT / "tests" / "golden").glob("*/specs")),
             Path("tests/stubs/hostile.yaml")]
BIN = Path(sys.executable).parent
# The rules generated code is held to (ruff's own defaults plus imports, pyupgrade,
# bugbear and simplify), without a line length: help texts are as long as they are.
RUFF = ["--isolated", "--select", "E,F,W,I,UP,B,SIM", "--ignore", "E501"]


def _write_stubs(tmp_path: Path) -> list[tuple[Service, Path]]:
    out = []
    for i, specs in enumerate(SPEC_SETS):
        model = api.validate([specs])
        files = api.render([specs])
        for svc in model.services:
            if all(m.external for m in svc.metrics):
                continue  # an exporter's metrics only: no stub (tests/spec/test_external.py)
            folder = tmp_path / f"{i}-{svc.name}"
            folder.mkdir()
            path = folder / f"{svc.name}_metrics.py"
            path.write_text(files[conventions.python_stub_path(svc.name)], encoding="utf-8")
            out.append((svc, path))
    return out


@pytest.fixture(scope="module")
def stubs(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Service, Path]]:
    import os
    here = os.getcwd()
    os.chdir(ROOT)
    try:
        return _write_stubs(tmp_path_factory.mktemp("pystubs"))
    finally:
        os.chdir(here)


def _run(args: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, check=False, cwd=cwd)


def test_ruff_accepts_every_stub(stubs: list[tuple[Service, Path]]) -> None:
    proc = _run([str(BIN / "ruff"), "check", *RUFF, *(str(p) for _, p in stubs)])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_strict_accepts_every_stub(stubs: list[tuple[Service, Path]]) -> None:
    for _, path in stubs:  # one run per folder: every stub is its own top-level module
        proc = _run([str(BIN / "mypy"), "--strict", "--no-incremental", path.name],
                    cwd=path.parent)
        assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_label_value_the_spec_does_not_allow_fails_mypy(
        stubs: list[tuple[Service, Path]]) -> None:
    svc, path = next((s, p) for s, p in stubs if s.name == "codehub")
    use = path.parent / "use.py"
    use.write_text(
        "from codehub_metrics import observe_codehub_workspace_operation_duration_seconds\n"
        "observe_codehub_workspace_operation_duration_seconds(1.0, operation='DELETING')\n"
        "observe_codehub_workspace_operation_duration_seconds(1.0)\n")
    try:
        proc = _run([str(BIN / "mypy"), "--strict", "--no-incremental", "use.py"],
                    cwd=path.parent)
    finally:
        use.unlink()
    assert proc.returncode == 1
    assert 'incompatible type "Literal[\'DELETING\']"' in proc.stdout
    assert 'Missing named argument "operation"' in proc.stdout


def _driver(svc: Service, module: str) -> str:
    """A program that records one sample for every metric and label combination through
    the stub's helpers, then prints the default registry's exposition."""
    lines = [f"import {module} as m", "from prometheus_client import REGISTRY, generate_latest"]
    for pm in pystub.metrics_of(svc):
        verb = {"Counter": "inc", "Gauge": "set"}.get(pm.cls, "observe")
        for combo in combinations(pm.metric):
            args = ", ".join(f"{p.ident}={combo[p.label]!r}" for p in pm.params)
            value = "2.0" if verb == "inc" else "0.7"
            lines.append(f"m.{verb}_{pm.facts.base}({value}{', ' if args else ''}{args})")
        if pm.cls in ("Histogram", "Summary"):
            args = ", ".join(f"{p.ident}={next(combinations(pm.metric))[p.label]!r}"
                             for p in pm.params)
            lines.append(f"with m.time_{pm.facts.base}({args}):\n    pass")
    lines.append("import sys; sys.stdout.write(generate_latest(REGISTRY).decode())")
    return "\n".join(lines) + "\n"


def _expose(svc: Service, path: Path) -> str:
    driver = path.parent / "driver.py"
    driver.write_text(_driver(svc, path.stem), encoding="utf-8")
    proc = _run([sys.executable, driver.name], cwd=path.parent)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_every_stub_exposes_exactly_the_spec(stubs: list[tuple[Service, Path]],
                                             promtool: str) -> None:
    for svc, path in stubs:
        text = _expose(svc, path)
        assert exposition_problems(text, svc, bounds="python") == [], svc.name
        spec_names = [m.name for m in svc.metrics]
        own = "\n".join(line for line in text.split("\n")
                        if any(name in line for name in spec_names))
        assert promtool_findings(promtool, own + "\n") == "", svc.name


def test_hostile_strings_survive(stubs: list[tuple[Service, Path]]) -> None:
    svc, path = next((s, p) for s, p in stubs if s.name == "hostile")
    text = path.read_text(encoding="utf-8")
    compile(text, str(path), "exec")  # valid Python whatever the spec's text holds
    assert exposition_problems(_expose(svc, path), svc, bounds="python") == []


def test_the_exposition_check_sees_every_difference(stubs: list[tuple[Service, Path]]) -> None:
    svc, path = next((s, p) for s, p in stubs if s.name == "codehub")
    text = _expose(svc, path)
    assert exposition_problems(text, svc, bounds="python") == []
    broken = {
        "help": text.replace("Duration of one coordinator tick", "Duration of a tick", 1),
        "bucket": text.replace('le="0.5"', 'le="0.6"'),
        "bucket spelling": text.replace('le="1.0"', 'le="1"'),
        "label value": text.replace('operation="ARCHIVING"', 'operation="DELETING"'),
        "type": text.replace("# TYPE codehub_coordinator_wc_reconcile_queue gauge",
                             "# TYPE codehub_coordinator_wc_reconcile_queue untyped"),
        "missing": "\n".join(line for line in text.split("\n") if "ws_errors" not in line),
    }
    for what, changed in broken.items():
        assert changed != text, what
        assert exposition_problems(changed, svc, bounds="python") != [], what


def test_a_label_named_like_its_metric_constant_does_not_hide_it(tmp_path: Path) -> None:
    spec = tmp_path / "clash.yaml"
    spec.write_text("version: 1\nservice: clash\nmetrics:\n"
                    "  - name: clash_total\n    type: counter\n    help: h\n"
                    "    labels: {CLASH_TOTAL: [a], value: [b]}\n", encoding="utf-8")
    (svc,) = api.validate([spec]).services
    path = tmp_path / "clash_metrics.py"
    path.write_text(api.render([spec])[conventions.python_stub_path("clash")], encoding="utf-8")
    assert "CLASH_TOTAL.labels(CLASH_TOTAL_, value_)" in path.read_text(encoding="utf-8")
    assert exposition_problems(_expose(svc, path), svc, bounds="python") == []
    proc = _run([str(BIN / "mypy"), "--strict", "--no-incremental", path.name], cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout


def test_gauge_helpers_set_inc_and_dec(tmp_path: Path) -> None:
    """A gauge's helpers move its value as prometheus_client's Gauge does (a queue grows
    with inc and shrinks with dec; set overrides both)."""
    stub = tmp_path / "codehub_metrics.py"
    stub.write_text(api.render([ROOT / "specs" / "codehub.yaml"])[
        conventions.python_stub_path("codehub")], encoding="utf-8")
    script = (
        "import codehub_metrics as m\n"
        "from prometheus_client import REGISTRY\n"
        "name = 'codehub_coordinator_wc_reconcile_queue'\n"
        "m.set_codehub_coordinator_wc_reconcile_queue(5)\n"
        "m.inc_codehub_coordinator_wc_reconcile_queue()\n"
        "m.inc_codehub_coordinator_wc_reconcile_queue(2.5)\n"
        "m.dec_codehub_coordinator_wc_reconcile_queue(0.5)\n"
        "print(REGISTRY.get_sample_value(name))\n")
    proc = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "8.0"
