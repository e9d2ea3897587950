"""grafana/provisioning.yaml: Grafana's file provisioning for the generated dashboards.

One provider per dashboard file rather than one per folder: a provider's `options.path`
may name a single file (Grafana walks it with Go's filepath.Walk, which visits a file
root as itself, and keeps names ending in .json), and our dashboards of every folder share
one directory, grafana/. A per-file provider also fails safe: if its file is not mounted,
Grafana logs an error for it and deletes nothing (it stops before looking for deletions).
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from mcgen import yamlout
from mcgen.conventions import PROVISIONING_PATH, dashboard_path, model_header
from mcgen.spec.model import Model, Service

# Where Grafana reads the dashboard files; the mount in USAGE puts grafana/ there.
DASHBOARDS_DIR = "/var/lib/grafana/dashboards/mcgen"

USAGE = f"""\
#
# Grafana file provisioning of the dashboards under grafana/: one provider per dashboard
# file, in its spec's dashboard.folder ("" is the General folder). Grafana reads this file
# from /etc/grafana/provisioning/dashboards/, and the dashboards from options.path below:
# mount grafana/ at {DASHBOARDS_DIR}/. With Docker, for example:
#   -v "$PWD/generated/grafana/provisioning.yaml:/etc/grafana/provisioning/dashboards/mcgen.yaml:ro"
#   -v "$PWD/generated/grafana:{DASHBOARDS_DIR}:ro"
# Grafana rereads changed dashboard files within 10s by itself, and this file when it starts
# (or on POST /api/admin/provisioning/dashboards/reload). Provisioned dashboards cannot be
# saved from the UI or by `mcgen push`: provision them or push them, not both.
"""


def render(model: Model) -> dict[str, str]:
    services = sorted(model.services, key=lambda s: (_folder(s), s.name))
    data = {"apiVersion": 1, "providers": [_provider(svc) for svc in services]}
    return {PROVISIONING_PATH: model_header(model) + USAGE + yamlout.dump(data)}


def _folder(svc: Service) -> str:
    """The folder title; "" is Grafana's General folder, which cannot be created by name."""
    folder = (svc.dashboard.folder or "").strip()
    return "" if folder.casefold() == "general" else folder


def _provider(svc: Service) -> dict[str, Any]:
    return {
        "name": f"mcgen-{svc.name}",
        "folder": _folder(svc),
        "type": "file",
        # Grafana's default. A missing file only makes a per-file provider log an error, and
        # a dashboard whose provider left this file goes with it on Grafana's next restart.
        "disableDeletion": False,
        "allowUiUpdates": False,  # edits belong in the spec, where the next generate keeps them
        "options": {"path": f"{DASHBOARDS_DIR}/{PurePosixPath(dashboard_path(svc.name)).name}"},
    }
