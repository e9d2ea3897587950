"""The SLOs on a dashboard: in the verdict row, each SLO's remaining error budget and
current burn rate (its page factor drawn); in the SLO row, stats of its SLI and burn rate
over the period, and time series of the burn rate over each alert condition's long window
(the page and ticket factors drawn), the SLI and the budget. Every query reads the series
the rules file records for the SLO (mcgen/rules/sloqueries.py); the panels link to the
runbooks of the SLO's alerts."""

from __future__ import annotations

from mcgen import conventions, promql
from mcgen.dashboards import titles
from mcgen.dashboards.model import OK_COLOR, Limit, Link, Panel, Query, Step, steps
from mcgen.promql import burnrate
from mcgen.rules import sloqueries
from mcgen.spec.model import Service, Slo


def _stat(key: str, title: str, panel_unit: str, description: str, query: Query,
          colors: tuple[Step, ...], links: tuple[Link, ...] = (), width: int = 6,
          height: int = 8) -> Panel:
    """A stat: 4 wide and 4 high in the verdict row; 6 by 8 in the SLO row, beside the
    8 high burn-rate graph."""
    return Panel(key, "stat", titles.fit(title), titles.describe(description, None, [
        query.expr]), (query,), panel_unit, steps=colors, width=width, height=height,
        links=links)


def _rec(svc: Service, slo: Slo, template: str, window: object = None) -> str:
    return promql.selector(template.format(window=window), sloqueries.ident(svc, slo))


def _links(svc: Service, slo: Slo) -> tuple[Link, ...]:
    return titles.runbooks(svc, [*([slo.alert_name] if slo.alerts else []),
                                 *([slo.absent.name] if slo.absent else [])])


BUDGET_STEPS = (Step(None, "red"), Step(0.0, "orange"), Step(0.25, OK_COLOR))


def _burn_limits(slo: Slo) -> tuple[Limit, ...]:
    return tuple(Limit(round(c.factor(slo.period), 6), ">", alert.severity, slo.alert_name)
                 for alert in slo.alerts for c in burnrate.conditions(alert.kind))


def verdict(svc: Service, slo: Slo) -> list[Panel]:
    """The SLO's stats in the verdict row: budget left, and the burn rate now against
    the page factor (every alert factor is a step: above the page factor it is red)."""
    key, name = f"slo:{slo.name}", slo.name
    return [
        _stat(f"{key}:remaining", f"{name}: budget left", "percentunit",
              "1 - period burn rate: 100% untouched, 0 spent, negative overspent.",
              Query(_rec(svc, slo, conventions.SLO_REMAINING), "remaining"), BUDGET_STEPS,
              _links(svc, slo), width=4, height=4),
        _stat(f"{key}:current-burn", f"{name}: burn rate now", "short",
              "5m error ratio / error budget: at 1 the budget lasts exactly the period; "
              "the alert factors are the steps.",
              Query(_rec(svc, slo, conventions.SLO_CURRENT_BURN), "burn rate"),
              steps(_burn_limits(slo)) or (Step(None, OK_COLOR),), _links(svc, slo),
              width=4, height=4),
    ]


def panels(svc: Service, slo: Slo) -> list[Panel]:
    b = burnrate.budget(slo.objective)
    objective = burnrate.objective_ratio(slo.objective)

    def rec(template: str, window: object = None) -> str:
        return _rec(svc, slo, template, window)

    period_ratio = rec(conventions.SLO_ERROR_RATIO, slo.period)
    key, name = f"slo:{slo.name}", slo.name
    sli_steps = (Step(None, "red"), Step(objective, OK_COLOR))
    burn_limits = _burn_limits(slo)
    links = _links(svc, slo)
    # One line per condition's long window (its short window only confirms): against
    # their factors, the lines say which condition is close to firing.
    windows = sorted({c.long for a in slo.alerts for c in burnrate.conditions(a.kind)}) \
        or [burnrate.BASE_WINDOW]
    burn = [Query(f"{rec(conventions.SLO_ERROR_RATIO, w)} / {promql.number(b)}", f"{w}")
            for w in windows]
    sli = [Query(f"1 - {rec(conventions.SLO_ERROR_RATIO, burnrate.BASE_WINDOW)}", "5m"),
           Query(f"1 - {period_ratio}", f"{slo.period}")]
    budget = [Query(rec(conventions.SLO_REMAINING), "remaining")]
    return [
        _stat(f"{key}:sli", f"{name}: SLI over {slo.period}", "percentunit",
              f"Share of good events over the SLO period; objective {slo.objective:g}%."
              + (f" Without any series of the SLI it reads 100%; {slo.absent.name} fires "
                 f"when that lasts {slo.absent.for_}." if slo.absent else ""),
              Query(f"1 - {period_ratio}", "SLI"), sli_steps),
        _stat(f"{key}:period-burn", f"{name}: burn rate over {slo.period}", "short",
              "Period error ratio / error budget: above 1 the period overspends.",
              Query(rec(conventions.SLO_PERIOD_BURN), "burn rate"),
              (Step(None, OK_COLOR), Step(1.0, "red")), links),
        Panel(f"{key}:burn", "timeseries", titles.fit(f"{name}: burn rate by window"),
              titles.describe(f"Error ratio / error budget ({promql.number(b)}) over the "
                              "long window of each alert condition; the lines are the page "
                              "and ticket factors.", None, [q.expr for q in burn]),
              tuple(burn), "short", burn_limits, width=12, links=links),
        Panel(f"{key}:sli-over-time", "timeseries", titles.fit(f"{name}: SLI"),
              titles.describe(slo.description or f"SLO {name}.", None, [q.expr for q in sli]),
              tuple(sli), "percentunit", steps=sli_steps, width=12),
        Panel(f"{key}:budget", "timeseries", titles.fit(f"{name}: error budget left"),
              titles.describe("1 - period burn rate over time.", None,
                              [q.expr for q in budget]),
              tuple(budget), "percentunit", steps=BUDGET_STEPS, width=12),
    ]
