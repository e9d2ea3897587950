"""Tests for mcgen.promql.gotemplate and gofuncs, including a cross-check against the real
promtool of every engine (2.x and 3.x).

The expected strings in the tables below were observed from promtool 2.42 (Go 1.19, amd64).
"""

from __future__ import annotations

import json
import math
import platform
import random
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import engine_major

from mcgen.promql.gofuncs import (
    EngineDifference,
    _go_title,
    go_float,
    humanize,
    humanize_duration,
    humanize_percentage,
    title_agrees,
)
from mcgen.promql.gotemplate import TemplateProblem, parse

NAN, INF = math.nan, math.inf


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.0, "0"),
        (-0.0, "-0"),
        (1.0, "1"),
        (-5.0, "-5"),
        (0.1 + 0.2, "0.30000000000000004"),
        (100000.0, "100000"),
        (123456.0, "123456"),
        (1e6, "1e+06"),  # exponent form from exp >= 6 (not 21 as in JavaScript)
        (1234567.0, "1.234567e+06"),
        (1e20, "1e+20"),
        (1e21, "1e+21"),
        (-1e25, "-1e+25"),
        (0.0001, "0.0001"),
        (1e-5, "1e-05"),
        (-0.0015, "-0.0015"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (4.468743327960138e16, "4.468743327960138e+16"),
        (NAN, "NaN"),
        (INF, "+Inf"),
        (-INF, "-Inf"),
    ],
)
def test_go_float(value: float, expected: str) -> None:
    assert go_float(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.0, "0"),
        (-0.0, "-0"),
        (1.0, "1"),
        (999.95, "1000"),
        (12345.0, "12.35k"),
        (123456.0, "123.5k"),
        (1234567.0, "1.235M"),
        (1e25, "10Y"),
        (-1e25, "-10Y"),
        (1e28, "1e+04Y"),
        (0.125, "125m"),
        (0.99995, "1000m"),
        (-0.0015, "-1.5m"),
        (5e-324, "4.941e-300y"),
        (NAN, "NaN"),
        (INF, "+Inf"),
        (-INF, "-Inf"),
    ],
)
def test_humanize(value: float, expected: str) -> None:
    assert humanize(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.0, "0s"),
        (-0.0, "-0s"),
        (1.0, "1s"),
        (9.9995, "9.999s"),
        (59.99, "59.99s"),
        (-90.0, "-1m 30s"),
        (1234.5, "20m 34s"),
        (3600.0, "1h 0m 0s"),
        (123456.0, "1d 10h 17m 36s"),
        (0.125, "125ms"),
        (1e-5, "10us"),
        (-0.0015, "-1.5ms"),
        (1e25, "-106751991167300d -15h -30m -8s"),  # int64 overflow, as Go on amd64
        (-1e25, "--106751991167300d -15h -30m -8s"),
        (NAN, "NaN"),
        (-INF, "-Inf"),
    ],
)
def test_humanize_duration(value: float, expected: str) -> None:
    assert humanize_duration(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.95, "95%"), (0.1 + 0.2, "30%"), (123456.0, "1.235e+07%"), (-0.0, "-0%"), (NAN, "NaN%")],
)
def test_humanize_percentage(value: float, expected: str) -> None:
    assert humanize_percentage(value) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{{ $labels.operation }} P95 is {{ $value | humanize }}s", "get P95 is 1.235Ms"),
        ("{{.Labels.operation}}={{.Value}}", "get=1.234567e+06"),
        ("{{ humanize $value }}|{{ $value | humanizePercentage }}", "1.235M|1.235e+08%"),
        ('{{ printf "%.2f" $value }}|{{ $value | printf "%.1e" }}', "1234567.00|1.2e+06"),
        (
            '{{ printf "%s: %.0f%% %v" $labels.operation $value $value }}',
            "get: 1234567% 1.234567e+06",
        ),
        ("[{{ $labels.nope }}]", "[]"),  # Prometheus uses missingkey=zero
        ("a \n\t{{- $labels.operation -}}\r\n b", "agetb"),
        ("a {{/* note */}} b {{- /* trimmed */ -}} c", "a  bc"),
        ("{{ $labels.operation | toUpper | printf `%s!` }}", "GET!"),
        ('{{ title "hello wORLD-x_y" }} {{ toLower "ÀB" }}', "Hello WORLD-X_y àb"),
        ('{{ "tab\\there" }}', "tab\there"),
        ("{{-x-}} {{-3}} literal", None),
    ],
)
def test_render(text: str, expected: str | None) -> None:
    if expected is None:
        with pytest.raises(TemplateProblem):
            parse(text)
        return
    assert parse(text).render({"operation": "get"}, 1234567.0) == expected


