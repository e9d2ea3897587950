"""The library front door: what the CLI and the tests call."""

from __future__ import annotations

import dataclasses
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcgen import parallel, promtool, write
from mcgen.conventions import header_source
from mcgen.dashboards import push as pushing
from mcgen.errors import UsageError
from mcgen.spec import settings
from mcgen.spec.model import Model, Service
from mcgen.spec.validate import validate as _validate
from mcgen.targets import TARGETS, render_all

DEFAULT_SPECS = Path("specs")
DEFAULT_OUT = Path("generated")


def validate(paths: list[Path] | None = None, env: str | None = None,
             config: Path = settings.CONFIG_FILE) -> Model:
    """The validated model, with the settings of generation of `config` (mcgen.toml in
    the working folder); raises SpecError listing every problem."""
    chosen = settings.load(config, known=tuple(TARGETS))
    model = _validate(paths or [DEFAULT_SPECS], env, chosen.keep_labels)
    return dataclasses.replace(model, settings=chosen)


def render(paths: list[Path] | None = None, env: str | None = None,
           config: Path = settings.CONFIG_FILE) -> dict[str, str]:
    """Every output file, in memory: {path relative to the output folder: text}."""
    with parallel.fewer_collections():
        return render_all(validate(paths, env, config))


def generate(paths: list[Path] | None = None, out: Path = DEFAULT_OUT,
             env: str | None = None) -> list[write.Change]:
    """Render everything first, then write; a failing run writes nothing."""
    return write.write(out, render(paths, env))


@dataclass
class CheckReport:
    drift: list[write.Change] = field(default_factory=list)
    orphans: list[tuple[str, str]] = field(default_factory=list)  # (file, spec it names)
    promtool: list[promtool.FileRun] = field(default_factory=list)
    promtool_ran: bool = False  # not when the outputs are stale: fix those first
    routing: RoutingReport | None = None  # when a spec has `routing`

    @property
    def ok(self) -> bool:
        return (not self.drift and not self.orphans and all(r.ok for r in self.promtool)
                and (self.routing is None or self.routing.ok))


@dataclass
class RoutingReport:
    """The proof of the specs' routing: amtool on the merged config and on every alert,
    and mcgen's own judgement of the inhibit rules."""

    config: Any = None  # amtool.Outcome of check-config
    routes: list[Any] = field(default_factory=list)  # amtool.Outcome per alert label set
    problems: list[str] = field(default_factory=list)  # inhibition, alerts never proven

    @property
    def ok(self) -> bool:
        return (self.config is not None and self.config.ok and not self.problems
                and all(r.ok for r in self.routes))


def _rules_and_tests(root: Path) -> tuple[list[Path], list[Path]]:
    prom = root.resolve() / "prometheus"
    return sorted(prom.glob("*.rules.yml")), sorted(prom.glob("*.test.yml"))


ShowRun = Callable[[promtool.FileRun], None]


def check(paths: list[Path] | None = None, out: Path = DEFAULT_OUT, env: str | None = None,
          run_promtool: bool = True, show: ShowRun = lambda run: None,
          say: Callable[[str], None] = lambda text: None) -> CheckReport:
    """Drift between the specs and `out` (nothing is written); then, only when there is
    none, `promtool check rules` on each rules file and `promtool test rules` on each test
    file the specs produce (`show` gets each file's outcome, in order, as it is known)."""
    model = validate(paths, env)
    files = render_all(model)
    report = CheckReport(drift=[c for c in write.compare(out, files) if c.status != "same"],
                         orphans=_orphans(out, files, {s.source for s in model.services}))
    if not run_promtool or report.drift or report.orphans:
        return report
    routed = any(s.routing is not None for s in model.services)
    if routed:
        from mcgen.routing import amtool
        amtool.binary()  # missing: say so before promtool's long runs
    with tempfile.TemporaryDirectory(prefix="mcgen-check-") as tmp:
        root = Path(tmp)
        write.fresh(root, files)
        rules, tests = ([(p.relative_to(root.resolve()), str(out / p.relative_to(root.resolve())))
                         for p in found] for found in _rules_and_tests(root))
        report.promtool_ran = True
        say(f"{len(model.services)} spec(s) valid, {len(files)} output(s) up to date; "
            f"{promtool.binary()}: check {len(rules)} rules file(s), test {len(tests)} "
            f"suite(s), {promtool.jobs(len(rules) + len(tests))} at a time")
        for command, group in (("check", rules), ("test", tests)):
            for run in promtool.run_each(command, group, root):
                report.promtool.append(run)
                show(run)
    if routed:
        report.routing = prove_routing(model, files)
    return report


