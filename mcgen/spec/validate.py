"""From files to a validated model: schema, then semantics, then checks across files."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

from mcgen import promql
from mcgen.errors import SpecError, SpecProblem, UsageError
from mcgen.spec import matchers, names, schema
from mcgen.spec.load import Document, file_kind, load_file
from mcgen.spec.matchers import disjoint
from mcgen.spec.model import Alert, Metric, Model, Service
from mcgen.spec.semantics import ServiceBuilder


def discover(paths: list[Path]) -> list[Path]:
    """Spec files named by `paths` (files, or folders searched for *.yaml / *.yml)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml")
                                and p.is_file()))
        elif path.is_file():
            found.append(path)
        elif path.exists():  # /dev/zero, a named pipe: never read
            raise UsageError(f"{path}: not a regular file ({file_kind(path.stat().st_mode)}); "
                             "give spec files or folders (default: specs/)")
        else:
            raise UsageError(f"{path}: no such file or folder; give spec files or folders "
                             "(default: specs/)")
    if not found:
        raise UsageError(f"no spec files (*.yaml, *.yml) under {', '.join(map(str, paths))}; "
                         "write one with `mcgen init`")
    return sorted(set(found))


def repo_relative(path: Path) -> str:
    """The spec's path from the root of its git repository (or the working directory),
    so that generated headers do not depend on where mcgen runs."""
    full = path.resolve()
    for parent in full.parents:
        if (parent / ".git").exists():
            return full.relative_to(parent).as_posix()
    return shown(path)


