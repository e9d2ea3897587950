"""JSON Schema validation with messages a person can act on, at the right line."""

from __future__ import annotations

import copy
import dataclasses
import difflib
import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from mcgen.errors import SpecProblem, shorten
from mcgen.spec.load import Document, JsonPath

# What a pattern-checked field is, for messages: (what it must be, what to do).
_PATTERNS: dict[str, tuple[str, str]] = {
    "^[a-z][a-z0-9_]*$": (
        "a lowercase name", "use lowercase letters, digits and _, starting with a letter"),
    "^[a-zA-Z_:][a-zA-Z0-9_:]*$": (
        "a valid Prometheus metric name",
        "use letters, digits, _ and :, not starting with a digit"),
    "^[a-zA-Z_][a-zA-Z0-9_]*$": (
        "a valid Prometheus label name", "use letters, digits and _, not starting with a digit"),
    "^[A-Z][A-Za-z0-9]*$": (
        "a CamelCase alert name", "start with a capital letter and use only letters and digits"),
    "^[a-z][a-z0-9-]*$": ("a lowercase slug", "use lowercase letters, digits and -"),
    "^[a-z][a-z0-9_-]*$": ("a lowercase name", "use lowercase letters, digits, _ and -"),
    "^([0-9]+(ms|s|m|h|d|w|y))+$": (
        "a Prometheus duration", "write it like 30s, 5m, 1h30m or 1d"),
    "^https?://": ("an http(s) URL", "start it with https://"),
    "^[A-Za-z0-9_-]{1,40}$": (
        "a Grafana uid", "use at most 40 letters, digits, _ and -"),
}

_TYPES = {"string": "a string", "number": "a number", "integer": "an integer",
          "object": "a mapping", "array": "a list", "boolean": "true or false", "null": "null"}


