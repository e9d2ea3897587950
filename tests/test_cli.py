"""The command line as users meet it: exit codes, messages, and what is (not) written."""

from __future__ import annotations

import json
import os
import re
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
    for command in ("validate", "generate", "check", "test", "init", "schema", "alertmanager"):
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
    # What it is doing, before the slow part; then each file with its time.
    first, *rest = result.stdout.splitlines()
    assert first.startswith("3 spec(s) valid, ") and ": check 3 rules file(s), test 3 " \
        "suite(s), " in first
    assert re.fullmatch(r"generated/prometheus/codehub\.test\.yml: ok \(\d+\.\d s\)",
                        next(line for line in rest if "codehub.test" in line))


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


# -- what `mcgen check` and `mcgen test` say ----------------------------------------------
SHOP = """\
version: 1
service: shop
metrics:
  - name: shop_requests_total
    type: counter
    help: Requests.
    labels: {status: [ok, error]}
    alerts:
      - alert: ShopErrorsHigh
        rate: true
        select: {status: error}
        above: 1
slos:
  - name: availability
    objective: 99.9
    sli:
      events:
        error: {metric: shop_requests_total, select: {status: error}}
        total: {metric: shop_requests_total}
"""
SHOP_TESTS = "generated/prometheus/shop.test.yml"
SHOP_RULES = "generated/prometheus/shop.rules.yml"


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A one-spec project (quick to prove), as the working dir."""
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "shop.yaml").write_text(SHOP)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def promtool_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """PROMTOOL is a script that records each call and agrees with everything."""
    log = tmp_path / "promtool-calls.log"
    script = tmp_path / "fake-promtool"
    script.write_text(f'#!/bin/sh\necho "$@" >> "{log}"\n')
    script.chmod(0o755)
    monkeypatch.setenv("PROMTOOL", str(script))
    return log


def _groups_checking(tests_file: Path, key: str, pick: object) -> set[str]:
    """Names of the test groups with a check of `key` (alert_rule_test or
    promql_expr_test) for which `pick(check)` is true."""
    doc = yaml.safe_load(tests_file.read_text())
    return {t["name"] for t in doc["tests"]
            if any(pick(c) for c in t.get(key, ()))}  # type: ignore[operator]


def test_check_stops_at_stale_outputs_before_promtool(project: Path, promtool_log: Path
                                                      ) -> None:
    spec = project / "specs" / "codehub.yaml"
    spec.write_text(spec.read_text().replace("above: 10\n", "above: 20\n", 1))
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 1
    assert "generated/prometheus/codehub.rules.yml: stale" in result.stderr
    assert "promtool not run: bring the outputs up to date first" in result.stderr
    assert not promtool_log.exists(), promtool_log.read_text()


def test_check_runs_promtool_per_file_when_fresh(project: Path, promtool_log: Path) -> None:
    """The same fake promtool is called once per rules and per test file when nothing is
    stale (so the test above shows the stop, not a broken fake); each file gets a line."""
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 0, result.output
    calls = promtool_log.read_text().splitlines()
    rules = sorted(p.name for p in (project / "generated" / "prometheus").glob("*.rules.yml"))
    tests = sorted(p.name for p in (project / "generated" / "prometheus").glob("*.test.yml"))
    assert sorted(c.split("/")[-1] for c in calls if c.startswith("check rules")) == rules
    assert sorted(c.split("/")[-1] for c in calls if c.startswith("test rules")) == tests
    for name in rules + tests:
        assert f"generated/prometheus/{name}: ok (" in result.stdout


def test_a_relative_promtool_path_is_taken_from_where_mcgen_runs(
        project: Path, promtool_log: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`PROMTOOL=.engines/sid/usr/bin/promtool mcgen check` (as `make check` runs it):
    promtool runs in the output folder, the path is the user's (it failed in CI)."""
    (project / "tools").mkdir()
    (project / "fake-promtool").rename(project / "tools" / "promtool")
    monkeypatch.setenv("PROMTOOL", "tools/promtool")
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 0, result.output
    assert promtool_log.read_text().count("test rules") == 3


