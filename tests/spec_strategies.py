"""Hypothesis strategies that build random, valid mcgen specs (plain dicts, ready for YAML).

Used by tests/test_property.py. Everything here is independent of mcgen's own code: label
matching follows Prometheus 2.x semantics (RE2, fully anchored, `.` does not match a
newline), and reachability of selectors and overrides is decided by our own small solver,
so that a disagreement with mcgen shows up as a failing example instead of being copied.

A generated example is meant to be provable: every alert can both fire and stay quiet on
some series. The few contradictions we generate on purpose (an override that earlier
overrides or `select` shadow completely, a ratio that can never reach its threshold) are
recorded in `Example.expected_rejections`, with the message mcgen must give for them.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

Spec = dict[str, Any]
Draw = st.DrawFn

# ---- vocabulary ----------------------------------------------------------------------------

# Hostile pieces of label values: quotes, backslashes, newlines, braces, template and regex
# metacharacters, unicode (accents, CJK, an astral emoji), dots, pipes.
HOSTILE = ('"', "'", "\\", "\n", "\t", "{", "}", "{{", "}}", "$", "$1", "é", "日本", "😀",
           ".", "|", "*", "+", "?", "(", ")", "[", "]", "^", "-", " ", "%", "%s", "`", ",",
           "=", "!", "~", "#", ":", "/", "\\n", "<&>", "\r", "ß", "İ")
PLAIN = ("a", "b", "ok", "GET", "x1", "5xx", "eu-west", "Z", "_", "0")
# Metric label names; `le`/`quantile` are reserved per type and `instance`/`job` are
# rejected (scrape target labels).
# Labels named `service`, `severity` or `alertname`, and alert_labels named like a `by`
# label, are rejected by validation (the rule's label would overwrite the series label),
# so they stay out of LABEL_NAMES, and ALERT_LABEL_NAMES is disjoint from it.
LABEL_NAMES = ("code", "method", "kind", "region", "shard", "op", "status", "path", "Zone",
               "_priv", "x", "resource_group")
# Names for alert_labels / alert labels: disjoint from LABEL_NAMES (see above).
ALERT_LABEL_NAMES = ("team", "tier", "owner", "page", "env_name", "Pager")
FOR_DURATIONS = ("1m", "2m", "3m", "5m", "90s", "10m", "15m", "30m", "1m30s", "7m", "2m30s",
                 "1h")
WINDOWS = ("1m", "2m", "3m", "5m", "10m", "15m", "30m", "90s", "1m30s", "4m", "1m15s", "2m30s",
           "6m", "20m", "1h")
STALE_AFTER = ("1m", "90s", "2m30s", "5m", "10m", "30m", "1h", "2h", "12h", "1d")
ABSENT_FOR = ("1m", "90s", "2m", "5m", "10m", "30m", "1h")
INTERVALS = ("30s", "1m", "2m")
SEVERITIES = ("warning", "critical", "info", "page_1")
QUANTILES = (0.5, 0.9, 0.95, 0.99, 0.999, 0.75, 0.25, 0.1)
UNITS = ("seconds", "bytes", "ratio", "percent", "requests")
TARGET_LABELS = ("instance", "job")
# Other target labels (what relabelling adds): selectors, `select` and `by` may name them.
EXTRA_TARGET_LABELS = ("namespace", "cluster")


def seconds(duration: str) -> int:
    """Seconds of a duration written with s/m/h/d units, like 1m30s."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    return sum(int(n) * units[u] for n, u in re.findall(r"(\d+)([smhd])", duration))
# A fresh value no generated matcher names (values are built from HOSTILE/PLAIN pieces).
FRESH = "fresh-value-0"

# ---- label matching (Prometheus semantics) ---------------------------------------------------


def re2_full(pattern: str, value: str) -> bool:
    """Whether Prometheus 2.x's =~ matches: RE2, anchored, `.` excludes newline. The regexes
    we build (escaped literals, `.*`, `.+`, alternation) mean the same in Python's `re`."""
    return re.fullmatch(pattern, value) is not None


@dataclass(frozen=True)
class Sel:
    """One label matcher of a spec: its YAML form, its meaning, and values worth trying."""

    label: str
    spec: str | list[str]
    accepts: Callable[[str], bool] = field(compare=False)
    candidates: tuple[str, ...]  # values worth trying for this label (accepted or not)
    equality: str | None = None  # the value, when this is an `=` matcher

    def __repr__(self) -> str:
        return f"{self.label}: {self.spec!r}"


def _eq_spec(v: str) -> str | list[str]:
    """`v` selected with `=`; a leading ! or ~ would read as an operator, so use a list."""
    return [v] if v.startswith(("!", "~")) else v


def eq_sel(label: str, v: str) -> Sel:
    """Only a plain `=` carries its label onto an absent() alert; a one-item list is =~."""
    spec = _eq_spec(v)
    return Sel(label, spec, v.__eq__, (v,), equality=v if isinstance(spec, str) else None)


def _neq_spec(v: str) -> str:
    # "!~..." would be read as a negative regex: say the same thing with an escaped literal.
    return "!~" + re.escape(v) if v.startswith("~") else "!" + v


def _regex_for(draw: Draw, values: Sequence[str], literal_only: bool) -> str:
    """A regex accepting (under RE2) at least one of `values` (when not literal_only, maybe
    one with `.*`/`.+`). A `.` meeting a newline in one of the values would select
    differently on Prometheus 2.x and 3.x, which mcgen refuses (tests/invalid): such
    regexes fall back to the literal alternation."""
    form = "alt" if literal_only else draw(st.sampled_from(("alt", "alt", "prefix", "plus",
                                                            "group", "any")))
    if form != "alt":
        rx = _dotted_regex(draw, values, form)
        if all(re2_full(rx, v) == (re.fullmatch(rx, v, re.DOTALL) is not None)
               for v in values):
            return rx
    subset = draw(st.lists(st.sampled_from(list(values)), min_size=1, max_size=len(values),
                           unique=True))
    return "|".join(re.escape(v) for v in subset)


