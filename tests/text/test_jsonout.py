"""mcgen/text/jsonout.py writes what json.dumps(indent=2, sort_keys=True,
ensure_ascii=False) writes, byte for byte: on every committed dashboard and on values
hypothesis invents (hostile strings, nesting, every number JSON has)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mcgen.text import jsonout

ROOT = Path(__file__).resolve().parent.parent.parent


def _stdlib(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


@pytest.mark.parametrize("path", sorted([*(ROOT / "generated" / "grafana").glob("*.json"),
                                         *(ROOT / "tests" / "golden").glob(
                                             "*/expected/grafana/*.json")]),
                         ids=lambda p: p.name)
def test_dashboards_are_written_as_the_standard_library_writes_them(path: Path) -> None:
    value = json.loads(path.read_text(encoding="utf-8"))
    assert jsonout.dumps(value) == _stdlib(value)


VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=30)


@given(VALUES)
def test_any_value_is_written_as_the_standard_library_writes_it(value: Any) -> None:
    assert jsonout.dumps(value) == _stdlib(value)


def test_what_json_cannot_hold_is_refused() -> None:
    with pytest.raises(TypeError):
        jsonout.dumps({"a": {1, 2}})
    with pytest.raises(TypeError):
        jsonout.dumps({1: "a"})
