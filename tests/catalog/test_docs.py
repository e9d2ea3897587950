"""The metric catalog (docs/<service>.md): it covers everything the hand-written catalog of
seed 000 documents for codehub, hostile text stays text (tables keep their columns, no
HTML gets through), every PromQL block parses, links resolve, output is deterministic.

Markdown is checked by rendering it with markdown-it (CommonMark + GFM tables), the way
GitHub reads it, and comparing the rendered text, not the escaped source."""

from __future__ import annotations

import html
import re
from pathlib import Path

import promql_parser
import pytest
import yaml
from markdown_it import MarkdownIt

from mcgen import api, conventions, promql
from mcgen.catalog import metricdocs as catalog
from mcgen.rules import queries, sloqueries
from mcgen.spec.model import Service
from mcgen.text import markdown

ROOT = Path(__file__).resolve().parents[2]
SPEC_SETS = [ROOT / "specs", *sorted((ROOT / "tests" / "golden").glob("*/specs")),
             ROOT / "tests" / "stubs" / "hostile.yaml"]
MD = MarkdownIt("commonmark").enable("table")
ALLOWED_TAGS = {"h1", "h2", "h3", "p", "ul", "li", "table", "thead", "tbody", "tr", "th",
                "td", "code", "pre", "a", "strong", "br"}

# Seed 000's queries, verbatim: the catalog must hold each (PromQL-equivalent), with the
# spec's selector on every series (`_scoped`).
SEED_QUERIES = [
    *(f"histogram_quantile({q}, sum by ({by}, le) (rate({name}_bucket[5m])))"
      for q in ("0.50", "0.95", "0.99")
      for by, name in (("coordinator_type", "codehub_coordinator_tick_duration_seconds"),
                       ("resource_type", "codehub_coordinator_observer_api_duration_seconds"),
                       ("operation", "codehub_workspace_operation_duration_seconds"),
                       ("direction", "codehub_ws_message_latency_seconds"))),
    "sum by (operation) (rate(codehub_workspace_operation_duration_seconds_sum[5m]))\n/\n"
    "sum by (operation) (rate(codehub_workspace_operation_duration_seconds_count[5m]))",
    "sum by (error_type) (rate(codehub_ws_errors_total[5m]))",
    "time() - max by (operation) (codehub_workspace_last_operation_timestamp)",
]
# Seed 000's alert conditions and SLA table, as the catalog words them.
SEED_ALERTS = {
    "WorkspaceOperationSlow": ["P95 of codehub_workspace_operation_duration_seconds by operation",
                               'above 5s where operation=~"STARTING|STOPPING"',
                               "above 10s elsewhere", "for 10m"],
    "CoordinatorTickSlow": ["P95 of codehub_coordinator_tick_duration_seconds by "
                            "coordinator_type above 1s, for 5m"],
    "ObserverApiSlow": ["P95 of codehub_coordinator_observer_api_duration_seconds by "
                        "resource_type above 0.5s"],
    "WebSocketLatencyHigh": ["P95 of codehub_ws_message_latency_seconds by direction above 0.1s"],
    "ReconcileQueueGrowing": ["codehub_coordinator_wc_reconcile_queue above 10, for 10m"],
    "CASFailuresHigh": ["rate of codehub_coordinator_wc_cas_failures_total above 0.1/s"],
    "WebSocketErrorsHigh": ['where error_type!="connection_closed" above 0.1/s'],
}
SEED_SLA = {
    "codehub_workspace_operation_duration_seconds":
        'P95 ≤ 5s where operation=~"STARTING|STOPPING", ≤ 10s elsewhere',
    "codehub_coordinator_tick_duration_seconds": "P95 ≤ 1s",
    "codehub_coordinator_observer_api_duration_seconds": "P95 ≤ 0.5s",
    "codehub_ws_message_latency_seconds": "P95 ≤ 0.1s",
    "codehub_coordinator_wc_reconcile_queue": "value ≤ 10",
    "codehub_coordinator_wc_cas_failures_total": "rate ≤ 0.1/s",
    "codehub_ws_errors_total": 'rate where error_type!="connection_closed" ≤ 0.1/s',
}


