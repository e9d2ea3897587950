"""The outputs, by name: each is a package with `render(service, model) -> {relative path:
text}` that raises SpecError for what it cannot render (the rules file, the generated
tests, the dashboards and their provisioning files, the stubs, the catalog).

Adding an output is one package plus one entry in TARGETS (README, "Architecture").
Services render independently, so a large run renders them on every core
(mcgen/parallel.py).
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from importlib import import_module
from pathlib import Path

from mcgen.errors import SpecError, SpecProblem, UsageError
from mcgen.parallel import map_ordered
from mcgen.spec.model import Model, Service

TARGETS: dict[str, str] = {
    "rules": "mcgen.rules",
    "tests": "mcgen.proof",
    "dashboards": "mcgen.dashboards",
    "stubs": "mcgen.stubs",
    "docs": "mcgen.catalog",
}

# Optional targets (SPEC 6): rendered when mcgen.toml's [generate] targets names them.
OPTIONAL: dict[str, str] = {
    "grafana-resource": "mcgen.dashboards.resource",
}
CONFIG_FILE = Path("mcgen.toml")

Renderer = Callable[[Service, Model], dict[str, str]]


def renderer(name: str) -> Renderer:
    render: Renderer = import_module({**TARGETS, **OPTIONAL}[name]).render
    return render


def optional(path: Path = CONFIG_FILE) -> tuple[str, ...]:
    """The optional targets mcgen.toml (in the working folder) names in [generate] targets."""
    if not path.exists():
        return ()
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8")).get("generate", {})
    except (tomllib.TOMLDecodeError, OSError) as exc:
        raise UsageError(f"{path}: cannot read it ({exc}); fix the TOML") from exc
    named = table.get("targets", []) if isinstance(table, dict) else None
    if not isinstance(named, list) or not all(isinstance(n, str) for n in named):
        raise UsageError(f"{path}: [generate] targets must be a list of target names")
    known = ["rules", "tests", "dashboards", "provisioning", "stubs", "docs", *OPTIONAL]
    unknown = [n for n in named if n not in known]
    if unknown:
        raise UsageError(f"{path}: [generate] targets names unknown targets "
                         f"{', '.join(unknown)}; known: {', '.join(known)}")
    return tuple(n for n in OPTIONAL if n in named)


def _service(job: tuple[Service, Model, tuple[str, ...]]
             ) -> tuple[dict[str, str], list[SpecProblem]]:
    svc, model, extra = job
    files: dict[str, str] = {}
    problems: list[SpecProblem] = []
    for name in (*TARGETS, *extra):
        try:
            files.update(renderer(name)(svc, model))
        except SpecError as exc:
            problems.extend(exc.problems)
    return files, problems


def render_all(model: Model) -> dict[str, str]:
    extra = optional()
    results = map_ordered(_service, [(svc, model, extra) for svc in model.services])
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
