"""`mcgen init`: a commented starter spec that validates as written."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from mcgen import conventions
from mcgen.errors import UsageError


def text(service: str) -> str:
    import jinja2

    if not re.fullmatch(r"[a-z][a-z0-9_]*", service):
        raise UsageError(f"service name {service!r} must match ^[a-z][a-z0-9_]*$; "
                         "use lowercase letters, digits and _")
    source = resources.files("mcgen.templates").joinpath("starter.yaml.j2").read_text("utf-8")
    env = jinja2.Environment(keep_trailing_newline=True, undefined=jinja2.StrictUndefined,
                             autoescape=False)
    return env.from_string(source).render(service=service, camel=conventions.camel(service))


def write(service: str, path: Path | None) -> Path:
    target = path or Path("specs") / f"{service}.yaml"
    if target.exists():
        raise UsageError(f"{target} already exists; choose another --path or remove it")
    body = text(service)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{target}: cannot write ({exc.strerror}); choose another --path") \
            from exc
    return target
