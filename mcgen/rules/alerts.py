"""What a firing alert carries: its labels and annotations, as the rules file writes them and
as the generated tests (mcgen/proof) and the catalog (mcgen/catalog) expect them."""

from __future__ import annotations

from mcgen import conventions, promql
from mcgen.promql import burnrate, gotemplate
from mcgen.rules import sloqueries
from mcgen.spec.model import AbsentAlert, Alert, BurnAlert, Service, Slo


def alert_labels(svc: Service, alert: Alert) -> dict[str, str]:
    """The labels a firing alert gets from its rule: severity, service, the spec's
    alert_labels, the alert's labels."""
    labels = {"severity": alert.severity, "service": svc.name}
    labels.update(dict(svc.alert_labels))
    labels.update(dict(alert.labels))
    return dict(sorted(labels.items()))


def alert_annotations(svc: Service, alert: Alert) -> dict[str, str]:
    out = {"summary": alert.summary, "description": alert.description}
    if svc.runbook_base_url:
        out["runbook_url"] = gotemplate.literal(
            conventions.runbook_url(svc.runbook_base_url, alert.name))
    return out


def slo_alert_labels(svc: Service, slo: Slo, alert: BurnAlert) -> dict[str, str]:
    """SPEC 4: severity, service, slo, slo_severity, alert_labels, alerting.labels."""
    labels = {"severity": alert.severity, "service": svc.name, "slo": slo.name,
              "slo_severity": alert.kind}
    labels.update(dict(svc.alert_labels))
    labels.update(dict(slo.labels))
    return dict(sorted(labels.items()))


def slo_alert_annotations(svc: Service, slo: Slo, alert: BurnAlert) -> dict[str, str]:
    """Plain text (no $value: the burn rate is on the dashboard and in the recorded series)."""
    speed = "fast" if alert.kind == "page" else "steadily"
    what = f"{slo.description.rstrip('.')}. " if slo.description else ""
    when = " or ".join(c.describe(slo.period) for c in burnrate.conditions(alert.kind))
    out = {
        "summary": f"SLO {slo.name} is burning its error budget {speed}",
        "description": f"{what}Objective {slo.objective:g}% over {slo.period} (error budget "
                       f"{burnrate.percent(burnrate.budget(slo.objective))}); this alert fires "
                       f"on {when}.",
    }
    if svc.runbook_base_url:
        out["runbook_url"] = conventions.runbook_url(svc.runbook_base_url, slo.alert_name)
    return {k: gotemplate.literal(v) for k, v in out.items()}


def slo_absent_labels(svc: Service, slo: Slo, absent: AbsentAlert) -> dict[str, str]:
    """SPEC 4: severity, service, slo, alert_labels, alerting.labels (no slo_severity:
    it is neither the page nor the ticket)."""
    labels = {"severity": absent.severity, "service": svc.name, "slo": slo.name}
    labels.update(dict(svc.alert_labels))
    labels.update(dict(slo.labels))
    return dict(sorted(labels.items()))


def slo_absent_annotations(svc: Service, slo: Slo, absent: AbsentAlert) -> dict[str, str]:
    what = f"{slo.description.rstrip('.')}. " if slo.description else ""
    series = promql.selector(*sloqueries.total_series(slo))
    out = {
        "summary": f"SLO {slo.name} has no data",
        "description": f"{what}No series of {series} for {absent.for_}: with no events "
                       "the SLI reads as perfect and no burn-rate alert can fire. Check that "
                       "the service runs and is scraped and that the metric was not renamed.",
    }
    if svc.runbook_base_url:
        out["runbook_url"] = conventions.runbook_url(svc.runbook_base_url, absent.name)
    return {k: gotemplate.literal(v) for k, v in out.items()}
