"""The TypeScript stubs (SPEC 9) under tsc --strict and under node with prom-client.

One build for the whole module: the stub of every example spec, of every golden case, of the
shared hostile spec (tests/stubs/hostile.yaml) and of a TypeScript-minded hostile spec written
here; beside each a driver that calls every helper for every combination of allowed label
values and prints prom-client's default registry; a file of typed calls with `@ts-expect-error`
on each wrong one, and a control file holding the same wrong calls bare. One tsc run compiles
all of it (tests/stubs_typescript/tsconfig.json: strict and then some) into a temporary folder;
node runs each driver there, and the exposition it prints is read back with
prometheus_client's parser and linted by `promtool check metrics`.

Needs node and the npm packages pinned in tests/stubs_typescript (`make stubs-typescript`);
without them the tests skip, or fail under CI=true.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from typer.testing import CliRunner

from mcgen import api, conventions, promql
from mcgen.cli import app
from mcgen.spec.model import Metric, Service
from mcgen.stubs import LANGUAGES, typescript
from mcgen.stubs.common import summary_quantiles

ROOT = Path(__file__).resolve().parents[2]
NPM_DIR = ROOT / "tests" / "stubs_typescript"
NODE_MODULES = NPM_DIR / "node_modules"
INSTALL_HINT = "run `make stubs-typescript` (npm ci --prefix tests/stubs_typescript)"
GOLDEN = ROOT / "tests" / "golden"
HOSTILE = ROOT / "tests" / "stubs" / "hostile.yaml"
MAX_COMBINATIONS = 1000  # label value combinations a driver calls a helper with

# What only JavaScript minds: label names that are reserved words or Object.prototype members
# (snake_case ones: `promtool check metrics` lints camelCase), metric names whose camelCase
# stems clash (`a_1b`, `a1b`), code in label values, bucket bounds JavaScript prints in exponent
# form, text full of characters that are not printable or that end a line in JavaScript
# (U+2028, U+2029), none at the ends of a help text (prometheus_client's parser strips
# whitespace there).
HOSTILE_TS = r"""
version: 1
service: hostile_ts
description: "*/ ${x} \u2028 \0"
metrics:
  - name: hostile_ts_a_1b_total
    type: counter
    help: "NUL \0 bell \a esc \e del \x7f nel \N bom \uFEFF zwj \u200D ls \L ps \P \
      pua \U000F0000 cr \r vt \v ff \f end"
    source: "x.ts:1 */ /* \u2028 `${a}`"
    labels:
      constructor: ["\0", "\u2029", "\r\n", "\x7f", "\uFEFF", "\U000F0000", "\U0001F600"]
      prototype: ["__proto__", "hasOwnProperty", "constructor", "toString"]
  - name: hostile_ts_a1b_total
    type: counter
    help: "Stem clash with hostile_ts_a_1b_total"
    labels:
      function: ["\\", "\\\\", "\\n", "\\\"", "\""]
      await: [async]
      yield: ["function () {}"]
  - name: hostile_ts_enum
    type: gauge
    help: "</script><script>alert(1)</script> \\u2028 \\x00"
    labels:
      enum: ["`${process.exit(1)}`", "\" + process.exit(1) + \"", "*/ process.exit(1) /*"]
      let: null
      static: null
  - name: hostile_ts_latency_seconds
    type: histogram
    unit: seconds
    help: "Buckets JavaScript prints in exponent form"
    labels:
      this: [a]
    buckets: [1.0e-7, 0.000001, 0.5, 1, 123456789012, 1.0e+21, 1.5e+22]
  - name: hostile_ts_plain
    type: summary
    help: "No labels at all"
    quantiles: [0.001, 0.5, 0.999]
"""

# A small service for the typed-call checks (the control file's line numbers are found by
# content, so calls can be added freely).
TYPED = """
version: 1
service: typed
metrics:
  - name: typed_latency_seconds
    type: histogram
    unit: seconds
    help: Latency
    labels: {route: ["/a", "/b"], queue: null}
    buckets: [0.1, 1]
  - name: typed_jobs_total
    type: counter
    help: Jobs
    labels: {outcome: [ok, failed], default: [x]}
  - name: typed_events_total
    type: counter
    help: Events
  - name: typed_depth
    type: gauge
    help: Depth
    labels: {class: [a, b]}
  - name: typed_rpc_seconds
    type: summary
    unit: seconds
    help: RPC