def _dotted_regex(draw: Draw, values: Sequence[str], form: str) -> str:
    if form == "any":
        return draw(st.sampled_from((".*", ".+")))
    subset = draw(st.lists(st.sampled_from(list(values)), min_size=1, max_size=len(values),
                           unique=True))
    if form in ("alt", "group"):
        alt = "|".join(re.escape(v) for v in subset)
        return f"(?:{alt})" if form == "group" else alt
    v = subset[0]
    if form == "plus" and len(v) >= 1:
        k = draw(st.integers(0, len(v) - 1))
        return re.escape(v[:k]) + ".+"
    k = draw(st.integers(0, len(v)))
    return re.escape(v[:k]) + ".*"


def matcher_for(draw: Draw, label: str, values: Sequence[str] | None,
                for_override: bool = False) -> Sel:
    """A matcher on `label` that selects at least one allowed value (RE2 semantics)."""
    if values is not None:
        ops = ["eq", "list", "re", "nre"] + (["neq"] if len(values) >= 2 else [])
        op = draw(st.sampled_from(ops))
        if op == "eq":
            v = draw(st.sampled_from(list(values)))
            return eq_sel(label, v)
        if op == "neq":
            v = draw(st.sampled_from(list(values)))
            return Sel(label, _neq_spec(v), lambda x: x != v,
                       tuple(w for w in values if w != v))
        if op == "list":
            subset = draw(st.lists(st.sampled_from(list(values)), min_size=1,
                                   max_size=len(values), unique=True))
            return Sel(label, subset, lambda x: x in subset, tuple(subset))
        rx = _regex_for(draw, values, literal_only=False)
        if op == "re":
            hits = tuple(v for v in values if re2_full(rx, v))
            if hits:
                return Sel(label, "~" + rx, lambda x: re2_full(rx, x), hits)
        else:
            misses = tuple(v for v in values if not re2_full(rx, v))
            if misses:
                return Sel(label, "!~" + rx, lambda x: not re2_full(rx, x), misses)
        v = values[0]  # the regex accepted nothing (or everything, for !~): plain equality
        return eq_sel(label, v)
    # Unbounded label: any value is allowed.
    op = draw(st.sampled_from(("eq", "eq", "neq", "list", "re", "nre")))
    if op == "eq":
        v = draw(label_values)
        return eq_sel(label, v)
    if op == "neq":
        v = draw(label_values)
        return Sel(label, _neq_spec(v), lambda x: x != v, (v, FRESH))
    some = draw(st.lists(label_values, min_size=1, max_size=3, unique=True))
    if op == "list":
        return Sel(label, some, lambda x: x in some, tuple(some))
    if op == "re":
        # Overrides stay on literal alternations so that our solver knows every witness.
        rx = _regex_for(draw, some, literal_only=for_override)
        if rx in (".*", ".+"):
            return Sel(label, "~" + rx, lambda x: re2_full(rx, x), ("w",))
        hits = tuple(v for v in some if re2_full(rx, v))
        if hits:
            prefix = rx[:-2]
            witness = re.sub(r"\\(.)", r"\1", prefix, flags=re.DOTALL) if rx.endswith(".*") \
                else None
            extra = (witness,) if witness is not None and re2_full(rx, witness) else ()
            return Sel(label, "~" + rx, lambda x: re2_full(rx, x), hits + extra)
        return Sel(label, some, lambda x: x in some, tuple(some))
    alt = "|".join(re.escape(v) for v in some)
    return Sel(label, "!~" + alt, lambda x: not re2_full(alt, x), (*some, FRESH))


def solve(labels: dict[str, list[str] | None], want: Sequence[Sel],
          avoid: Sequence[Sequence[Sel]]) -> dict[str, str] | None:
    """Label values (one per declared label) accepted by every `want` matcher and by no
    complete group of `avoid`; None when our candidates hold no such combination. For an
    unbounded label the candidates are every witness any matcher knows plus fresh values,
    so a None may be pessimistic but a solution is always real."""
    every = [*want, *(s for g in avoid for s in g)]
    names = list(labels)
    pools = []
    for name in names:
        allowed = labels[name]
        if allowed is not None:
            pools.append(list(allowed))
        else:
            pool = [w for s in every if s.label == name for w in s.candidates]
            pools.append(list(dict.fromkeys([*pool, FRESH, "example", "w"])))
    for combo in itertools.islice(itertools.product(*pools), 50_000):
        got = dict(zip(names, combo, strict=True))
        if not all(s.accepts(got.get(s.label, "")) for s in want):
            continue
        if any(all(s.accepts(got.get(s.label, "")) for s in g) for g in avoid):
            continue
        return got
    return None


def _branches(rx: str) -> list[str]:
    """Literal strings a simple regex (escaped alternation, maybe in (?:...), maybe with a
    trailing .* or .+) accepts; only candidates, the caller checks them."""
    body = rx[3:-1] if rx.startswith("(?:") and rx.endswith(")") else rx
    out = []
    for part in re.split(r"(?<!\\)\|", body):
        if part.endswith((".*", ".+")):
            part = part[:-2] + ("x" if part.endswith(".+") else "")
        out.append(re.sub(r"\\(.)", r"\1", part, flags=re.DOTALL))
    return out


