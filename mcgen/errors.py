"""The one small family of errors mcgen raises, and how they print."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class McgenError(Exception):
    """Base of every error mcgen reports to users (never a traceback)."""

    exit_code = 2


@dataclass(frozen=True, order=True)
class Position:
    path: str
    line: int  # 1-based
    col: int  # 1-based

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"


@dataclass(frozen=True, order=True)
class SpecProblem:
    """One mistake in a spec: where, what is wrong, what to do."""

    pos: Position
    message: str
    hint: str

    def __str__(self) -> str:
        return f"{self.pos}: {self.message}; {self.hint}"


class SpecError(McgenError):
    """All problems found in the specs of one run, reported together."""

    def __init__(self, problems: list[SpecProblem]) -> None:
        self.problems = sorted(set(problems))
        super().__init__("\n".join(str(p) for p in self.problems))


class UsageError(McgenError):
    """The command line is wrong (bad option, missing path, unknown environment)."""


class ToolError(McgenError):
    """An external tool (promtool) is missing or failed to run."""

    exit_code = 2


class RemoteError(McgenError):
    """A remote service (Grafana) cannot be used at all: unreachable, or it refuses the
    credentials. The run found a problem rather than being called wrongly, hence 1."""

    exit_code = 1


def shorten(value: object, limit: int = 40) -> str:
    """A value for an error message: never huge, never multi-line."""
    text = repr(value).replace("\n", "\\n")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def choices(values: Sequence[str], limit: int = 8) -> str:
    """Allowed values for a hint: quoted when needed, a few at most, on one line."""
    shown = [v if v.isidentifier() else shorten(v, 30) for v in values[:limit]]
    more = f" (and {len(values) - limit} more)" if len(values) > limit else ""
    return ", ".join(shown) + more
