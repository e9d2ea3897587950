"""The only place PromQL text is assembled.

Everything user-supplied (label values, regexes, metric names) reaches PromQL through
the quoting helpers here: `string_literal` for label values and `regex_literal` for a
literal inside a regex.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

_DURATION_RE = re.compile(r"^(?:([0-9]+)(ms|s|m|h|d|w|y))+$")
_DURATION_PART = re.compile(r"([0-9]+)(ms|s|m|h|d|w|y)")
_UNIT_MS = {"y": 365 * 86_400_000, "w": 7 * 86_400_000, "d": 86_400_000, "h": 3_600_000,
            "m": 60_000, "s": 1000, "ms": 1}
_UNIT_ORDER = ("y", "w", "d", "h", "m", "s", "ms")
_ORDER_INDEX = {u: i for i, u in enumerate(_UNIT_ORDER)}


@dataclass(frozen=True, order=True)
class Duration:
    """A Prometheus duration, kept as integer milliseconds."""

    ms: int

    @classmethod
    def parse(cls, text: str) -> Duration:
        """Parse `1h30m`; raises ValueError when the text is not a Prometheus duration."""
        return cls(_duration_ms(text))

    @property
    def seconds(self) -> float:
        return self.ms / 1000

    def __str__(self) -> str:
        """Canonical text: largest units first, weeks and years avoided (1d, not 1w)."""
        return _duration_text(self.ms)


@lru_cache(maxsize=4096)
def _duration_ms(text: str) -> int:
    """A duration's text read once (tests name the same instants often)."""
    if not _DURATION_RE.match(text):
        raise ValueError(f"not a duration: {text!r}")
    parts = _DURATION_PART.findall(text)
    order = [_ORDER_INDEX[unit] for _, unit in parts]
    if order != sorted(set(order)) or len(order) != len(set(order)):
        raise ValueError(f"units out of order or repeated: {text!r}")
    return sum(int(n) * _UNIT_MS[unit] for n, unit in parts)


@lru_cache(maxsize=4096)
def _duration_text(ms: int) -> str:
    """Duration's text, worked out once per length (tests print the same instants often)."""
    if ms == 0:
        return "0s"
    rest, out = ms, []
    for unit in ("d", "h", "m", "s", "ms"):
        n, rest = divmod(rest, _UNIT_MS[unit])
        if n:
            out.append(f"{n}{unit}")
    return "".join(out)


_NEEDS_ESCAPE = re.compile(r'[\\"\x00-\x1f\x7f]')


@lru_cache(maxsize=65_536)
def string_literal(value: str) -> str:
    """A double-quoted PromQL string literal holding exactly `value`."""
    if not _NEEDS_ESCAPE.search(value):
        return f'"{value}"'
    out = ['"']
    for ch in value:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


_RE2_SPECIAL = set("\\.+*?()|[]{}^$")


def regex_escape(value: str) -> str:
    """Escape `value` so that an RE2 regex matches it literally."""
    return "".join("\\" + ch if ch in _RE2_SPECIAL else ch for ch in value)


def alternation(values: Iterable[str]) -> str:
    """A regex matching exactly one of `values` (sorted, for stable output)."""
    return "|".join(regex_escape(v) for v in sorted(set(values)))


@dataclass(frozen=True, order=True)
class Matcher:
    """One label matcher: label, operator (=, !=, =~, !~) and value (a regex for =~/!~)."""

    label: str
    op: str
    value: str

    @classmethod
    def from_spec(cls, label: str, spec: str | Sequence[str]) -> Matcher:
        """`"x"` is =, `"!x"` is !=, `"~re"` is =~, `"!~re"` is !~, a list is =~ alternation."""
        if not isinstance(spec, str):
            return cls(label, "=~", alternation(spec))
        if spec.startswith("!~"):
            return cls(label, "!~", spec[2:])
        if spec.startswith("!"):
            return cls(label, "!=", spec[1:])
        if spec.startswith("~"):
            return cls(label, "=~", spec[1:])
        return cls(label, "=", spec)

    def __str__(self) -> str:
        return f"{self.label}{self.op}{string_literal(self.value)}"

    @property
    def is_regex(self) -> bool:
        return self.op in ("=~", "!~")

    def matches(self, value: str, dot_all: bool = False) -> bool:
        """Whether a series with this label value is selected (RE2 anchors fully). A
        regex `.` matches a newline on Prometheus 3.x (`dot_all`), not on 2.x."""
        if self.op == "=":
            return value == self.value
        if self.op == "!=":
            return value != self.value
        hit = re.fullmatch(self.value, value, re.DOTALL if dot_all else 0) is not None
        return hit if self.op == "=~" else not hit

    def engines_agree(self, value: str) -> bool:
        """Whether Prometheus 2.x and 3.x select this value alike (they differ only on
        newlines under a regex `.`)."""
        return self.matches(value) == self.matches(value, dot_all=True)