def _docs(paths: list[Path]) -> list[tuple[Service, str]]:
    model = api.validate(paths)
    files = api.render(paths)
    return [(svc, files[conventions.docs_path(svc.name)]) for svc in model.services]


def _plain(fragment_html: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment_html))


def _rendered_text(text: str) -> str:
    """The text a reader sees (tags dropped, entities decoded, `<br>` as a newline)."""
    return _plain(MD.render(text).replace("<br>", "\n"))


def _tables(text: str) -> list[list[list[str]]]:
    """Every table as rows of rendered cell texts (the header row first)."""
    out = []
    for table in re.findall(r"<table>(.*?)</table>", MD.render(text), re.S):
        out.append([[_plain(c.replace("<br>", "\n")).strip()
                     for c in re.findall(r"<t[hd]>(.*?)</t[hd]>", row, re.S)]
                    for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)])
    return out


def _promql_blocks(text: str) -> list[str]:
    return [t.content.rstrip("\n") for t in MD.parse(text)
            if t.type == "fence" and t.info.strip() == "promql"]


def _normal(expr: str) -> str:
    return str(promql_parser.parse(expr))


def _scoped(expr: str, svc: Service) -> str:
    """`expr` with the service's selector on every series of its metrics."""
    names = "|".join(sorted((m.name for m in svc.metrics), key=len, reverse=True))
    shown = promql.selector("", svc.selector)
    return re.sub(rf"\b((?:{names})(?:_bucket|_count|_sum)?)(?=[\[)])", rf"\1{shown}", expr)


@pytest.fixture(scope="module")
def codehub() -> tuple[Service, str]:
    ((svc, text),) = _docs([ROOT / "specs" / "codehub.yaml"])
    return svc, text


def test_codehub_catalog_covers_every_metric(codehub: tuple[Service, str]) -> None:
    """Name, type, help, labels and allowed values, buckets, multiprocess mode, source,
    P95 (histograms), and each alert's condition (with its thresholds) and expression."""
    svc, text = codehub
    shown = _rendered_text(text)
    blocks = {_normal(b) for b in _promql_blocks(text)}
    for metric in svc.metrics:
        facts = _facts(text, metric.name)
        assert facts["type"] == metric.type and metric.help in shown
        assert facts["collected at"] == metric.source
        assert facts["labels"] == "\n".join(
            f"{lb.name}: {', '.join(lb.values or ())}" for lb in metric.labels) or "none"
        if metric.buckets:
            assert facts["buckets"] == ", ".join(f"{b:g}" for b in metric.buckets) + ", +Inf"
        assert facts.get("multiprocess mode") == metric.multiprocess_mode
        if metric.type == "histogram":
            by = ", ".join(lb.name for lb in metric.labels)
            p95 = f"histogram_quantile(0.95, sum by ({by}, le) (rate({metric.name}_bucket[5m])))"
            assert _normal(_scoped(p95, svc)) in blocks, metric.name
        for alert in metric.alerts:
            assert f"{alert.name} ({alert.severity}) fires when " \
                   f"{catalog.condition(alert, metric)}." in shown
            assert _normal(queries.alert_expr(alert, metric)) in blocks, alert.name


def _facts(text: str, metric: str) -> dict[str, str]:
    """The property table of one metric's section."""
    section = text.split(f"\n### `{metric}`\n", 1)[1].split("\n### ", 1)[0]
    (table,) = [t for t in _tables(section) if t[0] == ["property", "value"]]
    return {k: v for k, v in table[1:]}


