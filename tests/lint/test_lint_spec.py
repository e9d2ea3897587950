"""`mcgen lint` on specs: each rule has a spec that triggers it (rule id, severity,
path:line:col and message asserted) and one that does not; the CLI's formats, exit
codes and ways of disabling rules; the example specs lint clean at warning level."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mcgen import api
from mcgen.cli import app
from mcgen.lint import Finding

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()

HEAD = "version: 1\nservice: shop\nrunbook_base_url: https://runbooks.example.com/shop\n"


def spec(body: str, head: str = HEAD) -> str:
    """A spec: HEAD (3 lines) then `body`, so body line N is file line N + 3."""
    return head + textwrap.dedent(body).lstrip("\n")


@pytest.fixture(autouse=True)
def _cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def lint(text: str, rule_id: str, toml: str = "") -> list[Finding]:
    Path("s.yaml").write_text(text, encoding="utf-8")
    Path("mcgen.toml").write_text(toml, encoding="utf-8")
    findings, _ = api.lint([Path("s.yaml")])
    return [f for f in findings if f.rule == rule_id]


def one(findings: list[Finding], severity: str, where: str, *texts: str) -> None:
    assert len(findings) == 1, findings
    f = findings[0]
    assert (f.severity, str(f.pos)) == (severity, f"s.yaml:{where}"), f
    for text in texts:
        assert text in f.message, f.message


COUNTER = """
metrics:
  - name: {name}
    type: counter
    help: Orders
"""
GAUGE = """
metrics:
  - name: {name}
    type: gauge
    help: Items
"""


# -- naming ----------------------------------------------------------------------------
def test_snake_case() -> None:
    one(lint(spec(COUNTER.format(name="shop_newOrders_total")), "naming/snake-case"),
        "warning", "5:5", "'shop_newOrders_total' is not snake_case")
    labelled = spec(GAUGE.format(name="shop_items") + "    labels: {itemType: [a, b]}\n")
    one(lint(labelled, "naming/snake-case"), "warning", "8:14", "label name 'itemType'")
    assert not lint(spec(COUNTER.format(name="shop_new_orders_total")), "naming/snake-case")


def test_base_unit() -> None:
    one(lint(spec(GAUGE.format(name="shop_latency_ms")), "naming/base-unit"),
        "warning", "5:5", "is in ms, not the base unit seconds")
    one(lint(spec(GAUGE.format(name="shop_disk_used_percent")), "naming/base-unit"),
        "warning", "5:5", "not the base unit ratio")
    assert not lint(spec(GAUGE.format(name="shop_latency_seconds")), "naming/base-unit")


def test_reserved_suffix() -> None:
    one(lint(spec(GAUGE.format(name="shop_items_count")), "naming/reserved-suffix"),
        "warning", "5:5", "ends in _count")
    assert not lint(spec(GAUGE.format(name="shop_items")), "naming/reserved-suffix")


def test_colon() -> None:
    one(lint(spec(GAUGE.format(name="shop:items")), "naming/colon"),
        "warning", "5:5", "'shop:items' has a colon")
    assert not lint(spec(GAUGE.format(name="shop_items")), "naming/colon")


def test_service_prefix() -> None:
    two = COUNTER.format(name="shop_orders_total") + GAUGE.format(
        name="http_connections").split("metrics:\n")[1]
    one(lint(spec(two), "naming/service-prefix"), "warning", "8:5",
        "'http_connections' does not start with the service prefix 'shop_'")
    shared = COUNTER.format(name="acme_orders_total") + GAUGE.format(
        name="acme_items").split("metrics:\n")[1]
    assert not lint(spec(shared), "naming/service-prefix")  # a common prefix will do
    assert not lint(spec(COUNTER.format(name="shop_orders_total")), "naming/service-prefix")


TYPO = """
metrics:
  - name: shop_orders_total
    type: counter
    help: Orders
    labels: {{status: [ok, error], method: null}}
    alerts:
      - alert: OrdersFailing
        rate: true
        above: 1
        by: [{by}]
        select: {{{select}: error}}
