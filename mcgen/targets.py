"""The outputs, by name: each is a function `render(service, model) -> {relative path:
text}` that raises SpecError for what it cannot render (the rules file, the generated
tests, the dashboards and their provisioning files, the stubs, the catalog, and the
optional targets: the PrometheusRule and Mimir wrappings of the rules, the Alertmanager
routing).

Which are written is mcgen.toml's `[generate] targets` (SPEC 6; mcgen/spec/settings.py),
by default DEFAULT_TARGETS. Adding an output is one package plus one entry in TARGETS
(README, "Architecture"). Services render independently, so a large run renders them on
every core (mcgen/parallel.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module

from mcgen import conventions
from mcgen.errors import SpecError, SpecProblem
from mcgen.parallel import map_ordered
from mcgen.spec.model import Model, Service

Renderer = Callable[[Service, Model], dict[str, str]]


def _everything(path: str) -> bool:
    return True


def _provisioning(path: str) -> bool:
    return path.startswith(conventions.provisioning_path("x").rsplit("/", 1)[0] + "/")


def _not_provisioning(path: str) -> bool:
    return not _provisioning(path)


@dataclass(frozen=True)
class Target:
    module: str
    function: str = "render"
    keeps: Callable[[str], bool] = _everything  # of the files its function renders


TARGETS: dict[str, Target] = {
    "rules": Target("mcgen.rules"),
    "tests": Target("mcgen.proof"),
    "dashboards": Target("mcgen.dashboards", keeps=_not_provisioning),
    "provisioning": Target("mcgen.dashboards", keeps=_provisioning),
    "stubs": Target("mcgen.stubs"),
    "docs": Target("mcgen.catalog"),
    "prometheusrule": Target("mcgen.rules.engines", "render_prometheusrule"),
    "mimir": Target("mcgen.rules.engines", "render_mimir"),
    "alertmanager": Target("mcgen.routing"),
    "grafana-resource": Target("mcgen.dashboards.resource"),
}


def renderer(name: str) -> Renderer:
    target = TARGETS[name]
    render: Renderer = getattr(import_module(target.module), target.function)
    return render


def _service(job: tuple[Service, Model]) -> tuple[dict[str, str], list[SpecProblem]]:
    svc, model = job
    files: dict[str, str] = {}
    problems: list[SpecProblem] = []
    rendered: dict[tuple[str, str], dict[str, str]] = {}  # one call per function
    for name in model.settings.targets:
        target = TARGETS[name]
        key = (target.module, target.function)
        try:
            if key not in rendered:
                rendered[key] = renderer(name)(svc, model)
        except SpecError as exc:
            rendered[key] = {}
            problems.extend(exc.problems)
        files.update({p: t for p, t in rendered[key].items() if target.keeps(p)})
    return files, problems


def render_all(model: Model) -> dict[str, str]:
    for name in TARGETS:  # imported once, before any worker is forked, not once in each
        renderer(name)
    results = map_ordered(_service, [(svc, model) for svc in model.services])
    files: dict[str, str] = {}
    problems: list[SpecProblem] = []
    for found, trouble in results:
        for path in found:
            if path in files:
                raise AssertionError(f"two targets write {path}")
        files.update(found)
        problems.extend(trouble)
    if problems:
        raise SpecError(problems)
    return dict(sorted(files.items()))
