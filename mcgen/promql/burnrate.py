"""Multiwindow, multi-burn-rate alerting (Google SRE workbook, "Alerting on SLOs"), for any
SLO period.

A burn rate is the error ratio divided by the error budget: at burn rate 1 the budget
lasts exactly the period. Each alert condition watches a long and a short window and
fires when both burn faster than a factor chosen so that the long window alone spends a
given fraction of the period's budget:

    factor = fraction x period / long window

For a 30d period that gives the workbook's 14.4, 6, 3 and 1; a 28d period gives 13.44,
5.6, 2.8 and 0.933.... The short window (1/12 of the long one) makes the alert stop soon
after the burn stops.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache

from mcgen.promql import Duration

_M = 60_000
_H = 60 * _M


@dataclass(frozen=True)
class Condition:
    alert: str  # page | ticket
    long: Duration
    short: Duration
    spent: Fraction  # share of the period's budget the long window spends at the factor

    def factor(self, period: Duration) -> float:
        return _factor(self.spent, period.ms, self.long.ms)

    def describe(self, period: Duration) -> str:
        return (f"{self.long} and {self.short} burn rates above {factor_text(self, period)} "
                f"({percent(self.spent)} of the budget in {self.long})")


CONDITIONS = (
    Condition("page", Duration(_H), Duration(5 * _M), Fraction(2, 100)),
    Condition("page", Duration(6 * _H), Duration(30 * _M), Fraction(5, 100)),
    Condition("ticket", Duration(24 * _H), Duration(2 * _H), Fraction(10, 100)),
    Condition("ticket", Duration(72 * _H), Duration(6 * _H), Fraction(10, 100)),
)
ALERTS = ("page", "ticket")

BASE_WINDOW = Duration(5 * _M)  # the rate every other ratio is built on or checked against
# Ratios over windows up to this long are read from the raw counters; longer ones are
# chained from the recorded 5m rates (cheap to evaluate, and the 5m blur at their edges
# is under 0.4% of a day).
DIRECT_UP_TO = Duration(6 * _H)


def conditions(alert: str) -> tuple[Condition, ...]:
    return tuple(c for c in CONDITIONS if c.alert == alert)


def alert_windows() -> tuple[Duration, ...]:
    """The windows the page and ticket conditions read."""
    return tuple(sorted({w for c in CONDITIONS for w in (c.long, c.short)}))


def windows(period: Duration) -> tuple[Duration, ...]:
    """Every window a ratio is recorded for: those the alerts use, and the period."""
    found = {w for c in CONDITIONS for w in (c.long, c.short)} | {period}
    return tuple(sorted(found))


def objective_ratio(objective: float) -> float:
    """99.9 -> 0.999, computed in decimal so that it prints as people wrote it."""
    return float(Decimal(repr(objective)) / 100)


@lru_cache(maxsize=1024)
def _factor(spent: Fraction, period_ms: int, long_ms: int) -> float:
    """Worked out once per condition and period (exact fractions are slow)."""
    return float(spent * Fraction(period_ms, long_ms))


@lru_cache(maxsize=1024)
def budget(objective: float) -> float:
    """99.9 -> 0.001 (not 1 - 0.999 = 0.0010000000000000009)."""
    return float(1 - Decimal(repr(objective)) / 100)


def factor_text(cond: Condition, period: Duration) -> str:
    return f"{round(cond.factor(period), 4):g}"


def percent(value: float | Fraction) -> str:
    return f"{round(float(value) * 100, 6):g}%"


def reachable(cond: Condition, period: Duration, objective: float) -> bool:
    """An error ratio never exceeds 1, so a condition whose factor times the budget is 1
    or more can never fire."""
    return cond.factor(period) * budget(objective) < 1
