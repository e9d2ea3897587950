"""Read spec files into plain data plus the position of every node.

PyYAML's composed nodes carry marks; we walk them ourselves (instead of using
`safe_load`) so that every value, and every mapping key, keeps its file, line and
column for error messages later in the pipeline.
"""

from __future__ import annotations

import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mcgen.errors import Position, SpecProblem, shorten

JsonPath = tuple[str | int, ...]

# An alias expands to a copy of its anchor's subtree. A "billion laughs" document is
# tiny on disk but expands exponentially: we count the nodes reached through aliases (and
# the pairs merge keys copy) and stop well before that hurts. What is written out plainly
# is bounded by the size of the file instead, which is checked before it is read, so a
# spec of thousands of metrics loads.
MAX_ALIAS_NODES = 100_000
MAX_DEPTH = 100
MAX_FILE_BYTES = 5_000_000


@dataclass
class Document:
    """One spec file: its data and where each part of it was written."""

    path: str  # as shown in messages (relative to the working directory when possible)
    data: Any
    source: str = ""  # as named in generated headers (relative to the repository root)
    values: dict[JsonPath, Position] = field(default_factory=dict)
    keys: dict[JsonPath, Position] = field(default_factory=dict)

    def pos(self, path: JsonPath, key: bool = False) -> Position:
        """Position of the node at `path` (its key if `key`), else its nearest ancestor."""
        table = self.keys if key else self.values
        while path:
            if path in table:
                return table[path]
            if path in self.values:
                return self.values[path]
            path = path[:-1]
        return self.values.get((), Position(self.path, 1, 1))


# libyaml's parser when present: the same nodes and marks, several times faster.
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


_INT, _FLOAT = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"


class _TooBig(Exception):
    pass


class _TooDeep(Exception):
    pass


class _Walker:
    def __init__(self, doc: Document, loader: yaml.SafeLoader) -> None:
        self.doc = doc
        self.loader = loader
        self.copied = 0  # nodes reached through aliases, pairs brought in by merge keys
        self.seen: set[int] = set()  # the nodes walked so far: an alias reaches one again
        self.problems: list[SpecProblem] = []

    def _pos(self, node: yaml.Node) -> Position:
        mark = node.start_mark
        return Position(self.doc.path, mark.line + 1, mark.column + 1)

    def _copy(self) -> None:
        self.copied += 1
        if self.copied > MAX_ALIAS_NODES:
            raise _TooBig

    def walk(self, node: yaml.Node, path: JsonPath, copy: bool = False) -> Any:
        """The value of `node`; `copy` when it is reached through an alias."""
        copy = copy or id(node) in self.seen
        if copy:
            self._copy()
        else:
            self.seen.add(id(node))
        if len(path) > MAX_DEPTH:
            raise _TooDeep
        self.doc.values[path] = self._pos(node)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, copy)
        if isinstance(node, yaml.SequenceNode):
            return [self.walk(item, (*path, i), copy) for i, item in enumerate(node.value)]
        return self._scalar(node)

    def _scalar(self, node: yaml.Node) -> Any:
        """A scalar's value; a problem (and None) when its tag cannot read it: an explicit
        `!!bool x`, `!!timestamp shop`, `!!int abc`, or a number of thousands of digits."""
        try:
            return self.loader.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, TypeError, KeyError, AttributeError,
                OverflowError):
            pass
        text = str(node.value)
        implicit = self.loader.resolve(  # type: ignore[no-untyped-call]
            yaml.ScalarNode, text, (True, False))
        if node.tag == implicit and node.tag in (_INT, _FLOAT):
            self.problems.append(SpecProblem(
                self._pos(node), f"number with {sum(c.isdigit() for c in text)} digits is too "
                "long", "write a plain number in the metric's unit"))
        elif node.tag == implicit:  # `2020-13-45`: YAML takes it for a date
            tag = node.tag.replace("tag:yaml.org,2002:", "")
            self.problems.append(SpecProblem(
                self._pos(node), f"YAML reads {shorten(text)} as a {tag} but it is not a "
                "valid one", "quote it to write a string"))
        else:
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            self.problems.append(SpecProblem(
                self._pos(node), f"{shorten(text)} cannot be read as {shorten(tag, 30)[1:-1]}",
                "remove the tag (mcgen reads plain YAML values) or write a value of that type"))
        return None

    def _merged(self, node: yaml.MappingNode) -> Iterator[tuple[yaml.Node, yaml.Node]]:
        """Pairs brought in by `<<: *anchor` merge keys (explicit keys win over them)."""
        for key, value in node.value:
            if key.tag == "tag:yaml.org,2002:merge":
                merged = value.value if isinstance(value, yaml.SequenceNode) else [value]
                for sub in merged:
                    if isinstance(sub, yaml.MappingNode):
                        yield from self._merged(sub)
                        for k, v in sub.value:
                            self._copy()  # merges copy pairs: bound them like aliases
                            if k.tag != "tag:yaml.org,2002:merge":
                                yield k, v

    def _mapping(self, node: yaml.MappingNode, path: JsonPath, copy: bool) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        explicit = [(k, v) for k, v in node.value if k.tag != "tag:yaml.org,2002:merge"]
        names = {k.value for k, _ in explicit if isinstance(k, yaml.ScalarNode)}
        inherited = [(k, v) for k, v in self._merged(node)
                     if not (isinstance(k, yaml.ScalarNode) and k.value in names)]
        seen_inherited: set[Any] = set()
        for key_node, value_node in [*inherited, *explicit]:
            reported = len(self.problems)
            key = self._scalar(key_node) if isinstance(key_node, yaml.ScalarNode) \
                else key_node.tag
            if len(self.problems) > reported:  # its tag cannot read it: said once
                key = str(key_node.value)
            elif not isinstance(key, str) or not isinstance(key_node, yaml.ScalarNode):
                # YAML 1.1 reads `on`, `yes`, `1` as non-strings; keys must be names.
                self.problems.append(
                    SpecProblem(
                        self._pos(key_node),
                        f"key {shorten(key)} is not a string",
                        "quote it",
                    )
                )
                key = str(key)
            if key in out and key in seen_inherited:
                seen_inherited.discard(key)  # a later merge overrides an earlier one
            elif key in out:
                self.problems.append(
                    SpecProblem(
                        self._pos(key_node),
                        f"duplicate key '{key}'",
                        "remove one of them (YAML would silently keep the last)",
                    )
                )
            if any(key_node is k for k, _ in inherited):
                seen_inherited.add(key)
            self.doc.keys[(*path, key)] = self._pos(key_node)
            out[key] = self.walk(value_node, (*path, key), copy)
        return out