def parse_sel(label: str, spec: str | list[str]) -> Sel:
    """A spec's matcher, read back (the inverse of Sel.spec)."""
    if isinstance(spec, list):
        values = list(spec)
        return Sel(label, spec, lambda x: x in values, tuple(values))
    if spec.startswith("!~"):
        rx = spec[2:]
        return Sel(label, spec, lambda x: not re2_full(rx, x), (*_branches(rx), FRESH))
    if spec.startswith("!"):
        v = spec[1:]
        return Sel(label, spec, lambda x: x != v, (v, FRESH))
    if spec.startswith("~"):
        rx = spec[1:]
        return Sel(label, spec, lambda x: re2_full(rx, x), tuple(_branches(rx)))
    return Sel(label, spec, spec.__eq__, (spec,), equality=spec)


def own_threshold_reachable(metric: Spec, alert: Spec) -> bool:
    """Whether some series is judged against the alert's own threshold: it passes `select`
    and no override takes it (first match wins). A False may be pessimistic."""
    labels: dict[str, list[str] | None] = dict(metric.get("labels", {}))
    select = [parse_sel(k, v) for k, v in alert.get("select", {}).items()]
    taken = [[parse_sel(k, v) for k, v in o["match"].items()]
             for o in alert.get("overrides", ())]
    for s in [*select, *(m for group in taken for m in group)]:
        labels.setdefault(s.label, None)  # a target label: any value
    return solve(labels, select, taken) is not None


label_values: st.SearchStrategy[str] = st.one_of(
    st.sampled_from(PLAIN),
    st.lists(st.sampled_from(HOSTILE + PLAIN), min_size=1, max_size=4).map("".join),
)

# ---- numbers ---------------------------------------------------------------------------------


def nice(lo_exp: int, hi_exp: int) -> st.SearchStrategy[float]:
    """Positive numbers of 1-3 significant digits between 10**lo_exp and 10**(hi_exp+3)."""
    return st.builds(lambda m, e: float(f"{m}e{e}"), st.integers(1, 999),
                     st.integers(lo_exp, hi_exp))


# Positive numbers from 1e-4 to 1e4: round ones (1-3 significant digits) and arbitrary.
positive: st.SearchStrategy[float] = st.one_of(nice(-4, 1), st.floats(1e-4, 1e4))


# Thresholds of gauges and summaries: any sign, magnitudes from 1e-12 to 1e20, sometimes
# integers (YAML ints), sometimes long floats.
any_number: st.SearchStrategy[float] = st.one_of(
    positive, positive.map(lambda x: -x), st.just(0.0),
    st.integers(-1000, 1000).map(float), st.floats(-1e20, 1e20, allow_subnormal=False),
    st.floats(1e-12, 1e-6), st.floats(1e12, 1e20))


@st.composite
def buckets(draw: Draw) -> list[float]:
    """Strictly increasing positive bounds of varied magnitude (1e-4 .. 1e4)."""
    centre = draw(st.integers(-4, 3))
    raw = draw(st.lists(st.one_of(nice(max(-4, centre - 1), min(3, centre + 1)),
                                  st.floats(1e-4, 1e4)),
                        min_size=1, max_size=8))
    out: list[float] = []
    for x in sorted(x for x in raw if 1e-4 <= x <= 1e4):
        # Bounds a few ulps apart leave no float between them to aim at: not a real spec.
        if not out or x > out[-1] * (1 + 1e-9):
            out.append(x)
    if draw(st.booleans()):  # whole bounds as YAML ints (le="5.0" from the Python client)
        out = [int(x) if x.is_integer() else x for x in out]
    return out or [1.0]


def histogram_threshold(draw: Draw, q: float, bounds: Sequence[float]) -> float:
    """A threshold strictly between q x first bucket and the last bucket."""
    low, high = q * bounds[0], bounds[-1]
    inner = [b for b in bounds if low < b < high]
    on_bound: bool = draw(st.booleans())
    if inner and on_bound:
        return draw(st.sampled_from(inner))
    f = draw(st.floats(0.02, 0.98))
    t = float(f"{low + f * (high - low):.4g}")
    return t if low < t < high else (low + high) / 2


# ---- the spec ----------------------------------------------------------------------------------


@dataclass
class Example:
    specs: list[Spec]
    # (service, alert) -> regex a problem about that alert must match to be acceptable.
    expected_rejections: dict[tuple[str, str], str] = field(default_factory=dict)


@dataclass
class _Metric:
    name: str
    type: str
    labels: dict[str, list[str] | None]
    buckets: list[float]
    quantiles: list[float]
    spec: Spec
    selector: Spec = field(default_factory=dict)  # its selector (its own or its service's)

    @property
    def scoped(self) -> tuple[str, ...]:
        """The labels its selector names (select leaves them be)."""
        return tuple(self.selector)


class _Service:
    def __init__(self, draw: Draw, name: str) -> None:
        self.draw = draw
        self.name = name
        self.expected: dict[tuple[str, str], str] = {}
        self.alert_names: set[str] = set()
        # A rate window must span two scrapes (defaults.scrape_interval, default 1m).
        self.scrape: str | None = draw(st.sampled_from((None, None, "15s", "30s", "1m")))
        self.windows = [w for w in WINDOWS if seconds(w) >= 2 * seconds(self.scrape or "1m")]

    def alert_name(self, metric_index: int) -> str:
        base = self.draw(st.sampled_from(("High", "Low", "Slow", "Stale", "Absent", "Alert")))
        name = f"{base}M{metric_index}"
        k = 1
        while name in self.alert_names:
            k += 1
            name = f"{base}M{metric_index}N{k}"
        self.alert_names.add(name)
        return name


def _label_map(draw: Draw) -> dict[str, str]:
    names = draw(st.lists(st.sampled_from(ALERT_LABEL_NAMES), min_size=1, max_size=2,
                          unique=True))
    # Prometheus expands alert label values as templates: include "{{" and actions.
    values = st.one_of(st.sampled_from(PLAIN), label_values,
                       st.sampled_from(("{{ $value }}", "{{ $labels.x }}", "{{", "}}{{")))
    return {n: draw(values) for n in names}


