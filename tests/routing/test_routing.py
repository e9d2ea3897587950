"""Alert routing (SPEC 10): the generated Alertmanager subtree, receivers and inhibit rules,
`mcgen alertmanager --base`, and the proof `mcgen check` runs: amtool on the merged config
and on every alert's exact labels, and the inhibition judged by mcgen.

amtool is Alertmanager 0.33's (`make engines`); these tests never skip under CI=true.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from mcgen import api, conventions, routing
from mcgen.cli import app
from mcgen.routing import merge
from mcgen.routing import proof as routeproof

ROOT = Path(__file__).resolve().parents[2]
BASE = ROOT / "docs" / "alertmanager-base.yml"
runner = CliRunner()

SHOP = """\
version: 1
service: shop
alert_labels: {team: 'web "shop" \\ é'}
metrics:
  - name: shop_requests_total
    type: counter
    help: Requests.
    labels: {status: [ok, error]}
    alerts:
      - alert: ShopErrorsHigh
        rate: true
        select: {status: error}
        by: []
        above: 5
        severity: critical
      - alert: ShopTrafficLow
        rate: true
        by: [status]
        below: 0.1
slos:
  - name: availability
    objective: 99.5
    sli:
      events:
        error: {metric: shop_requests_total, select: {status: error}}
        total: {metric: shop_requests_total}
routing:
  receivers:
    pager: {webhook: {url_file: /secrets/pager}}
    mail: {email: {to: shop@example.com}}
    chat: {slack: {channel: "#shop", api_url_file: /secrets/slack}}
  routes:
    - match: {severity: critical, team: 'web "shop" \\ é'}
      receiver: pager
    - match: {slo_severity: ticket}
      receiver: mail
  default: chat
