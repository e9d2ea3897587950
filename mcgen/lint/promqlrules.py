"""Rules on the PromQL of hand-written rule files: the mistakes of our users' seed docs."""

from __future__ import annotations

from collections.abc import Iterator

import promql_parser as pp

from mcgen.lint import Context, Finding, Rule, rule
from mcgen.lint.knownmetrics import Known, known_metrics
from mcgen.lint.promqltext import hyphens, misplaced_by, unbalanced
from mcgen.lint.rulefiles import PromQL, RuleFile
from mcgen.promql.parser import (
    COMPARISONS,
    RATE_FUNCTIONS,
    Node,
    locate,
    metric_name,
    op,
    selectors,
    unwrap,
    walk,
)


def _exprs(ctx: Context) -> Iterator[tuple[RuleFile, PromQL]]:
    for file in ctx.rule_files:
        for entry in file.rules:
            if entry.expr is not None:
                yield file, entry.expr


@rule("promql/by-after-function", "error",
      "`by`/`without` follow an aggregation, not a function", kind="rules")
def by_after_function(ctx: Context, r: Rule) -> Iterator[Finding]:
    """`rate(x[5m]) by (le)` does not parse: only aggregations (`sum`, `max`, ...) take
    `by`/`without`. Write `sum by (le) (rate(x[5m]))`."""
    for _, expr in _exprs(ctx):
        if expr.parsed.error is None:
            continue
        for offset, word, func in misplaced_by(expr.text):
            yield r.finding(expr.at(offset), f"`{word}` after `{func}(...)`, which is not an "
                            "aggregation: the expression does not parse",
                            f"`{word}` belongs to an aggregation, e.g. `sum {word} (...) "
                            f"({func}(...))`")


@rule("promql/parse-error", "error", "Every expr parses as PromQL", kind="rules")
def parse_error(ctx: Context, r: Rule) -> Iterator[Finding]:
    """Every `expr` must parse (with promql-parser, Prometheus' grammar). Prometheus
    refuses to load a file with one invalid expression."""
    for _, expr in _exprs(ctx):
        if expr.parsed.error is None:
            continue
        if any(misplaced_by(expr.text)):
            continue  # reported with a precise cause by the rule above
        if expr.parsed.error.startswith("nested deeper"):
            yield r.finding(expr.at(0), f"PromQL not checked: {expr.parsed.error}",
                            "write the alternatives as recording rules, or as a regex "
                            "matcher (`job=~\"a|b|c\"`) instead of a chain of `or`")
            continue
        hint = "fix the expression (`promtool check rules` points at the same spot)"
        if "holt_winters" in expr.parsed.error:  # renamed in Prometheus 3
            hint = "Prometheus 3 calls it double_exponential_smoothing (experimental)"
        elif any(hyphens(expr.text)):
            hint = "a metric name holds no `-` (see promql/metric-name-hyphen)"
        yield r.finding(expr.at(unbalanced(expr.text)),
                        f"PromQL does not parse: {expr.parsed.error}", hint)


@rule("promql/metric-name-hyphen", "warning",
      "A `-` between two names has spaces around it", kind="rules")
def metric_name_hyphen(ctx: Context, r: Rule) -> Iterator[Finding]:
    """Metric names cannot hold `-`: `foo-bar_total` is read as `foo - bar_total`, a
    subtraction of two series, which is valid PromQL (so a warning, not an error) but
    most often an exporter's hyphenated name copied by mistake: the two series do not
    exist and the rule never yields anything. Write `a - b` when a subtraction is meant."""
    for _, expr in _exprs(ctx):
        for offset, name in hyphens(expr.text):
            yield r.finding(expr.at(offset), f"`{name}` is not a metric name: PromQL reads "
                            f"it as `{name.replace('-', ' - ', 1)}`",
                            f"use `{name.replace('-', '_')}` (and fix the exporter), or put "
                            "spaces around `-` if a subtraction is meant")