slos:
  - name: orders
    objective: 99.9
    sli:
      events:
        error: {{metric: shop_orders_total, select: {{{select}: error}}}}
        total: {{metric: shop_orders_total}}
"""


def test_target_label_typo() -> None:
    """Undeclared labels are target labels (validation accepts them); lint reports the
    ones that look like a typo of a declared label, at the alert or SLO naming them."""
    found = lint(spec(TYPO.format(by="Method", select="stauts")), "naming/target-label-typo")
    assert [(str(f.pos), f.severity) for f in found] == [
        ("s.yaml:10:9", "warning"), ("s.yaml:10:9", "warning"), ("s.yaml:16:5", "warning")]
    assert "names 'Method', which shop_orders_total does not declare; it is close to " \
        "its label 'method'" in found[0].message
    assert "'stauts'" in found[1].message and "'status'" in found[1].message
    assert "SLO orders selects on 'stauts'" in found[2].message
    for fine in (TYPO.format(by="method", select="status"),
                 TYPO.format(by="namespace", select="cluster")):
        assert not lint(spec(fine), "naming/target-label-typo")


# -- buckets -----------------------------------------------------------------------------
def histogram(buckets: str, alert: str = "") -> str:
    body = ("metrics:\n  - name: shop_latency_seconds\n    type: histogram\n"
            f"    help: Latency\n    buckets: {buckets}\n")
    return spec(body + textwrap.indent(textwrap.dedent(alert).lstrip("\n"), "    "))


P95 = """
alerts:
  - alert: Slow
    quantile: 0.95
    above: {t}
"""


def test_bucket_count() -> None:
    one(lint(histogram("[1, 2, 3]"), "buckets/count"), "warning", "8:14",
        "has 3 buckets, fewer than 5")
    many = "[" + ", ".join(str(i) for i in range(1, 40)) + "]"
    one(lint(histogram(many), "buckets/count"), "warning", "8:14", "39 buckets, more than 30")
    assert not lint(histogram("[1, 2, 3]"), "buckets/count", "[lint]\nmin_buckets = 3\n")
    assert not lint(histogram("[1, 2, 3, 4, 5]"), "buckets/count")


def test_below_first_bucket() -> None:
    # 0.8 is above what the first bucket can estimate (0.95 x 1) or validation rejects it
    bad = histogram("[1, 2, 5, 10, 30]", P95.format(t=0.96))
    one(lint(bad, "buckets/below-first-bucket"), "warning", "12:16",
        "threshold 0.96 is below the first bucket 1")
    assert not lint(histogram("[1, 2, 5, 10, 30]", P95.format(t=2)), "buckets/below-first-bucket")


def test_interpolation_error_is_stated() -> None:
    bad = histogram("[0.1, 0.25, 0.5, 1, 2.5]", P95.format(t=0.3))
    one(lint(bad, "buckets/interpolation"), "warning", "12:16",
        "threshold 0.3 is not a bucket bound", "bucket (0.25, 0.5]",
        "off by up to 0.2 (67% of the threshold)")
    assert not lint(histogram("[0.1, 0.25, 0.5, 1, 2.5]", P95.format(t=0.25)),
                    "buckets/interpolation")


def test_quantile_resolution() -> None:
    bad = histogram("[0.1, 0.5, 1, 2, 5]", P95.format(t=0.5))
    one(lint(bad, "buckets/quantile-resolution"), "warning", "12:16",
        "bucket (0.1, 0.5]", "spans a factor of 5", "P50 and P99")
    assert not lint(histogram("[0.1, 0.25, 0.5, 1, 2.5]", P95.format(t=0.5)),
                    "buckets/quantile-resolution")
    assert not lint(bad, "buckets/quantile-resolution", "[lint]\nmax_bucket_ratio = 5\n")


def test_summary_quantile_alert() -> None:
    bad = spec("""
    metrics:
      - name: shop_latency_seconds
        type: summary
        help: Latency
        alerts:
          - alert: Slow
            quantile: 0.95
            above: 1
    """)
    one(lint(bad, "buckets/summary-quantiles"), "warning", "9:9",
        "never exports")
    assert not lint(histogram("[0.25, 0.5, 1, 2, 5]", P95.format(t=1)),
                    "buckets/summary-quantiles")


def test_appropriateness_grades_every_histogram() -> None:
    good = lint(histogram("[0.1, 0.25, 0.5, 1, 2.5, 5]", P95.format(t=1)),
                "buckets/appropriateness")
    one(good, "info", "8:14", "buckets: good")
    one(lint(histogram("[1, 2, 3]"), "buckets/appropriateness"), "info", "8:14",
        "buckets: poor: only 3 buckets")
    fair = lint(histogram("[0.1, 0.5, 1, 2, 5]", P95.format(t=0.5)), "buckets/appropriateness")
    one(fair, "info", "8:14", "buckets: fair", "cannot tell P50 from P99")
    assert not lint(spec(GAUGE.format(name="shop_items")), "buckets/appropriateness")


# -- cardinality -------------------------------------------------------------------------
WIDE = """
metrics:
  - name: shop_latency_seconds
    type: histogram
    help: Latency
    labels: {method: [GET, PUT, POST, HEAD, DELETE], route: null}
    buckets: [0.1, 0.25, 0.5, 1, 2.5]
