"""The outputs, by name: each is a package with `render(service, model) -> {relative path:
text}` that raises SpecError for what it cannot render (the rules file, the generated
tests, the dashboards and their provisioning files, the stubs, the catalog).

Adding an output is one package plus one entry in TARGETS (README, "Architecture").
Services render independently, so a large run renders them on every core
(mcgen/parallel.py).
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module

from mcgen.errors import SpecError, SpecProblem
from mcgen.parallel import map_ordered
from mcgen.spec.model import Model, Service

TARGETS: dict[str, str] = {
    "rules": "mcgen.rules",
    "tests": "mcgen.proof",
    "dashboards": "mcgen.dashboards",
    "stubs": "mcgen.stubs",
    "docs": "mcgen.catalog",
}

Renderer = Callable[[Service, Model], dict[str, str]]


def renderer(name: str) -> Renderer:
    render: Renderer = import_module(TARGETS[name]).render
    return render


def _service(job: tuple[Service, Model]) -> tuple[dict[str, str], list[SpecProblem]]:
    svc, model = job
    files: dict[str, str] = {}
    problems: list[SpecProblem] = []
    for name in TARGETS:
        try:
            files.update(renderer(name)(svc, model))
        except SpecError as exc:
            problems.extend(exc.problems)
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
