"""layout.plain: the SDK's dashboard as json.loads(json.dumps(..., cls=JSONEncoder)) gives
it, without the text in between (on every committed dashboard and on invented values)."""

from __future__ import annotations

import enum
import json
import math
from pathlib import Path
from typing import Any

import pytest
from grafana_foundation_sdk.cog.encoder import JSONEncoder

from mcgen import api
from mcgen.dashboards import layout

ROOT = Path(__file__).resolve().parents[2]
SPEC_SETS = [ROOT / "specs", *sorted((ROOT / "tests" / "golden").glob("*/specs"))]


def _round_trip(value: Any) -> Any:
    return json.loads(json.dumps(value, cls=JSONEncoder))


def test_plain_is_the_json_round_trip_on_every_dashboard(
        monkeypatch: pytest.MonkeyPatch, in_root: Path) -> None:
    real, checked = layout.plain, []

    def plain(value: Any) -> Any:
        got = real(value)
        assert got == _round_trip(value)
        assert json.dumps(got, sort_keys=True) == json.dumps(_round_trip(value), sort_keys=True)
        checked.append(value)
        return got

    monkeypatch.setattr(layout, "plain", plain)
    for specs in SPEC_SETS:
        for svc in api.validate([specs.relative_to(ROOT)]).services:
            layout.dashboard(svc)
    assert len(checked) >= len(SPEC_SETS)


class _Colour(enum.StrEnum):
    RED = "red"


class _Size(enum.IntEnum):
    LARGE = 3


class _Sdk:
    """An object the SDK's encoder writes through `to_json`."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def to_json(self) -> dict[str, object]:
        return {"inner": self.inner, "colour": _Colour.RED}


@pytest.mark.parametrize("value", [
    {"a": (1, 2.5, "x"), "b": None, "c": [True, False], "d": {}},
    {1: "int key", 2.5: "float key", False: "bool key", None: "null key", "s": _Size.LARGE},
    [_Sdk(_Sdk([_Colour.RED, _Size.LARGE, math.inf, -0.0, 1e300]))],
    _Sdk({"nested": (_Sdk(None), "é\n\"")}),
])
def test_plain_is_the_json_round_trip_on_invented_values(value: Any) -> None:
    got = layout.plain(value)
    assert got == _round_trip(value)
    assert json.dumps(got, sort_keys=True) == json.dumps(_round_trip(value), sort_keys=True)
    assert [type(x) for x in _leaves(got)] == [type(x) for x in _leaves(_round_trip(value))]


def test_plain_refuses_what_json_refuses() -> None:
    with pytest.raises(TypeError):
        layout.plain({"x": object()})
    with pytest.raises(TypeError):
        _round_trip({"x": object()})


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [x for k in sorted(value, key=str) for x in (k, *_leaves(value[k]))]
    if isinstance(value, list):
        return [x for item in value for x in _leaves(item)]
    return [value]