def test_label_refs_and_source() -> None:
    tmpl = parse(
        '{{ $labels.a }} {{ .Labels.b | toUpper }} {{ printf "%s" $labels.c }} {{ $value }}'
    )
    assert tmpl.label_refs() == frozenset({"a", "b", "c"})
    assert parse("no labels {{ $value }}").label_refs() == frozenset()
    assert tmpl.render({"a": "1", "b": "x", "c": "y"}, 2) == "1 X y 2"


@pytest.mark.parametrize(
    ("text", "mentions"),
    [
        ("{{ if gt $value 1.0 }}high{{ end }}", "keyword {{ if }}"),
        ("{{ range $labels }}x{{ end }}", "keyword {{ range }}"),
        ('{{ define "x" }}{{ end }}', "keyword {{ define }}"),
        ('{{ with query "up" }}{{ . }}{{ end }}', "keyword {{ with }}"),
        ('{{ query "up" | first | value }}', "function 'query'"),
        ("{{ humanize1024 $value }}", "function 'humanize1024'"),
        ("{{ $externalLabels.cluster }}", "$externalLabels.cluster"),
        ("{{ .ExternalURL }}", ".ExternalURL"),
        ("{{ $foo }}", "$foo"),
        ("{{ $labels }}", "$labels"),
        ("{{ . }}", "(use $labels.NAME"),
        ("{{ $labels.a.b }}", "$labels.a.b"),
        ("{{ $value", "unterminated"),
        ("{{/* unclosed }}", "comment"),
        ("{{/* c */ }}", "comment"),
        ("{{ $x := 1 }}", ":="),
        ("{{ humanize ($value) }}", "unexpected"),
        ('{{ printf "%d" $value }}', "'%d'"),
        ('{{ printf "%5.2f" $value }}', "'%5'"),
        ('{{ printf "%.2f" }}', "0 argument(s) for 1 verb(s)"),
        ('{{ printf "%s" $value }}', "'%s' for $value"),
        ('{{ printf "%f" $labels.x }}', "'%f' for a string"),
        ("{{ printf $labels.x }}", "literal format string"),
        ("{{ humanize $labels.x }}", "humanize"),
        ("{{ toUpper $value }}", "toUpper"),
        ("{{ humanize }}", "humanize"),
        ("{{ $value | $value }}", "used as a function"),
        ("{{ printf `%s` humanize }}", "used as an argument"),
        ("{{ }}", "empty"),
        ("{{ $value | }}", "empty"),
        ('{{ "\\x41" }}', "escape"),
    ],
)
def test_rejects_unsupported(text: str, mentions: str) -> None:
    with pytest.raises(TemplateProblem) as info:
        parse(text)
    message = str(info.value)
    assert mentions in message
    assert "Supported subset:" in message and "humanizeDuration" in message


# --------------------------------------------------------------------------------------------
# Cross-check against the real promtool: one rule per value, many annotations per rule.

