"""The SLO row of a dashboard: for each SLO, stats of its SLI over the period, remaining
error budget and burn rates, and time series of the burn rate over every alert window
(the page and ticket factors drawn), the SLI and the budget. Every query reads the
series the rules file records for the SLO (mcgen/rules/sloqueries.py)."""

from __future__ import annotations

from mcgen import conventions, promql
from mcgen.dashboards.model import OK_COLOR, Limit, Panel, Query, Step, steps
from mcgen.promql import burnrate
from mcgen.rules import sloqueries
from mcgen.spec.model import Service, Slo


def _stat(key: str, title: str, panel_unit: str, description: str, query: Query,
          colors: tuple[Step, ...]) -> Panel:
    return Panel(key, "stat", title, description, (query,), panel_unit, steps=colors,
                 width=6, height=4)


def panels(svc: Service, slo: Slo) -> list[Panel]:
    ident = sloqueries.ident(svc, slo)
    b = burnrate.budget(slo.objective)
    objective = burnrate.objective_ratio(slo.objective)

    def rec(template: str, window: object = None) -> str:
        return promql.selector(template.format(window=window), ident)

    period_ratio = rec(conventions.SLO_ERROR_RATIO, slo.period)
    key, name = f"slo:{slo.name}", slo.name
    sli_steps = (Step(None, "red"), Step(objective, OK_COLOR))
    budget_steps = (Step(None, "red"), Step(0.0, "orange"), Step(0.25, OK_COLOR))
    burn_limits = tuple(
        Limit(round(c.factor(slo.period), 6), ">", alert.severity, slo.alert_name)
        for alert in slo.alerts for c in burnrate.conditions(alert.kind))
    return [
        _stat(f"{key}:sli", f"{name}: SLI over {slo.period}", "percentunit",
              f"Share of good events over the SLO period; objective {slo.objective:g}%."
              + (f" Without any series of the SLI it reads 100%; {slo.absent.name} fires "
                 f"when that lasts {slo.absent.for_}." if slo.absent else ""),
              Query(f"1 - {period_ratio}", "SLI"), sli_steps),
        _stat(f"{key}:remaining", f"{name}: error budget remaining", "percentunit",
              "1 - period burn rate: 100% untouched, 0 spent, negative overspent.",
              Query(rec(conventions.SLO_REMAINING), "remaining"), budget_steps),
        _stat(f"{key}:current-burn", f"{name}: burn rate (5m)", "short",
              "5m error ratio / error budget: at 1 the budget lasts exactly the period.",
              Query(rec(conventions.SLO_CURRENT_BURN), "burn rate"),
              steps(burn_limits) or (Step(None, OK_COLOR),)),
        _stat(f"{key}:period-burn", f"{name}: burn rate over {slo.period}", "short",
              "Period error ratio / error budget: above 1 the period overspends.",
              Query(rec(conventions.SLO_PERIOD_BURN), "burn rate"),
              (Step(None, OK_COLOR), Step(1.0, "red"))),
        Panel(f"{key}:burn", "timeseries", f"{name}: burn rate by window",
              f"Error ratio / error budget ({promql.number(b)}) over each alert window; the "
              f"lines are the page and ticket factors.",
              tuple(Query(f"{rec(conventions.SLO_ERROR_RATIO, w)} / {promql.number(b)}", f"{w}")
                    for w in burnrate.alert_windows()),
              "short", burn_limits, width=8),
        Panel(f"{key}:sli-over-time", "timeseries", f"{name}: SLI",
              slo.description or f"SLO {name}.",
              (Query(f"1 - {rec(conventions.SLO_ERROR_RATIO, burnrate.BASE_WINDOW)}", "5m"),
               Query(f"1 - {period_ratio}", f"{slo.period}")),
              "percentunit", steps=sli_steps, width=8),
        Panel(f"{key}:budget", "timeseries", f"{name}: error budget remaining",
              "1 - period burn rate over time.",
              (Query(rec(conventions.SLO_REMAINING), "remaining"),),
              "percentunit", steps=budget_steps, width=8),
    ]