def test_codehub_catalog_holds_the_seed_queries_alerts_and_sla_table(
        codehub: tuple[Service, str]) -> None:
    svc, text = codehub
    assert svc.selector, "codehub's spec names its series"
    blocks = {_normal(b) for b in _promql_blocks(text)}
    for query in SEED_QUERIES:
        assert _normal(_scoped(query, svc)) in blocks, query
    shown = _rendered_text(text)
    for alert, parts in SEED_ALERTS.items():
        (line,) = [ln for ln in shown.splitlines() if ln.startswith(f"{alert} (")]
        for part in parts:
            assert part in line, (alert, part, line)
    summary = _tables(text)[0]
    assert summary[0] == ["metric", "type", "labels", "unit", "SLA target (alert thresholds)",
                          "alerts"]
    rows = {r[0]: r for r in summary[1:]}
    for metric, target in SEED_SLA.items():
        assert rows[metric][4] == target, metric
    assert rows["codehub_workspace_operation_duration_seconds"][1:4] == [
        "histogram", "operation", "seconds"]
    assert rows["codehub_coordinator_tick_total"][5] == \
        "CoordinatorTickErrorRatioHigh, CoordinatorTicksAbsent"
    assert len(rows) == 9


def test_codehub_slo_section(codehub: tuple[Service, str]) -> None:
    svc, text = codehub
    shown = _rendered_text(text)
    assert "error budget | 0.001 (0.1%) of events: 43.2 minutes (43m12s) per 30d" in \
        "\n".join(" | ".join(r) for t in _tables(text) for r in t)
    assert "2160 minutes (1d12h) per 30d" in shown
    burn = [t for t in _tables(text) if t[0][0] == "alert" and len(t[0]) == 8][0]
    assert burn[1:] == [
        ["page", "critical", "1h", "5m", "14.4", "2%", "2d2h", "1.44%"],
        ["page", "critical", "6h", "30m", "6", "5%", "5d", "0.6%"],
        ["ticket", "warning", "1d", "2h", "3", "10%", "10d", "0.3%"],
        ["ticket", "warning", "3d", "6h", "1", "10%", "30d", "0.1%"]]
    blocks = {_normal(b) for b in _promql_blocks(text)}
    for slo in svc.slos:
        for alert in slo.alerts:
            assert _normal(sloqueries.alert_expr(svc, slo, alert.kind)) in blocks
        for rec in sloqueries.recordings(svc, slo):
            assert f'{rec.name}{{service="codehub",slo="{slo.name}"}}' in shown
        assert slo.alert_name in shown


def test_header_title_and_dashboard_link(codehub: tuple[Service, str]) -> None:
    svc, text = codehub
    first = text.splitlines()[0]
    assert first.startswith("<!-- ") and conventions.header_source(first) == svc.source
    assert "-->" in text.split("\n\n", 1)[0]
    assert "[CodeHub performance](/d/codehub-performance)" in text
    assert "uid `codehub-performance`" in text and "relative to the root URL" in text
    assert re.findall(r"^# .*", text, re.M) == ["# codehub metric catalog"]


@pytest.mark.parametrize("specs", SPEC_SETS, ids=lambda p: p.parent.name + "/" + p.name)
def test_every_promql_block_parses_and_is_pasteable(specs: Path) -> None:
    for svc, text in _docs([specs]):
        blocks = _promql_blocks(text)
        assert blocks, svc.name
        for block in blocks:
            promql_parser.parse(block)
            without_strings = re.sub(r'"(?:[^"\\]|\\.)*"', '""', block)
            assert "$" not in without_strings, block  # no Grafana variables


@pytest.mark.parametrize("specs", SPEC_SETS, ids=lambda p: p.parent.name + "/" + p.name)
def test_links_resolve_and_tables_keep_their_columns(specs: Path) -> None:
    for _, text in _docs([specs]):
        _check_markdown(text)


def _check_markdown(text: str) -> None:
    rendered = MD.render(text)
    tags = set(re.findall(r"</?([a-zA-Z][a-zA-Z0-9]*)", rendered))
    assert tags <= ALLOWED_TAGS, tags - ALLOWED_TAGS
    for block in re.findall(r"(?:^\|.*\n)+", text, re.M):
        widths = {len(re.findall(r"(?<!\\)\|", line)) for line in block.splitlines()}
        assert len(widths) == 1, block
    for table in _tables(text):
        assert len({len(row) for row in table}) == 1, table
    slugger = markdown.Slugger()
    anchors = {slugger(_plain(h)) for h in re.findall(r"<h[1-6]>(.*?)</h[1-6]>", rendered)}
    for target in re.findall(r'href="#([^"]*)"', rendered):
        assert target in anchors, target


