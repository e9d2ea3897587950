"""Type-check Grafana dashboard JSON against @grafana/schema (Grafana 11.6 and 13.x) with tsc.

The second validation layer for generated dashboards. Each dashboard is written out as a
TypeScript module whose object literals must satisfy the types in tests/grafana_schema/
dashboard.ts, and one `tsc --noEmit` run checks them all. Object literals keep TypeScript's
excess-property checks on, so a misspelt key fails as surely as a wrong type or a bad enum value.

The dashboard, each entry of `panels` and each entry of `templating.list` become separate
`satisfies` expressions, so one bad panel does not hide the errors of another (tsc reports one
error per object literal and stops there). Errors come back as
``<file>: <json path> [<panel type> "<title>"]: <tsc message>``.

Two pinned package sets (PACKAGE_SETS): tests/grafana_schema/ (@grafana/schema 11.6) and
tests/grafana_schema/v13/ (13.2). dashboard.ts and selftest.ts are shared; each set has its
own panelcfg.ts, because 12.4 replaced the `.../x/*_types.gen.js` paths of the panel option
types by extension-less subpaths. A check copies them into a temporary folder beside a link
to the set's node_modules, so `@grafana/schema` resolves to that set's copy.

Needs node and the npm packages pinned in each set's package-lock.json (`make
grafana-schema`); `find_toolchain` says what is missing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_DIR = ROOT / "tests" / "grafana_schema"
# Grafana version -> the folder of its pinned package set (package.json, lock, panelcfg.ts).
PACKAGE_SETS = {"11.6": SCHEMA_DIR, "13.2": SCHEMA_DIR / "v13"}
INSTALL_HINT = "run `make grafana-schema` (npm ci in tests/grafana_schema and its v13/)"

JsonPath = tuple[str | int, ...]

# `file(line,col): error TS1234: message`; continuation lines of a message are indented.
_DIAGNOSTIC = re.compile(
    r"^(?P<file>.+?)\((?P<line>\d+),(?P<col>\d+)\): error (?P<code>TS\d+): (?P<msg>.*)$")
_GLOBAL_DIAGNOSTIC = re.compile(r"^error (?P<code>TS\d+): (?P<msg>.*)$")
_IDENTIFIER = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")


class SchemaToolchainMissing(RuntimeError):
    """node or the pinned npm packages are not installed (or not the pinned versions)."""


@dataclass(frozen=True)
class SchemaToolchain:
    node: str
    tsc: Path
    versions: dict[str, str]
    package_set: Path = SCHEMA_DIR  # the folder holding package.json, panelcfg.ts, node_modules
    grafana: str = "11.6"  # the key of PACKAGE_SETS


def find_toolchain(grafana: str = "11.6") -> SchemaToolchain:
    """node and the installed, pinned @grafana/schema and typescript of the package set for
    Grafana `grafana` (a key of PACKAGE_SETS), or SchemaToolchainMissing.

    tsc runs as `node node_modules/typescript/bin/tsc`, so npx (which may try the network) is not
    needed; the installed versions must equal the exact pins of package.json.
    """
    node = shutil.which("node")
    if node is None:
        raise SchemaToolchainMissing("node is not on PATH; run `make grafana-schema`")
    package_set = PACKAGE_SETS[grafana]
    modules = package_set / "node_modules"
    pins: dict[str, str] = json.loads((package_set / "package.json").read_text())["dependencies"]
    versions: dict[str, str] = {}
    for name, pinned in pins.items():
        manifest = modules / name / "package.json"
        if not manifest.is_file():
            raise SchemaToolchainMissing(
                f"npm package {name} is not installed in {modules.relative_to(ROOT)}; "
                f"{INSTALL_HINT}")
        installed = json.loads(manifest.read_text())["version"]
        if installed != pinned:
            raise SchemaToolchainMissing(
                f"npm package {name} is {installed} in {modules.relative_to(ROOT)}, "
                f"package.json pins {pinned}; {INSTALL_HINT}")
        versions[name] = installed
    tsc = modules / "typescript" / "bin" / "tsc"
    if not tsc.is_file():
        raise SchemaToolchainMissing(f"{tsc.relative_to(ROOT)} is missing; {INSTALL_HINT}")
    return SchemaToolchain(node=node, tsc=tsc, versions=versions, package_set=package_set,
                           grafana=grafana)


def format_path(path: JsonPath) -> str:
    """("panels", 2, "fieldConfig") -> 'panels[2].fieldConfig'; the root is '$'."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _IDENTIFIER.match(part):
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(part)}]"
    return out or "$"