def _template(draw: Draw, carried: Sequence[str]) -> str:
    """A summary/description in the template subset mcgen supports."""
    texts = st.sampled_from(("Latency is", "value:", "p95 =", "rate 100%", "\"quoted\"",
                             "back\\slash", "cost $5", "naïve ✓ 日本", "a < b & c > d",
                             "brace { and }", "}} closes", "ratio", ".", "|"))
    actions = ["{{ $value }}", "{{ $value | humanize }}", '{{ printf "%.3f" $value }}',
               "{{ .Value }}", "{{ $value | humanizePercentage }}",
               "{{ humanizeDuration $value }}", '{{ printf "%.2e" $value }}',
               '{{- $value -}}', '{{ "{{" }}']
    for lb in carried:
        actions += [f"{{{{ $labels.{lb} }}}}", f"{{{{ .Labels.{lb} }}}}",
                    f"{{{{ $labels.{lb} | toUpper }}}}"]
    parts = draw(st.lists(st.one_of(texts, st.sampled_from(actions)), min_size=1, max_size=5))
    text = " ".join(parts).strip()
    return text or "x"


def _templates(draw: Draw, alert: Spec, carried: Sequence[str]) -> None:
    for key in ("summary", "description"):
        if draw(st.integers(0, 2)) == 0:
            alert[key] = _template(draw, carried)


def _by(draw: Draw, metric: _Metric, also_on: dict[str, list[str] | None] | None = None
        ) -> list[str] | None:
    """None: leave `by` out (all declared labels)."""
    declared = [n for n in metric.labels if also_on is None or n in also_on]
    if also_on is None and draw(st.integers(0, 3)) == 0:
        return None
    pool = declared + list(TARGET_LABELS) + list(EXTRA_TARGET_LABELS)
    return draw(st.lists(st.sampled_from(pool), max_size=len(pool), unique=True))


def _select(draw: Draw, metric: _Metric, max_labels: int = 2, exclude: Sequence[str] = ()
            ) -> list[Sel]:
    names = [n for n in metric.labels if n not in exclude]
    target = [n for n in EXTRA_TARGET_LABELS if n not in (*exclude, *metric.scoped)]
    out = []
    if target and draw(st.integers(0, 5)) == 0:  # a target label: any value
        out.append(matcher_for(draw, draw(st.sampled_from(target)), None))
    if not names or draw(st.integers(0, 2)) == 0:
        return out
    names = draw(st.lists(st.sampled_from(names), min_size=1,
                          max_size=min(max_labels, len(names)), unique=True))
    return [*out, *(matcher_for(draw, n, metric.labels[n]) for n in names)]


def _overrides(draw: Draw, svc: _Service, alert: Spec, metric: _Metric, by: Sequence[str],
               select: Sequence[Sel], word: str, threshold: Callable[[], float]) -> None:
    match_labels = [lb for lb in by if lb in metric.labels]
    if not match_labels or draw(st.integers(0, 1)) != 0:
        return
    out: list[Spec] = []
    earlier: list[list[Sel]] = []
    for _ in range(draw(st.integers(1, 3))):
        names = draw(st.lists(st.sampled_from(match_labels), min_size=1,
                              max_size=min(2, len(match_labels)), unique=True))
        match = [matcher_for(draw, n, metric.labels[n], for_override=True) for n in names]
        reachable = solve(metric.labels, [*select, *match], earlier) is not None
        if not reachable:
            # Shadowed by earlier overrides or by `select`: a genuine contradiction, kept
            # now and then to check that mcgen says so instead of writing a broken test.
            if draw(st.integers(0, 49)) != 0:
                continue
            svc.expected[(svc.name, alert["alert"])] = \
                "no series can reach override|override [0-9]+ applies to no series"
        out.append({"match": {s.label: s.spec for s in match}, word: threshold()})
        earlier.append(match)
    if out:
        alert["overrides"] = out


def _common(draw: Draw, svc: _Service, alert: Spec, window: bool = True, for_: bool = True
            ) -> None:
    if for_ and draw(st.booleans()):
        alert["for"] = draw(st.sampled_from(FOR_DURATIONS))
    if window and draw(st.booleans()):
        alert["window"] = draw(st.sampled_from(svc.windows))
    if draw(st.booleans()):
        alert["severity"] = draw(st.sampled_from(SEVERITIES))
    if draw(st.integers(0, 3)) == 0:
        alert["labels"] = _label_map(draw)


def _filter(draw: Draw, label: str, allowed: Sequence[str] | None) -> Sel:
    """A numerator filter that leaves out at least one value of `label`."""
    if allowed is None:
        v = draw(label_values)
        if draw(st.booleans()):
            return eq_sel(label, v)
        return Sel(label, _neq_spec(v), lambda x: x != v, (v, FRESH))
    subset = draw(st.lists(st.sampled_from(list(allowed)), min_size=1,
                           max_size=len(allowed) - 1, unique=True))
    if len(subset) == 1 and draw(st.booleans()):
        return eq_sel(label, subset[0])
    return Sel(label, subset, lambda x: x in subset, tuple(subset))


