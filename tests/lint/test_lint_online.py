"""`mcgen lint --prometheus URL` against a real Prometheus on 127.0.0.1 scraping a small
exporter: series that do not exist, labels no series carries, types the targets declare."""

from __future__ import annotations

import json
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from live_prometheus import HOST, Prometheus, free_port, need_prometheus, prometheus
from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server
from typer.testing import CliRunner

from mcgen.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def server() -> Iterator[Prometheus]:
    registry = CollectorRegistry()
    requests = Counter("shop_requests", "Requests.", ["code"], registry=registry)
    requests.labels("200").inc(10)
    requests.labels("500").inc(1)
    Gauge("shop_queue_depth", "Queued jobs.", registry=registry).set(3)
    port = free_port()
    http, thread = start_http_server(port, HOST, registry)
    try:
        with prometheus({"shop": f"{HOST}:{port}"}, {}, need_prometheus()) as prom:
            deadline = time.monotonic() + 30
            while not (prom.query("shop_queue_depth") and prom._get(
                    "/api/v1/metadata", [("metric", "shop_queue_depth")])):
                assert time.monotonic() < deadline, "no scrape after 30 s"
                time.sleep(0.3)
            yield prom
    finally:
        http.shutdown()
        thread.join(timeout=5)


def lint(tmp_path: Path, url: str, *rules: str) -> list[tuple[str, str]]:
    body = "groups:\n  - name: g\n    rules:\n" + "".join(
        f"      - {{record: 'job:x{i}:sum', expr: {json.dumps(expr)}}}\n"
        for i, expr in enumerate(rules))
    path = tmp_path / "r.yml"
    path.write_text(body, encoding="utf-8")
    result = runner.invoke(app, ["lint", "--format", "json", "--prometheus", url, str(path)])
    assert result.exit_code in (0, 1), result.output
    return [(str(f["rule"]), str(f["message"])) for f in json.loads(result.stdout)
            if str(f["rule"]).startswith("online/")]


@pytest.fixture(autouse=True)
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def test_what_exists_is_quiet(server: Prometheus, tmp_path: Path) -> None:
    assert lint(tmp_path, server.url, 'sum(rate(shop_requests_total{code="500"}[5m]))',
                "max(shop_queue_depth)") == []


def test_a_missing_metric(server: Prometheus, tmp_path: Path) -> None:
    [(rule, message)] = lint(tmp_path, server.url, "sum(shop_missing_total)")
    assert rule == "online/series-missing"
    assert message.startswith("`shop_missing_total` has no series in http://127.0.0.1:")


def test_a_label_no_series_carries(server: Prometheus, tmp_path: Path) -> None:
    found = lint(tmp_path, server.url, 'sum(rate(shop_requests_total{status="500"}[5m]))')
    assert sorted(rule for rule, _ in found) == ["online/label-missing",
                                                 "online/series-missing"]
    message = dict(found)["online/label-missing"]
    assert "carries the label `status` (they carry: code, instance, job)" in message


def test_rate_of_a_gauge(server: Prometheus, tmp_path: Path) -> None:
    [(rule, message)] = lint(tmp_path, server.url, "sum(rate(shop_queue_depth[5m]))")
    assert rule == "online/metric-type" and "declare a gauge" in message


def test_a_spec_against_the_targets(server: Prometheus, tmp_path: Path) -> None:
    spec = tmp_path / "shop.yaml"
    spec.write_text(textwrap.dedent("""\
        version: 1
        service: shop
        metrics:
          - name: shop_queue_depth
            type: counter
            external: true
            help: Queued jobs.
        """), encoding="utf-8")
    result = runner.invoke(app, ["lint", "--format", "json", "--prometheus", server.url,
                                 str(spec)])
    found = [f for f in json.loads(result.stdout) if f["rule"] == "online/metric-type"]
    assert [f["line"] for f in found] == [4]
    assert "is a counter in the spec but a gauge" in found[0]["message"]


def test_an_unreachable_prometheus_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "r.yml"
    path.write_text("groups: [{name: g, rules: [{record: 'a:b:c', expr: up}]}]\n")
    result = runner.invoke(app, ["lint", "--prometheus", f"http://{HOST}:{free_port()}",
                                 str(path)])
    assert result.exit_code == 2
    [line] = result.stderr.strip().splitlines()
    assert "cannot read /api/v1/status/buildinfo" in line and "is it running and reachable?" in line