def _hostile_spec(tmp_path: Path) -> Path:
    nasty = "a | b `c` <script>alert(1)</script> *d* _e_ [f](http://x) $g$ :smile: ~h~ &amp;"
    spec = {
        "version": 1, "service": "nasty", "description": f"# {nasty}\nline two",
        "alert_labels": {"team": "a|b`c"}, "runbook_base_url": "https://x.example/a b)c",
        "dashboard": {"title": f"[{nasty}]", "folder": "<b>f</b>"},
        "metrics": [
            {"name": "nasty_requests_total", "type": "counter", "help": f"- {nasty}\n| x |",
             "group": f"# {nasty}\nsecond", "source": "a|b `c`\nd",
             "labels": {"code": ["a|b", "`", "x\ny", " pad "]},
             "alerts": [{"alert": "NastyHigh", "rate": True, "above": 1,
                         "select": {"code": "!x\ny"}, "summary": nasty, "labels": {"x": nasty},
                         "overrides": [{"match": {"code": "a|b"}, "above": 2}]}]},
            {"name": "nasty_seconds", "type": "histogram", "unit": "seconds", "help": "1. x",
             "buckets": [0.5, 1]},
        ],
        "slos": [{"name": "avail", "objective": 99.5, "description": f"{nasty}\n---",
                  "sli": {"events": {"error": {"metric": "nasty_requests_total",
                                               "select": {"code": "a|b"}},
                                     "total": {"metric": "nasty_requests_total"}}}}],
    }
    path = tmp_path / "nasty.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    return path


def test_hostile_text_renders_as_text(tmp_path: Path) -> None:
    ((svc, text),) = _docs([_hostile_spec(tmp_path)])
    _check_markdown(text)
    rendered = MD.render(text)
    assert "<script" not in rendered and "<b>" not in rendered
    shown = _rendered_text(text)
    nasty = svc.metrics[0].alerts[0].summary
    assert f"Summary: {nasty}" in shown
    assert f"# {nasty}\nline two" in shown  # the description, both lines
    # one h2 per section (the group's two lines on one), nothing else became a heading
    assert re.findall(r"<h2>(.*?)</h2>", rendered) == [
        "Summary", html.escape(f"# {nasty} second", quote=False), "Other metrics", "SLOs"]
    assert len(re.findall(r"<h3>", rendered)) == 3
    facts = _facts(text, "nasty_requests_total")
    assert facts["labels"] == 'code: a|b, `, "x\\ny", " pad "'
    assert facts["collected at"] == "a|b `c` d"
    assert f"- {nasty}\n| x |" in shown
    assert "https://x.example/a%20b%29c/NastyHigh" in rendered
    for block in _promql_blocks(text):
        promql_parser.parse(block)


@pytest.mark.parametrize("value", ["plain", "a|b", "`", "``x`", "x\ny", "tab\there", " pad ",
                                   "", "<i>", "\\", "$x$", "sep\u2028arator"])
def test_label_values_show_exactly(value: str) -> None:
    shown = catalog.shown_value(value)
    for cell in (False, True):
        span = markdown.inline(shown, code=True, cell=cell)
        source = f"| a |\n|---|\n| {span} |\n" if cell else span
        (code,) = re.findall(r"<code>(.*?)</code>", MD.render(source), re.S)
        assert html.unescape(code) == shown
    assert shown == value or shown == f'"{value}"'.replace("\n", "\\n").replace(
        "\t", "\\t").replace("\u2028", "\\u2028")


def test_fence_outlasts_backticks() -> None:
    body = 'x{a="```"} or y{b="````"}'
    ((block,),) = [[t.content for t in MD.parse(markdown.fence(body, "promql"))
                    if t.type == "fence"]]
    assert block == body + "\n"


def test_deterministic(tmp_path: Path) -> None:
    paths = [ROOT / "specs", _hostile_spec(tmp_path)]
    first, second = api.render(paths), api.render(paths)
    docs = {k: v for k, v in first.items() if k.startswith("docs/")}
    assert len(docs) == 4 and all(second[k] == v for k, v in docs.items())
