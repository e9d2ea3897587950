"""The spec's `routing:` (SPEC 10): checked where the schema cannot, and built into the
model. Every mistake is reported at its own node, all of them in one run.

Secrets stay out of specs (and so out of the generated, committed Alertmanager files):
a setting that holds one (a webhook's `url`, Slack's `api_url`, a password) is refused
inline; its `*_file` twin, a path Alertmanager reads at run time, is what to write.
"""

from __future__ import annotations

from typing import Any

from mcgen.errors import choices, shorten
from mcgen.promql import Matcher
from mcgen.spec import matchers
from mcgen.spec.builder import Builder
from mcgen.spec.load import JsonPath
from mcgen.spec.model import Receiver, Route, Routing

DEFAULT_GROUP_BY = ("alertname", "service")
TIMING = ("group_wait", "group_interval", "repeat_interval")

# Settings that hold a secret, per integration, at the top of its settings: each has a
# `<key>_file` twin in Alertmanager 0.25+ (0.33 for all of them).
SECRETS: dict[str, frozenset[str]] = {
    "webhook": frozenset({"url"}),
    "slack": frozenset({"api_url", "app_token"}),
    "email": frozenset({"auth_password", "auth_secret"}),
    "pagerduty": frozenset({"routing_key", "service_key"}),
    "opsgenie": frozenset({"api_key"}),
    "victorops": frozenset({"api_key"}),
    "pushover": frozenset({"user_key", "token"}),
    "telegram": frozenset({"bot_token"}),
    "discord": frozenset({"webhook_url"}),
    "mattermost": frozenset({"webhook_url"}),
    "msteams": frozenset({"webhook_url"}),
    "msteamsv2": frozenset({"webhook_url"}),
    "rocketchat": frozenset({"token", "token_id"}),
    "wechat": frozenset({"api_secret"}),
    "incidentio": frozenset({"url", "alert_source_token"}),
}
# Secrets of the HTTP client settings (`http_config`: basic_auth, authorization, oauth2,
# tls_config, ...), at any depth under it.
NESTED_SECRETS = frozenset({"password", "credentials", "bearer_token", "client_secret", "key"})


def build(b: Builder) -> Routing | None:
    raw = b.data.get("routing")
    if raw is None:
        return None
    path: JsonPath = ("routing",)
    receivers = tuple(_receiver(b, name, body, (*path, "receivers", name))
                      for name, body in raw["receivers"].items())
    known = [r.name for r in receivers]
    routes = []
    for i, route in enumerate(raw.get("routes", ())):
        at: JsonPath = (*path, "routes", i)
        _known(b, known, route["receiver"], (*at, "receiver"), f"route {i + 1} sends to")
        routes.append(Route(_match(b, route["match"], (*at, "match")), route["receiver"],
                            bool(route.get("continue", False)), b.pos(at)))
    _known(b, known, raw["default"], (*path, "default"), "'default' names")
    timing = tuple((key, str(b.duration(raw[key], (*path, key)))) for key in TIMING
                   if key in raw)
    return Routing(receivers, tuple(routes), raw["default"],
                   tuple(raw.get("group_by", DEFAULT_GROUP_BY)), timing, b.pos(path))


def _known(b: Builder, known: list[str], name: str, at: JsonPath, what: str) -> None:
    if name not in known:
        b.error(at, f"{what} receiver {shorten(name)}, which routing.receivers does not "
                "define", "use one of: " + choices(known))


def _match(b: Builder, raw: dict[str, Any], at: JsonPath) -> tuple[Matcher, ...]:
    out = []
    for label, spec in raw.items():
        matcher = Matcher.from_spec(label, spec)
        if label.startswith("__"):
            b.error((*at, label), f"match names label '{label}', which starts with __ "
                    "(alerts carry no such label)", "match on a label the alerts carry "
                    "(severity, alertname, slo_severity, ...)", key=True)
            continue
        if matchers.regex_ok(b, matcher, (*at, label)):
            out.append(matcher)
    return tuple(sorted(out))


def _receiver(b: Builder, name: str, body: dict[str, Any], at: JsonPath) -> Receiver:
    for kind, settings in body.items():
        _secrets(b, name, settings, (*at, kind), SECRETS.get(kind, frozenset()))
    return Receiver(name, tuple(body.items()), b.pos(at, key=True))


def _secrets(b: Builder, receiver: str, settings: Any, at: JsonPath,
             secret: frozenset[str], http: bool = False) -> None:
    """Each inline secret of one receiver's settings, reported at its key: the
    integration's own at the top, the HTTP client's anywhere under `http_config`."""
    if not isinstance(settings, dict):
        return
    for key, value in settings.items():
        if key in secret or (http and key in NESTED_SECRETS):
            b.error((*at, key), f"receiver '{receiver}' holds the secret '{key}' inline",
                    f"write {key}_file: PATH, a file Alertmanager reads at run time, so the "
                    "secret stays out of the spec and the generated files", key=True)
        elif isinstance(value, dict) and (http or key == "http_config"):
            _secrets(b, receiver, value, (*at, key), frozenset(), http=True)
