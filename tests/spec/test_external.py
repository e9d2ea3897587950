"""`external: true` (SPEC 2): an exporter's metric. Its name is not held to the
conventions and no stub registers it; everything else works as for the service's own."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcgen import api
from mcgen.errors import SpecError

SPEC = """\
version: 1
service: shop
selector: {job: shop}
metrics:
  - name: shop_orders_total
    type: counter
    help: Orders placed.
  - name: node_vmstat_pgfault
    type: counter
    unit: bytes
    help: Page faults (an untyped counter of node_exporter, without _total).
    external: %s
    alerts:
      - alert: PageFaultsHigh
        rate: true
        by: [instance]
        above: 1000
  - name: node_memory_MemAvailable_bytes
    type: gauge
    help: Memory available.
    external: %s
"""


def _spec(tmp_path: Path, external: bool) -> Path:
    path = tmp_path / "shop.yaml"
    word = "true" if external else "false"
    path.write_text(SPEC % (word, word))
    return path


def test_external_names_are_not_held_to_the_conventions(tmp_path: Path) -> None:
    spec = _spec(tmp_path, external=True)
    files = api.render([spec])
    assert "sum by (instance) (rate(node_vmstat_pgfault{job=\"shop\"}[5m]))" in \
        files["prometheus/shop.rules.yml"]
    stub = files["stubs/python/shop_metrics.py"]
    assert "shop_orders_total" in stub and "node_vmstat_pgfault" not in stub
    assert "MemAvailable" not in files["stubs/go/shop/metrics.go"]
    findings, _ = api.lint([spec])
    assert not [f for f in findings if f.rule.startswith(("naming/", "cardinality/"))]


def test_the_same_names_of_the_service_own_metrics_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as exc:
        api.render([_spec(tmp_path, external=False)])
    messages = [p.message for p in exc.value.problems]
    assert "counter 'node_vmstat_pgfault' does not end in _total" in messages
    assert "metric 'node_vmstat_pgfault' has unit 'bytes' but does not end in _bytes_total" \
        in messages
