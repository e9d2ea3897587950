"""JSON as `json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)` writes it,
byte for byte, at a fraction of its cost: with an indent the standard library falls back
to its pure-Python encoder, a generator per value, which was most of a dashboard's
rendering time. Strings go through the standard library's own (C) string encoder, so
the escaping is exactly its. tests/text/test_jsonout.py holds the two equal."""

from __future__ import annotations

import json.encoder
from typing import Any

_STRING = json.encoder.encode_basestring  # ensure_ascii=False: the C one where available
_FLOAT = float.__repr__


def dumps(value: Any) -> str:
    """`json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)`."""
    out: list[str] = []
    _emit(value, "", out)
    return "".join(out)


def _emit(value: Any, indent: str, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(_STRING(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, float):
        out.append(_number(value))
    elif isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        inner = indent + "  "
        out.append("{\n" + inner)
        first = True
        for key in sorted(value):
            if not isinstance(key, str):
                raise TypeError(f"JSON keys must be strings here, not {type(key).__name__}")
            if not first:
                out.append(",\n" + inner)
            first = False
            out.append(_STRING(key) + ": ")
            _emit(value[key], inner, out)
        out.append("\n" + indent + "}")
    elif isinstance(value, list | tuple):
        if not value:
            out.append("[]")
            return
        inner = indent + "  "
        out.append("[\n" + inner)
        for i, item in enumerate(value):
            if i:
                out.append(",\n" + inner)
            _emit(item, inner, out)
        out.append("\n" + indent + "]")
    else:
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _number(value: float) -> str:
    if value != value:
        return "NaN"
    if value == float("inf"):
        return "Infinity"
    if value == -float("inf"):
        return "-Infinity"
    return _FLOAT(value)
