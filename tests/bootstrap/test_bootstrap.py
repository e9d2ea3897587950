"""`mcgen init --from-metrics`: from a real Prometheus's /metrics, from the exposition of
the codehub Python stub, and from a saved file full of tricky text, to a spec that
validates, generates and whose promtool tests pass, also with every suggested alert
uncommented; and every way of giving it something unusable fails with exit 2 on one line.

promtool serves no /metrics of its own (it is a command, not a server), so only
Prometheus's exposition is read live here."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT
from live_prometheus import free_port, need_prometheus, prometheus
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from mcgen import api, conventions
from mcgen.cli import app

runner = CliRunner()


def _init(*args: str) -> Any:
    return runner.invoke(app, ["init", "--from-metrics", *args])


def _metrics(path: Path) -> dict[str, dict[str, Any]]:
    return {m["name"]: m for m in yaml.safe_load(path.read_text(encoding="utf-8"))["metrics"]}


def _uncommented(spec: Path) -> Path:
    """The spec with every suggested alert uncommented, as a user would (the suggestions
    are the only comment lines indented into a metric)."""
    text = spec.read_text(encoding="utf-8")
    out = spec.parent / "uncommented" / spec.name
    out.parent.mkdir()
    out.write_text(re.sub(r"(?m)^    # ", "    ", text), encoding="utf-8")
    assert out.read_text(encoding="utf-8") != text
    return out


def _proves(spec: Path, out: Path) -> None:
    """Validates, generates, passes `promtool check rules` and `promtool test rules`."""
    api.generate([spec], out)
    report = api.check([spec], out)
    assert report.ok and report.promtool_ran, [r.output for r in report.promtool]
    assert {r.command for r in report.promtool} == {"check", "test"}
    assert (out / conventions.tests_path(yaml.safe_load(spec.read_text())["service"])).exists()


def _one_line_error(result: Any, *words: str) -> None:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    for word in words:
        assert word in lines[0], lines[0]


# ---- (a) a real Prometheus's own /metrics ------------------------------------------------


def test_prometheus_own_metrics(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                promtool: str) -> None:
    binary = need_prometheus()
    monkeypatch.chdir(tmp_path)
    with prometheus({}, {}, binary) as prom:
        result = _init(f"{prom.url}/metrics", "--service", "prom",
                       "--path", "tmp/specs/prom.yaml")
        missing = _init(f"{prom.url}/no-such-page", "--service", "prom", "--path", "x.yaml")
    assert result.exit_code == 0, result.output
    _one_line_error(missing, "HTTP 404")
    spec = tmp_path / "tmp/specs/prom.yaml"
    text = spec.read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=../../mcgen.schema.json\n")
    assert re.search(r"# Skipped \d+ runtime metrics", text)
    metrics = _metrics(spec)
    assert not [n for n in metrics if n.startswith(("go_", "process_", "promhttp_"))]
    assert metrics["prometheus_http_requests_total"]["type"] == "counter"
    assert metrics["prometheus_http_requests_total"]["labels"]["code"] is None
    latency = metrics["prometheus_http_request_duration_seconds"]
    assert latency["type"] == "histogram" and latency["unit"] == "seconds"
    assert latency["buckets"] == sorted(latency["buckets"]) and 0.1 in latency["buckets"]
    assert metrics["prometheus_engine_query_duration_seconds"]["quantiles"] == [0.5, 0.9, 0.99]
    assert "# alerts:" in text  # suggestions, commented out
    model = api.validate([spec])
    # Prometheus is an exporter of its own metrics (prometheus_build_info): 50 of them kept.
    assert len(model.services[0].metrics) == len(metrics) == 50
    assert all(m.get("external") is True for m in metrics.values())
    _proves(spec, tmp_path / "out")
    _proves(_uncommented(spec), tmp_path / "out2")
    findings, _ = api.lint([spec])
    assert all(f.severity != "error" for f in findings), [str(f) for f in findings]


# ---- (b) the exposition of the codehub stub ---------------------------------------------


def test_codehub_stub_exposition_gives_back_codehub(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    promtool: str) -> None:
    from stubs.test_stubs_python import _expose  # records every label combination

    monkeypatch.chdir(ROOT)
    svc = api.validate([Path("specs/codehub.yaml")]).services[0]
    stub = tmp_path / "stub" / "codehub_metrics.py"
    stub.parent.mkdir()
    stub.write_text(api.render([Path("specs/codehub.yaml")])[
        conventions.python_stub_path("codehub")], encoding="utf-8")
    saved = tmp_path / "codehub.prom"
    saved.write_text(_expose(svc, stub), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = _init(str(saved))  # the service name comes from the metric names
    assert result.exit_code == 0, result.output
    spec = tmp_path / "specs" / "codehub.yaml"
    assert "*_created series" in spec.read_text(encoding="utf-8")
    got = _metrics(spec)
    assert sorted(got) == sorted(m.name for m in svc.metrics)
    for m in svc.metrics:
        g = got[m.name]
        assert (g["type"], g["help"], g.get("unit")) == (m.type, m.help, m.unit), m.name
        assert {k: tuple(v) for k, v in g.get("labels", {}).items()} == \
            {lb.name: tuple(sorted(lb.values or ())) for lb in m.labels}, m.name
        assert tuple(g.get("buckets", ())) == m.buckets, m.name
    _proves(spec, tmp_path / "out")
    alerts = {a.name: a for s in api.validate([_uncommented(spec)]).services
              for mm in s.metrics for a in mm.alerts}
    # Named after the service, so that two services' suggestions never clash.
    assert alerts["CodehubCoordinatorTickErrorRatioHigh"].kind == "ratio"
    assert alerts["CodehubWsErrorsHigh"].kind == "rate"
    assert alerts["CodehubWorkspaceOperationDurationSlow"].kind == "quantile"
    _proves(spec.parent / "uncommented" / spec.name, tmp_path / "out2")


# ---- (c) tricky text in a saved file -----------------------------------------------------

TRICKY = r"""# HELP tricky_requests_total Requests: "quotes", back\\slash, a\nnew line, ünï ✓ 😀 # x
# TYPE tricky_requests_total counter
tricky_requests_total{path="/a\"b",note="back\\slash",status="error",job="x"} 1
tricky_requests_total{path="{brace}, [x]",note="new\nline",status="ok",instance="y"} 2
tricky_requests_total{path="yes",note="# hash",status="ok"} 3
tricky_requests_total{path="a: b",note="😀 \u2028",status="ok"} 4
# HELP tricky_latency_seconds Latency: "p95" matters
# TYPE tricky_latency_seconds histogram
tricky_latency_seconds_bucket{route="-",le="0.005"} 1
tricky_latency_seconds_bucket{route="-",le="0.05"} 5
tricky_latency_seconds_bucket{route="-",le="0.5"} 9
tricky_latency_seconds_bucket{route="-",le="5.0"} 10
tricky_latency_seconds_bucket{route="-",le="+Inf"} 10
tricky_latency_seconds_count{route="-"} 10
tricky_latency_seconds_sum{route="-"} 3.2
# HELP tricky_payload_bytes Sizes
# TYPE tricky_payload_bytes summary
tricky_payload_bytes{quantile="0"} 1
tricky_payload_bytes{quantile="0.5"} 10
tricky_payload_bytes{quantile="1"} 100
tricky_payload_bytes_count 3
tricky_payload_bytes_sum 111
tricky_temperature_celsius 21.5
# TYPE tricky_legacy counter
tricky_legacy 7
# TYPE tricky_weird_total gauge
tricky_weird_total 1
go_goroutines 12
"""


def test_tricky_text_round_trips(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 promtool: str) -> None:
    monkeypatch.chdir(tmp_path)
    saved = tmp_path / "metrics.txt"
    saved.write_text(TRICKY, encoding="utf-8")
    result = _init(str(saved))
    assert result.exit_code == 0, result.output
    spec = tmp_path / "specs" / "tricky.yaml"
    text = spec.read_text(encoding="utf-8")
    got = _metrics(spec)
    families = {f.name: f for f in text_string_to_metric_families(TRICKY)}
    requests = got["tricky_requests_total"]
    assert requests["help"] == families["tricky_requests"].documentation
    assert "\n" in requests["help"] and "😀" in requests["help"]
    assert set(requests["labels"]) == {"path", "note", "status"}  # job, instance dropped
    assert requests["labels"]["note"] == sorted(
        s.labels["note"] for s in families["tricky_requests"].samples)
    assert requests["labels"]["path"] == sorted(
        s.labels["path"] for s in families["tricky_requests"].samples)
    assert got["tricky_latency_seconds"]["buckets"] == [0.005, 0.05, 0.5, 5]
    assert got["tricky_payload_bytes"]["quantiles"] == [0.5]
    assert got["tricky_payload_bytes"]["unit"] == "bytes"
    assert got["tricky_temperature_celsius"] == {
        "name": "tricky_temperature_celsius", "type": "gauge", "unit": "celsius",
        "help": "TODO: what tricky_temperature_celsius measures"}
    assert "untyped in the exposition: taken as a gauge" in text
    for name in ("tricky_legacy", "tricky_weird_total", "go_goroutines"):
        assert name not in got
    assert "# Skipped tricky_legacy: a counter whose name does not end in _total" in text
    assert "# Skipped tricky_weird_total: a gauge ending in _total" in text
    _proves(spec, tmp_path / "out")
    _proves(_uncommented(spec), tmp_path / "out2")
    again = _init(str(saved), "--include-runtime", "--service", "tricky2", "--path", "b.yaml")
    assert again.exit_code == 0 and "go_goroutines" in _metrics(tmp_path / "b.yaml")


# ---- (d) an exporter: node_exporter 1.5 ------------------------------------------------

NODE = Path(__file__).parent / "expositions" / "node_exporter-1.5.0.prom"


def test_node_exporter_exposition(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  promtool: str) -> None:
    """An exporter's exposition: every metric external (no naming findings, no stubs),
    untyped running totals as counters, per-host labels open, info metrics' labels open;
    a spec of 50 of its 246 metrics (every one the suggested alerts read, every group
    represented, the rest listed in a comment) whose dashboard an on-call engineer can
    read (an instance variable, at most 120 panels); node's resource alerts suggested and
    proven once uncommented."""
    from mcgen.bootstrap import EXPORTER_BUDGET, convert, read
    text = NODE.read_text(encoding="utf-8")
    families = read.parse(text, str(NODE))
    every = {e.name: e.spec for e in convert.convert(
        families, read.counters_declared(text), False, external=True).entries}
    assert len(every) == 246 and all(m.get("external") is True for m in every.values())
    assert every["node_vmstat_pgfault"]["type"] == "counter"  # untyped, cumulative
    assert every["node_netstat_Tcp_CurrEstab"]["type"] == "gauge"  # untyped, a level
    assert every["node_cpu_seconds_total"]["labels"]["cpu"] is None
    assert every["node_cpu_seconds_total"]["labels"]["mode"] == [
        "idle", "iowait", "irq", "nice", "softirq", "steal", "system", "user"]
    assert every["node_filesystem_avail_bytes"]["labels"]["mountpoint"] is None
    assert set(every["node_uname_info"]["labels"].values()) == {None}

    monkeypatch.chdir(tmp_path)
    result = _init(str(NODE))
    assert result.exit_code == 0, result.output
    assert "50 metric(s), 196 more listed in a comment" in result.output
    spec = tmp_path / "specs" / "node.yaml"
    spec_text = spec.read_text(encoding="utf-8")
    assert "Every metric is marked external, as an exporter's (it exposes " \
        "node_exporter_build_info)" in spec_text
    got = _metrics(spec)
    listed = re.findall(r"(?m)^#   (\w+) \(", spec_text)
    assert len(got) == EXPORTER_BUDGET and sorted([*got, *listed]) == sorted(every)
    groups = {m.get("group") for m in every.values()}
    assert {m.get("group") for m in got.values()} == groups
    findings, _ = api.lint([spec])
    assert [f for f in findings if f.rule.startswith(("naming/", "cardinality/"))] == []
    uncommented = _uncommented(spec)
    alerts = {a.name: a for s in api.validate([uncommented]).services
              for mm in s.metrics for a in mm.alerts}
    assert {"NodeCpuBusy", "NodeMemoryLow", "NodeFilesystemAlmostFull"} <= set(alerts)
    assert alerts["NodeMemoryLow"].ratio_metric == "node_memory_MemTotal_bytes"
    # No suggestion on an exporter's error counter that is still 0 (the PPS timer's).
    assert not [a for a in alerts if "Pps" in a or "Timex" in a]
    files = api.render([uncommented])
    assert not [p for p in files if p.startswith("stubs/")]
    board = json.loads(files["grafana/node.json"])
    panels = [p for top in board["panels"] for p in (top.get("panels") or [top])
              if p["type"] != "row"]
    assert len(panels) <= 120
    assert "instance" in [v["name"] for v in board["templating"]["list"]]
    _proves(uncommented, tmp_path / "out")


def test_external_can_be_forced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.prom").write_text("# TYPE shop_legacy counter\nshop_legacy 7\n"
                                       "# TYPE shop_queue_depth gauge\nshop_queue_depth 3\n")
    assert _init("x.prom").exit_code == 0  # not recognised: the counter is skipped
    assert "shop_legacy" not in _metrics(tmp_path / "specs" / "shop.yaml")
    result = _init("x.prom", "--external", "--path", "ext.yaml")
    assert result.exit_code == 0, result.output
    assert _metrics(tmp_path / "ext.yaml")["shop_legacy"] == {
        "name": "shop_legacy", "type": "counter", "external": True,
        "help": "TODO: what shop_legacy measures"}


# ---- (e) errors --------------------------------------------------------------------------


def test_errors_are_one_line_with_exit_2(tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _one_line_error(_init("nope.txt"), "nope.txt", "no such file")
    _one_line_error(_init(f"http://127.0.0.1:{free_port()}/metrics"), "cannot connect")
    html = tmp_path / "page.html"
    html.write_text("<html>\n<body>metrics</body>\n</html>\n", encoding="utf-8")
    _one_line_error(_init(str(html)), "page.html:1:1", "not a Prometheus text exposition")
    bad = tmp_path / "bad.prom"
    bad.write_text("# TYPE a counter\na_total 1\nb{x=\"1\" 2\n", encoding="utf-8")
    _one_line_error(_init(str(bad)), "bad.prom:3:1")
    (tmp_path / "empty.prom").write_text("# nothing\n", encoding="utf-8")
    _one_line_error(_init("empty.prom"), "no metrics")
    (tmp_path / "mixed.prom").write_text("a_x 1\nb_y 2\n", encoding="utf-8")
    _one_line_error(_init("mixed.prom"), "--service")
    _one_line_error(_init("mixed.prom", "--service", "Bad-Name"), "must match")
    (tmp_path / "ok.prom").write_text("shop_queue_depth 1\n", encoding="utf-8")
    assert _init("ok.prom").exit_code == 0
    _one_line_error(_init("ok.prom"), "already exists")
    _one_line_error(runner.invoke(app, ["init", "--include-runtime"]), "--from-metrics")
    assert not (tmp_path / "specs" / "myservice.yaml").exists()


def test_the_command_line_as_a_subprocess(tmp_path: Path) -> None:
    """The installed entry point: exit 2 and one line on stderr, no traceback."""
    proc = subprocess.run([sys.executable, "-m", "mcgen", "init", "--from-metrics",
                           str(tmp_path / "missing.prom")], capture_output=True, text=True,
                          check=False, cwd=tmp_path)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