def _ratio_alert(draw: Draw, svc: _Service, alert: Spec, metric: _Metric,
                 counters: Sequence[_Metric]) -> None:
    others = [c for c in counters if c.name != metric.name]
    if metric.type == "gauge" and not others:
        alert["value"] = True  # a ratio of gauges here divides two different gauges
        alert["above"] = draw(positive)
        return
    pick_other: bool = metric.type == "gauge" or draw(st.integers(0, 2)) > 0
    den = draw(st.sampled_from(others)) if others and pick_other else metric
    same = den.name == metric.name
    by = _by(draw, metric, also_on=den.labels) or []
    # A label both selectors name, differently, may have no value common to both.
    by = [lb for lb in by if metric.selector.get(lb) == den.selector.get(lb)]
    select: list[Sel] = []
    if same:
        # A ratio of a counter to itself needs a numerator filter on a label outside `by`
        # (within one `by` group numerator and denominator would otherwise be equal).
        filterable = [lb for lb, v in metric.labels.items() if v is None or len(v) >= 2]
        if not filterable:
            alert["rate"] = True
            alert["above"] = draw(positive)
            return
        label = draw(st.sampled_from(filterable))
        by = [lb for lb in by if lb != label]
        select = [_filter(draw, label, metric.labels[label])]
        select += [m for m in _select(draw, metric, exclude=(label,))]
    else:
        select = _select(draw, metric)
    # The denominator filter stays off `by` (a `by` group the denominator lacks can never
    # fire) and off the numerator's filter label (it could make the ratio identically 1).
    den_select = _select(draw, den, exclude=(*by, *(s.label for s in select[:1] if same)))
    alert["ratio_to"] = {"metric": den.name}
    if den_select:
        alert["ratio_to"]["select"] = {s.label: s.spec for s in den_select}
    if select:
        alert["select"] = {s.label: s.spec for s in select}
    # Numerator series also counted in the denominator (same metric only)?
    num_combos = _combos(metric.labels, select)
    shared = [same and all(s.accepts(c.get(s.label, "")) for s in den_select) for c in num_combos]
    # With the numerator inside the denominator the ratio is at most 1.
    capped = bool(shared) and all(shared)
    # Different counters may allow different values of a `by` label: only the shared
    # values can ever give a ratio.
    differs = not same and any(metric.labels.get(lb) != den.labels.get(lb) for lb in by)
    if differs and not any(all(den.labels.get(lb) is None or c.get(lb) in (den.labels[lb] or ())
                               for lb in by if lb in metric.labels) for c in num_combos):
        svc.expected[(svc.name, alert["alert"])] = "has no value allowed .and selected. on both"
    word = draw(st.sampled_from(("above", "below")))
    if word == "above":
        t = draw(st.one_of(st.just(0.0),
                           st.sampled_from((0.001, 0.01, 0.05, 0.1, 0.5, 0.9, 0.95, 0.99)),
                           st.floats(0.0001, 0.999), st.floats(1.0, 10.0)))
    else:
        t = draw(st.one_of(st.sampled_from((0.001, 0.01, 0.1, 0.5, 0.9, 0.95, 0.99)),
                           st.floats(0.0001, 0.999), st.floats(1.0, 10.0)))
    if t >= 1 and any(shared):
        if capped and draw(st.integers(0, 19)) == 0:
            # Can never exceed 1 (above), or is below T >= 1 whenever there is traffic.
            svc.expected[(svc.name, alert["alert"])] = \
                "can never fire|cannot build a denominator series giving ratio|" \
                "cross the threshold"
        else:
            t = draw(st.sampled_from((0.1, 0.5, 0.8)))
    alert[word] = t
    alert["by"] = by
    _common(draw, svc, alert)
    if not differs:  # (overrides could pick values the denominator lacks)
        _overrides(draw, svc, alert, metric, by, select, word, lambda: draw(
            st.sampled_from((0.01, 0.2, 0.5))))
    _templates(draw, alert, by)


def _combos(labels: dict[str, list[str] | None], select: Sequence[Sel]) -> list[dict[str, str]]:
    labels = {**labels, **{s.label: None for s in select if s.label not in labels}}
    pools = []
    for name, allowed in labels.items():
        if allowed is not None:
            pools.append(list(allowed))
        else:
            pools.append(list(dict.fromkeys(
                [*(w for s in select if s.label == name for w in s.candidates), FRESH])))
    out = []
    for combo in itertools.islice(itertools.product(*pools), 5_000):
        got = dict(zip(labels, combo, strict=True))
        if all(s.accepts(got[s.label]) for s in select):
            out.append(got)
    return out


def _alert(draw: Draw, svc: _Service, metric: _Metric, index: int,
           peers: Sequence[_Metric]) -> Spec:
    """An alert on `metric`; `peers` are the service's metrics of its type (a ratio's
    denominators)."""
    kinds = {"counter": ["rate", "ratio_to", "absent_for"],
             "gauge": ["value", "value", "stale_after", "absent_for", "ratio_to"],
             "histogram": ["quantile", "quantile", "rate", "absent_for"],
             "summary": ["quantile", "quantile", "absent_for"]}[metric.type]
    kind = draw(st.sampled_from(kinds))
    alert: Spec = {"alert": svc.alert_name(index)}
    if kind == "ratio_to":
        _ratio_alert(draw, svc, alert, metric, peers)
        return alert
    if kind == "absent_for":
        alert["absent_for"] = draw(st.sampled_from(ABSENT_FOR))
        select = _select(draw, metric)
        if select:
            alert["select"] = {s.label: s.spec for s in select}
        _common(draw, svc, alert, window=False, for_=False)
        _templates(draw, alert, [s.label for s in select if s.equality is not None])
        return alert
    by = _by(draw, metric)
    by_list = list(metric.labels) if by is None else by
    select = _select(draw, metric)
    if select:
        alert["select"] = {s.label: s.spec for s in select}
    if by is not None:
        alert["by"] = by
    if kind == "stale_after":
        alert["stale_after"] = draw(st.sampled_from(STALE_AFTER))
        _common(draw, svc, alert)
        _templates(draw, alert, by_list)
        return alert
    word = draw(st.sampled_from(("above", "below")))
    threshold: Callable[[], float]
    if kind == "quantile" and metric.type == "histogram":
        q = draw(st.sampled_from(QUANTILES))
        alert["quantile"] = q
        threshold = lambda: histogram_threshold(draw, q, metric.buckets)  # noqa: E731
    elif kind == "quantile":
        alert["quantile"] = draw(st.sampled_from(metric.quantiles))
        threshold = lambda: draw(any_number)  # noqa: E731
    elif kind == "rate":
        alert["rate"] = True
        floor = 0.0 if word == "above" else 1e-4
        threshold = lambda: draw(st.one_of(positive,  # noqa: E731
                                           st.just(floor), st.just(1), st.floats(1e-7, 1e7)))
    else:  # value
        alert["value"] = True
        threshold = lambda: draw(st.one_of(  # noqa: E731
            any_number, st.integers(-1_000_000, 10**9)))
    alert[word] = threshold()
    _common(draw, svc, alert, window=kind in ("quantile", "rate") and metric.type != "summary")
    _overrides(draw, svc, alert, metric, by_list, select, word, threshold)
    _templates(draw, alert, by_list)
    return alert