def test_a_missing_promtool_is_named(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMTOOL", "/nonexistent/promtool")
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 2, result.output
    assert "/nonexistent/promtool" in result.stderr and "Traceback" not in result.output


def test_check_names_the_failing_alert_check(shop: Path, promtool: str,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A rule that no longer says what its tests prove (severity changed in the rules
    file only): each failure line names the test file, the case (its part of a shared
    test group), the alert and its eval time."""
    from mcgen import rules as rules_target

    real = rules_target.rule_labels

    def louder(svc: object, alert: object) -> dict[str, str]:
        return {**real(svc, alert), "severity": "critical"}  # type: ignore[arg-type]

    monkeypatch.setattr(rules_target, "rule_labels", louder)
    assert runner.invoke(app, ["generate"]).exit_code == 0
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 1
    assert f"{SHOP_RULES}: ok (" in result.stdout
    assert f"{SHOP_TESTS}: FAILED (" in result.stderr
    firing = _groups_checking(shop / SHOP_TESTS, "alert_rule_test",
                              lambda c: c["alertname"] == "ShopErrorsHigh" and c["exp_alerts"])
    lines = [ln for ln in result.stderr.splitlines() if "alert ShopErrorsHigh at " in ln]
    assert firing and lines
    cases = {part for group in firing for part in group.split(" + ")
             if part.startswith("ShopErrorsHigh fires")}
    named = set()
    for line in lines:
        assert line.startswith(f'{SHOP_TESTS}: case "'), line
        named.add(line.split('case "', 1)[1].split('": alert ', 1)[0])
        assert 'missing {alertname="ShopErrorsHigh", service="shop", severity="warning"' in line
        assert 'unexpected {alertname="ShopErrorsHigh", service="shop", severity="critical"' \
            in line
    assert named == cases and all(" + " in group for group in firing)


def test_check_names_the_failing_expression_and_its_group(
        shop: Path, promtool: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """promtool does not say which test group a failing promql_expr_test is in: mcgen
    finds it in the test file."""
    from mcgen.rules import sloqueries
    from mcgen.rules.queries import Recording

    real = sloqueries.recordings

    def wrong_objective(svc: object, slo: object) -> list[Recording]:
        return [Recording(r.name, "vector(0.5)") if r.name == "slo:objective:ratio" else r
                for r in real(svc, slo)]  # type: ignore[arg-type]

    monkeypatch.setattr(sloqueries, "recordings", wrong_objective)
    assert runner.invoke(app, ["generate"]).exit_code == 0
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 1
    expr = 'abs(slo:objective:ratio{service="shop",slo="availability"} - 0.999)'
    groups = _groups_checking(shop / SHOP_TESTS, "promql_expr_test",
                              lambda c: c["expr"].startswith(expr))
    lines = [ln for ln in result.stderr.splitlines() if f"expr {expr}" in ln]
    assert groups and len(lines) == len(groups), result.stderr
    for line in lines:
        group = line.split('test group "', 1)[1].split('": expr ', 1)[0]
        assert line.startswith(f'{SHOP_TESTS}: test group "') and group in groups, line
        assert "expected {" in line and "1E+00, got {" in line and "0E+00" in line


def test_check_names_the_rule_promtool_cannot_parse(shop: Path, promtool: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from mcgen.rules import queries

    monkeypatch.setattr(queries, "alert_expr", lambda alert, metric: "sum(rate(")
    assert runner.invoke(app, ["generate"]).exit_code == 0
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 1
    line = next(ln for ln in result.stderr.splitlines() if ln.startswith(f"{SHOP_RULES}: rule"))
    assert line.startswith(f'{SHOP_RULES}: rule group "shop-alerts": rule "ShopErrorsHigh" '
                           "at line "), line
    assert "parse error" in line
    # The test file cannot load the rules: promtool's own words are kept.
    assert any(ln.startswith(f"{SHOP_TESTS}: promtool: ") and "ShopErrorsHigh" in ln
               for ln in result.stderr.splitlines()), result.stderr


def test_test_keeps_promtool_text_it_cannot_read(project: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    script = tmp_path / "odd-promtool"
    script.write_text("#!/bin/sh\necho 'something unexpected happened' >&2\nexit 1\n")
    script.chmod(0o755)
    monkeypatch.setenv("PROMTOOL", str(script))
    result = runner.invoke(app, ["test", "-v"])
    assert result.exit_code == 1
    assert "generated/prometheus/codehub.test.yml: FAILED (" in result.stderr
    assert "generated/prometheus/codehub.test.yml: promtool: something unexpected happened" \
        in result.stderr


# -- the command line itself: version, -h, completion, flags, PATHS ---------------------


def _mcgen(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mcgen", *args], capture_output=True,
                          text=True, check=False, env={**os.environ, **env}, timeout=120)


def test_version_is_the_package_version() -> None:
    from importlib.metadata import version
    proc = _mcgen("--version")
    assert proc.returncode == 0 and proc.stdout == f"mcgen {version('mcgen')}\n"


@pytest.mark.parametrize("command", ["validate", "generate", "check", "test", "init",
                                     "schema", "push", "lint"])
def test_dash_h_is_help_on_every_command(command: str) -> None:
    short, long = _mcgen(command, "-h"), _mcgen(command, "--help")
    assert short.returncode == 0 and long.returncode == 0
    assert short.stdout == long.stdout and f"Usage: mcgen {command}" in short.stdout


def test_dash_h_is_help() -> None:
    short = _mcgen("-h")
    assert short.returncode == 0 and short.stdout == _mcgen("--help").stdout
    assert "--version" in short.stdout and "--show-completion" in short.stdout


def test_flags_are_shown_without_a_value() -> None:
    """`--dry-run <bool>` was shown, but a value is refused: flags are shown bare."""
    out = _mcgen("push", "--help", COLUMNS="100", TERM="dumb").stdout
    assert "<bool>" not in out and "<list" not in out, out
    assert "--dry-run " in out and "--insecure " in out and "SECONDS" in out
    assert "[PATHS]..." in out


def _under_sh(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """mcgen started by `sh`, as make starts it in CI: typer would detect the nearest
    shell of the process tree (sh, which it does not support) and ignore the one named."""
    return subprocess.run(["sh", "-c", '"$0" "$@"; exit $?', sys.executable, "-m", "mcgen",
                           *args], capture_output=True, text=True, check=False,
                          env={**os.environ, **env}, timeout=120)


def test_bash_completion_works() -> None:
    """The script `--show-completion bash` prints drives completions, whatever shell
    started mcgen; Click's documented way (`_MCGEN_COMPLETE=bash_source`) gives the same
    script (it said "Shell source not supported" or "Invalid completion instruction")."""
    script = _under_sh("--show-completion", "bash")
    assert script.returncode == 0, script.stderr
    assert "complete -o default -F _mcgen_completion mcgen" in script.stdout
    for click_style in ("bash_source", "source"):
        same = _mcgen(_MCGEN_COMPLETE=click_style)
        assert same.returncode == 0 and same.stdout.strip() == script.stdout.strip()
    words = _mcgen(COMP_WORDS="mcgen gen", COMP_CWORD="1", _MCGEN_COMPLETE="complete_bash")
    assert words.stdout.split() == ["generate"]
    options = _mcgen(COMP_WORDS="mcgen push --dr", COMP_CWORD="2",
                     _MCGEN_COMPLETE="complete_bash")
    assert options.stdout.split() == ["--dry-run"]


def test_install_completion_for_bash(tmp_path: Path) -> None:
    proc = _under_sh("--install-completion", "bash", HOME=str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "_mcgen_completion" in (tmp_path / ".bash_completions" / "mcgen.sh").read_text()
    assert ".bash_completions/mcgen.sh" in (tmp_path / ".bashrc").read_text()


def test_test_takes_paths(shop: Path, promtool_log: Path) -> None:
    """`mcgen test PATHS` runs the tests of those specs only; without PATHS, every test
    file under --out; a spec whose tests were never generated is named."""
    (shop / "specs" / "cart.yaml").write_text(SHOP.replace("shop", "cart"))
    assert runner.invoke(app, ["generate"]).exit_code == 0
    result = runner.invoke(app, ["test", "specs/cart.yaml"])
    assert result.exit_code == 0, result.output
    assert [c.split("/")[-1] for c in promtool_log.read_text().splitlines()] == \
        ["cart.test.yml"]
    assert result.stdout.startswith("generated/prometheus/cart.test.yml: ok (")
    promtool_log.unlink()
    assert runner.invoke(app, ["test"]).exit_code == 0
    assert sorted(c.split("/")[-1] for c in promtool_log.read_text().splitlines()) == \
        ["cart.test.yml", "shop.test.yml"]
    (shop / "specs" / "ledger.yaml").write_text(SHOP.replace("shop", "ledger"))
    missing = runner.invoke(app, ["test", "specs/ledger.yaml", "specs/shop.yaml"])
    assert missing.exit_code == 2
    assert missing.stderr.splitlines() == [
        "generated/prometheus/ledger.test.yml: missing; run `mcgen generate` first, or give "
        "--out"]
