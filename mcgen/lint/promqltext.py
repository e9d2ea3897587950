"""What the PromQL parser cannot say: where an unparsable expression went wrong, read
from the text (strings and comments masked). promql-parser's errors carry no position
and, for `rate(x[5m]) by (le)`, no cause ("invalid promql query")."""

from __future__ import annotations

import re
from collections.abc import Iterator

from mcgen.promql.parser import AGGREGATIONS, KEYWORDS, masked

# `word(...) by (` with word not an aggregation: found in the text, as the parser only
# says "invalid promql query".
_CALL_BY_RE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(")
_MODIFIER_RE = re.compile(r"\)\s*(by|without)\s*\(")
_HYPHEN_RE = re.compile(r"(?<![A-Za-z0-9_:.])([A-Za-z_:][A-Za-z0-9_:]*)-([A-Za-z_:][A-Za-z0-9_:]*)")


def opener(text: str, close: int) -> int | None:
    """Offset of the `(` matching the `)` at `close`."""
    depth = 0
    for i in range(close, -1, -1):
        depth += {")": 1, "(": -1}.get(text[i], 0)
        if depth == 0:
            return i
    return None


def misplaced_by(text: str) -> Iterator[tuple[int, str, str]]:
    """(offset of `by`/`without`, the word, the function it follows) for each modifier
    written after a call that is not an aggregation."""
    plain = masked(text)
    for m in _MODIFIER_RE.finditer(plain):
        start = opener(plain, m.start())
        if start is None:
            continue
        call = _CALL_BY_RE.search(plain, max(0, start - 60), start + 1)
        while call and call.end() - 1 != start:
            call = _CALL_BY_RE.search(plain, call.start() + 1, start + 1)
        if call and call.group(1) not in AGGREGATIONS:
            yield m.start(1), m.group(1), call.group(1)


def unbalanced(text: str) -> int:
    """Offset of the first closing bracket without an opener, else of the last opener
    left open, else 0: where a parse error most likely is."""
    stack: list[int] = []
    pairs = {")": "(", "]": "[", "}": "{"}
    plain = masked(text)
    for i, ch in enumerate(plain):
        if ch in "([{":
            stack.append(i)
        elif ch in pairs:
            if not stack or plain[stack[-1]] != pairs[ch]:
                return i
            stack.pop()
    return stack[-1] if stack else 0


def hyphens(text: str) -> Iterator[tuple[int, str]]:
    for m in _HYPHEN_RE.finditer(masked(text)):
        if m.group(1) not in KEYWORDS and m.group(2) not in KEYWORDS \
                and not re.fullmatch(r"\d+[smhdwy]", m.group(2)):
            yield m.start(), m.group(0)