def _metric(draw: Draw, svc: str, index: int, pool: dict[str, list[str] | None]) -> _Metric:
    mtype = draw(st.sampled_from(("counter", "counter", "gauge", "histogram", "summary")))
    unit = draw(st.sampled_from(UNITS)) if draw(st.integers(0, 3)) == 0 else None
    base = f"{svc}_m{index}" if draw(st.integers(0, 5)) else f"{svc}:M{index}"
    name = base + (f"_{unit}" if unit else "") + ("_total" if mtype == "counter" else "")
    names = draw(st.lists(st.sampled_from(list(pool)), max_size=min(3, len(pool)), unique=True)
                 ) if pool else []
    labels: dict[str, list[str] | None] = {}
    for n in names:
        allowed = pool[n]
        if allowed is not None and draw(st.integers(0, 2)) == 0:
            # The same label name with other (usually overlapping) values on this metric.
            allowed = draw(st.lists(st.sampled_from(allowed), min_size=1, max_size=len(allowed),
                                    unique=True))
            extra = draw(label_values)
            if draw(st.booleans()) and extra not in allowed:
                allowed = [*allowed, extra]
        labels[n] = allowed
    spec: Spec = {"name": name, "type": mtype,
                  "help": draw(st.sampled_from(("Requests.", 'Hostile "help" \\ {{ $x }}\nline 2',
                                                "Ünïcode help ✓")))}
    if unit:
        spec["unit"] = unit
    if labels:
        spec["labels"] = {n: (list(v) if v is not None else None) for n, v in labels.items()}
    bounds: list[float] = []
    quantiles = [0.5, 0.95, 0.99]
    if mtype == "histogram":
        bounds = draw(buckets())
        spec["buckets"] = bounds
    if mtype in ("histogram", "summary") and draw(st.booleans()):
        quantiles = draw(st.lists(st.sampled_from(QUANTILES), min_size=1, max_size=4,
                                  unique=True))
        spec["quantiles"] = quantiles
    if mtype == "gauge" and draw(st.booleans()):
        spec["multiprocess_mode"] = draw(st.sampled_from(("livesum", "max", "all")))
    return _Metric(name, mtype, labels, bounds, quantiles, spec)


def _slos(draw: Draw, metrics: Sequence[_Metric]) -> list[Spec]:
    """Usually none, else one or two SLOs over this service's counters and histograms
    (objectives and periods whose burn-rate rules can all fire)."""
    out: list[Spec] = []
    counters = [m for m in metrics if m.type == "counter"]
    histograms = [m for m in metrics if m.type == "histogram"]
    for i in range(draw(st.sampled_from((0, 0, 0, 1, 2)))):  # SLO tests are slow
        slo: Spec = {"name": draw(st.sampled_from(("availability", "latency", "a-1", "x")))
                     + f"-{i}",
                     "objective": draw(st.sampled_from((95, 99, 99.5, 99.9, 99.95)))}
        if draw(st.booleans()):
            slo["window"] = draw(st.sampled_from(("1d", "7d", "28d", "30d")))
        labelled = [m for m in counters if any(v is None or len(v) > 1
                                                for v in m.labels.values())]
        if histograms and (draw(st.booleans()) or not (labelled or len(counters) > 1)):
            m = draw(st.sampled_from(histograms))
            latency: Spec = {"metric": m.name, "below": draw(st.sampled_from(m.buckets))}
            bounded = [n for n, v in m.labels.items() if v]
            if bounded and draw(st.booleans()):
                label = draw(st.sampled_from(bounded))
                latency["select"] = {label: draw(st.sampled_from(m.labels[label] or ["x"]))}
            slo["sli"] = {"latency": latency}
        elif labelled:
            m = draw(st.sampled_from(labelled))
            label = draw(st.sampled_from([n for n, v in m.labels.items() if v is None or
                                          len(v) > 1]))
            value = draw(st.sampled_from(m.labels[label] or ["error"]))
            slo["sli"] = {"events": {"error": {"metric": m.name,
                                               "select": {label: _eq_spec(value)}},
                                     "total": {"metric": m.name}}}
        elif len(counters) > 1:
            err, total = draw(st.permutations(counters))[:2]
            slo["sli"] = {"events": {"error": {"metric": err.name},
                                     "total": {"metric": total.name}}}
        else:
            continue
        alerting: Spec = {}
        off = draw(st.sampled_from((None, None, "page", "ticket")))
        if off:
            alerting[off] = False
        if draw(st.integers(0, 3)) == 0:
            alerting["min_traffic"] = draw(st.sampled_from((0.01, 1, 25.5)))
        if draw(st.integers(0, 3)) == 0:
            alerting["labels"] = _label_map(draw)
        absent = draw(st.sampled_from((None, None, False, "for")))
        if absent is False:
            alerting["absent"] = False
        elif absent:
            alerting["absent"] = {"for": draw(st.sampled_from(("2m", "10m", "1h"))),
                                  "severity": draw(st.sampled_from(("info", "critical")))}
        if alerting:
            slo["alerting"] = alerting
        out.append(slo)
    return out