def fired_labels(svc: Service, model: Model, files: dict[str, str] | None = None
                 ) -> list[dict[str, str]]:
    """The distinct label sets the service's alerts fire with in its generated promtool
    tests (rendered now unless `files` holds them): every alert and SLO alert, as proven."""
    import yaml

    from mcgen import conventions
    text = (files or {}).get(conventions.tests_path(svc.name))
    if text is None:
        from mcgen import proof
        doc, _ = proof.tests_document(svc, model)
    else:
        doc = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    found = {tuple(sorted({**alert["exp_labels"], "alertname": check["alertname"]}.items()))
             for group in doc["tests"] for check in group.get("alert_rule_test", [])
             for alert in check["exp_alerts"]}
    return [dict(labels) for labels in sorted(found)]


def prove_routing(model: Model, files: dict[str, str] | None = None,
                  base: dict[str, Any] | None = None) -> RoutingReport:
    """amtool check-config on the routed services merged into `base` (a minimal one by
    default), `amtool config routes test` for each distinct label set every alert fires
    with, and the inhibit rules judged on those alerts."""
    from mcgen.routing import amtool, merge
    from mcgen.routing import proof as routeproof
    from mcgen.rules import rules_document
    from mcgen.text import yamlout
    routed = [s for s in model.services if s.routing is not None]
    config = merge.merge(base or merge.MINIMAL_BASE, list(model.services), "the base")
    report = RoutingReport()
    labels = {s.name: fired_labels(s, model, files) for s in routed}
    for svc in routed:
        fired = {lb["alertname"] for lb in labels[svc.name]}
        names = {r["alert"] for g in rules_document(svc, model)["groups"] for r in g["rules"]
                 if "alert" in r}
        report.problems += [f"{svc.source}: alert {name} fires in no generated test, so its "
                            "routing is not proven" for name in sorted(names - fired)]
    report.problems += routeproof.inhibition_problems(routed, config, labels)
    cases = [c for s in routed for c in routeproof.cases(s, labels[s.name])]
    with tempfile.TemporaryDirectory(prefix="mcgen-alertmanager-") as tmp:
        path = Path(tmp) / "alertmanager.yml"
        path.write_text(yamlout.dump(config), encoding="utf-8")
        report.config = amtool.check_config(path, "alertmanager (merged)")
        if report.config.ok:
            report.routes = list(amtool.route_tests(path, cases))
    return report


def alertmanager(paths: list[Path] | None, base: Path, env: str | None = None) -> str:
    """The complete Alertmanager config: `base` with every routed service merged in."""
    from mcgen.routing import merge
    from mcgen.text import yamlout
    model = validate(paths, env)
    if not any(s.routing is not None for s in model.services):
        raise UsageError(f"no spec under {', '.join(map(str, paths or [DEFAULT_SPECS]))} has "
                         "`routing:`; add one (README, \"Alert routing\")")
    config = merge.merge(merge.load_base(base), list(model.services), str(base))
    specs = ", ".join(sorted(s.source for s in model.services if s.routing is not None))
    head = (f"# Generated by mcgen from {base} and {specs}. Do not edit by hand:\n"
            "# change them and run `mcgen alertmanager`.\n")
    return head + yamlout.dump(config)


