"""The state of building one service from one document: the document's data, its
defaults, where each node is written, and the problems found so far (every check
reports through `error`, and the run goes on). The service itself is built by
mcgen/spec/semantics.py; the checks of matchers, bounds and SLOs take this builder."""

from __future__ import annotations

from typing import Any

from mcgen.errors import Position, SpecProblem, shorten
from mcgen.promql import Duration, Matcher
from mcgen.spec.load import Document, JsonPath


class Builder:
    """One document being built into a service, for one environment."""

    def __init__(self, doc: Document, env: str | None, problems: list[SpecProblem],
                 keep: tuple[str, ...] = ()) -> None:
        self.doc = doc
        self.env = env
        # mcgen.toml's [generate] keep_labels: target labels every aggregation keeps.
        self.keep = keep
        self.problems = problems
        self.data: dict[str, Any] = doc.data
        defaults = self.data.get("defaults", {})
        self.window = self.duration(defaults.get("rate_window", "5m"), ("defaults", "rate_window"))
        self.for_ = self.duration(defaults.get("for", "5m"), ("defaults", "for"))
        self.severity: str = defaults.get("severity", "warning")
        self.scrape = self.duration(defaults.get("scrape_interval", "1m"),
                                    ("defaults", "scrape_interval"))
        self.service_selector: tuple[Matcher, ...] = ()  # parsed by ServiceBuilder.service()

    # -- reporting -----------------------------------------------------------------
    def pos(self, path: JsonPath, key: bool = False) -> Position:
        return self.doc.pos(path, key)

    def error(self, path: JsonPath, message: str, hint: str, key: bool = False) -> None:
        where = f" (environment '{self.env}')" if self.env and path and path[0] == "environments" \
            else ""
        self.problems.append(SpecProblem(self.pos(path, key), message + where, hint))

    def duration(self, text: str, path: JsonPath) -> Duration:
        try:
            value = Duration.parse(text)
        except ValueError:
            self.error(path, f"{shorten(text)} is not a valid duration",
                       "write units largest first, each once, like 1h30m")
            return Duration(300_000)
        if value.ms <= 0:
            self.error(path, f"duration {text} must be positive", "use a duration above 0s")
            return Duration(300_000)
        return value
