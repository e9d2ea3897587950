"""Output targets. Each is a module with `render(service, model) -> {relative path: text}`
that raises SpecError for what it cannot render.

Adding a target is one module plus one entry in TARGETS. Services render independently,
so a large run uses every core (forked workers); results are gathered in service order,
so the output does not depend on it. MCGEN_JOBS=1 renders in-process.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from importlib import import_module

from mcgen.errors import SpecError, SpecProblem
from mcgen.spec.model import Model, Service

TARGETS: dict[str, str] = {
    "rules": "mcgen.targets.rules",
    "tests": "mcgen.targets.promtool_tests",
}

Renderer = Callable[[Service, Model], dict[str, str]]
_PARALLEL_FROM = 16  # services; below this, starting workers costs more than it saves
_MODEL: Model | None = None  # what forked workers render from (inherited, not pickled)


def renderer(name: str) -> Renderer:
    render: Renderer = import_module(TARGETS[name]).render
    return render


def _service(index: int) -> tuple[dict[str, str], list[SpecProblem]]:
    assert _MODEL is not None
    svc = _MODEL.services[index]
    files: dict[str, str] = {}
    problems: list[SpecProblem] = []
    for name in TARGETS:
        try:
            files.update(renderer(name)(svc, _MODEL))
        except SpecError as exc:
            problems.extend(exc.problems)
    return files, problems


def _jobs(count: int) -> int:
    wanted = os.environ.get("MCGEN_JOBS")
    if wanted and wanted.isdigit():
        return max(1, int(wanted))
    if count < _PARALLEL_FROM or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return min(os.cpu_count() or 1, 8)


def render_all(model: Model) -> dict[str, str]:
    global _MODEL
    _MODEL = model
    indexes = range(len(model.services))
    jobs = _jobs(len(indexes))
    try:
        if jobs > 1:
            context = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(jobs, mp_context=context) as pool:
                results = list(pool.map(_service, indexes, chunksize=4))
        else:
            results = [_service(i) for i in indexes]
    finally:
        _MODEL = None
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