"""

TYPED_OK = """\
observeTypedLatencySeconds(0.1, { route: "/a", queue: "any" });
observeTypedLatencySeconds(2, { queue: "", route: "/b" });
const end = startTypedLatencySecondsTimer({ route: "/b", queue: "q" });
const took: number = end();
incTypedJobsTotal({ outcome: "ok", default: "x" });
incTypedJobsTotal({ outcome: "failed", "default": "x" }, 2);
incTypedEventsTotal();
incTypedEventsTotal(3);
setTypedDepth(1.5, { class: "a" });
observeTypedRpcSeconds(0.2);
const rpc: () => number = startTypedRpcSecondsTimer();
const labels: TypedLatencySecondsLabels = { route: "/a", queue: String(took + rpc()) };
TYPED_LATENCY_SECONDS.observe(labels, 1);
TYPED_EVENTS_TOTAL.inc();
TYPED_DEPTH.set({ class: "b" }, 0);
"""

# wrong call -> a piece of tsc's message for it
TYPED_WRONG: dict[str, str] = {
    'observeTypedLatencySeconds(0.1, { route: "/c", queue: "q" });': '"/c"',
    'observeTypedLatencySeconds(0.1, { route: "/a" });': "'queue' is missing",
    'observeTypedLatencySeconds(0.1, { route: "/a", queue: "q", method: "GET" });':
        "'method' does not exist",
    "observeTypedLatencySeconds(0.1);": "Expected 2 arguments",
    'observeTypedLatencySeconds(0.1, { route: "/a", queue: 1 });':
        "'number' is not assignable to type 'string'",
    'observeTypedLatencySeconds(0.1, { route: String("/a"), queue: "q" });':
        "'string' is not assignable to type '\"/a\" | \"/b\"'",
    'observeTypedLatencySeconds("0.1", { route: "/a", queue: "q" });':
        "'string' is not assignable to parameter of type 'number'",
    'startTypedLatencySecondsTimer({ route: "/a", queue: "q" })({ route: "/b" });':
        "Expected 0 arguments",
    'incTypedJobsTotal({ outcome: "ok" });': "'default' is missing",
    'incTypedJobsTotal({ outcome: "OK", default: "x" });': '"OK"',
    'incTypedEventsTotal({ outcome: "ok" });': "not assignable to parameter of type 'number'",
    'setTypedDepth(1, { class: "c" });': '"c"',
    "setTypedDepth(1);": "Expected 2 arguments",
    'observeTypedRpcSeconds(0.2, { peer: "db" });': "Expected 1 arguments",
    'TYPED_LATENCY_SECONDS.observe({ rout: "/a" }, 1);': "'rout' does not exist",
    'TYPED_DEPTH.set({ klass: "a" }, 1);': "'klass' does not exist",
}


# --- toolchain -------------------------------------------------------------------------------


def _missing(message: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"the TypeScript stub checks are required under CI=true: {message}")
    pytest.skip(message)


@dataclass(frozen=True)
class Toolchain:
    node: str
    tsc: Path


def find_toolchain() -> Toolchain:
    """node and the npm packages at exactly the versions package.json pins, or a skip (a
    failure under CI=true) that says how to install them."""
    node = shutil.which("node")
    if node is None:
        _missing("node is not on PATH; run `make node`")
        raise AssertionError  # unreachable: _missing skips or fails
    pins: dict[str, str] = json.loads((NPM_DIR / "package.json").read_text())["dependencies"]
    for name, pinned in pins.items():
        manifest = NODE_MODULES / name / "package.json"
        if not manifest.is_file():
            _missing(f"npm package {name} is not installed in tests/stubs_typescript; "
                     f"{INSTALL_HINT}")
        installed = json.loads(manifest.read_text())["version"]
        if installed != pinned:
            _missing(f"npm package {name} is {installed}, package.json pins {pinned}; "
                     f"{INSTALL_HINT}")
    return Toolchain(node, NODE_MODULES / "typescript" / "bin" / "tsc")


def test_package_json_pins_exact_versions() -> None:
    pins = json.loads((NPM_DIR / "package.json").read_text())["dependencies"]
    assert set(pins) == {"prom-client", "typescript", "@types/node"}
    for name, version in pins.items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name}: pin an exact version"
    assert pins["prom-client"].startswith("15.")
    assert pins["@types/node"].startswith("20.")
    grafana = json.loads((ROOT / "tests/grafana_schema/package.json").read_text())
    assert pins["typescript"] == grafana["dependencies"]["typescript"]
    lock = json.loads((NPM_DIR / "package-lock.json").read_text())
    for name, version in pins.items():
        assert lock["packages"][f"node_modules/{name}"]["version"] == version


# --- the build -------------------------------------------------------------------------------


@dataclass
class Stub:
    case: str  # its folder under src/
    service: Service
    text: str

    @property
    def module(self) -> str:
        return Path(conventions.typescript_stub_path(self.service.name)).stem

    @property
    def driver(self) -> str:
        return f"{self.case}/{self.service.name}_driver"


@dataclass(frozen=True)
class Diagnostic:
    file: str  # relative to src/
    line: int
    code: str
    message: str


@dataclass
class Build:
    root: Path
    stubs: list[Stub]
    diagnostics: list[Diagnostic]
    control_lines: dict[int, str] = field(default_factory=dict)  # line -> wrong call

    def js(self, rel: str) -> Path:
        return self.root / "out" / f"{rel}.js"


def combinations(metric: Metric) -> list[dict[str, str]]:
    """Every combination of the allowed label values; an unbounded label takes one made-up
    value."""
    names = [lb.name for lb in metric.labels]
    values = [lb.values if lb.values is not None else (f"any {lb.name}",)
              for lb in metric.labels]
    found = [dict(zip(names, combo, strict=True)) for combo in itertools.product(*values)]
    assert len(found) <= MAX_COMBINATIONS, f"{metric.name}: {len(found)} label combinations"
    return found


def _literal(labels: dict[str, str]) -> str:
    # JSON literals are JavaScript literals; independent of the generator's own quoting.
    return "{ " + ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in labels.items()) + " }"


def driver(stub: Stub) -> str:
    """Calls every helper once per label combination, then prints which names the stub
    exports (stderr) and the default registry (stdout)."""
    lines = [f"// Driver of {stub.module}, written by tests/stubs/test_stubs_typescript.py.",
             f'import * as stub from "./{stub.module}";',
             'import { register } from "prom-client";', "",
             "async function main(): Promise<void> {"]
    for m in typescript.ts_metrics(stub.service):
        for labels in combinations(m.metric):
            arg = _literal(labels) if labels else ""
            if m.cls == "Counter":
                lines += [f"  stub.inc{m.stem}({arg});",
                          f"  stub.inc{m.stem}({arg + ', ' if arg else ''}2);"]
            elif m.cls == "Gauge":
                lines += [f"  stub.set{m.stem}(7{', ' + arg if arg else ''});",
                          f"  stub.set{m.stem}(1.5{', ' + arg if arg else ''});"]
            else:
                lines += [f"  stub.observe{m.stem}(0.25{', ' + arg if arg else ''});",
                          f"  stub.start{m.stem}Timer({arg})();"]
    lines += ["  process.stderr.write(JSON.stringify(Object.keys(stub).sort()));",
              "  process.stdout.write(await register.metrics());", "}", "",
              "main().catch((err: unknown) => {", "  console.error(err);",
              "  process.exitCode = 1;", "});", ""]
    return "\n".join(lines)


def _typed_file(body: str) -> str:
    """`body` after an import of what it uses of typed_metrics (no unused import: the
    config has noUnusedLocals)."""
    used = sorted(set(re.findall(r"\b(?:TYPED_[A-Z_]+|(?:observe|start|inc|set)Typed\w+)\b",
                                 body)))
    if "TypedLatencySecondsLabels" in body:
        used.append("type TypedLatencySecondsLabels")
    return (f"// Typed calls, written by tests/stubs/test_stubs_typescript.py.\n"
            f'import {{ {", ".join(used)} }} from "./typed_metrics";\n\n{body}')


_DIAGNOSTIC = re.compile(
    r"^(?P<file>.+?)\((?P<line>\d+),(?P<col>\d+)\): error (?P<code>TS\d+): (?P<msg>.*)$")


def _diagnostics(output: str, src: Path) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    for raw in output.splitlines():
        match = _DIAGNOSTIC.match(raw)
        if match:
            path = Path(match["file"])
            rel = (path if path.is_absolute() else (src.parent / path)).resolve()
            name = rel.relative_to(src.resolve()).as_posix() if rel.is_relative_to(
                src.resolve()) else match["file"]
            found.append(Diagnostic(name, int(match["line"]), match["code"], match["msg"]))
        elif raw.startswith(" ") and found:  # continuation of the last message
            last = found.pop()
            found.append(Diagnostic(last.file, last.line, last.code,
                                    f"{last.message}\n{raw.strip()}"))
        elif raw.strip():
            found.append(Diagnostic("?", 0, "?", raw))
    return found


def _cases(tmp: Path) -> Iterator[tuple[str, list[Path], str | None]]:
    yield "examples", [ROOT / "specs"], None
    for case in sorted(p for p in GOLDEN.iterdir() if (p / "specs").is_dir()):
        env_file = case / "env"
        env = env_file.read_text().strip() if env_file.exists() else None
        yield f"golden_{case.name}", [case / "specs"], env
    yield "hostile", [HOSTILE], None
    spec = tmp / "specs" / "hostile_ts.yaml"
    yield "hostile_ts", [spec], None
    yield "typed", [tmp / "specs" / "typed.yaml"], None


@pytest.fixture(scope="module")
def toolchain() -> Toolchain:
    return find_toolchain()


@pytest.fixture(scope="module")
def build(toolchain: Toolchain, tmp_path_factory: pytest.TempPathFactory) -> Build:
    tmp = tmp_path_factory.mktemp("stubs_typescript")
    (tmp / "node_modules").symlink_to(NODE_MODULES, target_is_directory=True)
    (tmp / "specs").mkdir()
    (tmp / "specs" / "hostile_ts.yaml").write_text(HOSTILE_TS, encoding="utf-8")
    (tmp / "specs" / "typed.yaml").write_text(TYPED, encoding="utf-8")
    src = tmp / "src"
    stubs: list[Stub] = []
    files: list[str] = []
    for case, paths, env in _cases(tmp):
        for svc in api.validate(paths, env).services:
            if all(m.external for m in svc.metrics):
                continue  # an exporter's metrics only: no stub
            stub = Stub(case, svc, typescript.render(svc))
            stubs.append(stub)
            (src / case).mkdir(parents=True, exist_ok=True)
            (src / case / f"{stub.module}.ts").write_text(stub.text, encoding="utf-8")
            files.append(f"src/{case}/{stub.module}.ts")
            if case != "typed":
                (src / f"{stub.driver}.ts").write_text(driver(stub), encoding="utf-8")
                files.append(f"src/{stub.driver}.ts")
    expect_error = "".join(f"// @ts-expect-error: wrong on purpose\n{call}\n"
                           for call in TYPED_WRONG)
    (src / "typed" / "typed_calls.ts").write_text(
        _typed_file(TYPED_OK + "\n" + expect_error), encoding="utf-8")
    control = _typed_file("".join(f"{call}\n" for call in TYPED_WRONG))
    (src / "typed" / "control.ts").write_text(control, encoding="utf-8")
    files += ["src/typed/typed_calls.ts", "src/typed/control.ts"]
    (tmp / "tsconfig.json").write_text(json.dumps({
        "extends": str(NPM_DIR / "tsconfig.json"),
        "compilerOptions": {"noEmit": False, "outDir": "out", "rootDir": "src"},
        "files": files}, indent=2))
    proc = subprocess.run([toolchain.node, str(toolchain.tsc), "-p", str(tmp / "tsconfig.json"),
                           "--pretty", "false"], cwd=tmp, capture_output=True, text=True,
                          timeout=300)
    diagnostics = _diagnostics(proc.stdout + proc.stderr, src)
    control_lines = {i: line for i, line in enumerate(control.splitlines(), 1)
                     if line in TYPED_WRONG}
    return Build(tmp, stubs, diagnostics, control_lines)


@dataclass(frozen=True)
class Run:
    exposition: str
    exports: list[str]


@pytest.fixture(scope="module")
def runs(build: Build, toolchain: Toolchain) -> dict[str, Run]:
    """Each driver's output, by driver (the drivers run in parallel, each its own node)."""
    def run(stub: Stub) -> tuple[str, Run]:
        js = build.js(stub.driver)
        assert js.is_file(), f"tsc wrote no {js} (errors: {build.diagnostics})"
        proc = subprocess.run([toolchain.node, str(js)], capture_output=True, timeout=120,
                              cwd=build.root)
        stderr = proc.stderr.decode("utf-8", "replace")
        assert proc.returncode == 0, f"{stub.driver}: node failed:\n{stderr}"
        return stub.driver, Run(proc.stdout.decode("utf-8"), json.loads(stderr))
    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(pool.map(run, [s for s in build.stubs if s.case != "typed"]))


