"""The stubs: stubs/<language>/, instrumentation code for every language of SPEC 9.

What every language's stub needs to know about a service is computed once (common.py);
each language has a module here (python.py, typescript.py, go.py: naming and quoting for
that language, the template's context) and a template under templates/.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module

from mcgen import conventions
from mcgen.spec.model import Model, Service

# language -> (module with `render(service) -> str`, output path for a service)
LANGUAGES: dict[str, tuple[str, Callable[[str], str]]] = {
    "python": ("mcgen.stubs.python", conventions.python_stub_path),
    "typescript": ("mcgen.stubs.typescript", conventions.typescript_stub_path),
    "go": ("mcgen.stubs.go", conventions.go_stub_path),
}


def render(svc: Service, model: Model) -> dict[str, str]:
    """Every language's stub, or none when every metric is an exporter's (`external`)."""
    if all(m.external for m in svc.metrics):
        return {}
    out = {}
    for module, path in LANGUAGES.values():
        out[path(svc.name)] = import_module(module).render(svc)
    return out
