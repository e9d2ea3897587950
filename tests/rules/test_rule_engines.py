"""The rules in other rulers' wrappings (SPEC 6's optional targets), checked by what those
rulers check: the PrometheusRule against prometheus-operator's CRD schema, the Mimir
namespace files' expressions against the text Prometheus 3.5 itself prints (what
`mimirtool rules lint` writes back), on every example spec and golden case.
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
from collections.abc import Iterator
from typing import Any

import jsonschema
import live_prometheus as lp
import pytest
import yaml
from conftest import ENGINES, ROOT, need_prometheus, need_promtool

from mcgen import api
from mcgen.promql.canonical import canonical, go_duration, go_number, go_quote
from mcgen.rules import engines, rules_document
from mcgen.spec.model import Model, Settings

CRD = ROOT.parent / "shared" / "crds" / "monitoring.coreos.com_prometheusrules.yaml"
GOLDEN = ROOT / "tests" / "golden"
# What prometheus-operator 0.82's CRD (monitoring.coreos.com/v1 PrometheusRule, its
# openAPIV3Schema) requires of what mcgen writes, with unknown fields refused as
# `kubectl apply --validate=strict` refuses them. Its duration pattern is RE2 that
# Python reads alike; its partial_response_strategy pattern `^(?i)(abort|warn)?$` is not
# (Python wants global flags first), and mcgen never writes that field.
_DURATION = {"type": "string", "pattern": r"^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?"
                                          r"(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$"}
_STRINGS = {"type": "object", "additionalProperties": {"type": "string"}}
OWN_SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False, "required": ["spec"],
    "properties": {
        "apiVersion": {"const": "monitoring.coreos.com/v1"},
        "kind": {"const": "PrometheusRule"},
        "metadata": {"type": "object", "additionalProperties": False, "required": ["name"],
                     "properties": {
                         "name": {"type": "string", "maxLength": 253,
                                  "pattern": r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"},
                         "namespace": {"type": "string",
                                       "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"},
                         "labels": _STRINGS}},
        "spec": {"type": "object", "additionalProperties": False, "properties": {"groups": {
            "type": "array", "items": {
                "type": "object", "additionalProperties": False, "required": ["name"],
                "properties": {
                    "name": {"type": "string", "minLength": 1}, "interval": _DURATION,
                    "rules": {"type": "array", "items": {
                        "type": "object", "additionalProperties": False, "required": ["expr"],
                        "properties": {"alert": {"type": "string"}, "record": {"type": "string"},
                                       "expr": {"type": ["string", "integer"]},
                                       "for": _DURATION, "labels": _STRINGS,
                                       "annotations": _STRINGS}}}}}}}},
    },
}


def _models() -> Iterator[tuple[str, Model]]:
    settings = Settings(targets=("prometheusrule", "mimir"), namespace="monitoring",
                        labels=(("release", "prometheus"),))
    for spec in sorted((ROOT / "specs").glob("*.yaml")):
        yield spec.stem, dataclasses.replace(api.validate([spec]), settings=settings)
    for case in sorted(p for p in GOLDEN.iterdir() if p.is_dir()):
        yield f"golden/{case.name}", dataclasses.replace(api.validate([case / "specs"]),
                                                         settings=settings)


MODELS = list(_models())


def _resources() -> list[tuple[str, dict[str, Any]]]:
    return [(f"{name}/{svc.name}", yaml.safe_load(engines.render_prometheusrule(svc, m)[
        f"kubernetes/{svc.name}.prometheusrule.yaml"])) for name, m in MODELS
        for svc in m.services]


def test_prometheusrule_holds_the_rules_file_groups() -> None:
    for _, model in MODELS:
        for svc in model.services:
            doc = engines.prometheusrule(svc, model)
            assert doc["spec"] == rules_document(svc, model)
            assert doc["metadata"] == {"name": svc.name.replace("_", "-"),
                                       "namespace": "monitoring",
                                       "labels": {"release": "prometheus"}}


def test_prometheusrule_matches_own_crd_constraints() -> None:
    validator = jsonschema.Draft202012Validator(OWN_SCHEMA)
    for name, doc in _resources():
        errors = [e.message for e in validator.iter_errors(doc)]
        assert not errors, (name, errors)
    bad = _resources()[0][1]
    bad["spec"]["groups"][0]["rules"][0]["for"] = "5 minutes"
    assert list(validator.iter_errors(bad))  # the check can fail


def _go_pattern(pattern: str) -> str:
    """A Go (RE2) pattern of the CRD in Python's syntax: RE2 takes flags like `(?i)`
    anywhere, Python only at the start of the pattern."""
    flags = "".join(re.findall(r"\(\?([imsU]+)\)", pattern))
    body = re.sub(r"\(\?[imsU]+\)", "", pattern)
    return f"(?{flags}){body}" if flags else body


def _strict(schema: Any) -> Any:
    """The CRD schema as `kubectl apply --validate=strict` applies it: an object with
    declared properties refuses the rest; Go patterns in Python's syntax."""
    if isinstance(schema, list):
        return [_strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _strict(v) for k, v in schema.items() if not k.startswith("x-kubernetes")}
    if "pattern" in out:
        out["pattern"] = _go_pattern(out["pattern"])
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


def _crd_schema() -> dict[str, Any]:
    """The operator's own CRD, where the team's shared material sits beside the
    repository (it is not copied into it). A clone elsewhere has OWN_SCHEMA's test below,
    which holds what we learnt from it."""
    if not CRD.is_file():
        pytest.skip(f"{CRD} is not beside this clone; OWN_SCHEMA's test covers the CRD")
    crd = yaml.safe_load(CRD.read_text(encoding="utf-8"))
    (version,) = [v for v in crd["spec"]["versions"] if v["name"] == "v1"]
    schema: dict[str, Any] = _strict(version["schema"]["openAPIV3Schema"])
    return schema