"""


def test_metric_series_budget() -> None:
    one(lint(spec(WIDE), "cardinality/metric-series"), "warning", "5:5",
        "can have 4,000 series per target", "route unbounded (~100)", "budget of 2,000")
    budget = spec(WIDE, HEAD + "lint: {metric_series_budget: 4000}\n")
    assert not lint(budget, "cardinality/metric-series")
    assert not lint(spec(WIDE), "cardinality/metric-series",
                    "[lint]\nmetric_series_budget = 5000\n")
    assert not lint(spec(WIDE), "cardinality/metric-series",
                    "[lint]\nunbounded_label_values = 50\n")


def test_service_series_budget() -> None:
    two = spec(GAUGE.format(name="shop_items") + "    labels: {kind: [a, b, c]}\n")
    one(lint(two, "cardinality/service-series", "[lint]\nseries_budget = 2\n"), "warning",
        "2:10", "'shop' can have 3 series per target, above the budget of 2")
    assert not lint(two, "cardinality/service-series", "[lint]\nseries_budget = 3\n")
    budget = spec(GAUGE.format(name="shop_items") + "    labels: {kind: [a, b, c]}\n",
                  HEAD + "lint: {series_budget: 3}\n")
    assert not lint(budget, "cardinality/service-series", "[lint]\nseries_budget = 2\n")


def test_service_series_default_budget() -> None:
    assert not lint(spec(WIDE), "cardinality/service-series")


def test_unbounded_id_label() -> None:
    bad = spec(GAUGE.format(name="shop_items") + "    labels: {user_id: null}\n")
    one(lint(bad, "cardinality/unbounded-id-label"), "warning", "8:14",
        "label 'user_id' of shop_items is unbounded")
    ok = spec(GAUGE.format(name="shop_items") + "    labels: {endpoint: null}\n")
    assert not lint(ok, "cardinality/unbounded-id-label")


# -- alerts ------------------------------------------------------------------------------
def gauge_alert(alert: str, head: str = HEAD) -> str:
    return spec(GAUGE.format(name="shop_items") + "    alerts:\n"
                + textwrap.indent(textwrap.dedent(alert).lstrip("\n"), "      "), head)


VALUE = """
- alert: ItemsHigh
  value: true
  above: 10
  summary: Too many items
  description: "{{{{ $value }}}} items"
  {extra}
