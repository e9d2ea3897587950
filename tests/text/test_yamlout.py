"""The YAML emitter: whatever we write reads back as exactly the same data."""

from __future__ import annotations

from typing import Any

import yaml
from conftest import max_examples
from hypothesis import given, settings
from hypothesis import strategies as st

from mcgen.text.yamlout import dump, flow_list, scalar

leaves = (st.text() | st.integers() | st.floats(allow_nan=False) | st.booleans() | st.none()
          | st.sampled_from(["yes", "no", "on", "1e3", "0x1F", "~", "null", "1.0", "a: b",
                             "x #y", "- item", " lead", "trail ", "a\nb", "a\n b", "",
                             "{{ $value }}", '"q"', "'s'", "@x", "%x", "`x`", "*x", "&x",
                             "!x", "|x", ">x", "\t", "\u2028", "\ufeff"]))
trees = st.recursive(leaves, lambda inner: st.lists(inner, max_size=4)
                     | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=25)


@settings(max_examples=max_examples(400), deadline=None)
@given(st.dictionaries(st.text(max_size=8), trees, max_size=5))
def test_round_trip(data: dict[str, Any]) -> None:
    assert yaml.safe_load(dump(data)) == data


def test_plain_only_when_safe() -> None:
    assert scalar("sum by (le) (rate(x[5m])) > 0.5") == "sum by (le) (rate(x[5m])) > 0.5"
    for tricky in ("yes", "1e3", "0o17", "~", "a: b", "x #y", "", " lead", "{{ a }}"):
        assert scalar(tricky).startswith('"'), tricky


def test_multiline_is_a_literal_block() -> None:
    text = dump({"expr": "(a > 1)\nor\n(b > 2)"})
    assert text == "expr: |-\n  (a > 1)\n  or\n  (b > 2)\n"


flow_items = (st.text() | st.integers() | st.floats(allow_nan=False)
              | st.sampled_from(["a:b", "a,b", "[x]", "{y}", "x:", "- a", "? q", "a: b",
                                 "#x", "x #y", "1e3", "yes", "", "\u2028", "\x85", "a\nb",
                                 "a?", "a?b", "a ?b", "?"]))


@settings(max_examples=max_examples(400), deadline=None)
@given(st.lists(flow_items, max_size=6))
def test_flow_list_round_trip(values: list[Any]) -> None:
    text = flow_list(values)
    if text is None:
        assert any(isinstance(v, str) and "\n" in v for v in values)
        return
    assert "\n" not in text
    assert yaml.safe_load(f"x: {text}\n") == {"x": values}


def test_flow_list_quotes_what_ends_a_plain_item() -> None:
    """In a flow collection PyYAML ends a plain scalar at `?` as at `,[]{}`: `[a?]` did not
    read back (found by the property test)."""
    for value in ("a?", "a?b", "a ?b", "a,b", "[x]", "{y}"):
        text = flow_list([value, "plain"])
        assert text == f'["{value}", plain]'
        for loader in (yaml.SafeLoader, getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
            assert yaml.load(f"x: {text}\n", Loader=loader) == {"x": [value, "plain"]}
    assert scalar("a?") == "a?"  # outside a flow collection it needs no quotes
