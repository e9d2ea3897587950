"""Output targets. Each is a module with `render(model) -> {relative path: text}`.

Adding a target is one module plus one entry in TARGETS.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module

from mcgen.spec.model import Model

TARGETS: dict[str, str] = {
    "rules": "mcgen.targets.rules",
    "tests": "mcgen.targets.promtool_tests",
}


def renderer(name: str) -> Callable[[Model], dict[str, str]]:
    module = import_module(TARGETS[name])
    render: Callable[[Model], dict[str, str]] = module.render
    return render


def render_all(model: Model) -> dict[str, str]:
    files: dict[str, str] = {}
    for name in TARGETS:
        for path, text in renderer(name)(model).items():
            if path in files:
                raise AssertionError(f"two targets write {path}")
            files[path] = text
    return dict(sorted(files.items()))