"""


def test_severity() -> None:
    one(lint(gauge_alert(VALUE.format(extra="severity: high")), "alerts/severity"),
        "warning", "9:9", "alert ItemsHigh has severity 'high'")
    assert not lint(gauge_alert(VALUE.format(extra="severity: critical")), "alerts/severity")


def test_annotations_written() -> None:
    bare = "- alert: ItemsHigh\n  value: true\n  above: 10\n"
    one(lint(gauge_alert(bare), "alerts/annotations"), "info", "9:9",
        "alert ItemsHigh has a generated summary and description")
    assert not lint(gauge_alert(VALUE.format(extra="")), "alerts/annotations")


def test_for_at_least_one_interval() -> None:
    head = HEAD + "defaults: {interval: 2m}\n"
    one(lint(gauge_alert(VALUE.format(extra="for: 1m"), head), "alerts/for-interval"),
        "warning", "10:9", "has for 1m, shorter than the evaluation interval 2m")
    assert not lint(gauge_alert(VALUE.format(extra="for: 2m"), head), "alerts/for-interval")
    assert not lint(gauge_alert(VALUE.format(extra="for: 1m")), "alerts/for-interval")


RATE = """
metrics:
  - name: shop_orders_total
    type: counter
    help: Orders
    alerts:
      - alert: OrdersLow
        rate: true
        below: 1
        window: {window}
"""


def test_rate_window() -> None:
    one(lint(spec(RATE.format(window="2m")), "alerts/rate-window"), "warning", "9:9",
        "window 2m, less than 4x the scrape interval 1m")
    assert not lint(spec(RATE.format(window="4m")), "alerts/rate-window")
    faster = HEAD + "defaults: {scrape_interval: 30s}\n"
    assert not lint(spec(RATE.format(window="2m"), faster), "alerts/rate-window")


def test_absent_for() -> None:
    absent = "- alert: ItemsAbsent\n  absent_for: {d}\n  summary: s\n  description: d\n"
    one(lint(gauge_alert(absent.format(d="1m")), "alerts/absent-for"), "warning", "9:9",
        "absent_for 1m, less than 2x the scrape interval 1m")
    assert not lint(gauge_alert(absent.format(d="2m")), "alerts/absent-for")


def test_runbook_missing() -> None:
    head = "version: 1\nservice: shop\n\n"
    one(lint(gauge_alert(VALUE.format(extra=""), head), "alerts/runbook-missing"), "info",
        "2:10", "has alerts but no runbook_base_url")
    assert not lint(gauge_alert(VALUE.format(extra="")), "alerts/runbook-missing")
    assert not lint(spec(GAUGE.format(name="shop_items"), head), "alerts/runbook-missing")


def test_runbook_url() -> None:
    head = "version: 1\nservice: shop\nrunbook_base_url: https://wiki.example.com/x?page=\n"
    one(lint(gauge_alert(VALUE.format(extra=""), head), "alerts/runbook-url"), "warning",
        "2:10", "has a query string or fragment")
    assert not lint(gauge_alert(VALUE.format(extra="")), "alerts/runbook-url")


SLO = """
metrics:
  - name: shop_orders_total
    type: counter
    help: Orders
    labels: {outcome: [ok, error]}
slos:
  - name: orders
    objective: 99
    sli:
      events:
        error: {metric: shop_orders_total, select: {outcome: error}}
        total: {metric: shop_orders_total}
"""


def test_slo_page_without_ticket() -> None:
    one(lint(spec(SLO + "    alerting: {ticket: false}\n"), "alerts/slo-ticket"), "warning",
        "10:5", "SLO orders pages on fast burns but has no ticket")
    assert not lint(spec(SLO), "alerts/slo-ticket")
    assert not lint(spec(SLO + "    alerting: {page: false}\n"), "alerts/slo-ticket")


def test_slo_absent_for_and_severity() -> None:
    """An SLO's no-data alert is held to the rules of absent_for alerts and severities."""
    short = SLO + "    alerting: {absent: {name: OrdersGone, for: 1m, severity: high}}\n"
    one(lint(spec(short), "alerts/absent-for"), "warning", "16:24",
        "SLO orders: alerting.absent has for 1m, less than 2x the scrape interval 1m")
    one(lint(spec(short), "alerts/severity"), "warning", "16:24",
        "SLO orders: the absent alert has severity 'high'")
    assert not lint(spec(SLO), "alerts/absent-for")
    assert not lint(spec(SLO), "alerts/severity")
    assert not lint(spec(SLO + "    alerting: {absent: false}\n"), "alerts/absent-for")


