"""`mcgen init`: a commented starter spec that validates as written."""

from __future__ import annotations

import os
import re
from importlib import resources
from pathlib import Path

from mcgen import conventions
from mcgen.errors import UsageError

SCHEMA_FILE = "mcgen.schema.json"  # where README tells users to write `mcgen schema`


def text(service: str, schema: str = f"../{SCHEMA_FILE}") -> str:
    """The starter spec; `schema` is the JSON Schema's path relative to the spec, for the
    yaml-language-server modeline on its first line."""
    import jinja2

    if not re.fullmatch(r"[a-z][a-z0-9_]*", service):
        raise UsageError(f"service name {service!r} must match ^[a-z][a-z0-9_]*$; "
                         "use lowercase letters, digits and _")
    source = resources.files("mcgen.templates").joinpath("starter.yaml.j2").read_text("utf-8")
    env = jinja2.Environment(keep_trailing_newline=True, undefined=jinja2.StrictUndefined,
                             autoescape=False)
    return env.from_string(source).render(service=service, camel=conventions.camel(service),
                                          schema=schema)


def write(service: str, path: Path | None) -> Path:
    target = path or Path("specs") / f"{service}.yaml"
    if target.exists():
        raise UsageError(f"{target} already exists; choose another --path or remove it")
    schema = os.path.relpath(SCHEMA_FILE, target.parent if str(target.parent) else ".")
    body = text(service, Path(schema).as_posix())
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{target}: cannot write ({exc.strerror}); choose another --path") \
            from exc
    return target
