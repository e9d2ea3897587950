"""Deterministic block YAML for generated files: fast, identical on every machine.

PyYAML's pure-Python emitter is too slow for large test suites, and its libyaml
emitter formats differently and is not always installed (which would show up as
drift between machines). Our outputs are plain trees of dicts, lists, strings,
numbers and booleans, so a small emitter suffices. Quoting goes through one
place, `scalar`: a string stays plain only when PyYAML's own resolver reads it
back as that same string; otherwise it is written as a JSON string, which is a
valid YAML double-quoted scalar. Multi-line strings become literal blocks.
Round trips are checked by a property test (tests/text/test_yamlout.py).
"""

from __future__ import annotations

import json
import math
import re
from functools import lru_cache
from typing import Any

from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

_RESOLVER = Resolver()
_NOT_PRINTABLE = r"\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff"
_PLAIN = re.compile(rf"[A-Za-z0-9_/.$(][^{_NOT_PRINTABLE}]*")
# What YAML 1.2 readers (go-yaml v3, used by Prometheus) take as numbers or null even
# where PyYAML's YAML 1.1 resolver sees a string, e.g. 1e3, 0o17, 0x1F, .inf, ~.
_YAML12_NOT_STR = re.compile(r"[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?"
                             r"|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)"
                             r"|~|null|Null|NULL")
_UNPRINTABLE = re.compile("[\x7f-\x9f\ud800-\udfff\ufeff\ufffe\uffff]")
_IN_LINE = r"\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff"
_BLOCK_LINE = re.compile(rf"[^\s{_NOT_PRINTABLE}][^{_IN_LINE}]*")  # tabs allowed inside


# Inside a flow collection (`[a, b]`) a plain scalar also ends at these: PyYAML stops at
# `?` too, so `[a?]` would not read back.
_FLOW_INDICATORS = re.compile(r"[,\[\]{}?]")


@lru_cache(maxsize=65_536)
def scalar(value: str, flow: bool = False) -> str:
    """`value` as a one-line YAML scalar that reads back exactly as the same string; with
    `flow`, also as an item of a flow collection."""
    if (_PLAIN.fullmatch(value) and ": " not in value and " #" not in value
            and not value.endswith((":", " ")) and not value.startswith(("- ", "? "))
            and not (flow and _FLOW_INDICATORS.search(value))
            and not _YAML12_NOT_STR.fullmatch(value)
            and _resolve(value) == _STR):
        return value
    # JSON leaves DEL, C1 controls and a few specials raw; YAML forbids them unescaped.
    return _UNPRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}",
                            json.dumps(value, ensure_ascii=False))


_STR = "tag:yaml.org,2002:str"


def _resolve(value: str) -> str:
    """The tag PyYAML's implicit resolver gives a plain scalar."""
    tag: str = _RESOLVER.resolve(ScalarNode, value, (True, False))  # type: ignore[no-untyped-call]
    return tag


def _block(value: str, indent: str) -> str | None:
    """A literal block (`|-`) for multi-line text, when every line allows it."""
    lines = value.split("\n")
    if not all(_BLOCK_LINE.fullmatch(line) for line in lines):
        return None
    return "|-\n" + "\n".join(indent + line for line in lines)


def _number(value: float | int) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    mantissa, e, exponent = repr(value).partition("e")
    if "." not in mantissa:
        mantissa += ".0"  # YAML 1.1 readers need the point to see a float
    return mantissa + e + exponent


def _leaf(value: Any, indent: str) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        if "\n" in value and (block := _block(value, indent)) is not None:
            return block
        return scalar(value)
    if isinstance(value, (bool, int, float)):
        return _number(value)
    if isinstance(value, dict) and not value:
        return "{}"
    if isinstance(value, list) and not value:
        return "[]"
    raise TypeError(f"cannot write {type(value).__name__} as YAML")


def _emit(value: Any, indent: str, out: list[str]) -> None:
    """Write the children of a non-empty dict or list, each line starting at `indent`."""
    deeper = indent + "  "
    if isinstance(value, dict):
        for key, item in value.items():
            name = scalar(str(key))
            if isinstance(item, (dict, list)) and item:
                out.append(f"{indent}{name}:")
                _emit(item, deeper, out)
            else:
                out.append(f"{indent}{name}: {_leaf(item, deeper)}")
        return
    for item in value:
        if isinstance(item, (dict, list)) and item:
            start = len(out)
            _emit(item, deeper, out)
            out[start] = f"{indent}- {out[start][len(deeper):]}"
        else:
            out.append(f"{indent}- {_leaf(item, deeper)}")


def dump(data: dict[str, Any]) -> str:
    """A whole document from a top-level mapping."""
    if not data:
        return "{}\n"
    out: list[str] = []
    _emit(data, "", out)
    return "\n".join(out) + "\n"


def flow_list(values: list[Any]) -> str | None:
    """`[a, b, 1.5]`: a one-line flow sequence of strings and numbers that reads back as
    `values`, or None when an item needs block style (a multi-line string)."""
    items = []
    for value in values:
        if isinstance(value, str):
            if "\n" in value:
                return None
            items.append(scalar(value, flow=True))
        elif isinstance(value, (bool, int, float)):
            items.append(_number(value))
        else:
            return None
    return "[" + ", ".join(items) + "]"
