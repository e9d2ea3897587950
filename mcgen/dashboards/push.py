"""`mcgen push`: import the committed dashboards into Grafana over its HTTP API.

What goes out is what `mcgen generate` wrote, and only while it is what the specs render
now: a missing or stale file stops the run before any request. Each dashboard's folder is
looked up by title and created when missing (once per run). A dashboard whose content and
folder Grafana already has is left alone, so pushing from CI on every merge adds no empty
versions to Grafana's history; the others are saved with overwrite and a version message.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcgen import write
from mcgen.conventions import dashboard_path, grafana_folder
from mcgen.dashboards import layout
from mcgen.dashboards.grafana import Grafana, GrafanaError, Target
from mcgen.errors import RemoteError, UsageError
from mcgen.spec.model import Model, Service

MAX_MESSAGE = 500  # Grafana refuses longer version messages
# Grafana sets these; they say nothing about the content. Grafana 12 and 13 also migrate a
# dashboard to their latest schemaVersion when it is read (13.2: 42; ours is 41), so the
# copy Grafana answers with never holds ours: comparing it would push a new, empty version
# on every run.
GRAFANA_KEYS = ("id", "version", "schemaVersion")

_ORDER = ("created", "updated", "would create", "would update", "unchanged", "failed")
Show = Callable[[str, bool], None]  # one line, and whether it reports a success


@dataclass(frozen=True)
class Dashboard:
    """One committed dashboard file and where it goes."""

    service: str
    source: str  # the spec, for the version message
    environment: str | None
    path: str  # relative to the output folder
    uid: str
    title: str
    folder: str | None  # None: Grafana's General folder
    model: dict[str, Any]

    @property
    def label(self) -> str:
        folder = _quote(self.folder) if self.folder else "General"
        return f"{self.service}: {_quote(self.title)} in {folder} (uid {self.uid})"

    def message(self) -> str:
        where = f" (environment {self.environment})" if self.environment else ""
        return f"mcgen: generated from {self.source}{where}"


@dataclass
class Report:
    url: str
    dry_run: bool
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def ok(self) -> bool:
        return not self.counts["failed"]

    def summary(self) -> str:
        done = ", ".join(f"{self.counts[verb]} {verb}" for verb in _ORDER if self.counts[verb])
        tail = "; dry run, nothing was changed" if self.dry_run else ""
        return f"{self.counts.total()} dashboard(s) at {self.url}: {done or 'none'}{tail}"


def committed(model: Model, out: Path) -> list[Dashboard]:
    """The dashboard files under `out`, checked against what the specs render now."""
    render = layout.render
    wanted: dict[str, str] = {}
    for svc in model.services:
        wanted.update(render(svc, model))
    env = next((s.environment for s in model.services if s.environment), None)
    again = f"mcgen generate{f' --env {env}' if env else ''}"
    problems = [f"{out / c.path}: {'missing' if c.status == 'new' else 'stale'}; run `{again}` "
                "(and commit the result) before pushing"
                for c in write.compare(out, wanted) if c.status != "same"]
    if problems:
        raise UsageError("\n".join(problems))
    return [_dashboard(svc, wanted[dashboard_path(svc.name)]) for svc in model.services]


def _dashboard(svc: Service, text: str) -> Dashboard:
    model = json.loads(text)
    uid, title = model.get("uid") or svc.dashboard.uid, model.get("title") or svc.dashboard.title
    return Dashboard(svc.name, svc.source, svc.environment, dashboard_path(svc.name), str(uid),
                     str(title), grafana_folder(svc), model)


def check_message(message: str | None) -> None:
    if message is not None and not 0 < len(message) <= MAX_MESSAGE:
        raise UsageError(f"--message must hold 1 to {MAX_MESSAGE} characters "
                         f"(Grafana's limit), not {len(message)}")


def run(dashboards: list[Dashboard], where: Target, dry_run: bool = False,
        message: str | None = None, show: Show = lambda line, ok: None) -> Report:
    """Push (or with dry_run, compare) every dashboard; a dashboard Grafana refuses is
    reported and the others go on. RemoteError when Grafana cannot be used at all."""
    check_message(message)
    grafana = Grafana(where)
    report = Report(where.url, dry_run)
    planned: set[str] = set()  # folders a dry run would create
    for warning in where.warnings():
        show(warning, False)
    try:
        grafana.check()
        for dash in dashboards:
            try:
                verb = _one(grafana, dash, dry_run, message or dash.message(), planned, show)
            except GrafanaError as exc:
                if exc.fatal:
                    raise
                report.counts["failed"] += 1
                show(f"{'failed':<12} {dash.label}: {exc}", False)
                continue
            report.counts[verb] += 1
            show(f"{verb:<12} {dash.label}", True)
    except GrafanaError as exc:
        raise RemoteError(str(exc)) from None
    return report


def _one(grafana: Grafana, dash: Dashboard, dry_run: bool, message: str, planned: set[str],
         show: Show) -> str:
    folder_uid: str | None = ""
    if dash.folder is not None:
        folder_uid = grafana.folder_uid(dash.folder)
        if folder_uid is None and dry_run:
            if dash.folder.casefold() not in planned:
                planned.add(dash.folder.casefold())
                show(f"{'would create':<12} folder {_quote(dash.folder)}", True)
        elif folder_uid is None:
            folder_uid = grafana.create_folder(dash.folder)
            show(f"{'created':<12} folder {_quote(dash.folder)}", True)
    ours = {**dash.model, "id": None}  # Grafana finds it by uid
    current = grafana.dashboard(dash.uid)
    if current is not None:
        meta = current.get("meta") or {}
        if _content(current["dashboard"]) == _content(ours) and \
                meta.get("folderUid", "") == folder_uid:
            return "unchanged"
        if meta.get("provisioned"):
            raise GrafanaError("Grafana provisions this dashboard from files, so it cannot be "
                               "saved over the API; change it through its provisioning instead")
    verb = "create" if current is None else "update"
    if dry_run:
        return f"would {verb}"
    grafana.save(ours, folder_uid or "", message)
    return f"{verb}d"


def _content(dashboard: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in dashboard.items() if k not in GRAFANA_KEYS}


def _quote(text: str) -> str:
    """A title in a message: quoted, on one line, whatever it holds."""
    return json.dumps(text, ensure_ascii=False)
