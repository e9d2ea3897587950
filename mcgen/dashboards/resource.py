"""grafana/<service>.dashboard.yaml, the optional `grafana-resource` target (SPEC 6): the
service's dashboard as a `dashboard.grafana.app` `Dashboard` resource, the form grafanactl,
Git Sync and the Grafana operator work on (Grafana 12 and later, /apis/dashboard.grafana.app).

`metadata.name` is the dashboard's uid and `spec` the same dashboard as grafana/<service>.json
(the classic JSON model, which API_VERSION carries; keys sorted). Grafana files a resource
in a folder by the folder's uid (the `grafana.app/folder` annotation), which a spec does not
know (it names the folder by title), so the resource carries none: grafanactl and Git Sync
place it by where the file lives; the spec's folder is named in the header.
"""

from __future__ import annotations

from typing import Any

from mcgen.conventions import grafana_folder, header
from mcgen.dashboards import layout
from mcgen.spec.model import Model, Service
from mcgen.text import yamlout

# The version current Grafana (13.x) documents for the classic JSON model; Grafana 12.x
# documents the same resource as v1beta1.
API_VERSION = "dashboard.grafana.app/v1"
KIND = "Dashboard"


def path(service: str) -> str:
    return f"grafana/{service}.dashboard.yaml"


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def resource(svc: Service) -> dict[str, Any]:
    board = layout.dashboard(svc)
    return {"apiVersion": API_VERSION, "kind": KIND,
            "metadata": {"name": board["uid"]}, "spec": _sorted(board)}


def render(svc: Service, model: Model) -> dict[str, str]:
    folder = grafana_folder(svc)
    where = (f"# Its spec puts it in the Grafana folder {yamlout.scalar(folder)}.\n" if folder
             else "# Its spec puts it in Grafana's General folder.\n")
    return {path(svc.name): header(svc) + where + yamlout.dump(resource(svc))}
