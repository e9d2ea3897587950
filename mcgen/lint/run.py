"""Running the lint rules: which inputs are specs and which rule files, the
configuration, inline disables, and the order of findings."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from mcgen.errors import UsageError
from mcgen.lint import SEVERITIES, Config, Finding, load_rules

CONFIG_FILE = Path("mcgen.toml")
# The rule ids, then anything (a reason): `# mcgen: disable=a/b,c/d -- why`.
_DISABLE_RE = re.compile(r"#\s*mcgen:\s*disable=([\w/\-]+(?:\s*,\s*[\w/\-]+)*)")


def config(path: Path = CONFIG_FILE) -> Config:
    """The [lint] table of mcgen.toml (in the working directory), or the defaults."""
    if not path.exists():
        return Config()
    try:
        table: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8")).get("lint", {})
    except (tomllib.TOMLDecodeError, OSError) as exc:
        raise UsageError(f"{path}: cannot read it ({exc}); fix the TOML") from exc
    known = set(load_rules())
    disable = table.get("disable", [])
    unknown = [r for r in disable if r not in known]
    if unknown:
        raise UsageError(f"{path}: [lint] disable names unknown rules {', '.join(unknown)}; "
                         "`docs/lint-rules.md` lists them")
    fail_on = table.get("fail_on", "warning")
    if fail_on not in SEVERITIES:
        raise UsageError(f"{path}: [lint] fail_on must be one of {', '.join(SEVERITIES)}")
    extra = {k: v for k, v in table.items() if k not in ("disable", "fail_on")}
    out = Config(disable=frozenset(disable), fail_on=fail_on, extra=extra)
    for key in ("series_budget", "metric_series_budget"):
        if key in table:
            if not isinstance(table[key], int) or table[key] < 1:
                raise UsageError(f"{path}: [lint] {key} must be a positive integer")
            setattr(out, key, table[key])
    return out


@lru_cache(maxsize=256)
def _lines(path: str) -> tuple[str, ...]:
    try:
        return tuple(Path(path).read_text(encoding="utf-8").split("\n"))
    except OSError:
        return ()


def disabled_inline(finding: Finding) -> bool:
    """`# mcgen: disable=RULE[,RULE]` on the finding's line or the line above it."""
    lines = _lines(finding.pos.path)
    for index in (finding.pos.line - 1, finding.pos.line - 2):
        if 0 <= index < len(lines):
            found = _DISABLE_RE.search(lines[index])
            if found and finding.rule in {r.strip() for r in found.group(1).split(",")}:
                return True
    return False


def keep(findings: Iterable[Finding], cfg: Config) -> list[Finding]:
    """Findings not disabled in mcgen.toml or inline, deduplicated, in file order."""
    _lines.cache_clear()  # files may have changed since the last run in this process
    return sorted({f for f in findings if f.rule not in cfg.disable and not disabled_inline(f)})


def by_spec(findings: Iterable[Finding], model: Any) -> list[Finding]:
    """Findings not disabled by their spec's `lint: {disable: [...]}`; a rule id there
    that does not exist is a spec error (a typo must not silence nothing)."""
    from mcgen.errors import SpecError, SpecProblem
    known = load_rules()
    off: dict[str, set[str]] = {}
    problems = []
    for svc in model.services if model is not None else ():
        for rule_id, pos in svc.lint.disable:
            if rule_id not in known:
                problems.append(SpecProblem(pos, f"lint.disable names unknown rule '{rule_id}'",
                                            "docs/lint-rules.md lists the rule ids"))
            off.setdefault(svc.pos.path, set()).add(rule_id)
    if problems:
        raise SpecError(problems)
    return [f for f in findings if f.rule not in off.get(f.pos.path, ())]


def fails(findings: Iterable[Finding], cfg: Config, fail_on: str | None = None) -> bool:
    level = SEVERITIES.index(fail_on or cfg.fail_on)
    return any(SEVERITIES.index(f.severity) >= level for f in findings)
