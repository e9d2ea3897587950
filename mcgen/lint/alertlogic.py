"""Rules on what hand-written alerts and expressions mean, the offline checks a rule linter
such as pint makes: templates that name labels the expression drops, `$value` in labels,
alerts without a condition, rankings in alerts, anchored regexes, counters compared raw,
rates of gauges and of sums, duplicate rules, rule labels that overwrite target labels,
and functions Prometheus refuses without a feature flag."""

from __future__ import annotations

import re
from collections.abc import Iterator

import promql_parser as pp

from mcgen.lint import Context, Finding, Rule, rule
from mcgen.lint.knownmetrics import known_metrics
from mcgen.lint.rulefiles import RuleEntry
from mcgen.promql.parser import COMPARISONS, RATE_FUNCTIONS, Node, metric_name, op, unwrap, walk

_LABEL_REF = re.compile(r"\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)|\.Labels\.([a-zA-Z_][a-zA-Z0-9_]*)")
_VALUE_REF = re.compile(r"\$value\b|\.Value\b")
TARGET_LABELS = ("job", "instance", "cluster", "namespace")
# Prometheus 3 evaluates these only with --enable-feature=promql-experimental-functions.
EXPERIMENTAL = frozenset({"double_exponential_smoothing", "sort_by_label", "sort_by_label_desc",
                          "limitk", "limit_ratio", "mad_over_time", "ts_of_max_over_time",
                          "ts_of_min_over_time", "ts_of_last_over_time", "first_over_time",
                          "info"})


def _alerts(ctx: Context) -> Iterator[tuple[RuleEntry, Node]]:
    for file in ctx.rule_files:
        for entry in file.rules:
            if entry.kind == "alert" and entry.expr is not None and entry.expr.parsed.ast:
                yield entry, entry.expr.parsed.ast


def _every(ctx: Context) -> Iterator[tuple[RuleEntry, Node]]:
    for file in ctx.rule_files:
        for entry in file.rules:
            if entry.expr is not None and entry.expr.parsed.ast is not None:
                yield entry, entry.expr.parsed.ast


def _texts(entry: RuleEntry) -> Iterator[tuple[str, str, str]]:
    """(section, name, template) of the rule's labels and annotations."""
    for section in ("labels", "annotations"):
        values = entry.data.get(section)
        if isinstance(values, dict):
            for name, value in values.items():
                if isinstance(value, str):
                    yield section, str(name), value


def result_labels(node: Node) -> set[str] | None:
    """The labels every result series of the expression carries at most, when they can
    be told: an aggregation `by (...)` keeps those, one without `by` none; a comparison
    with a number or a set operation keeps its left side's. None when unknown."""
    node = unwrap(node)
    if isinstance(node, pp.AggregateExpr):
        mod = node.modifier
        if mod is None:
            return set()
        return set(mod.labels) if mod.type == pp.AggModifierType.By else None
    if isinstance(node, pp.BinaryExpr) and (op(node) in ("and", "unless") or (
            op(node) in COMPARISONS and isinstance(unwrap(node.rhs), pp.NumberLiteral))):
        return result_labels(node.lhs)
    return None


@rule("alerts/template-label-dropped", "warning",
      "Templates name only labels the alert's series keep", kind="rules")
def template_label_dropped(ctx: Context, r: Rule) -> Iterator[Finding]:
    """`sum by (job) (...) > 1` keeps only `job`: a `{{ $labels.instance }}` in its summary
    prints nothing, and the page says less than its author meant."""
    for entry, ast in _alerts(ctx):
        kept = result_labels(ast)
        if kept is None:
            continue
        for section, name, text in _texts(entry):
            for m in _LABEL_REF.finditer(text):
                label = m.group(1) or m.group(2)
                if label not in kept:
                    shown = ", ".join(sorted(kept)) or "none"
                    yield r.finding(entry.pos(section, name), f"{section[:-1]} {name!r} "
                                    f"uses $labels.{label}, which the expression's "
                                    f"aggregation drops (it keeps: {shown})",
                                    f"add `{label}` to the aggregation's `by`, or drop it "
                                    "from the template")