# -- disabling ---------------------------------------------------------------------------
def test_spec_lint_disable() -> None:
    bad = spec(GAUGE.format(name="shop_latency_ms"),
               HEAD + "lint:\n  disable: [naming/base-unit]\n")
    assert not lint(bad, "naming/base-unit")
    typo = spec(GAUGE.format(name="shop_items"), HEAD + "lint:\n  disable: [naming/base-units]\n")
    Path("s.yaml").write_text(typo, encoding="utf-8")
    result = runner.invoke(app, ["lint", "s.yaml"])
    assert result.exit_code == 2
    assert "s.yaml:5:13: lint.disable names unknown rule 'naming/base-units'" in result.output


def test_inline_disable_with_a_reason() -> None:
    text = spec("""
    metrics:
      # mcgen: disable=naming/base-unit,naming/colon -- the legacy exporter's name
      - name: shop_latency_ms
        type: gauge
        help: Latency
    """)
    assert not lint(text, "naming/base-unit")
    assert lint(text.replace("base-unit,", ""), "naming/base-unit")


# -- the command line --------------------------------------------------------------------
BAD = spec(GAUGE.format(name="shop_latency_ms"))  # one warning: naming/base-unit


def cli(*args: str, toml: str = "") -> tuple[int, str]:
    Path("s.yaml").write_text(BAD, encoding="utf-8")
    Path("mcgen.toml").write_text(toml, encoding="utf-8")
    result = runner.invoke(app, ["lint", "s.yaml", *args])
    return result.exit_code, result.output


def test_cli_text() -> None:
    code, out = cli()
    assert code == 1
    assert ("s.yaml:5:5: warning: metric 'shop_latency_ms' is in ms, not the base unit seconds; "
            "record seconds and name it ..._seconds [naming/base-unit]") in out.splitlines()
    assert out.splitlines()[-1] == "1 finding(s): 1 warning"


def test_cli_json() -> None:
    code, out = cli("--format", "json")
    assert code == 1
    assert json.loads(out) == [{
        "path": "s.yaml", "line": 5, "column": 5, "rule": "naming/base-unit",
        "severity": "warning", "message": "metric 'shop_latency_ms' is in ms, not the base "
        "unit seconds", "hint": "record seconds and name it ..._seconds"}]


def test_cli_github_annotations() -> None:
    code, out = cli("--format", "github")
    assert code == 1
    assert out.strip() == (
        "::warning file=s.yaml,line=5,col=5,title=naming/base-unit::metric 'shop_latency_ms' "
        "is in ms, not the base unit seconds; record seconds and name it ..._seconds")