def _stubs(build: Build) -> list[Stub]:
    return [s for s in build.stubs if s.case != "typed"]


def test_registered_as_a_stub_language() -> None:
    """`mcgen generate` writes what these tests check (the build renders with
    typescript.render alone, so that another language's stub cannot break it)."""
    module, path = LANGUAGES["typescript"]
    assert import_module(module) is typescript
    assert path("codehub") == "stubs/typescript/codehub_metrics.ts"


# --- (a) tsc --strict ------------------------------------------------------------------------


def test_every_stub_compiles(build: Build) -> None:
    cases = {s.case for s in build.stubs}
    assert {"examples", "hostile", "hostile_ts", "typed", "golden_all_kinds",
            "golden_minimal"} <= cases
    assert len([s for s in build.stubs if s.case == "examples"]) == len(
        list((ROOT / "specs").glob("*.yaml")))
    errors = [d for d in build.diagnostics if d.file != "typed/control.ts"]
    assert not errors, "\n".join(f"{d.file}:{d.line}: {d.code} {d.message}" for d in errors)


def test_hostile_specs_validate() -> None:
    """The hostile texts are legal spec content (help, source and label values are free
    text), so the stubs must cope with them."""
    for spec in (HOSTILE,):
        result = CliRunner().invoke(app, ["validate", str(spec)])
        assert result.exit_code == 0, result.output
    svc = api.validate([HOSTILE]).services[0]
    text = "".join(m.help + "".join(v for lb in m.labels for v in lb.values or ())
                   for m in svc.metrics)
    for nasty in ('"', "\\", '"""', "${", "*/", "`", "{", "}", "\n", "\u2028", "\U0001F600"):
        assert nasty in text, f"tests/stubs/hostile.yaml lost {nasty!r}"