def load_text(text: str, path: str) -> tuple[Document, list[SpecProblem]]:
    """Parse one spec's text. Returns the document and any problems found while reading."""
    doc = Document(path, None)
    start = Position(path, 1, 1)
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return doc, [SpecProblem(start, "the file is empty", "write a spec (see `mcgen init`)")]
        walker = _Walker(doc, loader)
        doc.data = walker.walk(root, ())
        return doc, walker.problems
    except _TooBig:
        return doc, [
            SpecProblem(
                start,
                f"YAML aliases expand the document by more than {MAX_ALIAS_NODES} nodes",
                "write the spec out without deeply nested aliases",
            )
        ]
    except _TooDeep:
        return doc, [SpecProblem(start, f"the document nests more than {MAX_DEPTH} levels deep",
                                 "write the spec without deeply nested lists or mappings")]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        pos = Position(path, mark.line + 1, mark.column + 1) if mark else start
        parts = [p.strip() for p in (exc.context, exc.problem) if p]
        what = ", ".join(parts) or "invalid YAML"
        hint = "fix the YAML syntax"
        if "another document" in what:
            hint = "keep one spec per file (remove the second '---')"
        return doc, [SpecProblem(pos, f"YAML syntax error: {shorten(what, 120)[1:-1]}", hint)]
    except RecursionError:
        return doc, [SpecProblem(start, f"the document nests more than {MAX_DEPTH} levels deep",
                                 "write the spec without deeply nested lists or mappings")]
    except yaml.YAMLError as exc:
        return doc, [SpecProblem(start, f"YAML error: {shorten(str(exc), 80)}", "fix the YAML")]
    finally:
        loader.dispose()


def file_kind(mode: int) -> str:
    """What a path that is no regular file is, for messages."""
    for test, kind in ((stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a named pipe"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return kind
    return "a special file"


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


def load_file(path: Path, shown: str) -> tuple[Document, list[SpecProblem]]:
    """Read a spec file from disk; `shown` is the path as it appears in messages. Its size
    is checked before it is read, and no more than the limit is ever read."""
    start = Position(shown, 1, 1)
    too_big = (f"the file is larger than {_megabytes(MAX_FILE_BYTES)}, the most a spec may hold",
               "split it (one spec per service) or remove what is not needed")
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            return Document(shown, None), [SpecProblem(
                start, f"not a regular file ({file_kind(info.st_mode)})", "give a spec file")]
        if info.st_size > MAX_FILE_BYTES:
            return Document(shown, None), [SpecProblem(start, *too_big)]
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)  # it may have grown since
    except OSError as exc:
        return Document(shown, None), [
            SpecProblem(start, f"cannot read the file ({exc.strerror})", "check the path")
        ]
    if len(raw) > MAX_FILE_BYTES:
        return Document(shown, None), [SpecProblem(start, *too_big)]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Document(shown, None), [
            SpecProblem(start, f"not UTF-8 (byte {exc.start})", "save the file as UTF-8")
        ]
    return load_text(text, shown)
