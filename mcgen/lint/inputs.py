"""What `mcgen lint` was given but does not lint: a folder is classified file by file
(mcgen/api.py's lint_inputs), and a file that is neither a spec nor a rule file (a
Kubernetes manifest, a promtool test, any other YAML) is skipped with an info finding,
so that a manifests folder is linted for its PrometheusRules and nothing fails on the rest.
Empty files (`null`, `{}`, no document) and promtool test files, the usual company of rule
files, are skipped silently."""

from __future__ import annotations

from collections.abc import Iterator

from mcgen.errors import Position
from mcgen.lint import Context, Finding, Rule, rule

SILENT = ("empty", "a promtool test file")  # what mcgen/api.py's lint_inputs calls them


@rule("input/skipped", "info", "Files that are neither specs nor rule files are skipped",
      kind="input")
def skipped(ctx: Context, rule: Rule) -> Iterator[Finding]:
    """A YAML file among the inputs holds no spec (`version`, `service`, `metrics`), no
    rule groups and no PrometheusRule: a Deployment, a ServiceMonitor, a promtool test
    file, a values file. It is not linted; the finding says what it was taken for, so a
    spec or rule file that was not recognised (a misspelt top-level key) can be told from
    the rest."""
    for path, why in ctx.skipped:
        if why not in SILENT:
            yield rule.finding(Position(path, 1, 1), f"not linted: {why}",
                               "nothing to do if that is what it is")
