"""The catalog: docs/<service>.md, the metric catalog (SPEC 6). The facts come from
metricdocs.py and slodocs.py, the layout from templates/docs.md.j2; every user string
reaches the Markdown through mcgen/text/markdown.py's filters."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mcgen import conventions, promql
from mcgen.catalog import metricdocs, slodocs
from mcgen.spec import names
from mcgen.spec.model import Model, Service
from mcgen.text import markdown
from mcgen.text.templates import render_template


@dataclass(frozen=True)
class Catalog:
    title: str
    sections: tuple[tuple[str, tuple[metricdocs.MetricDoc, ...]], ...]
    slos: tuple[slodocs.SloDoc, ...]

    @property
    def metrics(self) -> list[metricdocs.MetricDoc]:
        return [m for _, docs in self.sections for m in docs]


def build(svc: Service) -> Catalog:
    """The catalog's content, with each metric's and SLO's anchor computed as GitHub
    does: from the headings in the order the template writes them."""
    title = f"{svc.name} metric catalog"
    anchor = markdown.Slugger()
    for fixed in (title, "Summary"):
        anchor(fixed)
    sections = []
    for group, metrics in metricdocs.sections(svc):
        anchor(" ".join(group.split()))
        sections.append((group, tuple(metricdocs.metric_doc(svc, m, anchor(m.name))
                                      for m in metrics)))
    slos: tuple[slodocs.SloDoc, ...] = ()
    if svc.slos:
        anchor("SLOs")
        slos = tuple(slodocs.slo_doc(svc, slo, anchor(slo.name)) for slo in svc.slos)
    return Catalog(title, tuple(sections), slos)


def _header(svc: Service) -> str:
    """conventions.header as an HTML comment (nothing in it may close the comment)."""
    text = conventions.header(svc, comment="").replace("\n ", "\n").strip()
    return f"<!-- {text.replace('-->', '-- >')} -->"


FILTERS: dict[str, Callable[..., str]] = {
    "md": markdown.inline,
    "cell": lambda text: markdown.inline(text, cell=True),
    "code": lambda text: markdown.inline(text, code=True),
    "codecell": lambda text: markdown.inline(text, code=True, cell=True),
    "heading": markdown.heading_text,
    "fence": lambda body: markdown.fence(body, "promql"),
    "href": markdown.href,
    "num": promql.number,
    "qname": names.quantile_name,
}


def render(svc: Service, model: Model) -> dict[str, str]:
    doc = build(svc)
    text = render_template(
        "docs.md.j2", FILTERS, header=_header(svc), svc=svc, doc=doc,
        folder=conventions.grafana_folder(svc),
        dashboard_link=f"/d/{svc.dashboard.uid}",
        rules_path=conventions.rules_path(svc.name),
        tests_path=conventions.tests_path(svc.name),
        dashboard_path=conventions.dashboard_path(svc.name),
        common=metricdocs.label_set({"service": svc.name, **dict(svc.alert_labels)}))
    return {conventions.docs_path(svc.name): text}