def _drops_le(node: Node) -> str | None:
    """Why a histogram_quantile argument has no `le` left, or None. Only classic
    histograms have `le` (a native histogram's argument reads no `_bucket` series); a
    join keeps the labels of its `group_left`/`group_right` side and set operators keep
    their left side's, so only one-to-one matching can lose `le`."""
    if not any(isinstance(sub, pp.VectorSelector) and "bucket" in str(sub.name or "")
               for sub in walk(node)):
        return None
    for sub in walk(node):
        if isinstance(sub, pp.AggregateExpr):
            mod = sub.modifier
            if mod is None:
                return f"`{op(sub)}` without `by` keeps no labels at all"
            if mod.type == pp.AggModifierType.By and "le" not in mod.labels:
                return f"`{op(sub)} by ({', '.join(mod.labels)})` drops `le`"
            if mod.type == pp.AggModifierType.Without and "le" in mod.labels:
                return f"`{op(sub)} without (le)` drops `le`"
            return None  # the outermost aggregation decides
        if isinstance(sub, pp.BinaryExpr) and sub.modifier and sub.modifier.matching \
                and sub.modifier.card == pp.VectorMatchCardinality.OneToOne:
            m = sub.modifier.matching
            if (m.type == pp.LabelModifierType.Include) != ("le" in m.labels):
                return "vector matching drops `le`"
    return None


@rule("promql/histogram-quantile-drops-le", "error",
      "histogram_quantile keeps `le` in its aggregation", kind="rules")
def histogram_quantile_le(ctx: Context, r: Rule) -> Iterator[Finding]:
    """histogram_quantile needs the `le` label of every bucket. `sum(rate(x_bucket[5m]))`
    or `sum by (job) (...)` adds all buckets together and the result is NaN/nothing."""
    for _, expr in _exprs(ctx):
        ast = expr.parsed.ast
        if ast is None:
            continue
        for node in walk(ast):
            if isinstance(node, pp.Call) and node.func.name == "histogram_quantile" \
                    and len(node.args) == 2 and (why := _drops_le(node.args[1])):
                yield r.finding(expr.at(locate(expr.text, ast, node)),
                                f"histogram_quantile over buckets without `le`: {why}",
                                "keep `le` in the grouping: `sum by (<labels>, le) "
                                "(rate(<name>_bucket[5m]))`")


def _bare_rate(node: Node) -> pp.VectorSelector | None:
    node = unwrap(node)
    if isinstance(node, pp.Call) and node.func.name in RATE_FUNCTIONS and node.args \
            and isinstance(node.args[0], pp.MatrixSelector):
        return node.args[0].vector_selector
    return None


@rule("promql/ratio-unaggregated-rates", "warning",
      "Ratios of rates aggregate both sides to the same labels", kind="rules")
def ratio_unaggregated(ctx: Context, r: Rule) -> Iterator[Finding]:
    """`rate(a{status="error"}[5m]) / rate(a[5m])` matches series with identical label
    sets: the `status` label makes each error series divide only itself (ratio 1); two
    metrics the specs declare with different labels never match. Aggregate both sides to
    the same labels. Not reported: siblings read with the same filters (`x_sum / x_count`,
    an exporter's `errors_total / requests_total`), which carry the same labels."""
    known = known_metrics(ctx)
    for _, expr in _exprs(ctx):
        ast = expr.parsed.ast
        if ast is None:
            continue
        for node in walk(ast):
            if not isinstance(node, pp.BinaryExpr) or op(node) != "/" or (
                    node.modifier is not None and node.modifier.matching is not None):
                continue
            lhs, rhs = _bare_rate(node.lhs), _bare_rate(node.rhs)
            if lhs is None or rhs is None or not _apart(lhs, rhs, known):
                continue
            left, right = (str(x).removesuffix("{}") for x in (lhs, rhs))
            yield r.finding(expr.at(locate(expr.text, ast, lhs)),
                            f"`{left}` / `{right}`: unaggregated rates match on all their "
                            "labels, and their selectors differ",
                            "aggregate both sides to the labels you want: `sum by (...) "
                            "(rate(...)) / sum by (...) (rate(...))`")


