"""A complete Alertmanager config (`mcgen alertmanager --base FILE`): the base's global
settings, templates, root route and default receiver, with every routed service's
subtree, receivers and inhibit rules merged in.

The services' subtrees come first under the root route, before the base's own routes:
each matches only its service's alerts, so the base still handles everything else, and
a catch-all route of the base cannot take a service's alerts from the receivers its spec
names. A receiver name used twice is an error (exit 2), never a silent override.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from mcgen import routing
from mcgen.errors import UsageError, shorten
from mcgen.spec.model import Service

# What `mcgen check` merges the services into: a root route whose receiver sends nothing,
# and the global SMTP settings an email receiver may rely on, standing in for the base's.
MINIMAL_BASE: dict[str, Any] = {
    "global": {"smtp_smarthost": "localhost:25", "smtp_from": "alertmanager@localhost"},
    "route": {"receiver": "mcgen-default"},
    "receivers": [{"name": "mcgen-default"}],
}


def load_base(path: Path) -> dict[str, Any]:
    """The base config, checked for what merging needs (amtool checks the rest)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file; give --base an Alertmanager config") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read it ({exc}); give --base a readable "
                         "Alertmanager config (YAML)") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise UsageError(f"{where}: {problem}; fix the YAML") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: not a mapping; an Alertmanager config has route, "
                         "receivers and (optionally) global, templates, inhibit_rules")
    root = data.get("route")
    if not isinstance(root, dict) or not isinstance(root.get("receiver"), str):
        raise UsageError(f"{path}: no root route with a default receiver; add route: "
                         "{receiver: NAME} and that receiver under receivers")
    for key in ("receivers", "inhibit_rules"):
        if not isinstance(data.get(key, []), list):
            raise UsageError(f"{path}: '{key}' is not a list; make it a list")
    if not isinstance(root.get("routes", []), list):
        raise UsageError(f"{path}: route.routes is not a list; make it a list")
    return data


def merge(base: dict[str, Any], services: list[Service], base_name: str) -> dict[str, Any]:
    """The base with every service that has `routing` merged in (services in name order)."""
    routed = sorted((s for s in services if s.routing is not None), key=lambda s: s.name)
    names: dict[str, str] = {}
    for r in base.get("receivers", []):
        if isinstance(r, dict) and isinstance(r.get("name"), str):
            names[r["name"]] = base_name
    clashes = []
    receivers: list[Any] = list(base.get("receivers", []))
    for svc in routed:
        for r in routing.receivers(svc):
            if r["name"] in names:
                clashes.append(f"{svc.source}: receiver {shorten(r['name'])} is also defined "
                               f"in {names[r['name']]}; rename one of them")
            names.setdefault(r["name"], svc.source)
            receivers.append(r)
    if clashes:
        raise UsageError("\n".join(clashes))
    config = dict(base)
    root = dict(base["route"])
    root["routes"] = [routing.route(s) for s in routed] + list(root.get("routes", []))
    config["route"] = root
    config["receivers"] = receivers
    inhibit = list(base.get("inhibit_rules", []))
    inhibit += [rule for s in routed for rule in routing.inhibit_rules(s)]
    if inhibit:
        config["inhibit_rules"] = inhibit
    return config
