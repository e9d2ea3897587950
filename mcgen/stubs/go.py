"""stubs/go/<service>/metrics.go: client_golang metrics registered through promauto, typed
helpers whose label parameters are named string types with a constant per allowed value.

Every name the file declares is exported and lives in one package namespace, so they are
handed out by one `_Names` in a fixed order (metric vars, helpers, label types, value
constants): a clash gets `_2`, `_3`, ... (names built from the spec never contain `_`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from mcgen import promql
from mcgen.spec.model import Metric, Service
from mcgen.stubs.common import CLIENT_CLASSES, MetricFacts, facts, summary_quantiles, unique
from mcgen.stubs.python import describe
from mcgen.text.templates import render_template

KEYWORDS = frozenset({
    "break", "case", "chan", "const", "continue", "default", "defer", "else", "fallthrough",
    "for", "func", "go", "goto", "if", "import", "interface", "map", "package", "range", "return",
    "select", "struct", "switch", "type", "var"
})
# The universe block (Go 1.21 added clear, max and min): shadowing one in a file or a
# function body can break code that uses it.
PREDECLARED = frozenset({
    "any", "bool", "byte", "comparable", "complex64", "complex128", "error", "float32", "float64",
    "int", "int8", "int16", "int32", "int64", "rune", "string", "uint", "uint8", "uint16",
    "uint32", "uint64", "uintptr", "true", "false", "iota", "nil", "append", "cap", "clear",
    "close", "complex", "copy", "delete", "imag", "len", "make", "max", "min", "new", "panic",
    "print", "println", "real", "recover"
})
# What the stub imports; a package of that name would need an alias next to them.
IMPORTS = frozenset({"prometheus", "promauto"})

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(ch: str, comment: bool) -> str:
    code = ord(ch)
    if 0xD800 <= code <= 0xDFFF:  # no UTF-8 for a lone surrogate, and Go rejects \ud800
        return "\\uFFFD"
    if ch in _ESCAPES and not (comment and ch in '\\"'):
        return _ESCAPES[ch]
    if ch.isprintable():
        return ch
    # \x is a byte in Go, so only ASCII; NUL and U+FEFF must never be raw in a Go file.
    return f"\\x{code:02x}" if code < 0x80 else f"\\u{code:04x}" if code < 0x10000 \
        else f"\\U{code:08x}"


def string(text: str) -> str:
    """A Go interpreted string literal of any text: `\\`, `"` and everything that is not
    printable escaped (control characters, separators such as U+2028, NUL, U+FEFF)."""
    return '"' + "".join(_escape(ch, comment=False) for ch in text) + '"'


def comment(text: str, code: bool = False) -> str:
    """`//` comment lines holding any text, one per line of it, escaped like a string
    literal except for `"` and `\\`, so nothing in it ends the comment or the line. As
    `code`, the lines are a doc comment's code block (`//<tab>line`): gofmt and go doc
    then take them as they are, where a paragraph's line could turn into a heading, a
    list or a code block."""
    lead = "//\t" if code else "// "
    out = []
    for line in text.split("\n"):
        body = "".join(_escape(ch, comment=True) for ch in line).rstrip()
        out.append(lead + body if body else "//")
    return "\n".join(out)


def number(value: float) -> str:
    """A float64 literal, spelled as client_golang writes the value (`1`, `0.005`, `1e+06`)."""
    return promql.go_float(value)


def camel(name: str) -> str:
    """`codehub_ws_errors_total` -> `CodehubWsErrorsTotal` (ASCII letters and digits
    only; '' when there are none)."""
    return "".join(word[:1].upper() + word[1:] for word in re.findall(r"[A-Za-z0-9]+", name))


def value_camel(value: str) -> str:
    """A label value as an identifier part: `ARCHIVING` -> `Archiving`, `5xx` -> `5xx`,
    `getUser` -> `GetUser`, `é` -> `E`; '' when nothing of it is ASCII alphanumeric."""
    folded = unicodedata.normalize("NFKD", value)
    words = re.findall(r"[A-Za-z0-9]+", folded)
    return "".join(w.capitalize() if w.isupper() or w.islower() else w[:1].upper() + w[1:]
                   for w in words)


def lower_camel(name: str) -> str:
    """A label name as a parameter: `coordinator_type` -> `coordinatorType`, `URL_path` ->
    `urlPath`, `_` -> `label`, `_5xx` -> `label5xx`."""
    words: list[str] = re.findall(r"[A-Za-z0-9]+", name)
    if not words or words[0][:1].isdigit():
        words.insert(0, "label")
    first = words[0].lower() if words[0].isupper() else words[0][:1].lower() + words[0][1:]
    return first + camel("_".join(words[1:]))


def package_name(service: str) -> str:
    """The package clause of a service's stub: the service without underscores (Go style),
    `metrics` appended when that is a keyword, predeclared, `main` (a command, not
    importable), `init` (not importable) or what the stub itself imports."""
    name = service.replace("_", "")
    if name in KEYWORDS | PREDECLARED | IMPORTS | {"main", "init"}:
        name += "metrics"
    return name


class _Names:
    """The package-level identifiers of one stub, each unique."""

    def __init__(self) -> None:
        self.taken: set[str] = set()

    def take(self, wanted: str) -> str:
        name, n = wanted, 2
        while name in self.taken:
            name, n = f"{wanted}_{n}", n + 1
        self.taken.add(name)
        return name


@dataclass(frozen=True)
class Param:
    label: str
    ident: str  # the parameter's name
    type: str  # the label's named string type, or `string` for an unbounded label
    consts: tuple[tuple[str, str], ...]  # (constant, allowed value), spec order

    def const(self, value: str) -> str:
        return next(c for c, v in self.consts if v == value)


@dataclass(frozen=True)
class GoMetric:
    facts: MetricFacts
    var: str
    kind: str  # Counter, Gauge, Histogram or Summary
    helpers: dict[str, str]  # verb (Inc, Add, Set, Observe, Time) -> function name
    params: tuple[Param, ...]
    objectives: tuple[tuple[float, float], ...]  # summaries: quantile -> allowed error

    @property
    def metric(self) -> Metric:
        return self.facts.metric

    @property
    def summary(self) -> str:
        return f"{self.var} is the metric {self.metric.name}, as its spec describes it:"

    @property
    def details(self) -> str:
        """The docstring text of the Python stub with the line naming the metric first: a
        doc comment's code block that starts with user text could turn into a list."""
        text, help_text = describe(self.metric), self.metric.help.strip()
        first, *rest = text.removeprefix(help_text + "\n\n").split("\n")
        return "\n".join([first, "", help_text, *([""] + rest if rest else [])])

    @property
    def keys(self) -> int:
        """The width of the longest key of its Opts literal (gofmt aligns the values)."""
        return len("Buckets:" if self.metric.buckets else
                   "Objectives:" if self.objectives else "Name:")