def test_cli_github_paths_from_the_repository_root(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """GitHub places annotations by the path from the repository root, wherever mcgen
    runs (a workflow step may `cd` into a subfolder)."""
    (tmp_path / ".git").mkdir()
    sub = tmp_path / "monitoring"
    sub.mkdir()
    (sub / "s.yaml").write_text(BAD, encoding="utf-8")
    monkeypatch.chdir(sub)
    result = runner.invoke(app, ["lint", "--format", "github", "s.yaml"])
    assert result.output.startswith("::warning file=monitoring/s.yaml,line=5,col=5,")


def test_cli_text_counts_by_rule() -> None:
    Path("s.yaml").write_text(BAD.replace("shop_latency_ms", "shopLatency_ms"),
                              encoding="utf-8")
    Path("mcgen.toml").write_text("", encoding="utf-8")
    out = runner.invoke(app, ["lint", "s.yaml"]).output.splitlines()
    counted = [line.rsplit("[", 1)[-1].rstrip("]") for line in out[:-2]]
    assert out[-2] == f"{len(counted)} finding(s): {len(counted)} warning"
    assert {"naming/base-unit", "naming/snake-case"} <= set(counted)
    ranked = sorted(set(counted), key=lambda r: (-counted.count(r), r))
    assert out[-1] == "by rule: " + ", ".join(f"{r} {counted.count(r)}" for r in ranked)


def test_cli_fail_on() -> None:
    assert cli("--fail-on", "warning")[0] == 1
    assert cli("--fail-on", "info")[0] == 1
    assert cli("--fail-on", "error")[0] == 0  # reported, but below the bar
    assert "naming/base-unit" in cli("--fail-on", "error")[1]
    assert cli(toml='[lint]\nfail_on = "error"\n')[0] == 0
    assert cli("--fail-on", "bogus")[0] == 2
    assert cli("--format", "xml")[0] == 2


def test_cli_mcgen_toml_disable() -> None:
    code, out = cli(toml='[lint]\ndisable = ["naming/base-unit"]\n')
    assert code == 0 and "naming/base-unit" not in out
    code, out = cli(toml='[lint]\ndisable = ["naming/base-units"]\n')
    assert code == 2
    assert "disable names unknown rules naming/base-units" in out


def test_cli_inline_disable() -> None:
    Path("mcgen.toml").write_text("", encoding="utf-8")
    Path("s.yaml").write_text(BAD.replace("  - name: shop_latency_ms", "  - name: shop_latency_ms"
                                          "  # mcgen: disable=naming/base-unit -- legacy"))
    result = runner.invoke(app, ["lint", "s.yaml"])
    assert result.exit_code == 0, result.output


def test_cli_bad_tunable_is_a_usage_error() -> None:
    code, out = cli(toml="[lint]\nmin_buckets = 'five'\n")
    assert code == 2 and "min_buckets must be a positive number" in out


def test_example_specs_lint_clean_at_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    """specs/ has only info findings: the rest are fixed or disabled with a reason."""
    monkeypatch.chdir(ROOT)
    findings, _ = api.lint([ROOT / "specs"])
    assert [f for f in findings if f.severity != "info"] == []
    assert {f.rule for f in findings} == {"buckets/appropriateness"}


def test_rule_catalogue_is_current(update_golden: bool) -> None:
    """docs/lint-rules.md is generated from the rules; `pytest --update-golden` rewrites it."""
    from mcgen.lint import catalogue, load_rules
    target = ROOT / "docs" / "lint-rules.md"
    text = catalogue.markdown()
    if update_golden:
        target.parent.mkdir(exist_ok=True)
        target.write_text(text, encoding="utf-8")
    assert target.read_text(encoding="utf-8") == text, \
        "docs/lint-rules.md is stale: run `pytest tests/lint/test_lint_spec.py --update-golden`"
    for rule_id, r in load_rules().items():
        assert f"### {rule_id}" in text and r.doc, rule_id


def test_init_output_has_a_modeline_validates_and_lints_clean() -> None:
    result = runner.invoke(app, ["init", "--service", "shop"])
    assert result.exit_code == 0, result.output
    text = Path("specs/shop.yaml").read_text(encoding="utf-8")
    assert text.splitlines()[0] == "# yaml-language-server: $schema=../mcgen.schema.json"
    Path("mcgen.toml").write_text("", encoding="utf-8")
    findings, _ = api.lint([Path("specs")])
    assert [f for f in findings if f.severity != "info"] == []


def test_pre_commit_hooks() -> None:
    import yaml
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert {h["id"]: h["entry"] for h in hooks} == {
        "mcgen-validate": "mcgen validate", "mcgen-lint": "mcgen lint",
        "mcgen-check": "mcgen check"}
    assert all(h["language"] == "python" for h in hooks)
