"""Alert hygiene: what mixtool's lint and experienced on-call engineers check.

Not repeated here because validation already enforces them: CamelCase alert names
(`^[A-Z][A-Za-z0-9]*$`), a rate window of at least two scrapes, unique names.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

from mcgen.lint import Context, Finding, Rule, rule
from mcgen.lint.common import services
from mcgen.promql import Duration, burnrate

SEVERITIES = ("critical", "warning", "info")
DEFAULT_INTERVAL = Duration(60_000)  # Prometheus' default evaluation_interval


@rule("alerts/severity", "warning", "Alert severities are critical, warning or info")
def severity(ctx: Context, rule: Rule) -> Iterator[Finding]:
    """Alertmanager routes and silences, and the mixins' conventions, expect one of
    `critical` (page someone now), `warning` (look at it today) and `info` (context for
    other alerts). Other words (`high`, `page`, `p1`) fall through routing trees."""
    for svc in services(ctx):
        for a in svc.alerts:
            if a.severity not in SEVERITIES:
                yield rule.finding(a.pos, f"alert {a.name} has severity '{a.severity}'",
                                   "use critical, warning or info")
        for slo in svc.slos:
            for burn in slo.alerts:
                if burn.severity not in SEVERITIES:
                    yield rule.finding(slo.pos, f"SLO {slo.name}: the {burn.kind} has severity "
                                       f"'{burn.severity}'", "use critical, warning or info")
            if slo.absent and slo.absent.severity not in SEVERITIES:
                yield rule.finding(slo.absent.pos, f"SLO {slo.name}: the absent alert has "
                                   f"severity '{slo.absent.severity}'",
                                   "use critical, warning or info")


@rule("alerts/annotations", "info", "Alerts have a written summary and description")
def written_annotations(ctx: Context, rule: Rule) -> Iterator[Finding]:
    """mcgen generates a summary and a description when the spec has none, so every
    alert has both; but a generated text says what crossed which threshold, not what it
    means for users or what to look at first. Write them for the person paged."""
    for svc in services(ctx):
        for a in svc.alerts:
            missing = [k for k in ("summary", "description") if k not in a.written]
            if missing:
                yield rule.finding(a.pos, f"alert {a.name} has a generated "
                                   f"{' and '.join(missing)}",
                                   "write what it means for users and what to check first")


@rule("alerts/for-interval", "warning", "An alert's `for` is at least one evaluation interval")
def for_interval(ctx: Context, rule: Rule) -> Iterator[Finding]:
    """A `for` shorter than the rule group's evaluation interval (`defaults.interval`,
    else Prometheus' default 1m) acts like no `for` at all: one evaluation that crosses
    the threshold fires the alert, and one noisy sample pages. (`absent_for` alerts are
    checked by `alerts/absent-for`.)"""
    for svc in services(ctx):
        interval = svc.interval or DEFAULT_INTERVAL
        for a in svc.alerts:
            if a.kind != "absent" and a.for_.ms < interval.ms:
                yield rule.finding(a.pos, f"alert {a.name} has for {a.for_}, shorter than the "
                                   f"evaluation interval {interval}",
                                   f"use for: {interval} or more")


@rule("alerts/rate-window", "warning", "Rate windows span at least 4 scrape intervals")
def rate_window(ctx: Context, rule: Rule) -> Iterator[Finding]:
    """`rate()` needs two samples in its window, and a window of exactly two scrapes goes
    empty on one missed or late scrape: the alert then resolves and fires again. Four
    scrape intervals (`defaults.scrape_interval`, default 1m) is the usual minimum
    (validation already rejects fewer than two). SLOs' shortest window is 5m."""
    for svc in services(ctx):
        want = Duration(4 * svc.scrape_interval.ms)
        for a in svc.alerts:
            summary = a.kind == "quantile" and svc.metric(a.metric).type == "summary"
            if a.kind in ("rate", "ratio", "quantile") and not summary and a.window.ms < want.ms:
                yield rule.finding(a.pos, f"alert {a.name} has window {a.window}, less than 4x "
                                   f"the scrape interval {svc.scrape_interval}",
                                   f"use window: {want} or more (or set "
                                   "defaults.scrape_interval to the real one)")
        base = burnrate.BASE_WINDOW
        for slo in svc.slos:
            if slo.alerts and base.ms < want.ms:
                yield rule.finding(slo.pos, f"SLO {slo.name}: its {base} window is less than 4x "
                                   f"the scrape interval {svc.scrape_interval}",
                                   "scrape more often (every 75s or less)")


