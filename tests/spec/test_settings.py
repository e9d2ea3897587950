"""mcgen.toml's [generate] targets and [kubernetes] (SPEC 6): what is written, and one
line naming the mistake for each bad setting (exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT
from typer.testing import CliRunner

from mcgen import api
from mcgen.cli import app
from mcgen.errors import UsageError
from mcgen.spec import settings
from mcgen.targets import TARGETS

SPEC = ROOT / "tests" / "golden" / "routing" / "specs"


def _paths(tmp_path: Path, toml: str) -> set[str]:
    config = tmp_path / "mcgen.toml"
    config.write_text(toml, encoding="utf-8")
    return set(api.render([SPEC], config=config))


def test_default_targets_write_the_default_files(tmp_path: Path) -> None:
    assert _paths(tmp_path, "") == {
        "prometheus/shop.rules.yml", "prometheus/shop.test.yml", "grafana/shop.json",
        "grafana/provisioning/shop.yaml", "stubs/python/shop_metrics.py",
        "stubs/typescript/shop_metrics.ts", "stubs/go/shop/metrics.go", "docs/shop.md"}


def test_targets_choose_the_files(tmp_path: Path) -> None:
    assert _paths(tmp_path, '[generate]\ntargets = ["rules", "dashboards", "mimir", '
                            '"alertmanager", "prometheusrule"]\n') == {
        "prometheus/shop.rules.yml", "grafana/shop.json", "mimir/shop.yml",
        "alertmanager/shop.yml", "kubernetes/shop.prometheusrule.yaml"}
    assert _paths(tmp_path, '[generate]\ntargets = ["provisioning"]\n') == {
        "grafana/provisioning/shop.yaml"}


@pytest.mark.parametrize(("toml", "message"), [
    ('[generate]\ntargets = ["rules", "helm"]\n',
     "[generate] targets names unknown target 'helm'; use any of: "),
    ('[generate]\ntargets = "rules"\n', "[generate] targets must be a list of names"),
    ('[generate]\ntargets = ["rules", "rules"]\n', "names a target twice"),
    ('[generate]\ntargets = []\n', "targets is empty"),
    ('[generate]\ntarget = ["rules"]\n',
     "[generate] has no setting 'target'; known: keep_labels, targets"),
    ('[kubernetes]\nnamespace = "Monitoring"\n', "is not a Kubernetes namespace name"),
    ('[kubernetes]\nlabels = {"a b" = "c"}\n', "is not a valid Kubernetes label"),
    ('generate = 1\n', "'generate' must be a table"),
    ('[generate\n', "cannot read it"),
])
def test_bad_settings(tmp_path: Path, toml: str, message: str) -> None:
    config = tmp_path / "mcgen.toml"
    config.write_text(toml, encoding="utf-8")
    with pytest.raises(UsageError) as caught:
        settings.load(config, tuple(TARGETS))
    assert str(caught.value).startswith(f"{config}: ")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_cli_exit_2_and_nothing_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                        ) -> None:
    monkeypatch.chdir(tmp_path)
    Path("mcgen.toml").write_text('[generate]\ntargets = ["rulez"]\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["generate", str(SPEC), "--out", "out"])
    assert result.exit_code == 2
    assert result.stderr.startswith("mcgen.toml: [generate] targets names unknown target "
                                    "'rulez'")
    assert not Path("out").exists()
