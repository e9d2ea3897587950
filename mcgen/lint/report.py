"""Reporters of lint findings, chosen by name: text (one line each), json, github
(workflow commands that GitHub shows as annotations on the diff)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from mcgen.lint import Finding
from mcgen.spec.validate import repo_relative

FORMATS = ("text", "json", "github")
_GITHUB_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


def text(findings: Sequence[Finding]) -> str:
    """One line per finding, then the counts by severity and, for more than one rule,
    by rule id (most first): what to fix or disable first."""
    counts = Counter(f.severity for f in findings)
    summary = ", ".join(f"{counts[s]} {s}" for s in ("error", "warning", "info") if counts[s])
    lines = [str(f) for f in findings]
    lines.append(f"{len(findings)} finding(s){': ' + summary if summary else ''}")
    rules = Counter(f.rule for f in findings)
    if len(rules) > 1:
        ranked = sorted(rules.items(), key=lambda item: (-item[1], item[0]))
        lines.append("by rule: " + ", ".join(f"{rule} {n}" for rule, n in ranked))
    return "\n".join(lines)


def as_json(findings: Sequence[Finding]) -> str:
    return json.dumps([{"path": f.pos.path, "line": f.pos.line, "column": f.pos.col,
                        "rule": f.rule, "severity": f.severity, "message": f.message,
                        "hint": f.hint} for f in findings], indent=2, ensure_ascii=False)


def _escape(value: str, prop: bool = False) -> str:
    """GitHub's workflow-command escaping (data: % CR LF; properties also : and ,)."""
    out = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return out.replace(":", "%3A").replace(",", "%2C") if prop else out


def github(findings: Sequence[Finding]) -> str:
    """GitHub places an annotation by the file's path from the repository's root."""
    return "\n".join(
        f"::{_GITHUB_LEVEL[f.severity]} file={_escape(_from_root(f.pos.path), True)},"
        f"line={f.pos.line},"
        f"col={f.pos.col},title={_escape(f.rule, True)}::{_escape(f'{f.message}; {f.hint}')}"
        for f in findings)


def _from_root(path: str) -> str:
    return repo_relative(Path(path)) if Path(path).exists() else path


def render(findings: Sequence[Finding], fmt: str) -> str:
    return {"text": text, "json": as_json, "github": github}[fmt](findings)
