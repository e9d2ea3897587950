"""`mcgen lint`: specs that validate but will hurt, and hand-written rule files.

A rule is a function registered with `@rule(...)` under a stable id (`category/name`),
a default severity and a one-line summary; its docstring explains it in the generated
catalogue (docs/lint-rules.md). Spec rules take the validated model, rule-file rules the
parsed files. Findings are values, collected for the whole run, filtered by the
configuration (mcgen.toml) and by inline `# mcgen: disable=RULE` comments, and printed
by a reporter (mcgen/lint/report.py).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from mcgen.errors import Position

SEVERITIES = ("info", "warning", "error")


@dataclass(frozen=True, order=True)
class Finding:
    pos: Position
    rule: str
    severity: str
    message: str
    hint: str

    def __str__(self) -> str:
        return f"{self.pos}: {self.severity}: {self.message}; {self.hint} [{self.rule}]"


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    summary: str
    doc: str
    kind: str  # spec | rules | input (what was given but not linted) | online
    check: Callable[..., Iterable[Finding]]

    def finding(self, pos: Position, message: str, hint: str) -> Finding:
        return Finding(pos, self.id, self.severity, message, hint)


RULES: dict[str, Rule] = {}


def rule(rule_id: str, severity: str, summary: str, kind: str = "spec"
         ) -> Callable[[Callable[..., Iterable[Finding]]], Callable[..., Iterable[Finding]]]:
    """Register a check. It is called with (ctx, rule) and yields findings."""
    assert severity in SEVERITIES and kind in ("spec", "rules", "input", "online"), \
        (severity, kind)

    def register(check: Callable[..., Iterable[Finding]]) -> Callable[..., Iterable[Finding]]:
        assert rule_id not in RULES, f"rule {rule_id} registered twice"
        RULES[rule_id] = Rule(rule_id, severity, summary, inspect.getdoc(check) or "", kind,
                              check)
        return check
    return register


@dataclass
class Config:
    """The [lint] table of mcgen.toml, with defaults."""

    disable: frozenset[str] = frozenset()
    fail_on: str = "warning"
    series_budget: int = 10_000  # worst-case series per service
    metric_series_budget: int = 2_000  # worst-case series per metric
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Context:
    """What rules see: the validated specs (None when only rule files were given: then
    the default specs/ if it validates), the rule files to lint (their parsed form is the
    business of mcgen/lint/rulefiles.py), and the configuration."""

    model: Any  # mcgen.spec.model.Model | None
    rule_files: tuple[Any, ...]
    config: Config
    skipped: tuple[tuple[str, str], ...] = ()  # (file shown, what it is) not linted
    prometheus: Any = None  # mcgen.lint.online.Server with --prometheus URL


def load_rules() -> dict[str, Rule]:
    """Every rule, registered by importing the modules that define them."""
    from importlib import import_module
    for module in _MODULES:
        import_module(module)
    return dict(sorted(RULES.items()))


# Modules that define rules; adding a module is one entry here.
_MODULES: list[str] = ["mcgen.lint.promqlrules", "mcgen.lint.rulehygiene",
                       "mcgen.lint.naming", "mcgen.lint.buckets", "mcgen.lint.grading",
                       "mcgen.lint.cardinality", "mcgen.lint.alerts", "mcgen.lint.inputs",
                       "mcgen.lint.rulefmt", "mcgen.lint.alertlogic", "mcgen.lint.online"]
