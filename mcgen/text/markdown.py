"""The only place Markdown text is assembled from user strings (GitHub-flavoured: tables,
`~` strikethrough, `$` math, `:emoji:` shortcodes).

`inline` turns any text into an inline span that renders as exactly that text: as prose
(every character Markdown could read as markup backslash-escaped, line breaks as `<br>`,
blanks at the ends of a line dropped) or as a code span (a fence longer than any
backtick run inside). In a table cell a `|` is escaped too, in both forms, as GFM
requires. Code blocks get `fence`, link destinations `href`, heading anchors `Slugger`.
"""

from __future__ import annotations

import re
from urllib.parse import quote

# Always escaped: the backslash itself, emphasis, code, links, HTML, entities, tables,
# strikethrough, math.
_ALWAYS = set("\\`*[]<>&|~$")
_INTRAWORD = re.compile(r"(?<=[^\W_])_(?=[^\W_])")  # intraword `_` never emphasises
_EMOJI = re.compile(r":(?=[\w+-])")  # `:smile:` would become an emoji
# What would start a heading, a list item, a thematic break or a setext underline.
_BLOCK_START = re.compile(r"^(?:#{1,6}(?=\s|$)|[+-](?=\s|$)|\d{1,9}[.)](?=\s|$)|=+\s*$|-+\s*$)")


def _escape(line: str) -> str:
    out = []
    for i, ch in enumerate(line):
        if ch in _ALWAYS or (ch == "_" and not _INTRAWORD.match(line, i)) \
                or (ch == ":" and _EMOJI.match(line, i)):
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def _prose(text: str) -> str:
    joined = "<br>".join(_escape(line.strip()) for line in text.splitlines() if line.strip())
    found = _BLOCK_START.match(joined)
    if found:  # `\# x`, `\- x`, `1\. x`
        at = found.end() - 1 if joined[0].isdigit() else 0
        joined = joined[:at] + "\\" + joined[at:]
    return joined


def _code(text: str, cell: bool) -> str:
    body = " ".join(text.splitlines()) if text else text
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    tick = "`" * (longest + 1)
    if body.startswith("`") or body.endswith("`") or (
            body.startswith(" ") and body.endswith(" ") and body.strip()):
        body = f" {body} "
    if cell:
        body = body.replace("|", "\\|")
    return f"{tick}{body}{tick}"


def inline(text: str, *, code: bool = False, cell: bool = False) -> str:
    """`text` as a Markdown inline span that renders as exactly that text (code spans
    show line breaks as spaces: callers quote values that hold them)."""
    return _code(text, cell) if code else _prose(text)


def heading_text(text: str) -> str:
    """Prose for a heading: one line, whatever the text held."""
    return inline(" ".join(text.split()))


def fence(body: str, info: str = "") -> str:
    """A fenced code block holding `body` verbatim."""
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    tick = "`" * max(3, longest + 1)
    return f"{tick}{info}\n{body}\n{tick}"


def href(url: str) -> str:
    """A link destination: characters that would end or break it percent-encoded."""
    return quote(url, safe=":/?#[]@!$&'*+,;=%~-._")


def slug(text: str) -> str:
    """GitHub's heading anchor (github-slugger): lower case, punctuation dropped, each
    space a hyphen. Callers number repeats (`-1`, `-2`) in document order."""
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" if ch == " " else ""
                   for ch in text.lower())


class Slugger:
    """Anchors of a document's headings in the order they appear, repeats numbered."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}

    def __call__(self, text: str) -> str:
        base = slug(text)
        found, n = base, self.seen.get(base, 0)
        while found in self.seen:
            n += 1
            found = f"{base}-{n}"
        self.seen[base] = n
        self.seen[found] = 0
        return found