"""


def _model(tmp_path: Path, text: str = SHOP) -> Any:
    spec = tmp_path / "specs" / "shop.yaml"
    spec.parent.mkdir(parents=True, exist_ok=True)
    spec.write_text(text, encoding="utf-8")
    return api.validate([spec.parent], config=tmp_path / "mcgen.toml")


def test_fragment_routes_the_service_under_its_own_matcher(tmp_path: Path) -> None:
    model = _model(tmp_path)
    (svc,) = model.services
    doc = yaml.safe_load(routing.render(svc, model)[conventions.alertmanager_path("shop")])
    assert doc["route"]["matchers"] == ['service="shop"']
    assert doc["route"]["receiver"] == "shop-chat"
    assert doc["route"]["group_by"] == ["alertname", "service"]
    # The label value holds quotes, a backslash and a non-ASCII letter: written once,
    # escaped as Alertmanager reads it back.
    assert doc["route"]["routes"][0] == {
        "receiver": "shop-pager",
        "matchers": ['severity="critical"', 'team="web \\"shop\\" \\\\ é"']}
    assert [r["name"] for r in doc["receivers"]] == ["shop-chat", "shop-mail", "shop-pager"]
    assert doc["receivers"][2] == {"name": "shop-pager",
                                   "webhook_configs": [{"url_file": "/secrets/pager"}]}
    assert doc["inhibit_rules"] == [{
        "source_matchers": ['service="shop"', 'slo_severity="page"'],
        "target_matchers": ['service="shop"', 'slo_severity="ticket"'],
        "equal": ["service", "slo"]}]


def test_no_routing_no_file(tmp_path: Path) -> None:
    model = _model(tmp_path, SHOP.split("routing:")[0])
    assert routing.render(model.services[0], model) == {}


def test_every_alert_reaches_its_receiver_in_amtool(tmp_path: Path, amtool: str) -> None:
    """The shop spec: criticals (with the awkward team label) to the pager, SLO tickets to
    email, the rest to Slack; every label set its generated tests fire with, in amtool."""
    model = _model(tmp_path)
    report = api.prove_routing(model)
    assert report.config.ok, report.config.output
    assert not report.problems
    reached = {(dict(c.labels)["alertname"], dict(c.labels).get("slo_severity")): c.receivers
               for c in routeproof.cases(model.services[0],
                                         api.fired_labels(model.services[0], model))}
    assert reached == {
        ("ShopErrorsHigh", None): ("shop-pager",),
        ("ShopTrafficLow", None): ("shop-chat",),
        ("ShopAvailabilityErrorBudgetBurn", "page"): ("shop-pager",),
        ("ShopAvailabilityErrorBudgetBurn", "ticket"): ("shop-mail",),
        ("ShopAvailabilitySLIAbsent", None): ("shop-chat",),
    }
    assert report.routes and all(r.ok for r in report.routes), \
        [r.line for r in report.routes if not r.ok]
    assert len(report.routes) == len({tuple(sorted(lb.items()))
                                      for lb in api.fired_labels(model.services[0], model)})


def test_amtool_catches_a_misroute(tmp_path: Path, amtool: str) -> None:
    """The proof can fail: a config whose pager route went missing sends criticals to
    the default, and amtool says so for exactly those alerts."""
    model = _model(tmp_path)
    (svc,) = model.services
    config = merge.merge(merge.MINIMAL_BASE, [svc], "base")
    config["route"]["routes"][0]["routes"].pop(0)  # the critical -> pager route
    path = tmp_path / "am.yml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    from mcgen.routing import amtool as runner_
    outcomes = {c.alertname + str(dict(c.labels).get("slo_severity")): o.ok
                for c, o in ((c, runner_.route_test(path, c))
                             for c in routeproof.cases(svc, api.fired_labels(svc, model)))}
    assert outcomes == {"ShopErrorsHighNone": False, "ShopTrafficLowNone": True,
                        "ShopAvailabilityErrorBudgetBurnpage": False,
                        "ShopAvailabilityErrorBudgetBurnticket": True,
                        "ShopAvailabilitySLIAbsentNone": True}


def test_inhibition_judged(tmp_path: Path) -> None:
    model = _model(tmp_path)
    (svc,) = model.services
    labels = {svc.name: api.fired_labels(svc, model)}
    config = merge.merge(merge.MINIMAL_BASE, [svc], "base")
    muted = routeproof.inhibited(config, labels["shop"])
    assert [(t["alertname"], t["slo_severity"], s["slo_severity"]) for t, s in muted] == [
        ("ShopAvailabilityErrorBudgetBurn", "ticket", "page")]
    assert routeproof.inhibition_problems([svc], config, labels) == []
    # Without `equal` the page would mute tickets of other SLOs too; without the rule
    # the ticket is not muted at all: both are reported.
    loose = {**config, "inhibit_rules": [{**config["inhibit_rules"][0], "equal": []}]}
    other = {**labels["shop"][0], "alertname": "X", "slo": "other", "slo_severity": "ticket"}
    found = routeproof.inhibition_problems([svc], loose, {"shop": [*labels["shop"], other]})
    assert any("X{" in p and "would be inhibited" in p for p in found), found
    found = routeproof.inhibition_problems([svc], {**config, "inhibit_rules": []}, labels)
    assert found and all("is not inhibited" in p for p in found)


def test_alertmanager_command_merges_under_the_base(tmp_path: Path, amtool: str,
                                                    in_root: Path) -> None:
    result = runner.invoke(app, ["alertmanager", "--base", str(BASE)])
    assert result.exit_code == 0, result.output
    config = yaml.safe_load(result.stdout)
    base = yaml.safe_load(BASE.read_text())
    assert config["global"] == base["global"]
    assert config["route"]["receiver"] == base["route"]["receiver"]
    # The services' subtrees first, then the base's own routes.
    assert config["route"]["routes"][0]["matchers"] == ['service="codehub"']
    assert config["route"]["routes"][-1] == base["route"]["routes"][0]
    names = [r["name"] for r in config["receivers"]]
    assert names[:2] == ["ops-default", "deadmansswitch"] and "codehub-pager" in names
    path = tmp_path / "alertmanager.yml"
    path.write_text(result.stdout, encoding="utf-8")
    run = subprocess.run([amtool, "check-config", str(path)], capture_output=True, text=True,
                         check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    # A base's alert that no spec routes still goes where the base says.
    run = subprocess.run([amtool, "config", "routes", "test", f"--config.file={path}",
                          "--verify.receivers=deadmansswitch", 'alertname="Watchdog"'],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr


def test_alertmanager_command_usage_errors(tmp_path: Path, in_root: Path) -> None:
    clash = tmp_path / "clash.yml"
    clash.write_text(textwrap.dedent("""\
        route: {receiver: codehub-pager}
        receivers: [{name: codehub-pager}]
        """), encoding="utf-8")
    result = runner.invoke(app, ["alertmanager", "--base", str(clash)])
    assert result.exit_code == 2
    assert result.stderr.strip() == (f"specs/codehub.yaml: receiver 'codehub-pager' is also "
                                     f"defined in {clash}; rename one of them")
    bad = tmp_path / "bad.yml"
    bad.write_text("route: {receiver: a\n", encoding="utf-8")
    result = runner.invoke(app, ["alertmanager", "--base", str(bad)])
    assert result.exit_code == 2 and result.stderr.startswith(f"{bad}:2:1: ")
    rootless = tmp_path / "rootless.yml"
    rootless.write_text("receivers: []\n", encoding="utf-8")
    result = runner.invoke(app, ["alertmanager", "--base", str(rootless)])
    assert result.exit_code == 2 and "no root route" in result.stderr
    result = runner.invoke(app, ["alertmanager", "--base", str(tmp_path / "missing.yml")])
    assert result.exit_code == 2 and "no such file" in result.stderr
    result = runner.invoke(app, ["alertmanager"])
    assert result.exit_code == 2 and "--base" in result.output
    unrouted = ROOT / "specs" / "autogrowth.yaml"
    result = runner.invoke(app, ["alertmanager", str(unrouted), "--base", str(BASE)])
    assert result.exit_code == 2 and "has `routing:`" in result.stderr


def test_check_reports_routing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                               amtool: str) -> None:
    """`mcgen check` on fresh outputs runs the routing proof and says so."""
    import shutil
    shutil.copytree(ROOT / "specs", tmp_path / "specs")
    shutil.copytree(ROOT / "generated", tmp_path / "generated")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PROMTOOL", shutil.which("true") or "/bin/true")
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 0, result.output
    assert "amtool check-config: ok" in result.stdout
    assert "alertmanager: 19 of 19 alert label sets reach their receivers" in result.stdout
    # A routing whose route names an alert label nobody carries still passes amtool, but
    # a receiver amtool refuses fails the check with exit 1.
    spec = tmp_path / "specs" / "codehub.yaml"
    spec.write_text(spec.read_text().replace("send_resolved: true}",
                                             "send_resolved: true, bogus: 1}"))
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 1, result.output
    assert "amtool check-config FAILED" in result.stderr


def test_an_alert_without_a_firing_test_is_reported(tmp_path: Path, amtool: str) -> None:
    """Routing is proven on the label sets the generated tests fire with: an alert that
    fires in none of them would go unproven, and the check says which."""
    model = _model(tmp_path)
    tests = conventions.tests_path("shop")
    files = {tests: "rule_files: [x]\ntests: []\n"}
    report = api.prove_routing(model, files)
    assert not report.ok
    unproven = [f"{model.services[0].source}: alert {name} fires in no generated test, so "
                "its routing is not proven" for name in sorted(
                    ["ShopErrorsHigh", "ShopTrafficLow", "ShopAvailabilityErrorBudgetBurn",
                     "ShopAvailabilitySLIAbsent"])]
    assert report.problems == [*unproven, "service shop: SLO availability: no firing page and "
                               "ticket to judge the inhibition with"]


def test_amtool_is_found_beside_the_python_running_mcgen(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`make engines` links amtool into the virtualenv's bin/: `.venv/bin/mcgen check` finds
    it there with no AMTOOL set and no amtool on PATH; AMTOOL still wins."""
    from mcgen.errors import ToolError
    from mcgen.routing import amtool
    bin_dir = tmp_path / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    monkeypatch.setattr(sys, "executable", str(bin_dir / "python"))
    monkeypatch.delenv("AMTOOL", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(ToolError, match="links its amtool into .venv/bin"):
        amtool.binary()
    linked = bin_dir / "amtool"
    linked.write_text("#!/bin/sh\n")
    linked.chmod(0o755)
    assert amtool.binary() == str(linked)
    monkeypatch.setenv("AMTOOL", "/opt/amtool")
    assert amtool.binary() == "/opt/amtool"