# --- reading dashboards ----------------------------------------------------------------------


class _Pairs(list[tuple[str, Any]]):
    """A JSON object as read, before duplicate keys are collapsed."""


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _plain(value: Any, path: JsonPath, errors: list[str]) -> Any:
    if isinstance(value, _Pairs):
        obj: dict[str, Any] = {}
        for key, item in value:
            if key in obj:
                errors.append(f"{format_path(path + (key,))}: duplicate key {json.dumps(key)}")
            obj[key] = _plain(item, path + (key,), errors)
        return obj
    if isinstance(value, list):
        return [_plain(item, path + (i,), errors) for i, item in enumerate(value)]
    return value


def _load(path: Path) -> tuple[Any, list[str]]:
    """The dashboard, and problems tsc would not see (duplicate keys, NaN, not an object)."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=_Pairs,
                         parse_constant=_reject_constant)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return None, [f"cannot read JSON: {exc}"]
    errors: list[str] = []
    value = _plain(raw, (), errors)
    if not isinstance(value, dict):
        errors.append(f"$: a dashboard is a JSON object, not {type(value).__name__}")
    return value, errors


# --- writing TypeScript ----------------------------------------------------------------------


class _Module:
    """A TypeScript module being written, remembering the JSON path each line belongs to."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.paths: list[JsonPath | None] = []

    def line(self, text: str, path: JsonPath | None = None) -> None:
        self.lines.append(text)
        self.paths.append(path)

    def const(self, name: str, value: Any, path: JsonPath, type_name: str) -> None:
        self._value(value, path, f"export const {name} = ", 0)
        # The value's last line ends in a comma; `satisfies` must follow on that same line
        # (a line break before it would end the statement).
        self.lines[-1] = f"{self.lines[-1].removesuffix(',')} satisfies {type_name};"
        self.line("")

    def _value(self, value: Any, path: JsonPath, prefix: str, depth: int) -> None:
        pad = "  " * depth
        if isinstance(value, dict) and value:
            self.line(f"{pad}{prefix}{{", path)
            for key, item in value.items():
                self._value(item, path + (key,), f"{json.dumps(key)}: ", depth + 1)
            self.line(f"{pad}}},", path)
        elif isinstance(value, list) and value:
            self.line(f"{pad}{prefix}[", path)
            for i, item in enumerate(value):
                self._value(item, path + (i,), "", depth + 1)
            self.line(f"{pad}],", path)
        else:
            # JSON scalars, {} and [] are TypeScript literals as they are.
            self.line(f"{pad}{prefix}{json.dumps(value)},", path)


def _split(container: Any, key: str) -> tuple[Any, list[Any]]:
    """`container` without its `key` list, and that list ([] when there is no such list)."""
    if isinstance(container, dict) and isinstance(container.get(key), list):
        return {k: v for k, v in container.items() if k != key}, container[key]
    return container, []


def _module_for(dashboard: dict[str, Any], source: Path, import_from: str) -> _Module:
    """The dashboard as `satisfies` checks: its panels, variables and annotations each apart."""
    module = _Module()
    module.line(f"// Type check of {source}, written by tests/grafana_schema_check.py.")
    module.line("import type { CheckedAnnotation, CheckedDashboard, CheckedPanelOrRow, "
                f"CheckedVariable }} from {json.dumps(import_from)};")
    module.line("")
    top, panels = _split(dict(dashboard), "panels")
    parts: list[tuple[str, JsonPath, list[Any], str]] = [
        ("panel", ("panels",), panels, "CheckedPanelOrRow")]
    for key, inner, name, type_name in (("templating", "list", "variable", "CheckedVariable"),
                                        ("annotations", "list", "annotation", "CheckedAnnotation")):
        if key in top:
            top[key], items = _split(top[key], inner)
            parts.append((name, (key, inner), items, type_name))
    module.const("dashboard", top, (), "CheckedDashboard")
    for name, prefix, items, type_name in parts:
        for i, item in enumerate(items):
            module.const(f"{name}_{i}", item, (*prefix, i), type_name)
    return module


# --- running tsc -----------------------------------------------------------------------------


def _display(path: Path) -> str:
    """`path` relative to the working directory when it lies inside it, else absolute."""
    absolute = Path(os.path.abspath(path))
    try:
        return str(absolute.relative_to(Path.cwd()))
    except ValueError:
        return str(absolute)


