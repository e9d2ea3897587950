"""grafana/provisioning/<service>.yaml: Grafana's file provisioning for a service's
dashboard.

One file and one provider per dashboard, so that a run over some of the specs renders
the same provisioning as a run over all of them (a single file for every service would
change with the run, and Grafana deletes the dashboards of providers that disappear).
A provider's `options.path` may name a single file (Grafana walks it with Go's
filepath.Walk, which visits a file root as itself, and keeps names ending in .json), and
the dashboards of every folder share one directory, grafana/. A per-file provider also
fails safe: if its file is not mounted, Grafana logs an error for it and deletes nothing.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from mcgen.conventions import dashboard_path, grafana_folder, header, provisioning_path
from mcgen.spec.model import Model, Service
from mcgen.text import yamlout

# Where Grafana reads the dashboard files; the mount in USAGE puts grafana/ there.
DASHBOARDS_DIR = "/var/lib/grafana/dashboards/mcgen"

USAGE = f"""\
#
# Grafana file provisioning of this service's dashboard, in its spec's dashboard.folder
# ("" is the General folder). Grafana reads every file in /etc/grafana/provisioning/dashboards/
# and the dashboard from options.path below: mount the output folder's grafana/provisioning/
# there and its grafana/ at {DASHBOARDS_DIR}/. With Docker and the default output folder:
#   -v "$PWD/generated/grafana/provisioning:/etc/grafana/provisioning/dashboards:ro"
#   -v "$PWD/generated/grafana:{DASHBOARDS_DIR}:ro"
# Grafana rereads changed dashboard files within 10s by itself, and this file when it starts
# (or on POST /api/admin/provisioning/dashboards/reload). Provisioned dashboards cannot be
# saved from the UI or by `mcgen push`: provision them or push them, not both.
"""


def render(svc: Service, model: Model) -> dict[str, str]:
    data = {"apiVersion": 1, "providers": [_provider(svc)]}
    return {provisioning_path(svc.name): header(svc) + USAGE + yamlout.dump(data)}


def _provider(svc: Service) -> dict[str, Any]:
    return {
        "name": f"mcgen-{svc.name}",
        "folder": grafana_folder(svc) or "",
        "type": "file",
        # Grafana's default. A missing file only makes a per-file provider log an error, and
        # a dashboard whose provider left this file goes with it on Grafana's next restart.
        "disableDeletion": False,
        "allowUiUpdates": False,  # edits belong in the spec, where the next generate keeps them
        "options": {"path": f"{DASHBOARDS_DIR}/{PurePosixPath(dashboard_path(svc.name)).name}"},
    }
