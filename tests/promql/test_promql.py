"""PromQL text: escaping, matchers, durations, le spellings."""

from __future__ import annotations

import re

import pytest

from mcgen import promql
from mcgen.promql import Duration, Matcher


@pytest.mark.parametrize(("text", "ms", "canonical"), [
    ("5m", 300_000, "5m"), ("90s", 90_000, "1m30s"), ("1h30m", 5_400_000, "1h30m"),
    ("1d", 86_400_000, "1d"), ("1w", 604_800_000, "7d"), ("250ms", 250, "250ms"),
])
def test_durations(text: str, ms: int, canonical: str) -> None:
    assert Duration.parse(text).ms == ms
    assert str(Duration.parse(text)) == canonical


@pytest.mark.parametrize("bad", ["5min", "", "m5", "5m1h", "1h1h", "-5m", "1.5h"])
def test_bad_durations(bad: str) -> None:
    with pytest.raises(ValueError):
        Duration.parse(bad)


def test_string_literal_escapes_everything_that_matters() -> None:
    assert promql.string_literal('a"b\\c\nd\te') == '"a\\"b\\\\c\\nd\\te"'
    assert promql.string_literal("\x01") == '"\\u0001"'
    assert promql.string_literal("plain") == '"plain"'


def test_matchers_from_spec() -> None:
    assert str(Matcher.from_spec("op", "STARTING")) == 'op="STARTING"'
    assert str(Matcher.from_spec("op", "!STARTING")) == 'op!="STARTING"'
    assert str(Matcher.from_spec("op", "~START.*")) == 'op=~"START.*"'
    assert str(Matcher.from_spec("op", "!~START.*")) == 'op!~"START.*"'
    assert str(Matcher.from_spec("r", ["/b|c", "a.b"])) == 'r=~"/b\\\\|c|a\\\\.b"'


def test_list_matcher_matches_exactly_its_values() -> None:
    m = Matcher.from_spec("r", ["/b|c", "a.b", "x+"])
    assert all(m.matches(v) for v in ("/b|c", "a.b", "x+"))
    assert not any(m.matches(v) for v in ("/b", "c", "axb", "xx"))


def test_regex_matchers_anchor_like_prometheus() -> None:
    assert Matcher("a", "=~", "ab").matches("ab")
    assert not Matcher("a", "=~", "ab").matches("abc")
    assert Matcher("a", "!~", "ab").matches("abc")


@pytest.mark.parametrize(("bound", "spellings"), [
    (1.0, {"1", "1.0"}), (10.0, {"10", "10.0"}), (0.005, {"0.005"}), (2.5, {"2.5"}),
])
def test_le_matcher_accepts_every_client_spelling(bound: float, spellings: set[str]) -> None:
    m = promql.le_matcher(bound)
    for s in spellings:
        assert m.matches(s)
    assert not m.matches("100")


def test_selector_sorts_matchers() -> None:
    sel = promql.selector("x", [Matcher("b", "=", "1"), Matcher("a", "=", "2")])
    assert sel == 'x{a="2",b="1"}'
    assert re.fullmatch(r'x\{a="2",b="1"\}', sel)
