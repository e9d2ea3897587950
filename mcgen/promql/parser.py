"""A typed front for promql-parser (the Rust PromQL parser, built from Prometheus' grammar):
parsing, walking the tree in source order, and finding where a node was written.

The parser's tree carries no offsets and its errors no positions, so positions are
recovered from the text: string literals and comments are masked, then the n-th
whole-word occurrence of a token is the n-th node that starts with it (a pre-order
walk meets function names, aggregation operators and metric names in source order).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import promql_parser as pp

Node = pp.Expr

# Aggregation operators: the only things that take `by (...)` / `without (...)`.
AGGREGATIONS = frozenset({"sum", "avg", "min", "max", "count", "group", "stddev", "stdvar",
                          "topk", "bottomk", "quantile", "count_values", "limitk",
                          "limit_ratio"})
KEYWORDS = AGGREGATIONS | {"by", "without", "on", "ignoring", "group_left", "group_right",
                           "bool", "and", "or", "unless", "offset", "atan2", "inf", "nan"}
COMPARISONS = frozenset({">", "<", ">=", "<=", "==", "!="})
RATE_FUNCTIONS = frozenset({"rate", "increase", "irate"})


@dataclass(frozen=True)
class Parsed:
    ast: Node | None
    error: str | None


# How deep an expression may nest (operators, parentheses, unary signs): the parser
# recurses once per level and overflows its stack (a crash, not an error) beyond a few
# thousand; real rules nest a few dozen.
MAX_DEPTH = 500
_DEPTH_RE = re.compile(r"\b(?:and|or|unless)\b|[-+*/%^(]|[=!<>]=|[<>]")


def depth(text: str) -> int:
    """An upper bound of the expression's nesting: its operators and opening parentheses
    outside label matchers, ranges, strings and comments."""
    plain = re.sub(r"\{[^{}]*\}|\[[^\[\]]*\]", " ", masked(text))
    return len(_DEPTH_RE.findall(plain))


def parse(text: str) -> Parsed:
    if depth(text) > MAX_DEPTH:
        return Parsed(None, f"nested deeper than {MAX_DEPTH} operations and parentheses, "
                      "more than mcgen can check (split it into recording rules)")
    try:
        return Parsed(pp.parse(text), None)
    except (ValueError, RuntimeError) as exc:  # the parser raises ValueError
        return Parsed(None, str(exc) or "invalid PromQL")


def children(node: Node) -> list[Node]:
    """A node's sub-expressions, in source order."""
    if isinstance(node, pp.BinaryExpr):
        return [node.lhs, node.rhs]
    if isinstance(node, pp.AggregateExpr):
        param = [node.param] if isinstance(node.param, pp.Expr) else []
        return [*param, node.expr]
    if isinstance(node, pp.Call):
        return [a for a in node.args if isinstance(a, pp.Expr)]
    if isinstance(node, pp.MatrixSelector):
        return [node.vector_selector]
    if isinstance(node, pp.ParenExpr | pp.UnaryExpr | pp.SubqueryExpr):
        return [node.expr]
    return []


def walk(node: Node) -> Iterator[Node]:
    """Every node, pre-order (parents before children, left before right), without
    recursion (a chain of operators is as deep as it is long)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(children(current)))


def op(node: pp.BinaryExpr | pp.AggregateExpr) -> str:
    return str(node.op)


def unwrap(node: Node) -> Node:
    """Through parentheses."""
    while isinstance(node, pp.ParenExpr):
        node = node.expr
    return node


def metric_name(selector: pp.VectorSelector) -> str | None:
    """The metric a selector reads: its name, or an equality matcher on __name__."""
    if selector.name:
        return selector.name
    for m in selector.matchers.matchers:
        if m.name == "__name__" and m.op == pp.MatchOp.Equal:
            return m.value
    return None


def token(node: Node) -> str | None:
    """The word a node's text starts with, if any (what `locate` searches for)."""
    if isinstance(node, pp.Call):
        return node.func.name
    if isinstance(node, pp.AggregateExpr):
        return op(node)
    if isinstance(node, pp.VectorSelector):
        return node.name
    return None


def selectors(node: Node) -> Iterator[pp.VectorSelector]:
    for sub in walk(node):
        if isinstance(sub, pp.VectorSelector):
            yield sub


_MASK_RE = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`|#[^\n]*')


def masked(text: str) -> str:
    """The text with string literals and comments blanked out, offsets unchanged."""
    return _MASK_RE.sub(lambda m: m.group(0)[0] + " " * (len(m.group(0)) - 1), text)


def occurrences(text: str, word: str) -> list[int]:
    """Offsets of `word` as a whole word outside strings and comments."""
    pattern = re.compile(r"(?<![A-Za-z0-9_:])" + re.escape(word) + r"(?![A-Za-z0-9_:])")
    return [m.start() for m in pattern.finditer(masked(text))]


def locate(text: str, ast: Node, target: Node) -> int:
    """Offset of `target` (a node of `ast`) in `text`; 0 when it cannot be told. The
    nodes and occurrences of each word are worked out once per expression, so that
    locating every finding of a large expression costs time in proportion to them."""
    word = token(target)
    if word is None:
        firsts = [n for n in walk(target) if token(n) is not None]
        if not firsts:
            return 0
        target, word = firsts[0], token(firsts[0])
        assert word is not None
    order, found = _table(text, ast).get(word, ({}, []))
    index = order.get(repr(target), 0)
    return found[index] if index < len(found) else (found[0] if found else 0)


_WORD_RE = re.compile(r"(?<![A-Za-z0-9_:])[A-Za-z_:][A-Za-z0-9_:]*")
_TABLES: dict[tuple[str, int], dict[str, tuple[dict[str, int], list[int]]]] = {}


def _table(text: str, ast: Node) -> dict[str, tuple[dict[str, int], list[int]]]:
    """For each word nodes start with: its nodes in walk order (told apart by their text,
    as the bindings make new wrapper objects on each access; the first of equal ones
    wins) and its offsets in the text. One walk and one scan per expression."""
    key = (text, id(ast))
    if key in _TABLES:
        return _TABLES[key]
    if len(_TABLES) > 64:
        _TABLES.clear()
    nodes: dict[str, dict[str, int]] = {}
    counts: dict[str, int] = {}
    for n in walk(ast):
        word = token(n)
        if word is not None:
            i = counts.get(word, 0)
            counts[word] = i + 1
            nodes.setdefault(word, {}).setdefault(repr(n), i)
    offsets: dict[str, list[int]] = {}
    for m in _WORD_RE.finditer(masked(text)):
        if m.group() in nodes:
            offsets.setdefault(m.group(), []).append(m.start())
    table = {word: (order, offsets.get(word, [])) for word, order in nodes.items()}
    _TABLES[key] = table
    return table
