"""Go's and Prometheus' template functions, in Python, for mcgen/promql/gotemplate.py: how
Go prints a float64 (``%v``, printf's verbs), ``humanize``, ``humanizePercentage`` and
``humanizeDuration`` on the value, and ``toUpper``, ``toLower`` and ``title`` on strings
(with Go's simple case mappings). tests/promql/test_gotemplate.py compares them with promtool.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

DIRECTIVE = re.compile(r"%(\.\d*)?(.?)", re.DOTALL)


class EngineDifference(ValueError):
    """Prometheus 2.x and 3.x would render this template differently for these labels
    (`title`: 3.x uses Unicode word breaks and full case mappings)."""


def _go_num(v: float, verb: str, prec: int | None) -> str:
    """Go's fmt of a float64 with verb f/e/g/v (``prec=None``: Go's default precision)."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    if verb in "gv" and prec is None:
        return go_float(v)
    return f"%.{6 if prec is None else prec}{'g' if verb == 'v' else verb}" % v


def go_float(v: float) -> str:
    """Go's ``%v`` of a float64: shortest round-trip digits, exponent form if exp < -4 or >= 6.

    (The threshold is strconv's "use precision 6" rule; verified against promtool 2.42.)
    """
    if math.isnan(v) or math.isinf(v):
        return _go_num(v, "f", 0)
    if v == 0:
        return "-0" if math.copysign(1.0, v) < 0 else "0"
    m = re.fullmatch(r"(\d+)(?:\.(\d+))?(?:e([-+]\d+))?", repr(abs(v)))
    assert m is not None
    whole, frac, exp = m.groups()
    digits = whole + (frac or "")
    point = len(whole) + int(exp or 0)  # value == 0.DIGITS * 10**point
    point -= len(digits) - len(digits.lstrip("0"))
    digits = digits.strip("0")
    sign, x = ("-" if v < 0 else ""), point - 1
    if x < -4 or x >= 6:
        mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mant}e{'-' if x < 0 else '+'}{abs(x):02d}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return sign + digits + "0" * (point - len(digits))
    return f"{sign}{digits[:point]}.{digits[point:]}"


def _g4(v: float) -> str:
    return _go_num(v, "g", 4)


def humanize(v: float) -> str:
    """Prometheus ``humanize``: SI prefixes k..Y / m..y and 4 significant digits."""
    if v == 0 or not math.isfinite(v):
        return _g4(v)
    prefix = ""
    if abs(v) >= 1:
        for p in "kMGTPEZY":
            if abs(v) < 1000:
                break
            prefix, v = p, v / 1000
        return _g4(v) + prefix
    return "".join(_small(v))


def _small(v: float) -> tuple[str, str]:
    """Scale |v| < 1 by 1000s up to prefix y, as humanize/humanizeDuration do."""
    prefix = ""
    for p in "munpfazy":
        if abs(v) >= 1:
            break
        prefix, v = p, v * 1000
    return _g4(v), prefix


def humanize_percentage(v: float) -> str:
    """Prometheus ``humanizePercentage``: ratio -> percent with 4 significant digits."""
    return _g4(v * 100) + "%"


def _tdiv(a: int, b: int) -> int:  # Go's truncating integer division (b > 0)
    return a // b if a >= 0 else -(-a // b)


def humanize_duration(v: float) -> str:
    """Prometheus ``humanizeDuration``: seconds -> ``1d 2h 3m 4s`` / ``1.5s`` / ``250ms``."""
    if not math.isfinite(v):
        return _g4(v)
    if v == 0:
        return _g4(v) + "s"
    if abs(v) >= 1:
        sign = "-" if v < 0 else ""
        v = abs(v)
        n = int(v) if v < 2**63 else -(2**63)  # amd64 CVTTSD2SI yields MinInt64 on overflow
        secs, mins = n - 60 * _tdiv(n, 60), _tdiv(n, 60) - 60 * _tdiv(n, 3600)
        hours, days = _tdiv(n, 3600) - 24 * _tdiv(n, 86400), _tdiv(n, 86400)
        if days:
            return f"{sign}{days}d {hours}h {mins}m {secs}s"
        if hours:
            return f"{sign}{hours}h {mins}m {secs}s"
        if mins:
            return f"{sign}{mins}m {secs}s"
        return f"{sign}{_g4(v)}s"
    return "".join(_small(v)) + "s"


def _simple_case(s: str, conv: Callable[[str], str]) -> str:
    # Go maps rune by rune with Unicode *simple* case mappings; Python applies the full ones.
    out = (conv(c) for c in s)
    return "".join(
        m if len(m) == 1 else ("i" if c == "\u0130" else c) for c, m in zip(s, out, strict=True)
    )


def _go_title(s: str) -> str:
    def sep(c: str) -> bool:  # strings.Title's isSeparator
        if c <= "\x7f":
            return not (c.isascii() and c.isalnum() or c == "_")
        return not (c.isalpha() or c.isdecimal()) and c.isspace()

    return "".join(
        _simple_case(c, str.title) if sep(p) else c for p, c in zip(" " + s, s, strict=False)
    )


FLOAT_FUNCS: dict[str, Callable[[float], str]] = {
    "humanize": humanize,
    "humanizePercentage": humanize_percentage,
    "humanizeDuration": humanize_duration,
}
# ASCII punctuation that ends a word for both titles: strings.Title (2.x) and the Unicode
# word breaks of golang.org/x/text/cases (3.x), which join letters across ' . : and _.
_BREAKS = frozenset(" \t\n\r\f\v-/,;!?()[]{}<>=+*&%$#@~|^`\\\"")


def title_agrees(s: str) -> bool:
    """Whether `title` renders `s` alike on Prometheus 2.x and 3.x. Conservatively: words
    split only where both split, each starting with a letter whose title case is one
    character (3.x would also capitalise a letter after leading digits or `_`). Measured
    on promtool 2.42, 2.53 and 3.5 (tests/proof/test_engines.py)."""
    start, lettered = True, False
    for c in s:
        if c in _BREAKS:
            start, lettered = True, False
            continue
        if c.isalpha():
            if start and len(c.title()) != 1 or not start and not lettered:
                return False
            lettered = True
        elif not (c == "_" or c.isascii() and c.isdigit()):
            return False
        start = False
    return True


def _title(s: str) -> str:
    if not title_agrees(s):
        raise EngineDifference(f"`title` renders {s!r} differently on Prometheus 2.x and 3.x")
    return _go_title(s)


STR_FUNCS: dict[str, Callable[[str], str]] = {
    "toUpper": lambda s: _simple_case(s, str.upper),
    "toLower": lambda s: _simple_case(s, str.lower),
    "title": _title,
}


def printf(fmt: str, args: list[float | str]) -> str:
    it = iter(args)

    def repl(m: re.Match[str]) -> str:
        if m.group(2) == "%":
            return "%"
        arg, prec = next(it), m.group(1)
        if isinstance(arg, str):
            return arg
        return _go_num(arg, m.group(2), None if prec is None else int(prec[1:] or 0))

    return DIRECTIVE.sub(repl, fmt)