def _orphans(out: Path, files: dict[str, str], sources: set[str]) -> list[tuple[str, str]]:
    """Generated files in `out` that no spec produces any more: their spec is gone, or
    it was part of this run and produced other files (the service was renamed)."""
    found = []
    patterns = ("prometheus/*.yml", "grafana/*.json", "grafana/provisioning/*.yaml",
                "stubs/python/*.py", "stubs/typescript/*.ts", "stubs/go/*/metrics.go",
                "docs/*.md", "alertmanager/*.yml", "kubernetes/*.yaml", "mimir/*.yml",
                "grafana/*.dashboard.yaml")
    for path in sorted(p for pattern in patterns for p in out.glob(pattern)):
        rel = path.relative_to(out).as_posix()
        if rel in files or path.name.startswith(write.TEMP_PREFIX):
            continue  # ours, or staged by an interrupted run (the next generate removes it)
        spec = _generated_from(path)
        if spec is None:
            continue
        spec_path = _repo_root(out) / spec
        if spec in sources or not spec_path.exists():
            found.append((rel, spec))
    return found


def _generated_from(path: Path) -> str | None:
    """The spec a generated file names: in its first line, or for a dashboard (JSON has no
    comments) on the last line of its description."""
    with path.open(encoding="utf-8", errors="replace") as handle:
        if path.suffix != ".json":
            return header_source(handle.readline())
        try:
            description = json.load(handle).get("description", "")
        except (ValueError, AttributeError):
            return None
    return header_source(str(description).splitlines()[-1]) if description else None


def _repo_root(out: Path) -> Path:
    full = out.resolve()
    return next((p for p in full.parents if (p / ".git").exists()), Path.cwd())


def test(out: Path = DEFAULT_OUT, show: ShowRun = lambda run: None,
         paths: list[Path] | None = None) -> list[promtool.FileRun]:
    """Run the generated promtool tests under `out`, a file at a time on every core: those
    of the specs under `paths`, or (None) every one there."""
    _, tests = _rules_and_tests(out)
    if paths is not None:
        from mcgen.conventions import tests_path
        wanted = [(out / tests_path(s.name)).resolve() for s in validate(paths).services]
        missing = [p for p in wanted if not p.is_file()]
        if missing:
            raise UsageError("\n".join(f"{_shown(p, out)}: missing; run `mcgen generate` "
                                       "first, or give --out" for p in missing))
        tests = sorted(wanted)
    if not tests:
        raise UsageError(f"{out / 'prometheus'}: no promtool tests (*.test.yml) there; "
                         "run `mcgen generate` first, or give --out")
    runs = []
    for run in promtool.run_each("test", [(p, _shown(p, out)) for p in tests], out.resolve()):
        runs.append(run)
        show(run)
    return runs


def _shown(path: Path, out: Path) -> str:
    """`generated/prometheus/x.test.yml`: the file under `out` as the user named `out`."""
    return str(out / path.relative_to(out.resolve()))


def push(paths: list[Path] | None = None, out: Path = DEFAULT_OUT, env: str | None = None, *,
         url: str | None = None, dry_run: bool = False, message: str | None = None,
         insecure: bool = False, timeout: float = 10.0,
         show: pushing.Show = lambda line, ok: None) -> pushing.Report:
    """Import the dashboards committed under `out` into Grafana (URL from `url` or
    GRAFANA_URL, token from GRAFANA_TOKEN). Usage errors (no URL or token, a stale or
    missing dashboard file) are raised before any request; `show` gets a line per
    dashboard as it goes."""
    from mcgen.dashboards import grafana
    where = grafana.target(url, insecure, timeout)
    dashboards = pushing.committed(validate(paths, env), out)
    return pushing.run(dashboards, where, dry_run=dry_run, message=message, show=show)


