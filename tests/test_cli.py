"""The command line as users meet it: exit codes, messages, and what is (not) written."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from mcgen import api
from mcgen.cli import app

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def no_promtool(monkeypatch: pytest.MonkeyPatch) -> None:
    """For tests about drift: promtool always agrees (the suites themselves run under the
    real promtool in test_check_passes_on_fresh_outputs and test_promtool_suites)."""
    monkeypatch.setenv("PROMTOOL", shutil.which("true") or "/bin/true")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the example specs and their committed outputs, as the working dir."""
    shutil.copytree(ROOT / "specs", tmp_path / "specs")
    shutil.copytree(ROOT / "generated", tmp_path / "generated")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_help_lists_commands() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("validate", "generate", "check", "test", "init", "schema"):
        assert command in result.output


def test_python_dash_m() -> None:
    proc = subprocess.run([sys.executable, "-m", "mcgen", "--help"], capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0 and "generate" in proc.stdout


def test_committed_outputs_are_up_to_date(in_root: Path) -> None:
    """generated/ is exactly what specs/ renders (what `mcgen check` enforces in CI)."""
    files = api.render()
    assert _tree(in_root / "generated") == {k: v.encode() for k, v in files.items()}


def test_validate_ok(project: Path) -> None:
    result = runner.invoke(app, ["validate"])
    assert result.exit_code == 0, result.output
    assert "3 spec(s)" in result.output


def test_generate_is_byte_identical_across_runs_and_hash_seeds(project: Path) -> None:
    outs = []
    for seed in ("1", "2"):
        out = project / f"out{seed}"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        proc = subprocess.run([sys.executable, "-m", "mcgen", "generate", "--out", str(out)],
                              env=env, capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stderr
        outs.append(_tree(out))
    assert outs[0] == outs[1] == _tree(project / "generated")


def test_second_generate_writes_nothing(project: Path) -> None:
    result = runner.invoke(app, ["generate"])
    assert result.exit_code == 0
    assert " 0 written" in result.output


def test_check_passes_on_fresh_outputs(project: Path, proof_promtool: str) -> None:
    """The committed examples pass `promtool check rules` and their generated tests."""
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 0, result.output


def test_check_names_stale_file_and_changes_nothing(project: Path, no_promtool: None) -> None:
    spec = project / "specs" / "codehub.yaml"
    spec.write_text(spec.read_text().replace("above: 10\n", "above: 20\n", 1))
    before = _tree(project / "generated")
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 1
    assert "generated/prometheus/codehub.rules.yml: stale" in result.stderr
    assert "generated/prometheus/codehub.test.yml: stale" in result.stderr
    assert "autogrowth" not in result.stderr
    assert _tree(project / "generated") == before


def test_check_names_missing_file(project: Path, no_promtool: None) -> None:
    (project / "generated" / "prometheus" / "codehub.test.yml").unlink()
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 1
    assert "generated/prometheus/codehub.test.yml: missing" in result.stderr


def test_invalid_spec_changes_nothing(project: Path) -> None:
    spec = project / "specs" / "codehub.yaml"
    spec.write_text(spec.read_text().replace("type: histogram", "type: histogramm", 1))
    before = _tree(project / "generated")
    result = runner.invoke(app, ["generate"])
    assert result.exit_code == 2
    line = result.stderr.strip()
    assert line.startswith("specs/codehub.yaml:") and "histogramm" in line
    assert "Traceback" not in result.output
    assert _tree(project / "generated") == before


def test_unknown_environment_is_a_usage_error(project: Path) -> None:
    result = runner.invoke(app, ["generate", "--env", "nope"])
    assert result.exit_code == 2
    assert "environment 'nope'" in result.stderr


def test_missing_path_is_a_usage_error(project: Path) -> None:
    result = runner.invoke(app, ["validate", "nowhere/"])
    assert result.exit_code == 2
    assert "nowhere" in result.stderr


def test_bad_option_exits_2(project: Path) -> None:
    assert runner.invoke(app, ["generate", "--bogus"]).exit_code == 2


def test_internal_error_exits_3_without_traceback(project: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_: object, **__: object) -> None:
        raise RuntimeError("kaput")

    monkeypatch.setattr(api, "validate", boom)
    monkeypatch.delenv("MCGEN_DEBUG", raising=False)
    result = runner.invoke(app, ["validate"])
    assert result.exit_code == 3
    assert "internal error" in result.stderr and "MCGEN_DEBUG=1" in result.stderr
    assert "Traceback" not in result.output


def test_schema_is_json_with_the_spec_keys() -> None:
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["required"] == ["version", "service", "metrics"]


def test_init_writes_a_spec_that_validates_and_proves(tmp_path: Path, promtool: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["init", "--service", "shop"])
    assert result.exit_code == 0, result.output
    spec = yaml.safe_load((tmp_path / "specs" / "shop.yaml").read_text())
    assert spec["service"] == "shop"
    assert "# " in (tmp_path / "specs" / "shop.yaml").read_text()  # commented
    assert runner.invoke(app, ["generate"]).exit_code == 0
    assert runner.invoke(app, ["test"]).exit_code == 0
    again = runner.invoke(app, ["init", "--service", "shop"])
    assert again.exit_code == 2 and "already exists" in again.stderr


def test_init_rejects_bad_service_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["init", "--service", "Bad-Name"])
    assert result.exit_code == 2
    assert not (tmp_path / "specs").exists()


def test_test_command_without_outputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      promtool: str) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["test"])
    assert result.exit_code == 2
    assert "mcgen generate" in result.stderr


def test_check_reports_orphans_of_a_renamed_service(project: Path, no_promtool: None) -> None:
    (project / ".git").mkdir()  # the project root, as in a checkout
    spec = project / "specs" / "codehub.yaml"
    spec.write_text(spec.read_text().replace("service: codehub", "service: codehub2", 1))
    runner.invoke(app, ["generate"])
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 1
    assert "generated/prometheus/codehub.rules.yml: orphan" in result.stderr
    assert "generated/grafana/codehub.json: orphan" in result.stderr
    for stub in ("python/codehub_metrics.py", "typescript/codehub_metrics.ts",
                 "go/codehub/metrics.go"):
        assert f"generated/stubs/{stub}: orphan" in result.stderr
    assert "codehub2" not in result.stderr


def test_check_does_not_depend_on_the_working_directory(project: Path, promtool: str,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    (project / ".git").mkdir()
    monkeypatch.chdir(project / "specs")
    result = runner.invoke(app, ["check", ".", "--out", "../generated"])
    assert result.exit_code == 0, result.output


def test_environment_is_named_in_headers_and_hints(project: Path, no_promtool: None) -> None:
    out = project / "staging-out"
    assert runner.invoke(app, ["generate", "--env", "phase2", "--out", str(out)]).exit_code == 0
    head = (out / "prometheus" / "effect_queue.rules.yml").read_text().splitlines()[:2]
    assert "(environment phase2)" in head[0] and "--env phase2" in head[1]
    result = runner.invoke(app, ["check", "--env", "phase2"])
    assert result.exit_code == 1
    assert "run `mcgen generate --env phase2`" in result.stderr
