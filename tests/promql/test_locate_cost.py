"""Locating findings in a large expression: one walk of the tree and one scan of the text
per expression, whatever the number of findings (it was a walk and a scan per finding, and
a text comparison per node: 800 findings took 49 s)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mcgen.promql import parser


def test_every_selector_located_with_one_walk(monkeypatch: pytest.MonkeyPatch) -> None:
    text = " + ".join(f"metric_{i}{{job=\"j\"}}" for i in range(300))
    ast = parser.parse(text).ast
    assert ast is not None
    targets = list(parser.selectors(ast))
    walks = []
    real = parser.walk

    def counted(node: parser.Node) -> Iterator[parser.Node]:
        walks.append(node)
        return real(node)

    monkeypatch.setattr(parser, "walk", counted)
    offsets = [parser.locate(text, ast, t) for t in targets]
    assert len(walks) == 1
    assert offsets == [text.index(f"metric_{i}{{") for i in range(300)]


def test_equal_nodes_are_located_in_order() -> None:
    text = 'sum(up) / sum(up) + count(up{job="sum"})'
    ast = parser.parse(text).ast
    assert ast is not None
    sums = [n for n in parser.walk(ast) if parser.token(n) == "sum"]
    # Equal texts cannot be told apart: the first one's offset (as before).
    assert {parser.locate(text, ast, n) for n in sums} == {0}
    [count] = [n for n in parser.walk(ast) if parser.token(n) == "count"]
    assert parser.locate(text, ast, count) == text.index("count")