def lint_inputs(paths: list[Path]) -> tuple[list[Path], list[Path], list[tuple[Path, str]]]:
    """Split PATHS into spec files and Prometheus rule files (a mapping with `groups`, or
    a PrometheusRule resource), file by file and, in a bundle, document by document;
    folders are searched for *.yaml and *.yml. The third list holds what is neither, with
    why: promtool test files, empty files, other YAML (Kubernetes manifests...)."""
    specs: list[Path] = []
    rules: list[Path] = []
    other: list[tuple[Path, str]] = []
    for path in paths:
        if not path.exists():
            raise UsageError(f"{path}: no such file or folder; give spec or rule files")
        files = sorted([*path.rglob("*.yaml"), *path.rglob("*.yml")]) if path.is_dir() \
            else [path]
        for file in files:
            docs = _top_keys(file)
            if docs is None:
                specs.append(file)  # unreadable as YAML: validation says where and why
            elif any("groups" in d or d.get("kind") == "PrometheusRule" for d in docs):
                rules.append(file)
            elif any({"version", "service"} & set(d) or "metrics" in d for d in docs):
                specs.append(file)
            elif any({"rule_files", "tests"} <= set(d) for d in docs):
                other.append((file, "a promtool test file"))
            elif not any(docs):  # no document, `null`, `{}`
                other.append((file, "empty"))
            else:
                kinds = sorted({str(d.get("kind")) for d in docs if d.get("kind")})
                what = f"Kubernetes {', '.join(kinds)}" if kinds else "YAML of another kind"
                other.append((file, f"{what}, not a spec or rule file"))
    return specs, rules, other


def _top_keys(file: Path) -> list[dict[str, str | None]] | None:
    """The top-level keys (and plain values) of each mapping document of a YAML file (a
    bundle of resources holds several; `null` and `{}` documents none), composed but not
    constructed; None when it cannot be read as YAML (validation then says where and why:
    a value no tag can read, an alias bomb, a huge file)."""
    import yaml

    from mcgen.spec.load import MAX_FILE_BYTES
    try:
        if not file.is_file() or file.stat().st_size > MAX_FILE_BYTES:
            return None  # /dev/zero, a named pipe: never read
        nodes = list(yaml.compose_all(file.read_text(encoding="utf-8"),
                                      Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))
    except (yaml.YAMLError, OSError, UnicodeDecodeError, RecursionError):
        return None
    return [{str(k.value): v.value if isinstance(v, yaml.ScalarNode) else None
             for k, v in node.value if isinstance(k, yaml.ScalarNode)}
            for node in nodes if isinstance(node, yaml.MappingNode)]


def lint(paths: list[Path] | None = None, env: str | None = None,
         config_path: Path | None = None, prometheus: str | None = None
         ) -> tuple[list[Any], Any]:
    """Lint findings of specs and rule files, filtered by mcgen.toml and inline disables,
    and the configuration used; with `prometheus` (a URL), also against its series and
    metadata. Spec errors raise SpecError as in validate()."""
    from mcgen.lint import Context, load_rules
    from mcgen.lint import run as lintrun
    cfg = lintrun.config(config_path or lintrun.CONFIG_FILE)
    specs, rule_paths, skipped = lint_inputs(paths or [DEFAULT_SPECS])
    model = validate(specs, env) if specs else None
    if model is None and rule_paths and DEFAULT_SPECS.exists():
        model = validate([DEFAULT_SPECS], env)  # to know which metric names exist
    files: tuple[Any, ...] = ()
    if rule_paths:
        from mcgen.lint import rulefiles
        files = tuple(rulefiles.load(rule_paths))
    from mcgen.spec.validate import shown
    server = None
    if prometheus is not None:
        from mcgen.lint.online import Server
        server = Server(prometheus)
        server.get("/api/v1/status/buildinfo")  # unreachable: one error before any rule
    ctx = Context(model if specs or rule_paths else None, files, cfg,
                  tuple((shown(p), why) for p, why in skipped), server)
    findings: list[Any] = []
    for r in load_rules().values():
        if (r.kind == "spec" and specs) or (r.kind == "rules" and files) or r.kind == "input" \
                or (r.kind == "online" and server is not None):
            findings.extend(r.check(ctx, r))
    if specs:
        findings = lintrun.by_spec(findings, model)
    return lintrun.keep(findings, cfg), cfg
