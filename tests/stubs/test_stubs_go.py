"""The Go stubs (SPEC 9) under go build, go vet and gofmt, and under client_golang.

One temporary GOPATH for the module, built offline against Debian's client_golang
(GO111MODULE=off, `make go`): the stub of every example spec, of every golden case, of the
shared hostile spec (tests/stubs/hostile.yaml), of the spec of awkward names
(tests/stubs/names.yaml) and of that spec under service names that are no package name
(main, string, type_); beside each a driver that calls every helper for every combination of
allowed label values and prints the default gatherer's exposition. One `go build` compiles
all of it, one `go vet` checks the stubs; each driver's exposition is read back with
prometheus_client's parser and linted by `promtool check metrics`.
"""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import GOCODE
from prometheus_client.parser import text_string_to_metric_families
from stub_exposition import (
    combinations,
    exposition_problems,
    family_name,
    promtool_findings,
)

from mcgen import api, conventions, promql
from mcgen.spec.model import Service
from mcgen.stubs import go as gostub

ROOT = Path(__file__).resolve().parents[2]
SPEC_SETS = [Path("specs"), *sorted(p.relative_to(ROOT) for p in
                                    (ROOT / "tests" / "golden").glob("*/specs")),
             Path("tests/stubs/hostile.yaml"), Path("tests/stubs/names.yaml")]
# Services whose name is no Go package name as it stands, as variants of names.yaml.
RENAMED = ("main", "string", "type_")
GENERATED = re.compile(r"^// Code generated .* DO NOT EDIT\.$")  # what Go tools look for


@dataclass(frozen=True)
class Stub:
    svc: Service
    package: str  # import path in the GOPATH
    file: Path
    driver: str  # import path of its main package, whose binary has the last element's name

    @property
    def binary(self) -> str:
        return self.driver.rsplit("/", 1)[1]


@dataclass
class Build:
    go: str
    gopath: Path
    env: dict[str, str]
    stubs: list[Stub]
    build: subprocess.CompletedProcess[str]
    vet: subprocess.CompletedProcess[str]

    def stub(self, service: str) -> Stub:
        return next(s for s in self.stubs if s.svc.name == service)

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([self.go, *args], cwd=self.gopath, env=self.env, capture_output=True,
                              text=True, check=False)


def go_env(gopath: Path, cache: Path) -> dict[str, str]:
    """GOPATH mode, offline, this module's build cache, nothing from the user's settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GO")}
    return {**env, "GO111MODULE": "off", "GOPATH": f"{gopath}{os.pathsep}{GOCODE}",
            "GOCACHE": str(cache), "GOFLAGS": "", "GOENV": "off", "GOPROXY": "off",
            "GOTOOLCHAIN": "local", "CGO_ENABLED": "0"}


def driver(svc: Service, package: str) -> str:
    """A program that calls every helper of the stub, the main one for every combination of
    label values, and prints the default gatherer's exposition without Go's own collectors."""
    calls = []
    for gm in gostub.metrics_of(svc):
        main = "Add" if gm.kind == "Counter" else "Set" if gm.kind == "Gauge" else "Observe"
        for n, combo in enumerate(combinations(gm.metric)):
            args = [f"stub.{p.const(combo[p.label])}" if p.consts else
                    gostub.string(combo[p.label]) for p in gm.params]
            calls.append(f"stub.{gm.helpers[main]}({', '.join(['0.7', *args])})")
            if n == 0:  # the other helpers once
                if "Inc" in gm.helpers:
                    calls.append(f"stub.{gm.helpers['Inc']}({', '.join(args)})")
                if gm.kind == "Gauge":
                    calls.append(f"stub.{gm.helpers['Add']}({', '.join(['-0.2', *args])})")
                if "Time" in gm.helpers:
                    calls.append(f"stub.{gm.helpers['Time']}({', '.join(args)}).ObserveDuration()")
    body = "".join(f"\t{call}\n" for call in calls)
    return f"""package main

import (
	"os"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	stub "{package}"
)