def test_prometheusrule_valid_against_the_crd() -> None:
    validator = jsonschema.Draft202012Validator(_crd_schema())
    for name, doc in _resources():
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]
        assert not errors, (name, errors)
    # The Go pattern reads as RE2 does: case-insensitive, anchored.
    doc = _resources()[0][1]
    for value, ok in (("Abort", True), ("warn", True), ("", True), ("abortx", False)):
        doc["spec"]["groups"][0]["partial_response_strategy"] = value
        assert (not list(validator.iter_errors(doc))) == ok, value
    doc["spec"]["groups"][0]["partial_response_strategy"] = "abort"
    doc["spec"]["groups"][0]["rules"][0]["exprr"] = "x"  # a typo is refused
    assert list(validator.iter_errors(doc))


def _all_exprs() -> dict[str, str]:
    """Every expression of the examples and golden cases -> our canonical form."""
    found = {}
    for _, model in MODELS:
        for svc in model.services:
            for group in rules_document(svc, model)["groups"]:
                for rule in group["rules"]:
                    found[rule["expr"]] = canonical(rule["expr"])
    return found


def test_mimir_file_is_the_rules_in_canonical_form() -> None:
    for _, model in MODELS:
        for svc in model.services:
            doc = yaml.safe_load(engines.render_mimir(svc, model)[f"mimir/{svc.name}.yml"])
            assert doc["namespace"] == svc.name
            original = rules_document(svc, model)["groups"]
            assert [g["name"] for g in doc["groups"]] == [g["name"] for g in original]
            for mine, theirs in zip(doc["groups"], original, strict=True):
                assert [{**r, "expr": canonical(r["expr"])} for r in theirs["rules"]] \
                    == mine["rules"]
                assert all(canonical(r["expr"]) == r["expr"] for r in mine["rules"])


# Every kind of node, and the printer's corner cases, beyond what mcgen writes.
TRICKY = [
    'sum without (a, b) (rate(x{b="c",a=~"d|e"}[1w] offset 90d))',
    'topk(3, x) / on (a) group_left (b, c) y',
    'x / ignoring (a) group_right () y',
    'count_values("va\\"lue", x) > bool 1e-7',
    'max_over_time(rate(x[5m])[1h:30s] @ 1700000000.5 offset -2m)',
    'avg_over_time(x[10m:]) unless x @ start()',
    '-x + +1e21 - 0x10 * -0.5 ^ 2 % 3',
    'label_replace(x, "dst", "$1", "src", "(.*)\\\\n\\t")',
    'x{a="\\u00e9\\u00a0\\u0007"} or on () vector(0) and x @ end()',
    'absent(nonexistent{job="a"}) == 1 or time() - x > 3600',
    'histogram_quantile(0.95, sum by (le) (rate(x_bucket[2d12h])))',
    'sum by () (x) + sum(x) atan2 (x)',
    '{__name__="x", a!="b"}',
    'rate(x[1y] offset 3d)',
]


def _prometheus_prints(exprs: list[str]) -> dict[str, str]:
    """What a Prometheus 3.5 server prints for each expression: the `query` of each rule
    in /api/v1/rules, which is Go's parser.Expr.String()."""
    binary = need_prometheus(ENGINES["sid"])
    rules = {"groups": [{"name": f"g{i}", "rules": [{"record": "x:canon", "expr": e}]}
                        for i, e in enumerate(exprs)]}
    with lp.prometheus({}, {"canon": yaml.safe_dump(rules)}, binary) as prom:
        printed = {r["group"]: r["query"] for r in prom.rules()}
    return {e: printed[f"g{i}"] for i, e in enumerate(exprs)}


def test_canonical_is_what_prometheus_3_prints() -> None:
    exprs = _all_exprs()
    printed = _prometheus_prints([*exprs, *TRICKY])
    wrong = {e: (mine, printed[e]) for e, mine in exprs.items() if mine != printed[e]}
    assert not wrong
    wrong = {e: (canonical(e), printed[e]) for e in TRICKY if canonical(e) != printed[e]}
    assert not wrong
    assert len(exprs) > 150


def _promtool_format(promtool: str, expr: str) -> str:
    proc = subprocess.run([promtool, "promql", "--experimental", "label-matchers", "delete",
                           expr, "none"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.rstrip("\n")


def test_canonical_is_what_promtool_3_prints() -> None:
    """promtool 3.5 prints an expression in the one-line form when it fits in 100
    characters, and pretty-prints it over several lines otherwise: every one-line output
    is ours exactly, and every expression prints the same from ours as from the rule (the
    same tree)."""
    promtool = need_promtool(ENGINES["sid"])
    one_line = 0
    for expr, mine in sorted(_all_exprs().items()):
        theirs = _promtool_format(promtool, expr)
        if "\n" not in theirs:
            assert theirs == mine
            one_line += 1
        else:
            assert len(mine) > 100
            assert _promtool_format(promtool, mine) == theirs
    assert one_line >= 60


def test_go_printing_helpers() -> None:
    assert go_quote('a"b\\c\n\x07é\u00a0') == '"a\\"b\\\\c\\n\\aé\\u00a0"'
    assert [go_number(v) for v in (1.0, 0.1, 1e-7, 1e21, -0.0, 14.4)] == [
        "1", "0.1", "0.0000001", "1000000000000000000000", "0", "14.4"]
    from datetime import timedelta
    assert [go_duration(timedelta(days=d)) for d in (7, 14, 90, 365, 3)] == [
        "1w", "2w", "90d", "1y", "3d"]
    assert go_duration(timedelta(hours=36, milliseconds=5)) == "1d12h5ms"
