"""Test cases that share a timeline. promtool evaluates every rule of the file at every
evaluation of every test group, up to the group's last check, so a suite costs about
rules x (evaluations of all groups) (issue 13). Cases therefore share test groups, two
ways, and every check still sees exactly the series it was proven with:

* side by side, from t=0, when no check of one can see a series of the other;
* one after the other, on series that one case's checks could see: the later case
  starts once the earlier one's samples can no longer reach any check (their range or
  lookback, through recording rules, has passed, plus an evaluation with nothing, so
  every alert is back to inactive). Only a time-invariant case can start later: what it
  reads must not depend on the clock or on series being absent (reads.py); such a
  case sees, from its start, the same empty past it was proven on at t=0.

A series both cases hold is written once, its samples in each case's slots and `_`
between. Cases that must start at 0 are placed first, then the others, longest first;
each case goes where it adds the fewest evaluations (a new group costs its own horizon
and promtool's set-up of a group)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from mcgen import promql
from mcgen.promql import Matcher
from mcgen.proof.emulate import Series
from mcgen.proof.reads import Read, Readers

NEW_GROUP_EVALUATIONS = 5  # promtool's set-up of a group, in rule evaluations (measured)


@dataclass(frozen=True)
class Held:
    """An input series of a case, and when its samples are, from the case's start."""

    series: Series
    key: str  # the series' selector text: one promtool series per key
    first_ms: int
    last_ms: int

    @property
    def name(self) -> str:
        return self.series.name

    @property
    def labels(self) -> dict[str, str]:
        return self.series.label_map


def held(s: Series) -> Held:
    samples = s.count + 1 + sum(count + 1 for _, _, count in s.more)
    return Held(s, _key(s.name, s.labels), s.offset_ms,
                s.offset_ms + (samples - 1) * s.interval_ms)


@lru_cache(maxsize=65_536)
def _key(name: str, labels: tuple[tuple[str, str], ...]) -> str:
    """The series' selector text (cases of a service share most label sets)."""
    return promql.selector(name, [Matcher(k, "=", v) for k, v in labels])


def values(s: Series, interval_ms: int) -> tuple[tuple[str, ...], int]:
    """promtool's value notation of a series in a group sampled every `interval_ms`, from
    the series' own t=0, and the sampling slots it fills: compact `a+bxn` segments, or
    each value in its slot with `_` between where the series is sampled less often than
    the group or sits off its grid (shifted between rule evaluations)."""
    key = (s.samples, interval_ms)  # the text depends on nothing else
    found = _VALUES.get(key)
    if found is None:
        if len(_VALUES) > 8192:
            _VALUES.clear()
        found = _VALUES[key] = _values(s, interval_ms)
    return found


# `values` of the samples series hold, worked out once per process: cases and services
# share scenarios.
_VALUES: dict[tuple[object, int], tuple[tuple[str, ...], int]] = {}


