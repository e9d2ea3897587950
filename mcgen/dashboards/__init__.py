"""The dashboards: grafana/<service>.json and its provisioning file.

panels.py plans what a service's dashboard shows (slopanels.py its SLO row) as plain data
(model.py); layout.py lays the plan out with Grafana's SDK; check.py checks a dashboard's
structure; provisioning.py writes the file that loads it into Grafana; push.py imports the
dashboards into a running Grafana (`mcgen push`) through grafana.py.
"""

from __future__ import annotations

from mcgen.dashboards import layout, provisioning
from mcgen.spec.model import Model, Service


def render(svc: Service, model: Model) -> dict[str, str]:
    return {**layout.render(svc, model), **provisioning.render(svc, model)}