func main() {{
	process := prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{{}})
	if !prometheus.Unregister(prometheus.NewGoCollector()) || !prometheus.Unregister(process) {{
		panic("client_golang's own collectors were not registered")
	}}
{body}	families, err := prometheus.DefaultGatherer.Gather()
	if err != nil {{
		panic(err)
	}}
	for _, family := range families {{
		if _, err := expfmt.MetricFamilyToText(os.Stdout, family); err != nil {{
			panic(err)
		}}
	}}
}}
"""


def _stubs(gopath: Path) -> list[Stub]:
    out = []
    for i, specs in enumerate(SPEC_SETS):
        files = api.render([specs])
        services = [svc for svc in api.validate([specs]).services
                    if not all(m.external for m in svc.metrics)]  # no stub: exporters
        texts = [files[conventions.go_stub_path(svc.name)] for svc in services]
        if specs.name == "names.yaml":
            renamed = [dataclasses.replace(services[0], name=name) for name in RENAMED]
            services += renamed
            texts += [gostub.render(svc) for svc in renamed]
        for svc, text in zip(services, texts, strict=True):
            package = f"stubs/{i}/{svc.name}"
            path = gopath / "src" / package / "metrics.go"
            path.parent.mkdir(parents=True)
            path.write_text(text, encoding="utf-8")
            main = f"drivers/{i}_{svc.name}"
            (gopath / "src" / main).mkdir(parents=True)
            (gopath / "src" / main / "main.go").write_text(driver(svc, package), "utf-8")
            out.append(Stub(svc, package, path, main))
    return out


@pytest.fixture(scope="module")
def built(go: str, tmp_path_factory: pytest.TempPathFactory) -> Build:
    tmp = tmp_path_factory.mktemp("gostubs")
    gopath = tmp / "gopath"
    here = os.getcwd()
    os.chdir(ROOT)  # specs print their paths relative to the repository
    try:
        stubs = _stubs(gopath)
    finally:
        os.chdir(here)
    env = go_env(gopath, tmp / "cache")
    build = subprocess.run([go, "build", "-o", str(tmp / "bin") + os.sep,
                            *(s.package for s in stubs), *(s.driver for s in stubs)],
                           cwd=gopath, env=env, capture_output=True, text=True, check=False)
    vet = subprocess.run([go, "vet", *(s.package for s in stubs)], cwd=gopath, env=env,
                         capture_output=True, text=True, check=False)
    return Build(go, gopath, env, stubs, build, vet)


def test_every_stub_builds_and_passes_vet(built: Build) -> None:
    assert built.build.returncode == 0, built.build.stderr
    assert built.vet.returncode == 0, built.vet.stderr


def test_every_stub_is_gofmt_clean_and_marked_generated(built: Build) -> None:
    gofmt = Path(built.go).resolve().parent / "gofmt"  # beside go in GOROOT/bin
    proc = subprocess.run([str(gofmt), "-l", *(str(s.file) for s in built.stubs)],
                          capture_output=True, text=True, check=False)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    for stub in built.stubs:
        text = stub.file.read_text(encoding="utf-8")
        assert GENERATED.match(text.split("\n", 1)[0]), stub.file
        assert f"from {stub.svc.source}." in text.split("\n", 1)[0]
        assert f"\npackage {gostub.package_name(stub.svc.name)}\n" in text


def _expose(built: Build, stub: Stub) -> str:
    proc = subprocess.run([str(built.gopath.parent / "bin" / stub.binary)],
                          capture_output=True, check=False)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    return proc.stdout.decode("utf-8")  # not text=True: that would turn \r into \n


def test_every_stub_exposes_exactly_the_spec(built: Build, promtool: str) -> None:
    assert built.build.returncode == 0, built.build.stderr
    for stub in built.stubs:
        svc, text = stub.svc, _expose(built, stub)
        assert exposition_problems(text, svc, bounds="go") == [], stub.package
        families = {f.name: f for f in text_string_to_metric_families(text)}
        assert sorted(families) == sorted(family_name(m) for m in svc.metrics), stub.package
        for gm in gostub.metrics_of(svc):
            if gm.kind == "Summary":  # the quantiles the dashboards and alerts read
                quantiles = {s.labels["quantile"] for s in families[gm.metric.name].samples
                             if "quantile" in s.labels}
                assert quantiles == {promql.go_float(q) for q, _ in gm.objectives}
        assert promtool_findings(promtool, text) == "", stub.package


def test_hostile_text_stays_text(built: Build) -> None:
    """Every line holding user text is a comment or a string literal: nothing escapes."""
    for name in ("hostile", "names"):
        text = built.stub(name).file.read_text(encoding="utf-8")
        for raw in ("\0", "\ufeff", "\u2028", "\u2029", "\r", "\x85"):  # all escaped
            assert raw not in text, (name, raw)
        assert not re.search(r"\\x[89a-f][0-9a-f]|\\u[dD][89abAB]", text)  # bytes, surrogates
        hostile = api.validate([ROOT / "tests/stubs" / f"{name}.yaml"]).services[0]
        for metric in hostile.metrics:
            assert f"Help: {gostub.string(metric.help)}," in re.sub(r"Help: +", "Help: ", text)


def _compile(built: Build, name: str, body: str) -> None:
    folder = built.gopath / "src" / "calls" / name
    folder.mkdir(parents=True, exist_ok=True)
    stub = built.stub("codehub").package
    (folder / "main.go").write_text(
        f'package main\n\nimport stub "{stub}"\n\nfunc main() {{\n{body}}}\n',
        encoding="utf-8")


def test_a_call_with_the_wrong_label_type_fails_to_compile(built: Build) -> None:
    assert built.build.returncode == 0, built.build.stderr
    observe = "stub.ObserveCodehubWorkspaceOperationDurationSeconds"
    _compile(built, "right", f"\t{observe}(1, stub.CodehubWorkspaceOperationDurationSeconds"
                             "OperationArchiving)\n")
    wrong = {  # package -> call, what go says
        "other_label": (f"\t{observe}(1, stub.CodehubWorkspaceLastOperationTimestamp"
                        "OperationArchiving)\n", "cannot use"),
        "plain_string": (f'\top := "ARCHIVING"\n\t{observe}(1, op)\n', "cannot use"),
        "no_label": (f"\t{observe}(1)\n", "not enough arguments"),
    }
    for name, (body, _) in wrong.items():
        _compile(built, name, body)
    proc = built.run("build", "-o", os.devnull, *(f"calls/{n}" for n in ["right", *wrong]))
    assert proc.returncode != 0
    errors = dict(re.findall(r"^# (calls/\w+)\n((?:[^#].*\n?)*)", proc.stderr, re.M))
    assert sorted(errors) == sorted(f"calls/{n}" for n in wrong), proc.stderr
    for name, (_, said) in wrong.items():
        assert said in errors[f"calls/{name}"], errors[f"calls/{name}"]


@pytest.mark.parametrize(("text", "literal"), [
    ("plain é 😀", '"plain é 😀"'),
    ('q"b\\n\n\r\t', r'"q\"b\\n\n\r\t"'),
    ("\0\x7f\x80\x9f\xa0", r'"\x00\x7f\u0080\u009f\u00a0"'),  # \x80 would be a byte in Go
    ("\ufeff\u2028\u2029\U000f0000", r'"\ufeff\u2028\u2029\U000f0000"'),
    ("lone \ud800 surrogate", r'"lone \uFFFD surrogate"'),  # Go rejects "\ud800"
    ("`${x}` */ {{y}}", '"`${x}` */ {{y}}"'),
])
def test_string_literal(text: str, literal: str) -> None:
    assert gostub.string(text) == literal


def test_comment_lines() -> None:
    assert gostub.comment('a "b" \\\n\n  c \u2028 \0  ') == '// a "b" \\\n//\n//   c \\u2028 \\x00'
    assert gostub.comment("x\n\ny", code=True) == "//\tx\n//\n//\ty"


@pytest.mark.parametrize(("value", "part"), [
    ("ARCHIVING", "Archiving"), ("client_to_backend", "ClientToBackend"), ("getUser", "GetUser"),
    ("a b", "AB"), ("é", "E"), ("1x", "1x"), ("5xx", "5xx"), ("☃", ""), ("", ""), ("-", ""),
])
def test_value_identifier_part(value: str, part: str) -> None:
    assert gostub.value_camel(value) == part


@pytest.mark.parametrize(("service", "package"), [
    ("codehub", "codehub"), ("effect_queue", "effectqueue"), ("main", "mainmetrics"),
    ("init", "initmetrics"), ("go", "gometrics"), ("type_", "typemetrics"),
    ("string", "stringmetrics"), ("prometheus", "prometheusmetrics"),
])
def test_package_name(service: str, package: str) -> None:
    assert gostub.package_name(service) == package


def test_label_parameters() -> None:
    names = [gostub.lower_camel(n) for n in ("coordinator_type", "URL_path", "_", "_5xx", "Code")]
    assert names == ["coordinatorType", "urlPath", "label", "label5xx", "code"]
