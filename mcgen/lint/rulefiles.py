"""Hand-written Prometheus rule files (and PrometheusRule resources) for `mcgen lint`:
loading them with the position of every key and value, and each `expr` parsed once.

Positions come from PyYAML's composed nodes, as for specs (mcgen/spec/load.py). An
`expr` is also mapped character by character back to the file, so a finding inside a
multi-line block scalar points at the line and column of the offending token.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mcgen.errors import Position
from mcgen.promql.parser import Parsed, parse
from mcgen.spec.load import Document, _Loader, _Walker
from mcgen.spec.validate import shown

JsonPath = tuple[str | int, ...]


@dataclass(frozen=True)
class PromQL:
    text: str
    parsed: Parsed
    places: tuple[Position, ...]  # where each character of `text` was written, and the end

    def at(self, offset: int) -> Position:
        return self.places[max(0, min(offset, len(self.places) - 1))]


@dataclass(frozen=True)
class RuleEntry:
    """One rule of a group: an alert or a recording rule."""

    kind: str  # alert | record
    name: str
    expr: PromQL | None
    data: dict[str, Any]
    doc: Document = field(compare=False, repr=False)
    path: JsonPath = ()

    def pos(self, *keys: str | int, key: bool = False) -> Position:
        return self.doc.pos((*self.path, *keys), key=key)


@dataclass(frozen=True)
class Problem:
    pos: Position
    message: str
    hint: str


@dataclass(frozen=True)
class RuleFile:
    path: str
    rules: tuple[RuleEntry, ...]
    problems: tuple[Problem, ...]  # the file or a rule cannot be read as a rule file
    # Each rule document: its data and where its groups are (`groups`, `spec.groups`).
    documents: tuple[tuple[Document, JsonPath], ...] = ()


def _places(text: str, source: str, node: yaml.ScalarNode, where: str) -> tuple[Position, ...]:
    """Align the scalar's value with its source text: indentation, quotes, escapes and
    block headers are skipped, folded line breaks match the spaces they became."""
    start, end = node.start_mark.index, node.end_mark.index
    if node.style in ("|", ">"):
        start = source.find("\n", start, end) + 1 or start
    raw = source[start:end]
    out: list[Position] = []
    line, col = node.start_mark.line + 1, node.start_mark.column + 1
    if node.style in ("|", ">"):
        line, col = line + 1, 1
    i = 0

    def advance(ch: str) -> None:
        nonlocal line, col
        line, col = (line + 1, 1) if ch == "\n" else (line, col + 1)

    for ch in text:
        while i < len(raw) and not (raw[i] == ch or (ch.isspace() and raw[i].isspace())):
            advance(raw[i])
            i += 1
        if i >= len(raw):  # lost the thread: the rest is at the value's start
            first = Position(where, node.start_mark.line + 1, node.start_mark.column + 1)
            out.extend([first] * (len(text) + 1 - len(out)))
            return tuple(out)
        out.append(Position(where, line, col))
        advance(raw[i])
        i += 1
    out.append(Position(where, line, col))
    return tuple(out)


def _exprs(root: yaml.Node, path: JsonPath) -> dict[JsonPath, yaml.ScalarNode]:
    """The scalar nodes of every `expr` under `root`, by data path."""
    found: dict[JsonPath, yaml.ScalarNode] = {}
    if isinstance(root, yaml.MappingNode):
        for k, v in root.value:
            key = k.value if isinstance(k, yaml.ScalarNode) else str(k.tag)
            if key == "expr" and isinstance(v, yaml.ScalarNode):
                found[(*path, key)] = v
            else:
                found.update(_exprs(v, (*path, key)))
    elif isinstance(root, yaml.SequenceNode):
        for i, item in enumerate(root.value):
            found.update(_exprs(item, (*path, i)))
    return found


def _groups(doc: Document) -> tuple[Any, JsonPath] | None:
    data = doc.data
    if not isinstance(data, dict):
        return None
    if data.get("kind") == "PrometheusRule":
        spec = data.get("spec")
        return (spec.get("groups"), ("spec", "groups")) if isinstance(spec, dict) else None
    return (data["groups"], ("groups",)) if "groups" in data else None


def load_one(path: Path) -> RuleFile:
    """A rule file, or a bundle of YAML documents (`---`) whose rule documents (with
    `groups`, or PrometheusRule resources) are read one by one; the others are skipped."""
    where = shown(path)
    start = Position(where, 1, 1)
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return RuleFile(where, (), (Problem(start, f"cannot read the file ({exc})",
                                            "check the path and save it as UTF-8"),))
    rules: list[RuleEntry] = []
    problems: list[Problem] = []
    documents: list[tuple[Document, JsonPath]] = []
    loader = _Loader(source)
    found_any = False
    try:
        while loader.check_node():
            root = loader.get_node()
            if root is None:
                continue
            doc = Document(where, None)
            walker = _Walker(doc, loader)
            doc.data = walker.walk(root, ())
            # Duplicate keys, keys that are not strings: Prometheus refuses them too.
            problems += [Problem(p.pos, p.message, p.hint) for p in walker.problems]
            found = _groups(doc)
            if found is None:
                continue  # another resource of the bundle
            found_any = True
            documents.append((doc, found[1]))
            _read_groups(doc, found, root, source, rules, problems)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        pos = Position(where, mark.line + 1, mark.column + 1) if mark else start
        problems.append(Problem(pos, f"YAML syntax error: {exc.problem}",
                                "fix the YAML syntax"))
    except yaml.YAMLError as exc:
        problems.append(Problem(start, f"YAML error: {exc}", "fix the YAML"))
    finally:
        loader.dispose()
    if not found_any and not problems:
        problems.append(Problem(start, "no rule groups found", "a rule file has `groups:` "
                                "(a PrometheusRule `spec.groups:`), a list of groups"))
    return RuleFile(where, tuple(rules), tuple(problems), tuple(documents))


def _read_groups(doc: Document, found: tuple[Any, JsonPath], root: yaml.Node, source: str,
                 rules: list[RuleEntry], problems: list[Problem]) -> None:
    """The rules of one document's groups. A group whose `rules` is empty or missing is
    one Prometheus loads (with no rules); anything else in its place is a problem."""
    groups, base = found
    where = doc.path
    if groups is None:
        return
    if not isinstance(groups, list):
        problems.append(Problem(doc.pos(base), "`groups` is not a list",
                                "write the rule groups as a list: `groups: [- name: ...]`"))
        return
    nodes = _exprs(root, ())
    for g, group in enumerate(groups):
        items = group.get("rules", []) if isinstance(group, dict) else None
        if items is None and isinstance(group, dict):
            items = []  # `rules:` with nothing after it: an empty group
        if not isinstance(items, list):
            problems.append(Problem(doc.pos((*base, g)), "a group without a `rules` list",
                                    "give each group `name:` and `rules:`"))
            continue
        for r, item in enumerate(items):
            path_ = (*base, g, "rules", r)
            if not isinstance(item, dict) or not ({"alert", "record"} & item.keys()):
                problems.append(Problem(doc.pos(path_), "a rule with neither `alert` nor "
                                        "`record`", "name the rule with `alert:` or `record:`"))
                continue
            kind = "alert" if "alert" in item else "record"
            expr: PromQL | None = None
            node = nodes.get((*path_, "expr"))
            if node is not None and isinstance(item.get("expr"), str | int | float):
                text = str(item["expr"])
                expr = PromQL(text, parse(text), _places(text, source, node, where))
            else:
                problems.append(Problem(doc.pos(path_), f"rule {item[kind]!s} has no `expr`",
                                        "give it the PromQL expression to evaluate"))
            rules.append(RuleEntry(kind, str(item[kind]), expr, item, doc, path_))


def load(paths: list[Path]) -> list[RuleFile]:
    """The parsed rule files, in the order given."""
    return [load_one(p) for p in paths]