def _values(s: Series, interval_ms: int) -> tuple[tuple[str, ...], int]:
    if s.offset_ms == 0 and s.interval_ms == interval_ms:
        segments = [(s.start, s.step, s.count), *s.more]
        return (tuple(f"{promql.number(a)}+{promql.number(b)}x{n}" for a, b, n in segments),
                len(s.values()))
    assert s.offset_ms % interval_ms == 0 and s.interval_ms % interval_ms == 0
    tokens = ["_"] * (s.offset_ms // interval_ms)
    for i, value in enumerate(s.values()):
        tokens += ["_"] * (s.interval_ms // interval_ms - 1 if i else 0)
        tokens.append(promql.number(value))
    return tuple(tokens), len(tokens)


def input_series(s: Series, interval_ms: int) -> dict[str, str]:
    tokens, _ = values(s, interval_ms)
    return {"series": held(s).key, "values": " ".join(tokens)}


@dataclass
class Unit:
    """One case's test group, what it holds, what its checks read, and its last check."""

    group: dict[str, Any]  # name, interval and checks (input series come from `held`)
    held: list[Held]
    reads: tuple[Read, ...]
    clocked: bool
    horizon_ms: int

    @property
    def interval_ms(self) -> int:
        return promql.Duration.parse(str(self.group["interval"])).ms


def unit(group: dict[str, Any], series: Sequence[Series], readers: Readers) -> Unit:
    checks = [*group.get("alert_rule_test", ()), *group.get("promql_expr_test", ())]
    horizon = max((promql.Duration.parse(str(c["eval_time"])).ms for c in checks), default=0)
    reaches = [readers.of_alert(str(c["alertname"])) for c in group.get("alert_rule_test", ())]
    reaches += [readers.of_expr(str(c["expr"])) for c in group.get("promql_expr_test", ())]
    longest: dict[tuple[str | None, tuple[Matcher, ...]], int] = {}
    for reach in reaches:
        for r in reach.reads:
            key = (r.name, r.matchers)
            longest[key] = max(longest.get(key, 0), r.tail_ms)
    reads = tuple(Read(name, matchers, tail) for (name, matchers), tail in longest.items())
    # Two decoys made for two reasons can be one series: it is loaded once.
    unique: dict[str, Held] = {}
    for s in series:
        h = held(s)
        if h.key in unique:
            assert unique[h.key].series.values() == s.values(), f"{h.key} held twice"
            continue
        unique[h.key] = h
    return Unit(group, list(unique.values()), reads,
                any(reach.clocked for reach in reaches), horizon)


@dataclass
class _Combined:
    members: list[Unit]
    values: dict[str, set[str]]  # labels that keep the members apart: values taken
    keys: set[str]


def combine(units: Sequence[Unit], readers: Readers) -> list[Unit]:
    """Cases of one alert whose checks fall at the same instants become one case when the
    series the alert sees differ in a label its expression keeps apart (each case's own
    values of it): at each check, the alerts of all of them. Fire cases of one alert for
    five routes run as one; so do its quiet cases."""
    slots: list[Unit | _Combined] = []
    open_: dict[tuple[str, tuple[str, ...], str], list[_Combined]] = {}
    for u in units:
        key = _combinable(u)
        if key is None:
            slots.append(u)
            continue
        kept = readers.apart(key[0])
        seen = [h for h in u.held if any(r.sees(h.name, h.labels) for r in u.reads)]
        labels = {k for h in seen for k in h.labels} if seen else set()
        values = {k: {h.labels.get(k, "") for h in seen} for k in labels if kept.has(k)}
        keys = {h.key for h in u.held}
        for c in open_.get(key, []):
            apart = {k: c.values[k] | v for k, v in values.items()
                     if k in c.values and not c.values[k] & v}
            if apart and not keys & c.keys:
                c.members.append(u)
                c.values, c.keys = apart, c.keys | keys
                break
        else:
            if values:
                c = _Combined([u], values, keys)
                open_.setdefault(key, []).append(c)
                slots.append(c)
            else:
                slots.append(u)
    return [s if isinstance(s, Unit) else _joined(s.members) for s in slots]


def _combinable(u: Unit) -> tuple[str, tuple[str, ...], str] | None:
    """(alert, check instants, interval) of a case that checks one alert only."""
    alerts = u.group.get("alert_rule_test", ())
    names = {str(c["alertname"]) for c in alerts}
    if len(names) != 1 or u.group.get("promql_expr_test"):
        return None
    return names.pop(), tuple(str(c["eval_time"]) for c in alerts), str(u.group["interval"])


def _joined(members: Sequence[Unit]) -> Unit:
    if len(members) == 1:
        return members[0]
    first = members[0]
    checks = [{**c, "exp_alerts": [a for m in members
                                   for a in m.group["alert_rule_test"][i]["exp_alerts"]]}
              for i, c in enumerate(first.group["alert_rule_test"])]
    group = {"name": " + ".join(str(m.group["name"]) for m in members),
             "interval": first.group["interval"], "alert_rule_test": checks}
    return Unit(group, [h for m in members for h in m.held], first.reads, first.clocked,
                first.horizon_ms)


@dataclass
class _Group:
    interval_ms: int  # its cases' sampling interval
    members: list[tuple[int, Unit, int]] = field(default_factory=lambda: [])  # index, unit, start
    horizon_ms: int = 0

    def earliest(self, i: int, u: Unit, meets: _Meets, step: int) -> int | None:
        """The earliest start of case `i` that no member conflicts with, on `step` (a
        sampling slot and a rule evaluation alike)."""
        if u.clocked:  # 0 or nowhere: stop at the first member in the way
            clear = all(not at + lo <= 0 <= at + hi for j, _, at in self.members
                        for lo, hi in meets.banned(i, j))
            return 0 if clear else None
        banned = [(at + lo, at + hi) for j, _, at in self.members
                  for lo, hi in meets.banned(i, j)]
        start, moved = 0, True
        while moved:
            moved = False
            for lo, hi in banned:
                if lo <= start <= hi:
                    start = (hi // step + 1) * step
                    moved = True
        return start


class _Meets:
    """Where two cases would meet: the starts of one, relative to the other's, at which a
    check of one sees a sample of the other, or a series both hold has samples of both
    too close. Each a hull (one interval per kind), computed once per pair."""

    def __init__(self, units: Sequence[Unit], eval_ms: int) -> None:
        self.units, self.eval_ms = units, eval_ms
        self.held = [_by_name(u.held) for u in units]
        self.keys = [{h.key: h for h in u.held} for u in units]
        self.memo: dict[tuple[int, int], list[tuple[int, int]]] = {}
        # Each distinct read gets a number: whether it sees a series is decided once.
        ids: dict[tuple[str | None, tuple[Matcher, ...]], int] = {}
        self.reads: list[dict[str | None, list[tuple[int, Read]]]] = []
        for u in units:
            by_name: dict[str | None, list[tuple[int, Read]]] = {}
            for r in u.reads:
                rid = ids.setdefault((r.name, r.matchers), len(ids))
                by_name.setdefault(r.name, []).append((rid, r))
            self.reads.append(by_name)
        self.sees: dict[tuple[int, str], bool] = {}
        # Most pairs of cases neither read a metric the other holds nor hold a series in
        # common: told apart at once.
        self.read_names = [None if None in by_name else frozenset(by_name)
                           for by_name in self.reads]

    def banned(self, i: int, j: int) -> list[tuple[int, int]]:
        if (i, j) not in self.memo:
            self.memo[i, j] = self._banned(i, j)
        return self.memo[i, j]

    def _seen(self, reader: int, holder: int) -> tuple[int, int] | None:
        """(first, last + tail) of the holder's samples the reader's checks can see."""
        first, last = None, None
        held, reads = self.held[holder], self.reads[reader]
        names = self.read_names[reader]
        if names is not None and names.isdisjoint(held):
            return None
        for name, named in reads.items():
            candidates = held.get(name, ()) if name is not None else \
                [h for hs in held.values() for h in hs]
            for h in candidates:
                for rid, r in named:
                    key = (rid, h.key)
                    seen = self.sees.get(key)
                    if seen is None:
                        seen = self.sees[key] = r.sees(h.name, h.labels)
                    if seen:
                        first = h.first_ms if first is None else min(first, h.first_ms)
                        end = h.last_ms + r.tail_ms
                        last = end if last is None else max(last, end)
        return None if first is None or last is None else (first, last)

    def _banned(self, i: int, j: int) -> list[tuple[int, int]]:
        u, v, e = self.units[i], self.units[j], self.eval_ms
        out = []
        if (seen := self._seen(i, j)) is not None:  # u's checks see v's samples
            out.append((seen[0] - u.horizon_ms, seen[1] + e))
        if (seen := self._seen(j, i)) is not None:  # v's checks see u's samples
            out.append((-seen[1] - e, v.horizon_ms - seen[0]))
        if self.keys[i].keys().isdisjoint(self.keys[j]):
            return out
        shared = [(h, self.keys[j][h.key]) for h in u.held if h.key in self.keys[j]]
        if shared:  # samples apart, an evaluation between
            out.append((min(o.first_ms - h.last_ms for h, o in shared) - e,
                        max(o.last_ms - h.first_ms for h, o in shared) + e))
        return out


def _by_name(held: Sequence[Held]) -> dict[str, list[Held]]:
    out: dict[str, list[Held]] = {}
    for h in held:
        out.setdefault(h.name, []).append(h)
    return out


def pack(units: Sequence[Unit], eval_ms: int) -> list[dict[str, Any]]:
    """The test groups: cases that must start at 0 placed first, then the others;
    longest first."""
    groups: list[_Group] = []
    meets = _Meets(units, eval_ms)
    order = sorted(range(len(units)), key=lambda i: (not units[i].clocked,
                                                     -units[i].horizon_ms))
    for i in order:
        u = units[i]
        interval = u.interval_ms
        best: tuple[int, _Group | None, int] = (u.horizon_ms + NEW_GROUP_EVALUATIONS * eval_ms,
                                                None, 0)
        for g in groups:
            # One sampling interval per group: series sampled less often could be written
            # at a finer one (`values` can), at the cost of a longer file, which measured
            # as no fewer evaluations.
            if g.interval_ms != interval:
                continue
            start = g.earliest(i, u, meets, math.lcm(interval, eval_ms))
            if start is None:
                continue
            cost = max(0, start + u.horizon_ms - g.horizon_ms)
            if cost < best[0]:
                best = (cost, g, start)
        _, chosen, start = best
        if chosen is None:
            chosen = _Group(interval)
            groups.append(chosen)
        chosen.members.append((i, u, start))
        chosen.horizon_ms = max(chosen.horizon_ms, start + u.horizon_ms)
    # Written in the cases' own order (a case alone keeps its place and its text).
    for g in groups:
        g.members.sort(key=lambda m: m[0])
    groups.sort(key=lambda g: g.members[0][0])
    return [_merged(g) for g in groups]


def _shifted(checks: Sequence[dict[str, Any]], by_ms: int) -> list[dict[str, Any]]:
    if not by_ms:
        return list(checks)
    out = []
    for c in checks:
        at = promql.Duration.parse(str(c["eval_time"])).ms + by_ms
        out.append({**c, "eval_time": str(promql.Duration(at))})
    return out


def _merged(g: _Group) -> dict[str, Any]:
    members = [(u, at) for _, u, at in g.members]
    iv = g.interval_ms
    series: dict[str, list[tuple[int, Held]]] = {}
    for u, at in members:
        for h in u.held:
            series.setdefault(h.key, []).append((at // iv, h))
    inputs = []
    for key, parts in series.items():
        tokens, filled = [], 0
        for slot, h in sorted(parts, key=lambda p: p[0]):
            assert slot >= filled, f"samples of {key} overlap"
            if slot > filled:
                tokens.append("_" if slot - filled == 1 else f"_x{slot - filled}")
            text, slots = values(h.series, iv)
            tokens += text
            filled = slot + slots
        inputs.append({"series": key, "values": " ".join(tokens)})
    out: dict[str, Any] = {
        "name": " + ".join(str(u.group["name"]) for u, _ in members),
        "interval": str(promql.Duration(iv)),
        "input_series": inputs,
    }
    alerts = [c for u, at in members for c in _shifted(u.group.get("alert_rule_test", ()), at)]
    exprs = [c for u, at in members for c in _shifted(u.group.get("promql_expr_test", ()), at)]
    if alerts:
        out["alert_rule_test"] = alerts
    if exprs:
        out["promql_expr_test"] = exprs
    return out