LABEL = "checkout Ünïcode-aß_x İ y"  # `title` renders it alike on 2.x and 3.x
TEMPLATES = [
    "{{ $value }}",
    "{{ .Value }} / {{ $value | humanize }} / {{ humanize .Value }}",
    "{{ $value | humanizePercentage }} {{ humanizePercentage $value }}",
    "{{ humanizeDuration $value }}|{{ $value | humanizeDuration }}",
    '{{ printf "%.2f" $value }}|{{ $value | printf "%.2f" }}',
    '{{ printf "%e %.3e %g %.4g %v %.0f %f %.2v %.f %.10g" ' + " ".join(["$value"] * 10) + " }}",
    "{{ $labels.op }} P95 is {{ $value | humanize }}s",
    "{{ .Labels.op | toUpper }}|{{ $labels.op | toLower }}|{{ title $labels.op }}|"
    "[{{ $labels.missing }}][{{ $labels.sev }}]",  # a rule's static labels are not in $labels
    'a \n {{- $value -}} \t b {{/* comment */}} c\n{{- /* trimmed */ -}}\n d{{"\\t"}}{{ `r` }}',
    '{{ printf "%s=%.1f%% (%v)" $labels.op $value $labels.op }}',
    '{{ $value | humanize | toUpper }} {{ humanizeDuration $value | printf "%s!" }}',
    'x\t{{-\t$value|humanize\n-}}\n y{{"}}"}}{{/* multi\nline */}}{{$labels.op|title}}',
]


def _values() -> list[float]:
    fixed = [
        0.0, -0.0, 1.0, -1.0, 0.5, -5.0, 1e-9, 2.5e-7, 1e-5, 0.0001, 0.001, 0.0015, -0.0015,
        0.01, 0.1, 0.1 + 0.2, 0.125, 0.95, 0.999, 0.9999, 0.99995, 1.0005, 2 / 3, 9.9995,
        33.333333333333336, 59.99, 60.0, 99.995, 999.5, 999.9, 999.95, 1000.0, 1234.5,
        -1234.5, 3599.0, 3600.5, 12345.0, 86399.0, 86400.0, 90061.0, 99999.0, 100000.0,
        123456.0, 999999.0, 1e6, 1234567.0, 1.2345e6, 1e9, 4.468743327960138e16,
        9.2233720368547e18, 1e20, 1e21, 1e22, 1e25, -1e25, 5e-324, 1.7976931348623157e308,
        NAN, INF, -INF,
    ]  # fmt: skip
    boundaries = [float(f"{m}e{k}") for m in ("1.2345", "-9.9995") for k in range(-10, 25, 3)]
    rng = random.Random(20240611)
    randoms = [rng.uniform(-1, 1) * 10.0 ** rng.randint(-12, 24) for _ in range(20)]
    return fixed + boundaries + randoms


def _promql_number(v: float) -> str:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Inf" if v > 0 else "-Inf"
    return repr(v)


def _write_promtool_suite(tmp_path: Path, cases: list[tuple[float, dict[str, str]]]) -> Path:
    """One alerting rule plus one alert_rule_test per (value, {annotation: template})."""
    rules: list[dict[str, Any]] = []
    tests: list[dict[str, Any]] = []
    for i, (value, templates) in enumerate(cases):
        expr = f'label_replace(vector({_promql_number(value)}), "op", "{LABEL}", "", "")'
        rule = {"alert": f"Case{i}", "expr": expr, "for": "0s", "labels": {"sev": "page"}}
        rules.append({**rule, "annotations": templates})
        expected = {k: parse(t).render({"op": LABEL}, value) for k, t in templates.items()}
        tests.append(
            {
                "eval_time": "0s",
                "alertname": f"Case{i}",
                "exp_alerts": [
                    {"exp_labels": {"op": LABEL, "sev": "page"}, "exp_annotations": expected}
                ],
            }
        )
    rules_file = tmp_path / "rules.yml"
    rules_file.write_text(yaml.safe_dump({"groups": [{"name": "gotemplate", "rules": rules}]}))
    suite = {
        "rule_files": [str(rules_file)],
        "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": [], "alert_rule_test": tests}],
    }
    test_file = tmp_path / "tests.yml"
    test_file.write_text(yaml.safe_dump(suite))
    return test_file


