"""`mcgen init`: a commented starter spec that validates as written."""

from __future__ import annotations

import os
import re
from importlib import resources
from pathlib import Path

from mcgen.errors import UsageError
from mcgen.spec import names

SCHEMA_FILE = "mcgen.schema.json"  # where README tells users to write `mcgen schema`


def check_service(service: str) -> None:
    if not re.fullmatch(r"[a-z][a-z0-9_]*", service):
        raise UsageError(f"service name {service!r} must match ^[a-z][a-z0-9_]*$; "
                         "use lowercase letters, digits and _")


def text(service: str, schema: str = f"../{SCHEMA_FILE}") -> str:
    """The starter spec; `schema` is the JSON Schema's path relative to the spec, for the
    yaml-language-server modeline on its first line."""
    import jinja2

    check_service(service)
    source = resources.files("mcgen.templates").joinpath("starter.yaml.j2").read_text("utf-8")
    env = jinja2.Environment(keep_trailing_newline=True, undefined=jinja2.StrictUndefined,
                             autoescape=False)
    return env.from_string(source).render(service=service, camel=names.camel(service),
                                          schema=schema)


def target(service: str, path: Path | None) -> Path:
    """Where the spec goes: `path`, or specs/<service>.yaml; it must not exist yet."""
    where = path or Path("specs") / f"{service}.yaml"
    if where.exists():
        raise UsageError(f"{where} already exists; choose another --path or remove it")
    return where


def schema_ref(where: Path) -> str:
    """The schema file's path relative to the spec at `where`, for the modeline."""
    return Path(os.path.relpath(SCHEMA_FILE, where.parent if str(where.parent) else ".")
                ).as_posix()


def save(where: Path, body: str) -> None:
    try:
        where.parent.mkdir(parents=True, exist_ok=True)
        where.write_text(body, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{where}: cannot write ({exc.strerror}); choose another --path") \
            from exc


def write(service: str, path: Path | None) -> Path:
    where = target(service, path)
    save(where, text(service, schema_ref(where)))
    return where
