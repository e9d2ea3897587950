"""Predict, in Python, what Prometheus renders for an alert annotation template.

promtool compares ``exp_annotations`` exactly, so mcgen must know the rendered string. This
module implements the subset of Go text/template (as run by Prometheus 2.x rule evaluation,
with ``missingkey=zero``) that annotations typically use, and rejects everything else with a
:class:`TemplateProblem` instead of guessing:

* plain text, ``{{ $labels.NAME }}``, ``{{ .Labels.NAME }}``, ``{{ $value }}``, ``{{ .Value }}``,
  and string literals ``"..."`` / ```...```;
* the functions ``humanize``, ``humanizePercentage``, ``humanizeDuration`` (on the value),
  ``toUpper``, ``toLower``, ``title`` (on strings) and ``printf`` (literal format, verbs
  ``%f %e %g %v`` with optional ``.N`` precision for the value, ``%s``/``%v`` for strings,
  ``%%``), called as ``{{ f ARG }}`` or piped as ``{{ ARG | f }}``;
* trim markers ``{{- ... -}}`` and comments ``{{/* ... */}}``.

A missing label renders as the empty string. Values >= 2**63 given to humanizeDuration follow
Go's amd64 float->int64 conversion (as Prometheus on amd64 does).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeAlias

from mcgen.promql.gofuncs import DIRECTIVE, FLOAT_FUNCS, STR_FUNCS, go_float, printf
from mcgen.promql.gofuncs import EngineDifference as EngineDifference  # render raises it

_WS = " \t\r\n"  # Go text/template's notion of space (for trim markers and token separation)
SUPPORTED = (
    "plain text, {{ $labels.NAME }}, {{ .Labels.NAME }}, {{ $value }}, {{ .Value }}, "
    "string literals, the functions humanize, humanizePercentage, humanizeDuration (on $value), "
    "toUpper, toLower, title (on strings) and printf (literal format with %f %e %g %v and "
    "optional precision such as %.2f for $value, %s or %v for strings, %%), each called as "
    "{{ f ARG }} or {{ ARG | f }}, trim markers {{- -}} and comments {{/* ... */}}"
)
_CONTROL = ("if", "else", "end", "range", "with", "define", "template", "block", "break")
_KEYWORDS = frozenset((*_CONTROL, "continue", "nil", "true", "false"))
_TOKEN = re.compile(
    r'\||"(?:[^"\\\n]|\\.)*"|`[^`]*`|\$\w*(?:\.[A-Za-z_]\w*)*'
    r"|(?:\.[A-Za-z_]\w*)+|\.|[A-Za-z_]\w*",
    re.ASCII,
)
_IDENT = re.compile(r"[A-Za-z_]\w*", re.ASCII)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'"}


class TemplateProblem(ValueError):
    """The template uses something outside the supported subset (or is malformed).

    `what` names the construct briefly, for one-line messages."""

    def __init__(self, message: str, what: str = "") -> None:
        super().__init__(message)
        self.what = what or message


def _problem(src: str, what: str) -> TemplateProblem:
    msg = f"annotation template {src!r}: {what} is not supported. Supported subset: {SUPPORTED}"
    return TemplateProblem(msg, what)


@dataclass(frozen=True)
class _Value:
    pass


@dataclass(frozen=True)
class _Label:
    name: str


@dataclass(frozen=True)
class _Lit:
    text: str


@dataclass(frozen=True)
class _Call:
    func: str
    args: tuple[_Node, ...]


_Node: TypeAlias = _Value | _Label | _Lit | _Call



def _check_printf(src: str, args: list[_Node]) -> None:
    if not args or not isinstance(args[0], _Lit):
        raise _problem(src, "printf without a literal format string as its first argument")
    fmt, values = args[0].text, args[1:]
    verbs = [m for m in DIRECTIVE.finditer(fmt) if m.group(0) != "%%"]
    if len(verbs) != len(values):
        n = f"{len(values)} argument(s) for {len(verbs)} verb(s)"
        raise _problem(src, f"printf {fmt!r} with {n}")
    for m, arg in zip(verbs, values, strict=True):
        ok = "fegv" if isinstance(arg, _Value) else ("sv" if m.group(1) is None else "")
        if not m.group(2) or m.group(2) not in ok:
            kind = "$value" if isinstance(arg, _Value) else "a string"
            raise _problem(src, f"printf directive {m.group(0)!r} for {kind}")


def _operand(src: str, tok: str) -> _Node:
    if tok[0] == "`":
        return _Lit(tok[1:-1])
    if tok[0] == '"':
        body = re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), "\0"), tok[1:-1])
        if "\0" in body:
            raise _problem(src, f'an escape sequence other than \\n \\t \\r \\\\ \\" in {tok}')
        return _Lit(body)
    var, _, rest = tok.partition(".")
    fields = rest.split(".") if rest else []
    if (var, len(fields)) in {("$labels", 1), ("", 2)} and (var or fields[0] == "Labels"):
        return _Label(fields[-1])
    if (var, *fields) in {("$value",), ("", "Value")}:
        return _Value()
    if tok in _KEYWORDS:
        raise _problem(src, f"the keyword {{{{ {tok} }}}} (if/range/with/define/...)")
    if _IDENT.fullmatch(tok):
        raise _problem(src, f"function {tok!r} used as an argument (pipe into it instead)")
    if var in {"$externalLabels", "$externalURL"} or tok.startswith((".External", "$labels")):
        raise _problem(src, f"{tok} (only $labels.NAME and $value are known to mcgen)")
    raise _problem(src, f"{tok} (use $labels.NAME, .Labels.NAME, $value or .Value)")


def _call(src: str, func: str, args: list[_Node]) -> _Call:
    if func == "printf":
        _check_printf(src, args)
    elif func in FLOAT_FUNCS or func in STR_FUNCS:
        want = _Value if func in FLOAT_FUNCS else (_Label, _Lit, _Call)
        if len(args) != 1 or not isinstance(args[0], want):
            what = "$value" if func in FLOAT_FUNCS else "label or string"
            raise _problem(src, f"{func} with arguments other than exactly one {what}")
    else:
        raise _problem(src, f"function {func!r}")
    return _Call(func, tuple(args))


def _close_at(src: str, i: int) -> tuple[int, bool] | None:
    if src.startswith("}}", i):
        return i + 2, False
    if src[i : i + 1] in tuple(_WS) and src.startswith("-}}", i + 1):
        return i + 4, True
    return None


def _action(src: str, i: int) -> tuple[_Node | None, int, bool]:
    """Parse one action whose body starts at ``i``; return (node, end, trim_right)."""
    if src.startswith("/*", i):
        end = src.find("*/", i + 2)
        close = None if end < 0 else _close_at(src, end + 2)
        if close is None:
            raise _problem(src, "a comment not closed by '*/}}'")
        return None, *close
    tokens: list[str] = []
    while (close := _close_at(src, i)) is None:
        if i >= len(src):
            raise _problem(src, "an unterminated action ('{{' without '}}')")
        if src[i] in _WS:
            i += 1
            continue
        m = _TOKEN.match(src, i)
        i = m.end() if m else i
        if m is None or (m.group(0)[0] not in '|"`' and src[i : i + 1] not in (*_WS, "|", "}", "")):
            what = repr(src[i : i + 12] if m is None else src[m.start() : i + 1])
            detail = "numbers, parentheses, := assignments and other Go syntax"
            raise _problem(src, f"unexpected {what} ({detail})")
        if m.group(0) in _KEYWORDS and (not tokens or tokens[-1] == "|"):
            raise _problem(src, f"the keyword {{{{ {m.group(0)} }}}} (if/range/with/define/...)")
        tokens.append(m.group(0))
    cmds: list[list[str]] = [[]]
    for tok in tokens:
        if tok == "|":
            cmds.append([])
        else:
            cmds[-1].append(tok)
    if not all(cmds):
        raise _problem(src, "an empty action or empty pipeline stage")
    node: _Node | None = None
    for head, *rest in cmds:
        args = [_operand(src, a) for a in rest]
        if _IDENT.fullmatch(head):
            node = _call(src, head, args + ([node] if node is not None else []))
        elif node is not None or args:
            raise _problem(src, f"{head} used as a function (only functions can take arguments)")
        else:
            node = _operand(src, head)
    return node, close[0], close[1]


def _eval(node: _Node, labels: Mapping[str, str], value: float) -> float | str:
    if isinstance(node, _Value):
        return value
    if isinstance(node, _Label):
        return labels.get(node.name, "")  # Prometheus uses missingkey=zero
    if isinstance(node, _Lit):
        return node.text
    args = [_eval(a, labels, value) for a in node.args]
    if node.func == "printf":
        return printf(str(args[0]), args[1:])
    arg = args[0]
    return FLOAT_FUNCS[node.func](arg) if isinstance(arg, float) else STR_FUNCS[node.func](arg)


def _refs(node: _Node) -> set[str]:
    if isinstance(node, _Label):
        return {node.name}
    return set[str]().union(*map(_refs, node.args)) if isinstance(node, _Call) else set()


class Template:
    """A parsed annotation template; see :func:`parse`."""

    def __init__(self, source: str, parts: tuple[str | _Node, ...]) -> None:
        self.source = source
        self._parts = parts

    def label_refs(self) -> frozenset[str]:
        """Names used as ``$labels.NAME`` / ``.Labels.NAME``."""
        return frozenset[str]().union(*(_refs(p) for p in self._parts if not isinstance(p, str)))

    def render(self, labels: Mapping[str, str], value: float) -> str:
        """Exactly what Prometheus produces for an alert with these labels and value.

        ``labels`` are the labels of the series returned by the rule's ``expr`` (including
        ``__name__`` if the expression keeps it); the rule's own static ``labels:`` are *not*
        visible as ``$labels`` in annotations (checked against promtool). Raises
        :class:`EngineDifference` where Prometheus versions would render differently.
        """
        out = (p if isinstance(p, str) else _eval(p, labels, float(value)) for p in self._parts)
        return "".join(o if isinstance(o, str) else go_float(o) for o in out)


_OPEN = re.compile(r"\{\{")


def literal(text: str) -> str:
    """Template source that renders to exactly `text` (Prometheus expands alert label
    values as templates, so a literal `{{` must be written as an action)."""
    return _OPEN.sub('{{ "{{" }}', text)


@lru_cache(maxsize=4096)
def parse(text: str) -> Template:
    """Parse an annotation template, raising :class:`TemplateProblem` outside the subset
    (each text once: a Template does not change)."""
    parts: list[str | _Node] = []
    i, trim = 0, False
    while True:
        j = text.find("{{", i)
        chunk = text[i:] if j < 0 else text[i:j]
        left = j >= 0 and text[j + 2 : j + 3] == "-" and text[j + 3 : j + 4] in tuple(_WS)
        chunk = chunk.lstrip(_WS) if trim else chunk
        chunk = chunk.rstrip(_WS) if left else chunk
        if chunk:
            parts.append(chunk)
        if j < 0:
            return Template(text, tuple(parts))
        node, i, trim = _action(text, j + (4 if left else 2))
        if node is not None:
            parts.append(node)