def test_hostile_ts_spec_validates(tmp_path: Path) -> None:
    spec = tmp_path / "hostile_ts.yaml"
    spec.write_text(HOSTILE_TS, encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", str(spec)])
    assert result.exit_code == 0, result.output
    assert "ok: 1 spec(s), 5 metric(s)" in result.output


# --- (b) typed calls -------------------------------------------------------------------------


def test_wrong_calls_fail_to_compile(build: Build) -> None:
    """Every wrong call of the control file fails where it stands, with the error expected;
    nothing else there does. (The same calls under `@ts-expect-error` in typed_calls.ts must
    each fail too, or tsc reports the unused directive: test_every_stub_compiles.)"""
    found: dict[int, list[str]] = {}
    for d in build.diagnostics:
        if d.file == "typed/control.ts":
            found.setdefault(d.line, []).append(d.message)
    assert set(found) == set(build.control_lines), (
        f"errors on lines {sorted(found)}, wrong calls on {sorted(build.control_lines)}")
    for line, call in build.control_lines.items():
        assert any(TYPED_WRONG[call] in m for m in found[line]), f"{call}: {found[line]}"


def test_typed_calls_file_holds_every_wrong_call(build: Build) -> None:
    text = (build.root / "src" / "typed" / "typed_calls.ts").read_text()
    assert text.count("// @ts-expect-error") == len(TYPED_WRONG)
    assert not [d for d in build.diagnostics if d.file == "typed/typed_calls.ts"]


# --- (c) under node --------------------------------------------------------------------------


def _expected_exports(svc: Service) -> list[str]:
    out = []
    for m in typescript.ts_metrics(svc):
        out.append(m.const)
        if m.cls == "Counter":
            out.append(f"inc{m.stem}")
        elif m.cls == "Gauge":
            out += [f"set{m.stem}", f"inc{m.stem}", f"dec{m.stem}"]
        else:
            out += [f"observe{m.stem}", f"start{m.stem}Timer"]
    return sorted(out)


def _family_name(metric: Metric) -> str:
    # prometheus_client's parser names a counter family without its `_total`.
    if metric.type == "counter" and metric.name.endswith("_total"):
        return metric.name[:-len("_total")]
    return metric.name


def _without(labels: dict[str, str], key: str) -> dict[str, str]:
    return {k: v for k, v in labels.items() if k != key}


def _key(labels: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(labels.items()))


def check_exposition(svc: Service, text: str) -> None:
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert set(families) == {_family_name(m) for m in svc.metrics}, "metric names differ"
    for metric in svc.metrics:
        family = families[_family_name(metric)]
        where = metric.name
        assert family.type == metric.type, where
        assert family.documentation == metric.help, where
        combos = sorted(_key(c) for c in combinations(metric))
        names = set(metric.label_names)
        by_suffix: dict[str, list[Sample]] = {}
        for sample in family.samples:
            by_suffix.setdefault(sample.name.removeprefix(metric.name), []).append(sample)
        if metric.type in ("counter", "gauge"):
            assert set(by_suffix) == {""}, where
            samples = by_suffix[""]
            assert sorted(_key(s.labels) for s in samples) == combos, where
            want = 3.0 if metric.type == "counter" else 1.5
            assert all(s.value == want for s in samples), where
            continue
        extra = "le" if metric.type == "histogram" else "quantile"
        bounds = [promql.js_float(b) for b in metric.buckets] + ["+Inf"] \
            if metric.type == "histogram" \
            else [promql.js_float(q) for q in summary_quantiles(metric)]
        series = "_bucket" if metric.type == "histogram" else ""
        assert set(by_suffix) == {series, "_sum", "_count"}, where
        for suffix in ("_sum", "_count"):
            assert sorted(_key(s.labels) for s in by_suffix[suffix]) == combos, where
        assert all(s.value == 2 for s in by_suffix["_count"]), where
        spelled: dict[tuple[tuple[str, str], ...], list[str]] = {}
        for s in by_suffix[series]:
            assert set(s.labels) == names | {extra}, where
            spelled.setdefault(_key(_without(s.labels, extra)), []).append(s.labels[extra])
        assert sorted(spelled) == combos, where
        for got in spelled.values():
            assert got == bounds, f"{where}: {extra} {got} != {bounds}"


def test_drivers_export_every_helper(build: Build, runs: dict[str, Run]) -> None:
    for stub in _stubs(build):
        exports = [e for e in runs[stub.driver].exports if e not in ("__esModule", "default")]
        assert exports == _expected_exports(stub.service), stub.driver


def test_exposition_matches_the_spec(build: Build, runs: dict[str, Run]) -> None:
    for stub in _stubs(build):
        check_exposition(stub.service, runs[stub.driver].exposition)


def test_exposition_passes_promtool(build: Build, runs: dict[str, Run], promtool: str) -> None:
    problems = []
    for stub in _stubs(build):
        proc = subprocess.run([promtool, "check", "metrics"], input=runs[stub.driver].exposition,
                              capture_output=True, text=True, timeout=60)
        if proc.returncode != 0 or proc.stdout.strip() or proc.stderr.strip():
            problems.append(f"{stub.driver}: exit {proc.returncode}\n{proc.stdout}{proc.stderr}")
    assert not problems, "\n".join(problems)


# --- (d) hostile text ------------------------------------------------------------------------


def test_hostile_text_arrives_exactly(build: Build, runs: dict[str, Run]) -> None:
    """The hostile specs' help texts and label values come out of prom-client exactly (the
    parser undoes the exposition's escaping); check_exposition compares them all, this makes
    sure the nastiest ones were there to compare."""
    for case in ("hostile", "hostile_ts"):
        (stub,) = [s for s in build.stubs if s.case == case]
        text = runs[stub.driver].exposition
        check_exposition(stub.service, text)
        families = list(text_string_to_metric_families(text))
        values = {v for f in families for s in f.samples for v in s.labels.values()}
        helps = {f.documentation for f in families}
        for metric in stub.service.metrics:
            assert metric.help in helps
            for lb in metric.labels:
                assert set(lb.values or ()) <= values


def test_hostile_stub_keeps_user_text_in_literals(build: Build) -> None:
    """No backtick, no `${` outside a string literal or a comment; every `*/` inside a
    comment is escaped; no raw line separator anywhere."""
    for stub in build.stubs:
        if stub.case not in ("hostile", "hostile_ts"):
            continue
        text = stub.text
        assert "\u2028" not in text and "\u2029" not in text and "\r" not in text
        code = re.sub(r'"(?:[^"\\\n]|\\.)*"', '""', text)  # string literals emptied
        code = re.sub(r"/\*.*?\*/", "", code, flags=re.S)  # block comments dropped
        code = re.sub(r"//[^\n]*", "", code)
        assert "`" not in code and "${" not in code, code
        for block in re.findall(r"/\*\*.*?\*/", text, flags=re.S):
            assert block.count("*/") == 1


# --- naming and quoting ----------------------------------------------------------------------


def test_names_follow_the_scheme() -> None:
    svc = api.validate([ROOT / "specs" / "codehub.yaml"]).services[0]
    text = typescript.render(svc)
    assert "export const CODEHUB_WORKSPACE_OPERATION_DURATION_SECONDS = new Histogram({" in text
    assert ("export function observeCodehubWorkspaceOperationDurationSeconds(\n"
            "  value: number,\n  labels: CodehubWorkspaceOperationDurationSecondsLabels,\n"
            "): void {") in text
    assert ('  operation: "ARCHIVING" | "RESTORING" | "STARTING" | "STOPPING";\n') in text


def test_clashing_stems_get_suffixes(tmp_path: Path) -> None:
    spec = tmp_path / "hostile_ts.yaml"
    spec.write_text(HOSTILE_TS, encoding="utf-8")
    svc = api.validate([spec]).services[0]
    stems = [m.stem for m in typescript.ts_metrics(svc)]
    assert stems[:2] == ["HostileTsA1bTotal", "HostileTsA1bTotal_"]
    assert len(set(stems)) == len(stems)


@pytest.mark.parametrize(("text", "literal"), [
    ("plain", '"plain"'),
    ('a"b\\c', r'"a\"b\\c"'),
    ("${x} `y`", '"${x} `y`"'),
    ("*/", '"*/"'),
    ("a\nb\rc\td", r'"a\nb\rc\td"'),
    ("\0\x7f\x85", r'"\u0000\u007f\u0085"'),
    ("\u2028\u2029", r'"\u2028\u2029"'),
    ("\ud800 \udfff", r'"\ud800 \udfff"'),  # lone surrogates, not writable as UTF-8
    ("\U0001F600 é", '"\U0001F600 é"'),  # printable: kept
    ("\U000F0000", r'"\udb80\udc00"'),  # private use: a surrogate pair escape
])
def test_string_literal(text: str, literal: str) -> None:
    assert typescript.string(text) == literal
    literal.encode("utf-8")  # the file can hold it


def test_string_literal_is_json_compatible() -> None:
    """Whatever goes in, JSON reads the literal back (JS string syntax is a superset here)."""
    nasty = "".join(chr(c) for c in range(0, 0x3000)) + "\ud800\U0001F600\U000F0000"
    assert json.loads(typescript.string(nasty)) == nasty


@pytest.mark.parametrize(("text", "lines"), [
    ("a */ b", [" * a *\\/ b"]),
    ("a\nb\r\nc\rd\u2028e\u2029f\x85g", [" * a", " * b", " * c", " * d", " * e", " * f",
                                         " * g"]),
    ("x\0\ud800", [" * x\\u0000\\ud800"]),
    ("", [" *"]),
])
def test_comment(text: str, lines: list[str]) -> None:
    assert typescript.comment(text).split("\n") == lines


@pytest.mark.parametrize(("name", "key"), [
    ("route", "route"), ("class", "class"), ("default", "default"), ("__proto__", "__proto__"),
    ("_x1", "_x1"), ("a-b", '"a-b"'), ("1a", '"1a"'), ("", '""')])
def test_key(name: str, key: str) -> None:
    assert typescript.key(name) == key


def test_names_that_start_with_a_digit_get_a_prefix() -> None:
    """`_1x_total` and `:1x` are valid metric names; `1xTotalLabels` is no TypeScript name."""
    assert typescript.camel("_1x_total") == "Metric1xTotal"
    assert typescript.camel("api_latency_seconds") == "ApiLatencySeconds"