def _apart(lhs: pp.VectorSelector, rhs: pp.VectorSelector, known: Known) -> bool:
    """Whether one-to-one matching on every label pairs no series, or the wrong ones: the
    selectors filter differently, or the specs declare the two with different labels.
    Siblings with the same filters (`x_sum` / `x_count`, `errors_total` /
    `requests_total` of one exporter) share their labels, and match."""
    if _filters(lhs) != _filters(rhs):
        return True
    mine, theirs = (known.labels.get(str(x.name or "")) for x in (lhs, rhs))
    return mine is not None and theirs is not None and mine != theirs


def _filters(selector: pp.VectorSelector) -> set[str]:
    """A selector's label matchers but the name's, as text."""
    return {str(m) for m in selector.matchers.matchers if m.name != "__name__"}


def _histogram_base(name: str, known: Known) -> tuple[str, str] | None:
    """(why `name` is a histogram's base name, the histogram's name), or None."""
    if known.types.get(name) == "histogram":
        return "it is a histogram in the specs", name
    if name in known.buckets_in_files:
        return f"it is a histogram (`{name}_bucket` is read in the rule files)", name
    alias = known.prefixed.get(name)
    if alias and known.types.get(alias) == "histogram":
        return f"the specs' `{alias}` is a histogram", alias
    return None


@rule("promql/histogram-base-name", "error",
      "No series selected by a histogram's base name",
      kind="rules")
def histogram_base_name(ctx: Context, r: Rule) -> Iterator[Finding]:
    """A histogram `x_seconds` is exposed as `x_seconds_bucket`, `_count` and `_sum`:
    `x_seconds > 1` selects nothing, so the alert can never fire. Compare a quantile."""
    known = known_metrics(ctx)
    for _, expr in _exprs(ctx):
        ast = expr.parsed.ast
        if ast is None:
            continue
        compared = {id(unwrap(side)) for n in walk(ast)
                    if isinstance(n, pp.BinaryExpr) and op(n) in COMPARISONS
                    for side in (n.lhs, n.rhs)}
        for sel in selectors(ast):
            name = metric_name(sel)
            found = _histogram_base(name, known) if name else None
            if found:
                what = "compared with a threshold" if id(sel) in compared else "selected"
                yield r.finding(expr.at(locate(expr.text, ast, sel)),
                                f"`{name}` {what}, but no series has that name: {found[0]}",
                                "alert on a quantile: `histogram_quantile(0.95, sum by (le) "
                                f"(rate({found[1]}_bucket[5m]))) > T`")


@rule("promql/unknown-metric", "warning", "Metrics read by rules are defined in a spec",
      kind="rules")
def unknown_metric(ctx: Context, r: Rule) -> Iterator[Finding]:
    """Every metric a rule reads should be defined in a spec (or be a recording rule of
    the linted files, or a series Prometheus makes itself: `up`, `ALERTS`, `scrape_*`).
    A typo or a renamed metric makes a rule that silently never fires."""
    if ctx.model is None:
        return
    known = known_metrics(ctx)
    for _, expr in _exprs(ctx):
        ast = expr.parsed.ast
        if ast is None:
            continue
        hyphenated = [range(o, o + len(w)) for o, w in hyphens(expr.text)]
        for sel in selectors(ast):
            name = metric_name(sel)
            if name is None or known.exists(name):
                continue
            offset = locate(expr.text, ast, sel)
            if any(offset in span for span in hyphenated):
                continue  # one finding is enough: promql/metric-name-hyphen
            guess = known.guess(name)
            hint = f"did you mean `{guess}`?" if guess else "define it in a spec or fix the name"
            yield r.finding(expr.at(offset), f"`{name}` is not defined in any spec", hint)