@rule("alerts/value-in-labels", "warning", "Alert labels do not hold $value", kind="rules")
def value_in_labels(ctx: Context, r: Rule) -> Iterator[Finding]:
    """Labels are an alert's identity: `{{ $value }}` in one makes every new value a new
    alert (the old one resolves, a new one starts pending, `for` starts again), so it
    never fires. Put the value in an annotation."""
    for entry, _ in _alerts(ctx):
        for section, name, text in _texts(entry):
            if section == "labels" and _VALUE_REF.search(text):
                yield r.finding(entry.pos(section, name), f"label {name!r} holds $value",
                                "move it to an annotation (summary or description)")


@rule("alerts/no-condition", "warning", "Alerts compare something", kind="rules")
def no_condition(ctx: Context, r: Rule) -> Iterator[Finding]:
    """An alert fires for every series its expression returns: `rate(errors_total[5m])`
    without a comparison fires for every series that exists, errors or not. Compare it
    (`> 0.1`), or use `absent()`/`and`/`unless` to say when it holds."""
    for entry, ast in _alerts(ctx):
        if any(_filters(n) for n in walk(ast)):
            continue
        if not any(isinstance(n, pp.VectorSelector) for n in walk(ast)):
            continue  # a constant: the Watchdog
        yield r.finding(entry.pos("expr"), f"alert `{entry.name}` has no condition: it fires "
                        "for every series the expression returns",
                        "compare it with a threshold (`> 0.1`)")


def _filters(node: Node) -> bool:
    """A node that keeps some series and drops others: a comparison (without `bool`), a
    set operation, absent()."""
    if isinstance(node, pp.BinaryExpr):
        filtering = not (node.modifier is not None and node.modifier.return_bool)
        return (op(node) in COMPARISONS and filtering) or op(node) in ("and", "unless")
    return isinstance(node, pp.Call) and node.func.name.startswith("absent")


@rule("alerts/ranking", "warning", "Alerts do not rank series (topk, bottomk)", kind="rules")
def ranking(ctx: Context, r: Rule) -> Iterator[Finding]:
    """`topk(3, ...)` in an alert: which series fire changes whenever the ranking does,
    so alerts resolve and start again with no change in the system. `topk by (pod) (1,
    ...)`, one series per group (kube-prometheus picks one owner of a pod that way), is
    no ranking and is not reported."""
    for entry, ast in _alerts(ctx):
        for node in walk(ast):
            if isinstance(node, pp.AggregateExpr) and op(node) in ("topk", "bottomk",
                                                                    "limitk") \
                    and not _one_per_group(node):
                yield r.finding(entry.pos("expr"), f"alert `{entry.name}` ranks series with "
                                f"`{op(node)}`: what fires changes with the ranking",
                                "compare every series with a threshold instead")
                break


def _one_per_group(node: pp.AggregateExpr) -> bool:
    param = unwrap(node.param) if isinstance(node.param, pp.Expr) else None
    return (isinstance(param, pp.NumberLiteral) and param.val == 1 and node.modifier is not None
            and node.modifier.type == pp.AggModifierType.By)


@rule("promql/regex-anchors", "info", "Regex matchers need no ^ and $", kind="rules")
def regex_anchors(ctx: Context, r: Rule) -> Iterator[Finding]:
    """Prometheus anchors every regex matcher at both ends: `=~"^api$"` is `=~"api"`. The
    anchors suggest the author expected a search, and `=~"api"` does not match
    `api-v2`."""
    for entry, ast in _every(ctx):
        for node in walk(ast):
            if not isinstance(node, pp.VectorSelector):
                continue
            for m in node.matchers.matchers:
                if m.op in (pp.MatchOp.Re, pp.MatchOp.NotRe) and (
                        m.value.startswith("^") or m.value.endswith("$")):
                    yield r.finding(entry.pos("expr"), f"regex {m.value!r} on `{m.name}` is "
                                    "anchored already", "drop `^` and `$`")


def _counter_name(name: str, types: dict[str, str]) -> bool:
    return types.get(name) == "counter" or (name not in types and name.endswith("_total"))


@rule("promql/counter-compared", "warning",
      "Counters are compared through rate() or increase()", kind="rules")