def _panel_label(dashboard: dict[str, Any], path: JsonPath) -> str:
    """' [timeseries "Requests"]' for a path inside a panel (the innermost, for row panels)."""
    node: Any = dashboard
    label = ""
    for i, part in enumerate(path):
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
        if i >= 1 and path[i - 1] == "panels" and isinstance(part, int) and isinstance(node, dict):
            kind, title = node.get("type", "?"), node.get("title")
            label = f" [{kind} {json.dumps(title)}]" if isinstance(title, str) else f" [{kind}]"
    return label


@dataclass
class _Source:
    path: Path
    dashboard: dict[str, Any]
    module: _Module


def _describe(diagnostic: list[str], files: dict[str, _Source], workdir: Path) -> str:
    """One tsc diagnostic (first line and its continuation lines) in dashboard terms."""
    first, rest = diagnostic[0], diagnostic[1:]
    match = _DIAGNOSTIC.match(first)
    tail = "".join(f"\n    {line.strip()}" for line in rest)
    if match is None:
        return first + tail
    message = f"{match['code']}: {match['msg']}{tail}"
    source = files.get(Path(match["file"]).name)
    if source is None or Path(match["file"]).parent not in (Path("."), workdir):
        return f"{_display(workdir / match['file'])}({match['line']},{match['col']}): {message}"
    index = int(match["line"]) - 1
    json_path = source.module.paths[index] if index < len(source.module.paths) else None
    if json_path is None:
        return f"{_display(source.path)}: {message}"
    where = format_path(json_path) + _panel_label(source.dashboard, json_path)
    return f"{_display(source.path)}: {where}: {message}"


def _diagnostics(output: str) -> list[list[str]]:
    """tsc's output split into diagnostics: a located or global error line and what follows."""
    groups: list[list[str]] = []
    for line in output.splitlines():
        if not line.strip():
            continue
        starts = not line[0].isspace() and bool(
            _DIAGNOSTIC.match(line) or _GLOBAL_DIAGNOSTIC.match(line))
        if starts or not groups:
            groups.append([line])
        else:
            groups[-1].append(line)
    return groups


def check_dashboards(paths: Sequence[Path], toolchain: SchemaToolchain | None = None) -> list[str]:
    """Error lines for the dashboards at `paths`; an empty list means all of them type-check.

    One tsc run checks all of them (it takes about a second, mostly startup). Raises
    SchemaToolchainMissing when node or the npm packages are missing, RuntimeError when tsc
    fails without saying why.
    """
    toolchain = toolchain or find_toolchain()
    errors: list[str] = []
    with tempfile.TemporaryDirectory(prefix="mcgen-grafana-schema-") as tmp:
        workdir = Path(tmp)
        for shared in ("dashboard.ts", "selftest.ts", "tsconfig.json"):
            shutil.copyfile(SCHEMA_DIR / shared, workdir / shared)
        shutil.copyfile(toolchain.package_set / "panelcfg.ts", workdir / "panelcfg.ts")
        (workdir / "node_modules").symlink_to(toolchain.package_set / "node_modules",
                                              target_is_directory=True)
        import_from = "./dashboard"
        files: dict[str, _Source] = {}
        for path in paths:
            dashboard, problems = _load(path)
            errors.extend(f"{_display(path)}: {problem}" for problem in problems)
            if not isinstance(dashboard, dict):
                continue
            name = f"dashboard_{len(files)}.ts"
            module = _module_for(dashboard, path, import_from)
            (workdir / name).write_text("\n".join(module.lines) + "\n", encoding="utf-8")
            files[name] = _Source(path, dashboard, module)
        if not files:
            return errors
        config = {
            "extends": "./tsconfig.json",
            # selftest.ts proves the mapping still rejects what it should, on every run.
            "files": [*files, "selftest.ts"],
        }
        (workdir / "tsconfig.check.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
        proc = subprocess.run(
            [toolchain.node, str(toolchain.tsc), "-p", "tsconfig.check.json", "--pretty", "false"],
            cwd=workdir, capture_output=True, text=True, check=False)
        if proc.returncode == 0:
            return errors
        groups = _diagnostics(proc.stdout)
        if not groups:
            raise RuntimeError(
                f"tsc exited {proc.returncode} without diagnostics:\n{proc.stdout}{proc.stderr}")
        errors.extend(_describe(group, files, workdir) for group in groups)
    return errors