def alertmanager_matchers(matchers: Iterable[Matcher]) -> list[str]:
    """Entries of an Alertmanager (0.22+) `matchers:` list, or amtool's label arguments:
    `label="value"`, `label=~"re"`, sorted. The grammar is PromQL's, and Alertmanager reads a
    quoted value as a Go string literal, which `string_literal` writes; its regexes are RE2,
    anchored, like Prometheus'."""
    return [str(m) for m in sorted(matchers)]


def selector(metric: str, matchers: Iterable[Matcher] = ()) -> str:
    """`metric{a="x",b=~"y"}`, or the bare name when there are no matchers."""
    inner = ",".join(str(m) for m in sorted(matchers))
    return f"{metric}{{{inner}}}" if inner else metric


def number(value: float) -> str:
    """A float as PromQL reads it back exactly (shortest round-trip form)."""
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _digits(value: float) -> tuple[str, int]:
    """Shortest round-trip digits of a positive float and the exponent of the first one."""
    _, digits, exp = Decimal(repr(value)).normalize().as_tuple()
    text = "".join(map(str, digits))
    return text, len(text) + int(exp) - 1


def _fixed(digits: str, exp: int) -> str:
    if exp < 0:
        return "0." + "0" * (-exp - 1) + digits
    whole, frac = digits[:exp + 1].ljust(exp + 1, "0"), digits[exp + 1:]
    return f"{whole}.{frac}" if frac else whole


def _scientific(digits: str, exp: int, pad: int) -> str:
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):0{pad}d}"


def go_float(value: float) -> str:
    """strconv.FormatFloat(v, 'g', -1, 64): how client_golang writes `le`."""
    digits, exp = _digits(value)
    return _scientific(digits, exp, 2) if exp < -4 or exp >= 6 else _fixed(digits, exp)


def js_float(value: float) -> str:
    """Number.prototype.toString: how prom-client writes `le`."""
    digits, exp = _digits(value)
    return _scientific(digits, exp, 1) if exp <= -7 or exp >= 21 else _fixed(digits, exp)


def python_client_float(value: float) -> str:
    """prometheus_client's floatToGoString (`10.0`, and `1e+06` past six digits)."""
    text = repr(float(value))
    dot = text.find(".")
    if value > 0 and dot > 6:
        mantissa = f"{text[0]}.{text[1:dot]}{text[dot + 1:]}".rstrip("0.")
        return f"{mantissa}e+0{dot - 1}"
    return text


def le_spellings(bound: float) -> list[str]:
    """The ways clients write the same bucket bound: Go `1` and `1e+06`, JavaScript `1`
    and `1000000`, Python `1.0` and `1e+06` (and its `1e+010` past nine digits)."""
    out = {go_float(bound), js_float(bound), python_client_float(bound), number(bound),
           repr(float(bound))}
    if bound == int(bound) and abs(bound) < 1e15:
        out.add(f"{int(bound)}.0")
    return sorted(out)


@lru_cache(maxsize=4096)
def number_matcher(label: str, value: float) -> Matcher:
    """Matches a label holding a number (`le`, `quantile`) however the client spelled it."""
    spellings = le_spellings(value)
    if len(spellings) == 1:
        return Matcher(label, "=", spellings[0])
    return Matcher(label, "=~", alternation(spellings))


def le_matcher(bound: float) -> Matcher:
    """Matches the `le` label of `bound` however the client spelled it."""
    return number_matcher("le", bound)


def by_clause(labels: Sequence[str]) -> str:
    return f"by ({', '.join(labels)})"


# Grafana's range for rate(): at least four scrapes, and one step more than the query's.
GRAFANA_RATE_INTERVAL = "$__rate_interval"


def rate(metric: str, matchers: Iterable[Matcher], window: Duration | str) -> str:
    return f"rate({selector(metric, matchers)}[{window}])"


def aggregate(op: str, labels: Sequence[str], inner: str) -> str:
    """`sum by (a, b) (inner)`; without labels, `sum(inner)`."""
    return f"{op} {by_clause(labels)} ({inner})" if labels else f"{op}({inner})"


def histogram_quantile(q: float, inner: str) -> str:
    return f"histogram_quantile({number(q)}, {inner})"


def compare(expr: str, op: str, threshold: float) -> str:
    return f"{expr} {op} {number(threshold)}"


def compare_to(expr: str, op: str, other: str) -> str:
    return f"{expr} {op} {other}"


def product(a: float, b: float) -> str:
    """`(a * b)`, left for Prometheus to multiply so that readers see both factors."""
    return f"({number(a)} * {number(b)})"


def recording_name(level: Sequence[str], metric: str, operation: str) -> str:
    """`level:metric:operation`, the Prometheus convention for recorded series."""
    return f"{'_'.join(level) or 'all'}:{metric}:{operation}"


def over_time(function: str, series: str, window: Duration) -> str:
    """`sum_over_time(series[window])` and friends."""
    return f"{function}({series}[{window}])"


def or_zero(expr: str) -> str:
    """`expr`, or 0 when it has no result. `on()` matches any label set, so the 0 never
    joins a result that exists (a bare `or vector(0)` would, once labels differ)."""
    return f"{expr} or on() vector(0)"


def vector(value: float) -> str:
    return f"vector({number(value)})"
