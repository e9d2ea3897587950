"""`mcgen init --preset NAME`: a spec for an exporter everyone runs (node_exporter,
cAdvisor, postgres_exporter, redis_exporter), with the resource alerts SREs expect.

The presets are plain specs under templates/presets/, validated, generated and proven by
the tests like any other; `init` copies one, naming the service as asked.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from mcgen.bootstrap import starter
from mcgen.errors import UsageError


def names() -> list[str]:
    folder = resources.files("mcgen.templates").joinpath("presets")
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir()
                  if p.name.endswith(".yaml"))


def text(preset: str, service: str | None = None, schema: str = "../mcgen.schema.json") -> str:
    """The preset's spec, its service renamed to `service`, with the schema modeline."""
    if preset not in names():
        raise UsageError(f"no preset {preset!r}; choose one of: {', '.join(names())}")
    body = resources.files("mcgen.templates").joinpath("presets", f"{preset}.yaml") \
        .read_text("utf-8")
    if service is not None:
        starter.check_service(service)  # a plain word: safe as a YAML scalar
        body, n = re.subn(rf"(?m)^service: {re.escape(preset)}$", f"service: {service}", body)
        if n != 1:
            raise AssertionError(f"preset {preset} must have one `service: {preset}` line")
    return f"# yaml-language-server: $schema={schema}\n{body}"


def write(preset: str, service: str | None, path: Path | None) -> Path:
    text(preset)  # an unknown preset is refused before anything else
    where = starter.target(service or preset, path)
    starter.save(where, text(preset, service, starter.schema_ref(where)))
    return where