def _run_promtool(test_file: Path, promtool: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool, "test", "rules", str(test_file)],
        cwd=test_file.parent,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_render_matches_promtool(tmp_path: Path, promtool: str) -> None:
    amd64 = platform.machine().lower() in {"x86_64", "amd64"}
    cases = []
    for value in _values():
        templates = {f"t{j}": t for j, t in enumerate(TEMPLATES)}
        if not amd64 and abs(value) >= 2.0**63:  # float->int64 overflow is arch-specific in Go
            templates = {k: t for k, t in templates.items() if "humanizeDuration" not in t}
        cases.append((value, templates))
    assert len(cases) >= 40
    result = _run_promtool(_write_promtool_suite(tmp_path, cases), promtool)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-20000:]
    assert "SUCCESS" in output


def test_promtool_harness_detects_mismatch(tmp_path: Path, promtool: str) -> None:
    """Guard against a vacuous cross-check: a wrong expectation must make promtool fail."""
    test_file = _write_promtool_suite(tmp_path, [(1e6, {"t": "{{ $value }}"})])
    suite = yaml.safe_load(test_file.read_text())
    alert = suite["tests"][0]["alert_rule_test"][0]["exp_alerts"][0]
    assert alert["exp_annotations"] == {"t": "1e+06"}
    alert["exp_annotations"] = {"t": "1000000"}
    test_file.write_text(yaml.safe_dump(suite))
    result = _run_promtool(test_file, promtool)
    assert result.returncode != 0
    assert 'Annotations:{t="1e+06"}' in result.stdout + result.stderr


# --------------------------------------------------------------------------------------------
# `title` differs between Prometheus 2.x (strings.Title) and 3.x (x/text/cases: Unicode word
# breaks, full case mappings). mcgen asserts only strings both render alike.

_ALPHABET = "abcXYZ019 -_/.:'’ßﬁŉǆσςéİ\u0307\t"


def _title_strings(agree: bool) -> list[str]:
    rng = random.Random(20261205)
    found: dict[str, None] = {}
    while len(found) < 150:
        s = "".join(rng.choice(_ALPHABET) for _ in range(rng.randint(1, 8)))
        if title_agrees(s) == agree:
            found[s] = None
    return list(found)


def _title_suite(tmp_path: Path, strings: list[str]) -> Path:
    templates = {"t": "{{ $labels.op | title }}"}
    cases = [(1.0, templates)] * len(strings)
    test_file = _write_promtool_suite(tmp_path, cases)
    suite = yaml.safe_load(test_file.read_text())
    rules_file = Path(suite["rule_files"][0])
    rules = yaml.safe_load(rules_file.read_text())
    for rule, check, s in zip(rules["groups"][0]["rules"], suite["tests"][0]["alert_rule_test"],
                              strings, strict=True):
        rule["expr"] = rule["expr"].replace(f"\"{LABEL}\"", json.dumps(s))
        check["exp_alerts"][0]["exp_labels"]["op"] = s
        check["exp_alerts"][0]["exp_annotations"] = {"t": _go_title(s)}
    rules_file.write_text(yaml.safe_dump(rules))
    test_file.write_text(yaml.safe_dump(suite))
    return test_file


def test_title_that_agrees_renders_alike_on_every_engine(tmp_path: Path, promtool: str) -> None:
    strings = _title_strings(agree=True)
    for s in strings:
        assert parse("{{ title $labels.op }}").render({"op": s}, 1.0) == _go_title(s)
    result = _run_promtool(_title_suite(tmp_path, strings), promtool)
    assert result.returncode == 0, (result.stdout + result.stderr)[-5000:]


def test_title_differences_are_real_and_refused(tmp_path: Path, promtool: str) -> None:
    """The strings `title_agrees` refuses include some that 3.x really renders otherwise
    (so the predicate is needed), and rendering them raises instead of guessing."""
    strings = ["ßa", "they're", "1a", "e.g", "ﬁsh"]
    assert not any(title_agrees(s) for s in strings)
    with pytest.raises(EngineDifference):
        parse("{{ title $labels.op }}").render({"op": "ßa"}, 1.0)
    result = _run_promtool(_title_suite(tmp_path, strings), promtool)
    major = engine_major(promtool)
    assert (result.returncode == 0) == (major == 2), (major, result.stdout[-3000:])