def _selector(draw: Draw, name: str) -> Spec:
    """A service's `selector`: its job (a plain value, hostile or not, a list or a regex),
    sometimes with a namespace matcher."""
    job = draw(st.sampled_from(("eq", "eq", "hostile", "list", "re")))
    out: Spec = {"job": {"eq": name, "hostile": None, "list": [name, f"{name}-canary"],
                         "re": f"~{re.escape(name)}(-.+)?"}[job]}
    if out["job"] is None:
        out["job"] = _eq_spec(draw(label_values))
    if draw(st.booleans()):
        out["namespace"] = draw(st.sampled_from(("!kube-system", "~prod-.*", "prod",
                                                 ["prod", "staging"])))
    return out


def _metric_selector(draw: Draw) -> Spec:
    """A metric's own selector (an exporter's job), or {} for none at all."""
    return draw(st.sampled_from(({}, {"job": "node"}, {"job": "node", "instance": "~db-.*"})))


@st.composite
def service_specs(draw: Draw, name: str) -> tuple[Spec, dict[tuple[str, str], str]]:
    svc = _Service(draw, name)
    pool_names = draw(st.lists(st.sampled_from(LABEL_NAMES), max_size=4, unique=True))
    pool: dict[str, list[str] | None] = {}
    for lb in pool_names:
        pool[lb] = None if draw(st.integers(0, 4)) == 0 else draw(
            st.lists(label_values, min_size=1, max_size=4, unique=True))
    metrics = [_metric(draw, name, i, pool) for i in range(draw(st.integers(1, 4)))]
    selector = _selector(draw, name) if draw(st.integers(0, 2)) == 0 else None
    for m in metrics:
        if draw(st.integers(0, 7)) == 0:
            m.spec["selector"] = _metric_selector(draw)
        m.selector = m.spec.get("selector", selector or {})
    for i, m in enumerate(metrics):
        alerts = [_alert(draw, svc, m, i, [x for x in metrics if x.type == m.type])
                  for _ in range(draw(st.integers(0 if i else 1, 3)))]
        if alerts:
            m.spec["alerts"] = alerts
    spec: Spec = {"version": 1, "service": name}
    if selector is not None:
        spec["selector"] = selector
    if draw(st.booleans()):
        spec["alert_labels"] = _label_map(draw)
    if draw(st.booleans()):
        spec["runbook_base_url"] = draw(st.sampled_from((
            "https://runbooks.example.com/" + name, "http://wiki.example.com/runbooks/",
            "https://example.com/a%20b/ü?x=1&y=$2")))
    defaults: Spec = {}
    for key, values in (("rate_window", svc.windows), ("for", FOR_DURATIONS),
                        ("severity", SEVERITIES), ("interval", INTERVALS)):
        if draw(st.booleans()):
            defaults[key] = draw(st.sampled_from(values))
    if svc.scrape:
        defaults["scrape_interval"] = svc.scrape
    if defaults:
        spec["defaults"] = defaults
    spec["metrics"] = [m.spec for m in metrics]
    slos = _slos(draw, metrics)
    if slos:
        spec["slos"] = slos
    return spec, svc.expected


@st.composite
def examples(draw: Draw) -> Example:
    """One to two services (all checked by one promtool call)."""
    names = draw(st.lists(st.sampled_from(("api", "svc", "payments_api", "q0", "edge")),
                          min_size=1, max_size=2, unique=True))
    out = Example([])
    for name in names:
        spec, expected = draw(service_specs(name))
        out.specs.append(spec)
        out.expected_rejections.update(expected)
    if len(out.specs) == 2 and draw(st.integers(0, 3)) == 0:
        first, second = out.specs
        for alert in _share_a_metric(first, second):
            why = out.expected_rejections.get((first["service"], alert))
            if why:
                out.expected_rejections[(second["service"], f"Shared{alert}")] = why
    return out


def _share_a_metric(first: Spec, second: Spec) -> list[str]:
    """Both services declare the first one's first metric (as every service has its own
    `http_requests_total`), their selectors fixing `job` to different values. Returns
    the names of the alerts copied (prefixed `Shared` in the second service)."""
    metric = first["metrics"][0]
    if "selector" in metric or any("ratio_to" in a for a in metric.get("alerts", ())):
        return []
    for spec in (first, second):
        spec["selector"] = {**spec.get("selector", {}), "job": f"job-{spec['service']}"}
    copy = {**metric, "alerts": [{**a, "alert": f"Shared{a['alert']}"}
                                 for a in metric.get("alerts", ())]}
    if not copy["alerts"]:
        del copy["alerts"]
    second["metrics"].append(copy)
    return [a["alert"] for a in metric.get("alerts", ())]


# ---- regressions: the minimal specs of the generator bugs this property found ----------------


def _one(service: str, *metrics: Spec, **extra: Any) -> Spec:
    return {"version": 1, "service": service, **extra, "metrics": list(metrics)}


def _counter(name: str, labels: dict[str, Any] | None = None, *alerts: Spec) -> Spec:
    out: Spec = {"name": name, "type": "counter", "help": "Requests."}
    if labels:
        out["labels"] = labels
    if alerts:
        out["alerts"] = list(alerts)
    return out