def counter_compared(ctx: Context, r: Rule) -> Iterator[Finding]:
    """A counter only grows: `errors_total > 5` becomes true once and stays true until
    the process restarts. Compare its rate or increase over a window."""
    types = known_metrics(ctx).types
    for entry, ast in _every(ctx):
        for node in walk(ast):
            if not (isinstance(node, pp.BinaryExpr) and op(node) in COMPARISONS):
                continue
            for side, other in ((node.lhs, node.rhs), (node.rhs, node.lhs)):
                side, other = unwrap(side), unwrap(other)
                if isinstance(side, pp.VectorSelector) and isinstance(other, pp.NumberLiteral) \
                        and _counter_name(metric_name(side) or "", types):
                    yield r.finding(entry.pos("expr"), f"counter `{metric_name(side)}` is "
                                    "compared as it is: it only grows",
                                    f"compare `increase({metric_name(side)}[1h])` or its "
                                    "rate")


@rule("promql/rate-of-non-counter", "warning",
      "rate() and increase() read counters, not gauges or sums", kind="rules")
def rate_of_non_counter(ctx: Context, r: Rule) -> Iterator[Finding]:
    """rate() treats every drop as a counter reset: over a gauge that goes down (a queue,
    memory) it adds phantom increases; over `sum(...)[5m:]` one restarting series makes
    the whole sum look reset. Use deriv() or delta() for gauges, and sum the rates."""
    types = known_metrics(ctx).types
    for entry, ast in _every(ctx):
        for node in walk(ast):
            if not (isinstance(node, pp.Call) and node.func.name in RATE_FUNCTIONS and
                    node.args):
                continue
            arg = node.args[0]
            if isinstance(arg, pp.SubqueryExpr) and isinstance(unwrap(arg.expr),
                                                               pp.AggregateExpr):
                yield r.finding(entry.pos("expr"), f"{node.func.name}() of an aggregation: "
                                "one series' reset looks like the whole sum's",
                                f"aggregate the rates: `sum({node.func.name}(x[5m]))`")
            elif isinstance(arg, pp.MatrixSelector):
                name = metric_name(arg.vector_selector) or ""
                if types.get(name) == "gauge":
                    yield r.finding(entry.pos("expr"), f"{node.func.name}() of gauge `{name}`",
                                    "use deriv() or delta() for a gauge")


@rule("rules/duplicate", "warning", "No rule twice", kind="rules")
def duplicate(ctx: Context, r: Rule) -> Iterator[Finding]:
    """The same alert or recording rule (name, expression and labels) twice: Prometheus
    evaluates both; two equal recording rules write the same series twice."""
    for file in ctx.rule_files:
        seen: dict[tuple[str, str, str], int] = {}
        for entry in file.rules:
            labels = entry.data.get("labels")
            key = (entry.name, entry.expr.text.strip() if entry.expr else "",
                   repr(sorted(labels.items()) if isinstance(labels, dict) else labels))
            if key in seen:
                yield r.finding(entry.pos(entry.kind), f"{entry.kind} `{entry.name}` repeats "
                                f"the rule at line {seen[key]}", "remove one of them")
            else:
                seen[key] = entry.pos(entry.kind).line


@rule("rules/label-overwrites-target", "warning",
      "Rule labels do not overwrite target labels", kind="rules")
def label_overwrites_target(ctx: Context, r: Rule) -> Iterator[Finding]:
    """A rule's `labels: {job: ...}` replaces the label every series carries from its
    target: the alert no longer says which job or cluster it is about, and routing on it
    goes wrong."""
    for file in ctx.rule_files:
        for entry in file.rules:
            labels = entry.data.get("labels")
            for name in labels if isinstance(labels, dict) else ():
                if name in TARGET_LABELS:
                    yield r.finding(entry.pos("labels", name, key=True), f"label `{name}` "
                                    "overwrites the target label of every series",
                                    "name it differently (e.g. `team`), or drop it")


@rule("promql/experimental-function", "warning",
      "No function Prometheus refuses without a feature flag", kind="rules")
def experimental_function(ctx: Context, r: Rule) -> Iterator[Finding]:
    """Prometheus 3 evaluates some functions only with
    `--enable-feature=promql-experimental-functions` (double_exponential_smoothing, the
    former holt_winters; sort_by_label; limitk; mad_over_time ...): without it the rule
    file does not load."""
    for entry, ast in _every(ctx):
        for node in walk(ast):
            name = node.func.name if isinstance(node, pp.Call) else (
                op(node) if isinstance(node, pp.AggregateExpr) else None)
            if name in EXPERIMENTAL:
                yield r.finding(entry.pos("expr"), f"`{name}` is experimental in "
                                "Prometheus 3", "run Prometheus with --enable-feature="
                                "promql-experimental-functions, or do without it")