@cache
def schema() -> dict[str, Any]:
    text = resources.files("mcgen.spec").joinpath("schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(schema())


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return shorten(value)


def _type_hint(expected: str, value: Any, key: object = None) -> str:
    if expected == "string" and isinstance(value, bool):
        return "YAML reads yes/no/on/off/true/false as booleans; quote it"
    if expected == "string" and isinstance(value, (int, float)):
        return "quote it"
    if expected == "string" and isinstance(value, dict) and len(value) == 1 \
            and None in value.values():
        braced = "{" + str(next(iter(value))) + "}"
        return f"YAML reads an unquoted {shorten(braced, 40)[1:-1]} as a mapping; quote it"
    if expected == "number" and isinstance(value, str) and value.strip().endswith("%"):
        if key == "objective":
            return "write the percentage as a plain number (99.5, not 99.5%)"
        return "write a plain number; a ratio is a fraction (0.05, not 5%)"
    if expected == "number" and isinstance(value, str):
        return "write a plain number in the metric's unit (0.5, not 500ms; 1.0e+3, not 1e3)"
    return f"write {_TYPES.get(expected, expected)}"


def _sub(err: ValidationError) -> dict[str, Any]:
    """The schema node that failed (jsonschema types it loosely)."""
    return err.schema if isinstance(err.schema, dict) else {}


def _problem(doc: Document, err: ValidationError) -> list[SpecProblem]:
    path = tuple(err.absolute_path)
    where = _where(path)
    pos = doc.pos(path)
    value = err.instance
    kind = str(err.validator)
    rule: Any = err.validator_value
    if kind == "additionalProperties" and isinstance(value, dict):
        allowed = sorted(_sub(err).get("properties", {}))
        out = []
        for key in sorted(set(value) - set(allowed)):
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"allowed keys: {', '.join(allowed)}"
            out.append(SpecProblem(doc.pos((*path, key), key=True),
                                   f"unknown key '{shorten(key, 60)[1:-1]}'", hint))
        return out
    if kind == "required":
        missing = str(rule)
        names = [k for k in rule if k not in value] if isinstance(value, dict) else []
        missing = names[0] if names else missing
        return [SpecProblem(pos, f"'{where}' is missing the required key '{missing}'",
                            f"add '{missing}'")]
    if kind == "type":
        options = rule if isinstance(rule, list) else [rule]
        wanted = " or ".join(_TYPES.get(str(t), str(t)) for t in options)
        hint = _type_hint(str(options[0]), value, path[-1] if path else None) \
            if len(options) == 1 else f"write {wanted}"
        return [SpecProblem(pos, f"'{where}' must be {wanted}, not {_describe(value)}", hint)]
    if kind == "pattern":
        what, hint = _PATTERNS.get(str(rule), ("valid", "fix it"))
        if path and path[-1] == "version":
            what = "1"
        key_pos = doc.pos(path, key=True) if err.validator == "pattern" and isinstance(
            err.parent, ValidationError) and err.parent.validator == "propertyNames" else pos
        return [SpecProblem(key_pos, f"{shorten(value, 60)} is not {what}", hint)]
    if kind == "propertyNames":
        return [p for sub in err.context for p in _problem(doc, _at_key(sub, path))]
    if kind == "enum":
        choices = ", ".join(str(v) for v in rule)
        return [SpecProblem(pos, f"'{where}' is {_describe(value)}, not one of the allowed values",
                            f"use one of: {choices}")]
    if kind == "const":
        return [SpecProblem(pos, f"'{where}' must be {json.dumps(rule)}, "
                                 f"not {_describe(value)}",
                            "this version of mcgen reads spec version 1"
                            if where == "version" else f"write {json.dumps(rule)}")]
    if kind in ("minItems", "minLength", "minProperties"):
        what = "a value" if kind == "minLength" else "at least one entry"
        return [SpecProblem(pos, f"'{where}' is empty", f"give it {what}")]
    if kind == "maxProperties":
        return [SpecProblem(pos, f"'{where}' has more than one key", "keep exactly one")]
    if kind in ("exclusiveMinimum", "exclusiveMaximum", "minimum", "maximum"):
        bound = rule
        rel = {"exclusiveMinimum": "greater than", "exclusiveMaximum": "less than",
               "minimum": "at least", "maximum": "at most"}[str(kind)]
        return [SpecProblem(pos, f"'{where}' is {_describe(value)}; it must be {rel} {bound}",
                            "change the value")]
    if kind == "uniqueItems":
        return [SpecProblem(pos, f"'{where}' lists a value twice", "remove the repeat")]
    if kind == "oneOf":
        aimed = _aimed_branch(err)
        if aimed:
            return [p for sub in aimed for p in _problem(doc, sub)]
        return [SpecProblem(pos, f"'{where}' is {_describe(value)}, which is not allowed here",
                            _one_of_hint(err))]
    return [SpecProblem(pos, f"'{where}': {shorten(err.message, 80)}", "fix the value")]


def _where(path: tuple[Any, ...]) -> str:
    """`buckets[1]` for list items, the key name otherwise."""
    if not path:
        return "spec"
    if isinstance(path[-1], int):
        parent = next((p for p in reversed(path) if isinstance(p, str)), "item")
        return f"{parent}[{path[-1]}]"
    return str(path[-1])


def _aimed_branch(err: ValidationError) -> list[ValidationError]:
    """For a failed oneOf, the errors of the branch whose type the value has."""
    py = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    kind = py.get(type(err.instance), "number")
    for i, sub in enumerate(_sub(err).get("oneOf", [])):
        ref = str(sub.get("$ref", ""))
        if ref.startswith("#/$defs/"):  # e.g. `page: false` or a burnAlert mapping
            sub = schema()["$defs"].get(ref.removeprefix("#/$defs/"), {})
        if sub.get("type") == kind:
            return [e for e in err.context if e.schema_path and e.schema_path[0] == i]
    return []


def _at_key(err: ValidationError, path: tuple[Any, ...]) -> ValidationError:
    """propertyNames errors carry the key as instance but the parent's path."""
    err.path.clear()
    err.path.extend((*path, str(err.instance)))
    err.parent = ValidationError("propertyNames", validator="propertyNames")
    return err


def _one_of_hint(err: ValidationError) -> str:
    kinds = []
    for sub in _sub(err).get("oneOf", []):
        if "const" in sub:
            kinds.append(json.dumps(sub["const"]))
        elif "type" in sub:
            kinds.append(_TYPES.get(sub["type"], sub["type"]))
        elif "$ref" in sub:
            kinds.append("a mapping")
    return "write " + " or ".join(kinds) if kinds else "fix the value"


def check(doc: Document) -> list[SpecProblem]:
    """All schema problems of one document, each at its node."""
    out: list[SpecProblem] = []
    for err in _validator().iter_errors(doc.data):
        out.extend(_problem(doc, err))
    return out


# Keys a spec must have whose value does not matter to any other check: a stand-in lets
# the other checks run when the key is missing.
_STAND_INS = {"help": "-", "description": "-"}


def pruned(doc: Document) -> tuple[Document, set[JsonPath]] | None:
    """The document without what the schema rejects, so that the checks a schema cannot
    express still run on the rest, in the same round (mistakes never arrive in rounds):
    unknown keys and optional keys with a wrong value are dropped, a missing `help` gets a
    stand-in. None when that is not enough (a list item or a required value is wrong,
    such as a metric's `type`): the document is then left to its schema problems. Also
    returns the paths of the mappings that lost a key (their own checks would report the
    loss again)."""
    data = copy.deepcopy(doc.data)
    touched: set[JsonPath] = set()
    for _ in range(4):
        errors = list(_validator().iter_errors(data))
        if not errors:
            return dataclasses.replace(doc, data=data), touched
        for err in errors:
            if not _prune(data, err, touched):
                return None
    return None


def _prune(data: Any, err: ValidationError, touched: set[JsonPath]) -> bool:
    path = tuple(err.absolute_path)
    kind = str(err.validator)
    if kind == "additionalProperties" and isinstance(err.instance, dict):
        node = _node(data, path)
        allowed = set(_sub(err).get("properties", {}))
        for key in [k for k in node if k not in allowed]:
            del node[key]
        touched.add(path)
        return True
    if kind == "required" and isinstance(err.instance, dict):
        node = _node(data, path)
        wanted: list[str] = list(err.validator_value) if isinstance(
            err.validator_value, list) else []
        for key in [k for k in wanted if k not in node]:
            if key not in _STAND_INS:
                return False
            node[key] = _STAND_INS[key]
        return True
    if not path or isinstance(path[-1], int) or kind in ("propertyNames", "required"):
        return False
    parent = _node(data, path[:-1])
    if not isinstance(parent, dict) or path[-1] not in parent:
        return False
    del parent[path[-1]]  # a required key comes back as a `required` error: given up
    touched.add(path[:-1])
    return True


def _node(data: Any, path: JsonPath) -> Any:
    for part in path:
        data = data[part]
    return data
