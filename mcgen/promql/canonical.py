"""PromQL in Prometheus' canonical one-line form: what Go's `parser.Expr.String()` prints
(Prometheus 3.x), which Grafana Mimir's and Cortex's `rules lint` write back into rule
files. A rule file already in this form is left unchanged by the linter.

The expression is parsed by promql-parser (Prometheus' grammar, in Rust) and printed here
node by node as Prometheus' printer.go does: `sum by (a) (x)`, `a / on (b) group_left () c`,
selectors' matchers sorted, strings quoted as Go's strconv.Quote, numbers as
FormatFloat(v, 'f', -1), durations as model.Duration (`1w`, `90d`). The tests hold it
equal to what Prometheus 3.5 itself prints for every rule of the examples.
"""

from __future__ import annotations

import datetime
import math
from decimal import Decimal
from functools import lru_cache

import promql_parser as pp

_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t",
            "\v": "\\v", "\\": "\\\\", '"': '\\"'}
_UNITS = (("y", 365 * 86_400_000, True), ("w", 7 * 86_400_000, True),
          ("d", 86_400_000, False), ("h", 3_600_000, False), ("m", 60_000, False),
          ("s", 1000, False), ("ms", 1, False))
_MATCH_OPS = ((pp.MatchOp.Equal, "="), (pp.MatchOp.NotEqual, "!="), (pp.MatchOp.Re, "=~"),
              (pp.MatchOp.NotRe, "!~"))  # the enum values are not hashable


def go_quote(value: str) -> str:
    """strconv.Quote: printable characters as they are, the rest escaped."""
    out = ['"']
    for ch in value:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)


def go_duration(delta: datetime.timedelta) -> str:
    """model.Duration.String(): weeks and years only where they divide exactly."""
    ms = round(delta / datetime.timedelta(milliseconds=1))
    if ms == 0:
        return "0s"
    out = []
    for unit, size, exact in _UNITS:
        if exact and ms % size:
            continue
        count, ms = divmod(ms, size)
        if count:
            out.append(f"{count}{unit}")
    return "".join(out)


def go_number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Inf" if value > 0 else "-Inf"
    text = format(Decimal(repr(value)).normalize(), "f")
    return "0" if text == "-0" else text


def _labels(names: list[str]) -> str:
    return ", ".join(names)


def _offset(delta: datetime.timedelta | None) -> str:
    if delta is None or not delta:
        return ""
    if delta < datetime.timedelta(0):
        return f" offset -{go_duration(-delta)}"
    return f" offset {go_duration(delta)}"


def _at(at: pp.AtModifier | None) -> str:
    if at is None:
        return ""
    if at.type == pp.AtModifierType.Start:
        return " @ start()"
    if at.type == pp.AtModifierType.End:
        return " @ end()"
    assert at.at is not None
    return f" @ {at.at.timestamp():.3f}"


def _matcher(m: pp.Matcher) -> str:
    op = next(text for value, text in _MATCH_OPS if m.op == value)
    return f"{m.name}{op}{go_quote(m.value)}"


def _selector(vs: pp.VectorSelector, with_modifiers: bool = True) -> str:
    name = vs.name or ""
    if vs.matchers.or_matchers:
        raise ValueError("selectors with `or` matchers have no canonical form here")
    shown = sorted(_matcher(m) for m in vs.matchers.matchers
                   if not (m.name == "__name__" and m.op == pp.MatchOp.Equal
                           and m.value == name and name))
    inner = f"{{{','.join(shown)}}}" if shown else ""
    tail = _at(vs.at) + _offset(vs.offset) if with_modifiers else ""
    return f"{name}{inner}{tail}"


def _binary_modifier(node: pp.BinaryExpr) -> str:
    mod = node.modifier
    if mod is None:
        return ""
    out = " bool" if mod.return_bool else ""
    matching = mod.matching
    if matching is not None:
        on = matching.type == pp.LabelModifierType.Include
        if on or matching.labels:
            out += f" {'on' if on else 'ignoring'} ({_labels(matching.labels)})"
            if mod.card in (pp.VectorMatchCardinality.ManyToOne,
                            pp.VectorMatchCardinality.OneToMany):
                side = "left" if mod.card == pp.VectorMatchCardinality.ManyToOne else "right"
                out += f" group_{side} ({_labels(mod.group_labels or [])})"
    return out


def _print(node: pp.Expr) -> str:
    if isinstance(node, pp.AggregateExpr):
        head = str(node.op)
        if node.modifier is not None:
            if node.modifier.type == pp.AggModifierType.Without:
                head += f" without ({_labels(node.modifier.labels)}) "
            elif node.modifier.labels:
                head += f" by ({_labels(node.modifier.labels)}) "
        param = f"{_print(node.param)}, " if node.param is not None else ""
        return f"{head}({param}{_print(node.expr)})"
    if isinstance(node, pp.BinaryExpr):
        return f"{_print(node.lhs)} {node.op}{_binary_modifier(node)} {_print(node.rhs)}"
    if isinstance(node, pp.Call):
        return f"{node.func.name}({', '.join(_print(a) for a in node.args)})"
    if isinstance(node, pp.ParenExpr):
        return f"({_print(node.expr)})"
    if isinstance(node, pp.UnaryExpr):
        return f"-{_print(node.expr)}"
    if isinstance(node, pp.NumberLiteral):
        return go_number(node.val)
    if isinstance(node, pp.StringLiteral):
        return go_quote(node.val)
    if isinstance(node, pp.VectorSelector):
        return _selector(node)
    if isinstance(node, pp.MatrixSelector):
        vs = node.vector_selector
        return (f"{_selector(vs, with_modifiers=False)}[{go_duration(node.range)}]"
                f"{_at(vs.at)}{_offset(vs.offset)}")
    if isinstance(node, pp.SubqueryExpr):
        step = go_duration(node.step) if node.step else ""
        assert node.range is not None
        return (f"{_print(node.expr)}[{go_duration(node.range)}:{step}]"
                f"{_at(node.at)}{_offset(node.offset)}")
    raise ValueError(f"no canonical form for {type(node).__name__}")


@lru_cache(maxsize=4096)
def canonical(expr: str) -> str:
    """`expr` as Prometheus prints it back; raises ValueError if it does not parse."""
    return _print(pp.parse(expr))
