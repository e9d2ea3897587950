"""What a proof can afford. promtool proves an alert by evaluating the whole rule file at
every rule evaluation of a test's horizon, from synthetic series sampled every scrape
interval: a horizon of days, or an interval of milliseconds, makes a suite promtool
refuses or never finishes (and its generation exhausts memory). Such durations are
rejected here, at validation, with the reason and what would fit; never accepted and
then unrunnable."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from mcgen.promql import Duration
from mcgen.spec.builder import Builder
from mcgen.spec.load import JsonPath
from mcgen.spec.model import Alert, Slo

MAX_EVALUATIONS = 4320  # rule evaluations in one test: 3 days at the default 1m
MAX_SAMPLES = 20_000  # samples of one synthetic series: 5.5 hours at 1s, 3.4 days at 15s
SLO_SCENARIO = Duration(83 * 60_000)  # the longest SLO scenario (mcgen/proof/sloprover.py)
_DEFAULT_KEY = {"window": ("defaults", "rate_window"), "for": ("defaults", "for")}


def horizon_ms(alert: Alert, eval_ms: int) -> int:
    """How long an alert's test runs: the slowest start (a rate warming up over its
    window) plus `for` plus a few evaluations. A staleness limit costs nothing: the
    synthetic timestamps start as old as the case needs (mcgen/proof/synthetic.py)."""
    return alert.window.ms + alert.for_.ms + 3 * eval_ms


def _round(ms: int) -> Duration:
    """A duration to suggest: whole hours, else whole minutes."""
    unit = 3_600_000 if ms >= 3_600_000 else 60_000
    return Duration(ms // unit * unit)


def _every(b: Builder) -> tuple[Duration, Duration]:
    """(rule evaluation interval, scrape interval) as the prover uses them."""
    raw = b.data.get("defaults", {}).get("interval")
    try:
        every = Duration.parse(raw) if raw else Duration(60_000)
    except ValueError:  # reported by the builder
        every = Duration(60_000)
    return (every if every.ms > 0 else Duration(60_000)), b.scrape


def alert(b: Builder, alert: Alert, raw: dict[str, Any], at: Callable[[str], JsonPath]
          ) -> None:
    every, scrape = _every(b)
    horizon = horizon_ms(alert, every.ms)
    evaluations, samples = math.ceil(horizon / every.ms), math.ceil(horizon / scrape.ms)
    if evaluations <= MAX_EVALUATIONS and samples <= MAX_SAMPLES:
        return
    parts = {"window": alert.window, "for": alert.for_}
    if alert.kind == "absent":
        parts = {"absent_for": alert.for_}
    key = max(parts, key=lambda k: parts[k].ms)
    afford = min(MAX_EVALUATIONS * every.ms, MAX_SAMPLES * scrape.ms)
    room = afford - (horizon - parts[key].ms)
    what = (f"{evaluations} rule evaluations (every {every})" if evaluations > MAX_EVALUATIONS
            else f"{samples} samples per series (scraped every {scrape})")
    written = ", ".join(f"{k} {v}" for k, v in parts.items())
    if room >= 60_000 and parts[key].ms > 60_000:
        where = at(key) if key in raw else _DEFAULT_KEY[key]
        hint = f"use a '{key}' of at most {_round(room)}"
    else:
        where = ("defaults", "interval") if evaluations > MAX_EVALUATIONS else \
            ("defaults", "scrape_interval")
        hint = "evaluate and scrape less often (defaults.interval, defaults.scrape_interval)"
    _once(b, where, f"proving alert '{alert.name}' ({written}) takes {what}, more than a "
          "promtool test can afford", hint)


def _once(b: Builder, where: JsonPath, message: str, hint: str) -> None:
    """One error per place: alerts that all outgrow a default interval say so once."""
    if where[0] == "defaults":
        pos = b.pos(where)
        if any(p.pos == pos and p.hint == hint for p in b.problems):
            return
    b.error(where, message, hint)


def slo(b: Builder, slo: Slo, path: JsonPath) -> None:
    """The SLO's scenarios, and its SLIAbsent cases (which wait `absent.for`)."""
    every, _ = _every(b)
    if math.ceil(SLO_SCENARIO.ms / every.ms) > MAX_EVALUATIONS:
        least = Duration(math.ceil(SLO_SCENARIO.ms / MAX_EVALUATIONS / 1000) * 1000)
        _once(b, ("defaults", "interval"), f"proving an SLO takes "
              f"{math.ceil(SLO_SCENARIO.ms / every.ms)} rule evaluations (every {every}), "
              "more than a promtool test can afford",
              f"evaluate every {least} or less often in a spec with SLOs")
        return
    if slo.absent is None:
        return
    # The "stopped" case: 10m scraped, 5m lookback, then `for` (sloabsent.py).
    horizon = 15 * 60_000 + slo.absent.for_.ms + 3 * every.ms
    if math.ceil(horizon / every.ms) > MAX_EVALUATIONS:
        room = MAX_EVALUATIONS * every.ms - (horizon - slo.absent.for_.ms)
        b.error((*path, "alerting", "absent", "for"), f"proving '{slo.absent.name}' (for "
                f"{slo.absent.for_}) takes {math.ceil(horizon / every.ms)} rule evaluations "
                f"(every {every}), more than a promtool test can afford",
                f"use a 'for' of at most {_round(room)}")
