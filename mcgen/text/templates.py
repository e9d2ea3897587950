"""The Jinja templates under templates/ (installed as mcgen.templates), each compiled once
per process. Templates get user strings only through the filters their caller passes
(quoting for a language, Markdown escaping), never pasted raw."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from importlib import resources
from typing import Any


def render_template(name: str, filters: dict[str, Callable[..., str]], **context: Any) -> str:
    text: str = _compiled(name, tuple(sorted(filters.items()))).render(**context)
    return text


@lru_cache(maxsize=32)
def _compiled(name: str, filters: tuple[tuple[str, Callable[..., str]], ...]) -> Any:
    """A template compiled once per process (per name and set of filters)."""
    import jinja2

    source = resources.files("mcgen.templates").joinpath(name).read_text("utf-8")
    env = jinja2.Environment(keep_trailing_newline=True, undefined=jinja2.StrictUndefined,
                             autoescape=False, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(dict(filters))
    return env.from_string(source)