_VERBS = {"Counter": ("Inc", "Add"), "Gauge": ("Set", "Add"),
          "Histogram": ("Observe", "Time"), "Summary": ("Observe", "Time")}


def objectives(metric: Metric) -> tuple[tuple[float, float], ...]:
    """A summary's quantiles (the spec's and its alerts') with an allowed error of a tenth
    of the distance to 0 or 1: 0.5 +- 0.05, 0.9 +- 0.01, 0.99 +- 0.001."""
    return tuple((q, float(f"{min(q, 1 - q) / 10:.3g}")) for q in summary_quantiles(metric))


def metrics_of(svc: Service) -> list[GoMetric]:
    found = facts(svc)
    names = _Names()
    variables = [names.take(camel(mf.base) if camel(mf.base)[:1].isalpha()
                            else "Metric" + camel(mf.base)) for mf in found]
    helpers = [{verb: names.take(verb + var) for verb in _VERBS[CLIENT_CLASSES[mf.metric.type]]}
               for mf, var in zip(found, variables, strict=True)]
    types = [[names.take(var + (camel(lb.name) or f"Label{i + 1}"))
              if lb.values is not None else "string" for i, lb in enumerate(mf.labels)]
             for mf, var in zip(found, variables, strict=True)]
    out = []
    for mf, var, helper, kinds in zip(found, variables, helpers, types, strict=True):
        # Parameters are in scope in the helper's body, which uses the metric's var,
        # `value` and `string`.
        reserved = KEYWORDS | PREDECLARED | IMPORTS | {"value", var}
        idents = unique((lb.name for lb in mf.labels), set(reserved), lower_camel)
        params = []
        for lb, ident, kind in zip(mf.labels, idents, kinds, strict=True):
            consts = tuple((names.take(kind + (value_camel(v) or f"Value{i + 1}")), v)
                           for i, v in enumerate(lb.values or ()))
            params.append(Param(lb.name, ident, kind, consts))
        out.append(GoMetric(mf, var, CLIENT_CLASSES[mf.metric.type], helper, tuple(params),
                            objectives(mf.metric)))
    return out


def render(svc: Service) -> str:
    env = f" --env {svc.environment}" if svc.environment else ""
    source = svc.source.replace("\n", "\\n")  # the marker must stay on one line
    where = f" (environment {svc.environment})" if svc.environment else ""
    header = (f"Code generated by mcgen from {source}{where}. DO NOT EDIT.\n"
              f"Change the spec and run `mcgen generate{env}`.")
    return render_template(
        "stub_go.go.j2", {"go": string, "comment": comment, "num": number},
        header=header, package=package_name(svc.name), svc=svc, metrics=metrics_of(svc))