@rule("alerts/absent-for", "warning",
      "absent_for (and an SLO's alerting.absent.for) is at least 2 scrape intervals")
def absent_for(ctx: Context, rule: Rule) -> Iterator[Finding]:
    """An `absent_for` shorter than two scrape intervals fires on a single failed scrape
    (Prometheus marks the series stale at once), which is noise, not an outage."""
    for svc in services(ctx):
        want = Duration(2 * svc.scrape_interval.ms)
        for a in svc.alerts:
            if a.kind == "absent" and a.for_.ms < want.ms:
                yield rule.finding(a.pos, f"alert {a.name} has absent_for {a.for_}, less than "
                                   f"2x the scrape interval {svc.scrape_interval}",
                                   f"use absent_for: {want} or more")
        for slo in svc.slos:
            if slo.absent and slo.absent.for_.ms < want.ms:
                yield rule.finding(slo.absent.pos, f"SLO {slo.name}: alerting.absent has for "
                                   f"{slo.absent.for_}, less than 2x the scrape interval "
                                   f"{svc.scrape_interval}", f"use for: {want} or more")


@rule("alerts/runbook-missing", "info", "Alerts link to a runbook")
def runbook_missing(ctx: Context, rule: Rule) -> Iterator[Finding]:
    """With `runbook_base_url` set, every alert gets `runbook_url` =
    `<runbook_base_url>/<AlertName>` (mixtool requires one on every alert). Without it,
    the person paged has no link to what to do."""
    for svc in services(ctx):
        if not svc.runbook_base_url and (svc.alerts or any(s.alerts for s in svc.slos)):
            yield rule.finding(svc.pos, f"service '{svc.name}' has alerts but no "
                               "runbook_base_url, so they carry no runbook_url",
                               "set runbook_base_url: https://.../<service>")


@rule("alerts/runbook-url", "warning", "runbook_base_url is a URL alert names can be appended to")
def runbook_url(ctx: Context, rule: Rule) -> Iterator[Finding]:
    """mcgen appends `/<AlertName>` to `runbook_base_url`, so it needs a host and no query
    string, fragment or whitespace (which the appended name would end up inside)."""
    for svc in services(ctx):
        base = svc.runbook_base_url
        if not base:
            continue
        parts = urlsplit(base)
        problem = ("has no host" if not parts.hostname else
                   "contains whitespace" if any(c.isspace() for c in base) else
                   "has a query string or fragment" if parts.query or parts.fragment else "")
        if problem:
            yield rule.finding(svc.pos, f"runbook_base_url {base!r} {problem}, so "
                               "<runbook_base_url>/<AlertName> is not a working link",
                               "give the runbooks' folder URL, like https://runbooks.example."
                               f"com/{svc.name}")


@rule("alerts/slo-ticket", "warning", "An SLO that pages also opens tickets")
def slo_ticket(ctx: Context, rule: Rule) -> Iterator[Finding]:
    """The page catches fast burns (2% of the budget in an hour); a slow, steady burn that
    would exhaust the budget over days only shows in the ticket. An SLO with the page but
    `ticket: false` can lose its whole budget without anyone being told."""
    for svc in services(ctx):
        for slo in svc.slos:
            kinds = {b.kind for b in slo.alerts}
            if "page" in kinds and "ticket" not in kinds:
                yield rule.finding(slo.pos, f"SLO {slo.name} pages on fast burns but has no "
                                   "ticket, so slow burns go unnoticed",
                                   "remove `ticket: false` (a ticket may have severity info)")