REGRESSIONS = [
    # Histogram counts rounded to the nearest integer put the estimate on the bucket bound
    # instead of past it: "never cross the threshold 1", "... at 465.998 cross ... 466".
    Example([_one("reg_hist", {
        "name": "reg_hist_seconds", "type": "histogram", "help": "Latency.",
        "buckets": [0.1, 1, 10],
        "alerts": [{"alert": "P999High", "quantile": 0.999, "above": 1, "window": "2m"}]},
        {"name": "reg_hist_one_seconds", "type": "histogram", "help": "Latency.",
         "buckets": [466.0040230117639],
         "alerts": [{"alert": "P999NearTop", "quantile": 0.999, "above": 466.0,
                     "window": "2m"}]})]),
    # Ratios: below 0.95 of the same counter (quiet case asked for ratio 1.045), above 0
    # (ZeroDivisionError / unprovable), by [instance] (no denominator found), a negated
    # select on an unbounded label (excluded value never tried), and a denominator of
    # three unequal terms that promtool sums in random order (flaky $value).
    Example([_one(
        "reg_ratio",
        _counter("reg_ratio_requests_total", {"status": ["error", "ok"], "code": None},
                 {"alert": "SuccessRatioLow", "ratio_to": {"metric": "reg_ratio_requests_total"},
                  "select": {"status": "ok"}, "below": 0.95, "by": []},
                 {"alert": "AnyErrors", "ratio_to": {"metric": "reg_ratio_requests_total"},
                  "select": {"status": "error"}, "above": 0, "by": []},
                 {"alert": "Non200RatioHigh", "ratio_to": {"metric": "reg_ratio_requests_total"},
                  "select": {"code": "!200"}, "above": 0.1, "by": []},
                 {"alert": "ErrorRatioValue", "ratio_to": {"metric": "reg_ratio_requests_total"},
                  "select": {"status": "error"}, "above": 0.3, "by": [],
                  "description": "{{ $value }} of requests fail"}),
        _counter("reg_ratio_errors_total", None,
                 {"alert": "AnyErrorsOther", "ratio_to": {"metric": "reg_ratio_requests_total"},
                  "above": 0, "by": []},
                 {"alert": "ErrorRatioPerInstance",
                  "ratio_to": {"metric": "reg_ratio_requests_total"}, "above": 0.1,
                  "by": ["instance"]}))]),
    # Select regexes: mcgen matched with re.DOTALL (`.` took a newline, unlike RE2), and
    # built a series with an empty label value for `~.*` (Prometheus drops the label).
    # Since Prometheus 3.0 `.` does take a newline, so mcgen refuses a `.` that meets one.
    Example([_one("reg_regex", {
        "name": "reg_regex_queue_depth", "type": "gauge", "help": "Queue depth.",
        "labels": {"queue": ["a\nb", "c"], "shard": None},
        "alerts": [
            {"alert": "QueueDeep", "value": True, "above": 100, "select": {"queue": "~.+"}},
            {"alert": "QueueDeepOther", "value": True, "above": 100,
             "select": {"queue": "!~.+"}},
            {"alert": "ShardDeep", "value": True, "above": 100, "select": {"shard": "~.*"}}]})],
            {("reg_regex", "QueueDeep"): "differently on Prometheus 2.x and 3.x",
             ("reg_regex", "QueueDeepOther"): "differently on Prometheus 2.x and 3.x"}),
    # Alert label values are templates to Prometheus: "{{" broke `promtool check rules`
    # and "{{ $value }}" was expanded in the firing alert.
    Example([_one("reg_labels", {
        "name": "reg_labels_depth", "type": "gauge", "help": "Depth.",
        "alerts": [{"alert": "Deep", "value": True, "above": 100,
                    "labels": {"page": "{{ $value }}"}}]},
        alert_labels={"team": "{{"})]),
    # An override negating an unbounded label (`!200`) left the alert's own threshold,
    # which applies to code=200, without any test.
    Example([_one("reg_override", _counter(
        "reg_override_requests_total", {"code": None},
        {"alert": "RequestRateHigh", "rate": True, "above": 100, "by": ["code"],
         "overrides": [{"match": {"code": "!200"}, "above": 10}]}))]),
    # A ratio between counters whose `by` label allows other values on each (the subject
    # took a value the denominator lacks), and a same-counter ratio filtered outside `by`
    # that the "always 100%" check rejected.
    Example([_one(
        "reg_overlap",
        _counter("reg_overlap_requests_total", {"region": ["eu", "us"]}),
        _counter("reg_overlap_errors_total", {"region": ["ap", "eu"]},
                 {"alert": "ErrorRatioHigh",
                  "ratio_to": {"metric": "reg_overlap_requests_total"}, "above": 0.1,
                  "by": ["region"]}),
        _counter("reg_overlap_calls_total", {"code": ["200", "500"], "method": ["GET", "POST"]},
                 {"alert": "GetShareHigh", "ratio_to": {"metric": "reg_overlap_calls_total"},
                  "select": {"code": "500", "method": "GET"}, "above": 0.5, "by": ["code"]}))]),
    # Later branches of an alternation on an unbounded label (code=503 here) must be
    # tried as test values.
    Example([_one("reg_alternation", _counter(
        "reg_alternation_requests_total", {"code": None},
        {"alert": "RequestRateHigh", "rate": True, "above": 100, "by": ["code"],
         "overrides": [{"match": {"code": "401"}, "above": 10},
                       {"match": {"code": "~401|503"}, "above": 20}]}))]),
    # A denominator whose own selector pins `instance` (node_exporter's, on some hosts):
    # the scenario's two scraped instances became one series, written twice, so the
    # denominator counted half.
    Example([_one(
        "reg_pinned",
        {**_counter("reg_pinned_disk_writes_total"), "selector": {"job": "node",
                                                                "instance": "~db-.*"}},
        _counter("reg_pinned_writes_total", None,
                 {"alert": "WritesShareHigh",
                  "ratio_to": {"metric": "reg_pinned_disk_writes_total"},
                  "select": {"cluster": '"'}, "above": 3.23, "by": ["namespace"]}),
        selector={"job": "reg_pinned"})]),
    # A list value holding a backslash before digits is escaped (`\\\\5xx`) and was then
    # refused as an RE2 backreference.
    Example([_one("reg_backslash", _counter(
        "reg_backslash_requests_total", {"code": None},
        {"alert": "RequestRateHigh", "rate": True, "above": 100, "by": ["code"],
         "select": {"code": ["\\5xx", "a", "b"]}}))]),
]