def shown(path: Path) -> str:
    """The path as users see it in messages and headers: relative when possible."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _read(path: Path) -> tuple[Document, list[SpecProblem]]:
    """One file read, parsed and schema-checked (files are independent)."""
    doc, found = load_file(path, shown(path))
    doc.source = repo_relative(path)
    return doc, found or schema.check(doc)


def load(paths: list[Path]) -> tuple[list[Document], list[SpecProblem], list[Document]]:
    """The valid documents, every problem, and the documents the schema rejected (read as
    YAML: the other checks still run on what they hold)."""
    docs, problems, rejected = [], [], []
    # Reading in parallel was measured slower: documents cost more to send back than
    # parsing them here does.
    for doc, found in map(_read, discover(paths)):
        problems.extend(found)
        if not found:
            docs.append(doc)
        elif isinstance(doc.data, dict) and all(p.pos.path == doc.path for p in found):
            rejected.append(doc)
    return docs, problems, rejected


def _other_checks(rejected: list[Document], problems: list[SpecProblem]) -> None:
    """After schema problems, the other checks on what the schema accepted (schema.pruned),
    so that every mistake of a run is reported in one round; a problem at a mapping that
    lost a key, or on a line the schema already reported, is left out (it would repeat the
    same mistake)."""
    seen = {(p.pos.path, p.pos.line) for p in problems}
    fixed = []
    for doc in rejected:
        result = schema.pruned(doc)
        if result is not None:
            fixed.append(result[0])
            seen |= {(doc.path, doc.pos(p).line) for p in result[1]}
    if not fixed:
        return
    more: list[SpecProblem] = []
    build(fixed, None, more, complete=False)
    for problem in more:
        where = (problem.pos.path, problem.pos.line)
        if where not in seen:
            problems.append(problem)
            seen.add(where)


def build(docs: list[Document], env: str | None, problems: list[SpecProblem],
          complete: bool = True, keep: tuple[str, ...] = ()) -> Model:
    """Build every service for `env` (and, to validate them, for every environment)."""
    if env is not None and not any(env in d.data.get("environments", {}) for d in docs):
        raise UsageError(f"environment '{env}' is not defined in any spec; "
                         "define it under 'environments:' or drop --env")
    services = []
    for doc in docs:
        envs = doc.data.get("environments", {})
        _check_version(doc, problems)
        _check_environment_keys(doc, problems)
        for other in envs:
            if other != env:
                ServiceBuilder(doc, other, problems, keep).service()
        services.append(ServiceBuilder(doc, env if env in envs else None, problems,
                                       keep).service())
    model = Model(tuple(services))
    _check_unique(model, problems)
    defined = {m.name for s in model.services for m in s.metrics}
    services = [_resolve_ratios(doc, svc, defined, problems, complete, keep)
                for doc, svc in zip(docs, services, strict=True)]
    return Model(tuple(services))


def validate(paths: list[Path], env: str | None = None, keep: tuple[str, ...] = ()) -> Model:
    """The model of the specs under `paths`, every aggregation keeping the target labels
    `keep`; raises SpecError with every problem found."""
    docs, problems, rejected = load(paths)
    complete = not problems  # a file that failed to load may define what others name
    model = build(docs, env, problems, complete, keep)
    _other_checks(rejected, problems)
    if problems:
        raise SpecError(problems)
    return model


def _check_environment_keys(doc: Document, problems: list[SpecProblem]) -> None:
    alerts = {a["alert"] for m in doc.data["metrics"] for a in m.get("alerts", ())}
    slos = {s["name"] for s in doc.data.get("slos", ())}
    for env, body in doc.data.get("environments", {}).items():
        for kind, known in (("alerts", alerts), ("slos", slos)):
            for name in body.get(kind, {}):
                if name not in known:
                    what = "alert" if kind == "alerts" else "SLO"
                    problems.append(SpecProblem(
                        doc.pos(("environments", env, kind, name), key=True),
                        f"environment '{env}' overrides {what} '{name}', which this spec does "
                        "not define", f"use the name of one of its {kind}" if known else
                        f"remove it; the spec has no {kind}"))


def _check_version(doc: Document, problems: list[SpecProblem]) -> None:
    version = doc.data.get("version")
    if type(version) is not int:  # the schema's const 1 also admits 1.0
        problems.append(SpecProblem(doc.pos(("version",)), f"'version' must be 1, not {version}",
                                    "this version of mcgen reads spec version 1"))


def _check_unique(model: Model, problems: list[SpecProblem]) -> None:
    services: dict[str, Service] = {}
    metrics: dict[str, list[Metric]] = {}
    uids: dict[str, Service] = {}
    for svc in model.services:
        board = svc.dashboard
        if board.uid in uids and uids[board.uid].name != svc.name:
            problems.append(SpecProblem(
                board.pos, f"dashboard uid '{board.uid}' is also the uid of service "
                f"'{uids[board.uid].name}' ({uids[board.uid].dashboard.pos})",
                "dashboard uids are unique in Grafana; set another dashboard.uid"))
        uids.setdefault(board.uid, svc)
        if svc.name in services:
            problems.append(SpecProblem(
                svc.pos, f"service '{svc.name}' is also defined at {services[svc.name].pos}",
                "give each spec its own service name"))
        services.setdefault(svc.name, svc)
        for m in svc.metrics:
            problem = _overlap(m, metrics.get(m.name, ()))
            if problem:
                problems.append(problem)
            metrics.setdefault(m.name, []).append(m)


def _overlap(metric: Metric, earlier: Sequence[Metric]) -> SpecProblem | None:
    """A metric name may be declared again by another spec whose selector keeps its
    series apart (matchers.disjoint); the later declaration gets the error."""
    for other in earlier:
        if other.service == metric.service:
            return SpecProblem(metric.pos, f"metric '{metric.name}' is already defined at "
                               f"{other.pos}", "metric names are unique within a spec; "
                               "rename one")
        if not disjoint(metric.selector, other.selector):
            mine = promql.selector("", metric.selector) or "no selector"
            theirs = promql.selector("", other.selector) or "no selector"
            return SpecProblem(metric.pos, f"metric '{metric.name}' is also defined at "
                               f"{other.pos} (service {other.service}), and the selectors "
                               f"({mine} here, {theirs} there) may select the same series",
                               "give the two a selector that fixes a target label to "
                               f"different values, e.g. {{job: {metric.service}}} here and "
                               f"{{job: {other.service}}} there")
    return None


def _at_most_one(alert: Alert, metric: Metric, problems: list[SpecProblem]) -> None:
    """A ratio of a part of a metric to all of it never exceeds 1: `above: 1` or more can
    never fire (and its test could not be built)."""
    if alert.op != ">":
        return
    limits = [(alert.threshold, alert.threshold_pos), *((o.threshold, o.pos)
                                                          for o in alert.overrides)]
    for value, pos in limits:
        if value is not None and value >= 1 and pos is not None:
            problems.append(SpecProblem(
                pos, f"above {value:g} can never fire: the series 'select' keeps are a part "
                f"of {metric.name}'s, so the ratio is at most 1",
                "write the ratio as a fraction (0.05 for 5%)"))


def _resolve_ratios(doc: Document, svc: Service, defined: set[str],
                    problems: list[SpecProblem], complete: bool,
                    keep: tuple[str, ...] = ()) -> Service:
    """Check each ratio_to denominator against the metric it names; parse its select."""
    builder = ServiceBuilder(doc, svc.environment, problems, keep)
    metrics = []
    for mi, metric in enumerate(svc.metrics):
        alerts: list[Alert] = []
        raw_alerts = doc.data["metrics"][mi].get("alerts", [])
        by_name = {a["alert"]: (ai, a) for ai, a in enumerate(raw_alerts)}
        for alert in metric.alerts:
            if alert.kind != "ratio":
                alerts.append(alert)
                continue
            ai, raw = by_name[alert.name]
            path = ("metrics", mi, "alerts", ai, "ratio_to")
            target = svc.metric_index.get(alert.ratio_metric or "")
            if target is None and alert.ratio_metric in defined:
                problems.append(SpecProblem(doc.pos((*path, "metric")),
                                            f"ratio_to metric '{alert.ratio_metric}' belongs to "
                                            "another service", "use a counter of this service "
                                            "(each service records its own rates)"))
                continue
            if target is None:
                if not complete:
                    continue
                problems.append(SpecProblem(doc.pos((*path, "metric")),
                                            f"ratio_to names metric '{alert.ratio_metric}', "
                                            "which no spec defines", "use a counter defined in "
                                            "a spec"))
                continue
            if target.type != metric.type:
                problems.append(SpecProblem(
                    doc.pos((*path, "metric")), f"ratio_to metric '{target.name}' is a "
                    f"{target.type}, but {metric.name} is a {metric.type}",
                    "use a counter: the ratio compares rates" if metric.type == "counter"
                    else "use a gauge: the ratio compares current values"))
            for lb in alert.by:
                # Declared on one counter only: the other's series lack it, so no pair of
                # series would match. (Declared on neither: a target label both carry.)
                if (lb in target.label_names) != (lb in metric.label_names):
                    problems.append(SpecProblem(
                        alert.pos, f"'by' label '{lb}' is not declared on the ratio_to metric "
                        f"{target.name}" if lb in metric.label_names else f"'by' label '{lb}' "
                        f"is declared on {target.name} but not on {metric.name}",
                        "declare it on both, or drop it from 'by'"))
            select = matchers.parse(builder, target, raw["ratio_to"].get("select", {}),
                                    (*path, "select"))
            if metric.type == "counter":
                matchers.recorded_clash(builder, target, select, (*path, "select"))
            for lb in alert.by:
                num_scope = [m for m in (*metric.selector, *alert.select) if m.label == lb]
                den_scope = [m for m in (*target.selector, *select) if m.label == lb]
                if disjoint(num_scope, den_scope):
                    problems.append(SpecProblem(
                        alert.pos, f"'by' label '{lb}' has no value that both the selectors "
                        f"of {metric.name} and of {target.name} admit, so the ratio has no "
                        "series", f"drop '{lb}' from 'by', or select the same '{lb}' on both"))
            for lb in alert.by:
                mine, theirs = metric.label(lb), target.label(lb)
                if mine is None or theirs is None or mine.values is None or theirs.values is None:
                    continue
                num = {v for v in mine.values if all(m.matches(v) for m in alert.select
                                                     if m.label == lb)}
                den = {v for v in theirs.values if all(m.matches(v) for m in select
                                                       if m.label == lb)}
                if not num & den:
                    problems.append(SpecProblem(
                        alert.pos, f"'by' label '{lb}' has no value allowed (and selected) on "
                        f"both {metric.name} and {target.name}, so the ratio has no series",
                        f"allow a common value of '{lb}' on both, or drop it from 'by'"))
            # Identically 1 when every numerator filter is on a `by` label (within a group
            # it keeps all series or none) and the denominator filters no more.
            pinned = [m.label for m in alert.select if m.label in alert.by]
            if (target.name == metric.name and pinned and len(pinned) == len(alert.select)
                    and set(select) <= set(alert.select)):
                problems.append(SpecProblem(
                    alert.pos, f"ratio of {metric.name} to itself selects on '{pinned[0]}', "
                    "which is also in 'by': within each series the ratio is always 100%",
                    f"set 'by' without '{pinned[0]}' (it defaults to every declared label)"))
            if target.name == metric.name and set(select) <= set(alert.select):
                _at_most_one(alert, metric, problems)
            alert = dataclasses.replace(alert, ratio_select=select,
                                        ratio_selector=target.selector)
            # The default texts name the denominator's `select`, known only now.
            if "summary" not in alert.written:
                alert = dataclasses.replace(alert, summary=names.default_summary(alert, metric))
            if "description" not in alert.written:
                alert = dataclasses.replace(alert, description=names.default_description(
                    alert, metric))
            alerts.append(alert)
        metrics.append(dataclasses.replace(metric, alerts=tuple(alerts)))
    return dataclasses.replace(svc, metrics=tuple(metrics),
                               metric_index={m.name: m for m in metrics})
