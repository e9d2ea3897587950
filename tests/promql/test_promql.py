"""PromQL text: escaping, matchers, durations, le spellings."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mcgen import api, promql
from mcgen.errors import SpecError
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


def test_escaped_backslash_before_a_digit_is_no_backreference(tmp_path: Path) -> None:
    """A `select` list value `\\5xx` becomes the regex `\\\\5xx|a|b`: an escaped backslash,
    then `5`, which RE2 accepts (it was refused as the backreference `\\5`); a real
    backreference after an escaped backslash is still refused."""
    spec = tmp_path / "shop.yaml"
    body = """\
version: 1
service: shop
metrics:
  - name: shop_requests_total
    type: counter
    help: Requests served.
    labels: {{code: null}}
    alerts:
      - {{alert: RequestRateHigh, rate: true, above: 100, select: {{code: {select}}}}}
"""
    for backslashes in (1, 2):
        value = "\\" * backslashes + "5xx"  # YAML's single quotes keep backslashes
        spec.write_text(body.format(select=f"['{value}', a, b]"), encoding="utf-8")
        rules = api.render([spec])["prometheus/shop.rules.yml"]
        regex = promql.alternation([value, "a", "b"])
        assert regex == "\\" * 2 * backslashes + "5xx|a|b"
        assert f"code=~{promql.string_literal(regex)}" in rules
    for refused in ("'~\\\\\\\\(a)\\1'", "'~(a)\\1'", "'~a\\\\\\\\\\2'"):
        spec.write_text(body.format(select=refused), encoding="utf-8")
        with pytest.raises(SpecError, match="Prometheus' RE2 engine does not support"):
            api.validate([spec])
